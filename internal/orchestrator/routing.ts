/**
 * Routing tags (semantics.md §19): effective requires of an execution and whether a session's
 * provides/accepts satisfy them. Pure functions, unit-tested.
 */
import type { TagSet } from '../protocol/api.ts'

/** Run requires overridden key by key by the step's; keys with empty lists removed. */
export function effectiveRequires(runRequires: TagSet, stepRequires: TagSet | null): TagSet {
  const merged: TagSet = { ...runRequires, ...(stepRequires ?? {}) }
  for (const [key, values] of Object.entries(merged)) if (values.length === 0) delete merged[key]
  return merged
}

/** §19.3: requirements met by provides ∪ accepts, and every accepts key explicitly requested. */
export function tagsMatch(requires: TagSet, provides: TagSet, accepts: TagSet): boolean {
  for (const [key, wanted] of Object.entries(requires)) {
    const offered = new Set([...(provides[key] ?? []), ...(accepts[key] ?? [])])
    if (!wanted.some((v) => offered.has(v))) return false
  }
  for (const [key, accepted] of Object.entries(accepts)) {
    const wanted = requires[key]
    if (!wanted || !wanted.some((v) => accepted.includes(v))) return false
  }
  return true
}

const TAG_KEY = /^[a-z0-9_-]{1,20}$/i
const TAG_VALUE = /^[a-z0-9_-]{1,30}$/i

/**
 * Validates a tag set from outside (http-api.md §8): ≤ 10 keys, ≤ 10 values each, patterns,
 * booleans become "true"/"false", a string becomes a one-item list. Returns null when invalid.
 */
export function parseTagSet(raw: unknown, options: { allowEmptyLists?: boolean } = {}): TagSet | null {
  if (raw === null || raw === undefined) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) return null
  const entries = Object.entries(raw as Record<string, unknown>)
  if (entries.length > 10) return null
  const out: TagSet = {}
  for (const [key, value] of entries) {
    if (!TAG_KEY.test(key)) return null
    const list = Array.isArray(value) ? value : [value]
    if (list.length > 10) return null
    if (list.length === 0 && !options.allowEmptyLists) return null
    const strings: string[] = []
    for (const item of list) {
      const text = typeof item === 'boolean' ? String(item) : item
      if (typeof text !== 'string' || !TAG_VALUE.test(text)) return null
      strings.push(text)
    }
    out[key] = strings
  }
  return out
}

/** `key:value` items (a bare key means `key:true`) grouped into a tag set. */
export function tagSetFromItems(items: string[]): TagSet {
  const out: TagSet = {}
  for (const item of items) {
    const idx = item.indexOf(':')
    const key = idx < 0 ? item : item.slice(0, idx)
    const value = idx < 0 ? 'true' : item.slice(idx + 1)
    ;(out[key] ??= []).includes(value) || out[key]!.push(value)
  }
  return out
}
