/**
 * What the log and metric stores share: a temporary file per test, and the behaviour both get
 * from `BufferedWriter`, their `<partition>:<stamp>:<id>` pages and rotation (`Partitions`). Each store's test file runs
 * `describeTelemetryStore` with a harness, then tests what is its own.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BufferedWriterOptions } from '../../../../internal/store/buffered-writer.ts'

/** A fresh `<name>.sqlite` path per test; its directory is removed after `cleanup` (closing the store). */
export function temporaryFile(name: string, cleanup: () => void): { readonly dir: string; readonly path: string } {
  const file = { dir: '', path: '' }
  beforeEach(async () => {
    file.dir = await mkdtemp(join(tmpdir(), `coflux-${name}-`))
    file.path = join(file.dir, `${name}.sqlite`)
  })
  afterEach(async () => {
    cleanup()
    await rm(file.dir, { recursive: true, force: true })
  })
  return file
}

export async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}

interface TelemetryStore<New, Read> {
  append(items: readonly New[]): void
  flush(): void
  subscribe(filter: { run: string }, onBatch: (items: Read[]) => void): () => void
  rotate(now?: number): string
  archives(): { id: string }[]
  close(): void
}

export interface TelemetryHarness<Store extends TelemetryStore<New, Read>, New, Read> {
  /** a store on the test's temporary file (`temporaryFile`); the shared tests close it */
  open(options?: BufferedWriterOptions): Store
  /** an item of `run` (default `RwD6`) told apart by `n`; items appended together are read back in order */
  item(n: number, run?: string): New
  /** the `n` a read item was made with */
  n(item: Read): number
  query(store: Store, query: { run: string; after?: string | null; limit?: number }): { items: Read[]; cursor: string | null }
  InvalidCursorError: abstract new (...args: never[]) => Error
}

/** The shared tests, in a `describe` of their own. */
export function describeTelemetryStore<Store extends TelemetryStore<New, Read>, New, Read>(h: TelemetryHarness<Store, New, Read>): void {
  describe('as a telemetry store', () => describeShared(h))
}

