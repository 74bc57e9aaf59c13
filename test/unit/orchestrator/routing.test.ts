import { describe, expect, test } from 'bun:test'
import { effectiveRequires, parseTagSet, tagSetFromItems, tagsMatch } from '../../../internal/orchestrator/routing.ts'

describe('effectiveRequires', () => {
  test('step tags override run tags key by key; empty lists remove a key', () => {
    expect(effectiveRequires({ gpu: ['A100'], region: ['eu'] }, { region: ['us'], arch: [] })).toEqual({ gpu: ['A100'], region: ['us'] })
    expect(effectiveRequires({ gpu: ['A100'] }, { gpu: [] })).toEqual({})
    expect(effectiveRequires({}, null)).toEqual({})
  })
})

describe('tagsMatch (semantics.md §19.3 examples)', () => {
  test('requirement met by one of several provided values', () => {
    expect(tagsMatch({ gpu: ['A100', 'H100'] }, { gpu: ['H100'] }, {})).toBe(true)
    expect(tagsMatch({ gpu: ['A100'] }, { gpu: ['T4'] }, {})).toBe(false)
  })
  test('no requirements match any worker without accepts', () => {
    expect(tagsMatch({}, { gpu: ['T4'] }, {})).toBe(true)
  })
  test('accepts are opt-in: a worker with accepts only takes work that asks for them', () => {
    expect(tagsMatch({}, {}, { gpu: ['A100'] })).toBe(false)
    expect(tagsMatch({ gpu: ['A100'] }, {}, { gpu: ['A100', 'H100'] })).toBe(true)
    expect(tagsMatch({ gpu: ['T4'] }, {}, { gpu: ['A100'] })).toBe(false)
  })
  test('values compare exactly', () => {
    expect(tagsMatch({ gpu: ['a100'] }, { gpu: ['A100'] }, {})).toBe(false)
  })
})

describe('parseTagSet', () => {
  test('booleans become strings and strings become lists', () => {
    expect(parseTagSet({ gpu: true, region: 'eu', os: ['linux', 'mac'] })).toEqual({ gpu: ['true'], region: ['eu'], os: ['linux', 'mac'] })
  })
  test('limits and patterns', () => {
    expect(parseTagSet({ 'bad key!': 'x' })).toBeNull()
    expect(parseTagSet({ k: 'bad value!' })).toBeNull()
    expect(parseTagSet(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])))).toBeNull()
    expect(parseTagSet({ k: Array.from({ length: 11 }, (_, i) => `v${i}`) })).toBeNull()
    expect(parseTagSet([1, 2])).toBeNull()
    expect(parseTagSet(null)).toEqual({})
  })
  test('empty lists only where they mean "unset"', () => {
    expect(parseTagSet({ gpu: [] })).toBeNull()
    expect(parseTagSet({ gpu: [] }, { allowEmptyLists: true })).toEqual({ gpu: [] })
  })
})

test('tagSetFromItems groups key:value items, a bare key meaning true', () => {
  expect(tagSetFromItems(['gpu:A100', 'gpu:H100', 'region:eu', 'fast'])).toEqual({ gpu: ['A100', 'H100'], region: ['eu'], fast: ['true'] })
})
