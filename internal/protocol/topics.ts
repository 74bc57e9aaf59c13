/**
 * Frames of the topics WebSocket (`GET /topics?version=0.12`, http-api.md §11.1) and the
 * update operations that keep a client's copy of a topic equal to a fresh snapshot. The
 * server's hub and the CLI's subscription client both import this one definition.
 */
import { ProtocolError } from './errors.ts'
import { isJsonObject, JsonNumber, setOwn, type Json } from './json.ts'

export { isJsonObject, setOwn }

/** The client offers `bearer.<base64url(token)>` and `v1`; the server selects `v1`. */
export const TOPICS_SUBPROTOCOL = 'v1'
export const TOPICS_BEARER_PREFIX = 'bearer.'

/**
 * The subprotocols a client offers for `token` (none: only `v1`). Encoded without `Buffer`, so
 * the web UI's bundle uses this same function.
 */
export function topicsSubprotocols(token: string | undefined): string[] {
  if (!token) return [TOPICS_SUBPROTOCOL]
  let binary = ''
  for (const byte of new TextEncoder().encode(token)) binary += String.fromCharCode(byte)
  const base64url = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return [TOPICS_BEARER_PREFIX + base64url, TOPICS_SUBPROTOCOL]
}

export const TOPIC_CLIENT_FRAME = { notify: 0, execute: 1, subscribe: 2, unsubscribe: 3 } as const
export const TOPIC_SERVER_FRAME = { error: 0, result: 1, value: 2, updates: 3, alias: 4 } as const
export const TOPIC_UPDATE = { set: 0, remove: 1, insert: 2, delete: 3, merge: 4 } as const

/** Object keys and array indexes from the topic's root. */
export type TopicPath = (string | number)[]

export type TopicUpdate =
  /** set the value at `path` (the last element is the key or index); `[]` replaces the root */
  | [0, TopicPath, Json]
  /** remove `key` from the object at `path` */
  | [1, TopicPath, string]
  /** insert `values` into the array at `path` before `index` (`null` appends) */
  | [2, TopicPath, number | null, Json[]]
  /** delete `count` elements of the array at `path` from `index` */
  | [3, TopicPath, number, number]
  /** shallow-merge the object into the object at `path` */
  | [4, TopicPath, { [key: string]: Json }]

export type TopicClientFrame =
  | { kind: 'notify'; topic: string[]; action: string; args: unknown[] }
  | { kind: 'execute'; channel: number; topic: string[]; action: string; args: unknown[] }
  | { kind: 'subscribe'; channel: number; topic: string[] }
  | { kind: 'unsubscribe'; channel: number }

export type TopicServerFrame =
  | [0, number, string]
  | [1, number, Json]
  | [2, number, Json]
  | [3, number, TopicUpdate[]]
  | [4, number, number]

function fail(message: string): never {
  throw new ProtocolError(`topics frame: ${message}`)
}

function channelOf(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) fail('channel must be an integer')
  return raw
}

function topicOf(raw: unknown): string[] {
  if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string')) fail('topic must be a list of strings')
  return raw
}

function argsOf(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) fail('args must be a list')
  return raw
}

function actionOf(raw: unknown): string {
  if (typeof raw !== 'string') fail('action must be a string')
  return raw
}

/** Checks a decoded client frame's shape; trailing `params` are accepted and ignored (unused). */
export function parseTopicClientFrame(raw: unknown): TopicClientFrame {
  if (!Array.isArray(raw) || raw.length === 0) fail('expected a non-empty array')
  switch (raw[0]) {
    case TOPIC_CLIENT_FRAME.notify:
      return { kind: 'notify', topic: topicOf(raw[1]), action: actionOf(raw[2]), args: argsOf(raw[3]) }
    case TOPIC_CLIENT_FRAME.execute:
      return { kind: 'execute', channel: channelOf(raw[1]), topic: topicOf(raw[2]), action: actionOf(raw[3]), args: argsOf(raw[4]) }
    case TOPIC_CLIENT_FRAME.subscribe:
      return { kind: 'subscribe', channel: channelOf(raw[1]), topic: topicOf(raw[2]) }
    case TOPIC_CLIENT_FRAME.unsubscribe:
      return { kind: 'unsubscribe', channel: channelOf(raw[1]) }
    default:
      return fail(`unknown frame kind ${JSON.stringify(raw[0])}`)
  }
}

