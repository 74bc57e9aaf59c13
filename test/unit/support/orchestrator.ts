/**
 * An orchestrator on a temporary SQLite file with a settable clock, and scripted workers that
 * send frames the way a real worker would and record what the server sends back. For unit tests
 * of the orchestrator's rules; no sockets, no processes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  connectSession,
  createSession,
  declareTargets,
  handleWorkerFrame,
  LiveSession,
  Orchestrator,
  submitWorkflow,
  type WorkerChannel,
  type WorkflowSubmission,
} from '../../../internal/orchestrator/index.ts'
import { RawJson } from '../../../internal/protocol/json.ts'
import type { DeclaredTargets } from '../../../internal/protocol/executor.ts'
import type { ServerFrame, WorkerFrame } from '../../../internal/protocol/worker.ts'
import { OrchestrationStore, type WorkspaceRecord } from '../../../internal/store/index.ts'
import { workflowSubmission } from './submission.ts'

/** Polls `check` every few milliseconds until it holds (never a fixed sleep). */
export async function until(check: () => unknown, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await Bun.sleep(2)
  }
}

/** Lets the passes scheduled with `wake()` (one per event-loop turn) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
}

export const value = (data: unknown, refs: unknown[] = []) => ['raw', data, refs]

export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'coflux-orchestrator-'))
  readonly store = new OrchestrationStore(join(this.dir, 'orchestration.sqlite'))
  /** the orchestrator's clock; timers still run in real time */
  clock = 1_700_000_000_000
  readonly o = new Orchestrator(this.store, { now: () => this.clock, backstopGraceMs: 0 })
  readonly ws: WorkspaceRecord

  constructor() {
    this.o.start()
    this.ws = this.store.workspaces.create('main', null, this.clock)
  }

  /** Starts a run of `app/main` (or what `overrides` say); returns its first execution's id. */
  submit(overrides: Partial<WorkflowSubmission> = {}): string {
    return submitWorkflow(this.o, workflowSubmission(this.ws.id, { arguments: [new RawJson('1')], ...overrides })).executionId
  }

  /** A connected worker serving `targets` (default: workflow `app/main`, tasks `app/child`, `app/grandchild`). */
  worker(options: { targets?: DeclaredTargets; concurrency?: number; maxWaiting?: number; timeouts?: { activation?: number; reconnection?: number } } = {}): ScriptedWorker {
    let session: LiveSession
    if (options.timeouts) {
      // createSession has the defaults (10 min, 30 s); a test that waits for expiry needs shorter ones
      const { session: record } = this.store.sessions.create(
        { workspaceId: this.ws.id, provides: {}, accepts: {}, activationTimeout: options.timeouts.activation, reconnectionTimeout: options.timeouts.reconnection },
        this.clock,
      )
      session = new LiveSession(record)
      this.o.sessions.add(session)
    } else {
      session = createSession(this.o, { workspaceId: this.ws.id, provides: {}, accepts: {} }).session
    }
    const worker = new ScriptedWorker(this, session)
    worker.connect()
    declareTargets(this.o, session, options.targets ?? { app: { workflow: ['main'], task: ['child', 'grandchild'] } }, options.concurrency ?? 10, options.maxWaiting)
    return worker
  }

  /** The execution record of an external id. */
  id(externalId: string): number {
    return this.o.executionByExternalId(externalId)!.id
  }

  result(externalId: string) {
    return this.store.results.get(this.id(externalId))
  }

  /** The result type of each execution of the step of `externalId`, in attempt order (null: none yet). */
  attempts(externalId: string): (string | null)[] {
    const exec = this.o.executionByExternalId(externalId)!
    return this.store.runs
      .executionsOfStep(exec.stepId)
      .sort((a, b) => a.attempt - b.attempt)
      .map((e) => this.store.results.get(e.id)?.type ?? null)
  }

  /** The execution id of attempt `n` of the step of `externalId`. */
  attempt(externalId: string, n: number): string {
    const exec = this.o.executionByExternalId(externalId)!
    return this.store.runs.executionsOfStep(exec.stepId).find((e) => e.attempt === n)!.externalId
  }

  close(): void {
    this.o.close()
    this.store.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A worker as the server sees it: frames in, frames out. */
export class ScriptedWorker {
  readonly sent: ServerFrame[] = []
  readonly closed: [number, string][] = []
  readonly replies = new Map<number, unknown>()
  #nextId = 1
  readonly channel: WorkerChannel

  constructor(
    readonly h: Harness,
    readonly session: LiveSession,
  ) {
    this.channel = { send: (f) => this.sent.push(f), close: (code, reason) => this.closed.push([code, reason]), supportsAcks: true }
  }

  connect(): void {
    connectSession(this.h.o, this.session, this.channel)
  }

  /** A request with an id (and idempotency key); returns the id its reply is filed under. */
  request(request: WorkerFrame['request'], params: unknown[]): number {
    const id = this.#nextId++
    this.#handle({ request, params, id, key: `S${this.session.id}#${id}` })
    return id
  }

  notify(request: WorkerFrame['request'], params: unknown[]): void {
    this.#handle({ request, params })
  }

  /** `submit` from `parent`; returns the new execution's id. */
  call(
    parent: string,
    target: string,
    options: {
      type?: 'task' | 'workflow'
      args?: unknown[]
      retries?: number
      timeout?: number
      waitFor?: number[]
      priority?: number
      concurrency?: [number, string]
    } = {},
  ): string {
    const retries = options.retries ? { limit: options.retries, backoff_min: 0, backoff_max: 0 } : null
    const id = this.request('submit', [
      'app',
      target,
      options.type ?? 'task',
      options.args ?? [value(1)],
      parent,
      null,
      options.waitFor ?? null,
      null,
      null,
      null,
      0,
      retries,
      false,
      null,
      options.timeout ?? null,
      null,
      options.priority ?? null,
      options.concurrency ?? null,
    ])
    const reply = this.replies.get(id)
    if (!Array.isArray(reply)) throw new Error(`submit refused: ${JSON.stringify(reply)}`)
    return reply[0] as string
  }

  /** `select` from `caller`; returns the request id (its reply, once any, is in `replies`). */
  select(caller: string, handles: ['execution' | 'input', string][], options: { timeout?: number | null; suspend?: boolean; cancelRemaining?: boolean } = {}): number {
    return this.request('select', [handles, caller, options.timeout ?? null, options.suspend ?? false, options.cancelRemaining ?? false])
  }

  heartbeat(executionIds: string[]): void {
    this.notify('record_heartbeats', [Object.fromEntries(executionIds.map((id) => [id, 1]))])
  }

  /** Waits until `execute` was received for the execution; returns its id. */
  async running(executionId: string): Promise<string> {
    await until(() => this.executed().includes(executionId))
    return executionId
  }

  /** Execution ids in the `execute` commands received, in order. */
  executed(): string[] {
    return this.#commands('execute')
  }

  aborted(): string[] {
    return this.#commands('abort')
  }

  #commands(command: 'execute' | 'abort'): string[] {
    return this.sent.flatMap((f) => (f[0] === 1 && f[1].command === command ? [f[1].params[0]] : []))
  }

  #handle(frame: WorkerFrame): void {
    handleWorkerFrame(
      this.h.o,
      { session: this.session, reply: (i, r) => this.replies.set(i, r), fail: (i, m) => this.replies.set(i, { failed: m }) },
      frame,
    )
  }
}
