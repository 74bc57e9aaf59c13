/**
 * What a schedule does at one check (our improvement, issue 11): a pure decision from the
 * schedule's state, the clock and whether its previous run is still active, so it can be tested
 * without timers. The runner (schedule-runner.ts) carries the decision out.
 */
import type { ScheduleCatchUp, ScheduleOverlap } from '../protocol/schedules.ts'
import type { CronSchedule } from './cron.ts'

/**
 * A due time found within this long after it is on time; later, it is a missed window (the
 * server was down or asleep) and the catch-up policy decides. The runner's timer is set for each
 * due time, so on a running server every due time is found within milliseconds.
 */
export const ON_TIME_GRACE_MS = 60_000

export interface ScheduleState {
  cron: CronSchedule
  /** due times up to here are handled: they started a run, were skipped, or are not owed */
  handledUntil: number
  catchUp: ScheduleCatchUp
  overlap: ScheduleOverlap
  paused: boolean
}

/**
 * - `wait`:  nothing is due; `nextDueAt` is when something will be (null: never, or paused)
 * - `start`: start one run for `dueAt` (cancelling the previous run first when `cancelPrevious`)
 * - `skip`:  mark `dueAt` handled without a run: the previous run is active (`overlap`), or the
 *            due time was found late and catch-up is `skip` (`missed`)
 * Every decision but `wait` handles all due times up to `dueAt`: one check starts at most one run.
 */
export type ScheduleDecision =
  | { action: 'wait'; nextDueAt: number | null }
  | { action: 'start'; dueAt: number; cancelPrevious: boolean }
  | { action: 'skip'; dueAt: number; reason: 'overlap' | 'missed' }

/**
 * @param isPreviousActive asked only when a run would start: whether the last run this schedule
 *   started has not finished yet
 */
export function planSchedule(s: ScheduleState, now: number, isPreviousActive: () => boolean): ScheduleDecision {
  if (s.paused) return { action: 'wait', nextDueAt: null }
  const dueAt = s.cron.latestDue(s.handledUntil, now)
  if (dueAt === null) return { action: 'wait', nextDueAt: s.cron.nextAfter(Math.max(s.handledUntil, now)) }
  // earlier due times found at the same check fold into this one: with catch-up `once` a
  // server that was down for three windows starts one run, not three
  const isOnTime = now - dueAt <= ON_TIME_GRACE_MS
  if (!isOnTime && s.catchUp === 'skip') return { action: 'skip', dueAt, reason: 'missed' }
  if (s.overlap !== 'allow' && isPreviousActive()) {
    return s.overlap === 'skip' ? { action: 'skip', dueAt, reason: 'overlap' } : { action: 'start', dueAt, cancelPrevious: true }
  }
  return { action: 'start', dueAt, cancelPrevious: false }
}
