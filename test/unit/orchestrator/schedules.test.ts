/**
 * Schedules (our improvement, issue 11): cron reading, the planning decision, and the runner on
 * a real SQLite store with a settable clock, including a restart on the same file. No timers are
 * waited for: each test moves the clock and calls `fireDue`, as the runner's timer would.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CronError,
  CronSchedule,
  ON_TIME_GRACE_MS,
  Orchestrator,
  planSchedule,
  rotateEpoch,
  type ScheduleState,
} from '../../../internal/orchestrator/index.ts'
import type { WorkflowManifest } from '../../../internal/protocol/executor.ts'
import { RawJson } from '../../../internal/protocol/json.ts'
import type { ScheduleSpec } from '../../../internal/protocol/schedules.ts'
import { OrchestrationStore, type ScheduleDefinition, type ScheduleRecord } from '../../../internal/store/index.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const at = (iso: string) => Date.parse(iso)

describe('cron (croner)', () => {
  test('five fields with ranges, lists, steps and names', () => {
    const cron = CronSchedule.parse('*/15 9-17 * jan,jul mon-fri')
    // Wednesday 1 January 2025
    expect(cron.nextAfter(at('2025-01-01T00:00:00Z'))).toBe(at('2025-01-01T09:00:00Z'))
    expect(cron.nextAfter(at('2025-01-01T09:00:00Z'))).toBe(at('2025-01-01T09:15:00Z'))
    expect(cron.nextAfter(at('2025-01-01T17:45:00Z'))).toBe(at('2025-01-02T09:00:00Z'))
    // Saturday and Sunday are skipped; February is not in the list
    expect(cron.nextAfter(at('2025-01-03T17:45:00Z'))).toBe(at('2025-01-06T09:00:00Z'))
    expect(cron.nextAfter(at('2025-01-31T17:45:00Z'))).toBe(at('2025-07-01T09:00:00Z'))
    expect(CronSchedule.parse('0 6 * * 1-5').nextAfter(at('2025-01-04T00:00:00Z'))).toBe(at('2025-01-06T06:00:00Z'))
  })

  test('macros', () => {
    const from = at('2025-01-01T10:30:00Z')
    expect(CronSchedule.parse('@hourly').nextAfter(from)).toBe(at('2025-01-01T11:00:00Z'))
    expect(CronSchedule.parse('@daily').nextAfter(from)).toBe(at('2025-01-02T00:00:00Z'))
    expect(CronSchedule.parse('@midnight').nextAfter(from)).toBe(at('2025-01-02T00:00:00Z'))
    expect(CronSchedule.parse('@weekly').nextAfter(from)).toBe(at('2025-01-05T00:00:00Z'))
    expect(CronSchedule.parse('@monthly').nextAfter(from)).toBe(at('2025-02-01T00:00:00Z'))
    expect(CronSchedule.parse('@yearly').nextAfter(from)).toBe(at('2026-01-01T00:00:00Z'))
  })

  test('a time zone: the hour is local time, the zone name canonical', () => {
    const cron = CronSchedule.parse('0 6 * * *', 'europe/paris')
    expect(cron.timezone).toBe('Europe/Paris')
    expect(cron.nextAfter(at('2025-01-01T00:00:00Z'))).toBe(at('2025-01-01T05:00:00Z')) // CET, UTC+1
    expect(cron.nextAfter(at('2025-07-01T00:00:00Z'))).toBe(at('2025-07-01T04:00:00Z')) // CEST, UTC+2
  })

  test('DST: a time the spring change skips fires once after the gap, a repeated one fires once', () => {
    const cron = CronSchedule.parse('30 1 * * *', 'Europe/London')
    // 30 March 2025: 01:00 GMT becomes 02:00 BST, so 01:30 does not exist that day
    expect(dueTimes(cron, at('2025-03-29T00:00:00Z'), at('2025-04-01T00:00:00Z'))).toEqual([
      at('2025-03-29T01:30:00Z'),
      at('2025-03-30T01:00:00Z'),
      at('2025-03-31T00:30:00Z'),
    ])
    // 26 October 2025: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice; it fires once
    expect(dueTimes(cron, at('2025-10-25T00:00:00Z'), at('2025-10-28T00:00:00Z'))).toEqual([
      at('2025-10-25T00:30:00Z'),
      at('2025-10-26T00:30:00Z'),
      at('2025-10-27T01:30:00Z'),
    ])
  })

  test('latestDue: the last due time in (after, now], also after a long gap', () => {
    const everyMinute = CronSchedule.parse('* * * * *')
    const start = at('2025-01-01T00:00:00Z')
    expect(everyMinute.latestDue(start, start + 30_000)).toBeNull()
    expect(everyMinute.latestDue(start, start + MINUTE)).toBe(start + MINUTE)
    expect(everyMinute.latestDue(start, start + 30 * DAY + 59_000)).toBe(start + 30 * DAY)
    const daily = CronSchedule.parse('0 6 * * *', 'America/New_York')
    expect(daily.latestDue(at('2025-03-01T00:00:00Z'), at('2025-03-12T12:00:00Z'))).toBe(at('2025-03-12T10:00:00Z')) // EDT
  })

  test('bad expressions and zones are refused with the reason', () => {
    expect(() => CronSchedule.parse('61 * * * *')).toThrow(/minute/i)
    expect(() => CronSchedule.parse('0 0 * * * *')).toThrow(CronError) // six fields: seconds are not ours
    expect(() => CronSchedule.parse('every day')).toThrow(CronError)
    expect(() => CronSchedule.parse('@reboot')).toThrow(/not a schedule/)
    expect(() => CronSchedule.parse('0 6 * * *', 'Mars/Olympus')).toThrow(/unknown time zone: Mars\/Olympus/)
  })

  test('described in words (cronstrue), 24-hour clock', () => {
    expect(CronSchedule.parse('0 6 * * 1-5').describe()).toBe('At 06:00, Monday through Friday')
    expect(CronSchedule.parse('@hourly').describe()).toBe('Every hour')
  })
})

