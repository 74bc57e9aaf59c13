/**
 * One worker session at work: the connection, the executor pool, the executions held, their
 * deliveries, heartbeats, and the log and metric batchers. The supervisor creates one per
 * (re)start; a `--watch` reload or shutdown drains it and closes it.
 */
import type { ConsolaInstance } from 'consola'
import { tmpdir } from 'node:os'
import type { ApiClient, BlobStores } from '../client/index.ts'
import type { DeclaredTargets } from '../protocol/executor.ts'
import type { NewLogEntry } from '../protocol/logs.ts'
import type { NewMetricPoint } from '../protocol/metrics.ts'
import type { ExecuteParams } from '../protocol/worker.ts'
import { Batcher, httpPoster } from './batcher.ts'
import { WorkerConnection, WorkerFatalError, type ServerCommand } from './connection.ts'
import { Deliveries } from './deliveries.ts'
import { ExecutionRunner } from './execution-runner.ts'
import { ExecutionTable, HEARTBEAT_INTERVAL_MS } from './executions.ts'
import { ExecutorStartError } from './executor.ts'
import { MetricRecorder } from './metrics.ts'
import { ExecutorPool, type ExecutorLauncher } from './executor-pool.ts'
import { ValueConverter } from './value-converter.ts'
import { WorkingDirectories } from './working-dirs.ts'

export interface BatchSettings {
  batchSize: number
  flushIntervalMs: number
  url?: string
  token?: string
}

export interface WorkerSessionOptions {
  client: ApiClient
  workspaceId: string
  sessionToken: string
  targets: DeclaredTargets
  /** executions running at once */
  concurrency: number
  /** executions blocked in a wait at once; the server enforces it, the worker declares it */
  maxWaiting: number
  launcher: ExecutorLauncher
  blobs: BlobStores
  /** `<tmp>/coflux-worker-<random>/blobs` */
  blobCacheDir: string
  blobThreshold: number
  logs: BatchSettings
  metrics: BatchSettings
  log: ConsolaInstance
  heartbeatIntervalMs?: number
  pingIntervalMs?: number
  reconnectBackoff?: { firstMs: number; maxMs: number }
  /** parent of per-execution working directories (tests) */
  tempRoot?: string
  /** a private directory in which executions' transfer directories are named (`<tmp>/coflux-worker-<random>`) */
  transferRoot: string
}

export class WorkerSession {
  readonly connection: WorkerConnection
  readonly executorPool: ExecutorPool
  readonly table = new ExecutionTable<ExecutionRunner>()
  readonly deliveries: Deliveries
  readonly logs: Batcher<NewLogEntry>
  readonly metricBatcher: Batcher<NewMetricPoint>
  readonly metrics: MetricRecorder
  /** resolves with the reason the worker cannot go on (refused session, incompatible adapter) */
  readonly fatal: Promise<Error>
  #onFatal!: (error: Error) => void
  #isDraining = false
  readonly #values: ValueConverter
  readonly #workingDirs: WorkingDirectories

