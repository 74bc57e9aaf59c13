/** `coflux worker`'s engine end to end: discovery with our Python adapter, a scripted server. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultConfig } from '../../../internal/config/resolve.ts'
import type { RawJson } from '../../../internal/protocol/json.ts'
import { runWorker, ShutdownSignals, type WorkerRunOptions } from '../../../internal/worker/index.ts'
import { FakeServer } from './support/fake-server.ts'
import { FAKE_ADAPTER, inline, PYTHON, PYTHON_SRC, recordingLog } from './support/harness.ts'

const FLOWS = `
import time
import coflux as cf

@cf.task()
def add(a, b):
    return a + b

@cf.task()
def nap(seconds):
    time.sleep(seconds)
    return "rested"

@cf.workflow()
def main(x: int = 1):
    return x
`

let project: string
let server: FakeServer

beforeEach(() => {
  project = mkdtempSync(join(tmpdir(), 'coflux-supervisor-test-'))
  writeFileSync(join(project, 'flows.py'), FLOWS)
  server = new FakeServer()
})

afterEach(() => {
  server.stop()
  rmSync(project, { recursive: true, force: true })
})

function options(overrides: Partial<WorkerRunOptions> = {}) {
  const config = { ...defaultConfig(), host: `localhost:${server.server.port}`, token: 'tok', project: 'p1' }
  config.worker = { ...config.worker, concurrency: 2 }
  const log = recordingLog()
  const signals = new ShutdownSignals(() => {})
  const opts: WorkerRunOptions = {
    config,
    modules: ['flows'],
    adapter: [PYTHON, '-m', 'coflux'],
    provides: ['gpu:A100', 'fast'],
    accepts: ['region:eu'],
    register: false,
    watch: false,
    drainTimeoutMs: 10_000,
    cwd: project,
    log: log.log,
    signals,
    ...overrides,
  }
  return { opts, log, signals }
}

const done = (id: string) => () => server.named('notify_terminated').find((f) => (f.params[0] as string[]).includes(id))
function execute(id: string, target: string, args: unknown[]) {
  server.send([1, { command: 'execute', params: [id, 'flows', target, args, id.split(':')[0], 'W1', null] }])
}

describe('worker', () => {
  test('discovers, registers, creates a session, runs executions and drains on a signal', async () => {
    const { opts, log, signals } = options({ register: true })
    const exit = runWorker(opts)
    await server.until(() => server.named('declare_targets').length)
    // [targets, concurrency, maxWaiting]: max_waiting unset, so twice the concurrency
    expect(server.named('declare_targets')[0]!.params).toEqual([{ flows: { task: ['add', 'nap'], workflow: ['main'] } }, 2, 4])
    const register = server.api.find((c) => c.name === 'register_manifests')!
    expect(Object.keys(register.body.manifests.flows)).toEqual(['main'])
    expect(register.body.workspaceId).toBe('W1')
    const session = server.api.find((c) => c.name === 'create_session')!
    expect(session.body).toEqual({ workspaceId: 'W1', provides: { gpu: ['A100'], fast: ['true'] }, accepts: { region: ['eu'] } })
    expect(server.sessions[0]!.token).toBe('sess2.secret')

    execute('W1R:1:1', 'add', [inline(2), inline(40)])
    await server.until(done('W1R:1:1'))
    expect((server.named('put_result')[0]!.params[1] as [string, RawJson])[1].text).toBe('42')

    execute('W1R:2:1', 'nap', [inline(0.5)])
    await server.until(() => server.named('started').length === 2)
    signals.notify()
    await server.until(() => server.named('session_draining').length)
    expect(await exit).toBe(0)
    expect(server.named('put_result').length).toBe(2)
    expect(log.has(/shutting down \(signal again to abort drain early\)/)).toBe(true)
    expect(log.has(/W1R:1:1 flows\/add completed/)).toBe(true)
  })

  test('--concurrency and --max-waiting are declared to the server', async () => {
    const { opts, log, signals } = options({ concurrency: 3, maxWaiting: 5 })
    const exit = runWorker(opts)
    await server.until(() => server.named('declare_targets').length)
    expect(server.named('declare_targets')[0]!.params.slice(1)).toEqual([3, 5])
    expect(log.has(/concurrency 3, max waiting 5\)$/)).toBe(true)
    signals.notify()
    expect(await exit).toBe(0)
  })

  test('a second signal kills running executions and reports them terminated without a result', async () => {
    const { opts, signals } = options({ session: 'given.token' })
    const exit = runWorker(opts)
    await server.until(() => server.named('declare_targets').length)
    expect(server.api.some((c) => c.name === 'create_session')).toBe(false)
    expect(server.sessions[0]!.token).toBe('given.token')
    execute('W2R:1:1', 'nap', [inline(30)])
    await server.until(() => server.named('started').length)
    signals.notify()
    await server.until(() => server.named('session_draining').length)
    signals.notify()
    expect(await exit).toBe(0)
    expect(server.named('notify_terminated').map((f) => f.params[0])).toEqual([['W2R:1:1']])
    expect(server.named('put_result').length + server.named('put_error').length).toBe(0)
  })

  test('the drain timeout stops what still runs', async () => {
    const { opts, log, signals } = options({ drainTimeoutMs: 300 })
    const exit = runWorker(opts)
    await server.until(() => server.named('declare_targets').length)
    execute('W4R:1:1', 'nap', [inline(30)])
    await server.until(() => server.named('started').length)
    signals.notify()
    expect(await exit).toBe(0)
    expect(log.has(/drain timed out; aborting remaining executions/)).toBe(true)
    expect(server.named('notify_terminated').map((f) => f.params[0])).toEqual([['W4R:1:1']])
  })

  test('--watch reloads on a .py change with a new session and rediscovery', async () => {
    const { opts, log, signals } = options({ watch: true })
    const exit = runWorker(opts)
    await server.until(() => server.named('declare_targets').length)
    writeFileSync(join(project, 'flows.py'), FLOWS + '\n@cf.task()\ndef extra():\n    return 1\n')
    await server.until(() => server.named('declare_targets').length === 2)
    expect(log.has(/change detected, reloading\.\.\./)).toBe(true)
    expect(server.api.filter((c) => c.name === 'create_session').length).toBe(2)
    expect(server.named('declare_targets')[1]!.params[0]).toEqual({ flows: { task: ['add', 'extra', 'nap'], workflow: ['main'] } })
    execute('W3R:1:1', 'add', [inline(1), inline(1)])
    await server.until(done('W3R:1:1'))
    signals.notify()
    expect(await exit).toBe(0)
  })

  test('an incompatible adapter is logged as an error and exits 1', async () => {
    const script = join(project, 'adapter.sh')
    writeFileSync(
      script,
      `#!/bin/sh\nif [ "$1" = discover ]; then PYTHONPATH=${PYTHON_SRC} exec ${PYTHON} -m coflux "$@"; fi\nFAKE_VERSION=0.11 exec ${PYTHON} ${FAKE_ADAPTER} "$@"\n`,
    )
    chmodSync(script, 0o755)
    const { opts, log } = options({ adapter: [script] })
    expect(await runWorker(opts)).toBe(1)
    expect(log.lines.find((l) => l.level === 'error')?.text).toBe(
      'adapter version mismatch: CLI expects protocol version 0.12, but the adapter reports 0.11 — update the coflux Python package',
    )
  })

  test('no modules is an error', async () => {
    const { opts } = options({ modules: [] })
    await expect(runWorker(opts)).rejects.toThrow("no modules specified; pass them as arguments or set 'worker.modules' in coflux.toml")
  })
})
