/**
 * Every line of the worker ⇄ executor channel (executor-protocol.md §3–§7, plus our fork
 * template extension), as one union keyed on `method`, with one parser and one encoder (STYLE
 * §5). The Python adapter can't import this: `test/fixtures/protocol/executor.jsonl` holds one
 * example of every message, parsed here and by `coflux/protocol.py`.
 *
 * Optional fields may be absent or `null` on the wire (both mean absent here, as in 0.12). Value
 * objects (§8.1) stay `Json`: they are checked where the worker converts them, so a bad value
 * fails with its request's own error code. Fields the worker only forwards (`wait_for`, `memo`,
 * `defer`, `requires`, `actions`, …) are checked by the server.
 *
 * Over 400 lines on purpose: the whole channel (20 methods and the response, their results,
 * one parser table per kind) in one file, so that adding a message is one type, one parser and
 * one fixture line.
 */
import { ProtocolError } from './errors.ts'
import type { CacheDefinition, RetriesDefinition } from './executor.ts'
import { isJsonObject, setOwn, stringifyJson, toNumber, type Json } from './json.ts'
import type { ExecutorValue } from './values.ts'
import type { SelectStatus } from './worker.ts'

/** A handle of `select` and `cancel` (§6.2). */
export interface ExecutorHandle {
  type: 'execution' | 'input'
  id: string
}

/** An entry of `persist_asset`'s `entries`: `[blob_key, size, metadata]` (§6.5). */
export type AssetEntryParams = [blobKey: string, size?: number, metadata?: Json]

/** What a bound executor notifies about its execution (§5); each has a handler in the worker. */
export interface ExecutionNotificationParams {
  /** §5.1: `level` 0–5 (absent: info); `template` absent when only values were logged */
  log: { execution_id?: string; level?: number; template?: string; values?: Record<string, Json> }
  /** §5.2: `definition` is forwarded to the server; `throttle` is read by the worker */
  define_metric: { execution_id?: string; key: string; definition?: Record<string, Json> }
  /** §5.3 */
  metric: { execution_id?: string; key: string; value: number; at?: number }
  /** §5.4 */
  register_group: { execution_id?: string; group_id?: number; name?: string }
  /** §5.5: `result` is a Value; absent means the function returned None */
  execution_result: { execution_id?: string; result?: Json }
  /** §5.6 */
  execution_error: {
    execution_id?: string
    error?: { type?: string; message?: string; traceback?: string; retryable?: boolean }
  }
}

/** The executor's lifecycle (§4) and the fork template extension (ours, fork-launcher.ts). */
export interface LifecycleNotificationParams {
  /** §4.3, executor → worker, the first line */
  ready: { version: string; adapter?: string; pid?: number; preloaded?: string[]; preload_failed?: string[]; fork?: boolean }
  /** §4.4, worker → executor; `arguments` are Values */
  execute: {
    execution_id: string
    module: string
    target: string
    arguments: Json[]
    working_dir: string
    run_id?: string
    workspace_id?: string
    attempt?: number
    timeout_ms?: number
    temp_dir?: string
  }
  /** worker → template: fork `count` children */
  fork: { count: number }
  /** template → worker: a forked child exited */
  exited: { pid: number; status: number }
  /** a forked child's first line on each fork-socket connection */
  hello: { pid: number; channel: 'stderr' | 'protocol' }
}

export type ExecutorNotificationParams = ExecutionNotificationParams & LifecycleNotificationParams

