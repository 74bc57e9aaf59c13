/**
 * The pools step of the scheduler (semantics.md §21) with a real store and a scripted
 * launcher: launching for queued work, the skip rules, launch errors, idle drain and stop,
 * eligibility of pool workers (§20.3) and the start-up rule.
 */
import { afterAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createPool,
  launchingPool,
  Orchestrator,
  setPoolDisabled,
  stopPoolWorker,
  submitWorkflow,
  type WorkerLauncher,
  type LaunchRequest,
  type PollResult,
  type WorkerChannel,
  runSchedulerPass,
  connectSession,
  declareTargets,
  notifyTerminated,
} from '../../../internal/orchestrator/index.ts'
import { RawJson } from '../../../internal/protocol/json.ts'
import { OrchestrationStore, type LaunchHandle, type PoolRecord, type WorkspaceRecord } from '../../../internal/store/index.ts'
import { workflowSubmission } from '../support/submission.ts'

const dirs: string[] = []
const open: Orchestrator[] = []
afterAll(() => {
  for (const o of open) o.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** A launcher whose answers the test decides. */
class ScriptedWorkerLauncher implements WorkerLauncher {
  launches: LaunchRequest[] = []
  stops: string[] = []
  polls: string[] = []
  launchResult: () => Promise<LaunchHandle> = async () => ({ type: 'fake' })
  pollResult: PollResult = { status: 'running' }

  launch(request: LaunchRequest): Promise<LaunchHandle> {
    this.launches.push(request)
    return this.launchResult()
  }
  async poll(worker: { workerId: string }): Promise<PollResult> {
    this.polls.push(worker.workerId)
    return this.pollResult
  }
  async stop(worker: { workerId: string }): Promise<void> {
    this.stops.push(worker.workerId)
  }
}

const channel: WorkerChannel = { send() {}, close() {}, supportsAcks: false }
const settle = () => Bun.sleep(5)
/** One scheduler pass, then the launcher calls it made (they run asynchronously) */
async function pass(): Promise<void> {
  runSchedulerPass(o)
  await settle()
}

let clock: number
let launcher: ScriptedWorkerLauncher
let store: OrchestrationStore
let o: Orchestrator
let ws: WorkspaceRecord
let pool: PoolRecord

function start(path = join(mkdtempSync(join(tmpdir(), 'coflux-pools-')), 'o.sqlite')): string {
  dirs.push(join(path, '..'))
  store = new OrchestrationStore(path)
  o = new Orchestrator(store, { launcher, now: () => clock })
  open.push(o)
  return path
}

function submit(module = 'app.flows', requires = {}) {
  return submitWorkflow(o, workflowSubmission(ws.id, { module, arguments: [new RawJson('1')], requires }))
}

function workerSession() {
  return o.sessions.all().find((s) => s.record.workerId !== null)!
}

beforeEach(() => {
  clock = 1_000_000
  launcher = new ScriptedWorkerLauncher()
  start()
  ws = store.workspaces.create('prod', null, clock)
  pool = createPool(o, ws.id, 'cpu', {
    modules: ['app.*'],
    provides: { gpu: ['A100'] },
    accepts: {},
    launcher: { type: 'process', directory: '/srv' },
  })
})

describe('launching (§21.2)', () => {
  test('queued work with no session launches one worker, with a session for it', async () => {
    const run = submit()
    const live = o.queue.get(store.runs.getExecutionByParts(run.runId, 1, 1)!.id)!
    expect(launchingPool(o, live)?.name).toBe('cpu')
    await pass()
    expect(launcher.launches).toHaveLength(1)
    const request = launcher.launches[0]!
    expect(request).toMatchObject({ poolName: 'cpu', workspaceName: 'prod', modules: ['app.*'], launcher: { type: 'process' } })
    const session = workerSession()
    expect(request.sessionToken.startsWith(`${session.record.externalId}.`)).toBe(true)
    expect(session.record.provides).toEqual({ gpu: ['A100'] })
    const worker = store.workers.getByExternalId(request.workerId)!
    expect(session.record.workerId).toBe(worker.id)
    expect(store.workers.get(worker.id)!.startedAt).toBe(clock)
  })

  test('no second launch while the worker is activating, nor within 10 s of the last one', async () => {
    submit()
    await pass()
    clock += 60_000
    await pass()
    expect(launcher.launches).toHaveLength(1) // not activated yet
    const session = workerSession()
    connectSession(o, session, channel)
    await pass()
    expect(launcher.launches).toHaveLength(1) // activated, no targets declared yet
    declareTargets(o, session, { other: { workflow: ['main'] } }, 1)
    await pass()
    expect(launcher.launches).toHaveLength(2) // ready but cannot take it: scale out
    clock += 5_000
    await pass()
    expect(launcher.launches).toHaveLength(2)
  })

  test('executions the pool does not serve launch nothing', async () => {
    submit('other')
    submit('app.flows', { gpu: ['T4'] })
    await pass()
    expect(launcher.launches).toHaveLength(0)
  })

  test('a disabled pool launches nothing', async () => {
    setPoolDisabled(o, pool, true)
    submit()
    await pass()
    expect(launcher.launches).toHaveLength(0)
  })

  test('a launch error deactivates the worker and removes its session', async () => {
    launcher.launchResult = async () => {
      throw new Error('no such directory')
    }
    const run = submit()
    await pass()
    const worker = store.workers.getByExternalId(launcher.launches[0]!.workerId)!
    expect(worker).toMatchObject({ startError: 'no such directory' })
    expect(worker.deactivatedAt).not.toBeNull()
    // the queue says why nothing runs, instead of "launching" forever
    const live = o.queue.get(store.runs.getExecutionByParts(run.runId, 1, 1)!.id)!
    expect(o.queueStatusOf(live, 'active')).toEqual({
      status: 'launching',
      reason: "pool 'cpu' failed to launch a worker (no such directory); retrying",
    })
    expect(workerSession()).toBeUndefined()
    clock += 10_000
    await pass()
    expect(launcher.launches).toHaveLength(2)
  })
})

describe('lifecycle (§21.5)', () => {
  async function runningWorker() {
    const run = submit()
    await pass()
    const session = workerSession()
    connectSession(o, session, channel)
    declareTargets(o, session, { 'app.flows': { workflow: ['main'] } }, 2)
    await pass()
    const execId = store.runs.getExecutionByParts(run.runId, 1, 1)!.id
    return { session, execId, workerId: session.record.workerId! }
  }

  test('the worker gets the work; once idle for 5 s it drains and is stopped, then deactivated', async () => {
    const { session, execId, workerId } = await runningWorker()
    expect(session.holds(execId)).toBe(true)
    o.recordResult(execId, { type: 'value' })
    notifyTerminated(o, session, [execId])
    await pass()
    clock += 4_000
    await pass()
    expect(store.workers.get(workerId)!.state).toBe('active')
    clock += 1_000
    await pass()
    expect(store.workers.get(workerId)!).toMatchObject({ state: 'draining', stoppingAt: clock })
    expect(launcher.stops).toHaveLength(1)
    expect(store.workers.get(workerId)!.stoppedAt).toBe(clock)
    // polled every 30 s while connected; the exit after a stop is no failure
    launcher.pollResult = { status: 'exited', exitCode: 143, logs: 'bye' }
    clock += 30_000
    await pass()
    expect(store.workers.get(workerId)!).toMatchObject({ error: null, logs: null })
    expect(store.workers.get(workerId)!.deactivatedAt).not.toBeNull()
    expect(o.sessions.has(session.record.id)).toBe(false)
  })

  test('an unexpected exit records exit_code and the logs', async () => {
    const { workerId } = await runningWorker()
    launcher.pollResult = { status: 'exited', exitCode: 2, logs: 'Traceback…' }
    clock += 30_000
    await pass()
    expect(store.workers.get(workerId)!).toMatchObject({ error: 'exit_code:2', logs: 'Traceback…' })
  })

  test('a lost worker is deactivated as process_lost', async () => {
    const { workerId } = await runningWorker()
    launcher.pollResult = { status: 'lost' }
    clock += 30_000
    await pass()
    expect(store.workers.get(workerId)!).toMatchObject({ error: 'process_lost' })
  })

  test('stop_worker drains: the worker gets nothing new and is stopped once empty', async () => {
    const { session, execId, workerId } = await runningWorker()
    stopPoolWorker(o, store.workers.get(workerId)!)
    const next = submit()
    await pass()
    const nextId = store.runs.getExecutionByParts(next.runId, 1, 1)!.id
    expect(session.holds(nextId)).toBe(false) // §20.3: draining workers are not eligible
    expect(launcher.stops).toHaveLength(0) // still holds the first execution
    o.recordResult(execId, { type: 'value' })
    notifyTerminated(o, session, [execId])
    await pass()
    expect(launcher.stops).toHaveLength(1)
  })
})

test('start-up: a worker that never got a launch result and has no session is deactivated', async () => {
  launcher.launchResult = () => new Promise(() => {}) // the server dies mid-launch
  submit()
  runSchedulerPass(o)
  const workerId = workerSession().record.workerId!
  const sessionId = workerSession().record.id
  store.sessions.expire(sessionId, clock)
  o.close()
  const path = join(dirs.at(-1)!, 'o.sqlite')
  store.close()
  start(path)
  o.start()
  await settle()
  expect(store.workers.get(workerId)!).toMatchObject({ error: 'server_restarted' })
})