function describeShared<Store extends TelemetryStore<New, Read>, New, Read>(h: TelemetryHarness<Store, New, Read>): void {
  let store: Store | undefined
  afterEach(() => {
    store?.close()
    store = undefined
  })
  const open = (options?: BufferedWriterOptions) => (store = h.open(options))
  const items = (ns: number[], run?: string) => ns.map((n) => h.item(n, run))
  const ns = (read: Read[]) => read.map((item) => h.n(item))
  const range = (length: number) => Array.from({ length }, (_, i) => i)

  describe('buffering', () => {
    test('items are flushed after the interval', async () => {
      const store = open({ flushIntervalMs: 20 })
      const batches: Read[][] = []
      store.subscribe({ run: 'RwD6' }, (read) => batches.push(read))
      store.append(items([1, 2]))
      expect(batches).toEqual([])
      await until(() => batches.length > 0)
      expect(batches.map((b) => b.length)).toEqual([2])
    })

    test('a full buffer is flushed at once, in one batch', () => {
      const store = open({ flushSize: 3, flushIntervalMs: 60_000 })
      const batches: Read[][] = []
      store.subscribe({ run: 'RwD6' }, (read) => batches.push(read))
      store.append(items([1, 2]))
      expect(batches).toHaveLength(0)
      store.append(items([3]))
      expect(batches.map((b) => b.length)).toEqual([3])
    })

    test('a query sees items still in the buffer', () => {
      const store = open({ flushIntervalMs: 60_000 })
      store.append(items([1]))
      expect(ns(h.query(store, { run: 'RwD6' }).items)).toEqual([1])
    })

    test('close persists everything; the store refuses writes afterwards', () => {
      const store = open({ flushIntervalMs: 60_000 })
      store.append(items(range(10)))
      store.close()
      expect(() => store.append(items([10]))).toThrow(/closed/)
      expect(ns(h.query(open(), { run: 'RwD6' }).items)).toEqual(range(10))
    })
  })

  describe('subscriptions', () => {
    test('unsubscribing stops delivery; a failing subscriber does not stop the others', () => {
      const errors: unknown[] = []
      const store = open({ onError: (err) => errors.push(err) })
      let count = 0
      const stop = store.subscribe({ run: 'RwD6' }, () => count++)
      store.subscribe({ run: 'RwD6' }, () => {
        throw new Error('client went away')
      })
      let after = 0
      store.subscribe({ run: 'RwD6' }, () => after++)
      store.append(items([1]))
      store.flush()
      stop()
      store.append(items([2]))
      store.flush()
      expect(count).toBe(1)
      expect(after).toBe(2)
      expect(errors).toHaveLength(2)
    })

    test('query then subscribe in one tick neither misses nor repeats', () => {
      const store = open({ flushIntervalMs: 60_000 })
      store.append(items([1]))
      const first = h.query(store, { run: 'RwD6' }).items
      const later: Read[] = []
      store.subscribe({ run: 'RwD6' }, (read) => later.push(...read))
      store.append(items([2]))
      store.flush()
      expect(ns(first)).toEqual([1])
      expect(ns(later)).toEqual([2])
    })
  })

  describe('pages', () => {
    test('paging with cursors', () => {
      const store = open()
      store.append(items([1, 2, 3, 4]))
      store.append(items([9], 'Other'))
      const first = h.query(store, { run: 'RwD6', limit: 3 })
      expect(ns(first.items)).toEqual([1, 2, 3])
      expect(first.cursor).toMatch(/^:\d+:\d+$/)
      const second = h.query(store, { run: 'RwD6', limit: 3, after: first.cursor })
      expect(ns(second.items)).toEqual([4])
      expect(h.query(store, { run: 'RwD6', limit: 3, after: second.cursor })).toEqual({ items: [], cursor: null })
      // the older form without a partition
      expect(ns(h.query(store, { run: 'RwD6', after: first.cursor!.slice(1) }).items)).toEqual([4])
      // a cursor into an (archived) partition: everything in the active one follows it
      expect(ns(h.query(store, { run: 'RwD6', after: 'E1:999:1' }).items)).toEqual([1, 2, 3, 4])
    })

    test('items of one batch page by id', () => {
      const store = open()
      store.append(items(range(5), 'Same'))
      const seen: number[] = []
      let after: string | null = null
      for (;;) {
        const page = h.query(store, { run: 'Same', limit: 2, after })
        if (page.cursor === null) break
        seen.push(...ns(page.items))
        after = page.cursor
      }
      expect(seen).toEqual(range(5))
    })

    test('bad cursors are refused', () => {
      const store = open()
      for (const bad of ['x', '1', ':a:1', '::', '1:2:3:4']) {
        expect(() => h.query(store, { run: 'RwD6', after: bad })).toThrow(h.InvalidCursorError)
      }
    })

    test('limit: default 1000, at most 10000', () => {
      const store = open()
      store.append(items(range(10_050), 'Big'))
      expect(h.query(store, { run: 'Big' }).items).toHaveLength(1000)
      expect(h.query(store, { run: 'Big', limit: 50_000 }).items).toHaveLength(10_000)
      expect(h.query(store, { run: 'Big', limit: 0 }).items).toHaveLength(1)
      expect(h.query(store, { run: 'Big', limit: Number.NaN }).items).toHaveLength(1000)
    })
  })
  describe('rotation', () => {
    const DAY = Date.UTC(2025, 4, 16)
    const all = (store: Store, run = 'RwD6') => ns(h.query(store, { run, limit: 10_000 }).items)
    const pages = (store: Store, limit: number, run = 'RwD6') => {
      const out: { ns: number[]; cursor: string }[] = []
      let after: string | null = null
      for (;;) {
        const page = h.query(store, { run, limit, after })
        if (page.cursor === null) return out
        out.push({ ns: ns(page.items), cursor: page.cursor })
        after = page.cursor
      }
    }

    test('every item stays readable, archives first, with cursors naming their partition', () => {
      let store = open({ flushIntervalMs: 60_000 })
      store.append(items([1, 2]))
      // what is still buffered goes into the archive
      expect(store.rotate(DAY)).toBe('20250516_0001')
      store.append(items([3]))
      expect(store.rotate(DAY + 1000)).toBe('20250516_0002')
      store.append(items([4, 5]))
      expect(store.archives().map((a) => a.id)).toEqual(['20250516_0001', '20250516_0002'])
      expect(all(store)).toEqual([1, 2, 3, 4, 5])
      const paged = pages(store, 2)
      expect(paged.map((p) => p.ns)).toEqual([[1, 2], [3, 4], [5]])
      expect(paged.map((p) => p.cursor.split(':')[0])).toEqual(['20250516_0001', '', ''])
      // one page reaching over both archives into the active partition
      expect(pages(store, 4).map((p) => p.ns)).toEqual([[1, 2, 3, 4], [5]])
      // after a restart, the archives are found again and ids go on from the newest
      store.close()
      store = open()
      store.append(items([6]))
      expect(all(store)).toEqual([1, 2, 3, 4, 5, 6])
      expect(store.rotate(DAY)).toBe('20250516_0003')
      expect(pages(store, 1).map((p) => p.ns[0])).toEqual([1, 2, 3, 4, 5, 6])
    })

    test('a cursor issued for the active partition before a rotation still continues after its item', () => {
      const store = open()
      store.append(items([1, 2, 3]))
      const cursor = h.query(store, { run: 'RwD6', limit: 2 }).cursor!
      expect(cursor).toMatch(/^:\d+:\d+$/)
      store.rotate(DAY)
      store.append(items([4]))
      expect(ns(h.query(store, { run: 'RwD6', after: cursor }).items)).toEqual([3, 4])
      // the older form without a partition
      expect(ns(h.query(store, { run: 'RwD6', after: cursor.slice(1) }).items)).toEqual([3, 4])
      // a cursor at the end of the active partition before the rotation: only what came after it
      const end = h.query(store, { run: 'RwD6', after: cursor }).cursor!
      store.rotate(DAY)
      store.append(items([5]))
      expect(ns(h.query(store, { run: 'RwD6', after: end }).items)).toEqual([5])
    })

    test('a cursor into an archive that is not there continues with the next partition', () => {
      const store = open()
      store.append(items([1]))
      store.rotate(Date.UTC(2025, 0, 1))
      store.append(items([2]))
      store.rotate(Date.UTC(2025, 0, 3))
      store.append(items([3]))
      expect(ns(h.query(store, { run: 'RwD6', after: '20250102_0001:1:1' }).items)).toEqual([2, 3])
      expect(ns(h.query(store, { run: 'RwD6', after: '20241231_0001:1:1' }).items)).toEqual([1, 2, 3])
    })

    test('runs are read from the partitions that hold them', () => {
      const store = open()
      store.append(items([1], 'A'))
      store.rotate(DAY)
      store.append(items([2], 'B'))
      store.rotate(DAY)
      store.append(items([3], 'A'))
      expect(all(store, 'A')).toEqual([1, 3])
      expect(all(store, 'B')).toEqual([2])
      expect(all(store, 'C')).toEqual([])
    })

    test('subscribers keep receiving after a rotation', () => {
      const store = open({ flushIntervalMs: 60_000 })
      const seen: number[] = []
      store.subscribe({ run: 'RwD6' }, (read) => seen.push(...ns(read)))
      store.append(items([1]))
      store.rotate(DAY)
      store.append(items([2]))
      store.flush()
      store.rotate(DAY)
      store.append(items([3]))
      store.flush()
      expect(seen).toEqual([1, 2, 3])
    })
  })
}
