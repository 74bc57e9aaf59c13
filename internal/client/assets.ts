/**
 * Asset entries: glob filtering and safe download planning (cli.md §8.13).
 */
import { existsSync, lstatSync } from 'node:fs'
import { isAbsolute, join, resolve, sep } from 'node:path'
import type { AssetTopic } from '../protocol/api.ts'

export type AssetEntries = AssetTopic['entries']

/** Entries whose path matches the shell-style glob (`**` crosses directories); all when no glob. */
export function matchEntries(entries: AssetEntries, glob?: string): AssetEntries {
  if (!glob) return entries
  const g = new Bun.Glob(glob)
  const out: AssetEntries = {}
  for (const [path, entry] of Object.entries(entries)) if (g.match(path)) out[path] = entry
  return out
}

export interface PlannedFile {
  path: string
  blobKey: string
  size: number
  /** absolute destination */
  dest: string
}

/**
 * Checks every entry before anything is written: no absolute paths or `..` segments (so nothing
 * escapes `to`), no existing file overwritten without `force`, never anything that isn't a file.
 */
export function planDownload(entries: AssetEntries, to: string, force: boolean): PlannedFile[] {
  const root = resolve(to)
  const files: PlannedFile[] = []
  for (const [path, entry] of Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const segments = path.split(/[\\/]/)
    if (isAbsolute(path) || path.startsWith('\\') || segments.includes('..') || path === '') {
      throw new Error(`refusing unsafe asset entry path: ${path}`)
    }
    const dest = join(root, path)
    if (!dest.startsWith(root + sep)) throw new Error(`refusing unsafe asset entry path: ${path}`)
    if (existsSync(dest) || isSymlink(dest)) {
      const st = lstatSync(dest)
      if (!st.isFile()) throw new Error(`path exists and is not a file: ${dest}`)
      if (!force) throw new Error(`file already exists at path: ${dest} (use --force to overwrite)`)
    }
    files.push({ path, blobKey: entry.blobKey, size: entry.size, dest })
  }
  return files
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}
