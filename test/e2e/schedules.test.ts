/**
 * Schedules (ours, issue 11) with the real binary and a real worker: a decorator's schedule
 * registered by `worker --register`, `coflux schedules create|list|pause|resume|delete -o json`,
 * and a schedule firing through server restarts without a double run. The server's test-only
 * clock offset (COFLUX_SERVER_SCHEDULE_CLOCK_OFFSET_MS) moves the schedules' clock past due
 * times instead of waiting for them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { until } from './support/binary.ts'
import { finalResult, startStack, waitForRun, type Stack } from './support/worker.ts'

const HOUR = 3_600_000

let stack: Stack
beforeAll(async () => {
  stack = await startStack({ workspace: 'schedules', modules: ['scheduled'] })
})
afterAll(async () => {
  await stack.stop()
})

async function schedules(): Promise<Record<string, any>> {
  const res = await stack.cli(['schedules', 'list', '-o', 'json'])
  expect(res.code).toBe(0)
  return res.json
}

async function hourlySchedule(): Promise<any> {
  return Object.values(await schedules()).find((s) => s.target === 'hourly_report')
}

async function hourlyRuns(): Promise<string[]> {
  const topic = (await stack.server.get(`/topics/workspaces/${stack.workspaceId}/workflows/scheduled/hourly_report`)).body
  return Object.keys(topic?.runs ?? {}).sort()
}

/** The hour the tests started in: every shifted clock is counted from it, not from a moving now. */
const BASE_HOUR = Math.floor(Date.now() / HOUR) * HOUR

/** The offset that puts the schedules' clock at `minute`:`second` past the hour, `hours` after BASE_HOUR. */
function offsetTo(hours: number, minute: number, second = 0): string {
  return String(BASE_HOUR + hours * HOUR + minute * 60_000 + second * 1000 - Date.now())
}

