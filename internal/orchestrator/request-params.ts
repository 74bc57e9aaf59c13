/**
 * Validation of worker frame parameters (layouts in protocol/worker.ts): pure functions that
 * throw ProtocolError for a malformed frame (the connection closes) or RequestError for a
 * request the server refuses (an error reply).
 */
import type { CacheConfig } from '../protocol/api.ts'
import { ProtocolError } from '../protocol/errors.ts'
import { toNumber } from '../protocol/json.ts'
import { isBlobKey, parseServerValue, type ServerValue } from '../protocol/values.ts'
import type { DeclaredTargets } from '../protocol/executor.ts'
import type { ErrorInfo } from '../store/index.ts'
import { RequestError } from './request-errors.ts'
import { parseTagSet } from './routing.ts'
import type { ConcurrencyLimit, StepOptions } from './submissions.ts'

export function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ProtocolError(`${what} must be a string`)
  return v
}

export function optionalString(v: unknown, what: string): string | null {
  return v === null || v === undefined ? null : str(v, what)
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/

export function name(v: unknown, what: string): string {
  const s = str(v, what)
  if (s.length > 100 || !NAME.test(s)) throw new RequestError(`invalid ${what}: ${s}`)
  return s
}

export function int(v: unknown, what: string): number {
  const n = toNumber(v)
  if (n === undefined || !Number.isInteger(n)) throw new ProtocolError(`${what} must be an integer`)
  return n
}

export function optionalInt(v: unknown): number | null {
  return v === null || v === undefined ? null : int(v, 'integer')
}

export function parseValue(v: unknown): ServerValue {
  return parseServerValue(v)
}

export function parseValues(v: unknown): ServerValue[] {
  if (!Array.isArray(v)) throw new ProtocolError('arguments must be a list')
  if (v.length > 20) throw new RequestError('at most 20 arguments')
  return v.map(parseValue)
}

export function parseTargets(v: unknown): DeclaredTargets {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('targets must be an object')
  const out: DeclaredTargets = {}
  for (const [module, byType] of Object.entries(v as Record<string, unknown>)) {
    if (!byType || typeof byType !== 'object') throw new ProtocolError('bad targets')
    const entry: DeclaredTargets[string] = {}
    for (const type of ['task', 'workflow'] as const) {
      const names = (byType as Record<string, unknown>)[type]
      if (names === undefined || names === null) continue
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) throw new ProtocolError('bad targets')
      entry[type] = names as string[]
    }
    out[module] = entry
  }
  return out
}

export function parseHeartbeats(v: unknown): Record<string, number> {
  if (v === null || v === undefined) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('heartbeats must be an object')
  return v as Record<string, number>
}

export function parseError(v: unknown): { error: ErrorInfo; retryable: boolean | null } {
  if (!Array.isArray(v) || v.length < 2) throw new ProtocolError('error must be [type, message, frames]')
  const frames = Array.isArray(v[2]) ? v[2] : []
  return {
    error: {
      type: str(v[0], 'error type'),
      message: typeof v[1] === 'string' ? v[1] : String(v[1] ?? ''),
      frames: frames.map((f) => {
        if (!Array.isArray(f)) throw new ProtocolError('bad frame')
        return [String(f[0] ?? ''), toNumber(f[1]) ?? 0, String(f[2] ?? ''), f[3] === null || f[3] === undefined ? null : String(f[3])]
      }),
    },
    retryable: typeof v[3] === 'boolean' ? v[3] : null,
  }
}

export function indexes(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length > 20) throw new RequestError(`invalid ${what}`)
  return v.map((i) => {
    const n = toNumber(i)
    if (n === undefined || !Number.isInteger(n) || n < 0) throw new RequestError(`invalid ${what}`)
    return n
  })
}

