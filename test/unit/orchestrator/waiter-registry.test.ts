/**
 * Select waiters (semantics.md §14.4) on their own, with a scripted view of where each handle
 * stands: what a waiter watches, moving along successors, removal, keyed replacement, timeouts
 * and the queries used by the inputs topics and epoch rotation.
 */
import { beforeEach, describe, expect, test } from 'bun:test'
import type { ResolvedHandle } from '../../../internal/orchestrator/types.ts'
import { WaiterRegistry, type HandleState, type Waiter, type WaiterSpec } from '../../../internal/orchestrator/waiter-registry.ts'

/** Execution id → the execution its call is pending on (absent: pending on itself; null: final). */
let pendingAt: Map<number, number | null>
let answered: Set<number>
let inputsChanged: number
let registry: WaiterRegistry

const state: HandleState = {
  pendingExecution: (id) => (pendingAt.has(id) ? pendingAt.get(id)! : id),
  isAnswered: (id) => answered.has(id),
}

beforeEach(() => {
  pendingAt = new Map()
  answered = new Set()
  inputsChanged = 0
  registry = new WaiterRegistry(state, () => inputsChanged++)
})

const exec = (id: number): ResolvedHandle => ({ kind: 'execution', id })
const input = (id: number): ResolvedHandle => ({ kind: 'input', id })
const never = () => {
  throw new Error('not expected to expire')
}

function add(callerId: number, handles: ResolvedHandle[], extra: Partial<WaiterSpec> = {}, timeoutMs: number | null = null, onExpire: (w: Waiter) => void = never): Waiter {
  const spec: WaiterSpec = { sessionId: 1, callerId, handles, suspend: false, cancelRemaining: false, timeoutMs, reply: () => {}, ...extra }
  return registry.add(spec, 1000, onExpire)
}

describe('watching', () => {
  test('a waiter watches its unresolved handles: the pending execution of each call, unanswered inputs', () => {
    pendingAt.set(2, null) // final
    pendingAt.set(3, 30) // retried: its call is pending on 30
    answered.add(41)
    const w = add(100, [exec(1), exec(2), exec(3), input(40), input(41)])
    expect(w).toMatchObject({ callerId: 100, since: 1000 })
    expect(registry.watchersOf(1)).toEqual([w])
    expect(registry.watchersOf(2)).toEqual([])
    expect(registry.watchersOf(3)).toEqual([])
    expect(registry.watchersOf(30)).toEqual([w])
    expect(registry.watchersOfInput(40)).toEqual([w])
    expect(registry.watchersOfInput(41)).toEqual([])
    expect(registry.isWaiting(100)).toBe(true)
    expect(registry.isWaiting(1)).toBe(false)
    expect(inputsChanged).toBe(1)
  })

  test('waiters on executions only do not touch the inputs topics', () => {
    const w = add(100, [exec(1)])
    registry.remove(w)
    expect(inputsChanged).toBe(0)
  })

  test('several waiters on one execution are all found', () => {
    const a = add(100, [exec(1)])
    const b = add(101, [exec(1), exec(2)])
    expect(registry.watchersOf(1)).toEqual([a, b])
    expect(registry.watchersOf(2)).toEqual([b])
  })

  test('ids are distinct', () => {
    expect(add(100, [exec(1)]).id).not.toBe(add(100, [exec(1)]).id)
  })
})

describe('rewatch', () => {
  test('moves along successors and drops what became final', () => {
    const w = add(100, [exec(1), exec(2)])
    pendingAt.set(1, 5) // 1 failed and was retried as 5
    pendingAt.set(2, null)
    registry.rewatch(w)
    expect(registry.watchersOf(1)).toEqual([])
    expect(registry.watchersOf(2)).toEqual([])
    expect(registry.watchersOf(5)).toEqual([w])
    pendingAt.set(1, 6) // 5 failed too: the call follows to 6
    registry.rewatch(w)
    expect(registry.watchersOf(5)).toEqual([])
    expect(registry.watchersOf(6)).toEqual([w])
  })

  test('an answered input is dropped and the inputs topics hear of it', () => {
    const w = add(100, [input(40), input(41)])
    answered.add(40)
    registry.rewatch(w)
    expect(registry.watchersOfInput(40)).toEqual([])
    expect(registry.watchersOfInput(41)).toEqual([w])
    expect(inputsChanged).toBe(2)
  })

  test('a removed waiter is not watched again', () => {
    const w = add(100, [exec(1)])
    registry.remove(w)
    registry.rewatch(w)
    expect(registry.watchersOf(1)).toEqual([])
  })
})

