/**
 * `pools create|update` field operations (cli.md §8.10), applied in command-line order, and the
 * TOML form of `pools export`. Kept out of the command so `pools.ts` stays thin (0.12's
 * pools.go grew to 1,864 lines doing this inline).
 */
import { stringify as stringifyToml } from 'smol-toml'
import { JsonNumber, parseJson, type Json } from '../protocol/json.ts'
import { splitList } from '../config/values.ts'
import { parseTagItems } from './submit.ts'
import type { Pool } from '../protocol/api.ts'

export const LAUNCHER_FIELDS = [
  'image', 'dockerHost', 'directory', 'namespace', 'serviceAccount', 'apiServer', 'token', 'caCert', 'insecure',
  'imagePullPolicy', 'nodeSelector', 'tolerations', 'imagePullSecrets', 'hostAliases', 'resources', 'labels',
  'annotations', 'activeDeadlineSeconds', 'volumes', 'volumeMounts', 'serverHost', 'serverSecure', 'adapter',
  'concurrency', 'env', 'secretEnv',
] as const
const MAP_FIELDS = new Set(['env', 'secretEnv', 'labels', 'annotations', 'nodeSelector', 'resources'])
const POOL_FIELDS = new Set(['modules', 'provides', 'accepts'])

export class PoolFieldError extends Error {
  override readonly name = 'PoolFieldError'
  readonly exitCode = 2
}

export type PoolOp =
  | { op: 'set'; text: string }
  | { op: 'unset'; key: string }
  | { op: 'modules'; text: string }
  | { op: 'provides' | 'accepts'; text: string }
  | { op: 'no-provides' | 'no-accepts' }

/** A pool request body: pool-level keys plus a `launcher` patch (`null` = remove). */
export interface PoolPatch {
  modules?: string[] | null
  provides?: Record<string, string[]> | null
  accepts?: Record<string, string[]> | null
  launcher?: Record<string, Json | null>
}

function parseValue(text: string): Json {
  try {
    return parseJson(text)
  } catch {
    return text
  }
}

function tagItems(text: string): Record<string, string[]> {
  return parseTagItems(text.split(';').flatMap(splitList))
}

/**
 * Applies the operations in order and returns the body to send (only touched keys).
 *
 * @example
 * applyPoolOps([{ op: 'set', text: 'concurrency=4' }, { op: 'set', text: 'env.A=b' }])
 * // {launcher: {concurrency: 4, env: {A: 'b'}}}
 */
export function applyPoolOps(ops: PoolOp[]): PoolPatch {
  const patch: PoolPatch = {}
  const launcher = () => (patch.launcher ??= {})
  const setField = (key: string, value: Json | null) => {
    const [head, ...rest] = key.split('.')
    const sub = rest.join('.')
    if (POOL_FIELDS.has(head!) && !sub) {
      if (value === null) patch[head as 'modules'] = null
      else if (head === 'modules') patch.modules = Array.isArray(value) ? (value as string[]) : splitList(String(value))
      else patch[head as 'provides'] = typeof value === 'string' ? tagItems(value) : (value as Record<string, string[]>)
      return
    }
    if (!(LAUNCHER_FIELDS as readonly string[]).includes(head!) || (sub && !MAP_FIELDS.has(head!))) {
      throw new PoolFieldError(`unknown field "${key}"`)
    }
    if (sub) {
      const current = launcher()[head!]
      const map = current && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, Json>) : {}
      map[sub] = value as Json
      launcher()[head!] = map
    } else {
      launcher()[head!] = value
    }
  }
  for (const o of ops) {
    switch (o.op) {
      case 'set': {
        const eq = o.text.indexOf('=')
        if (eq <= 0) throw new PoolFieldError(`invalid --set value "${o.text}": must be key=value`)
        setField(o.text.slice(0, eq), parseValue(o.text.slice(eq + 1)))
        break
      }
      case 'unset':
        setField(o.key, null)
        break
      case 'modules':
        patch.modules = splitList(o.text)
        break
      case 'provides':
      case 'accepts':
        patch[o.op] = tagItems(o.text)
        break
      case 'no-provides':
        patch.provides = null
        break
      case 'no-accepts':
        patch.accepts = null
        break
      default: {
        const never: never = o
        throw new Error(`unknown operation ${JSON.stringify(never)}`)
      }
    }
  }
  return patch
}

/** The create body: `{modules, provides, accepts, launcher: {type, …}}`. */
export function poolForCreate(type: string, patch: PoolPatch): Record<string, unknown> {
  const launcher: Record<string, Json> = { type }
  for (const [k, v] of Object.entries(patch.launcher ?? {})) if (v !== null) launcher[k] = v
  return {
    modules: patch.modules ?? [],
    provides: patch.provides ?? {},
    accepts: patch.accepts ?? {},
    launcher,
  }
}

/** camelCase launcher keys → the snake_case of `pools export` */
export const SNAKE_LAUNCHER_KEYS: Record<string, string> = {
  dockerHost: 'docker_host', serverHost: 'server_host', serverSecure: 'server_secure', serviceAccount: 'service_account',
  apiServer: 'api_server', imagePullPolicy: 'image_pull_policy', imagePullSecrets: 'image_pull_secrets',
  hostAliases: 'host_aliases', nodeSelector: 'node_selector', caCert: 'ca_cert',
  activeDeadlineSeconds: 'active_deadline_seconds', volumeMounts: 'volume_mounts', secretEnv: 'secret_env',
}

/**
 * `pools export` TOML: one table per pool, its launcher in `[<pool>.launcher]` with snake_case
 * keys, written by smol-toml (maps such as `env` become `[<pool>.launcher.env]` tables).
 */
export function poolsToToml(pools: Record<string, Pool>): string {
  const doc: Record<string, unknown> = {}
  for (const name of Object.keys(pools).sort()) {
    const p = pools[name]!
    const table: Record<string, unknown> = { modules: p.modules ?? [] }
    if (p.provides && Object.keys(p.provides).length) table.provides = p.provides
    if (p.accepts && Object.keys(p.accepts).length) table.accepts = p.accepts
    if (p.launcher) {
      table.launcher = Object.fromEntries(
        Object.entries(p.launcher)
          .filter(([, v]) => v !== null && v !== undefined)
          .map(([k, v]) => [SNAKE_LAUNCHER_KEYS[k] ?? k, toWritable(v)]),
      )
    }
    doc[name] = table
  }
  return Object.keys(doc).length > 0 ? stringifyToml(doc) : ''
}

/** Lossless numbers as numbers; TOML has no null (a null in a list is written as ""). */
function toWritable(v: Json): unknown {
  if (v instanceof JsonNumber) return Number(v.text)
  if (v === null) return ''
  if (typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(toWritable)
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, toWritable(x)]))
}
