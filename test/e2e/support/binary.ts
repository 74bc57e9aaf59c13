/**
 * How tests run the product: the compiled binary when `dist/coflux` exists (what users run,
 * `make test` builds it first), else the sources through bun.
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const REPO = resolve(import.meta.dir, '../../..')
const BUILT = join(REPO, 'dist', 'coflux')

export function cofluxCommand(): string[] {
  if (process.env.COFLUX_TEST_SOURCE !== '1' && existsSync(BUILT)) return [BUILT]
  return [process.execPath, join(REPO, 'cmd', 'coflux', 'main.ts')]
}

/** Environment for child processes: no inherited COFLUX_* settings, no colour. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('COFLUX_')) env[k] = v
  }
  return { ...env, NO_COLOR: '1', ...extra }
}

/** Polls `check` until it returns a truthy value (never a fixed sleep). */
export async function until<T>(check: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; message?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting${options.message ? ` for ${options.message}` : ''}${last ? `: ${String(last)}` : ''}`)
    }
    await Bun.sleep(options.intervalMs ?? 50)
  }
}

/** Every process a test spawned, killed when the test process exits however it ends. */
const spawned = new Set<{ kill(signal?: number | NodeJS.Signals): void; exitCode: number | null }>()
process.on('exit', () => {
  for (const proc of spawned) if (proc.exitCode === null) proc.kill('SIGKILL')
})

export function track<T extends { kill(signal?: number | NodeJS.Signals): void; exitCode: number | null }>(proc: T): T {
  spawned.add(proc)
  return proc
}
