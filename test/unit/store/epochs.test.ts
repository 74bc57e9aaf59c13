/**
 * Epochs of the orchestration store (semantics.md §23): rotation keeps live runs with their
 * ids, archives are read in place through the index, copy-on-reference gives new ids, and the
 * index (Bloom filters) is persisted.
 */
import { Database } from 'bun:sqlite'
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RawJson } from '../../../internal/protocol/json.ts'
import { nextArchiveId, recoverRotation } from '../../../internal/store/rotating-database.ts'
import { OrchestrationStore, type ExecutionRecord, type NewStep, type RunRecord } from '../../../internal/store/index.ts'

let dir: string
let path: string
let store: OrchestrationStore
let ws: number
let now = Date.UTC(2026, 4, 16, 12, 0, 0)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-epochs-'))
  path = join(dir, 'orchestration.sqlite')
  store = new OrchestrationStore(path)
  ws = store.workspaces.create('main', null, now).id
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

function value(json: string, refs: any[] = []): number {
  return store.values.put(['raw', new RawJson(json), refs])
}

function step(runId: number, over: Partial<NewStep> = {}): NewStep {
  return {
    runId,
    parentExecutionId: null,
    module: 'app',
    target: 'main',
    type: 'workflow',
    priority: 0,
    waitFor: [],
    cacheConfig: null,
    cacheKey: null,
    deferKey: null,
    memoKey: null,
    retryLimit: 0,
    resumeLimit: 0,
    concurrency: null,
    backoffMin: 0,
    backoffMax: 0,
    recurrent: false,
    delay: 0,
    timeout: 0,
    requires: null,
    argumentIds: [value('1')],
    ...over,
  }
}

/** A run with one step and one execution, optionally finished with a value. */
function run(options: { result?: string; cacheKey?: Uint8Array; idempotencyKey?: Uint8Array; target?: string } = {}): { run: RunRecord; exec: ExecutionRecord } {
  const r = store.runs.createRun({ parentExecutionId: null, requires: {}, memo: false, idempotencyKey: options.idempotencyKey ?? null, createdBy: null }, now)
  const s = store.runs.createStep(
    step(r.id, {
      target: options.target ?? 'main',
      cacheKey: options.cacheKey ?? null,
      cacheConfig: options.cacheKey ? { params: true, maxAge: null, namespace: null, version: null } : null,
    }),
    now,
  )
  const exec = store.runs.createExecution(s.id, ws, null, now)
  if (options.result !== undefined) store.results.record(exec.id, { type: 'value', valueId: value(options.result) }, now)
  return { run: r, exec }
}

function archiveFiles(): string[] {
  return readdirSync(join(dir, 'orchestration')).filter((f) => f.endsWith('.sqlite')).sort()
}

test('epoch ids are YYYYMMDD_NNNN, numbered within the day', () => {
  expect(nextArchiveId(now, [])).toBe('20260516_0001')
  expect(nextArchiveId(now, ['20260516_0001', '20260516_0007', '20260515_0009'])).toBe('20260516_0008')
  expect(nextArchiveId(now + 86_400_000, ['20260516_0003'])).toBe('20260517_0001')
})

test('nothing is created on disk until the first rotation', () => {
  expect(existsSync(join(dir, 'orchestration'))).toBe(false)
  expect(store.epochs!.list()).toEqual([])
})

