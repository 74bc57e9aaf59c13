/**
 * Epoch rotation under a running orchestrator (semantics.md §23): in-memory state keyed by
 * integer ids stays valid (queue, assignments, held sets, waiters), and acting on an archived
 * execution copies its run into the active epoch first (copy-on-reference).
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  connectSession,
  createSession,
  handleWorkerFrame,
  Orchestrator,
  rotateEpoch,
  startEpochRotation,
  submitWorkflow,
  declareTargets,
  type LiveSession,
} from '../../../internal/orchestrator/index.ts'
import { RawJson } from '../../../internal/protocol/json.ts'
import type { ServerFrame } from '../../../internal/protocol/worker.ts'
import { OrchestrationStore, type WorkspaceRecord } from '../../../internal/store/index.ts'
import { workflowSubmission } from '../support/submission.ts'

let dir: string
let store: OrchestrationStore
let o: Orchestrator
let ws: WorkspaceRecord
let session: LiveSession
let sent: ServerFrame[]
let replies: Map<number, unknown>
let nextId = 1

const settle = () => new Promise((resolve) => setTimeout(resolve, 5))

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-rotation-'))
  store = new OrchestrationStore(join(dir, 'orchestration.sqlite'))
  o = new Orchestrator(store)
  o.start()
  ws = store.workspaces.create('main', null, Date.now())
  sent = []
  replies = new Map()
  session = createSession(o, { workspaceId: ws.id, provides: {}, accepts: {} }).session
  connectSession(o, session, { send: (f) => sent.push(f), close() {}, supportsAcks: true })
  declareTargets(o, session, { app: { workflow: ['main'], task: ['step'] } }, 10)
  await settle()
})
afterEach(() => {
  o.close()
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

function frame(request: string, params: unknown[]): number {
  const id = nextId++
  handleWorkerFrame(
    o,
    { session, reply: (i, r) => replies.set(i, r), fail: (i, m) => replies.set(i, { failed: m }) },
    { request: request as any, params, id, key: `k${id}` },
  )
  return id
}

function submit(): { runId: string; executionId: string } {
  return submitWorkflow(o, workflowSubmission(ws.id, { arguments: [new RawJson('1')] }))
}

const executed = () => sent.filter((f) => f[0] === 1 && (f[1] as any).command === 'execute').map((f) => (f[1] as any).params[0] as string)
const value = (data: unknown) => ['raw', data, []]

test('a waiter and an assignment survive rotation; the result arrives in the new epoch', async () => {
  const { executionId: parent } = submit()
  await settle()
  expect(executed()).toEqual([parent])
  const submitted = frame('submit', ['app', 'step', 'task', [value(2)], parent, null, null, null, null, null, 0, null, false, null, null])
  const child = (replies.get(submitted) as string[])[0]!
  await settle()
  expect(executed()).toEqual([parent, child])
  const select = frame('select', [[['execution', child]], parent, null, false, false])
  expect(replies.has(select)).toBe(false)

  const before = { pending: o.queue.pending().map((l) => l.exec.id), assigned: o.queue.assigned().map((l) => l.exec.id), held: session.heldIds() }
  const epoch = rotateEpoch(o)
  expect(epoch).toMatch(/^\d{8}_\d{4}$/)
  expect({ pending: o.queue.pending().map((l) => l.exec.id), assigned: o.queue.assigned().map((l) => l.exec.id), held: session.heldIds() }).toEqual(before)

  frame('put_result', [child, value('child done')])
  expect(replies.get(select)).toMatchObject({ winner: 0, status: 'ok' })
  frame('put_result', [parent, value('parent done')])
  expect(o.resolve(o.executionByExternalId(parent)!.id)).toMatchObject({ final: true, result: { type: 'value' } })
  expect(store.db.query('PRAGMA foreign_key_check').all()).toEqual([])
})

test('select on an execution of an archived run copies the run and answers from it', async () => {
  const { executionId: old } = submit()
  await settle()
  frame('put_result', [old, value('archived value')])
  // a session still holding a finished execution keeps its run live; released, it is archived
  frame('notify_terminated', [[old]])
  rotateEpoch(o)
  expect(o.executionByExternalId(old)).toBeNull()
  expect(store.findExecution(old)?.epochId).not.toBeNull()

  const { executionId: caller } = submit()
  await settle()
  const select = frame('select', [[['execution', old]], caller, null, false, false])
  const reply = replies.get(select) as any
  expect(reply).toMatchObject({ winner: 0, status: 'ok' })
  expect(reply.value[1]).toEqual(new RawJson('"archived value"'))
  // copied into the active epoch (new ids), with the dependency recorded there
  const copied = o.executionByExternalId(old)!
  expect(copied).not.toBeNull()
  expect(store.runs.dependenciesOf(o.executionByExternalId(caller)!.id)).toEqual([copied.id])
  // an unknown handle is still refused
  const unknown = frame('select', [[['execution', 'RnoSuch:1:1']], caller, null, false, false])
  expect(replies.get(unknown)).toEqual({ failed: 'not_found' })
})

test('the size check rotates once past the threshold, then waits for growth', async () => {
  submit()
  const rotated: string[] = []
  const stop = startEpochRotation(o, { maxBytes: 1, intervalMs: 5, onRotated: (id) => rotated.push(id) })
  try {
    await new Promise((resolve) => setTimeout(resolve, 60))
    // everything live was copied: the new database is as big, so no rotation every tick
    expect(rotated.length).toBe(1)
    expect(store.epochs!.list().map((a) => a.id)).toEqual(rotated)
  } finally {
    stop()
  }
})
