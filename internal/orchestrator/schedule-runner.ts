/**
 * Schedules (our improvement, issue 11; not in the 0.12 spec): workflows started on a cron
 * schedule, declared with `@cf.workflow(schedule=…)` (registered with the manifest, one per
 * workflow) or made with `coflux schedules create` (any number, with arguments).
 *
 * Semantics:
 * - A schedule's due times are the instants its cron matches in its time zone (cron.ts; DST
 *   included). Each due time starts at most one run of the workflow, with the schedule's
 *   arguments and the options of the workflow's manifest, as `coflux submit` would.
 * - Exactly once, across restarts: the schedule row keeps `handledUntil`, the last due time dealt
 *   with. It is advanced in the same transaction that creates the due time's run, so after a
 *   crash either both exist or neither, and a due time at or before it never fires again.
 * - Missed windows: a due time found more than a minute late (the server was down) is missed.
 *   Catch-up `once` (the default) starts one run for all the due times found at that check;
 *   `skip` starts none and waits for the next due time.
 * - Overlap, when a due time comes while the run the schedule started last is still active (its
 *   workflow step has an execution without a result): `allow` (the default) starts another,
 *   `skip` starts none, `cancel` cancels the active one (as `runs cancel` would) and starts anew.
 * - Pausing stops firing; resuming counts from then (what passed while paused is not owed), and
 *   so does a new cron or time zone. A new schedule counts from its creation.
 * - Re-registering a manifest keeps its schedule (and its pause) when the declaration is the
 *   same; a workflow that no longer declares one, or an archived module, removes it. One made
 *   with the API stays until deleted, registered or not (its runs then wait in the queue, as a
 *   `coflux submit` would). Schedules of an archived workspace do not fire; those of a paused
 *   one do, and their runs wait for it to resume.
 * - A run that cannot be started (arguments its workflow rejects) is recorded as the due
 *   time's outcome, `failed`, and not retried: a due time never starts more than one run.
 *
 * The runner owns the timer; the schedules themselves are durable (store/schedules.ts). Its
 * timer is set for the earliest due time (at most a minute ahead, so a changed wall clock is
 * noticed), and `fireDue` deals with everything due; decisions are made by `planSchedule`
 * (schedule-plan.ts) from a clock that tests set.
 */
import { convertCliArgument } from '../protocol/values.ts'
import type { WorkflowManifest } from '../protocol/executor.ts'
import type { NewSchedule, ScheduleDefinition, ScheduleRecord } from '../store/index.ts'
import { cancelExecution } from './cancellation.ts'
import type { Core } from './core.ts'
import { CronSchedule } from './cron.ts'
import { planSchedule, type ScheduleDecision } from './schedule-plan.ts'
import { submitWorkflow, type WorkflowSubmission } from './submissions.ts'

/** The timer looks again at least this often, whatever the earliest due time. */
const MAX_SLEEP_MS = 60_000

/** What one schedule did at a check (for tests and logs). */
export interface FiredSchedule {
  scheduleId: string
  decision: Exclude<ScheduleDecision, { action: 'wait' }>
  runId: string | null
}

export interface ScheduleRunnerOptions {
  /** the runner's clock; the orchestrator's `now` by default */
  now?: () => number
}

export class ScheduleRunner {
  readonly #o: Core
  readonly #now: () => number
  readonly #crons = new Map<string, CronSchedule>()
  #timer: ReturnType<typeof setTimeout> | null = null
  #isRunning = false

  constructor(o: Core, options: ScheduleRunnerOptions = {}) {
    this.#o = o
    this.#now = options.now ?? (() => o.now())
  }

  /** Deals with what fell due while the server was down, then keeps the timer set. */
  start(): void {
    this.#isRunning = true
    this.fireDue()
  }

  close(): void {
    this.#isRunning = false
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }

