/**
 * Topic diffs: applying `diffTopicValues(a, b)` to `a` must give `b`, directly and after a trip
 * through the wire (stringify → lossless parse), for random nested values and their mutations.
 */
import { describe, expect, test } from 'bun:test'
import { canonicalJson, JsonNumber, parseJson, RawJson, stringifyJson, type Json } from '../../../internal/protocol/json.ts'
import { applyTopicUpdates, type TopicUpdate } from '../../../internal/protocol/topics.ts'
import { diffTopicValues, toWireValue, wireValuesEqual } from '../../../internal/server/topics/diff.ts'

/** mulberry32: a seeded generator, so a failure names a reproducible seed */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const KEYS = ['a', 'b', 'c', 'runs', 'steps', '0', '__proto__', 'x y']

function randomLeaf(r: () => number): Json {
  const n = Math.floor(r() * 8)
  if (n === 0) return null
  if (n === 1) return r() < 0.5
  if (n === 2) return Math.floor(r() * 10)
  if (n === 3) return ['s', 't', ''][Math.floor(r() * 3)]!
  if (n === 4) return new JsonNumber(['1.0', '1e-07', '18446744073709551616'][Math.floor(r() * 3)]!)
  if (n === 5) return new RawJson(['{"x":1.0}', '[1,2]', '"raw"'][Math.floor(r() * 3)]!)
  return r() * 100
}

function randomValue(r: () => number, depth = 0): Json {
  const n = r()
  if (depth > 3 || n < 0.35) return randomLeaf(r)
  if (n < 0.65) return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1))
  const out: { [key: string]: Json } = {}
  for (let i = Math.floor(r() * 5); i > 0; i--) {
    Object.defineProperty(out, KEYS[Math.floor(r() * KEYS.length)]!, { value: randomValue(r, depth + 1), enumerable: true, writable: true, configurable: true })
  }
  return out
}

/** Small edits of the kinds topics see: values changed, keys added and removed, lists grown and shrunk. */
function mutate(r: () => number, value: Json, depth = 0): Json {
  if (r() < 0.15) return randomValue(r, depth)
  if (Array.isArray(value)) {
    const out = value.map((v) => (r() < 0.3 ? mutate(r, v, depth + 1) : v))
    const edits = Math.floor(r() * 3)
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(r() * (out.length + 1))
      if (r() < 0.5) out.splice(at, 0, randomValue(r, depth + 1))
      else out.splice(at, 1 + Math.floor(r() * 2))
    }
    return out
  }
  if (value !== null && typeof value === 'object' && !(value instanceof RawJson) && !(value instanceof JsonNumber)) {
    const out: { [key: string]: Json } = {}
    for (const [k, v] of Object.entries(value)) {
      if (r() < 0.2) continue
      Object.defineProperty(out, k, { value: r() < 0.4 ? mutate(r, v, depth + 1) : v, enumerable: true, writable: true, configurable: true })
    }
    if (r() < 0.4) Object.defineProperty(out, KEYS[Math.floor(r() * KEYS.length)]!, { value: randomValue(r, depth + 1), enumerable: true, writable: true, configurable: true })
    return out
  }
  return r() < 0.5 ? value : randomLeaf(r)
}

/** What a client holds: the lossless parse of what the server printed. */
const wire = (value: unknown): Json => parseJson(stringifyJson(value))

function expectRoundTrip(before: Json, after: Json): TopicUpdate[] {
  const updates = diffTopicValues(before, after)
  const beforeText = canonicalJson(before)
  expect(canonicalJson(applyTopicUpdates(before, updates))).toBe(canonicalJson(after))
  expect(canonicalJson(before)).toBe(beforeText) // neither side is modified
  const received = parseJson(stringifyJson(updates)) as TopicUpdate[]
  expect(canonicalJson(applyTopicUpdates(wire(before), received))).toBe(canonicalJson(wire(after)))
  return updates
}

