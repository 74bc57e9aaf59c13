/** The Bloom filter of the epoch index (semantics.md §23.2). */
import { expect, test } from 'bun:test'
import { BloomFilter } from '../../../internal/store/bloom.ts'

test('no false negatives', () => {
  const filter = BloomFilter.forCapacity(10_000)
  const keys = Array.from({ length: 10_000 }, (_, i) => `R${i.toString(36)}`)
  for (const k of keys) filter.add(k)
  expect(keys.every((k) => filter.mayContain(k))).toBe(true)
})

test('about 5 % false positives at capacity', () => {
  const n = 20_000
  const filter = BloomFilter.forCapacity(n, 0.05)
  for (let i = 0; i < n; i++) filter.add(`in-${i}`)
  let positives = 0
  const probes = 50_000
  for (let i = 0; i < probes; i++) if (filter.mayContain(`out-${i}`)) positives++
  const rate = positives / probes
  expect(rate).toBeGreaterThan(0.02)
  expect(rate).toBeLessThan(0.08)
})

test('sized from the capacity and rate', () => {
  const filter = BloomFilter.forCapacity(1000, 0.05)
  // m = -n ln p / (ln 2)^2 ≈ 6.24 bits per key, k = m/n ln 2 ≈ 4
  expect(filter.m).toBe(6236)
  expect(filter.k).toBe(4)
  expect(filter.bits.length).toBe(Math.ceil(6236 / 8))
  // an empty archive still gets a usable filter
  const empty = BloomFilter.forCapacity(0)
  expect(empty.mayContain('anything')).toBe(false)
})

test('round-trips through its bits (persisted in the index)', () => {
  const filter = BloomFilter.forCapacity(100)
  for (const k of ['RbcD', 'Rxyz', 'deadbeef']) filter.add(k)
  const copy = new BloomFilter(filter.m, filter.k, new Uint8Array(filter.bits))
  for (const k of ['RbcD', 'Rxyz', 'deadbeef']) expect(copy.mayContain(k)).toBe(true)
  expect([...copy.bits]).toEqual([...filter.bits])
})

test('hashing is fixed: the same key sets the same bits in every version', () => {
  const filter = new BloomFilter(64, 3)
  filter.add('RwD6')
  // pinned: a change here would make persisted filters answer "no" for keys they hold
  expect(Buffer.from(filter.bits).toString('hex')).toBe('0000000400008020')
})

test('rejects inconsistent parameters', () => {
  expect(() => new BloomFilter(0, 1)).toThrow()
  expect(() => new BloomFilter(64, 0)).toThrow()
  expect(() => new BloomFilter(64, 3, new Uint8Array(3))).toThrow()
})
