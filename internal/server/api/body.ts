/**
 * `/api` request bodies (http-api.md §8) for hono's validator. A route takes its body in three
 * steps: `app.post(path, readBody, validator('json', parseX), handler)`.
 * - `readBody` (made once by `bodyReader`) reads the body as the API always has: at most
 *   `maxBodyBytes` (413), whatever its content type (curl's `-d` sends a form type, `fetch` with a
 *   string sends text/plain), an empty body as `{}`, anything but a JSON object a 400
 *   `invalid_json`. It leaves the text where hono's validator reads it and marks the request as
 *   JSON, since the validator's `json` target reads JSON content types only. (The text is parsed
 *   twice, here and by hono: bodies are small, and bad JSON keeps its answer.)
 * - `validator('json', parseX)` passes the object to a typed parse function, which collects
 *   every bad field with `Fields` and throws one 400 `bad_request` listing them.
 * - the handler reads `c.req.valid('json')` and trusts its types.
 */
import { createMiddleware } from 'hono/factory'
import { parseTagSet } from '../../orchestrator/index.ts'
import { ApiError } from '../../protocol/errors.ts'
import type { CacheConfig, TagSet } from '../../protocol/api.ts'
import { readBodyText, type AppEnv, type ServerContext } from '../context.ts'

export const WORKSPACE_NAME = /^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/i
export const MODULE_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i
export const TARGET_NAME = /^[a-z_][a-z0-9_]*$/i

/** A JSON object body (`Record`), as `readBody` hands it to a parse function. */
export type JsonBody = Record<string, unknown>

/** The middleware that reads `/api` bodies for `validator('json', …)`. */
export function bodyReader(server: ServerContext) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const text = await readBodyText(c, server.settings.maxBodyBytes)
    if (text.trim() !== '') {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new ApiError(400, 'bad_request', 'invalid JSON body', 'invalid_json')
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ApiError(400, 'bad_request', 'body must be a JSON object', 'invalid_json')
      }
    }
    // hono reads the body through this cache (typed as methods, it holds their promises); the
    // request itself is kept, since Bun's requestIP knows the original object only
    ;(c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text.trim() === '' ? '{}' : text)
    c.req.raw.headers.set('content-type', 'application/json')
    await next()
  })
}

/** Only the workspace: `workspaceFor` answers a missing one (400) or an unknown one (404). */
export function parseWorkspaceRef(body: JsonBody): { workspaceId: unknown } {
  return { workspaceId: body.workspaceId }
}

/**
 * Checks fields of one body, collecting `field → reason` (`required`, `invalid`, …) so one 400
 * lists every problem; `finish()` throws it. Each check returns undefined for a bad field.
 */
export class Fields {
  readonly details: Record<string, string> = {}

  constructor(readonly body: JsonBody) {}

  fail(field: string, reason: string): undefined {
    this.details[field] ??= reason
    return undefined
  }

  has(field: string): boolean {
    return this.body[field] !== undefined && this.body[field] !== null
  }

  string(field: string, options: { required?: boolean; pattern?: RegExp; max?: number } = {}): string | undefined {
    const v = this.body[field]
    if (v === undefined || v === null) return options.required ? this.fail(field, 'required') : undefined
    if (typeof v !== 'string') return this.fail(field, 'invalid')
    if (options.max !== undefined && v.length > options.max) return this.fail(field, 'invalid')
    if (options.pattern && !options.pattern.test(v)) return this.fail(field, 'invalid')
    return v
  }

  integer(field: string, options: { required?: boolean; min?: number } = {}): number | undefined {
    const v = this.body[field]
    if (v === undefined || v === null) return options.required ? this.fail(field, 'required') : undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || (options.min !== undefined && v < options.min)) return this.fail(field, 'invalid')
    return v
  }

  boolean(field: string): boolean | undefined {
    const v = this.body[field]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'boolean') return this.fail(field, 'invalid')
    return v
  }

  indexes(field: string, value: unknown = this.body[field]): number[] | undefined {
    if (value === undefined || value === null) return undefined
    if (!Array.isArray(value) || value.length > 20 || value.some((i) => typeof i !== 'number' || !Number.isInteger(i) || i < 0)) {
      return this.fail(field, 'invalid')
    }
    return value as number[]
  }

  tags(field: string, value: unknown = this.body[field]): TagSet | undefined {
    if (value === undefined || value === null) return undefined
    const parsed = parseTagSet(value)
    return parsed ?? this.fail(field, 'invalid')
  }

  cache(field: string, value: unknown = this.body[field]): CacheConfig | null | undefined {
    if (value === undefined || value === null) return null
    if (typeof value !== 'object' || Array.isArray(value)) return this.fail(field, 'invalid')
    const c = value as Record<string, unknown>
    const params = c.params === undefined || c.params === true ? true : c.params === false ? false : this.indexes(`${field}.params`, c.params)
    if (params === undefined) return undefined
    const maxAge = c.maxAge ?? null
    if (maxAge !== null && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) return this.fail(`${field}.maxAge`, 'invalid')
    const str = (k: string): string | null | undefined => {
      const v = c[k]
      if (v === undefined || v === null) return null
      return typeof v === 'string' && v.length <= 200 ? v : this.fail(`${field}.${k}`, 'invalid')
    }
    const namespace = str('namespace')
    const version = str('version')
    if (namespace === undefined || version === undefined) return undefined
    return { params, maxAge: maxAge as number | null, namespace, version }
  }

  defer(field: string, value: unknown = this.body[field]): { params: true | number[] } | null | undefined {
    if (value === undefined || value === null) return null
    if (typeof value !== 'object' || Array.isArray(value)) return this.fail(field, 'invalid')
    const p = (value as Record<string, unknown>).params
    if (p === false) return null
    if (p === undefined || p === true) return { params: true }
    const indexes = this.indexes(`${field}.params`, p)
    return indexes ? { params: indexes } : undefined
  }

  retries(field: string, value: unknown = this.body[field]): { limit: number; backoffMin: number; backoffMax: number } | null | undefined {
    if (value === undefined || value === null) return null
    if (typeof value !== 'object' || Array.isArray(value)) return this.fail(field, 'invalid')
    const r = value as Record<string, unknown>
    const int = (k: string): number | undefined => {
      const v = r[k] ?? 0
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : this.fail(`${field}.${k}`, 'invalid')
    }
    const limit = r.limit === undefined || r.limit === null ? -1 : int('limit')
    const backoffMin = int('backoffMin')
    const backoffMax = int('backoffMax')
    if (limit === undefined || backoffMin === undefined || backoffMax === undefined) return undefined
    if (limit === 0) return null
    return { limit, backoffMin, backoffMax }
  }

  /** `{limit ≥ 1, key: template or null}` (a concurrency limit by key), or null. */
  concurrency(field: string, value: unknown = this.body[field]): { limit: number; key: string | null } | null | undefined {
    if (value === undefined || value === null) return null
    if (typeof value !== 'object' || Array.isArray(value)) return this.fail(field, 'invalid')
    const c = value as Record<string, unknown>
    if (typeof c.limit !== 'number' || !Number.isInteger(c.limit) || c.limit < 1) return this.fail(`${field}.limit`, 'invalid')
    const key = c.key ?? null
    if (key !== null && (typeof key !== 'string' || key.length === 0 || key.length > 200)) return this.fail(`${field}.key`, 'invalid')
    return { limit: c.limit, key: key as string | null }
  }

  /** Throws the collected problems as one 400. */
  finish(): void {
    if (Object.keys(this.details).length > 0) throw new ApiError(400, 'bad_request', 'bad_request', this.details)
  }
}