function dueTimes(cron: CronSchedule, from: number, to: number): number[] {
  const out: number[] = []
  for (let t = cron.nextAfter(from); t !== null && t < to; t = cron.nextAfter(t)) out.push(t)
  return out
}

describe('planSchedule', () => {
  const hourly = CronSchedule.parse('0 * * * *')
  const base = at('2025-01-01T00:00:00Z')
  const state = (over: Partial<ScheduleState> = {}): ScheduleState => ({
    cron: hourly,
    handledUntil: base,
    catchUp: 'once',
    overlap: 'allow',
    paused: false,
    ...over,
  })
  const idle = () => false
  const busy = () => true

  test('nothing due: wait for the next due time', () => {
    expect(planSchedule(state(), base + 30 * MINUTE, idle)).toEqual({ action: 'wait', nextDueAt: base + HOUR })
  })

  test('a due time on time starts one run', () => {
    expect(planSchedule(state(), base + HOUR + 5, idle)).toEqual({ action: 'start', dueAt: base + HOUR, cancelPrevious: false })
    // a due time handled is not due again
    expect(planSchedule(state({ handledUntil: base + HOUR }), base + HOUR + 5, idle)).toEqual({ action: 'wait', nextDueAt: base + 2 * HOUR })
  })

  test('missed windows, catch-up once: one run for all of them, at the latest', () => {
    expect(planSchedule(state(), base + 3 * HOUR + 20 * MINUTE, idle)).toEqual({ action: 'start', dueAt: base + 3 * HOUR, cancelPrevious: false })
  })

  test('missed windows, catch-up skip: none; but a due time on time still starts', () => {
    expect(planSchedule(state({ catchUp: 'skip' }), base + 3 * HOUR + 20 * MINUTE, idle)).toEqual({ action: 'skip', dueAt: base + 3 * HOUR, reason: 'missed' })
    expect(planSchedule(state({ catchUp: 'skip' }), base + 3 * HOUR + ON_TIME_GRACE_MS, idle)).toEqual({
      action: 'start',
      dueAt: base + 3 * HOUR,
      cancelPrevious: false,
    })
  })

  test('overlap: allow starts anyway, skip waits, cancel replaces', () => {
    const now = base + HOUR
    expect(planSchedule(state({ overlap: 'allow' }), now, busy)).toEqual({ action: 'start', dueAt: now, cancelPrevious: false })
    expect(planSchedule(state({ overlap: 'skip' }), now, busy)).toEqual({ action: 'skip', dueAt: now, reason: 'overlap' })
    expect(planSchedule(state({ overlap: 'cancel' }), now, busy)).toEqual({ action: 'start', dueAt: now, cancelPrevious: true })
    expect(planSchedule(state({ overlap: 'skip' }), now, idle)).toEqual({ action: 'start', dueAt: now, cancelPrevious: false })
  })

  test('paused: nothing, and no next due time', () => {
    expect(planSchedule(state({ paused: true }), base + 5 * HOUR, idle)).toEqual({ action: 'wait', nextDueAt: null })
  })
})

