/**
 * Executor requests (executor-protocol.md §6): each is checked by `parseExecutorMessage`, its
 * values converted, forwarded to the server as the call of `internal/protocol/worker.ts`, and the
 * reply mapped back. One typed handler per method: the table's type makes a request without a
 * handler a compile error. Errors become `{code, message}` with the request's code (§15).
 */
import { isAbsolute, relative, resolve, sep, basename } from 'node:path'
import { BlobNotFoundError, type BlobStores } from '../client/index.ts'
import { ProtocolError } from '../protocol/errors.ts'
import {
  isExecutorRequestMethod,
  parseExecutorMessage,
  type ExecutorHandle,
  type ExecutorRequest,
  type ExecutorRequestMethod,
  type ExecutorRequestParams,
  type ExecutorRequestResults,
} from '../protocol/executor-messages.ts'
import type { RetriesDefinition } from '../protocol/executor.ts'
import type { Json } from '../protocol/json.ts'
import { formatTraceback, mimeTypeFor, type Frame } from '../protocol/values.ts'
import type { SelectReply, WorkerRequestName } from '../protocol/worker.ts'
import type { ValueConverter } from './value-converter.ts'

/** What a request handler may do on behalf of the bound execution. */
export interface RequestScope {
  readonly executionId: string
  readonly workingDir: string
  readonly values: ValueConverter
  readonly blobs: BlobStores
  /** Forwards a call to the server (with the request's idempotency key); resolves with its reply. */
  forward(request: WorkerRequestName, build: () => unknown[]): Promise<unknown>
  /** The executor is blocked until `wait` settles: meanwhile it holds no slot of the concurrency. */
  blockedOn<T>(wait: Promise<T>): Promise<T>
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

type Handler<M extends ExecutorRequestMethod> = (scope: RequestScope, params: ExecutorRequestParams[M]) => Promise<ExecutorRequestResults[M]>

/** The error code of each request (§15). */
export const REQUEST_ERROR_CODES: Record<ExecutorRequestMethod, string> = {
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

/**
 * Runs one request line (its envelope already read: `{id, method, params}`); resolves with its
 * result or rejects with a RequestFailure.
 */
export async function handleRequest(
  scope: RequestScope,
  line: { id: number; method: string; params: Record<string, Json> },
): Promise<ExecutorRequestResults[ExecutorRequestMethod]> {
  if (!isExecutorRequestMethod(line.method)) throw new RequestFailure('unknown_method', `unknown method: ${line.method}`)
  let request: ExecutorRequest
  try {
    request = parseExecutorMessage(line) as ExecutorRequest
  } catch (err) {
    if (err instanceof ProtocolError) throw new RequestFailure('parse_error', err.message)
    throw err
  }
  try {
    return await dispatch(scope, request)
  } catch (err) {
    if (err instanceof RequestFailure) throw err
    throw new RequestFailure(REQUEST_ERROR_CODES[request.method], (err as Error).message)
  }
}

function dispatch<M extends ExecutorRequestMethod>(scope: RequestScope, request: { method: M; params: ExecutorRequestParams[M] }) {
  const handler: Handler<M> = HANDLERS[request.method]
  return handler(scope, request.params)
}

const HANDLERS: { [M in ExecutorRequestMethod]: Handler<M> } = {
  async submit_execution(scope, p) {
    const args = await Promise.all(p.arguments.map((arg) => scope.values.toServer(arg)))
    const { cache, retries, timeout } = p
    const reply = await scope.forward('submit', () => [
      p.module,
      p.target,
      p.type ?? 'task',
      args,
      scope.executionId,
      p.group_id ?? null,
      p.wait_for ?? null,
      cache ? { params: cache.params ?? true, max_age: cache.max_age_ms, namespace: cache.namespace ?? null, version: cache.version ?? null } : null,
      p.defer ?? null,
      p.memo ?? null,
      Math.trunc(p.delay ?? 0),
      retries ? serverRetries(retries) : null,
      p.recurrent === true,
      p.requires ?? null,
      timeout ? Math.trunc(timeout) : null,
      p.resumes ?? null,
      p.priority ?? null,
      p.concurrency ?? null,
    ])
    const [executionId, module, target] = reply as [string, string, string]
    return { execution_id: executionId, module, target }
  },

  async select(scope, p) {
    const handles = p.handles.map(handle)
    const timeout = p.timeout_ms
    // Re-sent after a reconnection with the time that is left (§6.2). The server holds the wait,
    // so the clock starts at the first send: started earlier, a millisecond tick between reading
    // the clock and sending could shave the executor's own timeout on the first send (4999 for 5000).
    let firstSent: number | undefined
    const forwarded = scope.forward('select', () => {
      const now = Date.now()
      firstSent ??= now
      return [
        handles,
        scope.executionId,
        timeout === undefined ? null : Math.max(0, Math.trunc(timeout - (now - firstSent))),
        p.suspend === true,
        p.cancel_remaining === true,
      ]
    })
    // a poll (timeout 0) is answered at once; anything else may block until a handle resolves
    const reply = (await (timeout === 0 ? forwarded : scope.blockedOn(forwarded))) as SelectReply | null
    return reply === null ? null : selectResult(scope, reply)
  },

  async cancel(scope, p) {
    const handles = p.handles.map(handle)
    await scope.forward('cancel', () => [handles, scope.executionId])
    return {}
  },

  async suspend(scope, p) {
    const executeAfter = p.execute_after
    await scope.forward('suspend', () => [scope.executionId, executeAfter ?? null])
    scope.suspended()
    return {}
  },

  async persist_asset(scope, p) {
    const entries = await assetEntries(scope, p)
    const name = p.metadata?.name
    const reply = (await scope.forward('put_asset', () => [scope.executionId, name ?? null, entries])) as [
      string,
      string | null,
      number,
      number,
    ]
    const [assetId, assetName, count, size] = reply
    return { asset_id: assetId, reference: ['asset', assetId, assetName, count, size] }
  },

  async get_asset(scope, p) {
    const assetId = p.asset_id
    const entries = await scope.forward('get_asset', () => [assetId, scope.executionId])
    return { entries }
  },

  async download_blob(scope, p) {
    const key = p.blob_key
    const target = resolve(scope.workingDir, p.target_path)
    try {
      await scope.blobs.download(key, target)
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw new RequestFailure('download_error', err.message)
      throw err
    }
    return {}
  },

  async upload_blob(scope, p) {
    const source = resolve(scope.workingDir, p.source_path)
    try {
      return { blob_key: await scope.blobs.upload(source) }
    } catch (err) {
      throw new RequestFailure('upload_error', `failed to upload blob: ${(err as Error).message}`)
    }
  },

  async submit_input(scope, p) {
    const placeholders = p.placeholders
    let converted: Record<string, unknown> | null = null
    if (placeholders) {
      converted = {}
      for (const [name, value] of Object.entries(placeholders)) converted[name] = await scope.values.toServer(value)
    }
    const inputId = await scope.forward('submit_input', () => [
      scope.executionId,
      p.template,
      converted,
      p.schema ?? null,
      p.key ?? null,
      p.title ?? null,
      p.actions ?? null,
      p.initial ?? null,
      p.requires ?? null,
    ])
    return { input_id: inputId as string }
  },
}

async function selectResult(scope: RequestScope, reply: SelectReply): Promise<ExecutorRequestResults['select']> {
  const result: NonNullable<ExecutorRequestResults['select']> = { winner: reply.winner, status: reply.status }
  if (reply.status === 'ok') result.value = await scope.values.toExecutor(reply.value ?? ['raw', null, []])
  if (reply.status === 'error' && reply.error) {
    const error: { type: string; message: string; traceback?: string } = { type: reply.error.type, message: reply.error.message }
    const frames = (reply.error.frames ?? []) as Frame[]
    if (frames.length > 0) error.traceback = formatTraceback(frames)
    result.error = error
  }
  return result
}

/** Entries of `put_asset` (§6.5): uploaded files plus pre-resolved entries; paths must be unique. */
async function assetEntries(scope: RequestScope, p: ExecutorRequestParams['persist_asset']): Promise<Record<string, [string, number, Json]>> {
  const files = new Map<string, string>()
  const covered = new Set<string>()
  const entries: Record<string, [string, number, Json]> = {}
  const claim = (path: string): void => {
    if (Object.hasOwn(entries, path) || files.has(path)) throw new RequestFailure('persist_error', `duplicate entry path ${path}`)
  }
  for (const [entryPath, file] of Object.entries(p.files ?? {})) {
    claim(entryPath)
    files.set(entryPath, file)
    covered.add(resolve(scope.workingDir, file))
  }
  for (const item of p.paths ?? []) {
    const absolute = resolve(scope.workingDir, item)
    if (covered.has(absolute)) continue
    const rel = relative(scope.workingDir, absolute)
    const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
    const entryPath = inside ? rel.split(sep).join('/') : basename(absolute)
    claim(entryPath)
    files.set(entryPath, absolute)
    covered.add(absolute)
  }
  for (const [entryPath, [blobKey, size, metadata]] of Object.entries(p.entries ?? {})) {
    claim(entryPath)
    entries[entryPath] = [blobKey, size ?? 0, metadata ?? {}]
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

function serverRetries(r: RetriesDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = { limit: r.limit ?? null }
  if (r.backoff_min_ms !== undefined) out.backoff_min = r.backoff_min_ms
  if (r.backoff_max_ms !== undefined) out.backoff_max = r.backoff_max_ms
  return out
}

/** A handle as the server's calls take it. */
function handle(h: ExecutorHandle): ['execution' | 'input', string] {
  return [h.type, h.id]
}

