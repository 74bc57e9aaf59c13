/**
 * Inputs (prompts) end to end (semantics.md §26): a real server, worker and Python asking with
 * `cf.Prompt`, answered through the real CLI (`coflux inputs list|inspect|respond|dismiss`).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../internal/client/api-client.ts'
import { subscribeTopic } from '../../internal/client/topic-subscription.ts'
import type { Json } from '../../internal/protocol/json.ts'
import { until } from './support/binary.ts'
import { finalResult, startStack, waitForRun, type Stack } from './support/worker.ts'

let stack: Stack
let markers: string
beforeAll(async () => {
  stack = await startStack({ modules: ['prompts'], workspace: 'inputs' })
  markers = mkdtempSync(join(tmpdir(), 'coflux-prompts-'))
})
afterAll(async () => {
  await stack.stop()
})

/** Starts a run without waiting for it. */
async function start(target: string, args: unknown[] = []): Promise<string> {
  const res = await stack.cli(['submit', `prompts/${target}`, ...args.map((a) => JSON.stringify(a)), '--no-wait', '-o', 'json'])
  if (res.code !== 0) throw new Error(`submit failed (${res.code}): ${res.stderr}`)
  return res.json.runId
}

/** The run's inputs once `inputs list` shows one waiting (`count` of them). */
async function awaitedInputs(runId: string, count = 1): Promise<Record<string, any>> {
  return until(
    async () => {
      const res = await stack.cli(['inputs', 'list', '--run', runId, '-o', 'json'])
      return res.code === 0 && Object.keys(res.json).length === count ? res.json : false
    },
    { timeoutMs: 30_000, message: `waiting inputs of ${runId}` },
  )
}

async function finished(runId: string): Promise<any> {
  const snapshot = await waitForRun(stack.server, stack.workspaceId, runId)
  return { snapshot, result: finalResult(snapshot, runId) }
}

/** A result's data, read from its blob when it was too large to stay inline. */
async function dataOf(result: any): Promise<any> {
  if (result.value.type === 'raw') return result.value.data
  const res = await fetch(`${stack.server.url}/blobs/${result.value.key}`)
  return JSON.parse(await res.text())
}

/** Tagged dict data (`{"type": "dict", "items": [k, v, …]}`) as a plain object. */
function dict(data: any): Record<string, unknown> {
  expect(data.type).toBe('dict')
  const out: Record<string, unknown> = {}
  for (let i = 0; i < data.items.length; i += 2) out[data.items[i]] = data.items[i + 1]
  return out
}

test('a prompt waits for a response; an invalid one is refused (422), a valid one completes the run', async () => {
  const runId = await start('ask_age', ['Ann'])
  const inputs = await awaitedInputs(runId)
  const [inputId] = Object.keys(inputs)
  expect(inputId).toBe(`${runId}/i1`)
  expect(inputs[inputId!]).toMatchObject({ runId, executionId: `${runId}:1:1`, title: 'Age', requires: {} })
  expect(inputs[inputId!].key).toMatch(/^[0-9a-f]{16}$/)

  const inspect = await stack.cli(['inputs', 'inspect', inputId!, '-o', 'json'])
  expect(inspect.code).toBe(0)
  expect(inspect.json).toMatchObject({
    template: 'How old is {name}?',
    placeholders: { name: { type: 'raw', data: 'Ann', references: [] } },
    title: 'Age',
    actions: ['Save', 'Skip'],
    initial: null,
    response: null,
  })
  expect(JSON.parse(inspect.json.schema)).toEqual({ type: 'integer', minimum: 0, maximum: 150 })

  const wrongType = await stack.cli(['inputs', 'respond', inputId!, '"thirty"', '-o', 'json'])
  expect(wrongType.code).toBe(1)
  expect(wrongType.stderr).toContain('validation_failed')
  expect(wrongType.stderr).toContain('/: type')
  const outOfRange = await stack.cli(['inputs', 'respond', inputId!, '200'])
  expect(outOfRange.code).toBe(1)
  expect(outOfRange.stderr).toContain('/: maximum')

  const ok = await stack.cli(['inputs', 'respond', inputId!, '30', '-o', 'json'])
  expect(ok.code).toBe(0)
  expect(ok.json).toEqual({ responded: true })
  const { result, snapshot } = await finished(runId)
  expect(result.value.data).toBe(30)
  // the run snapshot shows the input where it was submitted and where it was awaited
  const execution = snapshot.steps[`${runId}:1`].executions['1']
  expect(execution.inputs).toEqual({ [inputId!]: { title: 'Age', status: 'value' } })
  expect(execution.dependencies[inputId!]).toEqual({ type: 'input', inputId, title: 'Age', status: 'value' })

  const again = await stack.cli(['inputs', 'respond', inputId!, '31', '-o', 'json'])
  expect(again.code).toBe(1)
  expect(again.stderr).toContain('already_responded')
  const dismissLate = await stack.cli(['inputs', 'dismiss', inputId!])
  expect(dismissLate.code).toBe(1)
  expect(dismissLate.stderr).toContain('already_responded')

  const answered = await stack.cli(['inputs', 'inspect', inputId!, '-o', 'json'])
  expect(answered.json.response).toMatchObject({ type: 'value', value: 30 })
  expect(typeof answered.json.response.createdAt).toBe('number')
  const listed = await stack.cli(['inputs', 'list', '--run', runId, '-o', 'json'])
  expect(listed.json).toEqual({})
})

