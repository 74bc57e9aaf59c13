/** Project leases and their fence, against a real PostgreSQL (test/e2e/support/postgres.ts). */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { PostgresDatabase } from '../../../internal/store/postgres/database.ts'
import { FENCE_SQLSTATE, LeaseLostError, LeaseTable, type Lease } from '../../../internal/store/postgres/leases.ts'
import { startPostgres } from '../../e2e/support/postgres.ts'

let url = ''
const opened: { close(): void }[] = []
const table = (holder: string, ttlMs = 60_000) => {
  const t = new LeaseTable({ url, holder, address: () => `${holder}:7777`, ttlMs })
  opened.push(t)
  return t
}

const fenced = (schema: string, holder: LeaseTable, lease: Lease) =>
  new PostgresDatabase({
    url,
    schema,
    fence: { statement: holder.fenceStatement(lease), sqlstate: FENCE_SQLSTATE, failure: () => new LeaseLostError(lease.project) },
  })

beforeAll(async () => {
  url = await (await startPostgres()).createDatabase()
})
afterAll(() => {
  for (const o of opened.reverse()) o.close()
})

test('one holder at a time; the lease is taken over once it expires, with a new token', async () => {
  const a = table('a', 300)
  const b = table('b', 300)
  const first = a.acquire('p')!
  expect(first.token).toBe(1)
  expect(b.acquire('p')).toBeNull()
  expect(b.owner('p')).toEqual({ holder: 'a', address: 'a:7777', expired: false })
  await Bun.sleep(400)
  expect(b.owner('p')?.expired).toBe(true)
  expect(a.expired()).toContain('p')
  const second = b.acquire('p')!
  expect(second.token).toBe(2)
  expect(a.renew(first)).toBe(false)
  expect(b.renew(second)).toBe(true)
})

test('a released lease is free at once', () => {
  const a = table('a2')
  const b = table('b2')
  const lease = a.acquire('q')!
  expect(b.acquire('q')).toBeNull()
  a.release(lease)
  expect(b.acquire('q')?.token).toBe(2)
})

test('the fence: the old holder cannot write once another holds the lease', async () => {
  const a = table('a3', 200)
  const b = table('b3', 60_000)
  const lease = a.acquire('r')!
  const db = fenced('fenced', a, lease)
  opened.push(db)
  db.exec('CREATE TABLE IF NOT EXISTS t (x BIGINT)')
  db.query<unknown, [number]>('INSERT INTO t (x) VALUES (?)').run(1)
  await Bun.sleep(300)
  // expired but not taken: the holder still writes (nobody else can have written)
  db.query<unknown, [number]>('INSERT INTO t (x) VALUES (?)').run(2)
  expect(b.acquire('r')).not.toBeNull()
  expect(() => db.query<unknown, [number]>('INSERT INTO t (x) VALUES (?)').run(3)).toThrow(LeaseLostError)
  expect(() => db.transaction(() => db.query<unknown, [number]>('INSERT INTO t (x) VALUES (?)').run(4))()).toThrow(LeaseLostError)
  expect(db.query<{ x: number }, []>('SELECT x FROM t ORDER BY x').all().map((r) => r.x)).toEqual([1, 2])
})

test('a takeover waits for the holder’s open transaction, and does not hang while it lasts', async () => {
  const a = table('a4', 100)
  const b = table('b4', 60_000)
  const lease = a.acquire('s')!
  const db = fenced('fenced2', a, lease)
  opened.push(db)
  db.exec('CREATE TABLE IF NOT EXISTS t (x BIGINT)')
  await Bun.sleep(200)
  db.exec('BEGIN')
  db.query<unknown, [number]>('INSERT INTO t (x) VALUES (?)').run(1)
  // the holder's transaction holds the lease row: the taker gives up for now (lock timeout)
  expect(b.acquire('s')).toBeNull()
  db.exec('COMMIT')
  expect(b.acquire('s')).not.toBeNull()
  expect(db.query<{ x: number }, []>('SELECT x FROM t').all()).toEqual([{ x: 1 }])
}, 20_000)
