/**
 * Topic values as the wire sees them, and the update operations (http-api.md §11.1) that turn
 * one into the next. A client applying `diffTopicValues(a, b)` to `a` holds exactly `b`.
 */
import { JsonNumber, RawJson, type Json } from '../../protocol/json.ts'
import { isJsonObject, setOwn, type TopicPath, type TopicUpdate } from '../../protocol/topics.ts'

/**
 * A detached copy in the JSON model, as `stringifyJson` would print it: `undefined` properties
 * dropped, `toJSON` applied, non-finite numbers as null. Topic builders may hand out live
 * orchestrator objects (a session's tags, say) that change in place later; the hub keeps this
 * copy as "what the client has", so later changes are never lost to shared references.
 */
export function toWireValue(value: unknown): Json {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'bigint':
      return new JsonNumber(value.toString())
    case 'object':
      break
    default:
      return null
  }
  if (value instanceof RawJson || value instanceof JsonNumber) return value
  if (Array.isArray(value)) return value.map(toWireValue)
  const withJson = value as { toJSON?: () => unknown }
  if (typeof withJson.toJSON === 'function' && !(value instanceof Uint8Array)) return toWireValue(withJson.toJSON())
  const out: { [key: string]: Json } = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) setOwn(out, k, toWireValue(v))
  return out
}

function isLeafText(value: Json): value is RawJson | JsonNumber {
  return value instanceof RawJson || value instanceof JsonNumber
}

/** Deep equality of wire values; verbatim leaves compare by their JSON text. */
export function wireValuesEqual(a: Json, b: Json): boolean {
  if (a === b) return true
  if (isLeafText(a) || isLeafText(b)) return isLeafText(a) && isLeafText(b) && a.text === b.text
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => wireValuesEqual(item, b[i]!))
  }
  if (!isJsonObject(a) || !isJsonObject(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((k) => Object.hasOwn(b, k) && wireValuesEqual(a[k]!, b[k]!))
}

/** The updates that turn `before` into `after` (both wire values; neither is modified). */
export function diffTopicValues(before: Json, after: Json): TopicUpdate[] {
  const updates: TopicUpdate[] = []
  diffAt(before, after, [], updates)
  return updates
}

function diffAt(before: Json, after: Json, path: TopicPath, out: TopicUpdate[]): void {
  if (isJsonObject(before) && isJsonObject(after)) return diffObjects(before, after, path, out)
  if (Array.isArray(before) && Array.isArray(after)) return diffArrays(before, after, path, out)
  if (!wireValuesEqual(before, after)) out.push([0, path, after])
}

function isContainer(value: Json | undefined): boolean {
  return Array.isArray(value) || isJsonObject(value)
}

function diffObjects(before: { [key: string]: Json }, after: { [key: string]: Json }, path: TopicPath, out: TopicUpdate[]): void {
  for (const key of Object.keys(before)) if (!Object.hasOwn(after, key)) out.push([1, path, key])
  // new and replaced leaves travel together in one merge; same-kind containers are diffed deeper
  const merged: { [key: string]: Json } = {}
  let mergedCount = 0
  const nested: string[] = []
  for (const [key, value] of Object.entries(after)) {
    const old = Object.hasOwn(before, key) ? before[key] : undefined
    if (old !== undefined && isContainer(old) && isContainer(value) && Array.isArray(old) === Array.isArray(value)) nested.push(key)
    else if (old === undefined || !wireValuesEqual(old, value)) {
      setOwn(merged, key, value)
      mergedCount++
    }
  }
  if (mergedCount === 1) {
    const [key, value] = Object.entries(merged)[0]!
    out.push([0, [...path, key], value])
  } else if (mergedCount > 1) out.push([4, path, merged])
  for (const key of nested) diffAt(before[key]!, after[key]!, [...path, key], out)
}

/**
 * Common prefix and suffix are kept; the differing middle is diffed pairwise, then the surplus
 * is inserted or deleted. One insertion or removal anywhere (a run added to a sorted list)
 * therefore costs one update.
 */
function diffArrays(before: Json[], after: Json[], path: TopicPath, out: TopicUpdate[]): void {
  let prefix = 0
  while (prefix < before.length && prefix < after.length && wireValuesEqual(before[prefix]!, after[prefix]!)) prefix++
  let suffix = 0
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    wireValuesEqual(before[before.length - 1 - suffix]!, after[after.length - 1 - suffix]!)
  ) suffix++
  const oldCount = before.length - prefix - suffix
  const newCount = after.length - prefix - suffix
  const paired = Math.min(oldCount, newCount)
  for (let i = prefix; i < prefix + paired; i++) diffAt(before[i]!, after[i]!, [...path, i], out)
  const at = prefix + paired
  if (newCount > paired) out.push([2, path, suffix === 0 ? null : at, after.slice(at, at + newCount - paired)])
  else if (oldCount > paired) out.push([3, path, at, oldCount - paired])
}
