/**
 * What a bound executor says, handled for its execution (executor-protocol.md §3, §5, §6):
 * notifications and requests are processed one after another, in the order received, so a
 * `register_group` always reaches the server before the `submit_execution` that uses it.
 * A request only holds the queue until it has been forwarded; its reply is awaited aside.
 */
import type { ConsolaInstance } from 'consola'
import type { BlobStores } from '../client/index.ts'
import { LOG_LEVEL } from '../protocol/executor.ts'
import { toNumber, type Json } from '../protocol/json.ts'
import type { NewLogEntry } from '../protocol/logs.ts'
import { parseTraceback, type LogValue } from '../protocol/values.ts'
import type { WorkerFrame } from '../protocol/worker.ts'
import type { Batcher } from './batcher.ts'
import { RequestCancelledError, type WorkerConnection } from './connection.ts'
import type { ExecutorEvent } from './executor.ts'
import { handleRequest, RequestFailure, type RequestScope } from './executor-requests.ts'
import type { MetricRecorder, MetricSource } from './metrics.ts'
import { NULL_LOG_VALUE, type ValueConverter } from './value-converter.ts'

export const NON_FINITE_MESSAGE = 'value contains NaN or Infinity, which JSON cannot represent'
const MAX_TEMPLATE_BYTES = 1024 * 1024

/** Shared services the handlers use. */
export interface MessageServices {
  connection: WorkerConnection
  values: ValueConverter
  blobs: BlobStores
  logs: Batcher<NewLogEntry>
  metrics: MetricRecorder
  log: ConsolaInstance
}

/** The execution the messages belong to, as the handlers need to see it. */
export interface MessageTarget extends MetricSource {
  readonly workingDir: string
  /** aborted or timed out: nothing more is forwarded, no request is answered */
  readonly isCut: boolean
  /** writes a response to the executor (dropped once the execution is cut) */
  respond(message: unknown): void
  /** the completion message arrived: `frame` is the completion to deliver, or an internal error text */
  complete(outcome: { frame: Omit<WorkerFrame, 'id'> } | { internalError: string }): void
  suspended(): void
}

export class ExecutionMessages {
  #chain: Promise<void> = Promise.resolve()
  readonly #cancels = new Set<() => void>()

  constructor(
    readonly services: MessageServices,
    readonly target: MessageTarget,
  ) {}

  /** Resolves when every message received so far has been handled (or forwarded). */
  idle(): Promise<void> {
    return this.#chain
  }

