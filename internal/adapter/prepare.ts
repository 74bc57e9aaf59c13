import { delimiter } from 'node:path'
import { sanitizedEnv } from './env.ts'
import { extractEmbeddedAdapter } from './embedded.ts'

/** An adapter command ready to spawn: `[...argv, 'execute']` with `{...sanitizedEnv(), ...env}`. */
export interface PreparedAdapter {
  argv: string[]
  /** extra variables for adapter processes (PYTHONPATH when the embedded adapter is used) */
  env: Record<string, string>
}

const cache = new Map<string, Promise<PreparedAdapter>>()

/**
 * Resolves once what every executor spawn would otherwise redo (cached per argv and cwd):
 * - a bare `python3`/`python` becomes the real interpreter path, so we don't pay the pyenv shim
 *   (~125 ms) on every executor (notes/toolchain.md §4);
 * - if the interpreter part of `… -m coflux` cannot `import coflux`, the embedded adapter is
 *   extracted and put first on PYTHONPATH, so no `pip install` is needed (cli.md §8.1).
 * Adapters that are not `… -m coflux` are returned unchanged.
 *
 * @example
 * const { argv, env } = await prepareAdapter(['python3', '-m', 'coflux'], process.cwd())
 * // argv: ['/root/.pyenv/versions/3.11.7/bin/python3', '-m', 'coflux'], env: {PYTHONPATH: '…/adapter/0.12.0-…'}
 */
export function prepareAdapter(argv: string[], cwd: string): Promise<PreparedAdapter> {
  const key = JSON.stringify([argv, cwd])
  let prepared = cache.get(key)
  if (!prepared) {
    prepared = prepareUncached(argv, cwd)
    cache.set(key, prepared)
    // a failure (e.g. interpreter missing) should be retried by the next caller
    prepared.catch(() => cache.delete(key))
  }
  return prepared
}

async function prepareUncached(argv: string[], cwd: string): Promise<PreparedAdapter> {
  if (argv.length === 0) throw new Error('the adapter command is empty')
  const out = [...argv]
  const baseEnv = sanitizedEnv()
  if (out[0] === 'python3' || out[0] === 'python') {
    const real = await capture([out[0], '-c', 'import sys;print(sys.executable)'], cwd, baseEnv)
    if (real.code === 0 && real.stdout.trim() !== '') out[0] = real.stdout.trim()
  }
  const m = out.findIndex((arg, i) => arg === '-m' && out[i + 1] === 'coflux')
  if (m <= 0) return { argv: out, env: {} }
  const check = await capture([...out.slice(0, m), '-c', 'import coflux'], cwd, baseEnv)
  if (check.code === 0) return { argv: out, env: {} }
  const dir = await extractEmbeddedAdapter()
  const existing = process.env.PYTHONPATH
  return { argv: out, env: { PYTHONPATH: existing ? `${dir}${delimiter}${existing}` : dir } }
}

async function capture(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  try {
    const proc = Bun.spawn(argv, { cwd, env, stdin: 'ignore', stdout: 'pipe', stderr: 'ignore' })
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    return { code, stdout }
  } catch {
    return { code: -1, stdout: '' }
  }
}

/** Forgets cached preparations (tests; `worker --watch` reloads after a venv change). */
export function clearPreparedAdapters(): void {
  cache.clear()
}