/** Executor → worker requests (§6); `execution_id` is the caller's (the bound execution). */
export interface ExecutorRequestParams {
  /** §6.1; `arguments` are Values */
  submit_execution: {
    execution_id?: string
    module: string
    target: string
    type?: string
    arguments: Json[]
    wait_for?: Json
    group_id?: number
    cache?: Partial<CacheDefinition>
    defer?: Record<string, Json>
    memo?: Json
    delay?: number
    retries?: RetriesDefinition
    recurrent?: boolean
    requires?: Record<string, Json>
    timeout?: number
    /** ours: how often an abandoned workflow execution is resumed (absent: the server's default); workflows only */
    resumes?: number
    /** ours: higher runs first (absent: the caller's) */
    priority?: number
    /** ours: `[limit ≥ 1, key]`, the key already resolved from the call's arguments */
    concurrency?: [limit: number, key: string]
  }
  /** §6.2: `handles` is not empty */
  select: { execution_id?: string; handles: ExecutorHandle[]; timeout_ms?: number; suspend?: boolean; cancel_remaining?: boolean }
  /** §6.3 */
  cancel: { execution_id?: string; handles: ExecutorHandle[] }
  /** §6.4: `execute_after` in Unix ms */
  suspend: { execution_id?: string; execute_after?: number }
  /** §6.5 */
  persist_asset: {
    execution_id?: string
    paths?: string[]
    metadata?: { name?: string }
    entries?: Record<string, AssetEntryParams>
    files?: Record<string, string>
  }
  /** §6.6 */
  get_asset: { execution_id?: string; asset_id: string }
  /** §6.7 */
  download_blob: { execution_id?: string; blob_key: string; target_path: string }
  /** §6.8 */
  upload_blob: { execution_id?: string; source_path: string }
  /** §6.9: `placeholders` are Values, `initial` plain JSON */
  submit_input: {
    execution_id?: string
    template: string
    placeholders?: Record<string, Json>
    schema?: string
    key?: string
    title?: string
    actions?: Json
    initial?: Json
    requires?: Record<string, Json>
  }
}

/** The `result` of each request's response (§6). */
export interface ExecutorRequestResults {
  submit_execution: { execution_id: string; module: string; target: string }
  /** null when the wait expired with nothing resolved */
  select: { winner: number; status: SelectStatus; value?: ExecutorValue; error?: { type: string; message: string; traceback?: string } } | null
  cancel: Record<string, never>
  suspend: Record<string, never>
  persist_asset: { asset_id: string; reference: ['asset', string, string | null, number, number] }
  get_asset: { entries: unknown }
  download_blob: Record<string, never>
  upload_blob: { blob_key: string }
  submit_input: { input_id: string }
}

export type ExecutionNotificationMethod = keyof ExecutionNotificationParams
export type ExecutorNotificationMethod = keyof ExecutorNotificationParams
export type ExecutorRequestMethod = keyof ExecutorRequestParams

export type ExecutionNotification = { [M in ExecutionNotificationMethod]: { method: M; params: ExecutionNotificationParams[M] } }[ExecutionNotificationMethod]
export type ExecutorNotification = { [M in ExecutorNotificationMethod]: { method: M; params: ExecutorNotificationParams[M] } }[ExecutorNotificationMethod]
export type ExecutorRequest = { [M in ExecutorRequestMethod]: { id: number; method: M; params: ExecutorRequestParams[M] } }[ExecutorRequestMethod]

/** A response of the worker (§3): `result` is null when `error` is present. */
export interface ExecutorResponse<R = Json> {
  id: number
  method?: undefined
  result: R | null
  error?: { code: string; message: string }
}

/** A response the worker writes, with one of the results above. */
export type ExecutorReply = ExecutorResponse<ExecutorRequestResults[ExecutorRequestMethod]>

/**
 * Any line of the channel, either direction.
 *
 * @example
 * const message = parseExecutorMessage(parseJson('{"id":3,"method":"cancel","params":{"handles":[]}}'))
 * if (message.method === 'cancel') message.params.handles // ExecutorHandle[]
 */
export type ExecutorMessage = ExecutorNotification | ExecutorRequest | ExecutorResponse

type Fields = { [key: string]: Json }
type Read<T> = (value: Json | undefined, at: string) => T

function fail(message: string): never {
  throw new ProtocolError(message)
}

const asString: Read<string> = (v, at) => (typeof v === 'string' ? v : fail(`${at} must be a string`))
const asBoolean: Read<boolean> = (v, at) => (typeof v === 'boolean' ? v : fail(`${at} must be a boolean`))
const asArray: Read<Json[]> = (v, at) => (Array.isArray(v) ? v : fail(`${at} must be an array`))
const asObject: Read<Fields> = (v, at) => (isJsonObject(v) ? v : fail(`${at} must be an object`))
const asStrings: Read<string[]> = (v, at) => asArray(v, at).map((s) => (typeof s === 'string' ? s : fail(`${at} must be strings`)))