test('dismissing raises InputDismissed in Python', async () => {
  const runId = await start('ask_or_dismissed')
  const [inputId] = Object.keys(await awaitedInputs(runId))
  const res = await stack.cli(['inputs', 'dismiss', inputId!, '-o', 'json'])
  expect(res.code).toBe(0)
  expect(res.json).toEqual({ dismissed: true })
  const { result } = await finished(runId)
  expect(result.value.data).toBe('dismissed')
  const inspect = await stack.cli(['inputs', 'inspect', inputId!, '-o', 'json'])
  expect(inspect.json.response.type).toBe('dismissed')
  expect(inspect.json.response).not.toHaveProperty('value')
  const late = await stack.cli(['inputs', 'respond', inputId!, '"yes"'])
  expect(late.code).toBe(1)
  expect(late.stderr).toContain('already_responded')
})

test('a typed prompt: Pydantic schema on the server, the model in Python; objects arrive as plain JSON', async () => {
  const runId = await start('ask_person')
  const [inputId] = Object.keys(await awaitedInputs(runId))
  const inspect = await stack.cli(['inputs', 'inspect', inputId!, '-o', 'json'])
  expect(inspect.json.initial).toEqual({ name: 'Ann' })
  expect(JSON.parse(inspect.json.schema).required).toEqual(['name', 'age'])

  const missing = await stack.cli(['inputs', 'respond', inputId!, '{"name": "Ann"}'])
  expect(missing.code).toBe(1)
  expect(missing.stderr).toContain('/age: required')
  const ok = await stack.cli(['inputs', 'respond', inputId!, '{"name": "Ann", "age": 41, "email": null}'])
  expect(ok.code).toBe(0)
  const { result } = await finished(runId)
  expect(dict(await dataOf(result))).toEqual({ model: 'Person', name: 'Ann', age: 41, email: null })
  // the response is kept as given, never converted to tagged dicts (values.md §7)
  const answered = await stack.cli(['inputs', 'inspect', inputId!, '-o', 'json'])
  expect(answered.json.response.value).toEqual({ name: 'Ann', age: 41, email: null })
})

test('a suspended prompt: the successor is gated on the input and finds the same input again', async () => {
  const marker = join(markers, 'suspended')
  const runId = await start('ask_suspended', [marker])
  const inputs = await awaitedInputs(runId)
  const [inputId] = Object.keys(inputs)
  // the waiting execution is the suspended attempt's successor, queued behind the input
  expect(inputs[inputId!].executionId).toBe(`${runId}:1:2`)
  const queue = await until(async () => {
    const res = await stack.server.get(`/topics/workspaces/${stack.workspaceId}/queue`)
    const entry = res.body?.[`${runId}:1:2`]
    return entry?.status === 'waiting' ? entry : false
  })
  expect(queue.dependencies).toEqual([inputId])
  expect(queue.reason).toBe(`waiting for ${inputId}`)

  expect((await stack.cli(['inputs', 'respond', inputId!, 'true'])).code).toBe(0)
  const { result, snapshot } = await finished(runId)
  expect(result.value.data).toEqual([2, true])
  const executions = snapshot.steps[`${runId}:1`].executions
  expect(executions['1'].result).toMatchObject({ type: 'suspended', successor: 2 })
  // both attempts submitted the same input (same key)
  expect(Object.keys(executions['1'].inputs)).toEqual([inputId])
  expect(Object.keys(executions['2'].inputs)).toEqual([inputId])
})

test('wait_for blocks a task on an input reference until it is answered', async () => {
  const runId = await start('ask_then_wait')
  const inputs = await awaitedInputs(runId)
  const [inputId] = Object.keys(inputs)
  expect(inputs[inputId!].executionId).toBe(`${runId}:2:1`)
  const queue = await stack.server.get(`/topics/workspaces/${stack.workspaceId}/queue`)
  expect(queue.body[`${runId}:2:1`]).toMatchObject({ status: 'waiting', dependencies: [inputId] })
  expect((await stack.cli(['inputs', 'respond', inputId!, '21'])).code).toBe(0)
  const { result } = await finished(runId)
  expect(result.value.data).toBe(42)
})

test('cancelling an input answers its waiters with ExecutionCancelled', async () => {
  const runId = await start('ask_and_cancel')
  const { result } = await finished(runId)
  expect(result.value.data).toBe('cancelled')
  const inspect = await stack.cli(['inputs', 'inspect', `${runId}/i1`, '-o', 'json'])
  expect(inspect.json.response.type).toBe('cancelled')
  const late = await stack.cli(['inputs', 'respond', `${runId}/i1`, '"late"'])
  expect(late.stderr).toContain('already_responded')
})

