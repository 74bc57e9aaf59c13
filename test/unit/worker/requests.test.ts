/** Executor requests forwarded to the server (executor-protocol.md §6) and their replies. */
import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { RawJson } from '../../../internal/protocol/json.ts'
import type { WorkerFrame } from '../../../internal/protocol/worker.ts'
import { FakeServer, type FakeServerOptions } from './support/fake-server.ts'
import { inline, startHarness, type Harness } from './support/harness.ts'

let server: FakeServer
let harness: Harness

afterEach(async () => {
  await harness?.close()
  server?.stop()
})

async function start(reply: FakeServerOptions['reply']) {
  server = new FakeServer({ reply })
  harness = startHarness(server)
  await server.until(() => server.named('declare_targets').length > 0)
}

const terminated = (id: string) => () => server.named('notify_terminated').find((f) => (f.params[0] as string[]).includes(id))

/** Runs the fake's `request` target and returns the response message it received. */
async function roundTrip(id: string, method: string, params: Record<string, unknown>): Promise<any> {
  server.execute(id, 'request', [inline({ method, params })])
  await server.until(terminated(id))
  const result = server.named('put_result').find((f) => f.params[0] === id)
  if (!result) throw new Error(`no result: ${JSON.stringify(server.named('put_error'))}`)
  return decode(result.params[1] as unknown[])
}

function text(data: unknown): string {
  return data instanceof RawJson ? data.text : JSON.stringify(data)
}

function decode(value: unknown[]): any {
  const raw = value[0] === 'blob' ? new TextDecoder().decode(server.blobs.get(value[1] as string)) : (value[1] as RawJson).text
  return JSON.parse(raw)
}

