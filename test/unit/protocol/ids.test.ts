/** Identifier formats (semantics.md §2, cli.md §1): the strict parsers and the text helpers. */
import { describe, expect, test } from 'bun:test'
import {
  executionIdOf,
  inputIdOf,
  isRunId,
  parseExecutionId,
  parseInputId,
  parseStepId,
  runIdOf,
  splitExecutionId,
  splitId,
  stepIdOf,
} from '../../../internal/protocol/ids.ts'

/** The parsers return branded ids; compare them as plain values. */
const plain = (value: unknown): unknown => value

describe('strict parsers (server side)', () => {
  test('run ids: R and three or more characters of the alphabet', () => {
    expect(isRunId('RwD6')).toBe(true)
    expect(isRunId('Rwdx')).toBe(true)
    expect(isRunId('Rwd')).toBe(false)
    expect(isRunId('R0aa')).toBe(false)
    expect(isRunId('Wk9x')).toBe(false)
  })

  test('step and execution ids: 1-based numbers without leading zeros', () => {
    expect(plain(parseStepId('RwD6:3'))).toEqual({ runId: 'RwD6', step: 3 })
    expect(plain(parseExecutionId('RwD6:3:12'))).toEqual({ runId: 'RwD6', step: 3, attempt: 12 })
    for (const bad of ['RwD6', 'RwD6:0', 'RwD6:01', 'RwD6:x', 'RwD6:3:1', 'R1:3']) expect(parseStepId(bad)).toBeNull()
    for (const bad of ['RwD6:3', 'RwD6:3:0', 'RwD6:3:1:1', 'RwD6::1', 'R1:1:1']) expect(parseExecutionId(bad)).toBeNull()
  })

  test('input ids: <run>/i<n>', () => {
    expect(plain(parseInputId('RwD6/i12'))).toEqual({ runId: 'RwD6', number: 12 })
    for (const bad of ['RwD6', 'RwD6/i0', 'RwD6/i', 'RwD6/x1', 'R1/i1', 'RwD6:1']) expect(parseInputId(bad)).toBeNull()
  })

  test('builders are the inverse of the parsers', () => {
    expect(plain(parseInputId(inputIdOf('RwD6', 3)))).toEqual({ runId: 'RwD6', number: 3 })
    expect(plain(stepIdOf('RwD6', 3))).toBe('RwD6:3')
    expect(plain(executionIdOf('RwD6', 3, 2))).toBe('RwD6:3:2')
    expect(plain(parseExecutionId(executionIdOf('RwD6', 3, 2)))).toEqual({ runId: 'RwD6', step: 3, attempt: 2 })
  })
})

describe('text helpers (client side: ids are opaque, only split)', () => {
  test('splitId: up to three non-empty parts', () => {
    expect(splitId('R')).toEqual({ runId: 'R' })
    expect(splitId('R:1')).toEqual({ runId: 'R', step: '1' })
    expect(splitId('R:1:2')).toEqual({ runId: 'R', step: '1', attempt: '2' })
    for (const bad of ['', ':1', 'R:', 'R::2', 'R:1:', 'R:1:2:3']) expect(splitId(bad)).toBeNull()
  })

  test('runIdOf and splitExecutionId', () => {
    expect(runIdOf('RwD6:3:1')).toBe('RwD6')
    expect(runIdOf('RwD6')).toBe('RwD6')
    expect(splitExecutionId('RwD6:3:1')).toEqual({ stepId: 'RwD6:3', attempt: '1' })
    expect(splitExecutionId('R:1:x')).toEqual({ stepId: 'R:1', attempt: 'x' })
    expect(splitExecutionId('RwD6')).toBeNull()
    expect(splitExecutionId(':1')).toBeNull()
  })
})
