/**
 * Pool topics (http-api.md §11.3): `workspaces/<ws>/pools` (the pools, secrets redacted) and
 * `workspaces/<ws>/pools/<name>` (one pool and the workers it launched, cli.md §8.10).
 */
import type { LiveSession } from '../../orchestrator/index.ts'
import type { PoolTopic, PoolWorker } from '../../protocol/api.ts'
import type { WorkerRecord, WorkspaceRecord } from '../../store/index.ts'
import type { Project } from '../project.ts'
import { poolTopicView } from '../pools/view.ts'

// TODO(#6, item 5): `pool` stays the view's loose record until the store's LauncherConfig and
// api.ts's Launcher are one type; everything else here has the shape of protocol/api.ts.
type PoolView = ReturnType<typeof poolTopicView>

export function poolsTopic(project: Project, ws: WorkspaceRecord): Record<string, PoolView> {
  return Object.fromEntries(project.store.pools.list(ws.id).map((p) => [p.name, poolTopicView(p)]))
}

/** null (404) for an unknown pool. */
export function poolTopic(project: Project, ws: WorkspaceRecord, name: string): Omit<PoolTopic, 'pool'> & { pool: PoolView } | null {
  const pool = project.store.pools.getByName(ws.id, name)
  if (!pool) return null
  const workers: Record<string, PoolWorker> = {}
  for (const w of project.store.workers.ofPool(pool.id)) workers[w.externalId] = workerView(project, w, project.orchestrator.sessionOfWorker(w.id))
  return { pool: poolTopicView(pool), workers }
}

function workerView(project: Project, w: WorkerRecord, session: LiveSession | undefined): PoolWorker {
  // the in-memory record is the newest (the store is written first, but this avoids a re-read)
  const record = project.orchestrator.poolWorker(w.id)?.record ?? w
  return {
    startingAt: record.startingAt,
    startedAt: record.startedAt,
    startError: record.startError,
    stoppingAt: record.stoppingAt,
    stoppedAt: record.stoppedAt,
    stopError: record.stopError,
    deactivatedAt: record.deactivatedAt,
    error: record.error,
    logs: record.logs,
    state: record.state,
    sessionId: session?.record.externalId ?? null,
    executions: project.store.workers.executionCount(record.id),
    connected: session?.isConnected ?? false,
  }
}