  constructor(readonly options: WorkerSessionOptions) {
    const { client, log } = options
    this.fatal = new Promise((resolve) => (this.#onFatal = resolve))
    this.connection = new WorkerConnection({
      client,
      workspaceId: options.workspaceId,
      sessionToken: options.sessionToken,
      log,
      pingIntervalMs: options.pingIntervalMs,
      backoff: options.reconnectBackoff,
      handlers: {
        session: (ids) => this.#onSession(ids),
        flushed: () => {
          this.deliveries.resend()
          // after the re-sent completions: a heartbeat that omits a finished execution whose result
          // has not reached the server yet would make the server record it as abandoned
          this.connection.sendNow(this.table.heartbeat())
        },
        command: (command) => this.#onCommand(command),
        ack: (id, kind) => this.deliveries.ack(id, kind),
        fatal: (error: WorkerFatalError) => this.#onFatal(error),
      },
    })
    this.deliveries = new Deliveries(this.connection)
    this.executorPool = new ExecutorPool(options.launcher, log, {
      concurrency: options.concurrency,
      onFatal: (error: ExecutorStartError) => this.#onFatal(error),
    })
    const token = options.sessionToken
    this.logs = new Batcher<NewLogEntry>({
      name: 'logs',
      batchSize: options.logs.batchSize,
      flushIntervalMs: options.logs.flushIntervalMs,
      log,
      post: httpPoster({ client, path: '/logs', field: 'messages', url: options.logs.url, token: options.logs.token ?? token }),
    })
    this.metricBatcher = new Batcher<NewMetricPoint>({
      name: 'metrics',
      batchSize: options.metrics.batchSize,
      flushIntervalMs: options.metrics.flushIntervalMs,
      log,
      post: httpPoster({ client, path: '/metrics', field: 'entries', url: options.metrics.url, token: options.metrics.token ?? token }),
    })
    this.metrics = new MetricRecorder(this.metricBatcher, log)
    this.#values = new ValueConverter(options.blobs, options.blobCacheDir, options.blobThreshold)
    // enough for every running and waiting execution to end at once and leave its directory
    this.#workingDirs = new WorkingDirectories({ root: options.tempRoot ?? tmpdir(), keep: options.transferRoot, capacity: Math.max(8, 2 * options.concurrency) })
  }

  get isDraining(): boolean {
    return this.#isDraining
  }

  /** Spawns the warm executors and connects (neither waits for the other). */
  start(): void {
    this.executorPool.start()
    this.connection.start()
    this.table.startHeartbeats((frame) => this.connection.sendNow(frame), this.options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS)
  }

  /** First signal or reload: tell the server, stop refilling; running executions carry on. */
  drain(): void {
    if (this.#isDraining) return
    this.#isDraining = true
    this.connection.send({ request: 'session_draining', params: [] })
    this.executorPool.drain()
  }

  /** Resolves when every execution has ended and its deliveries were acknowledged. */
  async whenDrained(): Promise<void> {
    await this.table.whenEmpty()
    await this.deliveries.whenSettled()
  }

  /** Forced shutdown: kill what runs; each reports its termination without a result (§10.3). */
  stopExecutions(): void {
    for (const runner of this.table.values()) runner.stop()
  }

  /** Sends what can still be sent (bounded by `deadline`), then closes everything. */
  async close(deadline = Date.now() + 5_000): Promise<void> {
    this.drain()
    this.stopExecutions()
    await Promise.race([this.table.whenEmpty(), Bun.sleep(Math.max(0, deadline - Date.now()))])
    // after a fatal refusal nothing can be delivered any more
    if (!this.connection.isClosed) {
      await Promise.race([this.deliveries.whenSettled(), Bun.sleep(Math.max(0, deadline - Date.now()))])
    }
    this.metrics.finishAll()
    await Promise.all([this.logs.flush(deadline), this.metricBatcher.flush(deadline)])
    this.table.stopHeartbeats()
    await this.executorPool.stop()
    this.#workingDirs.close()
    await this.connection.close()
  }

  #onSession(executionIds: string[]): void {
    this.deliveries.retain(executionIds)
    const listed = new Set(executionIds)
    for (const runner of this.table.values()) {
      if (listed.has(runner.id)) continue
      this.options.log.warn(`${runner.id}: no longer assigned to this session; stopping it`)
      runner.forget()
    }
    const { targets, concurrency, maxWaiting } = this.options
    this.connection.sendNow({ request: 'declare_targets', params: [targets, concurrency, maxWaiting] })
    if (this.#isDraining) this.connection.sendNow({ request: 'session_draining', params: [] })
  }

  #onCommand(command: ServerCommand): void {
    switch (command.command) {
      case 'execute':
        return this.#execute(command.params)
      case 'abort': {
        const runner = this.table.get(command.params[0])
        if (runner) runner.abort()
        return
      }
      default: {
        const never: never = command
        this.options.log.debug(`unknown command ${JSON.stringify(never)}`)
      }
    }
  }

  #execute(params: ExecuteParams): void {
    const id = params[0]
    // the server may re-send an execute it believes lost (semantics.md §20.6)
    if (this.table.has(id) || this.deliveries.has(id)) return
    const { log, blobs, transferRoot } = this.options
    const runner = new ExecutionRunner(
      {
        connection: this.connection,
        deliveries: this.deliveries,
        executorPool: this.executorPool,
        values: this.#values,
        blobs,
        logs: this.logs,
        metrics: this.metrics,
        log,
        workingDirs: this.#workingDirs,
        transferRoot,
      },
      params,
    )
    this.table.add(runner)
    void runner.run().finally(() => this.table.remove(id))
  }
}
