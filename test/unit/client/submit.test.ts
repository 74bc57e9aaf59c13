import { expect, test } from 'bun:test'
import { buildSubmitRequest, jsonArguments, parseTagItems, parseTargetSpec } from '../../../internal/client/index.ts'

test('parseTargetSpec splits on the last slash', () => {
  expect(parseTargetSpec('a/b/c')).toEqual({ module: 'a/b', target: 'c' })
  expect(parseTargetSpec('app.flows/main')).toEqual({ module: 'app.flows', target: 'main' })
  expect(() => parseTargetSpec('main')).toThrow("invalid target format: expected 'module/target', got 'main'")
})

test('jsonArguments validates locally and keeps the text', () => {
  expect(jsonArguments(['42', '"hi"', '{"k": 1.0}'])).toEqual([['json', '42'], ['json', '"hi"'], ['json', '{"k": 1.0}']])
  expect(() => jsonArguments(['1', '{bad'])).toThrow('invalid JSON in argument 2: ')
  expect(() => jsonArguments(['hello'])).toThrow('invalid JSON in argument 1')
})

test('parseTagItems', () => {
  expect(parseTagItems(['gpu:A100', 'gpu:H100', 'fast', 'region:eu'])).toEqual({ gpu: ['A100', 'H100'], fast: ['true'], region: ['eu'] })
})

test('buildSubmitRequest: workflow defaults, flags override', () => {
  const configuration = {
    waitFor: [0],
    cache: { params: true, maxAge: 5, namespace: null, version: null },
    defer: null,
    delay: 100,
    retries: { limit: 3, backoffMin: 1, backoffMax: 2 },
    recurrent: false,
    timeout: 0,
    requires: { gpu: ['A100'] },
    memo: true,
    resumes: null,
    priority: null,
    concurrency: null,
  }
  const target = { workspaceId: 'W', module: 'm', target: 't' }
  expect(buildSubmitRequest(target, [['json', '1']], configuration)).toEqual({
    ...target,
    arguments: [['json', '1']],
    waitFor: [0],
    cache: configuration.cache,
    defer: null,
    delay: 100,
    retries: configuration.retries,
    requires: { gpu: ['A100'] },
    memo: true,
  })
  const overridden = buildSubmitRequest(target, [], configuration, { requires: {}, memo: false, delay: 2500, retries: 0, idempotencyKey: 'k' })
  expect(overridden).toMatchObject({ requires: {}, memo: false, delay: 2500, retries: null, idempotencyKey: 'k' })
  expect(buildSubmitRequest(target, [], null, { retries: 2 }).retries).toEqual({ limit: 2, backoffMin: 0, backoffMax: 0 })
})

test('buildSubmitRequest: resumes from the workflow, overridable, absent when unset (the server defaults it)', () => {
  const target = { workspaceId: 'W', module: 'm', target: 't' }
  const configuration = {
    waitFor: [], cache: null, defer: null, delay: 0, retries: null, recurrent: false, timeout: 0, requires: null, memo: false,
    resumes: 5 as number | null,
    priority: null,
    concurrency: null,
  }
  expect(buildSubmitRequest(target, [], configuration).resumes).toBe(5)
  expect(buildSubmitRequest(target, [], configuration, { resumes: 0 }).resumes).toBe(0)
  expect(buildSubmitRequest(target, [], { ...configuration, resumes: null })).not.toHaveProperty('resumes')
  expect(buildSubmitRequest(target, [], null)).not.toHaveProperty('resumes')
  expect(buildSubmitRequest(target, [], null, { resumes: 7 }).resumes).toBe(7)
})

test('buildSubmitRequest: priority and concurrency from the workflow (the key as its template), overridable', () => {
  const target = { workspaceId: 'W', module: 'm', target: 't' }
  const configuration = {
    waitFor: [], cache: null, defer: null, delay: 0, retries: null, recurrent: false, timeout: 0, requires: null, memo: false, resumes: null,
    priority: 3 as number | null,
    concurrency: { limit: 2, key: '{customer_id}' as string | null } as { limit: number; key: string | null } | null,
  }
  expect(buildSubmitRequest(target, [], configuration)).toMatchObject({ priority: 3, concurrency: { limit: 2, key: '{customer_id}' } })
  expect(buildSubmitRequest(target, [], configuration, { priority: -1, concurrency: null })).toMatchObject({ priority: -1, concurrency: null })
  expect(buildSubmitRequest(target, [], configuration, { priority: 0 }).priority).toBe(0)
  const unset = buildSubmitRequest(target, [], { ...configuration, priority: null, concurrency: null })
  expect(unset).not.toHaveProperty('priority')
  expect(unset).not.toHaveProperty('concurrency')
  expect(buildSubmitRequest(target, [], null, { priority: 9 }).priority).toBe(9)
})
