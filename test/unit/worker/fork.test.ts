/** Fork mode with our real Python adapter, and plain spawning for adapters that don't offer it. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RawJson } from '../../../internal/protocol/json.ts'
import { ForkExecutorLauncher } from '../../../internal/worker/fork-launcher.ts'
import { FakeServer } from './support/fake-server.ts'
import { fakeSpawnOptions, inline, realSpawnOptions, recordingLog, startHarness, type Harness } from './support/harness.ts'

const FLOWS = `
import os
import coflux as cf

@cf.task()
def add(a, b):
    return a + b

@cf.task()
def pid():
    return os.getpid()

@cf.task()
def die(code):
    os.write(2, b"dying now\\n")  # fd 2 itself: Python-level stderr is captured as logs
    os._exit(code)

@cf.task()
def nap(seconds):
    import time
    time.sleep(seconds)
`

let project: string
let server: FakeServer | undefined
let harness: Harness | undefined
const launchers: ForkExecutorLauncher[] = []
const socketDirs: string[] = []

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'coflux-fork-test-'))
  writeFileSync(join(project, 'flows.py'), FLOWS)
})

afterAll(() => rmSync(project, { recursive: true, force: true }))

afterEach(async () => {
  await harness?.close()
  harness = undefined
  server?.stop()
  await Promise.all(launchers.splice(0).map((l) => l.close()))
  for (const dir of socketDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function launcher(spawn = realSpawnOptions(project, ['flows'])) {
  const dir = mkdtempSync(join(tmpdir(), 'coflux-fork-sock-'))
  socketDirs.push(dir)
  const l = new ForkExecutorLauncher(spawn, dir, recordingLog().log, 10_000)
  launchers.push(l)
  return l
}

describe('fork executor launcher', () => {
  test('our adapter becomes a template; executors are forked children in their own process groups', async () => {
    const l = launcher()
    const [a, b] = await Promise.all([l.launch(), l.launch()])
    expect(l.isForking).toBe(true)
    expect(a.pid).not.toBe(b.pid)
    for (const executor of [a, b]) {
      const pgid = Number((await Bun.$`ps -o pgid= -p ${executor.pid}`.text()).trim())
      expect(pgid).toBe(executor.pid)
    }
    // an idle child whose input is closed exits 0, as the template reports
    a.closeInput()
    expect(await a.exited).toEqual({ code: 0, signal: null })
    b.kill()
    expect(await b.exited).toEqual({ code: null, signal: 'SIGKILL' })
  })

  test('an adapter without fork mode is spawned plainly', async () => {
    const l = launcher(fakeSpawnOptions())
    const executors = await Promise.all([l.launch(), l.launch(), l.launch()])
    expect(l.isForking).toBe(false)
    expect(new Set(executors.map((e) => e.pid)).size).toBe(3)
    executors.forEach((e) => e.kill())
  })

  test('a new template is started when the template dies', async () => {
    const l = launcher()
    const first = await l.launch()
    const template = Number((await Bun.$`ps -o ppid= -p ${first.pid}`.nothrow().text()).trim())
    first.kill()
    process.kill(template, 'SIGKILL')
    await Bun.sleep(100)
    const next = await l.launch()
    expect(next.isAlive).toBe(true)
    expect(l.isForking).toBe(true)
    next.kill()
  })
})

describe('executions on forked executors', () => {
  async function start() {
    server = new FakeServer()
    harness = startHarness(server, { fork: true, spawn: realSpawnOptions(project, ['flows']), concurrency: 3 })
    await server.until(() => server!.named('declare_targets').length > 0)
    return server
  }
  const done = (id: string) => () => server!.named('notify_terminated').find((f) => (f.params[0] as string[]).includes(id))
  const result = (id: string) => (server!.named('put_result').find((f) => f.params[0] === id)!.params[1] as [string, RawJson])[1].text

  function run(id: string, target: string, args: unknown[], timeout: number | null = null) {
    server!.send([1, { command: 'execute', params: [id, 'flows', target, args, id.split(':')[0], 'W1', timeout] }])
  }

  test('run one execution per fresh process', async () => {
    await start()
    run('F1:1:1', 'add', [inline(2), inline(3)])
    run('F1:2:1', 'pid', [])
    run('F1:3:1', 'pid', [])
    for (const id of ['F1:1:1', 'F1:2:1', 'F1:3:1']) await server!.until(done(id))
    expect(result('F1:1:1')).toBe('5')
    expect(result('F1:2:1')).not.toBe(result('F1:3:1'))
    expect((harness!.launcher as ForkExecutorLauncher).isForking).toBe(true)
  })

  test('a crashing child reports its exit code and stderr; a timed-out child is killed', async () => {
    await start()
    run('F2:1:1', 'die', [inline(7)])
    await server!.until(done('F2:1:1'))
    const [, [type, message]] = server!.named('put_error')[0]!.params as [string, [string, string]]
    expect(type).toBe('internal')
    expect(message).toStartWith('executor exited unexpectedly (exit code 7)')
    expect(message).toContain('dying now')
    run('F2:2:1', 'nap', [inline(30)], 300)
    await server!.until(done('F2:2:1'))
    expect(server!.named('put_timeout').map((f) => f.params[0])).toEqual(['F2:2:1'])
  })
})
