/**
 * Worker ⇄ server frames on the `/worker` WebSocket (http-api.md §14). 0.12 workers speak JSON
 * text frames; our worker offers the `v1.cbor` subprotocol and gets binary CBOR frames with the
 * same structure. Value data inside frames is canonical JSON text (`RawJson`), which CBOR carries
 * under a private tag so numbers are never converted on the way.
 */
import { Decoder, Encoder, addExtension } from 'cbor-x'
import { ProtocolError } from './errors.ts'
import { JsonNumber, parseJson, RawJson, stringifyJson, type Json } from './json.ts'
import type { DeclaredTargets } from './executor.ts'

export const WORKER_SUBPROTOCOL = { json: 'v1', cbor: 'v1.cbor' } as const
export type FrameFormat = 'json' | 'cbor'

/** CBOR tag for RawJson (first-come private range). */
const RAW_JSON_TAG = 40501
addExtension<RawJson, string>({
  Class: RawJson,
  tag: RAW_JSON_TAG,
  encode: (value, encode) => encode(value.text),
  decode: (text) => new RawJson(text),
})

// CBOR has no lossless-number tag: a JsonNumber outside value data (`1.0` in a metric definition)
// travels as a plain number. Untagged, like cbor-x's own ArrayBuffer extension: no `tag`, no `decode`.
addExtension({
  Class: JsonNumber,
  encode: (value: JsonNumber, encode: (n: number) => Uint8Array) => encode(Number(value.text)),
} as unknown as Parameters<typeof addExtension>[0])

const cborEncoder = new Encoder({ useRecords: false, mapsAsObjects: true })
const cborDecoder = new Decoder({ useRecords: false, mapsAsObjects: true })

// ---------------------------------------------------------------------------------------------
// Server → worker

export const SERVER_FRAME = { session: 0, command: 1, reply: 2, error: 3, ack: 4 } as const

/** `execute` params: [executionId, module, target, arguments, runId, workspaceId, timeoutMs] */
export type ExecuteParams = [string, string, string, unknown[], string, string, number | null]

export type ServerFrame =
  /** the executions the server believes this session holds */
  | [0, string, string[]]
  | [1, { command: 'execute'; params: ExecuteParams } | { command: 'abort'; params: [string] }]
  | [2, number, unknown]
  /** error reply: a short code or message text */
  | [3, number, string]
  /** ours (CBOR connections only): the server durably recorded this execution's result/termination */
  | [4, string, 'result' | 'terminated']

// ---------------------------------------------------------------------------------------------
// Worker → server

/** Requests that expect a reply carry an `id`; notifications don't. */
export const WORKER_REQUESTS = [
  'submit',
  'select',
  'cancel',
  'suspend',
  'submit_input',
  'put_asset',
  'get_asset',
] as const
export const WORKER_NOTIFICATIONS = [
  'declare_targets',
  'session_draining',
  'register_group',
  'started',
  'define_metric',
  'record_heartbeats',
  'notify_terminated',
  'put_result',
  'put_error',
  'put_timeout',
  'suspend',
] as const
export type WorkerRequestName = (typeof WORKER_REQUESTS)[number]
export type WorkerNotificationName = (typeof WORKER_NOTIFICATIONS)[number]

/**
 * `{request, params, id?, key?}`. `key` (ours) is the idempotency key
 * `<execution id>#<request id>` of a request forwarded for an execution (semantics.md §20.7).
 */
export interface WorkerFrame {
  request: WorkerRequestName | WorkerNotificationName
  params: unknown[]
  id?: number
  key?: string
}

