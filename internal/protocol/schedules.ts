/**
 * Schedules on the wire (our improvement, issue 11): what a manifest declares
 * (`@cf.workflow(schedule=…)`), what `create_schedule` takes, and what the
 * `workspaces/<ws>/schedules` topic and `coflux schedules list -o json` show. The semantics are
 * in internal/orchestrator/schedule-runner.ts.
 */
import type { Principal } from './api.ts'

/** What happens to due times found late (the server was down): one run for them all, or none. */
export const SCHEDULE_CATCH_UP = ['once', 'skip'] as const
export type ScheduleCatchUp = (typeof SCHEDULE_CATCH_UP)[number]

/** What a due time does while the schedule's previous run is still active. */
export const SCHEDULE_OVERLAP = ['allow', 'skip', 'cancel'] as const
export type ScheduleOverlap = (typeof SCHEDULE_OVERLAP)[number]

/** Where a schedule comes from: a workflow's manifest, or `create_schedule` (`coflux schedules create`). */
export const SCHEDULE_SOURCES = ['manifest', 'api'] as const
export type ScheduleSource = (typeof SCHEDULE_SOURCES)[number]

/**
 * What became of the last due time:
 * - `started`: its run was started
 * - `skipped`: no run, the previous one was still active (overlap `skip`)
 * - `missed`:  no run, it was found late and catch-up is `skip`
 * - `failed`:  the run could not be started (`error` says why)
 */
export const SCHEDULE_OUTCOMES = ['started', 'skipped', 'missed', 'failed'] as const
export type ScheduleOutcome = (typeof SCHEDULE_OUTCOMES)[number]

/** A schedule as declared: when, where, with what, and its policies. */
export interface ScheduleSpec {
  /** five fields (minute hour day-of-month month day-of-week) or a macro (`@daily`) */
  cron: string
  /** IANA time zone the cron is read in */
  timezone: string
  /** each `["json", "<JSON text>"]`, as `submit_workflow` takes them */
  arguments: ['json', string][]
  catchUp: ScheduleCatchUp
  overlap: ScheduleOverlap
}

/** One schedule, as the topic and `coflux schedules list -o json` show it. */
export interface ScheduleEntry extends ScheduleSpec {
  id: string
  module: string
  target: string
  source: ScheduleSource
  /** the cron in words (`At 06:00, Monday through Friday`) */
  description: string
  paused: boolean
  /** the next due time (ms); null while paused */
  nextFireAt: number | null
  lastFire: { dueAt: number; outcome: ScheduleOutcome; runId: string | null; error: string | null } | null
  createdAt: number
  createdBy: Principal | null
}

/** `workspaces/<ws>/schedules`: schedule id → schedule */
export type SchedulesTopic = Record<string, ScheduleEntry>

/** `POST /api/create_schedule`; absent fields take the defaults (UTC, no arguments, `once`, `allow`). */
export interface CreateScheduleRequest {
  workspaceId: string
  module: string
  target: string
  cron: string
  timezone?: string
  arguments?: ['json', string][]
  catchUp?: ScheduleCatchUp
  overlap?: ScheduleOverlap
}

/** `POST /api/pause_schedule`, `resume_schedule`, `delete_schedule` */
export interface ScheduleRequest {
  workspaceId: string
  scheduleId: string
}
