import { describe, expect, test } from 'bun:test'
import { JsonNumber, RawJson } from '../../../internal/protocol/json.ts'
import { decodeFrame, encodeFrame } from '../../../internal/protocol/worker.ts'

describe('CBOR frames', () => {
  test('value data (RawJson) keeps its exact text', () => {
    const frame = { request: 'put_result', params: ['R1:1:1', ['raw', new RawJson('{"a":1.0}'), []]] }
    const decoded = decodeFrame(encodeFrame(frame, 'cbor') as Uint8Array, 'cbor') as typeof frame
    const raw = decoded.params[1] as [string, RawJson, unknown[]]
    expect(raw[1]).toBeInstanceOf(RawJson)
    expect(raw[1].text).toBe('{"a":1.0}')
  })

  test('a JsonNumber outside value data travels as a plain, untagged number', () => {
    const frame = { request: 'define_metric', params: ['R1:1:1', 'loss', { throttle: new JsonNumber('1.0'), nested: [new JsonNumber('2.50')] }] }
    expect(decodeFrame(encodeFrame(frame, 'cbor') as Uint8Array, 'cbor')).toEqual({
      request: 'define_metric',
      params: ['R1:1:1', 'loss', { throttle: 1, nested: [2.5] }],
    })
    // 1.0 is the one-byte unsigned integer 1: no tag (0xc0–0xdb) in front of it
    const bytes = encodeFrame([new JsonNumber('1.0')], 'cbor') as Uint8Array
    expect([...bytes]).toEqual([0x81, 0x01])
  })

  test('JSON frames print a JsonNumber verbatim', () => {
    expect(encodeFrame([new JsonNumber('1.0')], 'json')).toBe('[1.0]')
  })
})
