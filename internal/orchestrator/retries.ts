/**
 * Retry policy (semantics.md §8): whether a failed attempt gets a successor, and when it is due.
 * Pure functions over the step's policy and its previous results, unit-tested.
 */
import type { ResultTypeName } from '../store/types.ts'

export interface RetryPolicy {
  /** 0 none, -1 unlimited, N */
  limit: number
  backoffMin: number
  backoffMax: number
}

const FAILURES: ReadonlySet<ResultTypeName> = new Set(['error', 'abandoned', 'timeout'])

/** §8.2: error unless flagged non-retryable; abandoned; timeout. */
export function isRetryable(type: ResultTypeName, retryable: boolean | null): boolean {
  if (type === 'error') return retryable !== false
  return type === 'abandoned' || type === 'timeout'
}

/**
 * Delay (ms) before the retry of a failed attempt, or null when no retry is due.
 * `previous` are the result types of the step's earlier executions in the same workspace,
 * newest first (the failing one not included).
 */
export function retryDelay(policy: RetryPolicy, previous: (ResultTypeName | null)[], random = Math.random): number | null {
  if (policy.limit === 0) return null
  const min = policy.backoffMin
  const max = Math.max(policy.backoffMax, min)
  if (policy.limit < 0) return Math.round(min + random() * (max - min))
  let failures = 0
  for (const type of previous.slice(0, policy.limit + 1)) {
    if (type !== null && FAILURES.has(type)) failures++
    else break
  }
  if (failures >= policy.limit) return null
  return Math.round(min + (failures / Math.max(policy.limit - 1, 1)) * (max - min))
}
