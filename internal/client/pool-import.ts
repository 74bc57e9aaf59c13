/**
 * `pools import` (cli.md §8.10): read pools from TOML (the export format, or the older one with a
 * top-level `[pools]` table), compare with the server's, and describe the plan.
 */
import { parseToml, TomlError, type TomlTable, type TomlValue } from '../config/toml.ts'
import { JsonNumber, stringifyJson, type Json } from '../protocol/json.ts'
import { SNAKE_LAUNCHER_KEYS } from './pool-edit.ts'
import type { Pool } from '../protocol/api.ts'

export type PoolAction = 'create' | 'update' | 'replace' | 'delete'

export interface PoolChange {
  name: string
  action: PoolAction
  /** `+ path: v`, `- path: v`, `~ path: a -> b` */
  details: string[]
}

const CAMEL = Object.fromEntries(Object.entries(SNAKE_LAUNCHER_KEYS).map(([camel, snake]) => [snake, camel]))

/** Pools from TOML text; launcher keys may be snake_case (export) or camelCase. */
export function parsePoolsToml(text: string, source = 'input'): Record<string, Pool> {
  let doc: TomlTable
  try {
    doc = parseToml(text)
  } catch (err) {
    if (err instanceof TomlError) throw new Error(`invalid pools file ${source}: ${err.message}`)
    throw err
  }
  const tables = isTable(doc.pools) && Object.keys(doc).length === 1 ? doc.pools : doc
  const out: Record<string, Pool> = {}
  for (const [name, raw] of Object.entries(tables)) {
    if (!isTable(raw)) throw new Error(`invalid pools file ${source}: '${name}' must be a table`)
    const launcher = isTable(raw.launcher)
      ? (Object.fromEntries(Object.entries(raw.launcher).map(([k, v]) => [CAMEL[k] ?? k, v as Json])) as Pool['launcher'])
      : null
    if (launcher && typeof launcher.type !== 'string') throw new Error(`invalid pools file ${source}: '${name}.launcher' needs a type`)
    out[name] = {
      modules: stringList(raw.modules, `${name}.modules`, source),
      provides: tagSet(raw.provides),
      accepts: tagSet(raw.accepts),
      launcher,
    }
  }
  return out
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stringList(v: TomlValue | undefined, where: string, source: string): string[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`invalid pools file ${source}: '${where}' must be a list of strings`)
  return v as string[]
}

function tagSet(v: TomlValue | undefined): Record<string, string[]> {
  if (!isTable(v)) return {}
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, (Array.isArray(x) ? x : [x]).map(String)]))
}

/**
 * The changes that make the server's pools equal the file's. With `only`, pools outside it are
 * neither created, changed nor deleted.
 */
export function planPoolImport(current: Record<string, Pool>, desired: Record<string, Pool>, only?: Set<string>): PoolChange[] {
  const inScope = (name: string) => !only || only.has(name)
  const changes: PoolChange[] = []
  const names = [...new Set([...Object.keys(current), ...Object.keys(desired)])].filter(inScope).sort()
  for (const name of names) {
    const before = current[name]
    const after = desired[name]
    if (!before && after) changes.push({ name, action: 'create', details: [] })
    else if (before && !after) changes.push({ name, action: 'delete', details: [] })
    else if (before && after) {
      if (before.launcher && after.launcher && before.launcher.type !== after.launcher.type) {
        changes.push({ name, action: 'replace', details: [] })
        continue
      }
      const details = diff(flatten(before), flatten(after))
      if (details.length) changes.push({ name, action: 'update', details })
    }
  }
  return changes
}

/** The body for `update_pools`: the file's pools in scope, the server's outside it. */
export function poolsAfterImport(current: Record<string, Pool>, desired: Record<string, Pool>, only?: Set<string>): Record<string, Pool> {
  const out: Record<string, Pool> = {}
  for (const [name, pool] of Object.entries(current)) if (only && !only.has(name)) out[name] = pool
  for (const [name, pool] of Object.entries(desired)) if (!only || only.has(name)) out[name] = pool
  return out
}

/** Comparable leaves: `modules`, `provides`, `accepts`, `launcher.<field>`, `launcher.env.<KEY>`. */
function flatten(pool: Pool): Map<string, string> {
  const out = new Map<string, string>()
  const text = (v: unknown) => (v instanceof JsonNumber ? v.text : stringifyJson(v))
  if (pool.modules?.length) out.set('modules', text(pool.modules))
  if (pool.provides && Object.keys(pool.provides).length) out.set('provides', text(pool.provides))
  if (pool.accepts && Object.keys(pool.accepts).length) out.set('accepts', text(pool.accepts))
  for (const [k, v] of Object.entries(pool.launcher ?? {})) {
    if (v === null || v === undefined) continue
    if (['env', 'secretEnv', 'labels', 'annotations', 'nodeSelector', 'resources'].includes(k) && typeof v === 'object' && !Array.isArray(v)) {
      for (const [sub, x] of Object.entries(v as Record<string, Json>)) out.set(`launcher.${k}.${sub}`, text(x))
    } else out.set(`launcher.${k}`, text(v))
  }
  return out
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = []
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(key)
    const y = b.get(key)
    if (x === y) continue
    if (x === undefined) out.push(`+ ${key}: ${y}`)
    else if (y === undefined) out.push(`- ${key}: ${x}`)
    else out.push(`~ ${key}: ${x} -> ${y}`)
  }
  return out
}

/** The plan as text lines. */
export function renderPoolPlan(changes: PoolChange[]): string[] {
  if (changes.length === 0) return ['No changes.']
  const lines: string[] = []
  for (const c of changes) {
    if (c.action === 'create') lines.push(`+ ${c.name} (create)`)
    else if (c.action === 'delete') lines.push(`- ${c.name} (delete)`)
    else if (c.action === 'replace') lines.push(`~ ${c.name} (replace — launcher type changed)`)
    else lines.push(`~ ${c.name} (update)`, ...c.details.map((d) => `    ${d}`))
  }
  return lines
}

/** `Applied: 1 created, 2 updated, 1 replaced, 1 deleted.` */
export function summarisePoolChanges(changes: PoolChange[]): string {
  const count = (a: PoolAction) => changes.filter((c) => c.action === a).length
  return `Applied: ${count('create')} created, ${count('update')} updated, ${count('replace')} replaced, ${count('delete')} deleted.`
}
