/**
 * Executor requests (executor-protocol.md §6): each is checked, its values converted, forwarded
 * to the server as the call of `internal/protocol/worker.ts`, and the reply mapped back. Errors
 * become `{code, message}` with the request's code (§15).
 */
import { isAbsolute, relative, resolve, sep, basename } from 'node:path'
import { BlobNotFoundError, type BlobStores } from '../client/index.ts'
import type { Json } from '../protocol/json.ts'
import { formatTraceback, mimeTypeFor, type Frame } from '../protocol/values.ts'
import type { SelectReply, WorkerRequestName } from '../protocol/worker.ts'
import { array, num, optionalArray, optionalNumber, optionalObject, optionalString, ParamError, string, type Params } from './request-params.ts'
import type { ValueConverter } from './value-converter.ts'

/** What a request handler may do on behalf of the bound execution. */
export interface RequestScope {
  readonly executionId: string
  readonly workingDir: string
  readonly values: ValueConverter
  readonly blobs: BlobStores
  /** Forwards a call to the server (with the request's idempotency key); resolves with its reply. */
  forward(request: WorkerRequestName, build: () => unknown[]): Promise<unknown>
  /** The server recorded the execution's suspension: the executor is to be killed. */
  suspended(): void
}

/** An error response for the executor. */
export class RequestFailure extends Error {
  override readonly name = 'RequestFailure'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

type Handler = (scope: RequestScope, params: Params) => Promise<unknown>

/** The error code of each request (§15). */
export const REQUEST_ERROR_CODES: Record<string, string> = {
  submit_execution: 'submit_error',
  select: 'select_error',
  cancel: 'cancel_error',
  suspend: 'suspend_error',
  persist_asset: 'persist_error',
  get_asset: 'get_asset_error',
  download_blob: 'download_error',
  upload_blob: 'upload_error',
  submit_input: 'input_error',
}

/** Runs one request; resolves with its result or rejects with a RequestFailure. */
export async function handleRequest(scope: RequestScope, method: string, params: Params): Promise<unknown> {
  const handler = HANDLERS[method]
  if (!handler) throw new RequestFailure('unknown_method', `unknown method: ${method}`)
  const code = REQUEST_ERROR_CODES[method]!
  try {
    return await handler(scope, params)
  } catch (err) {
    if (err instanceof RequestFailure) throw err
    if (err instanceof ParamError) throw new RequestFailure('parse_error', err.message)
    throw new RequestFailure(code, (err as Error).message)
  }
}

const HANDLERS: Record<string, Handler> = {
  async submit_execution(scope, p) {
    const args = await Promise.all(array(p, 'arguments').map((arg) => scope.values.toServer(arg)))
    const cache = optionalObject(p, 'cache')
    const retries = optionalObject(p, 'retries')
    const timeout = optionalNumber(p, 'timeout')
    const reply = await scope.forward('submit', () => [
      string(p, 'module'),
      string(p, 'target'),
      optionalString(p, 'type') ?? 'task',
      args,
      scope.executionId,
      optionalNumber(p, 'group_id') ?? null,
      p.wait_for ?? null,
      cache ? { params: cache.params ?? true, max_age: num(cache.max_age_ms), namespace: cache.namespace ?? null, version: cache.version ?? null } : null,
      optionalObject(p, 'defer') ?? null,
      p.memo ?? null,
      Math.trunc(optionalNumber(p, 'delay') ?? 0),
      retries ? serverRetries(retries) : null,
      p.recurrent === true,
      optionalObject(p, 'requires') ?? null,
      timeout ? Math.trunc(timeout) : null,
    ])
    const [executionId, module, target] = reply as [string, string, string]
    return { execution_id: executionId, module, target }
  },

  async select(scope, p) {
    const handles = array(p, 'handles').map(handle)
    if (handles.length === 0) throw new ParamError('handles must not be empty')
    const timeout = optionalNumber(p, 'timeout_ms')
    // Re-sent after a reconnection with the time that is left (§6.2). The server holds the wait,
    // so the clock starts at the first send: started earlier, a millisecond tick between reading
    // the clock and sending could shave the executor's own timeout on the first send (4999 for 5000).
    let firstSent: number | undefined
    const reply = (await scope.forward('select', () => {
      const now = Date.now()
      firstSent ??= now
      return [
        handles,
        scope.executionId,
        timeout === undefined ? null : Math.max(0, Math.trunc(timeout - (now - firstSent))),
        p.suspend === true,
        p.cancel_remaining === true,
      ]
    })) as SelectReply | null
    return reply === null ? null : selectResult(scope, reply)
  },

  async cancel(scope, p) {
    const handles = array(p, 'handles').map(handle)
    await scope.forward('cancel', () => [handles, scope.executionId])
    return {}
  },

  async suspend(scope, p) {
    const executeAfter = optionalNumber(p, 'execute_after')
    await scope.forward('suspend', () => [scope.executionId, executeAfter ?? null])
    scope.suspended()
    return {}
  },

  async persist_asset(scope, p) {
    const entries = await assetEntries(scope, p)
    const name = optionalObject(p, 'metadata')?.name
    const reply = (await scope.forward('put_asset', () => [scope.executionId, typeof name === 'string' ? name : null, entries])) as [
      string,
      string | null,
      number,
      number,
    ]
    const [assetId, assetName, count, size] = reply
    return { asset_id: assetId, reference: ['asset', assetId, assetName, count, size] }
  },

  async get_asset(scope, p) {
    const assetId = string(p, 'asset_id')
    const entries = await scope.forward('get_asset', () => [assetId, scope.executionId])
    return { entries }
  },

  async download_blob(scope, p) {
    const key = string(p, 'blob_key')
    const target = resolve(scope.workingDir, string(p, 'target_path'))
    try {
      await scope.blobs.download(key, target)
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new RequestFailure('download_error', err.message)
      throw err
    }
    return {}
  },

  async upload_blob(scope, p) {
    const source = resolve(scope.workingDir, string(p, 'source_path'))
    try {
      return { blob_key: await scope.blobs.upload(source) }
    } catch (err) {
      throw new RequestFailure('upload_error', `failed to upload blob: ${(err as Error).message}`)
    }
  },

  async submit_input(scope, p) {
    const placeholders = optionalObject(p, 'placeholders')
    let converted: Record<string, unknown> | null = null
    if (placeholders) {
      converted = {}
      for (const [name, value] of Object.entries(placeholders)) converted[name] = await scope.values.toServer(value)
    }
    const inputId = await scope.forward('submit_input', () => [
      scope.executionId,
      string(p, 'template'),
      converted,
      optionalString(p, 'schema') ?? null,
      optionalString(p, 'key') ?? null,
      optionalString(p, 'title') ?? null,
      p.actions ?? null,
      p.initial === undefined ? null : p.initial,
      optionalObject(p, 'requires') ?? null,
    ])
    return { input_id: inputId }
  },
}

async function selectResult(scope: RequestScope, reply: SelectReply): Promise<unknown> {
  const result: Record<string, unknown> = { winner: reply.winner, status: reply.status }
  if (reply.status === 'ok') result.value = await scope.values.toExecutor(reply.value ?? ['raw', null, []])
  if (reply.status === 'error' && reply.error) {
    const error: Record<string, unknown> = { type: reply.error.type, message: reply.error.message }
    const frames = (reply.error.frames ?? []) as Frame[]
    if (frames.length > 0) error.traceback = formatTraceback(frames)
    result.error = error
  }
  return result
}

/** Entries of `put_asset` (§6.5): uploaded files plus pre-resolved entries; paths must be unique. */
async function assetEntries(scope: RequestScope, p: Params): Promise<Record<string, [string, number, Json]>> {
  const files = new Map<string, string>()
  const covered = new Set<string>()
  const entries: Record<string, [string, number, Json]> = {}
  const claim = (path: string): void => {
    if (Object.hasOwn(entries, path) || files.has(path)) throw new RequestFailure('persist_error', `duplicate entry path ${path}`)
  }
  for (const [entryPath, file] of Object.entries(optionalObject(p, 'files') ?? {})) {
    if (typeof file !== 'string') throw new ParamError(`files.${entryPath} must be a string`)
    claim(entryPath)
    files.set(entryPath, file)
    covered.add(resolve(scope.workingDir, file))
  }
  for (const item of optionalArray(p, 'paths') ?? []) {
    if (typeof item !== 'string') throw new ParamError('paths must be strings')
    const absolute = resolve(scope.workingDir, item)
    if (covered.has(absolute)) continue
    const rel = relative(scope.workingDir, absolute)
    const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
    const entryPath = inside ? rel.split(sep).join('/') : basename(absolute)
    claim(entryPath)
    files.set(entryPath, absolute)
    covered.add(absolute)
  }
  for (const [entryPath, entry] of Object.entries(optionalObject(p, 'entries') ?? {})) {
    claim(entryPath)
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new ParamError(`entries.${entryPath} must be [blob_key, size, metadata]`)
    entries[entryPath] = [entry[0], num(entry[1]) ?? 0, entry[2] ?? {}]
  }
  await Promise.all(
    [...files].map(async ([entryPath, file]) => {
      try {
        const { key, size } = await scope.blobs.uploadFile(file)
        const type = mimeTypeFor(file)
        entries[entryPath] = [key, size, type ? { type } : {}]
      } catch (err) {
        throw new RequestFailure('persist_error', `failed to upload ${file}: ${(err as Error).message}`)
      }
    }),
  )
  return entries
}

function serverRetries(r: Record<string, Json>): Record<string, unknown> {
  const out: Record<string, unknown> = { limit: num(r.limit) ?? null }
  if (num(r.backoff_min_ms) !== undefined) out.backoff_min = num(r.backoff_min_ms)
  if (num(r.backoff_max_ms) !== undefined) out.backoff_max = num(r.backoff_max_ms)
  return out
}

function handle(raw: Json): ['execution' | 'input', string] {
  const h = raw as Record<string, Json> | null
  if (!h || typeof h !== 'object' || (h.type !== 'execution' && h.type !== 'input') || typeof h.id !== 'string') {
    throw new ParamError('each handle must be {"type": "execution" | "input", "id": string}')
  }
  return [h.type, h.id]
}

