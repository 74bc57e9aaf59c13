import { describe, expect, test } from 'bun:test'
import { modulePatternMatches, poolServes } from '../../../internal/orchestrator/pool-matching.ts'
import type { PoolRecord } from '../../../internal/store/index.ts'

describe('module patterns (semantics.md §21.2)', () => {
  test('a final * matches one or more segments, never none', () => {
    expect(modulePatternMatches('app.*', 'app.flows')).toBe(true)
    expect(modulePatternMatches('app.*', 'app.flows.sub')).toBe(true)
    expect(modulePatternMatches('app.*', 'app')).toBe(false)
    expect(modulePatternMatches('app.*', 'other.flows')).toBe(false)
    expect(modulePatternMatches('*', 'anything.at.all')).toBe(true)
  })

  test('an inner * matches exactly one segment', () => {
    expect(modulePatternMatches('app.*.tasks', 'app.billing.tasks')).toBe(true)
    expect(modulePatternMatches('app.*.tasks', 'app.billing.sub.tasks')).toBe(false)
    expect(modulePatternMatches('app.*.tasks', 'app.tasks')).toBe(false)
    expect(modulePatternMatches('*.flows', 'x.flows')).toBe(true)
  })

  test('without * a pattern is an exact name (prefixes do not match)', () => {
    expect(modulePatternMatches('flows', 'flows')).toBe(true)
    expect(modulePatternMatches('flows', 'flows.sub')).toBe(false)
    expect(modulePatternMatches('app.flows', 'app')).toBe(false)
    expect(modulePatternMatches('app.flows', 'app.flowsy')).toBe(false)
  })
})

describe('poolServes', () => {
  const pool = (changes: Partial<PoolRecord> = {}): PoolRecord => ({
    id: 1,
    externalId: 'Pbcd',
    workspaceId: 1,
    name: 'cpu',
    modules: ['app.*'],
    provides: { gpu: ['A100'] },
    accepts: {},
    launcher: { type: 'process', directory: '/srv' },
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
    deletedAt: null,
    ...changes,
  })

  test('an enabled pool with a launcher whose modules and tags fit', () => {
    expect(poolServes(pool(), 'app.flows', {})).toBe(true)
    expect(poolServes(pool(), 'app.flows', { gpu: ['A100'] })).toBe(true)
  })

  test('not when disabled, deleted, without a launcher, another module or unmet requires', () => {
    expect(poolServes(pool({ disabled: true }), 'app.flows', {})).toBe(false)
    expect(poolServes(pool({ deletedAt: 5 }), 'app.flows', {})).toBe(false)
    expect(poolServes(pool({ launcher: null }), 'app.flows', {})).toBe(false)
    expect(poolServes(pool(), 'app', {})).toBe(false)
    expect(poolServes(pool(), 'app.flows', { gpu: ['T4'] })).toBe(false)
    expect(poolServes(pool({ accepts: { region: ['eu'] } }), 'app.flows', {})).toBe(false)
  })
})
