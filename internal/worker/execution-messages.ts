/**
 * What a bound executor says, handled for its execution (executor-protocol.md §3, §5, §6):
 * notifications and requests are processed one after another, in the order received, so a
 * `register_group` always reaches the server before the `submit_execution` that uses it.
 * A request only holds the queue until it has been forwarded; its reply is awaited aside.
 * Each message is checked by `parseExecutorMessage`: a malformed request is answered with
 * `parse_error`, a malformed notification is dropped with a warning, and a malformed completion
 * fails the execution with an internal error (it cannot be acted on, and the execution must end).
 */
import type { ConsolaInstance } from 'consola'
import type { BlobStores } from '../client/index.ts'
import { ProtocolError } from '../protocol/errors.ts'
import {
  isExecutionNotificationMethod,
  parseExecutorMessage,
  type ExecutionNotification,
  type ExecutionNotificationParams,
  type ExecutorReply,
} from '../protocol/executor-messages.ts'
import { LOG_LEVEL } from '../protocol/executor.ts'
import { toNumber } from '../protocol/json.ts'
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
  respond(message: ExecutorReply): void
  /** the completion message arrived: `frame` is the completion to deliver, or an internal error text */
  complete(outcome: { frame: Omit<WorkerFrame, 'id'> } | { internalError: string }): void
  suspended(): void
  /** the executor is now blocked in a wait (one or more selects outstanding) */
  waitStarted(): void
  /** its last outstanding wait settled */
  waitEnded(): void
}

export class ExecutionMessages {
  #chain: Promise<void> = Promise.resolve()
  readonly #cancels = new Set<() => void>()
  /** outstanding blocking requests (an async target may wait on several at once) */
  #waits = 0

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
      return this.#request(event)
    }
    if (isMismatch) {
      this.services.log.warn(`${this.target.executionId}: dropping ${event.method} for execution ${String(id)}`)
      return
    }
    if (!isExecutionNotificationMethod(event.method)) {
      this.services.log.debug(`${this.target.executionId}: ignoring unknown notification ${event.method}`)
      return
    }
    const isCompletion = event.method === 'execution_result' || event.method === 'execution_error'
    if (isCompletion) onCompletionMessage()
    let message: ExecutionNotification
    try {
      // a notification line with one of the methods above parses to that notification
      message = parseExecutorMessage(event) as ExecutionNotification
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err
      if (isCompletion) return this.#enqueue(async () => this.target.complete({ internalError: `malformed ${event.method}: ${err.message}` }))
      this.services.log.warn(`${this.target.executionId}: dropping malformed ${event.method}: ${err.message}`)
      return
    }
    this.#notification(message, Date.now(), event.lenient === true)
  }

  /** One handler per notification; the `never` makes a notification without one a compile error. */
  #notification(message: ExecutionNotification, receivedAt: number, isLenient: boolean): void {
    switch (message.method) {
      case 'execution_result':
        return this.#enqueue(() => this.#result(message.params, isLenient))
      case 'execution_error':
        return this.#enqueue(async () => this.#failure(message.params))
      case 'log':
        return this.#enqueue(() => this.#log(receivedAt, message.params, isLenient))
      case 'metric':
        return this.#enqueue(async () => this.#metric(receivedAt, message.params))
      case 'define_metric':
        return this.#enqueue(async () => this.#defineMetric(message.params))
      case 'register_group': {
        const { group_id, name } = message.params
        return this.#enqueue(async () => this.#forward({ request: 'register_group', params: [this.target.executionId, group_id ?? 0, name ?? null] }))
      }
      default: {
        const unhandled: never = message
        throw new Error(`no handler for ${(unhandled as ExecutionNotification).method}`)
      }
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

  #failure(params: ExecutionNotificationParams['execution_error']): void {
    const error = params.error ?? {}
    const payload: unknown[] = [error.type ?? 'builtins.Exception', error.message ?? '', parseTraceback(error.traceback ?? '')]
    if (error.retryable !== undefined) payload.push(error.retryable)
    this.target.complete({ frame: { request: 'put_error', params: [this.target.executionId, payload] } })
  }

  async #result(params: ExecutionNotificationParams['execution_result'], isLenient: boolean): Promise<void> {
    if (isLenient) return this.target.complete({ internalError: NON_FINITE_MESSAGE })
    try {
      const value = await this.services.values.toServer(params.result ?? { type: 'inline', format: 'json', value: null })
      this.target.complete({ frame: { request: 'put_result', params: [this.target.executionId, value] } })
    } catch (err) {
      this.target.complete({ internalError: (err as Error).message })
    }
  }

  async #log(timestamp: number, params: ExecutionNotificationParams['log'], isLenient: boolean): Promise<void> {
    if (isLenient) this.services.log.warn(`${this.target.executionId}: ${NON_FINITE_MESSAGE} (log values replaced by null)`)
    const values: Record<string, LogValue> = {}
    for (const [name, value] of Object.entries(params.values ?? {})) {
      try {
        values[name] = await this.services.values.toLog(value)
      } catch (err) {
        this.services.log.warn(`${this.target.executionId}: log value '${name}' could not be converted: ${(err as Error).message}`)
        values[name] = NULL_LOG_VALUE
      }
    }
    const { level } = params
    this.#addLog(timestamp, level !== undefined && level >= 0 && level <= 5 ? level : LOG_LEVEL.info, params.template ?? null, values)
  }

  #addLog(timestamp: number, level: number, template: string | null, values: Record<string, LogValue>): void {
    const { runId, executionId, workspaceId } = this.target
    this.services.logs.add({ runId, executionId, workspaceId, timestamp, level, template: template && truncateTemplate(template), values })
  }

  #metric(receivedAt: number, params: ExecutionNotificationParams['metric']): void {
    const { key, value, at } = params
    if (!Number.isFinite(value)) {
      this.services.log.warn(`${this.target.executionId}: dropping malformed metric point`)
      return
    }
    this.services.metrics.record(this.target, key, value, at, receivedAt)
  }

  #defineMetric(params: ExecutionNotificationParams['define_metric']): void {
    const definition = params.definition ?? {}
    this.services.metrics.define(this.target, params.key, toNumber(definition.throttle))
    this.#forward({ request: 'define_metric', params: [this.target.executionId, params.key, definition] })
  }

  #request(line: Extract<ExecutorEvent, { kind: 'request' }>): void {
    const requestId = line.id
    this.#enqueue(() => {
      let onForwarded!: () => void
      const forwarded = new Promise<void>((resolve) => (onForwarded = resolve))
      const handling = handleRequest(this.#scope(requestId, onForwarded), line).then(
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
      blockedOn: (wait) => this.#blockedOn(wait),
    }
  }

  #blockedOn<T>(wait: Promise<T>): Promise<T> {
    if (this.#waits++ === 0) this.target.waitStarted()
    return wait.finally(() => {
      if (--this.#waits === 0) this.target.waitEnded()
    })
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