describe('removal', () => {
  test('remove unindexes everything and tells the inputs topics', () => {
    const w = add(100, [exec(1), input(40)])
    registry.remove(w)
    expect(registry.watchersOf(1)).toEqual([])
    expect(registry.watchersOfInput(40)).toEqual([])
    expect(registry.isWaiting(100)).toBe(false)
    expect(registry.awaitedInputIds()).toEqual([])
    expect(registry.referencedIds()).toEqual([])
    expect(inputsChanged).toBe(2)
    registry.remove(w) // twice: nothing more
    expect(inputsChanged).toBe(2)
  })

  test('removeOfCaller drops every waiter of that caller and only those', () => {
    add(100, [exec(1)])
    add(100, [exec(2), input(40)])
    const other = add(101, [exec(1)])
    expect(registry.ofCaller(100)).toHaveLength(2)
    registry.removeOfCaller(100)
    expect(registry.ofCaller(100)).toEqual([])
    expect(registry.ofCaller(101)).toEqual([other])
    expect(registry.isWaiting(100)).toBe(false)
    expect(registry.watchersOf(1)).toEqual([other])
    expect(registry.watchersOf(2)).toEqual([])
    expect(registry.callersWaitingOnInput(40)).toEqual([])
    expect(registry.isWaiting(101)).toBe(true)
  })
})

describe('keyed waiters (a re-sent select)', () => {
  test('a waiter with the same key replaces the earlier one, whose timeout is cancelled', async () => {
    const expired: number[] = []
    const first = add(100, [exec(1)], { key: 'k' }, 5, (w) => expired.push(w.id))
    const second = add(100, [exec(2)], { key: 'k' })
    expect(registry.watchersOf(1)).toEqual([])
    expect(registry.watchersOf(2)).toEqual([second])
    await Bun.sleep(20)
    expect(expired).toEqual([])
    expect(first.id).not.toBe(second.id)
  })

  test('removing a replaced waiter leaves its replacement registered under the key', () => {
    const first = add(100, [exec(1)], { key: 'k' })
    const second = add(100, [exec(2)], { key: 'k' })
    registry.remove(first)
    const third = add(100, [exec(3)], { key: 'k' })
    // the key still pointed at the second, so the third replaced it
    expect(registry.watchersOf(2)).toEqual([])
    expect(registry.watchersOf(3)).toEqual([third])
    expect(second.key).toBe('k')
  })

  test('different keys or no key never replace each other', () => {
    const a = add(100, [exec(1)], { key: 'a' })
    const b = add(100, [exec(1)], { key: 'b' })
    const c = add(100, [exec(1)])
    expect(registry.watchersOf(1)).toEqual([a, b, c])
  })
})

describe('timeouts', () => {
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 2000
    while (!check()) {
      if (Date.now() > deadline) throw new Error('condition not met in time')
      await Bun.sleep(2)
    }
  }

  test('onExpire is called with the waiter; the registry leaves its removal to the caller', async () => {
    const expired: Waiter[] = []
    const w = add(100, [exec(1)], {}, 5, (x) => expired.push(x))
    await until(() => expired.length > 0)
    expect(expired).toEqual([w])
    expect(registry.watchersOf(1)).toEqual([w])
    registry.remove(w)
    expect(registry.isWaiting(100)).toBe(false)
  })

  test('a timeout of 0 expires on the next turn; none never expires', async () => {
    const expired: number[] = []
    add(100, [exec(1)], {}, 0, () => expired.push(0))
    add(101, [exec(2)], {}, null)
    await until(() => expired.length > 0)
    expect(expired).toEqual([0])
  })

  test('removal and close cancel pending timeouts', async () => {
    const expired: number[] = []
    const w = add(100, [exec(1)], {}, 5, () => expired.push(100))
    registry.remove(w)
    add(101, [exec(1)], {}, 5, () => expired.push(101))
    registry.removeOfCaller(101)
    add(102, [exec(1)], {}, 5, () => expired.push(102))
    registry.close()
    const control: number[] = []
    new WaiterRegistry(state, () => {}).add(
      { sessionId: 1, callerId: 103, handles: [exec(1)], suspend: false, cancelRemaining: false, timeoutMs: 5, reply: () => {} },
      0,
      () => control.push(103),
    )
    await until(() => control.length > 0)
    expect(expired).toEqual([])
  })
})

describe('queries', () => {
  test('awaitedInputIds and callersWaitingOnInput', () => {
    add(100, [input(40), exec(1)])
    add(101, [input(40), input(41)])
    expect(registry.awaitedInputIds().sort()).toEqual([40, 41])
    expect(registry.callersWaitingOnInput(40)).toEqual([100, 101])
    expect(registry.callersWaitingOnInput(41)).toEqual([101])
    expect(registry.callersWaitingOnInput(42)).toEqual([])
  })

  test('referencedIds: watched executions, callers and execution handles, never inputs', () => {
    pendingAt.set(1, 5)
    pendingAt.set(2, null)
    add(100, [exec(1), exec(2), input(40)])
    expect(registry.referencedIds().sort((a, b) => a - b)).toEqual([1, 2, 5, 100])
  })
})
