/** What the stores cannot show without a failing disk: retries, and the order subscribers see. */
import { expect, test } from 'bun:test'
import { BufferedWriter } from '../../../internal/store/buffered-writer.ts'
import { until } from './support/telemetry-store.ts'

interface Item {
  runId: string
  n: number
}

test('a failed write keeps the batch, in order, and retries it after the interval', async () => {
  const written: number[][] = []
  let failures = 1
  const errors: unknown[] = []
  const writer = new BufferedWriter<Item, Item>(
    'test store',
    (batch) => {
      if (failures-- > 0) throw new Error('disk full')
      written.push(batch.map((i) => i.n))
      return [...batch]
    },
    { flushIntervalMs: 20, onError: (err) => errors.push(err) },
  )
  writer.append([{ runId: 'R', n: 1 }])
  expect(() => writer.flush()).toThrow('disk full')
  writer.append([{ runId: 'R', n: 2 }])
  await until(() => written.length > 0)
  expect(written).toEqual([[1, 2]])
  expect(errors).toEqual([])
  writer.close(() => {})
  expect(() => writer.append([{ runId: 'R', n: 3 }])).toThrow('test store is closed')
})

test('subscribers get their run only, in the given order', () => {
  const writer = new BufferedWriter<Item, Item>('test store', (batch) => [...batch], { order: (a, b) => a.n - b.n })
  const seen: number[][] = []
  writer.subscribe('R', (i) => i.n !== 2, (items) => seen.push(items.map((i) => i.n)))
  writer.append([{ runId: 'R', n: 3 }, { runId: 'S', n: 0 }, { runId: 'R', n: 1 }, { runId: 'R', n: 2 }])
  writer.flush()
  expect(seen).toEqual([[1, 3]])
  let released = 0
  writer.close(() => released++)
  writer.close(() => released++)
  expect(released).toBe(1)
})