test('a key is reused within the run; a different schema under the same key is input_mismatch', async () => {
  const runId = await start('ask_twice')
  const { result } = await finished(runId)
  const [first, second, mismatch] = await dataOf(result)
  expect(first).toBe(`${runId}/i1`)
  expect(second).toBe(first)
  expect(mismatch).toContain('input_mismatch')
})

test('invalid schemas and initial values are refused with their reasons', async () => {
  const runId = await start('bad_prompts')
  const { result } = await finished(runId)
  const [schema, noSchema, partial] = await dataOf(result)
  expect(schema).toContain('invalid_schema: unknown type "int" at /type')
  expect(noSchema).toContain('invalid_initial: initial value requires a schema')
  expect(partial).toContain('invalid_initial: /age: type')
})

test('unknown inputs are not found; bad bodies are 400s', async () => {
  const unknown = await stack.cli(['inputs', 'inspect', 'Rzzzz/i1', '-o', 'json'])
  expect(unknown.code).toBe(1)
  expect(unknown.stderr).toContain('not_found')
  expect((await stack.server.api('get_input', { inputId: 'nonsense' })).status).toBe(404)
  expect((await stack.server.api('get_input', {})).status).toBe(400)
  expect((await stack.server.api('respond_input', { inputId: 'Rzzzz/i1' })).status).toBe(400)
  expect((await stack.server.api('dismiss_input', { inputId: 'Rzzzz/i1' })).status).toBe(404)
  expect((await stack.server.get('/topics/inputs/Rzzzz/i1')).status).toBe(404)
})

test('the inputs/<id> topic reports whether an execution is waiting', async () => {
  const runId = await start('ask_age', ['Bo'])
  const [inputId] = Object.keys(await awaitedInputs(runId))
  const active = await stack.server.get(`/topics/inputs/${encodeURIComponent(inputId!)}`)
  expect(active.status).toBe(200)
  expect(active.body).toMatchObject({ title: 'Age', active: true, response: null })
  // a response given straight through the API, with the number kept verbatim
  expect((await stack.server.api('respond_input', { inputId, value: 7 })).status).toBe(200)
  await finished(runId)
  const done = await stack.server.get(`/topics/inputs/${inputId}`)
  expect(done.body).toMatchObject({ active: false, response: { type: 'value', value: 7 } })
})

test('live topics follow an input from waiting to answered', async () => {
  const client = new ApiClient({ host: stack.server.host, secure: false })
  const latest: Record<string, any> = {}
  const watch = (path: string[]) => {
    const sub = subscribeTopic(client, path, (value: Json) => (latest[path.join('/')] = value))
    return sub
  }
  const list = watch(['workspaces', stack.workspaceId, 'inputs'])
  try {
    await list.ready
    const runId = await start('ask_or_dismissed')
    const inputId = `${runId}/i1`
    await until(() => latest[`workspaces/${stack.workspaceId}/inputs`]?.[inputId])
    expect(latest[`workspaces/${stack.workspaceId}/inputs`][inputId]).toMatchObject({ runId, title: 'Release', executionId: `${runId}:1:1` })
    const one = watch(['inputs', inputId])
    try {
      await one.ready
      expect(latest[`inputs/${inputId}`]).toMatchObject({ active: true, response: null })
      expect((await stack.cli(['inputs', 'respond', inputId, '"go"'])).code).toBe(0)
      await until(() => latest[`inputs/${inputId}`]?.response?.type === 'value')
      await until(() => latest[`inputs/${inputId}`]?.active === false)
      await until(() => !latest[`workspaces/${stack.workspaceId}/inputs`]?.[inputId])
      expect((await finished(runId)).result.value.data).toBe('go')
    } finally {
      one.close()
    }
  } finally {
    list.close()
  }
})

test('inputs are only visible and answerable from their workspace (§16.1)', async () => {
  const elsewhere = (await stack.server.api('create_workspace', { name: 'inputs-elsewhere' })).body.id
  const outsider = (await stack.server.api('create_session', { workspaceId: elsewhere })).body.sessionId
  const insider = (await stack.server.api('create_session', { workspaceId: stack.workspaceId })).body.sessionId
  const as = (token: string) => ({ authorization: `Bearer ${token}` })
  const runId = await start('ask_age', ['Cy'])
  const [inputId] = Object.keys(await awaitedInputs(runId))

  expect((await stack.server.api('get_input', { inputId }, as(outsider))).status).toBe(404)
  expect((await stack.server.get(`/topics/inputs/${inputId}`, as(outsider))).status).toBe(404)
  expect((await stack.server.api('respond_input', { inputId, value: 1 }, as(outsider))).status).toBe(404)
  expect((await stack.server.api('dismiss_input', { inputId }, as(outsider))).status).toBe(404)

  expect((await stack.server.api('get_input', { inputId }, as(insider))).body.title).toBe('Age')
  expect((await stack.server.api('respond_input', { inputId, value: 5 }, as(insider))).status).toBe(200)
  expect((await finished(runId)).result.value.data).toBe(5)
})