describe('diffTopicValues', () => {
  test('random values and their mutations round-trip', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const r = random(seed)
      const before = randomValue(r)
      const after = seed % 4 === 0 ? randomValue(r) : mutate(r, before)
      try {
        expectRoundTrip(before, after)
      } catch (err) {
        throw new Error(`seed ${seed}: ${(err as Error).message}`)
      }
    }
  })

  test('equal values need no updates; RawJson compares by its text', () => {
    const value = { a: [1, { b: new RawJson('{"x": 1.0}') }], n: new JsonNumber('1.0') }
    const same = { n: new JsonNumber('1.0'), a: [1, { b: new RawJson('{"x": 1.0}') }] }
    expect(diffTopicValues(value, same)).toEqual([])
    expect(diffTopicValues({ v: new RawJson('1.0') }, { v: new RawJson('1.00') })).toEqual([[0, ['v'], new RawJson('1.00')]])
  })

  test('a growing or shrinking list costs one insert or delete', () => {
    expect(diffTopicValues({ l: [1, 2, 3] }, { l: [1, 2, 3, 4, 5] })).toEqual([[2, ['l'], null, [4, 5]]])
    expect(diffTopicValues({ l: [1, 2, 3] }, { l: [0, 1, 2, 3] })).toEqual([[2, ['l'], 0, [0]]])
    expect(diffTopicValues({ l: [1, 2, 3] }, { l: [1, 2.5, 2, 3] })).toEqual([[2, ['l'], 1, [2.5]]])
    expect(diffTopicValues({ l: [1, 2, 3, 4] }, { l: [1, 4] })).toEqual([[3, ['l'], 1, 2]])
    expect(diffTopicValues({ l: [1, 2, 3] }, { l: [] })).toEqual([[3, ['l'], 0, 3]])
    expectRoundTrip({ l: [{ id: 1 }, { id: 2 }] }, { l: [{ id: 1, done: true }, { id: 2 }, { id: 3 }] })
  })

  test('keys: removed, one set, several merged, nested objects diffed in place', () => {
    expect(diffTopicValues({ a: 1, b: 2 }, { a: 1 })).toEqual([[1, [], 'b']])
    expect(diffTopicValues({ w: { s: { state: 'active', name: 'x' } } }, { w: { s: { state: 'paused', name: 'x' } } })).toEqual([
      [0, ['w', 's', 'state'], 'paused'],
    ])
    expect(diffTopicValues({ a: 1 }, { a: 2, b: 3 })).toEqual([[4, [], { a: 2, b: 3 }]])
  })

  test('a changed root type replaces the whole value', () => {
    expect(diffTopicValues({ a: 1 }, [1])).toEqual([[0, [], [1]]])
    expect(diffTopicValues(null, { a: 1 })).toEqual([[0, [], { a: 1 }]])
  })

  test('__proto__ stays an ordinary key', () => {
    const after = parseJson('{"__proto__": {"polluted": true}, "a": 1}')
    const result = applyTopicUpdates({}, diffTopicValues({}, after))
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
    expect(canonicalJson(result)).toBe(canonicalJson(after))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('applyTopicUpdates', () => {
  test('set creates missing objects along its path; merge into a missing object creates it', () => {
    expect(applyTopicUpdates({}, [[0, ['a', 'b', 'c'], 1]])).toEqual({ a: { b: { c: 1 } } })
    expect(applyTopicUpdates({}, [[4, ['m'], { x: 1 }]])).toEqual({ m: { x: 1 } })
  })

  test('updates that do not fit the value are protocol errors', () => {
    expect(() => applyTopicUpdates({ a: 1 }, [[2, ['a'], 0, [1]]])).toThrow('not an array')
    expect(() => applyTopicUpdates({ l: [1] }, [[3, ['l'], 0, 5]])).toThrow('bad array index')
    expect(() => applyTopicUpdates({}, [[9, [], 1] as unknown as TopicUpdate])).toThrow('unknown update op')
  })
})

describe('toWireValue', () => {
  test('is what stringifyJson prints, detached from the input', () => {
    const live = { tags: { gpu: ['A100'] }, gone: undefined, list: [1, undefined], inf: Infinity }
    const copy = toWireValue(live)
    expect(stringifyJson(copy)).toBe(stringifyJson(live))
    live.tags.gpu.push('T4')
    expect(wireValuesEqual(copy, toWireValue(live))).toBe(false)
  })
})