/** Plain numbers and verbatim ones (`1.0`, big integers), as the lossless reader gives them. */
const asNumber: Read<number> = (v, at) => {
  const n = toNumber(v)
  return n === undefined || Number.isNaN(n) ? fail(`${at} must be a number`) : n
}

/** `read` for a present value; undefined when absent or null. */
function maybe<T>(read: Read<T>, value: Json | undefined, at: string): T | undefined {
  return value === undefined || value === null ? undefined : read(value, at)
}

/** A non-negative integer, and only on a workflow: a task is never resumed (it may have side effects). */
function resumesOf(p: Fields): number | undefined {
  const resumes = maybe(asNumber, p.resumes, 'resumes')
  if (resumes === undefined) return undefined
  if (!Number.isInteger(resumes) || resumes < 0) return fail('resumes must be a non-negative integer')
  if ((p.type ?? 'task') !== 'workflow') return fail('resumes applies to workflows only')
  return resumes
}

/** An integer that survives as a JavaScript number (priorities may be negative). */
function priorityOf(p: Fields): number | undefined {
  const priority = maybe(asNumber, p.priority, 'priority')
  if (priority !== undefined && !Number.isSafeInteger(priority)) return fail('priority must be an integer')
  return priority
}

function concurrencyOf(p: Fields): [number, string] | undefined {
  const concurrency = maybe(asArray, p.concurrency, 'concurrency')
  if (concurrency === undefined) return undefined
  const [limit, key] = concurrency
  if (concurrency.length !== 2 || typeof key !== 'string') return fail('concurrency must be [limit, key]')
  const n = asNumber(limit, 'concurrency limit')
  if (!Number.isSafeInteger(n) || n < 1) return fail('concurrency limit must be an integer of at least 1')
  return [n, key]
}

function handles(v: Json | undefined): ExecutorHandle[] {
  return asArray(v, 'handles').map((h) => {
    if (!isJsonObject(h) || (h.type !== 'execution' && h.type !== 'input') || typeof h.id !== 'string') {
      return fail('each handle must be {"type": "execution" | "input", "id": string}')
    }
    return { type: h.type, id: h.id }
  })
}

function record<T>(v: Json | undefined, at: string, read: Read<T>): Record<string, T> | undefined {
  const object = maybe(asObject, v, at)
  if (!object) return undefined
  const out: Record<string, T> = {}
  for (const [key, value] of Object.entries(object)) setOwn(out, key, read(value, `${at}.${key}`))
  return out
}

const asEntry: Read<AssetEntryParams> = (v, at) => {
  if (!Array.isArray(v) || typeof v[0] !== 'string') return fail(`${at} must be [blob_key, size, metadata]`)
  return [v[0], maybe(asNumber, v[1], `${at} size`), v[2] ?? undefined]
}

const asJson: Read<Json> = (v) => v ?? null
const executionId = (p: Fields) => maybe(asString, p.execution_id, 'execution_id')

type Parsers<T> = { [M in keyof T]: (p: Fields) => T[M] }

