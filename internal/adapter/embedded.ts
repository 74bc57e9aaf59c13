import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { VERSION } from '../protocol/version.ts'

/** Prefix of the adapter's files in `Bun.embeddedFiles` (scripts/build.ts: `--asset=src/python/coflux`). */
const EMBEDDED_PREFIX = 'coflux/'

/** The source tree used when not compiled (`bun cmd/coflux/main.ts`, `bun test`). */
export const SOURCE_ADAPTER_DIR = resolve(import.meta.dir, '../../src/python')

export interface EmbeddedFile {
  /** path under the package root's parent, e.g. `coflux/__init__.py` */
  name: string
  bytes: Uint8Array
}

async function embeddedAdapterFiles(): Promise<EmbeddedFile[]> {
  const files: EmbeddedFile[] = []
  for (const blob of Bun.embeddedFiles) {
    const name = (blob as Blob & { name?: string }).name ?? ''
    // a stray __pycache__ in the source tree must not change the hash or be extracted
    if (!name.startsWith(EMBEDDED_PREFIX) || name.includes('__pycache__') || name.endsWith('.pyc')) continue
    files.push({ name, bytes: new Uint8Array(await blob.arrayBuffer()) })
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function cacheRoot(env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache')
  return join(base, 'coflux', 'adapter')
}

/**
 * Makes the embedded Python adapter importable and returns the directory to put on PYTHONPATH
 * (it contains the `coflux/` package).
 *
 * Compiled: extracts `Bun.embeddedFiles` under `coflux/` into
 * `$XDG_CACHE_HOME/coflux/adapter/<version>-<hash16>/`. The name is content-addressed, so an
 * existing complete directory is reused as is; extraction writes a temporary directory and renames
 * it into place, so concurrent workers never see a half-written package (the loser of a race
 * discards its copy). Not compiled: returns `<repo>/src/python`.
 *
 * @example
 * const dir = await extractEmbeddedAdapter() // ~/.cache/coflux/adapter/0.12.0-3f9a…/
 */
export async function extractEmbeddedAdapter(env: Record<string, string | undefined> = process.env): Promise<string> {
  const files = await embeddedAdapterFiles()
  if (files.length === 0) {
    if (existsSync(join(SOURCE_ADAPTER_DIR, 'coflux', '__init__.py'))) return SOURCE_ADAPTER_DIR
    throw new Error(`the embedded Python adapter is missing (looked in ${SOURCE_ADAPTER_DIR})`)
  }
  return extractAdapterFiles(files, cacheRoot(env))
}

/**
 * Writes `files` to `<root>/<version>-<hash16>/` unless a complete copy is already there; safe
 * against concurrent extractions. Returns the directory.
 */
export function extractAdapterFiles(files: EmbeddedFile[], root: string): string {
  const hasher = new Bun.CryptoHasher('sha256')
  for (const f of files) {
    hasher.update(f.name)
    hasher.update('\0')
    hasher.update(f.bytes)
    hasher.update('\0')
  }
  const dir = join(root, `${VERSION}-${hasher.digest('hex').slice(0, 16)}`)
  const marker = join(dir, '.complete')
  if (existsSync(marker)) return dir

  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
  try {
    for (const f of files) {
      const dst = join(tmp, f.name)
      mkdirSync(dirname(dst), { recursive: true })
      writeFileSync(dst, f.bytes)
    }
    writeFileSync(join(tmp, '.complete'), '')
    // a directory left without its marker (a crash mid-way) is replaced
    if (existsSync(dir) && !existsSync(marker)) rmSync(dir, { recursive: true, force: true })
    try {
      renameSync(tmp, dir)
    } catch (err) {
      if (!existsSync(marker)) throw err // not a lost race: a real failure
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return dir
}