/** Checks a decoded server frame's envelope; update lists are checked as they are applied. */
export function parseTopicServerFrame(raw: unknown): TopicServerFrame {
  if (!Array.isArray(raw) || raw.length !== 3) fail('expected [kind, channel, payload]')
  const [kind, channel, payload] = raw as [unknown, unknown, Json]
  const ch = channelOf(toPlainNumber(channel))
  switch (kind) {
    case TOPIC_SERVER_FRAME.error:
      if (typeof payload !== 'string') fail('error must be a string')
      return [0, ch, payload]
    case TOPIC_SERVER_FRAME.result:
      return [1, ch, payload]
    case TOPIC_SERVER_FRAME.value:
      return [2, ch, payload]
    case TOPIC_SERVER_FRAME.updates:
      if (!Array.isArray(payload)) fail('updates must be a list')
      return [3, ch, payload as TopicUpdate[]]
    case TOPIC_SERVER_FRAME.alias:
      return [4, ch, channelOf(toPlainNumber(payload))]
    default:
      return fail(`unknown frame kind ${JSON.stringify(kind)}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Applying updates

function toPlainNumber(raw: unknown): unknown {
  return raw instanceof JsonNumber ? Number(raw.text) : raw
}

function indexOf(raw: unknown, max: number): number {
  const n = toPlainNumber(raw)
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > max) fail(`bad array index ${String(raw)}`)
  return n
}

/** A shallow copy of `container` with its child at `key` replaced by `fn(child)`. */
function withChild(container: Json, key: string | number | JsonNumber, fn: (child: Json | undefined) => Json, create: boolean): Json {
  if (Array.isArray(container)) {
    const i = indexOf(key, container.length - 1)
    const copy = container.slice()
    copy[i] = fn(container[i])
    return copy
  }
  if (!isJsonObject(container)) fail('path runs through a value that is not an object or array')
  if (typeof key !== 'string') fail('object keys must be strings')
  const child = Object.hasOwn(container, key) ? container[key] : undefined
  if (child === undefined && !create) fail(`missing key ${JSON.stringify(key)}`)
  const copy = { ...container }
  setOwn(copy, key, fn(child))
  return copy
}

/** Copy-on-write update at `path`: untouched subtrees stay shared with the previous value. */
function updateIn(value: Json, path: unknown[], fn: (target: Json | undefined) => Json, create: boolean): Json {
  if (path.length === 0) return fn(value)
  const [head, ...rest] = path
  return withChild(value, head as string | number, (child) => updateIn(child === undefined ? {} : child, rest, fn, create), create)
}

function asArray(target: Json | undefined): Json[] {
  if (!Array.isArray(target)) fail('target is not an array')
  return target
}

/** One update applied to `value`, returning the new value (the input is not modified). */
export function applyTopicUpdate(value: Json, update: TopicUpdate): Json {
  if (!Array.isArray(update) || !Array.isArray(update[1])) fail('update must be [op, path, …]')
  switch (update[0]) {
    case TOPIC_UPDATE.set: {
      const [, path, next] = update
      if (path.length === 0) return next
      // missing objects along the path are created (§11.1)
      const last = path[path.length - 1]!
      return updateIn(value, path.slice(0, -1), (parent) => withChild(parent ?? {}, last, () => next, true), true)
    }
    case TOPIC_UPDATE.remove: {
      const [, path, key] = update
      return updateIn(value, path, (target) => {
        if (!isJsonObject(target) || typeof key !== 'string') fail('remove needs an object and a key')
        const copy = { ...target }
        delete copy[key]
        return copy
      }, false)
    }
    case TOPIC_UPDATE.insert: {
      const [, path, index, values] = update
      if (!Array.isArray(values)) fail('insert values must be a list')
      return updateIn(value, path, (target) => {
        const array = asArray(target)
        const at = index === null ? array.length : indexOf(index, array.length)
        return [...array.slice(0, at), ...values, ...array.slice(at)]
      }, false)
    }
    case TOPIC_UPDATE.delete: {
      const [, path, index, count] = update
      return updateIn(value, path, (target) => {
        const array = asArray(target)
        const at = indexOf(index, array.length)
        return [...array.slice(0, at), ...array.slice(at + indexOf(count, array.length - at))]
      }, false)
    }
    case TOPIC_UPDATE.merge: {
      const [, path, object] = update
      if (!isJsonObject(object)) fail('merge value is not an object')
      return updateIn(value, path, (target) => {
        const copy = isJsonObject(target) ? { ...target } : {}
        for (const [k, v] of Object.entries(object)) setOwn(copy, k, v)
        return copy
      }, true)
    }
    default:
      return fail(`unknown update op ${JSON.stringify((update as unknown[])[0])}`)
  }
}

/** Applies updates in order (§11.1); throws `ProtocolError` when one does not fit the value. */
export function applyTopicUpdates(value: Json, updates: readonly TopicUpdate[]): Json {
  let out = value
  for (const update of updates) out = applyTopicUpdate(out, update)
  return out
}