const NOTIFICATIONS: Parsers<ExecutorNotificationParams> = {
  log: (p) => ({
    execution_id: executionId(p),
    level: maybe(asNumber, p.level, 'level'),
    template: maybe(asString, p.template, 'template'),
    values: record(p.values, 'values', asJson),
  }),
  define_metric: (p) => {
    const definition = maybe(asObject, p.definition, 'definition')
    if (definition) maybe(asNumber, definition.throttle, 'definition.throttle')
    return { execution_id: executionId(p), key: asString(p.key, 'key'), definition }
  },
  metric: (p) => ({
    execution_id: executionId(p),
    key: asString(p.key, 'key'),
    value: asNumber(p.value, 'value'),
    at: maybe(asNumber, p.at, 'at'),
  }),
  register_group: (p) => ({ execution_id: executionId(p), group_id: maybe(asNumber, p.group_id, 'group_id'), name: maybe(asString, p.name, 'name') }),
  execution_result: (p) => ({ execution_id: executionId(p), result: p.result ?? undefined }),
  execution_error: (p) => {
    const error = maybe(asObject, p.error, 'error')
    return {
      execution_id: executionId(p),
      error: error && {
        type: maybe(asString, error.type, 'error.type'),
        message: maybe(asString, error.message, 'error.message'),
        traceback: maybe(asString, error.traceback, 'error.traceback'),
        retryable: maybe(asBoolean, error.retryable, 'error.retryable'),
      },
    }
  },
  ready: (p) => ({
    version: asString(p.version, 'version'),
    adapter: maybe(asString, p.adapter, 'adapter'),
    pid: maybe(asNumber, p.pid, 'pid'),
    preloaded: maybe(asStrings, p.preloaded, 'preloaded'),
    preload_failed: maybe(asStrings, p.preload_failed, 'preload_failed'),
    fork: maybe(asBoolean, p.fork, 'fork'),
  }),
  execute: (p) => ({
    execution_id: asString(p.execution_id, 'execution_id'),
    module: asString(p.module, 'module'),
    target: asString(p.target, 'target'),
    arguments: asArray(p.arguments, 'arguments'),
    working_dir: asString(p.working_dir, 'working_dir'),
    run_id: maybe(asString, p.run_id, 'run_id'),
    workspace_id: maybe(asString, p.workspace_id, 'workspace_id'),
    attempt: maybe(asNumber, p.attempt, 'attempt'),
    timeout_ms: maybe(asNumber, p.timeout_ms, 'timeout_ms'),
    temp_dir: maybe(asString, p.temp_dir, 'temp_dir'),
  }),
  fork: (p) => ({ count: asNumber(p.count, 'count') }),
  exited: (p) => ({ pid: asNumber(p.pid, 'pid'), status: asNumber(p.status, 'status') }),
  hello: (p) => {
    const channel = p.channel
    if (channel !== 'stderr' && channel !== 'protocol') return fail('channel must be "stderr" or "protocol"')
    return { pid: asNumber(p.pid, 'pid'), channel }
  },
}

const REQUESTS: Parsers<ExecutorRequestParams> = {
  submit_execution: (p) => {
    const cache = maybe(asObject, p.cache, 'cache')
    const retries = maybe(asObject, p.retries, 'retries')
    return {
      execution_id: executionId(p),
      module: asString(p.module, 'module'),
      target: asString(p.target, 'target'),
      type: maybe(asString, p.type, 'type'),
      arguments: asArray(p.arguments, 'arguments'),
      wait_for: p.wait_for ?? undefined,
      group_id: maybe(asNumber, p.group_id, 'group_id'),
      cache: cache && {
        params: (cache.params ?? undefined) as CacheDefinition['params'] | undefined,
        max_age_ms: maybe(asNumber, cache.max_age_ms, 'cache.max_age_ms'),
        namespace: maybe(asString, cache.namespace, 'cache.namespace'),
        version: maybe(asString, cache.version, 'cache.version'),
      },
      defer: maybe(asObject, p.defer, 'defer'),
      memo: p.memo ?? undefined,
      delay: maybe(asNumber, p.delay, 'delay'),
      retries: retries && {
        limit: maybe(asNumber, retries.limit, 'retries.limit'),
        backoff_min_ms: maybe(asNumber, retries.backoff_min_ms, 'retries.backoff_min_ms'),
        backoff_max_ms: maybe(asNumber, retries.backoff_max_ms, 'retries.backoff_max_ms'),
      },
      recurrent: maybe(asBoolean, p.recurrent, 'recurrent'),
      requires: maybe(asObject, p.requires, 'requires'),
      timeout: maybe(asNumber, p.timeout, 'timeout'),
      resumes: resumesOf(p),
      priority: priorityOf(p),
      concurrency: concurrencyOf(p),
    }
  },
  select: (p) => {
    const list = handles(p.handles)
    if (list.length === 0) fail('handles must not be empty')
    return {
      execution_id: executionId(p),
      handles: list,
      timeout_ms: maybe(asNumber, p.timeout_ms, 'timeout_ms'),
      suspend: maybe(asBoolean, p.suspend, 'suspend'),
      cancel_remaining: maybe(asBoolean, p.cancel_remaining, 'cancel_remaining'),
    }
  },
  cancel: (p) => ({ execution_id: executionId(p), handles: handles(p.handles) }),
  suspend: (p) => ({ execution_id: executionId(p), execute_after: maybe(asNumber, p.execute_after, 'execute_after') }),
  persist_asset: (p) => {
    const metadata = maybe(asObject, p.metadata, 'metadata')
    return {
      execution_id: executionId(p),
      paths: maybe(asStrings, p.paths, 'paths'),
      metadata: metadata && { name: maybe(asString, metadata.name, 'metadata.name') },
      entries: record(p.entries, 'entries', asEntry),
      files: record(p.files, 'files', asString),
    }
  },
  get_asset: (p) => ({ execution_id: executionId(p), asset_id: asString(p.asset_id, 'asset_id') }),
  download_blob: (p) => ({
    execution_id: executionId(p),
    blob_key: asString(p.blob_key, 'blob_key'),
    target_path: asString(p.target_path, 'target_path'),
  }),
  upload_blob: (p) => ({ execution_id: executionId(p), source_path: asString(p.source_path, 'source_path') }),
  submit_input: (p) => ({
    execution_id: executionId(p),
    template: asString(p.template, 'template'),
    placeholders: record(p.placeholders, 'placeholders', asJson),
    schema: maybe(asString, p.schema, 'schema'),
    key: maybe(asString, p.key, 'key'),
    title: maybe(asString, p.title, 'title'),
    actions: p.actions ?? undefined,
    initial: p.initial ?? undefined,
    requires: maybe(asObject, p.requires, 'requires'),
  }),
}

