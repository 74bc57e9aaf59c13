import { describe, expect, test } from 'bun:test'
import { isRetryable, retryDelay } from '../../../internal/orchestrator/retries.ts'

describe('isRetryable (semantics.md §8.2)', () => {
  test('errors unless flagged false, abandonments and timeouts', () => {
    expect(isRetryable('error', null)).toBe(true)
    expect(isRetryable('error', true)).toBe(true)
    expect(isRetryable('error', false)).toBe(false)
    expect(isRetryable('abandoned', null)).toBe(true)
    expect(isRetryable('timeout', null)).toBe(true)
    expect(isRetryable('cancelled', null)).toBe(false)
    expect(isRetryable('value', null)).toBe(false)
    expect(isRetryable('suspended', null)).toBe(false)
  })
})

describe('retryDelay, limited (§8.3)', () => {
  const policy = { limit: 5, backoffMin: 300_000, backoffMax: 600_000 }
  test('the spec example: 300, 375, 450, 525, 600 s, then no more', () => {
    const delays: (number | null)[] = []
    const previous: ('error' | null)[] = []
    for (let attempt = 1; attempt <= 6; attempt++) {
      delays.push(retryDelay(policy, previous))
      previous.unshift('error')
    }
    expect(delays).toEqual([300_000, 375_000, 450_000, 525_000, 600_000, null])
  })
  test('a success ends the run of failures', () => {
    expect(retryDelay({ limit: 2, backoffMin: 0, backoffMax: 0 }, ['error', 'value', 'error', 'error'])).toBe(0)
    expect(retryDelay({ limit: 2, backoffMin: 0, backoffMax: 0 }, ['error', 'timeout'])).toBeNull()
  })
  test('suspensions and recurrences are not failures', () => {
    expect(retryDelay({ limit: 1, backoffMin: 0, backoffMax: 0 }, ['suspended', 'error'])).toBe(0)
    expect(retryDelay({ limit: 1, backoffMin: 0, backoffMax: 0 }, ['recurred'])).toBe(0)
  })
  test('limit 1 waits the minimum', () => {
    expect(retryDelay({ limit: 1, backoffMin: 1000, backoffMax: 5000 }, [])).toBe(1000)
  })
  test('no retries', () => {
    expect(retryDelay({ limit: 0, backoffMin: 0, backoffMax: 0 }, [])).toBeNull()
  })
})

test('unlimited retries draw uniformly within the backoff window (§8.4)', () => {
  const policy = { limit: -1, backoffMin: 1000, backoffMax: 2000 }
  expect(retryDelay(policy, Array(50).fill('error'), () => 0)).toBe(1000)
  expect(retryDelay(policy, [], () => 0.5)).toBe(1500)
  expect(retryDelay(policy, [], () => 0.999)).toBeLessThanOrEqual(2000)
})
