import { describe, expect, test } from 'bun:test'
import {
  executionStatus,
  findLogExecution,
  findResultExecution,
  isFinalResult,
  isRunDone,
  parseResultTarget,
  runExitCode,
  type Result,
} from '../../../internal/client/index.ts'
import { error, execution, run, step, value } from '../cli-ui/fixtures.ts'

const spawned = (result: Result | null): Result => ({
  type: 'spawned', createdBy: null, execution: { executionId: 'R2:1:1', module: 'm', target: 't' }, result,
})

describe('status and done (cli.md §7.5)', () => {
  test('executionStatus', () => {
    expect(executionStatus(execution('R:1:1', null))).toBe('pending')
    expect(executionStatus(execution('R:1:1', null, { assignedAt: 1 }))).toBe('running')
    expect(executionStatus(execution('R:1:1', value(1)))).toBe('completed')
    expect(executionStatus(execution('R:1:1', spawned(null), { assignedAt: 1 }))).toBe('running')
    expect(executionStatus(execution('R:1:1', spawned(value(1))))).toBe('completed')
    expect(executionStatus(execution('R:1:1', error('E', 'x')))).toBe('error')
  })

  test('final results', () => {
    expect(isFinalResult(value(1))).toBe(true)
    expect(isFinalResult(error('E', 'x', 2))).toBe(false)
    expect(isFinalResult(error('E', 'x', null))).toBe(true)
    expect(isFinalResult({ type: 'suspended', createdBy: null, successor: null })).toBe(false)
    expect(isFinalResult(spawned(null))).toBe(false)
    expect(isFinalResult(spawned(error('E', 'x')))).toBe(true)
    expect(isFinalResult({ type: 'timeout', createdBy: null, retry: 3 })).toBe(false)
  })

  test('a retryable error is not done; the retry decides (attempts compared numerically)', () => {
    const retrying = run({ 'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', error('E', 'x', 2)) }) })
    expect(isRunDone(retrying, 'initial')).toBe(false)
    const executions: Record<string, ReturnType<typeof execution>> = {}
    for (let i = 1; i <= 10; i++) executions[String(i)] = execution(`R:1:${i}`, i < 10 ? error('E', 'x', i + 1) : value(1))
    const done = run({ 'R:1': step('R', 1, 'main', null, executions) })
    expect(isRunDone(done, 'initial')).toBe(true)
    expect(runExitCode(done, 'initial')).toBe(0)
  })

  test('scope all waits for every step; exit 1 unless every final result is a value', () => {
    const r = run({
      'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', value(1)) }),
      'R:2': step('R', 2, 'child', 'R:1:1', { '1': execution('R:2:1', null, { assignedAt: 1 }) }),
    })
    expect(isRunDone(r, 'initial')).toBe(true)
    expect(isRunDone(r, 'all')).toBe(false)
    r.steps['R:2']!.executions['1']!.result = { type: 'cancelled', createdBy: null }
    expect(isRunDone(r, 'all')).toBe(true)
    expect(runExitCode(r, 'initial')).toBe(0)
    expect(runExitCode(r, 'all')).toBe(1)
  })
})

describe('lookups', () => {
  const r = run({
    'R:1': step('R', 1, 'main', null, { '1': execution('R:1:1', value(1)), '2': execution('R:1:2', value(2)) }),
  })

  test('result targets', () => {
    expect(parseResultTarget('R:1:2')).toEqual({ runId: 'R', step: '1', attempt: '2' })
    expect(() => parseResultTarget('R:1:2:3')).toThrow('invalid target')
    expect(findResultExecution(r, { runId: 'R' }).executionId).toBe('R:1:2')
    expect(findResultExecution(r, { runId: 'R', step: '1', attempt: '1' }).executionId).toBe('R:1:1')
    expect(() => findResultExecution(r, { runId: 'R', step: '9' })).toThrow('step R:9 not found in run R')
    expect(() => findResultExecution(r, { runId: 'R', step: '1', attempt: '5' })).toThrow(
      'execution attempt 5 not found for step R:1 in run R',
    )
    expect(() => findResultExecution(run({}), { runId: 'R' })).toThrow('no execution found for run R')
  })

  test('log executions', () => {
    expect(findLogExecution(r, 'R:1:2')).toBe('R:1:2')
    expect(() => findLogExecution(r, 'R:7:1')).toThrow('step "R:7" not found in run')
    expect(() => findLogExecution(r, 'R:1:9')).toThrow('attempt 9 not found for step "R:1"')
  })
})

test('scope all ignores children of superseded attempts', () => {
  const r = run({
    'R:1': step('R', 1, 'main', null, {
      '1': execution('R:1:1', error('E', 'x', 2), { children: [{ stepId: 'R:2', attempt: 1, groupId: null }] }),
      '2': execution('R:1:2', value(1)),
    }),
    'R:2': step('R', 2, 'child', 'R:1:1', { '1': execution('R:2:1', error('E', 'y')) }),
  })
  expect(isRunDone(r, 'all')).toBe(true)
  expect(runExitCode(r, 'all')).toBe(0)
})
