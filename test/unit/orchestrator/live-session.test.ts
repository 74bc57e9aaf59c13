/**
 * Worker sessions in memory (semantics.md §20): held executions (starting → executing →
 * finished → released), load, accepting work, the outbox while disconnected, replaced connections,
 * expiry timers, and the registry of sessions.
 */
import { describe, expect, test } from 'bun:test'
import { LiveSession, SessionRegistry } from '../../../internal/orchestrator/live-session.ts'
import { targetKey, type WorkerChannel } from '../../../internal/orchestrator/types.ts'
import type { ServerFrame } from '../../../internal/protocol/worker.ts'
import type { SessionRecord } from '../../../internal/store/index.ts'

function record(id: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    externalId: `S${id}`,
    secretHash: new Uint8Array(),
    workspaceId: 1,
    provides: {},
    accepts: {},
    workerId: null,
    activationTimeout: 600_000,
    reconnectionTimeout: 30_000,
    createdAt: 0,
    activatedAt: null,
    expiredAt: null,
    ...overrides,
  }
}

/** A channel that records what it is sent and how it was closed. */
function channel() {
  const sent: ServerFrame[] = []
  const closed: [number, string][] = []
  const ch: WorkerChannel = { send: (f) => sent.push(f), close: (code, reason) => closed.push([code, reason]), supportsAcks: true }
  return { ch, sent, closed }
}

const abort = (id: string): ServerFrame => [1, { command: 'abort', params: [id] }]

/** A connected session that declared concurrency `n`. */
function ready(n: number): LiveSession {
  const s = new LiveSession(record(1))
  s.attach(channel().ch, 0)
  s.declare(new Set(), {}, n)
  return s
}

describe('held executions', () => {
  test('a new assignment is starting and unacknowledged, and counted as executed', () => {
    const s = ready(5)
    s.hold(10)
    expect(s.heldState(10)).toBe('starting')
    expect(s.isUnacknowledged(10)).toBe(true)
    expect(s.unacknowledgedIds()).toEqual([10])
    expect(s.holds(10)).toBe(true)
    expect(s.executed).toBe(1)
  })

  test('one restored as acknowledged is executing; a restore need not count as executed', () => {
    const s = ready(5)
    s.hold(10, true, false)
    s.hold(11, false, false)
    expect(s.heldState(10)).toBe('executing')
    expect(s.isUnacknowledged(10)).toBe(false)
    expect(s.heldState(11)).toBe('starting')
    expect(s.executed).toBe(0)
  })

  test('the first acknowledgement moves starting to executing; later ones report false', () => {
    const s = ready(5)
    s.hold(10)
    expect(s.acknowledge(10)).toBe(true)
    expect(s.heldState(10)).toBe('executing')
    expect(s.acknowledge(10)).toBe(false)
    expect(s.acknowledge(99)).toBe(false)
    expect(s.holds(99)).toBe(false)
  })

  test('finished still holds the process (load) but no longer counts as executing; release frees it', () => {
    const s = ready(2)
    s.hold(10)
    s.hold(11)
    s.acknowledge(11)
    expect([s.load, s.executing]).toEqual([2, 2])
    s.finish(10)
    expect(s.heldState(10)).toBe('finished')
    expect(s.isUnacknowledged(10)).toBe(false)
    expect([s.load, s.executing]).toEqual([2, 1])
    s.release(10)
    expect(s.holds(10)).toBe(false)
    expect([s.load, s.executing]).toEqual([1, 1])
    expect(s.heldIds()).toEqual([11])
  })

  test('finishing something not held does not make it held', () => {
    const s = ready(2)
    s.finish(10)
    expect(s.holds(10)).toBe(false)
    expect(s.load).toBe(0)
  })

  test('release of an unacknowledged execution forgets it entirely', () => {
    const s = ready(2)
    s.hold(10)
    s.release(10)
    expect(s.unacknowledgedIds()).toEqual([])
    expect(s.executed).toBe(1)
  })
})

describe('accepting work (§20.3)', () => {
  test('connected and not draining; a reconnection ends draining', () => {
    const s = new LiveSession(record(1))
    expect(s.isAccepting).toBe(false) // not connected
    const { ch } = channel()
    s.attach(ch, 0)
    expect(s.isAccepting).toBe(true)
    s.drain()
    expect(s.isDraining).toBe(true)
    expect(s.isAccepting).toBe(false)
    s.attach(ch, 1) // a (re)connection is a fresh start
    expect(s.isAccepting).toBe(true)
    s.detach(ch)
    expect(s.isAccepting).toBe(false)
  })

  test('declared concurrency is a whole number of at least one; nothing declared: none', () => {
    expect(new LiveSession(record(1)).concurrency).toBe(0)
    const s = ready(1)
    for (const [declared, kept] of [[0, 1], [-3, 1], [2.7, 2], [Number.NaN, 1], [8, 8]] as const) {
      s.declare(new Set(), {}, declared)
      expect(s.concurrency).toBe(kept)
    }
  })

  test('the waiting bound: as declared, else twice the concurrency (0.12 workers declare none)', () => {
    const s = ready(1)
    s.declare(new Set(), {}, 3)
    expect(s.maxWaiting).toBe(6)
    s.declare(new Set(), {}, 3, 4.5)
    expect(s.maxWaiting).toBe(4)
    s.declare(new Set(), {}, 3, 0)
    expect(s.maxWaiting).toBe(6)
  })

  test('declared targets are what it offers', () => {
    const s = new LiveSession(record(1))
    expect(s.targets).toBeNull()
    expect(s.offers(targetKey('task', 'app', 'f'))).toBe(false)
    s.declare(new Set([targetKey('task', 'app', 'f')]), { app: { task: ['f'] } }, 1)
    expect(s.offers(targetKey('task', 'app', 'f'))).toBe(true)
    expect(s.offers(targetKey('workflow', 'app', 'f'))).toBe(false)
    expect(s.declared).toEqual({ app: { task: ['f'] } })
  })
})

