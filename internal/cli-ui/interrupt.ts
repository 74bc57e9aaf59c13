/**
 * Ctrl-C / SIGTERM while waiting: commands observe an AbortSignal instead of dying, so they
 * can restore the cursor and say `Detached. Workflow still running.` (cli.md §8.2).
 */
export interface Interrupt {
  signal: AbortSignal
  /** which signal arrived, if any */
  received(): 'SIGINT' | 'SIGTERM' | undefined
  dispose(): void
}

export function onInterrupt(): Interrupt {
  const controller = new AbortController()
  let got: 'SIGINT' | 'SIGTERM' | undefined
  const handler = (sig: 'SIGINT' | 'SIGTERM') => () => {
    if (got) process.exit(sig === 'SIGINT' ? 130 : 143) // a second signal: leave at once
    got = sig
    controller.abort()
  }
  const onInt = handler('SIGINT')
  const onTerm = handler('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  return {
    signal: controller.signal,
    received: () => got,
    dispose() {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    },
  }
}

/** Exit code for an interrupted non-interactive wait: 130 (SIGINT) / 143 (SIGTERM). */
export function interruptExitCode(sig: 'SIGINT' | 'SIGTERM'): number {
  return sig === 'SIGINT' ? 130 : 143
}
