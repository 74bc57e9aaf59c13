/**
 * The pools step of a scheduler pass (semantics.md §5.2 item 5, §21): launch workers for
 * executions that found no eligible session, poll launched workers, drain idle ones and stop
 * drained ones. Launchers are called asynchronously; their answers are applied when they come.
 */
import type { PoolRecord } from '../store/index.ts'
import type { Core } from './core.ts'
import type { LiveSession } from './live-session.ts'
import { poolServes } from './pool-matching.ts'
import type { PoolWorker } from './pool-registry.ts'
import type { QueuedExecution } from './queue.ts'
import { createSession, expireSession } from './sessions.ts'

/** A pool that launched less than this long ago launches nothing (§21.2). */
const LAUNCH_INTERVAL_MS = 10_000
/** An active worker holding nothing this long is drained (§21.5). */
const IDLE_DRAIN_MS = 5_000
const POLL_CONNECTED_MS = 30_000
const POLL_DISCONNECTED_MS = 5_000

/** Runs the pools step; `unrouted` are this pass's due, dependency-free executions without a session. */
export function runPoolStep(o: Core, unrouted: QueuedExecution[]): void {
  if (o.pools.isClosed || o.pools.isIdle) return
  const now = o.now()
  if (unrouted.length > 0) launchForExecutions(o, unrouted, now)
  for (const worker of o.pools.workers()) manageWorker(o, worker, now)
}

/** §20.3: a pool worker takes executions only while active and its pool is enabled. */
export function isPoolWorkerAvailable(o: Core, session: LiveSession): boolean {
  if (session.record.workerId === null) return true
  const worker = o.pools.workerOfSession(session.record.workerId)
  if (!worker || worker.record.state !== 'active' || worker.record.stoppingAt !== null) return false
  const pool = o.pools.pool(worker.record.poolId)
  return !!pool && !pool.disabled
}

/** Pools able to launch a worker for the execution, in name order. */
export function poolsServing(o: Core, live: QueuedExecution): PoolRecord[] {
  return o.pools.poolsOf(live.exec.workspaceId).filter((p) => poolServes(p, live.step.module, live.requires))
}

/** §21.2: one random candidate pool per execution, de-duplicated, then the skip rules. */
function launchForExecutions(o: Core, unrouted: QueuedExecution[], now: number): void {
  if (!o.launcher) return
  const chosen = new Map<number, PoolRecord>()
  for (const live of unrouted) {
    const candidates = poolsServing(o, live)
    if (candidates.length === 0) continue
    const pool = candidates[Math.floor(Math.random() * candidates.length)]!
    chosen.set(pool.id, pool)
  }
  for (const pool of chosen.values()) if (!isPoolStarting(o, pool, now)) launchWorker(o, pool, now)
}

/** A worker waiting to activate, one activated but not declaring targets yet, or a recent launch. */
function isPoolStarting(o: Core, pool: PoolRecord, now: number): boolean {
  if (now - o.pools.lastLaunchAt(pool.id) < LAUNCH_INTERVAL_MS) return true
  return o.pools.workersOf(pool.id).some((w) => {
    if (w.launching) return true
    const session = w.sessionId !== null ? o.sessions.get(w.sessionId) : undefined
    return !!session && (session.record.activatedAt === null || session.targets === null)
  })
}

function launchWorker(o: Core, pool: PoolRecord, now: number): void {
  const launcher = o.launcher!
  const workspace = o.store.workspaces.get(pool.workspaceId)
  if (!workspace || !pool.launcher) return
  const record = o.store.workers.create(pool.id, now)
  const { session, token } = createSession(o, {
    workspaceId: pool.workspaceId,
    provides: pool.provides,
    accepts: pool.accepts,
    workerId: record.id,
  })
  const worker = o.pools.launching(record, pool.workspaceId, session.id, now)
  changed(o, worker)
  const request = {
    workerId: record.externalId,
    poolName: pool.name,
    workspaceName: workspace.name,
    sessionToken: token,
    modules: pool.modules,
    launcher: pool.launcher,
  }
  // a launcher that throws synchronously must fail the launch, not the scheduler pass
  Promise.resolve()
    .then(() => launcher.launch(request))
    .then(
      (handle) => {
        if (o.pools.isClosed) return
        o.pools.launched(record.id, o.store.workers.markStarted(record.id, handle, o.now()), o.now())
        changed(o, worker)
        o.wake()
      },
      (err: unknown) => {
        if (o.pools.isClosed) return
        o.pools.launched(record.id, o.store.workers.markStartFailed(record.id, errorText(err), o.now()), o.now())
        deactivate(o, o.pools.worker(record.id) ?? worker, null, null)
      },
    )
}

