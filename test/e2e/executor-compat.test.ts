/**
 * Executor messages as Coflux 0.12's own suite sends them (issue 7), with a real server, worker
 * and Python: a value without a `format`, and a `suspend` that must be answered before the
 * process ends.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalResult, startStack, type Stack } from './support/worker.ts'

let stack: Stack
let markers: string
beforeAll(async () => {
  stack = await startStack({ modules: ['compat'] })
  markers = mkdtempSync(join(tmpdir(), 'coflux-compat-'))
})
afterAll(async () => {
  await stack.stop()
})

test('an argument without a format is read as JSON, its input reference kept', async () => {
  const res = await stack.cli(['submit', 'compat/unformatted_argument', '-o', 'json'])
  expect(res.stderr).toBe('')
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toBe(`${runId}/i1`)
})

test('suspend is answered before the process ends', async () => {
  const res = await stack.cli(['submit', 'compat/suspend_answer', JSON.stringify(join(markers, 'suspend')), '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  const attempts = res.json.steps[`${runId}:1`].executions
  expect(attempts['1'].result).toMatchObject({ type: 'suspended', successor: 2 })
  expect(finalResult(res.json, runId).value.data).toEqual({ type: 'dict', items: ['answer', { type: 'dict', items: [] }] })
})
