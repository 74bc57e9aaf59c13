/**
 * Pool topics (http-api.md §11.3): `workspaces/<ws>/pools` (the pools, secrets redacted) and
 * `workspaces/<ws>/pools/<name>` (one pool and the workers it launched, cli.md §8.10).
 */
import type { LiveSession } from '../../orchestrator/index.ts'
import type { Pool, PoolTopic, PoolWorker } from '../../protocol/api.ts'
import type { WorkerRecord, WorkspaceRecord } from '../../store/index.ts'
import type { Project } from '../project.ts'
import { poolTopicView } from '../pools/view.ts'

export function poolsTopic(project: Project, ws: WorkspaceRecord): Record<string, Pool> {
  return Object.fromEntries(project.store.pools.list(ws.id).map((p) => [p.name, poolTopicView(p)]))
}

/** null (404) for an unknown pool. */
export function poolTopic(project: Project, ws: WorkspaceRecord, name: string): PoolTopic | null {
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