/** An orchestrator on a SQLite file that outlives it: `restart()` opens a new one on the same file. */
class Server {
  readonly dir = mkdtempSync(join(tmpdir(), 'coflux-schedules-'))
  clock = at('2025-01-06T05:00:00Z') // a Monday
  store!: OrchestrationStore
  o!: Orchestrator
  readonly workspaceId: number

  constructor() {
    this.#open()
    this.workspaceId = this.store.workspaces.create('main', null, this.clock).id
    this.register({ parameters: [{ name: 'n' }] })
  }

  #open(): void {
    this.store = new OrchestrationStore(join(this.dir, 'orchestration.sqlite'))
    this.o = new Orchestrator(this.store, { now: () => this.clock })
    this.o.start()
  }

  /** A graceful stop and a start on the same file (what `coflux server` does across a restart). */
  restart(): void {
    this.o.close()
    this.store.close()
    this.#open()
  }

  register(manifest: Partial<WorkflowManifest>): void {
    const full: WorkflowManifest = {
      parameters: [],
      waitFor: [],
      cache: null,
      defer: null,
      delay: 0,
      retries: null,
      recurrent: false,
      timeout: 0,
      requires: null,
      memo: false,
      resumes: null,
      priority: null,
      concurrency: null,
      instruction: null,
      ...manifest,
    }
    this.store.manifests.replace(this.workspaceId, { app: { main: full } }, this.clock)
    this.o.schedules.syncManifests(this.workspaceId)
  }

  schedule(over: Partial<ScheduleDefinition> = {}): ScheduleRecord {
    return this.o.schedules.create({
      workspaceId: this.workspaceId,
      module: 'app',
      target: 'main',
      cron: '0 6 * * 1-5',
      timezone: 'UTC',
      arguments: ['7'],
      catchUp: 'once',
      overlap: 'allow',
      createdBy: null,
      ...over,
    })
  }

  get(s: ScheduleRecord): ScheduleRecord {
    return this.store.schedules.get(s.id)!
  }

  /** Runs of app/main, oldest first. */
  runs(): { createdAt: number; runId: string }[] {
    return this.store.runs
      .runsOfWorkflow('app', 'main', this.workspaceId, 1000)
      .map((r) => ({ createdAt: r.createdAt, runId: r.externalId }))
      .reverse()
  }

  /** Gives the run's workflow execution a result, as a worker finishing it would. */
  finish(runId: string): void {
    this.o.recordResult(this.o.executionByExternalId(`${runId}:1:1`)!.id, { type: 'value', valueId: null })
  }

  close(): void {
    this.o.close()
    this.store.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

let server: Server
afterEach(() => server?.close())

describe('schedule runner', () => {
  test('each due time starts exactly one run, with the arguments and the manifest options', () => {
    server = new Server()
    server.register({ parameters: [{ name: 'n' }], retries: { limit: null, backoffMin: 1000, backoffMax: 2000 }, timeout: 5000, priority: 5 })
    const s = server.schedule()
    expect(server.o.schedules.fireDue()).toEqual([])
    server.clock = at('2025-01-06T06:00:00Z')
    const fired = server.o.schedules.fireDue()
    expect(fired).toHaveLength(1)
    expect(fired[0]!.decision).toEqual({ action: 'start', dueAt: server.clock, cancelPrevious: false })
    expect(server.o.schedules.fireDue()).toEqual([]) // the same instant again: already handled
    server.clock += 30_000
    expect(server.o.schedules.fireDue()).toEqual([])
    const [run] = server.runs()
    expect(run!.runId).toBe(fired[0]!.runId!)
    const step = server.store.runs.getStepByNumber(server.store.runs.getRunByExternalId(run!.runId)!.id, 1)!
    expect(step.retryLimit).toBe(-1)
    expect(step.timeout).toBe(5000)
    expect(step.priority).toBe(5)
    expect(server.store.values.get(step.argumentIds[0]!)).toEqual(['raw', new RawJson('7'), []])
    expect(server.get(s)).toMatchObject({ lastDueAt: server.clock - 30_000, lastOutcome: 'started', lastRunId: run!.runId, handledUntil: at('2025-01-06T06:00:00Z') })
    expect(server.o.schedules.describe(server.get(s)).nextFireAt).toBe(at('2025-01-07T06:00:00Z'))
  })

  test('fires on time through a restart without a double run', () => {
    server = new Server()
    server.schedule({ cron: '0 6 * * *' })
    server.clock = at('2025-01-06T06:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(1)

    // down and up again within the same minute: the due time is already handled
    server.restart()
    expect(server.runs()).toHaveLength(1)

    // the next due time comes while the server is down; start-up fires it, on time, once
    server.clock = at('2025-01-07T06:00:20Z')
    server.restart()
    expect(server.runs().map((r) => r.createdAt)).toEqual([at('2025-01-06T06:00:00Z'), at('2025-01-07T06:00:20Z')])
    server.restart()
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(2)

    // and the one after that, by the timer of the new orchestrator
    server.clock = at('2025-01-08T06:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(3)
  })

  test('a crash before the commit loses the run and its handled due time together; start-up fires it once', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 6 * * *' })
    server.clock = at('2025-01-06T06:00:00Z')
    // the write batch of this turn is not committed when the "crash" comes
    server.o.batch()
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(1)
    server.store.db.exec('ROLLBACK') // what a crash does to an uncommitted transaction
    server.restart()
    // neither the run nor the handled due time survived: start-up fires the due time once
    expect(server.runs()).toHaveLength(1)
    expect(server.get(s).handledUntil).toBe(at('2025-01-06T06:00:00Z'))
    server.restart()
    expect(server.runs()).toHaveLength(1)
  })

  test('missed windows (the server was down): catch-up once starts one run at start-up', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 * * * *' })
    server.clock = at('2025-01-06T09:30:00Z') // 06:00, 07:00, 08:00 and 09:00 passed
    server.restart()
    expect(server.runs().map((r) => r.createdAt)).toEqual([server.clock])
    expect(server.get(s)).toMatchObject({ lastDueAt: at('2025-01-06T09:00:00Z'), lastOutcome: 'started' })
    server.clock = at('2025-01-06T10:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(2)
  })

  test('missed windows, catch-up skip: no run until the next due time on time', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 * * * *', catchUp: 'skip' })
    server.clock = at('2025-01-06T09:30:00Z')
    server.restart()
    expect(server.runs()).toHaveLength(0)
    expect(server.get(s)).toMatchObject({ lastDueAt: at('2025-01-06T09:00:00Z'), lastOutcome: 'missed', lastRunId: null })
    server.clock = at('2025-01-06T10:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(1)
  })

  test('overlap allow: a new run while the previous one is active', () => {
    server = new Server()
    server.schedule({ cron: '0 * * * *', overlap: 'allow' })
    for (const hour of ['06', '07']) {
      server.clock = at(`2025-01-06T${hour}:00:00Z`)
      server.o.schedules.fireDue()
    }
    expect(server.runs()).toHaveLength(2)
  })

  test('overlap skip: no run while the previous one is active; one once it has finished', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 * * * *', overlap: 'skip' })
    server.clock = at('2025-01-06T06:00:00Z')
    server.o.schedules.fireDue()
    const [first] = server.runs()
    server.clock = at('2025-01-06T07:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(1)
    expect(server.get(s)).toMatchObject({ lastDueAt: server.clock, lastOutcome: 'skipped', lastRunId: first!.runId })
    server.finish(first!.runId)
    server.clock = at('2025-01-06T08:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(2)
  })

  test('overlap cancel: the active run is cancelled and a new one started', () => {
    server = new Server()
    server.schedule({ cron: '0 * * * *', overlap: 'cancel' })
    server.clock = at('2025-01-06T06:00:00Z')
    server.o.schedules.fireDue()
    server.clock = at('2025-01-06T07:00:00Z')
    server.o.schedules.fireDue()
    const [first, second] = server.runs()
    const result = (runId: string) => server.store.results.get(server.o.executionByExternalId(`${runId}:1:1`)!.id)
    expect(result(first!.runId)?.type).toBe('cancelled')
    expect(result(second!.runId)).toBeNull()
  })

  test('paused: no run; resumed: what passed while paused is not owed', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 * * * *' })
    server.o.schedules.pause(server.get(s))
    server.clock = at('2025-01-06T08:30:00Z')
    expect(server.o.schedules.fireDue()).toEqual([])
    expect(server.o.schedules.describe(server.get(s)).nextFireAt).toBeNull()
    server.o.schedules.resume(server.get(s))
    expect(server.runs()).toHaveLength(0)
    server.clock = at('2025-01-06T09:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(1)
  })

  test('a schedule from the manifest: kept when re-registered, re-timed when its cron changes, removed with it', () => {
    server = new Server()
    const spec: ScheduleSpec = { cron: '0 6 * * *', timezone: 'Europe/Paris', arguments: [['json', '1']], catchUp: 'once', overlap: 'skip' }
    server.register({ parameters: [{ name: 'n' }], schedule: spec })
    const [declared] = server.store.schedules.list(server.workspaceId)
    expect(declared).toMatchObject({ source: 'manifest', cron: '0 6 * * *', timezone: 'Europe/Paris', arguments: ['1'], overlap: 'skip' })
    server.o.schedules.pause(declared!)

    server.clock += HOUR
    server.register({ parameters: [{ name: 'n' }], schedule: spec })
    expect(server.store.schedules.list(server.workspaceId)).toEqual([server.get(declared!)])
    expect(server.get(declared!)).toMatchObject({ paused: true, handledUntil: at('2025-01-06T05:00:00Z') })

    server.clock += HOUR
    server.register({ parameters: [{ name: 'n' }], schedule: { ...spec, cron: '0 7 * * *' } })
    expect(server.get(declared!)).toMatchObject({ id: declared!.id, cron: '0 7 * * *', handledUntil: server.clock, paused: true })

    server.register({ parameters: [{ name: 'n' }] })
    expect(server.store.schedules.list(server.workspaceId)).toEqual([])
  })

  test('DST in a zone: following the timer across both changes starts one run a day', () => {
    server = new Server()
    server.clock = at('2025-03-28T12:00:00Z')
    const s = server.schedule({ cron: '30 1 * * *', timezone: 'Europe/London' })
    const follow = (until: number) => {
      // what the timer does: wake at the next due time, fire, repeat
      for (let next = server.o.schedules.describe(server.get(s)).nextFireAt!; next < until; next = server.o.schedules.describe(server.get(s)).nextFireAt!) {
        server.clock = next
        expect(server.o.schedules.fireDue()).toHaveLength(1)
      }
    }
    follow(at('2025-04-01T00:00:00Z'))
    // 01:30 did not exist on 30 March: that day's run came at 02:00 BST (01:00 UTC)
    expect(server.runs().map((r) => r.createdAt)).toEqual([at('2025-03-29T01:30:00Z'), at('2025-03-30T01:00:00Z'), at('2025-03-31T00:30:00Z')])

    server.clock = at('2025-10-24T12:00:00Z')
    server.o.schedules.pause(server.get(s))
    server.o.schedules.resume(server.get(s))
    follow(at('2025-10-26T01:00:00Z'))
    // 01:30 comes twice on 26 October (BST, then GMT): the second is not a due time
    server.clock = at('2025-10-26T01:30:00Z')
    expect(server.o.schedules.fireDue()).toEqual([])
    follow(at('2025-10-28T00:00:00Z'))
    expect(server.runs().slice(3).map((r) => r.createdAt)).toEqual([at('2025-10-25T00:30:00Z'), at('2025-10-26T00:30:00Z'), at('2025-10-27T01:30:00Z')])
  })

  test('a run that cannot be started is recorded as failed, once', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 * * * *', arguments: ['{bad json'] })
    server.clock = at('2025-01-06T06:00:00Z')
    server.o.schedules.fireDue()
    expect(server.runs()).toHaveLength(0)
    expect(server.get(s)).toMatchObject({ lastOutcome: 'failed', handledUntil: server.clock })
    expect(server.get(s).lastError).toBeTruthy()
    expect(server.o.schedules.fireDue()).toEqual([])
  })

  test('through an epoch rotation: the schedule moves along, the active run still counts as active', () => {
    server = new Server()
    const s = server.schedule({ cron: '0 * * * *', overlap: 'skip' })
    server.clock = at('2025-01-06T06:00:00Z')
    server.o.schedules.fireDue()
    rotateEpoch(server.o)
    expect(server.o.schedules.fireDue()).toEqual([])
    server.clock = at('2025-01-06T07:00:00Z')
    server.o.schedules.fireDue()
    expect(server.get(s)).toMatchObject({ lastOutcome: 'skipped' })
    expect(server.runs()).toHaveLength(1)
  })
})