  /** Withdraws outstanding requests: they are never answered (§6, §10.1). */
  cancelRequests(): void {
    for (const cancel of [...this.#cancels]) cancel()
  }

  /** A stdout line that is not protocol, or a stderr line: level 1 / 3 logs (§3, §9.2). */
  output(level: 1 | 3, text: string): void {
    const timestamp = Date.now()
    this.#enqueue(async () => this.#addLog(timestamp, level, text, {}))
  }

  event(event: ExecutorEvent, onCompletionMessage: () => void): void {
    if (event.kind === 'other') return this.output(LOG_LEVEL.stdout, event.text)
    const id = event.params.execution_id
    const isMismatch = id !== undefined && id !== this.target.executionId
    if (event.kind === 'request') {
      if (isMismatch) return this.#error(event.id, 'execution_mismatch', 'execution_id does not match the bound execution')
      if (event.lenient) return this.#error(event.id, 'parse_error', NON_FINITE_MESSAGE)
      return this.#request(event.id, event.method, event.params)
    }
    if (isMismatch) {
      this.services.log.warn(`${this.target.executionId}: dropping ${event.method} for execution ${String(id)}`)
      return
    }
    const receivedAt = Date.now()
    const params = event.params
    switch (event.method) {
      case 'execution_result':
      case 'execution_error':
        onCompletionMessage()
        return this.#enqueue(() => this.#completion(event.method, params, event.lenient === true))
      case 'log':
        return this.#enqueue(() => this.#log(receivedAt, params, event.lenient === true))
      case 'metric':
        return this.#enqueue(async () => this.#metric(receivedAt, params))
      case 'define_metric':
        return this.#enqueue(async () => this.#defineMetric(params))
      case 'register_group':
        return this.#enqueue(async () =>
          this.#forward({ request: 'register_group', params: [this.target.executionId, toNumber(params.group_id) ?? 0, params.name ?? null] }),
        )
      default:
        this.services.log.debug(`${this.target.executionId}: ignoring unknown notification ${event.method}`)
    }
  }

  #enqueue(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch((err: unknown) => {
      this.services.log.warn(`${this.target.executionId}: ${(err as Error).message}`)
    })
  }

  #forward(frame: Omit<WorkerFrame, 'id'>): void {
    if (!this.target.isCut) this.services.connection.send(frame)
  }

  async #completion(method: string, params: Record<string, Json>, isLenient: boolean): Promise<void> {
    const id = this.target.executionId
    if (method === 'execution_error') {
      const error = (params.error ?? {}) as Record<string, Json>
      const payload: unknown[] = [
        typeof error.type === 'string' ? error.type : 'builtins.Exception',
        typeof error.message === 'string' ? error.message : '',
        parseTraceback(typeof error.traceback === 'string' ? error.traceback : ''),
      ]
      if (typeof error.retryable === 'boolean') payload.push(error.retryable)
      return this.target.complete({ frame: { request: 'put_error', params: [id, payload] } })
    }
    if (isLenient) return this.target.complete({ internalError: NON_FINITE_MESSAGE })
    try {
      const result = params.result == null ? { type: 'inline', format: 'json', value: null } : params.result
      const value = await this.services.values.toServer(result)
      this.target.complete({ frame: { request: 'put_result', params: [id, value] } })
    } catch (err) {
      this.target.complete({ internalError: (err as Error).message })
    }
  }

  async #log(timestamp: number, params: Record<string, Json>, isLenient: boolean): Promise<void> {
    if (isLenient) this.services.log.warn(`${this.target.executionId}: ${NON_FINITE_MESSAGE} (log values replaced by null)`)
    const level = toNumber(params.level)
    const values: Record<string, LogValue> = {}
    const raw = params.values
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [name, value] of Object.entries(raw)) {
        try {
          values[name] = await this.services.values.toLog(value)
        } catch (err) {
          this.services.log.warn(`${this.target.executionId}: log value '${name}' could not be converted: ${(err as Error).message}`)
          values[name] = NULL_LOG_VALUE
        }
      }
    }
    const template = typeof params.template === 'string' ? params.template : null
    this.#addLog(timestamp, level !== undefined && level >= 0 && level <= 5 ? level : LOG_LEVEL.info, template, values)
  }

  #addLog(timestamp: number, level: number, template: string | null, values: Record<string, LogValue>): void {
    const { runId, executionId, workspaceId } = this.target
    this.services.logs.add({ runId, executionId, workspaceId, timestamp, level, template: template && truncateTemplate(template), values })
  }

  #metric(receivedAt: number, params: Record<string, Json>): void {
    const value = toNumber(params.value)
    const key = params.key
    if (typeof key !== 'string' || value === undefined || !Number.isFinite(value)) {
      this.services.log.warn(`${this.target.executionId}: dropping malformed metric point`)
      return
    }
    const at = params.at == null ? undefined : toNumber(params.at)
    this.services.metrics.record(this.target, key, value, at, receivedAt)
  }

  #defineMetric(params: Record<string, Json>): void {
    if (typeof params.key !== 'string') return
    const definition = (params.definition ?? {}) as Record<string, Json>
    this.services.metrics.define(this.target, params.key, toNumber(definition.throttle))
    this.#forward({ request: 'define_metric', params: [this.target.executionId, params.key, definition] })
  }

  #request(requestId: number, method: string, params: Record<string, Json>): void {
    this.#enqueue(() => {
      let onForwarded!: () => void
      const forwarded = new Promise<void>((resolve) => (onForwarded = resolve))
      const handling = handleRequest(this.#scope(requestId, onForwarded), method, params).then(
        (result) => this.target.respond({ id: requestId, result: result ?? null }),
        (err: unknown) => {
          if (err instanceof RequestCancelledError) return
          const failure = err instanceof RequestFailure ? err : new RequestFailure('internal', (err as Error).message)
          this.#error(requestId, failure.code, failure.message)
        },
      )
      return Promise.race([forwarded, handling])
    })
  }

  #scope(requestId: number, onForwarded: () => void): RequestScope {
    const { connection, values, blobs } = this.services
    const target = this.target
    const key = `${target.executionId}#${requestId}`
    return {
      executionId: target.executionId,
      workingDir: target.workingDir,
      values,
      blobs,
      forward: (request, build) => {
        if (target.isCut) return Promise.reject(new RequestCancelledError('execution ended'))
        const { reply, cancel } = connection.request(() => ({ request, params: build(), key }))
        this.#cancels.add(cancel)
        onForwarded()
        return reply.finally(() => this.#cancels.delete(cancel))
      },
      suspended: () => target.suspended(),
    }
  }

  #error(requestId: number, code: string, message: string): void {
    this.target.respond({ id: requestId, result: null, error: { code, message } })
  }
}

/** Templates over 1 MiB are cut there and marked (§3). */
export function truncateTemplate(template: string): string {
  if (template.length <= MAX_TEMPLATE_BYTES / 3) return template
  const bytes = Buffer.from(template)
  if (bytes.length <= MAX_TEMPLATE_BYTES) return template
  return bytes.subarray(0, MAX_TEMPLATE_BYTES).toString().replace(/\uFFFD$/, '') + '… [truncated]'
}