test('rotation archives the active file, copies configuration whole and live runs with their ids', () => {
  const token = store.tokens.create({ tokenHash: 'h', name: 't', workspaces: null, createdBy: null, expiresAt: null }, 1)
  const { session } = store.sessions.create({ workspaceId: ws, provides: {}, accepts: {} }, now)
  store.manifests.replace(ws, { app: { main: { parameters: [], waitFor: [], cache: null, defer: null, delay: 0, retries: null, recurrent: false, timeout: 0, requires: null, memo: false, instruction: null } as any } }, now)
  const finished = run({ result: '"done"' })
  const queued = run()
  store.results.assign(queued.exec.id, session.id, now)

  const epoch = store.epochs!.rotate(now)
  expect(epoch).toBe('20260516_0001')
  expect(archiveFiles()).toEqual(['20260516_0001.sqlite', 'index.sqlite'])
  // the archive left WAL mode: it opens read-only without side files
  expect(existsSync(join(dir, 'orchestration', '20260516_0001.sqlite-wal'))).toBe(false)
  expect(store.epochs!.list()).toEqual([{ id: epoch, archivedAt: now, indexed: false }])

  // configuration: same rows, same ids
  expect(store.workspaces.get(ws)?.name).toBe('main')
  expect(store.tokens.getByExternalId(token.externalId)?.id).toBe(token.id)
  expect(store.sessions.get(session.id)?.externalId).toBe(session.externalId)
  expect(Object.keys(store.manifests.list(ws))).toEqual(['app'])
  // the live run kept its ids, with its assignment; the finished one stayed in the archive
  expect(store.runs.getRunByExternalId(queued.run.externalId)?.id).toBe(queued.run.id)
  expect(store.runs.getExecution(queued.exec.id)?.externalId).toBe(queued.exec.externalId)
  expect(store.results.assignment(queued.exec.id)?.sessionId).toBe(session.id)
  expect(store.runs.unfinishedExecutions().map((e) => e.id)).toEqual([queued.exec.id])
  expect(store.runs.getRunByExternalId(finished.run.externalId)).toBeNull()
  // read-only lookups reach the archive
  const found = store.findRun(finished.run.externalId)!
  expect(found.epochId).toBe(epoch)
  expect(found.store.results.get(finished.exec.id)?.type).toBe('value')
  expect(store.findExecution(finished.exec.externalId)?.value.externalId).toBe(finished.exec.externalId)
  // archives are read-only
  expect(() => found.store.workspaces.create('nope', null, now)).toThrow()
  // the new active database is a working store
  expect(store.db.query('PRAGMA foreign_key_check').all()).toEqual([])
  const later = run({ result: '2' })
  expect(store.results.get(later.exec.id)?.type).toBe('value')
})

test('a pending redirect keeps its target run live; a resolved one becomes a resolved-form result', () => {
  const target = run({ result: '42', cacheKey: new Uint8Array([1]) })
  const pendingTarget = run()
  // finished run whose cached call still waits on a pending execution: its chain is live
  const waiting = run()
  store.results.record(waiting.exec.id, { type: 'cached', successorId: pendingTarget.exec.id }, now)
  // pending run with a cached step that resolved to a value in a run that is finished
  const live = run()
  const s2 = store.runs.createStep(step(live.run.id, { parentExecutionId: live.exec.id, type: 'task' }), now)
  const cachedCall = store.runs.createExecution(s2.id, ws, null, now)
  store.runs.addChild(live.exec.id, cachedCall.id, null)
  store.results.record(cachedCall.id, { type: 'cached', successorId: target.exec.id }, now)

  store.epochs!.rotate(now)

  expect(store.runs.getRunByExternalId(pendingTarget.run.externalId)).not.toBeNull()
  expect(store.runs.getRunByExternalId(waiting.run.externalId)).not.toBeNull()
  expect(store.results.get(waiting.exec.id)?.successorId).toBe(pendingTarget.exec.id)
  expect(store.runs.getRunByExternalId(target.run.externalId)).toBeNull()
  const resolved = store.results.get(cachedCall.id)!
  expect(resolved).toMatchObject({ type: 'cached', successorId: null, successorRef: target.exec.externalId })
  expect(store.values.get(resolved.valueId!)?.[1]).toEqual(new RawJson('42'))
  expect(store.runs.childrenOf(live.exec.id)).toEqual([{ childId: cachedCall.id, groupId: null }])
})

