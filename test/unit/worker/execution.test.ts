/** One execution through the worker: real Python executors (the fake adapter) and a scripted server. */
import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RawJson } from '../../../internal/protocol/json.ts'
import { FakeServer } from './support/fake-server.ts'
import { fakeSpawnOptions, inline, startHarness, type Harness } from './support/harness.ts'

let server: FakeServer
let harness: Harness

afterEach(async () => {
  await harness?.close()
  server?.stop()
})

async function start(options: Parameters<typeof startHarness>[1] = {}, serverOptions: ConstructorParameters<typeof FakeServer>[0] = {}) {
  server = new FakeServer(serverOptions)
  harness = startHarness(server, options)
  await server.until(() => server.named('declare_targets').length > 0)
}

const terminated = (id: string) => () => server.named('notify_terminated').find((f) => (f.params[0] as string[]).includes(id))

function text(value: unknown): string {
  return value instanceof RawJson ? value.text : JSON.stringify(value)
}

describe('execute → started → put_result → notify_terminated', () => {
  test('reports in order, with the result canonicalised', async () => {
    await start()
    expect(server.named('declare_targets')[0]!.params).toEqual([{ fake: { task: ['echo'] } }, 2, 4])
    // numbers keep their text end to end: 1.0 stays 1.0
    server.execute('R1:1:1', 'echo', [['raw', new RawJson('{"type":"dict","items":["b",1.0,"a",2]}'), []]])
    await server.until(terminated('R1:1:1'))
    const names = server.frames.filter((f) => f.params[0] === 'R1:1:1' || (f.request === 'notify_terminated')).map((f) => f.request)
    expect(names).toEqual(['started', 'put_result', 'notify_terminated'])
    const [, value] = server.named('put_result')[0]!.params as [string, unknown[]]
    expect(value[0]).toBe('raw')
    expect(text(value[1])).toBe('{"items":["b",1.0,"a",2],"type":"dict"}')
    expect(server.named('started')[0]!.params).toEqual(['R1:1:1', {}])
  })

  test('passes the execute fields, fresh directories, and removes them after exit', async () => {
    await start({ spawn: fakeSpawnOptions({ COFLUX_EXECUTOR_MODULES: 'fake', COFLUX_SESSION: '' }) })
    server.execute('R2:3:2', 'info', [inline(null)], 30_000)
    await server.until(terminated('R2:3:2'))
    const [, value] = server.named('put_result')[0]!.params as [string, [string, unknown]]
    const key = value[0] === 'blob' ? (value[1] as string) : undefined
    const map = JSON.parse(key ? new TextDecoder().decode(server.blobs.get(key)) : text(value[1]))
    expect(map.run_id).toBe('R2')
    expect(map.workspace_id).toBe('W1')
    expect(map.attempt).toBe(2)
    expect(map.timeout_ms).toBe(30_000)
    expect(map.dirs_exist).toBe(true)
    expect(map.working_dir).toMatch(/coflux-exec-/)
    expect(map.temp_dir).toMatch(/coflux-xfer-/)
    expect(map.cwd).toBe(process.cwd())
    expect(map.env_modules).toBe('fake')
    expect(existsSync(map.working_dir as string)).toBe(false)
    expect(existsSync(map.temp_dir as string)).toBe(false)
  })

  test('an execution error is forwarded with parsed frames and retryable', async () => {
    await start()
    server.execute('R3:1:1', 'fail')
    await server.until(terminated('R3:1:1'))
    expect(server.named('put_error')[0]!.params).toEqual([
      'R3:1:1',
      ['builtins.ZeroDivisionError', 'division by zero', [['/app/flows.py', 10, 'fetch', 'return 1 / 0']], false],
    ])
  })

  test('a big result becomes a blob; a blob argument arrives as a file from the cache', async () => {
    await start()
    const big = 'z'.repeat(500)
    server.execute('R4:1:1', 'echo', [inline(big)])
    await server.until(terminated('R4:1:1'))
    const [, value] = server.named('put_result')[0]!.params as [string, unknown[]]
    expect(value[0]).toBe('blob')
    expect(value[2]).toBe(502)
    expect(new TextDecoder().decode(server.blobs.get(value[1] as string))).toBe(JSON.stringify(big))
    // the same blob as an argument: downloaded, handed over as a file, echoed back
    server.execute('R4:2:1', 'echo', [value])
    await server.until(terminated('R4:2:1'))
    const echoed = server.named('put_result')[1]!.params[1] as unknown[]
    expect(echoed[1]).toBe(value[1])
  })

  test('an execute for an execution already held is ignored', async () => {
    await start()
    server.execute('R5:1:1', 'sleep', [inline(0.3)])
    server.execute('R5:1:1', 'sleep', [inline(0.3)])
    await server.until(terminated('R5:1:1'))
    await Bun.sleep(100)
    expect(server.named('started').length).toBe(1)
  })
})

