/**
 * `--watch`: reload when a `.py` file under the working directory is written or created
 * (cli.md §8.1), ignoring hidden directories, `__pycache__`, `node_modules`, `venv` and `.venv`.
 */
import { watch, type FSWatcher } from 'node:fs'

const SKIPPED = new Set(['__pycache__', 'node_modules', 'venv'])

export function isWatchedPath(relativePath: string): boolean {
  if (!relativePath.endsWith('.py')) return false
  const segments = relativePath.split(/[\\/]/)
  return segments.slice(0, -1).every((s) => !s.startsWith('.') && !SKIPPED.has(s)) && !segments.at(-1)!.startsWith('.')
}

/** Calls `onChange` (at most once) on the first matching change; returns a stop function. */
export function watchSources(dir: string, onChange: (path: string) => void): () => void {
  let watcher: FSWatcher | null = null
  let isDone = false
  watcher = watch(dir, { recursive: true }, (_event, filename) => {
    if (isDone || !filename || !isWatchedPath(filename.toString())) return
    isDone = true
    onChange(filename.toString())
  })
  watcher.on('error', () => {})
  return () => {
    isDone = true
    watcher?.close()
    watcher = null
  }
}
