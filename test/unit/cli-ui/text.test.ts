import { expect, test } from 'bun:test'
import { createColors, LogPrinter, renderResultText } from '../../../internal/cli-ui/index.ts'
import type { Result } from '../../../internal/client/index.ts'
import { error, value } from './fixtures.ts'

const c = createColors(false)

test('renderResultText: value, error traceback, outcomes by name', () => {
  expect(renderResultText(value({ type: 'dict', items: ['a', 1] }), c)).toBe('{\n  "a" ↦ 1\n}')
  expect(renderResultText(error('builtins.ZeroDivisionError', 'division by zero'), c)).toBe(
    'Traceback (most recent call last):\n  File "app.py", line 3, in f\n    raise X\nbuiltins.ZeroDivisionError: division by zero',
  )
  expect(renderResultText({ type: 'cancelled', createdBy: null }, c)).toBe('Cancelled')
  expect(renderResultText({ type: 'abandoned', createdBy: null, retry: null }, c)).toBe('Abandoned')
  expect(renderResultText({ type: 'timeout', createdBy: null, retry: null }, c)).toBe('timeout')
  const blob: Result = { type: 'value', createdBy: null, value: { type: 'blob', key: 'k', size: 2048, references: [] } }
  expect(renderResultText(blob, c)).toBe('<blob (2.0KiB)>')
  expect(renderResultText(blob, c, [1, 2])).toBe('[1, 2]')
})

test('LogPrinter: date lines, execution headers, padded levels', () => {
  const p = new LogPrinter(c, false, (id) => (id === 'R1:1:1' ? { module: 'app', target: 'main', stepNumber: 1, attempt: 1 } : undefined))
  const t = Date.UTC(2026, 4, 16, 10, 0, 0, 123)
  const entry = (executionId: string, timestamp: number, level: number, template: string | null, values = {}) => ({
    executionId, workspaceId: 'W', timestamp, level, template, values,
  })
  expect(p.lines(entry('R1:1:1', t, 2, 'processing {n}', { n: { type: 'raw', data: 42, references: [] } }))).toEqual([
    '-- 2026-05-16 UTC --',
    'app/main 1:1',
    '10:00:00.123 INFO   processing 42',
  ])
  expect(p.lines(entry('R1:1:1', t + 1, 1, 'hi'))).toEqual(['10:00:00.124 STDOUT hi'])
  expect(p.lines(entry('R1:2:1', t + 86_400_000, 5, null, { x: { type: 'raw', data: 'y', references: [] } }))).toEqual([
    '-- 2026-05-17 UTC --',
    'R1:2:1',
    '10:00:00.123 ERROR  x="y"',
  ])
  const tty = new LogPrinter(c, true, () => undefined)
  expect(tty.lines(entry('R1:1:1', t, 4, 'w')).at(-1)).toBe('10:00:00.123 • w')
})