test('copy-on-reference copies a run with new ids, its values and parent, consistently', () => {
  const parent = run()
  const childRun = store.runs.createRun({ parentExecutionId: parent.exec.id, requires: {}, memo: false, idempotencyKey: null, createdBy: null }, now)
  const childStep = store.runs.createStep(step(childRun.id, { argumentIds: [value('"arg"')] }), now)
  const childExec = store.runs.createExecution(childStep.id, ws, null, now)
  store.results.record(childExec.id, { type: 'value', valueId: value('"child result"') }, now)
  store.results.record(parent.exec.id, { type: 'spawned', successorId: childExec.id }, now)
  const input = store.inputs.create({ runId: childRun.id, runExternalId: childRun.externalId, workspaceId: ws, template: 'Name {who}', placeholders: { who: value('"Bob"') }, schema: null, key: null, title: null, actions: null, initial: null, requires: {}, executionId: childExec.id }, now)
  store.inputs.respond(input.id, 'value', '"Alice"', null, now)
  store.metricDefinitions.define(childExec.id, 'loss', { group: null, groupUnits: null, groupLower: null, groupUpper: null, scale: null, units: null, progress: false, lower: null, upper: null })
  store.epochs!.rotate(now)
  // the active epoch fills up with other rows, so the archived ids are taken here
  for (let i = 0; i < 5; i++) run({ result: String(i) })
  value('"other"')

  expect(store.findInput(input.externalId)?.epochId).toBe('20260516_0001')
  const copied = store.ensureRunActive(childRun.externalId)!
  expect(copied.run.externalId).toBe(childRun.externalId)
  // the parent run came along (a run is copied with its parents); nothing is left pending
  expect(copied.copied.runs.map((r) => r.externalId).sort()).toEqual([childRun.externalId, parent.run.externalId].sort())
  expect(copied.copied.pending).toEqual([])
  expect(store.db.query('PRAGMA foreign_key_check').all()).toEqual([])

  const exec = store.runs.getExecutionByParts(childRun.externalId, 1, 1)!
  expect(exec.id).not.toBe(childExec.id)
  const newParent = store.runs.getExecutionByParts(parent.run.externalId, 1, 1)!
  expect(store.runs.getRun(exec.runId)?.parentExecutionId).toBe(newParent.id)
  expect(store.results.get(newParent.id)).toMatchObject({ type: 'spawned', successorId: exec.id })
  expect(store.values.get(store.results.get(exec.id)!.valueId!)?.[1]).toEqual(new RawJson('"child result"'))
  expect(store.values.get(store.runs.getStep(exec.stepId)!.argumentIds[0]!)?.[1]).toEqual(new RawJson('"arg"'))
  const copiedInput = store.inputs.getByExternalId(input.externalId)!
  expect(store.findInput(input.externalId)?.epochId).toBeNull()
  expect(copiedInput.executionId).toBe(exec.id)
  expect(store.values.get(copiedInput.placeholders.who!)?.[1]).toEqual(new RawJson('"Bob"'))
  expect(store.inputs.response(copiedInput.id)?.value).toBe('"Alice"')
  expect(Object.keys(store.metricDefinitions.ofExecution(exec.id))).toEqual(['loss'])
  // a second reference finds it active
  expect(store.ensureRunActive(childRun.externalId)?.copied.runs).toEqual([])
  expect(store.ensureRunActive('Rnope')).toBeNull()
})

test('idempotency keys, cache candidates and recent runs are found in archives', () => {
  const key = new Uint8Array([7, 7])
  const cacheKey = new Uint8Array([9])
  const keyed = run({ result: '1', idempotencyKey: key })
  const cached = run({ result: '"cached"', cacheKey })
  store.epochs!.rotate(now)

  expect(store.runs.findRunByIdempotencyKey(key, 0)).toBeNull()
  expect(store.epochs!.findRunByIdempotencyKey(key, now - 1000)?.value.externalId).toBe(keyed.run.externalId)
  // an archive rotated out before the window cannot hold a live key
  expect(store.epochs!.findRunByIdempotencyKey(key, now + 1)).toBeNull()

  const hit = store.epochs!.findCacheHit(cacheKey, new Set([ws]), null, now)!
  expect(hit.executionExternalId).toBe(cached.exec.externalId)
  expect(hit.value[1]).toEqual(new RawJson('"cached"'))
  expect(store.epochs!.findCacheHit(cacheKey, new Set([ws + 1]), null, now)).toBeNull()
  expect(store.epochs!.findCacheHit(cacheKey, new Set([ws]), 10, now + 1000)).toBeNull()

  const recent = run({ result: '3' })
  const listed = store.recentRunsOfWorkflow('app', 'main', ws).map((r) => r.externalId)
  expect(listed).toContain(recent.run.externalId)
  expect(listed).toContain(keyed.run.externalId)
})