  /** Starts (or skips) every due time that has come, then sets the timer for the next one. */
  fireDue(): FiredSchedule[] {
    const now = this.#now()
    const fired: FiredSchedule[] = []
    let next = Infinity
    for (const s of this.#o.store.schedules.unpaused()) {
      if (this.#o.store.workspaces.get(s.workspaceId)?.state === 'archived') continue
      try {
        const cron = this.#cron(s)
        const decision = planSchedule({ ...s, cron }, now, () => this.#activeExecution(s.lastRunId) !== null)
        if (decision.action === 'wait') {
          if (decision.nextDueAt !== null) next = Math.min(next, decision.nextDueAt)
          continue
        }
        fired.push(this.#carryOut(s, decision, now))
        next = Math.min(next, cron.nextAfter(decision.dueAt) ?? Infinity)
      } catch {
        // the store could not be written (its failure is not recorded either): this schedule is
        // looked at again on the next check, and the others still fire
      }
    }
    this.#arm(next, now)
    return fired
  }

  /** A schedule made with the API (`coflux schedules create`); its due times count from now. */
  create(input: Omit<NewSchedule, 'source'>): ScheduleRecord {
    const record = this.#o.store.schedules.create({ ...input, ...this.#canonical(input), source: 'api' }, this.#now())
    this.#changed(record.workspaceId)
    return record
  }

  pause(s: ScheduleRecord): ScheduleRecord {
    const record = this.#o.store.schedules.setPaused(s.id, true, this.#now()) ?? s
    this.#changed(s.workspaceId)
    return record
  }

  /** Fires again from the next due time: what passed while paused is not owed. */
  resume(s: ScheduleRecord): ScheduleRecord {
    const record = this.#o.store.schedules.setPaused(s.id, false, this.#now()) ?? s
    this.#changed(s.workspaceId)
    return record
  }

  remove(s: ScheduleRecord): void {
    this.#o.store.schedules.delete(s.id)
    this.#changed(s.workspaceId)
  }

  /**
   * Makes the workspace's manifest schedules match its registered manifests: new declarations
   * added, changed ones updated (a new cron or time zone counts from now), the rest removed.
   */
  syncManifests(workspaceId: number): void {
    const now = this.#now()
    const declared = new Map<string, { module: string; target: string; definition: ScheduleDefinition }>()
    for (const [module, workflows] of Object.entries(this.#o.store.manifests.list(workspaceId))) {
      for (const [target, manifest] of Object.entries(workflows)) {
        const definition = manifestSchedule(manifest)
        if (definition) declared.set(`${module}\0${target}`, { module, target, definition: this.#canonical(definition) })
      }
    }
    let isChanged = false
    this.#o.store.transaction(() => {
      for (const s of this.#o.store.schedules.list(workspaceId)) {
        if (s.source !== 'manifest') continue
        const key = `${s.module}\0${s.target}`
        const wanted = declared.get(key)
        declared.delete(key)
        if (!wanted) {
          this.#o.store.schedules.delete(s.id)
          isChanged = true
        } else if (!isSameDefinition(s, wanted.definition)) {
          const isNewTime = s.cron !== wanted.definition.cron || s.timezone !== wanted.definition.timezone
          this.#o.store.schedules.define(s.id, wanted.definition, isNewTime ? now : s.handledUntil, now)
          isChanged = true
        }
      }
      for (const { module, target, definition } of declared.values()) {
        this.#o.store.schedules.create({ workspaceId, module, target, source: 'manifest', createdBy: null, ...definition }, now)
        isChanged = true
      }
    })
    if (isChanged) this.#changed(workspaceId)
  }

  /** When the schedule fires next (null while paused) and its cron in words. */
  describe(s: ScheduleRecord): { nextFireAt: number | null; description: string } {
    const cron = this.#cron(s)
    return { nextFireAt: s.paused ? null : cron.nextAfter(s.handledUntil), description: cron.describe() }
  }

  #carryOut(s: ScheduleRecord, decision: FiredSchedule['decision'], now: number): FiredSchedule {
    const o = this.#o
    let runId: string | null = null
    if (decision.action === 'skip') {
      o.store.schedules.recordDue(s.id, decision.dueAt, decision.reason === 'overlap' ? 'skipped' : 'missed', null, null, now)
    } else {
      try {
        // one transaction: the run exists if and only if its due time is recorded as handled
        runId = o.store.transaction(() => {
          const run = submitWorkflow(o, this.#submission(s))
          const previous = decision.cancelPrevious ? this.#activeExecution(s.lastRunId) : null
          if (previous) cancelExecution(o, previous.id, previous.workspaceId)
          o.store.schedules.recordDue(s.id, decision.dueAt, 'started', run.runId, null, now)
          return run.runId
        })
      } catch (err) {
        // at most one run per due time: a failure is recorded (and shown), not retried
        o.store.schedules.recordDue(s.id, decision.dueAt, 'failed', null, err instanceof Error ? err.message : String(err), now)
      }
    }
    o.emit({ kind: 'schedules', workspaceId: s.workspaceId })
    return { scheduleId: s.externalId, decision, runId }
  }

  /** A run as `coflux submit` would start it: the manifest's options, the schedule's arguments. */
  #submission(s: ScheduleRecord): WorkflowSubmission {
    const m = this.#o.store.manifests.get(s.workspaceId, s.module, s.target)
    return {
      workspaceId: s.workspaceId,
      module: s.module,
      target: s.target,
      arguments: s.arguments.map(convertCliArgument),
      waitFor: m?.waitFor ?? [],
      cache: m?.cache ?? null,
      defer: m?.defer ?? null,
      delay: m?.delay ?? 0,
      // a manifest's null limit is "unlimited", which a submission spells -1
      retries: m?.retries ? { ...m.retries, limit: m.retries.limit ?? -1 } : null,
      recurrent: m?.recurrent ?? false,
      timeout: m?.timeout ?? 0,
      requires: m?.requires ?? {},
      memo: m?.memo ?? false,
      resumes: m?.resumes ?? null,
      priority: m?.priority ?? null,
      concurrency: m?.concurrency ?? null,
      idempotencyKey: null,
      createdBy: null,
    }
  }

  /** The workflow execution of the run still without a result, if the run is active. */
  #activeExecution(runExternalId: string | null): { id: number; workspaceId: number } | null {
    if (runExternalId === null) return null
    // a run that is no longer in the active epoch has finished (live runs move with rotation)
    const run = this.#o.store.runs.getRunByExternalId(runExternalId)
    const step = run ? this.#o.store.runs.getStepByNumber(run.id, 1) : null
    if (!step) return null
    return this.#o.store.runs.executionsOfStep(step.id).find((e) => !this.#o.store.results.get(e.id)) ?? null
  }

  /** The cron of a definition, parsed once (the definitions were checked when stored). */
  #cron(d: { cron: string; timezone: string }): CronSchedule {
    const key = `${d.cron}\0${d.timezone}`
    let cron = this.#crons.get(key)
    if (!cron) this.#crons.set(key, (cron = CronSchedule.parse(d.cron, d.timezone)))
    return cron
  }

  /** The definition with its cron trimmed and its time zone canonical (throws CronError). */
  #canonical<T extends ScheduleDefinition>(d: T): T {
    const cron = CronSchedule.parse(d.cron, d.timezone)
    return { ...d, cron: cron.expression, timezone: cron.timezone }
  }

  #changed(workspaceId: number): void {
    this.#o.emit({ kind: 'schedules', workspaceId })
    if (this.#isRunning) this.fireDue()
  }

  #arm(at: number, now: number): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    if (!this.#isRunning) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.fireDue()
    }, Math.max(0, Math.min(at - now, MAX_SLEEP_MS)))
  }
}

/** A manifest's schedule as stored (arguments as JSON texts), or null when it declares none. */
function manifestSchedule(m: WorkflowManifest): ScheduleDefinition | null {
  // manifests stored before schedules existed have no field
  const spec = m.schedule ?? null
  if (!spec) return null
  return { cron: spec.cron, timezone: spec.timezone, arguments: spec.arguments.map((a) => a[1]), catchUp: spec.catchUp, overlap: spec.overlap }
}

function isSameDefinition(a: ScheduleDefinition, b: ScheduleDefinition): boolean {
  return (
    a.cron === b.cron &&
    a.timezone === b.timezone &&
    a.catchUp === b.catchUp &&
    a.overlap === b.overlap &&
    JSON.stringify(a.arguments) === JSON.stringify(b.arguments)
  )
}