describe('forwarding', () => {
  test('submit_execution: group first, idempotency key, converted arguments and options', async () => {
    await start((f) => (f.request === 'submit' ? { result: ['R1:2:1', 'app', 'child'] } : undefined))
    server.execute('R1:1:1', 'submit')
    await server.until(terminated('R1:1:1'))
    const mine = server.frames.filter((f) => ['register_group', 'submit'].includes(f.request))
    expect(mine.map((f) => f.request)).toEqual(['register_group', 'submit'])
    expect(mine[0]!.params).toEqual(['R1:1:1', 0, 'g'])
    const submit = mine[1]!
    expect(submit.key).toBe('R1:1:1#1')
    expect(typeof submit.id).toBe('number')
    const [module, target, type, args, parent, group, waitFor, cache, defer, memo, delay, retries, recurrent, requires, timeout, resumes, priority, concurrency] =
      submit.params as any[]
    expect([module, target, type, parent, group, waitFor]).toEqual(['app', 'child', 'task', 'R1:1:1', 0, [0]])
    expect(args[0][0]).toBe('raw')
    expect(args[0][1].text).toBe('1')
    expect(args[1][0]).toBe('blob')
    expect(args[1][2]).toBe(202)
    expect(server.blobs.has(args[1][1])).toBe(true)
    expect(cache).toEqual({ params: true, max_age: 600000, namespace: null, version: null })
    expect([defer, memo, delay, recurrent, requires, timeout, resumes, priority, concurrency]).toEqual([null, null, 1500, false, null, null, null, null, null])
    expect(submit.params).toHaveLength(18)
    expect(retries).toEqual({ limit: 3, backoff_min: 1000 })
    expect(decode(server.named('put_result')[0]!.params[1] as unknown[])).toEqual({ id: 1, result: { execution_id: 'R1:2:1', module: 'app', target: 'child' } })
  })

  test('a server error is answered with the request error code', async () => {
    await start((f) => (f.request === 'cancel' ? { error: 'not_found' } : undefined))
    const response = await roundTrip('E1:1:1', 'cancel', { handles: [{ type: 'execution', id: 'X:1:1' }] })
    expect(response).toEqual({ id: 1, result: null, error: { code: 'cancel_error', message: 'not_found' } })
    expect(server.named('cancel')[0]!.params).toEqual([[['execution', 'X:1:1']], 'E1:1:1'])
  })

  test('unknown methods, foreign execution ids and bad params are refused without ending the execution', async () => {
    await start(() => undefined)
    expect(await roundTrip('U1:1:1', 'frobnicate', {})).toEqual({
      id: 1,
      result: null,
      error: { code: 'unknown_method', message: 'unknown method: frobnicate' },
    })
    expect(await roundTrip('U2:1:1', 'cancel', { execution_id: 'other:1:1', handles: [] })).toEqual({
      id: 1,
      result: null,
      error: { code: 'execution_mismatch', message: 'execution_id does not match the bound execution' },
    })
    expect((await roundTrip('U3:1:1', 'select', { handles: 'nope' })).error.code).toBe('parse_error')
    server.execute('U4:1:1', 'nan_request')
    await server.until(terminated('U4:1:1'))
    const value = server.named('put_result').find((f) => f.params[0] === 'U4:1:1')!.params[1] as unknown[]
    expect(decode(value).error).toEqual({ code: 'parse_error', message: 'value contains NaN or Infinity, which JSON cannot represent' })
    expect(server.named('cancel').length).toBe(0)
  })

  test('select: handles and timeout forwarded; values and error frames mapped back', async () => {
    const blobValue = '"' + 'q'.repeat(150) + '"'
    const key = new Bun.CryptoHasher('sha256').update(blobValue).digest('hex')
    let n = 0
    await start((f) => {
      if (f.request !== 'select') return undefined
      n++
      if (n === 1) return { result: { winner: 0, status: 'ok', value: ['blob', key, blobValue.length, []] } }
      if (n === 2) return { result: { winner: 1, status: 'error', error: { type: 'builtins.ValueError', message: 'bad', frames: [['/a.py', 3, 'f', 'raise X']] } } }
      return { result: null }
    })
    server.blobs.set(key, new TextEncoder().encode(blobValue))
    const handles = [{ type: 'execution', id: 'S:2:1' }, { type: 'input', id: 'S/i1' }]
    const ok = await roundTrip('S1:1:1', 'select', { handles, timeout_ms: 5000, suspend: true, cancel_remaining: true })
    expect(server.named('select')[0]!.params).toEqual([[['execution', 'S:2:1'], ['input', 'S/i1']], 'S1:1:1', 5000, true, true])
    expect(ok.result.value.type).toBe('file')
    expect(readFileSync(ok.result.value.path, 'utf8')).toBe(blobValue)
    const error = await roundTrip('S2:1:1', 'select', { handles, suspend: false })
    expect(error.result).toEqual({ winner: 1, status: 'error', error: { type: 'builtins.ValueError', message: 'bad', traceback: '  File "/a.py", line 3, in f\n    raise X' } })
    expect(server.named('select')[1]!.params[2]).toBeNull()
    expect((await roundTrip('S3:1:1', 'select', { handles, timeout_ms: 0, suspend: false })).result).toBeNull()
  })

  test('select: while it is unanswered the executor holds no slot, so the warm set refills', async () => {
    server = new FakeServer({ reply: () => undefined })
    harness = startHarness(server, { concurrency: 1 })
    const pool = harness.session.executorPool
    await pool.until((p) => p.idleCount === 1)
    const handles = [{ type: 'execution', id: 'B:2:1' }]
    server.execute('B1:1:1', 'request', [inline({ method: 'select', params: { handles, suspend: false } })])
    const select = await server.until(() => server.named('select')[0])
    // busy 1 = concurrency 1, yet a warm executor is back: the blocked one is not running
    await pool.until((p) => p.waitingCount === 1 && p.busyCount === 1 && p.idleCount === 1)
    server.send([2, select.id, null])
    await server.until(terminated('B1:1:1'))
    expect(pool.waitingCount).toBe(0)
    // a poll (timeout 0) never counts as a wait
    server.execute('B2:1:1', 'request', [inline({ method: 'select', params: { handles, timeout_ms: 0, suspend: false } })])
    const poll = await server.until(() => server.named('select')[1])
    await Bun.sleep(100)
    expect(pool.waitingCount).toBe(0)
    server.send([2, poll.id, null])
    await server.until(terminated('B2:1:1'))
  })

  test('submit_execution: an argument without a format is json (0.12), its input reference passed on', async () => {
    await start((f) => (f.request === 'submit' ? { result: ['F1:2:1', 'app', 'child'] } : undefined))
    const argument = { type: 'inline', value: { type: 'ref', index: 0 }, references: [['input', 'F1/i1']] }
    const answer = await roundTrip('F1:1:1', 'submit_execution', { module: 'app', target: 'child', type: 'task', arguments: [argument] })
    expect(answer.result).toEqual({ execution_id: 'F1:2:1', module: 'app', target: 'child' })
    const [raw] = server.named('submit')[0]!.params[3] as any[]
    expect([raw[0], text(raw[1]), raw[2]]).toEqual(['raw', '{"index":0,"type":"ref"}', [['input', 'F1/i1']]])
  })

  test('submit_execution: a workflow\'s resumes is p[15]; on a task it is refused', async () => {
    await start((f) => (f.request === 'submit' ? { result: ['W1:2:1', 'app', 'flow'] } : undefined))
    const answer = await roundTrip('W1:1:1', 'submit_execution', { module: 'app', target: 'flow', type: 'workflow', arguments: [], resumes: 4 })
    expect(answer.result).toEqual({ execution_id: 'W1:2:1', module: 'app', target: 'flow' })
    expect(server.named('submit')[0]!.params[15]).toBe(4)
    const refused = await roundTrip('W2:1:1', 'submit_execution', { module: 'app', target: 't', type: 'task', arguments: [], resumes: 4 })
    expect(refused.error).toEqual({ code: 'parse_error', message: 'resumes applies to workflows only' })
    expect(server.named('submit')).toHaveLength(1)
  })

  test('submit_execution: priority is p[16], concurrency [limit, key] is p[17]; a bad limit is refused', async () => {
    await start((f) => (f.request === 'submit' ? { result: ['L1:2:1', 'app', 'sync'] } : undefined))
    const call = (execution: string, fields: object) =>
      roundTrip(execution, 'submit_execution', { module: 'app', target: 'sync', type: 'task', arguments: [], ...fields })
    expect((await call('L1:1:1', { priority: -2, concurrency: [2, 'customer-42'] })).result).toEqual({ execution_id: 'L1:2:1', module: 'app', target: 'sync' })
    expect(server.named('submit')[0]!.params.slice(16)).toEqual([-2, [2, 'customer-42']])
    const refused = await call('L2:1:1', { concurrency: [0, 'k'] })
    expect(refused.error).toEqual({ code: 'parse_error', message: 'concurrency limit must be an integer of at least 1' })
    expect(server.named('submit')).toHaveLength(1)
  })

  test('suspend: answered, then the executor ends without a result', async () => {
    await start((f) => (f.request === 'suspend' ? { result: null } : undefined))
    server.execute('P1:1:1', 'suspend', [inline(1747400060000)])
    server.execute('P2:1:1', 'suspend')
    await server.until(terminated('P2:1:1'))
    await server.until(terminated('P1:1:1'))
    expect(server.named('suspend').map((f) => f.params)).toEqual(
      expect.arrayContaining([['P1:1:1', 1747400060000], ['P2:1:1', null]]),
    )
    expect(server.named('suspend')[0]!.key).toMatch(/^P\d:1:1#1$/)
    // ended right after the answer: no result, no crash report, no waiting for the server's abort
    expect(server.named('put_result').length + server.named('put_error').length).toBe(0)
  })

  test('suspend: the executor reads its answer before its input is closed, even when the abort follows at once', async () => {
    await start((f) => (f.request === 'suspend' ? { result: null } : undefined))
    for (let i = 1; i <= 5; i++) {
      const id = `P${i}:1:1`
      server.execute(id, 'suspend')
      await server.until(() => server.named('suspend').some((f) => f.params[0] === id))
      server.abort(id)
      await server.until(terminated(id))
    }
    const lines = (id: string) => server.logs.filter((l) => l.executionId === id && l.level === 3).map((l) => l.template)
    await server.until(() => [1, 2, 3, 4, 5].every((i) => lines(`P${i}:1:1`).includes('input closed')))
    for (let i = 1; i <= 5; i++) expect(lines(`P${i}:1:1`).slice(-2)).toEqual([`suspend answered: {"id": 1, "result": {}}`, 'input closed'])
    expect(server.named('put_result').length + server.named('put_error').length).toBe(0)
  })

  test('persist_asset uploads files with paths relative to the working directory', async () => {
    await start((f: WorkerFrame) => (f.request === 'put_asset' ? { result: ['A1', 'results', 3, 10] } : undefined))
    const outside = join(harness.dir, 'plot.png')
    writeFileSync(outside, 'png!')
    const pngKey = new Bun.CryptoHasher('sha256').update('png!').digest('hex')
    const csvKey = new Bun.CryptoHasher('sha256').update('a,b\n').digest('hex')
    const existing = ['3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b', 512, { type: 'application/json' }]

    server.execute('AS:1:1', 'asset', [inline([outside])])
    await server.until(terminated('AS:1:1'))
    expect(server.named('put_asset')[0]!.params).toEqual([
      'AS:1:1',
      null,
      { 'out/report.csv': [csvKey, 4, { type: 'text/csv' }], 'plot.png': [pngKey, 4, { type: 'image/png' }] },
    ])

    const response = await roundTrip('AS:2:1', 'persist_asset', {
      paths: [outside],
      files: { 'named/x.txt': outside },
      metadata: { name: 'results' },
      entries: { 'previous/summary.json': existing },
    })
    expect(response.result).toEqual({ asset_id: 'A1', reference: ['asset', 'A1', 'results', 3, 10] })
    const [execution, name, entries] = server.named('put_asset')[1]!.params as [string, string, Record<string, unknown[]>]
    expect([execution, name]).toEqual(['AS:2:1', 'results'])
    expect(entries).toEqual({ 'named/x.txt': [pngKey, 4, { type: 'image/png' }], 'previous/summary.json': existing })
    expect(server.blobs.has(pngKey)).toBe(true)
    const dup = await roundTrip('AS:3:1', 'persist_asset', { files: { 'a.txt': outside }, entries: { 'a.txt': existing } })
    expect(dup.error).toEqual({ code: 'persist_error', message: 'duplicate entry path a.txt' })
  })

  test('get_asset, submit_input, upload_blob and download_blob', async () => {
    await start((f) => {
      if (f.request === 'get_asset') return { result: { 'a.csv': ['k', 1, {}] } }
      if (f.request === 'submit_input') return { result: 'R/i1' }
      return undefined
    })
    expect((await roundTrip('G1:1:1', 'get_asset', { asset_id: 'A9' })).result).toEqual({ entries: { 'a.csv': ['k', 1, {}] } })
    expect(server.named('get_asset')[0]!.params).toEqual(['A9', 'G1:1:1'])
    const input = await roundTrip('I1:1:1', 'submit_input', {
      template: 'Approve {service}?',
      placeholders: { service: { type: 'inline', format: 'json', value: 'api' } },
      schema: '{"type": "boolean"}',
      key: 'k1',
      actions: ['Yes', 'No'],
      initial: true,
    })
    expect(input.result).toEqual({ input_id: 'R/i1' })
    const params = server.named('submit_input')[0]!.params as any[]
    expect(params[0]).toBe('I1:1:1')
    expect(params[2].service[1].text).toBe('"api"')
    expect(params.slice(3)).toEqual(['{"type": "boolean"}', 'k1', null, ['Yes', 'No'], true, null])

    const source = join(harness.dir, 'raw.bin')
    writeFileSync(source, 'raw bytes')
    const key = new Bun.CryptoHasher('sha256').update('raw bytes').digest('hex')
    expect((await roundTrip('B1:1:1', 'upload_blob', { source_path: source })).result).toEqual({ blob_key: key })
    const target = join(harness.dir, 'deep', 'copy.bin')
    expect((await roundTrip('B2:1:1', 'download_blob', { blob_key: key, target_path: target })).result).toEqual({})
    expect(readFileSync(target, 'utf8')).toBe('raw bytes')
    const missing = 'f'.repeat(64)
    expect((await roundTrip('B3:1:1', 'download_blob', { blob_key: missing, target_path: target })).error).toEqual({
      code: 'download_error',
      message: `blob not found: ${missing}`,
    })
    expect((await roundTrip('B4:1:1', 'download_blob', { blob_key: 'nope', target_path: target })).error).toEqual({
      code: 'download_error',
      message: 'invalid blob key',
    })
  })
})