const EXECUTION_NOTIFICATIONS: Record<ExecutionNotificationMethod, true> = {
  log: true,
  define_metric: true,
  metric: true,
  register_group: true,
  execution_result: true,
  execution_error: true,
}

export const EXECUTOR_METHODS: readonly (ExecutorNotificationMethod | ExecutorRequestMethod)[] = [
  ...(Object.keys(NOTIFICATIONS) as ExecutorNotificationMethod[]),
  ...(Object.keys(REQUESTS) as ExecutorRequestMethod[]),
]

export function isExecutorRequestMethod(method: string): method is ExecutorRequestMethod {
  return Object.hasOwn(REQUESTS, method)
}

/** A notification that a bound executor sends about its execution (§5). */
export function isExecutionNotificationMethod(method: string): method is ExecutionNotificationMethod {
  return Object.hasOwn(EXECUTION_NOTIFICATIONS, method)
}

function isRequestId(id: Json): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id > 0
}

/**
 * Checks one decoded line (either direction) and returns it typed; throws `ProtocolError` on a
 * malformed message or an unknown method. Unknown fields are dropped.
 */
export function parseExecutorMessage(raw: unknown): ExecutorMessage {
  if (!isJsonObject(raw)) fail('message must be a JSON object')
  const { id, method } = raw
  if (id !== undefined && !isRequestId(id)) fail('id must be a positive integer')
  if (method === undefined) {
    if (id === undefined) fail('message has neither method nor id')
    return parseResponse(id, raw)
  }
  if (typeof method !== 'string') fail('method must be a string')
  const params = raw.params ?? {}
  if (!isJsonObject(params)) fail(`params of ${method} must be an object`)
  if (isExecutorRequestMethod(method)) {
    if (id === undefined) fail(`${method} must be a request`)
    return { id, method, params: REQUESTS[method](params) } as ExecutorRequest
  }
  if (Object.hasOwn(NOTIFICATIONS, method)) {
    if (id !== undefined) fail(`${method} must be a notification`)
    return { method, params: NOTIFICATIONS[method as ExecutorNotificationMethod](params) } as ExecutorNotification
  }
  return fail(`unknown method: ${method}`)
}

function parseResponse(id: number, raw: Fields): ExecutorResponse {
  if (!('result' in raw)) fail('response without result')
  const result = raw.result!
  const error = raw.error
  if (error === undefined || error === null) return { id, result }
  if (!isJsonObject(error) || typeof error.code !== 'string' || typeof error.message !== 'string') fail('error must be {code, message}')
  if (result !== null) fail('an error response has a null result')
  return { id, result, error: { code: error.code, message: error.message } }
}

/** One line for an executor: ASCII-only JSON (§3), newline-terminated. */
export function encodeExecutorMessage(message: ExecutorMessage): string {
  return stringifyJson(message, { ascii: true }) + '\n'
}