export function parseStepOptions(p: unknown[]): StepOptions {
  const type = p[2] === 'workflow' ? 'workflow' : 'task'
  const waitFor = p[6] === true ? true : p[6] === null || p[6] === undefined ? [] : indexes(p[6], 'wait_for')
  let cache: CacheConfig | null = null
  if (p[7] && typeof p[7] === 'object') {
    const c = p[7] as Record<string, unknown>
    cache = {
      params: c.params === true || c.params === undefined || c.params === null ? true : c.params === false ? false : indexes(c.params, 'cache params'),
      maxAge: c.max_age === null || c.max_age === undefined ? null : int(c.max_age, 'max_age'),
      namespace: c.namespace === null || c.namespace === undefined ? null : str(c.namespace, 'namespace'),
      version: c.version === null || c.version === undefined ? null : str(c.version, 'version'),
    }
  }
  let defer: StepOptions['defer'] = null
  if (p[8] && typeof p[8] === 'object') {
    const d = (p[8] as Record<string, unknown>).params
    defer = { params: d === true || d === undefined || d === null ? true : indexes(d, 'defer params') }
  }
  const memo = p[9] === true ? true : p[9] === false ? false : p[9] === null || p[9] === undefined ? null : indexes(p[9], 'memo')
  let retries: StepOptions['retries'] = null
  if (p[11] && typeof p[11] === 'object') {
    const r = p[11] as Record<string, unknown>
    const limit = r.limit === null || r.limit === undefined ? -1 : int(r.limit, 'retry limit')
    if (limit !== 0) {
      retries = {
        limit,
        backoffMin: r.backoff_min === undefined || r.backoff_min === null ? 0 : int(r.backoff_min, 'backoff_min'),
        backoffMax: r.backoff_max === undefined || r.backoff_max === null ? 0 : int(r.backoff_max, 'backoff_max'),
      }
    }
  }
  const requires = p[13] === null || p[13] === undefined ? null : parseTagSet(p[13], { allowEmptyLists: true })
  if (requires === null && p[13] !== null && p[13] !== undefined) throw new RequestError('invalid requires')
  const delay = Math.max(0, Math.trunc(toNumber(p[10]) ?? 0))
  const timeout = p[14] === null || p[14] === undefined ? 0 : Math.max(0, int(p[14], 'timeout'))
  const resumes = p[15] === null || p[15] === undefined ? null : int(p[15], 'resumes')
  if (resumes !== null && resumes < 0) throw new RequestError('invalid resumes')
  const priority = p[16] === null || p[16] === undefined ? null : int(p[16], 'priority')
  return { type, waitFor, cache, defer, memo, delay, retries, resumes, recurrent: p[12] === true, timeout, requires, priority, concurrency: parseLimit(p[17]) }
}

/** `[limit, key]`: at most `limit` running executions with that key (p[17] of `submit`). */
function parseLimit(v: unknown): ConcurrencyLimit | null {
  if (v === null || v === undefined) return null
  if (!Array.isArray(v) || v.length !== 2) throw new RequestError('concurrency must be [limit, key]')
  const limit = int(v[0], 'concurrency limit')
  if (limit < 1) throw new RequestError('concurrency limit must be at least 1')
  const key = str(v[1], 'concurrency key')
  if (key.length === 0 || key.length > 200) throw new RequestError('concurrency key must be 1 to 200 characters')
  return { limit, key }
}

export function parseAssetEntries(v: unknown): Record<string, { blobKey: string; size: number; metadata: Record<string, unknown> }> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new RequestError('entries must be an object')
  const out: Record<string, { blobKey: string; size: number; metadata: Record<string, unknown> }> = {}
  for (const [path, entry] of Object.entries(v as Record<string, unknown>)) {
    if (!Array.isArray(entry) || !isBlobKey(entry[0])) throw new RequestError(`invalid entry ${path}`)
    if (path.length === 0 || path.length > 1000 || path.startsWith('/') || path.split('/').includes('..')) {
      throw new RequestError(`invalid entry path ${path}`)
    }
    const size = toNumber(entry[1])
    if (size === undefined || !Number.isInteger(size) || size < 0) throw new RequestError(`invalid size for ${path}`)
    const metadata = entry[2] && typeof entry[2] === 'object' && !Array.isArray(entry[2]) ? (entry[2] as Record<string, unknown>) : {}
    out[path] = { blobKey: entry[0], size, metadata }
  }
  if (Object.keys(out).length === 0) throw new RequestError('asset has no entries')
  return out
}
