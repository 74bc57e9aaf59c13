/**
 * Reading and writing the keys `coflux setup` manages, keeping everything else in the file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname } from 'node:path'
import { ConfigError } from './resolve.ts'
import { parseToml, TomlError } from './toml.ts'
import { setTomlKeys, type TomlUpdate } from './toml-edit.ts'

export interface SetupValues {
  host?: string
  workspace?: string
  adapter?: string[]
}

/** The values already in the file (none when it does not exist). */
export function readSetupValues(path: string): SetupValues {
  if (!existsSync(path)) return {}
  let t: Record<string, unknown>
  try {
    t = parseToml(readFileSync(path, 'utf8'))
  } catch (err) {
    if (err instanceof TomlError) throw new ConfigError(`invalid config file ${path}: ${err.message}`)
    throw err
  }
  const worker = (t.worker ?? {}) as Record<string, unknown>
  const adapter = Array.isArray(worker.adapter) && worker.adapter.every((x) => typeof x === 'string') ? (worker.adapter as string[]) : undefined
  return {
    host: typeof t.host === 'string' ? t.host : undefined,
    workspace: typeof t.workspace === 'string' ? t.workspace : undefined,
    adapter: adapter && adapter.length > 0 ? adapter : undefined,
  }
}

/** Writes host, workspace and (when given) worker.adapter, preserving every other line; creates the file (and its directory) when missing. */
export function writeSetupValues(path: string, values: SetupValues): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  mkdirSync(dirname(path), { recursive: true })
  const updates: TomlUpdate[] = []
  if (values.host !== undefined) updates.push({ table: null, key: 'host', value: values.host })
  if (values.workspace !== undefined) updates.push({ table: null, key: 'workspace', value: values.workspace })
  if (values.adapter !== undefined) updates.push({ table: 'worker', key: 'adapter', value: values.adapter })
  writeFileSync(path, setTomlKeys(text, updates))
}

/** A workspace name from a directory name: lower-case, invalid characters replaced by `-`. */
export function workspaceNameFor(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return name || 'default'
}
