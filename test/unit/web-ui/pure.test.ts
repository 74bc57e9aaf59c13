/** The web UI's pure parts: routes, schema forms, the graph layout, pool form requests. */
import { describe, expect, test } from 'bun:test'
import { parseJson, type Json } from '../../../internal/protocol/json.ts'
import { FieldError, formValue, schemaFields } from '../../../internal/web-ui/schema-form.ts'
import { href, parseRoute } from '../../../internal/web-ui/route.ts'
import { layoutRunGraph } from '../../../internal/web-ui/run-graph.ts'
import { poolFormText, poolRequest } from '../../../internal/web-ui/pool-form.ts'
import { resolveWorkspace } from '../../../internal/web-ui/workspace-ref.ts'
import { error, execution, run, step } from '../cli-ui/fixtures.ts'

describe('routes', () => {
  test('workspace names or ids, runs with their step, attempt and tab', () => {
    expect(parseRoute('#/ws/default/runs/RwD6?step=RwD6:2&attempt=3&tab=graph')).toEqual({
      name: 'run', ws: 'default', runId: 'RwD6', step: 'RwD6:2', attempt: 3, tab: 'graph',
    })
    expect(parseRoute('#/ws/my%20ws/workflows/app.flows/main')).toEqual({ name: 'workflow', ws: 'my ws', module: 'app.flows', target: 'main' })
    expect(parseRoute('#/ws/default/pools/cpu')).toEqual({ name: 'pool', ws: 'default', pool: 'cpu' })
    expect(parseRoute('#/ws/default')).toEqual({ name: 'overview', ws: 'default' })
    expect(parseRoute('')).toEqual({ name: 'workspaces' })
    expect(parseRoute('#/tokens')).toEqual({ name: 'tokens' })
    expect(parseRoute('', '/device', '?code=ABCD')).toEqual({ name: 'device', code: 'ABCD' })
    expect(href.execution('default', 'RwD6:2:1')).toBe('#/ws/default/runs/RwD6?step=RwD6%3A2&attempt=1')
  })

  test('a URL names a workspace by id or by name, active before archived', () => {
    const all = {
      a1: { name: 'default', baseId: null, state: 'archived' as const },
      b2: { name: 'default', baseId: null, state: 'active' as const },
    }
    expect(resolveWorkspace(all, 'default')?.id).toBe('b2')
    expect(resolveWorkspace(all, 'a1')?.id).toBe('a1')
    expect(resolveWorkspace(all, 'nope')).toBeNull()
  })
})

describe('forms from JSON Schema', () => {
  const person = parseJson(
    '{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"email":{"anyOf":[{"type":"string"},{"type":"null"}],"default":null},"role":{"enum":["dev","ops"]},"tags":{"type":"array"}},"required":["name","age"]}',
  )

  test('fields per property, required marked, nullable unions unwrapped, initial values used', () => {
    const root = schemaFields(person, parseJson('{"name":"Ann"}'))
    if (root.kind !== 'object') throw new Error('expected an object')
    expect(root.fields.map((f) => [f.pointer, f.kind, f.isRequired, f.isNullable])).toEqual([
      ['/name', 'string', true, false],
      ['/age', 'integer', true, false],
      ['/email', 'string', false, true],
      ['/role', 'string', false, false],
      ['/tags', 'json', false, false],
    ])
    expect(root.fields[0]).toMatchObject({ initial: 'Ann' })
  })

  test('the value read back: numbers as typed, empty optional fields left out, nullable ones null', () => {
    const root = schemaFields(person, undefined)
    const text: Record<string, string> = { '/name': 'Ada', '/age': '36', '/email': '', '/role': 'ops', '/tags': '[1, 2]' }
    expect(formValue(root, (p) => text[p] ?? '')).toEqual({ name: 'Ada', age: 36, email: null, role: 'ops', tags: [1, 2] } as unknown as Json)
    expect(() => formValue(root, (p) => ({ ...text, '/age': 'old' })[p] ?? '')).toThrow(FieldError)
  })

  test('a schema of one value, and no schema at all (any JSON)', () => {
    expect(formValue(schemaFields(parseJson('{"type":"integer","minimum":0}'), undefined), () => '42')).toBe(42)
    expect(formValue(schemaFields(parseJson('{"type":"boolean"}'), undefined), () => 'true')).toBe(true)
    expect(formValue(schemaFields(null, undefined), () => '{"a": [1]}')).toEqual({ a: [1] })
  })
})

describe('the run graph', () => {
  test('a column per depth, calls and dependencies as edges, attempts counted', () => {
    const snapshot = run({
      'R1:1': step('R1', 1, 'main', null, {
        '1': execution('R1:1:1', null, {
          assignedAt: 5,
          children: [
            { stepId: 'R1:2', attempt: 1, groupId: null },
            { stepId: 'R1:3', attempt: 1, groupId: null },
          ],
        }),
      }),
      'R1:2': step('R1', 2, 'fetch', 'R1:1:1', {
        '1': execution('R1:2:1', error('builtins.ValueError', 'bad'), {}),
        '2': execution('R1:2:2', null, { assignedAt: 9 }),
      }),
      'R1:3': step('R1', 3, 'use', 'R1:1:1', {
        '1': execution('R1:3:1', null, {
          dependencies: { 'R1:2:2': { type: 'result', execution: { executionId: 'R1:2:2', module: 'app', target: 'fetch' } } },
        }),
      }),
    })
    const graph = layoutRunGraph(snapshot)
    const at = Object.fromEntries(graph.nodes.map((n) => [n.stepId, n]))
    expect(at['R1:2']!.x).toBeGreaterThan(at['R1:1']!.x)
    expect(at['R1:2']!.x).toBe(at['R1:3']!.x)
    expect(at['R1:1']!.y).toBe(at['R1:2']!.y) // a parent sits on its first child's row
    expect(at['R1:2']!.attempts).toBe(2)
    expect(graph.edges).toEqual([
      { from: 'R1:1', to: 'R1:2', kind: 'call' },
      { from: 'R1:1', to: 'R1:3', kind: 'call' },
      { from: 'R1:2', to: 'R1:3', kind: 'dependency' },
    ])
  })
})

describe('the pool form', () => {
  test('text fields in, the request out; an update clears what was emptied', () => {
    const text = poolFormText(null)
    expect(text.type).toBe('process')
    const filled = { ...text, modules: 'app.a, app.b', provides: 'gpu:A100 region:eu', fields: { directory: '/srv' }, env: 'A=1\nB=two' }
    expect(poolRequest(filled, false)).toEqual({
      modules: ['app.a', 'app.b'],
      provides: { gpu: ['A100'], region: ['eu'] },
      accepts: {},
      launcher: { type: 'process', directory: '/srv', env: { A: '1', B: 'two' } },
    })
    expect(poolRequest({ ...filled, env: '' }, true).launcher).toEqual({ type: 'process', directory: '/srv', concurrency: null, env: null })
  })
})