describe('connection', () => {
  test('frames sent while disconnected wait in the outbox until flushed, in order', () => {
    const s = new LiveSession(record(1))
    s.send(abort('a'))
    s.send(abort('b'))
    const { ch, sent } = channel()
    s.attach(ch, 5)
    expect(sent).toEqual([]) // attach flushes nothing
    s.send(abort('c'))
    expect(sent).toEqual([abort('c')])
    s.flush()
    expect(sent).toEqual([abort('c'), abort('a'), abort('b')])
    s.flush()
    expect(sent).toHaveLength(3)
  })

  test('flush without a connection keeps the outbox', () => {
    const s = new LiveSession(record(1))
    s.send(abort('a'))
    s.flush()
    const { ch, sent } = channel()
    s.attach(ch, 0)
    s.flush()
    expect(sent).toEqual([abort('a')])
  })

  test('attach returns the connection it replaces (never the same one)', () => {
    const s = new LiveSession(record(1))
    const first = channel()
    const second = channel()
    expect(s.attach(first.ch, 1)).toBeNull()
    expect(s.attach(first.ch, 2)).toBeNull()
    expect(s.attach(second.ch, 3)).toBe(first.ch)
    expect(s.channel).toBe(second.ch)
    expect(s.connectedAt).toBe(3)
    s.send(abort('x'))
    expect(first.sent).toEqual([])
    expect(second.sent).toEqual([abort('x')])
  })

  test("a replaced connection's close is ignored; the current one's disconnects", () => {
    const s = new LiveSession(record(1))
    const first = channel()
    const second = channel()
    s.attach(first.ch, 1)
    s.attach(second.ch, 2)
    expect(s.detach(first.ch)).toBe(false)
    expect(s.isConnected).toBe(true)
    expect(s.detach(second.ch)).toBe(true)
    expect(s.isConnected).toBe(false)
    expect(s.connectedAt).toBeNull()
  })

  test('disconnect closes the current connection with the reason', () => {
    const s = new LiveSession(record(1))
    const { ch, closed } = channel()
    s.attach(ch, 1)
    s.disconnect(4000, 'session_invalid')
    expect(closed).toEqual([[4000, 'session_invalid']])
    expect(s.isConnected).toBe(false)
    s.disconnect(4000, 'again') // nothing to close
    expect(closed).toHaveLength(1)
  })

  test('activated replaces the record', () => {
    const s = new LiveSession(record(1))
    s.activated(record(1, { activatedAt: 42 }))
    expect(s.record.activatedAt).toBe(42)
  })
})

describe('expiry timers', () => {
  test('a new timer replaces the old one; attach and clearExpiry cancel it', async () => {
    const fired: string[] = []
    const s = new LiveSession(record(1))
    s.setExpiry(setTimeout(() => fired.push('first'), 1))
    s.setExpiry(setTimeout(() => fired.push('second'), 1))
    await Bun.sleep(10)
    expect(fired).toEqual(['second'])
    s.setExpiry(setTimeout(() => fired.push('third'), 1))
    s.attach(channel().ch, 0)
    s.setExpiry(setTimeout(() => fired.push('fourth'), 1))
    s.clearExpiry()
    await Bun.sleep(10)
    expect(fired).toEqual(['second'])
  })
})

describe('SessionRegistry', () => {
  test('by id, by workspace, by pool worker', () => {
    const registry = new SessionRegistry()
    const a = new LiveSession(record(1))
    const b = new LiveSession(record(2, { workspaceId: 2, workerId: 9 }))
    registry.add(a)
    registry.add(b)
    expect(registry.get(1)).toBe(a)
    expect(registry.has(2)).toBe(true)
    expect(registry.ofWorkspace(2)).toEqual([b])
    expect(registry.ofWorker(9)).toBe(b)
    expect(registry.ofWorker(8)).toBeUndefined()
    expect(registry.all()).toEqual([a, b])
  })

  test('remove and close cancel expiry timers', async () => {
    const fired: number[] = []
    const registry = new SessionRegistry()
    const a = new LiveSession(record(1))
    const b = new LiveSession(record(2))
    registry.add(a)
    registry.add(b)
    a.setExpiry(setTimeout(() => fired.push(1), 1))
    b.setExpiry(setTimeout(() => fired.push(2), 1))
    registry.remove(1)
    expect(registry.has(1)).toBe(false)
    registry.close()
    await Bun.sleep(10)
    expect(fired).toEqual([])
  })
})