test('the index is built in the background, persisted, and used for lookups', async () => {
  const archived = run({ result: '1', idempotencyKey: new Uint8Array([1]), cacheKey: new Uint8Array([2]) })
  store.epochs!.rotate(now)
  now += 1000
  const second = run({ result: '2' })
  store.epochs!.rotate(now)
  await store.epochs!.indexed()
  expect(store.epochs!.list().map((a) => a.indexed)).toEqual([true, true])
  expect(store.epochs!.runIdTaken(archived.run.externalId)).toBe(true)
  expect(store.epochs!.runIdTaken(second.run.externalId)).toBe(true)
  expect(store.epochs!.runIdTaken('RzzzzzzzzZ')).toBe(false)

  // reopened: the filters come from the index, no rebuild
  store.close()
  store = new OrchestrationStore(path)
  expect(store.epochs!.list()).toEqual([
    { id: '20260516_0002', archivedAt: now, indexed: true },
    { id: '20260516_0001', archivedAt: now - 1000, indexed: true },
  ])
  expect(store.findRun(archived.run.externalId)?.epochId).toBe('20260516_0001')
  expect(store.findRun(second.run.externalId)?.epochId).toBe('20260516_0002')
  expect(store.findRun('RzzzzzzzzZ')).toBeNull()
})

test('an epoch index written before it had migrations is taken over as it is', async () => {
  const archived = run({ result: '1' })
  store.epochs!.rotate(now)
  await store.epochs!.indexed()
  store.close()
  // as the index was created before its tables moved into migrations: no schema_migrations
  const index = new Database(join(dir, 'orchestration', 'index.sqlite'))
  index.exec('DROP TABLE schema_migrations')
  index.close()
  store = new OrchestrationStore(path)
  expect(store.epochs!.list()).toEqual([{ id: '20260516_0001', archivedAt: now, indexed: true }])
  expect(store.findRun(archived.run.externalId)?.epochId).toBe('20260516_0001')
  const reopened = new Database(join(dir, 'orchestration', 'index.sqlite'), { readonly: true })
  expect(reopened.query('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'initial' }])
  reopened.close()
})

test('run ids are checked against every archive', () => {
  const archived = run({ result: '1' })
  store.epochs!.rotate(now)
  expect(store.runs.getRunByExternalId(archived.run.externalId)).toBeNull()
  expect(store.epochs!.runIdTaken(archived.run.externalId)).toBe(true)
  // the generator consults the archives: an id taken there is never handed out again
  const seen = new Set<string>()
  const taken = (id: string) => seen.add(id) && id === archived.run.externalId
  store.runs.createRun({ parentExecutionId: null, requires: {}, memo: false, idempotencyKey: null, createdBy: null }, now, taken)
  for (const id of seen) expect(store.epochs!.runIdTaken(id)).toBe(id === archived.run.externalId)
})

test('an interrupted rotation is finished or discarded before the store opens', () => {
  store.epochs!.rotate(now)
  store.close()
  const next = join(dir, 'orchestration', 'next.sqlite')
  // crash after building the new database, before it replaced the active one: discarded
  writeFileSync(next, 'partial')
  recoverRotation(path)
  expect(existsSync(next)).toBe(false)
  expect(existsSync(path)).toBe(true)
  // crash between the two renames: the new database takes its place
  const reopened = new OrchestrationStore(path)
  reopened.close()
  const { renameSync } = require('node:fs')
  renameSync(path, next)
  recoverRotation(path)
  expect(existsSync(path)).toBe(true)
  store = new OrchestrationStore(path)
  expect(store.workspaces.get(ws)?.name).toBe('main')
  expect(store.epochs!.list().map((a) => a.id)).toEqual(['20260516_0001'])
})
