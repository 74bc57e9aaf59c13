/**
 * SIGINT/SIGTERM during a worker's life (cli.md §8.1 "Signals"): the first asks for a drain, the
 * second for an immediate stop, the third exits 1 at once. The third calls `process.exit`
 * directly: by then the user has asked three times and nothing else may be waited for.
 */
export type ShutdownStage = 'running' | 'draining' | 'stopping'

export class ShutdownSignals {
  #count = 0
  readonly first: Promise<void>
  readonly second: Promise<void>
  #onFirst!: () => void
  #onSecond!: () => void
  #installed: (() => void) | null = null

  constructor(readonly exit: (code: number) => void = (code) => process.exit(code)) {
    this.first = new Promise((resolve) => (this.#onFirst = resolve))
    this.second = new Promise((resolve) => (this.#onSecond = resolve))
  }

  get stage(): ShutdownStage {
    return this.#count === 0 ? 'running' : this.#count === 1 ? 'draining' : 'stopping'
  }

  /** Listens to SIGINT and SIGTERM (alike) until `dispose`. */
  install(): this {
    const handler = (): void => this.notify()
    process.on('SIGINT', handler)
    process.on('SIGTERM', handler)
    this.#installed = () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    }
    return this
  }

  /** One signal received (also called directly by tests). */
  notify(): void {
    this.#count++
    if (this.#count === 1) this.#onFirst()
    else if (this.#count === 2) this.#onSecond()
    else this.exit(1)
  }

  dispose(): void {
    this.#installed?.()
    this.#installed = null
  }
}