describe('schedules', () => {
  test('a decorator schedule appears after worker --register', async () => {
    const s = await hourlySchedule()
    expect(s).toMatchObject({
      module: 'scheduled',
      target: 'hourly_report',
      source: 'manifest',
      cron: '0 * * * *',
      timezone: 'UTC',
      description: 'Every hour',
      arguments: [['json', '"hourly"']],
      catchUp: 'once',
      overlap: 'allow',
      paused: false,
      lastFire: null,
    })
    expect(s.id).toMatch(/^S/)
    expect(s.nextFireAt % HOUR).toBe(0)
    expect(s.nextFireAt).toBeGreaterThan(Date.now() - 60_000)
    expect(s.nextFireAt).toBeLessThanOrEqual(Date.now() + HOUR)
    const text = await stack.cli(['schedules', 'list'])
    expect(text.stdout).toContain('scheduled/hourly_report')
    expect(text.stdout).toContain('(Every hour)')
    expect(text.stdout).toContain('decorator')
  })

  test('create, list, pause, resume and delete from the CLI', async () => {
    const created = await stack.cli(['schedules', 'create', 'scheduled/on_demand', '21', '--cron', '30 6 * * mon-fri', '--timezone', 'europe/paris', '--overlap', 'skip', '-o', 'json'])
    expect(created.code).toBe(0)
    const s = created.json
    expect(s).toMatchObject({
      module: 'scheduled',
      target: 'on_demand',
      source: 'api',
      cron: '30 6 * * mon-fri',
      timezone: 'Europe/Paris',
      description: 'At 06:30, Monday through Friday',
      arguments: [['json', '21']],
      catchUp: 'once',
      overlap: 'skip',
      paused: false,
    })
    expect(s.nextFireAt).toBeGreaterThan(Date.now())
    expect(Object.keys(await schedules())).toContain(s.id)

    const paused = await stack.cli(['schedules', 'pause', s.id, '-o', 'json'])
    expect(paused.json).toMatchObject({ id: s.id, paused: true, nextFireAt: null })
    expect((await schedules())[s.id].paused).toBe(true)
    const resumed = await stack.cli(['schedules', 'resume', s.id, '-o', 'json'])
    expect(resumed.json).toMatchObject({ id: s.id, paused: false, nextFireAt: s.nextFireAt })
    expect((await stack.cli(['schedules', 'resume', s.id])).stdout).toStartWith(`Schedule ${s.id} resumed; next at `)

    const deleted = await stack.cli(['schedules', 'delete', s.id, '-o', 'json'])
    expect(deleted).toMatchObject({ code: 0, json: { id: s.id, deleted: true } })
    expect(Object.keys(await schedules())).not.toContain(s.id)
  })

  test('mistakes are refused with the reason', async () => {
    const badCron = await stack.cli(['schedules', 'create', 'scheduled/on_demand', '1', '--cron', '61 * * * *'])
    expect(badCron.code).toBe(1)
    expect(badCron.stderr).toContain('failed to create schedule')
    expect(badCron.stderr).toMatch(/minute/i)
    const badZone = await stack.cli(['schedules', 'create', 'scheduled/on_demand', '1', '--cron', '@daily', '--timezone', 'Mars/Olympus'])
    expect(badZone.stderr).toContain('unknown time zone: Mars/Olympus')
    const missing = await stack.cli(['schedules', 'create', 'scheduled/on_demand', '--cron', '@daily'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('scheduled/on_demand takes (n, note?): 0 given')
    const unknown = await stack.cli(['schedules', 'create', 'scheduled/nothing', '--cron', '@daily'])
    expect(unknown.stderr).toContain('workflow scheduled/nothing is not registered')
    const policy = await stack.cli(['schedules', 'create', 'scheduled/on_demand', '1', '--cron', '@daily', '--overlap', 'queue'])
    expect(policy.code).toBe(2)
    expect(policy.stderr).toContain('invalid value for --overlap: "queue" (expected allow or skip or cancel)')
    const noCron = await stack.cli(['schedules', 'create', 'scheduled/on_demand', '1'])
    expect(noCron.code).toBe(2)
    // a decorator's schedule goes with its code, not with delete
    const declared = await stack.cli(['schedules', 'delete', (await hourlySchedule()).id])
    expect(declared.code).toBe(1)
    expect(declared.stderr).toContain('is declared by scheduled/hourly_report')
    expect((await stack.cli(['schedules', 'pause', 'Sxxxx'])).code).toBe(1)
  })

  test('fires through server restarts: one run per due time, never two', async () => {
    expect(await hourlyRuns()).toEqual([])

    // down past two due times: start-up starts one run for them (catch-up once)
    await stack.server.restart({ env: { COFLUX_SERVER_SCHEDULE_CLOCK_OFFSET_MS: offsetTo(2, 30) } })
    const [first] = await until(async () => {
      const runs = await hourlyRuns()
      return runs.length > 0 ? runs : null
    })
    expect(finalResult(await waitForRun(stack.server, stack.workspaceId, first!), first!).value.data).toBe('hourly:2')
    const afterFirst = await hourlySchedule()
    expect(afterFirst.lastFire).toMatchObject({ outcome: 'started', runId: first })

    // down and up again, the same hour: nothing more is due
    await stack.server.restart()
    expect((await hourlySchedule()).lastFire).toEqual(afterFirst.lastFire)
    expect(await hourlyRuns()).toEqual([first])

    // up ten seconds before the next due time: the timer fires it, once
    await stack.server.restart({ env: { COFLUX_SERVER_SCHEDULE_CLOCK_OFFSET_MS: offsetTo(2, 59, 50) } })
    const runs = await until(async () => {
      const all = await hourlyRuns()
      return all.length > 1 ? all : null
    })
    expect(runs).toHaveLength(2)
    const second = runs.find((r) => r !== first)!
    await waitForRun(stack.server, stack.workspaceId, second)
    const afterSecond = await hourlySchedule()
    expect(afterSecond.lastFire).toMatchObject({ dueAt: afterFirst.lastFire.dueAt + HOUR, outcome: 'started', runId: second })
    await stack.server.restart()
    expect(await hourlyRuns()).toHaveLength(2)
  }, 60_000)
})
