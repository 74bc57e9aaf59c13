import { describe, expect, test } from 'bun:test'
import { buildManifests, declaredTargets, discoverOutput, preloadModules } from '../../../internal/adapter/index.ts'
import type { TargetDefinition } from '../../../internal/protocol/executor.ts'

const full: TargetDefinition = {
  module: 'app.flows',
  name: 'pipeline',
  type: 'workflow',
  parameters: [
    { name: 'source', annotation: 'str', default: null },
    { name: 'limit', annotation: 'int', default: '100' },
  ],
  wait_for: [0],
  cache: { params: [0], max_age_ms: 600000, namespace: 'pipelines', version: 'v2' },
  retries: { limit: 3, backoff_min_ms: 1000, backoff_max_ms: 60000 },
  defer: { params: true },
  delay: 5000,
  memo: true,
  requires: { gpu: ['A100', 'H100'] },
  timeout: 300000,
  recurrent: true,
  resumes: 5,
  priority: -2,
  concurrency: { limit: 2, key: '{source}' },
  instruction: 'Fetches data.',
}

describe('buildManifests', () => {
  test('full definition: camelCase, timeout and backoff kept', () => {
    expect(buildManifests([full])).toEqual({
      'app.flows': {
        pipeline: {
          parameters: [{ name: 'source', annotation: 'str' }, { name: 'limit', annotation: 'int', default: '100' }],
          waitFor: [0],
          cache: { params: [0], maxAge: 600000, namespace: 'pipelines', version: 'v2' },
          defer: { params: true },
          delay: 5000,
          retries: { limit: 3, backoffMin: 1000, backoffMax: 60000 },
          recurrent: true,
          timeout: 300000,
          requires: { gpu: ['A100', 'H100'] },
          instruction: 'Fetches data.',
          memo: true,
          resumes: 5,
          priority: -2,
          concurrency: { limit: 2, key: '{source}' },
        },
      },
    })
  })

  test('minimal definition gets the defaults; tasks and stubs are dropped', () => {
    const targets: TargetDefinition[] = [
      { module: 'm', name: 'w', type: 'workflow', parameters: [{ name: 'x' }], cache: { params: true }, retries: {} },
      { module: 'm', name: 't', type: 'task', parameters: [] },
      { module: 'n', name: 's', type: 'workflow', parameters: [], is_stub: true },
      { module: 'm', name: 'memo_list', type: 'workflow', parameters: [], memo: [0], requires: {} },
    ]
    const out = buildManifests(targets)
    expect(Object.keys(out)).toEqual(['m'])
    expect(out.m!.w).toEqual({
      parameters: [{ name: 'x' }],
      waitFor: [],
      cache: { params: true, maxAge: null, namespace: null, version: null },
      defer: null,
      delay: 0,
      retries: { limit: null, backoffMin: 0, backoffMax: 0 },
      recurrent: false,
      timeout: 0,
      requires: null,
      instruction: null,
      memo: false,
      resumes: null,
      priority: null,
      concurrency: null,
    })
    expect(out.m!.memo_list!.memo).toBe(false)
    expect(out.m!.memo_list!.requires).toBeNull()
  })
})

test('discoverOutput shows resumes when set, 0 included', () => {
  expect(discoverOutput(full).resumes).toBe(5)
  expect(discoverOutput({ module: 'm', name: 'w', type: 'workflow', parameters: [], resumes: 0 }).resumes).toBe(0)
  expect(discoverOutput({ module: 'm', name: 'w', type: 'workflow', parameters: [] })).not.toHaveProperty('resumes')
})

test('discoverOutput shows priority (0 included) and concurrency when set, the key as its template', () => {
  expect(discoverOutput(full)).toMatchObject({ priority: -2, concurrency: { limit: 2, key: '{source}' } })
  const plain: TargetDefinition = { module: 'm', name: 't', type: 'task', parameters: [] }
  expect(discoverOutput({ ...plain, priority: 0, concurrency: { limit: 1, key: null } })).toMatchObject({ priority: 0, concurrency: { limit: 1, key: null } })
  expect(discoverOutput(plain)).not.toHaveProperty('priority')
  expect(discoverOutput(plain)).not.toHaveProperty('concurrency')
})

test('declaredTargets and preloadModules', () => {
  const targets: TargetDefinition[] = [
    { module: 'a', name: 'w', type: 'workflow', parameters: [] },
    { module: 'b', name: 't', type: 'task', parameters: [] },
    { module: 'a', name: 't2', type: 'task', parameters: [] },
  ]
  expect(declaredTargets(targets)).toEqual({ a: { workflow: ['w'], task: ['t2'] }, b: { task: ['t'] } })
  expect(preloadModules(targets)).toEqual(['a', 'b'])
})
