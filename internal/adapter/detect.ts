import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config/types.ts'

/** One auto-detection candidate (cli.md §8.1). */
export interface DetectedAdapter {
  argv: string[]
  /** higher wins; ties keep the earlier candidate */
  confidence: number
  /** what `setup` shows: `Detected: <label>` */
  label: string
}

/** Raised when no adapter is configured and none can be detected. */
export class AdapterNotConfiguredError extends Error {
  override readonly name = 'AdapterNotConfiguredError'
  constructor() {
    super("no adapter configured; run 'coflux setup' or add 'worker.adapter' to coflux.toml")
  }
}

/**
 * Candidates for the adapter command in `cwd`, best first (cli.md §8.1's table; a stable sort
 * keeps table order among equal confidences).
 *
 * @example
 * detectAdapters('/srv/app')[0] // {argv: ['.venv/bin/python', '-m', 'coflux'], confidence: 100, label: 'Python (.venv/)'}
 */
export function detectAdapters(cwd: string, which: (cmd: string) => string | null = onPath): DetectedAdapter[] {
  const found: DetectedAdapter[] = []
  const has = (path: string) => existsSync(join(cwd, path))
  if (has('.venv/bin/python')) {
    found.push({ argv: ['.venv/bin/python', '-m', 'coflux'], confidence: 100, label: 'Python (.venv/)' })
  }
  if (has('venv/bin/python')) {
    found.push({ argv: ['venv/bin/python', '-m', 'coflux'], confidence: 90, label: 'Python (venv/)' })
  }
  if (has('poetry.lock')) {
    found.push({ argv: ['poetry', 'run', 'python', '-m', 'coflux'], confidence: 80, label: 'Poetry (poetry.lock)' })
  }
  if (has('uv.lock')) {
    found.push({ argv: ['uv', 'run', 'python', '-m', 'coflux'], confidence: 80, label: 'uv (uv.lock)' })
  }
  if (which('uv')) {
    found.push({ argv: ['uv', 'run', '--with', 'coflux', 'python', '-m', 'coflux'], confidence: 30, label: 'uv' })
  }
  if (which('python3')) {
    found.push({ argv: ['python3', '-m', 'coflux'], confidence: 20, label: 'Python (python3 on PATH)' })
  } else if (which('python')) {
    found.push({ argv: ['python', '-m', 'coflux'], confidence: 20, label: 'Python (python on PATH)' })
  }
  // Array.prototype.sort is stable, so ties keep table order
  return found.sort((a, b) => b.confidence - a.confidence)
}

/** PATH lookup against the current PATH (Bun.which alone may use the PATH at startup). */
function onPath(cmd: string): string | null {
  return Bun.which(cmd, { PATH: process.env.PATH ?? '' })
}

/**
 * The adapter argv: `--adapter` > `worker.adapter` (env or file, already merged in `config`) >
 * auto-detection. Throws `AdapterNotConfiguredError` when nothing applies.
 */
export function resolveAdapterArgv(opts: { flag?: string[]; config: Config; cwd: string }): {
  argv: string[]
  detected?: DetectedAdapter
} {
  if (opts.flag && opts.flag.length > 0) return { argv: [...opts.flag] }
  if (opts.config.worker.adapter.length > 0) return { argv: [...opts.config.worker.adapter] }
  const [best] = detectAdapters(opts.cwd)
  if (!best) throw new AdapterNotConfiguredError()
  return { argv: [...best.argv], detected: best }
}

/**
 * Parses an `--adapter` value (cli.md §3.9): comma-separated (`python3,-m,coflux`), or a JSON
 * array of strings when it starts with `[` (so paths may contain commas).
 */
export function parseAdapterFlag(value: string): string[] {
  const trimmed = value.trim()
  if (trimmed.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(trimmed)
    } catch (err) {
      throw new Error(`invalid --adapter value: ${(err as Error).message}`)
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      throw new Error('invalid --adapter value: expected a JSON array of strings')
    }
    return parsed
  }
  return trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '')
}
