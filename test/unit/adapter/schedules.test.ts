/** A workflow's `schedule` (ours, issue 11) from discovery output to its manifest. */
import { describe, expect, test } from 'bun:test'
import { buildManifest, discoverOutput, parseDiscoveryOutput } from '../../../internal/adapter/index.ts'

const discovered = (schedule: unknown, type = 'workflow') =>
  JSON.stringify({ targets: [{ module: 'app', name: 'report', type, parameters: [{ name: 'region' }], schedule }] })

describe('schedule in discovery output', () => {
  test('read as the adapter wrote it; absent fields stay absent', () => {
    const [full] = parseDiscoveryOutput(
      discovered({ cron: '0 6 * * 1-5', timezone: 'Europe/Paris', arguments: ['"eu"'], catch_up: 'skip', overlap: 'cancel', extra: 1 }),
    )
    expect(full!.schedule).toEqual({ cron: '0 6 * * 1-5', timezone: 'Europe/Paris', arguments: ['"eu"'], catch_up: 'skip', overlap: 'cancel' })
    const [bare] = parseDiscoveryOutput(discovered({ cron: '@daily' }))
    expect(bare!.schedule).toEqual({ cron: '@daily' })
    expect(discoverOutput(bare!).schedule).toEqual({ cron: '@daily' })
  })

  test('wrong shapes are refused, and a task cannot have one', () => {
    expect(() => parseDiscoveryOutput(discovered({ cron: 5 }))).toThrow('targets[0].schedule.cron is not a string')
    expect(() => parseDiscoveryOutput(discovered({ cron: '@daily', overlap: 'queue' }))).toThrow('targets[0].schedule.overlap is not one of allow, skip, cancel')
    expect(() => parseDiscoveryOutput(discovered({ cron: '@daily', arguments: [1] }))).toThrow('targets[0].schedule.arguments[0] is not a string')
    expect(() => parseDiscoveryOutput(discovered({ cron: '@daily' }, 'task'))).toThrow('targets[0].schedule is set on a task (workflows only)')
  })
})

describe('schedule in the manifest', () => {
  test('the defaults filled in: UTC, no arguments, catch-up once, overlap allowed', () => {
    const manifest = buildManifest({ module: 'app', name: 'report', type: 'workflow', parameters: [], schedule: { cron: '@daily' } })
    expect(manifest.schedule).toEqual({ cron: '@daily', timezone: 'UTC', arguments: [], catchUp: 'once', overlap: 'allow' })
  })

  test('arguments as submit_workflow takes them', () => {
    const manifest = buildManifest({
      module: 'app',
      name: 'report',
      type: 'workflow',
      parameters: [{ name: 'region' }],
      schedule: { cron: '0 6 * * *', timezone: 'Asia/Tokyo', arguments: ['"eu"'], catch_up: 'skip', overlap: 'skip' },
    })
    expect(manifest.schedule).toEqual({ cron: '0 6 * * *', timezone: 'Asia/Tokyo', arguments: [['json', '"eu"']], catchUp: 'skip', overlap: 'skip' })
  })

  test('a workflow without one has no field (its manifest is the one it always had)', () => {
    expect('schedule' in buildManifest({ module: 'app', name: 'report', type: 'workflow', parameters: [] })).toBe(false)
  })
})