/*
 * Parameter layouts (all arrays):
 *   declare_targets   [targets: DeclaredTargets, concurrency: number, maxWaiting?: number]
 *                     (maxWaiting is ours; 0.12 workers send two, and the server uses its default)
 *   session_draining  []
 *   record_heartbeats [{[executionId]: HeartbeatState}]
 *   started           [executionId, {}]
 *   register_group    [executionId, groupId: number, name: string | null]
 *   define_metric     [executionId, key, definition: object]
 *   put_result        [executionId, ServerValue]
 *   put_error         [executionId, [type, message, frames: [file, line, name, code|null][], retryable?]]
 *   put_timeout       [executionId]
 *   notify_terminated [executionIds: string[]]
 *   suspend           [executionId, executeAfter: number | null]           (reply: null)
 *   submit            [module, target, type, arguments: ServerValue[], parentId, groupId|null,
 *                      waitFor: number[]|true|null, cache|null, defer|null, memo: true|number[]|false|null,
 *                      delay: number, retries|null, recurrent: boolean, requires|null, timeout|null,
 *                      resumes: number|null, priority: number|null, concurrency: [limit, key]|null]
 *                     (reply: [executionId, module, target])
 *                     resumes (ours, p[15]; 0.12 workers send 15 params): how often the workflow's
 *                       execution is resumed when abandoned; null: the server's default (3), 0: never
 *                     priority (ours, p[16]): an integer, higher runs first; null: the caller's
 *                     concurrency (ours, p[17]): [limit ≥ 1, key], the key resolved by the adapter
 *                       from the call's arguments; at most `limit` running executions with that
 *                       key in the workspace; null: no limit
 *                     cache   {params: true|number[], max_age: ms|null, namespace: string|null, version: string|null}
 *                     retries {limit: number|null, backoff_min?: ms, backoff_max?: ms}
 *   select            [handles: SelectHandle[], fromExecutionId, timeoutMs|null, suspend: boolean, cancelRemaining: boolean]
 *                     (reply: null | SelectReply)
 *   cancel            [handles: SelectHandle[], fromExecutionId]                     (reply: null)
 *   put_asset         [executionId, name|null, {[path]: [blobKey, size, metadata]}]
 *                     (reply: [assetId, name|null, totalCount, totalSize])
 *   get_asset         [assetId, executionId]  (reply: {[path]: [blobKey, size, metadata]})
 *   submit_input      [executionId, template, placeholders|null, schema|null, key|null, title|null,
 *                      actions|null, initial|null, requires|null]                     (reply: inputId)
 */

export type SelectHandle = ['execution', string] | ['input', string]

export type SelectStatus = 'ok' | 'error' | 'cancelled' | 'dismissed' | 'abandoned' | 'timeout'

export interface SelectReply {
  winner: number
  status: SelectStatus
  /** ServerValue, for `ok` */
  value?: unknown
  error?: { type: string; message: string; frames: [string, number, string, string | null][] }
}

export interface DeclareTargetsParams {
  targets: DeclaredTargets
  /** executions running at once (0.12: executions at once) */
  concurrency: number
  /** executions blocked in a wait at once, counted apart from `concurrency`; absent from 0.12 workers */
  maxWaiting?: number
}

// ---------------------------------------------------------------------------------------------
// Codecs

export function encodeFrame(frame: unknown, format: FrameFormat): string | Uint8Array {
  if (format === 'json') return stringifyJson(frame)
  return new Uint8Array(cborEncoder.encode(frame))
}

/** Decodes one frame; throws ProtocolError on undecodable input. */
export function decodeFrame(data: string | ArrayBuffer | Uint8Array, format: FrameFormat): unknown {
  try {
    if (typeof data === 'string') return parseJson(data)
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data)
    if (format === 'json') return parseJson(new TextDecoder().decode(bytes))
    return cborDecoder.decode(bytes)
  } catch (err) {
    throw new ProtocolError(`undecodable frame: ${(err as Error).message}`)
  }
}

/** Validates the outer shape of a worker frame. */
export function parseWorkerFrame(raw: unknown): WorkerFrame {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProtocolError('frame must be an object')
  const f = raw as Record<string, unknown>
  if (typeof f.request !== 'string') throw new ProtocolError('frame has no request name')
  if (!Array.isArray(f.params)) throw new ProtocolError(`params of ${f.request} must be an array`)
  if (f.id !== undefined && (typeof f.id !== 'number' || !Number.isInteger(f.id))) {
    throw new ProtocolError('frame id must be an integer')
  }
  if (f.key !== undefined && typeof f.key !== 'string') throw new ProtocolError('frame key must be a string')
  const known = (WORKER_REQUESTS as readonly string[]).includes(f.request) ||
    (WORKER_NOTIFICATIONS as readonly string[]).includes(f.request)
  if (!known) throw new ProtocolError(`unknown request: ${f.request}`)
  return f as unknown as WorkerFrame
}

/** Validates a server frame (worker side). */
export function parseServerFrame(raw: unknown): ServerFrame {
  if (!Array.isArray(raw) || typeof raw[0] !== 'number') throw new ProtocolError('server frame must be an array')
  switch (raw[0]) {
    case 0:
      if (typeof raw[1] !== 'string' || !Array.isArray(raw[2])) throw new ProtocolError('bad session frame')
      return raw as ServerFrame
    case 1: {
      const cmd = raw[1] as { command?: unknown; params?: unknown }
      if (!cmd || (cmd.command !== 'execute' && cmd.command !== 'abort') || !Array.isArray(cmd.params)) {
        throw new ProtocolError('bad command frame')
      }
      return raw as ServerFrame
    }
    case 2:
    case 3:
      if (typeof raw[1] !== 'number') throw new ProtocolError('bad reply frame')
      return raw as ServerFrame
    case 4:
      if (typeof raw[1] !== 'string') throw new ProtocolError('bad ack frame')
      return raw as ServerFrame
    default:
      throw new ProtocolError(`unknown server frame kind ${raw[0]}`)
  }
}

export type { Json }
