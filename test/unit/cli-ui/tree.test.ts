import { describe, expect, test } from 'bun:test'
import { createColors, renderRunTree } from '../../../internal/cli-ui/index.ts'
import { error, execution, run, step, value } from './fixtures.ts'

const c = createColors(false)

describe('renderRunTree', () => {
  test('how long each step ran: finished, running (with the live clock), never on a worker', () => {
    const snapshot = run({
      'R1:1': step('R1', 1, 'main', null, {
        '1': execution('R1:1:1', null, {
          assignedAt: 1_000,
          children: [2, 3, 4].map((n) => ({ stepId: `R1:${n}`, attempt: 1, groupId: null })),
        }),
      }),
      'R1:2': step('R1', 2, 'fast', 'R1:1:1', { '1': execution('R1:2:1', value(1), { assignedAt: 1_000, completedAt: 1_340 }) }),
      'R1:3': step('R1', 3, 'slow', 'R1:1:1', { '1': execution('R1:3:1', value(1), { assignedAt: 1_000, completedAt: 96_000 }) }),
      'R1:4': step('R1', 4, 'queued', 'R1:1:1', { '1': execution('R1:4:1', null, { assignedAt: null }) }),
    })
    expect(renderRunTree(snapshot, 'R1', c, { now: 3_250 })).toEqual([
      '● 1:1 app/main [R1] 2.3s Running...',
      '├─ ● 2:1 app/fast 340ms',
      '├─ ● 3:1 app/slow 1m35s',
      '└─ ● 4:1 app/queued',
    ])
    // without a clock a running step shows no time (the final tree has none running)
    expect(renderRunTree(snapshot, 'R1', c)[0]).toBe('● 1:1 app/main [R1] Running...')
  })


  test('statuses, annotations, nesting and the run id on the initial step', () => {
    const snapshot = run({
      'R1:1': step('R1', 1, 'main', null, {
        '1': execution('R1:1:1', null, {
          assignedAt: 5,
          children: [
            { stepId: 'R1:3', attempt: 1, groupId: null },
            { stepId: 'R1:2', attempt: 1, groupId: null },
          ],
        }),
      }),
      'R1:2': step('R1', 2, 'fetch', 'R1:1:1', {
        '1': execution('R1:2:1', error('builtins.ValueError', 'bad\nmore'), { children: [{ stepId: 'R1:4', attempt: 1, groupId: null }] }),
      }),
      'R1:3': step('R1', 3, 'save', 'R1:1:1', { '1': execution('R1:3:1', { type: 'cancelled', createdBy: null }) }),
      'R1:4': step('R1', 4, 'inner', 'R1:2:1', { '1': execution('R1:4:1', value(1)) }),
    })
    expect(renderRunTree(snapshot, 'R1', c)).toEqual([
      '● 1:1 app/main [R1] Running...',
      '├─ ● 2:1 app/fetch 1ms builtins.ValueError: bad',
      '│  └─ ● 4:1 app/inner 1ms',
      '└─ ● 3:1 app/save 1ms (cancelled)',
    ])
  })

  test('the latest attempt is numeric (10 after 9)', () => {
    const executions: Record<string, ReturnType<typeof execution>> = {}
    for (let i = 1; i <= 10; i++) executions[String(i)] = execution(`R1:1:${i}`, i === 10 ? value(1) : error('E', 'x', i + 1))
    expect(renderRunTree(run({ 'R1:1': step('R1', 1, 'main', null, executions) }), 'R1', c)).toEqual(['● 1:10 app/main [R1] 1ms'])
  })

  test('groups of two or more collapse to a header and their first member', () => {
    const children = [2, 3, 4].map((n) => ({ stepId: `R1:${n}`, attempt: 1, groupId: 0 }))
    const snapshot = run({
      'R1:1': step('R1', 1, 'main', null, { '1': execution('R1:1:1', null, { assignedAt: 1, groups: { '0': 'batch' }, children }) }),
      'R1:2': step('R1', 2, 'item', 'R1:1:1', { '1': execution('R1:2:1', value(1)) }),
      'R1:3': step('R1', 3, 'item', 'R1:1:1', { '1': execution('R1:3:1', null, { assignedAt: 1 }) }),
      'R1:4': step('R1', 4, 'item', 'R1:1:1', { '1': execution('R1:4:1', error('E', 'no')) }),
    })
    expect(renderRunTree(snapshot, 'R1', c)).toEqual([
      '● 1:1 app/main [R1] Running...',
      '└─ batch 1 of 3 (1 running, 1 error, 1 completed)',
      '   └─ ● 2:1 app/item 1ms',
    ])
  })

  test('other statuses show their name; cached is annotated', () => {
    const snapshot = run({
      'R1:1': step('R1', 1, 'main', null, {
        '1': execution('R1:1:1', { type: 'suspended', createdBy: null, successor: 2 }, { children: [{ stepId: 'R1:2', attempt: 1, groupId: null }] }),
      }),
      'R1:2': step('R1', 2, 'c', 'R1:1:1', {
        '1': execution('R1:2:1', { type: 'cached', createdBy: null, execution: { executionId: 'R0:1:1', module: 'app', target: 'c' }, result: value(1) }),
      }),
    })
    expect(renderRunTree(snapshot, 'R1', c)).toEqual(['● 1:1 app/main [R1] 1ms suspended', '└─ ● 2:1 app/c (cached)'])
  })

  test('height cap', () => {
    const children = Array.from({ length: 20 }, (_, i) => ({ stepId: `R1:${i + 2}`, attempt: 1, groupId: null }))
    const steps: Record<string, ReturnType<typeof step>> = {
      'R1:1': step('R1', 1, 'main', null, { '1': execution('R1:1:1', null, { children }) }),
    }
    for (let i = 2; i <= 21; i++) steps[`R1:${i}`] = step('R1', i, 's', 'R1:1:1', { '1': execution(`R1:${i}:1`, null) })
    const lines = renderRunTree(run(steps), 'R1', c, { maxLines: 5 })
    expect(lines).toHaveLength(5)
    expect(lines[4]).toBe('… 17 more steps (21 total)')
  })

  test('colours only when enabled', () => {
    const snapshot = run({ 'R1:1': step('R1', 1, 'main', null, { '1': execution('R1:1:1', value(1)) }) })
    expect(renderRunTree(snapshot, 'R1', createColors(true))[0]).toContain('\x1b[32m●')
  })
})