describe('failures', () => {
  test('a crash is an internal error naming the exit code and the last stderr lines', async () => {
    await start()
    server.execute('C1:1:1', 'crash')
    await server.until(terminated('C1:1:1'))
    expect(server.named('put_error')[0]!.params).toEqual([
      'C1:1:1',
      ['internal', 'executor exited unexpectedly (exit code 3)\nwarm stderr line\nabout to crash\nreally', []],
    ])
  })

  test("a crash message quotes the execution's captured stderr too, without the adapter's entry frames", async () => {
    await start()
    server.execute('C4:1:1', 'crash_captured')
    await server.until(terminated('C4:1:1'))
    const message = (server.named('put_error')[0]!.params[1] as string[])[1]!
    expect(message).toStartWith('executor exited unexpectedly (exit code 3)\n')
    // stdout and stderr are separate pipes: their lines may arrive in either order
    expect(message.split('\n').slice(1).sort()).toEqual(
      ['warm stderr line', 'captured line', 'Fatal Python error: Segmentation fault', '  File "/app/flows.py", line 3 in crash'].sort(),
    )
  })

  test('exiting without a completion is a crash too', async () => {
    await start()
    server.execute('C2:1:1', 'exit0')
    await server.until(terminated('C2:1:1'))
    expect((server.named('put_error')[0]!.params[1] as string[])[1]).toStartWith('executor exited unexpectedly (exit code 0)')
  })

  test('NaN in a result fails the execution with the spec message', async () => {
    await start()
    server.execute('C3:1:1', 'nan')
    await server.until(terminated('C3:1:1'))
    expect(server.named('put_error')[0]!.params).toEqual([
      'C3:1:1',
      ['internal', 'value contains NaN or Infinity, which JSON cannot represent', []],
    ])
  })

  test('a timeout kills the executor and reports put_timeout, then termination', async () => {
    await start()
    server.execute('T1:1:1', 'sleep', [inline(30)], 300)
    await server.until(terminated('T1:1:1'))
    const frames = server.frames.filter((f) => f.params[0] === 'T1:1:1' || f.request === 'notify_terminated').map((f) => f.request)
    expect(frames).toEqual(['started', 'put_timeout', 'notify_terminated'])
    const started = server.named('started')[0]!.at
    const timeout = server.named('put_timeout')[0]!.at
    // not early; that it came from the timeout, not the 30 s sleep ending, is put_timeout above
    expect(timeout - started).toBeGreaterThanOrEqual(250)
  })

  test('an abort kills the executor; only the termination is reported', async () => {
    await start()
    server.execute('A1:1:1', 'sleep', [inline(30)])
    await server.until(() => server.named('started').length > 0)
    server.abort('A1:1:1')
    await server.until(terminated('A1:1:1'))
    expect(server.named('put_result').length + server.named('put_error').length).toBe(0)
  })

  test('an abort before the executor is bound never sends execute and reports termination', async () => {
    // the executor sends ready only once the gate file exists: on a loaded machine a fixed
    // ready delay could run out before the abort arrives
    const gate = join(tmpdir(), `coflux-ready-gate-${process.pid}-${Date.now()}`)
    await start({ spawn: fakeSpawnOptions({ FAKE_READY_GATE: gate }), concurrency: 1 })
    server.execute('A2:1:1', 'echo', [inline(1)])
    await server.until(() => harness.session.table.has('A2:1:1'))
    server.abort('A2:1:1')
    await server.until(terminated('A2:1:1'))
    writeFileSync(gate, '')
    // the executor it would have used goes back to the pool, never told to execute
    await harness.session.executorPool.until((pool) => pool.idleCount === 1)
    rmSync(gate)
    expect(server.named('started').length).toBe(0)
  })
})

describe('output', () => {
  test('stderr lines, non-protocol stdout lines and logs become log entries', async () => {
    await start()
    server.execute('L1:1:1', 'log')
    await server.until(terminated('L1:1:1'))
    server.execute('L1:2:1', 'garbage')
    await server.until(terminated('L1:2:1'))
    await server.until(() => server.logs.length >= 4)
    const byExec = (id: string) => server.logs.filter((l) => l.executionId === id)
    const logs = byExec('L1:1:1')
    const info = logs.find((l) => l.level === 2)
    expect(info.template).toBe('hello {name}')
    expect(info.runId).toBe('L1')
    expect(info.workspaceId).toBe('W1')
    expect(info.values.name).toEqual({ type: 'raw', data: 'world', references: [] })
    expect(info.values.big.type).toBe('blob')
    expect(info.values.big.size).toBe(302)
    expect(logs.filter((l) => l.level === 3).map((l) => l.template)).toContain('captured stderr')
    expect(logs.some((l) => l.template === 'not mine')).toBe(false)
    expect(byExec('L1:2:1').filter((l) => l.level === 1).map((l) => l.template)).toEqual([
      'this is not protocol',
      '{"also": "not protocol"}',
    ])
  })

  test('metric points are throttled per key, with leading and trailing edge', async () => {
    await start()
    server.execute('M1:1:1', 'metrics')
    await server.until(terminated('M1:1:1'))
    await server.until(() => server.metrics.length >= 3)
    const loss = server.metrics.filter((m) => m.key === 'loss')
    expect(loss.map((m) => m.value)).toEqual([0, 4])
    expect(loss.map((m) => m.at)).toEqual([0, 4])
    const free = server.metrics.find((m) => m.key === 'free')
    expect(free.runId).toBe('M1')
    expect(typeof free.at).toBe('number')
    expect(server.named('define_metric')[0]!.params).toEqual(['M1:1:1', 'loss', { throttle: 1, upper: 1 }])
  })
})
