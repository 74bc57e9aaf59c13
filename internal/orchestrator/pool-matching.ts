/**
 * Which pools could run an execution (semantics.md §21.2). Pure functions, unit-tested.
 */
import type { TagSet } from '../protocol/api.ts'
import type { PoolRecord } from '../store/index.ts'
import { tagsMatch } from './routing.ts'

/**
 * A pool's module pattern against a module name, segment by segment: `*` matches exactly one
 * segment, except that a final `*` matches one or more. (0.12 compared names exactly although
 * it accepted patterns.)
 *
 * @example
 * modulePatternMatches('app.*', 'app.flows.sub') // true
 * modulePatternMatches('app.*', 'app') // false
 */
export function modulePatternMatches(pattern: string, module: string): boolean {
  const want = pattern.split('.')
  const have = module.split('.')
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '*' && i === want.length - 1) return have.length >= want.length
    if (i >= have.length) return false
    if (want[i] !== '*' && want[i] !== have[i]) return false
  }
  return want.length === have.length
}

/** Whether the pool can launch a worker for this module and these effective requires. */
export function poolServes(pool: PoolRecord, module: string, requires: TagSet): boolean {
  if (pool.disabled || pool.deletedAt !== null || !pool.launcher) return false
  if (!pool.modules.some((pattern) => modulePatternMatches(pattern, module))) return false
  return tagsMatch(requires, pool.provides, pool.accepts)
}
