/**
 * The executor channel's messages (executor-protocol.md §3–§7) against the shared fixtures:
 * test/unit/python/test_protocol.py parses the same lines with the adapter's `protocol.py`.
 */
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ProtocolError } from '../../../internal/protocol/errors.ts'
import {
  encodeExecutorMessage,
  EXECUTOR_METHODS,
  isExecutionNotificationMethod,
  isExecutorRequestMethod,
  parseExecutorMessage,
  type ExecutorMessage,
} from '../../../internal/protocol/executor-messages.ts'
import { parseJson } from '../../../internal/protocol/json.ts'

const FIXTURE = join(import.meta.dir, '../../fixtures/protocol/executor.jsonl')
const LINES = readFileSync(FIXTURE, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')

const parse = (line: string) => parseExecutorMessage(parseJson(line))
const paramsOf = (line: string) => {
  const message = parse(line)
  return message.method === undefined ? undefined : message.params
}

describe('fixtures', () => {
  test.each(LINES.map((line, i) => [i + 1, line] as const))('line %d parses and re-encodes to the same message', (_, line) => {
    const message = parse(line)
    const encoded = encodeExecutorMessage(message)
    expect(encoded.endsWith('\n')).toBe(true)
    expect(encoded.slice(0, -1)).not.toContain('\n')
    expect(/^[\x00-\x7f]*$/.test(encoded)).toBe(true)
    expect(parse(encoded)).toEqual(message)
  })

  test('every message and every kind has an example', () => {
    const methods = new Set<string>()
    const kinds = new Set<string>()
    for (const line of LINES) {
      const message = parse(line)
      if (message.method === undefined) kinds.add(message.error ? 'error response' : 'response')
      else {
        methods.add(message.method)
        kinds.add('id' in message ? 'request' : 'notification')
      }
    }
    expect([...methods].sort()).toEqual([...EXECUTOR_METHODS].sort())
    expect([...kinds].sort()).toEqual(['error response', 'notification', 'request', 'response'])
  })

  test('fields are typed: lossless numbers become numbers, handles and entries are checked', () => {
    const byMethod = new Map<string, ExecutorMessage>()
    for (const line of LINES) {
      const message = parse(line)
      if (message.method !== undefined && !byMethod.has(message.method)) byMethod.set(message.method, message)
    }
    const select = byMethod.get('select')!
    expect(select.method === 'select' && select.params.handles).toEqual([
      { type: 'execution', id: 'RwD6:2:1' },
      { type: 'input', id: 'RwD6/i1' },
    ])
    const metric = byMethod.get('metric')!
    expect(metric.method === 'metric' && metric.params).toEqual({ execution_id: 'RwD6:2:1', key: 'loss', value: 0.231, at: 12 })
    const asset = byMethod.get('persist_asset')!
    expect(asset.method === 'persist_asset' && asset.params.entries?.['previous/summary.json']?.[1]).toBe(512)
    expect(paramsOf('{"method":"metric","params":{"key":"k","value":1.0}}')).toEqual({ key: 'k', value: 1 })
  })
})

describe('malformed messages', () => {
  test.each([
    ['[1]', 'must be a JSON object'],
    ['{"params": {}}', 'neither method nor id'],
    ['{"id": 0, "result": null}', 'positive integer'],
    ['{"id": true, "result": null}', 'positive integer'],
    ['{"id": 1}', 'without result'],
    ['{"id": 1, "result": 1, "error": {"code": "x", "message": "y"}}', 'null result'],
    ['{"id": 1, "result": null, "error": {"code": 1}}', 'code, message'],
    ['{"method": "ready", "params": {}}', 'version must be a string'],
    ['{"method": "ready", "params": []}', 'must be an object'],
    ['{"id": 1, "method": "ready", "params": {"version": "0.12"}}', 'must be a notification'],
    ['{"method": "select", "params": {"execution_id": "x", "handles": []}}', 'must be a request'],
    ['{"id": 2, "method": "select", "params": {"handles": []}}', 'must not be empty'],
    ['{"id": 2, "method": "select", "params": {"handles": "nope"}}', 'handles must be an array'],
    ['{"id": 2, "method": "cancel", "params": {"handles": [{"type": "run", "id": "x"}]}}', 'each handle'],
    ['{"method": "log", "params": {"execution_id": "x", "level": true}}', 'level must be a number'],
    ['{"method": "metric", "params": {"key": "k"}}', 'value must be a number'],
    ['{"id": 5, "method": "persist_asset", "params": {"files": {"a": 1}}}', 'files.a must be a string'],
    ['{"id": 5, "method": "persist_asset", "params": {"entries": {"a": [1]}}}', 'entries.a must be [blob_key, size, metadata]'],
    ['{"method": "hello", "params": {"pid": 1, "channel": "stdout"}}', 'channel'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "w", "type": "workflow", "arguments": [], "resumes": -1}}', 'resumes must be a non-negative integer'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "w", "type": "workflow", "arguments": [], "resumes": 1.5}}', 'resumes must be a non-negative integer'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "w", "type": "workflow", "arguments": [], "resumes": true}}', 'resumes must be a number'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "type": "task", "arguments": [], "resumes": 2}}', 'resumes applies to workflows only'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "resumes": 0}}', 'resumes applies to workflows only'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "priority": 1.5}}', 'priority must be an integer'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "priority": "high"}}', 'priority must be a number'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "concurrency": 2}}', 'concurrency must be an array'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "concurrency": [2]}}', 'concurrency must be [limit, key]'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "concurrency": [2, null]}}', 'concurrency must be [limit, key]'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "concurrency": [0, "k"]}}', 'concurrency limit must be an integer of at least 1'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "concurrency": [1.5, "k"]}}', 'concurrency limit must be an integer of at least 1'],
    ['{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "concurrency": [true, "k"]}}', 'concurrency limit must be a number'],
    ['{"id": 3, "method": "future_thing"}', 'unknown method: future_thing'],
  ])('%s: %s', (raw, message) => {
    expect(() => parse(raw)).toThrow(ProtocolError)
    expect(() => parse(raw)).toThrow(message)
  })

  test('params may be absent or null when empty; optional fields may be null', () => {
    expect(parse('{"id": 4, "method": "suspend"}')).toEqual({ id: 4, method: 'suspend', params: {} })
    expect(paramsOf('{"id": 4, "method": "suspend", "params": null}')).toEqual({})
    expect(paramsOf('{"id": 4, "method": "suspend", "params": {"execute_after": null}}')).toEqual({})
    expect(paramsOf('{"method": "log", "params": {"level": 1, "template": null}}')).toEqual({ level: 1 })
    const submit = (resumes: string) => paramsOf(`{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], "resumes": ${resumes}}}`)
    expect(submit('null')).toMatchObject({ resumes: undefined })
    const limited = (fields: string) => paramsOf(`{"id": 1, "method": "submit_execution", "params": {"module": "m", "target": "t", "arguments": [], ${fields}}}`)
    expect(limited('"priority": null, "concurrency": null')).toMatchObject({ priority: undefined, concurrency: undefined })
    expect(limited('"priority": -3, "concurrency": [1, "customer-42"]')).toMatchObject({ priority: -3, concurrency: [1, 'customer-42'] })
  })
})

test('method sets: what a bound executor may notify, and what it may request', () => {
  expect(isExecutionNotificationMethod('log')).toBe(true)
  expect(isExecutionNotificationMethod('ready')).toBe(false)
  expect(isExecutionNotificationMethod('select')).toBe(false)
  expect(isExecutorRequestMethod('select')).toBe(true)
  expect(isExecutorRequestMethod('execute')).toBe(false)
  expect(isExecutorRequestMethod('toString')).toBe(false)
})