/** Poll, then: session gone → stop once; idle → drain; drained and empty → stop. */
function manageWorker(o: Core, worker: PoolWorker, now: number): void {
  if (worker.launching) return
  const session = worker.sessionId !== null ? o.sessions.get(worker.sessionId) : undefined
  if (worker.record.startedAt === null) {
    // the launch result was lost with a restart and the session has expired since (§20.1)
    if (!session) deactivate(o, worker, 'server_restarted', null)
    return
  }
  pollIfDue(o, worker, session, now)
  if (worker.record.stoppingAt !== null) return
  if (!session) return stopWorker(o, worker, now)
  const idleSince = o.pools.noteLoad(worker.record.id, session.load > 0 || session.targets === null, now)
  if (worker.record.state === 'active' && idleSince !== null && now - idleSince >= IDLE_DRAIN_MS) {
    o.pools.updated(o.store.workers.setState(worker.record.id, 'draining'))
    changed(o, worker)
  }
  const current = o.pools.worker(worker.record.id) ?? worker
  if (current.record.state === 'draining' && session.load === 0) stopWorker(o, current, now)
}

function pollIfDue(o: Core, worker: PoolWorker, session: LiveSession | undefined, now: number): void {
  const launcher = o.launcher
  const handle = worker.record.handle
  if (!launcher || !handle || worker.polling) return
  if (now - worker.lastPolledAt < (session?.channel ? POLL_CONNECTED_MS : POLL_DISCONNECTED_MS)) return
  o.pools.pollStarted(worker.record.id, now)
  Promise.resolve()
    .then(() => launcher.poll({ workerId: worker.record.externalId, handle }))
    .then(
      (result) => {
        o.pools.pollEnded(worker.record.id)
        if (o.pools.isClosed || !o.pools.worker(worker.record.id)) return
        if (result.status === 'lost') deactivate(o, worker, 'process_lost', null)
        else if (result.status === 'exited') {
          // a worker asked to stop may exit non-zero on the way out: that is not a failure
          const failed = result.exitCode !== 0 && o.pools.worker(worker.record.id)?.record.stoppingAt === null
          deactivate(o, worker, failed ? `exit_code:${result.exitCode}` : null, failed ? result.logs : null)
        }
      },
      () => {
        // a failing poll is retried at the next interval
        o.pools.pollEnded(worker.record.id)
      },
    )
}

/** Stops the worker once; a stop error is recorded and treated as stopped (§21.5). */
function stopWorker(o: Core, worker: PoolWorker, now: number): void {
  const launcher = o.launcher
  const handle = worker.record.handle
  if (!launcher || !handle || worker.record.stoppingAt !== null) return
  o.pools.updated(o.store.workers.markStopping(worker.record.id, now))
  changed(o, worker)
  const target = { workerId: worker.record.externalId, handle }
  Promise.resolve()
    .then(() => launcher.stop(target))
    .then(
      () => stopped(o, worker, null),
      (err: unknown) => stopped(o, worker, errorText(err)),
    )
}

function stopped(o: Core, worker: PoolWorker, error: string | null): void {
  if (o.pools.isClosed) return
  o.pools.updated(o.store.workers.markStopped(worker.record.id, error, o.now()))
  changed(o, worker)
}

/** The worker is gone for good: forget it and remove its session (nothing will reconnect). */
function deactivate(o: Core, worker: PoolWorker, error: string | null, logs: string | null): void {
  if (worker.record.deactivatedAt === null) o.store.workers.deactivate(worker.record.id, error, logs, o.now())
  o.pools.remove(worker.record.id)
  if (worker.sessionId !== null && o.sessions.has(worker.sessionId)) expireSession(o, worker.sessionId)
  changed(o, worker)
  o.wake()
}

function changed(o: Core, worker: PoolWorker): void {
  o.emit({ kind: 'pools', workspaceId: worker.workspaceId })
  o.emit({ kind: 'sessions', workspaceId: worker.workspaceId })
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text
}
