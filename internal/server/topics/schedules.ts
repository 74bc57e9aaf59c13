/**
 * `workspaces/<ws>/schedules` (our improvement, issue 11): the workspace's schedules with their
 * next due time and the cron in words, as `coflux schedules list -o json` prints them. A
 * `schedules` change event (created, paused, resumed, deleted, fired, re-registered) refreshes it;
 * the web UI's Schedules page (web-ui/views/schedules.tsx) follows it live.
 */
import type { ScheduleEntry, SchedulesTopic } from '../../protocol/schedules.ts'
import type { ScheduleRecord, WorkspaceRecord } from '../../store/index.ts'
import type { Project } from '../project.ts'

export function schedulesTopic(project: Project, ws: WorkspaceRecord): SchedulesTopic {
  return Object.fromEntries(project.store.schedules.list(ws.id).map((s) => [s.externalId, scheduleEntry(project, s)]))
}

export function scheduleEntry(project: Project, s: ScheduleRecord): ScheduleEntry {
  const { nextFireAt, description } = project.orchestrator.schedules.describe(s)
  return {
    id: s.externalId,
    module: s.module,
    target: s.target,
    source: s.source,
    cron: s.cron,
    timezone: s.timezone,
    description,
    arguments: s.arguments.map((text) => ['json', text]),
    catchUp: s.catchUp,
    overlap: s.overlap,
    paused: s.paused,
    nextFireAt,
    lastFire:
      s.lastDueAt === null || s.lastOutcome === null
        ? null
        : { dueAt: s.lastDueAt, outcome: s.lastOutcome, runId: s.lastOutcome === 'started' ? s.lastRunId : null, error: s.lastError },
    createdAt: s.createdAt,
    createdBy: s.createdBy === null ? null : project.store.principals.get(s.createdBy),
  }
}
