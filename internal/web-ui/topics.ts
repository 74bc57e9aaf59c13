/**
 * Topics for components (http-api.md §11): `useTopic(path)` follows one topic through the
 * client's subscription (client/topic-subscription.ts, the same code the CLI uses). Components
 * that show the same topic share one subscription, kept for a moment after the last one leaves
 * so that moving between views does not resubscribe.
 */
import { useEffect, useState } from 'hono/jsx/dom'
import { subscribeTopic, type TopicSubscription } from '../client/browser.ts'
import { ApiError } from '../protocol/errors.ts'
import type { Json } from '../protocol/json.ts'
import { client, describeError } from './session.ts'
import { createStore } from './store.ts'

export interface TopicState<T> {
  value: T | undefined
  /** what ended the subscription: `not_found`, `forbidden`, … */
  error: ApiError | Error | undefined
}

/** connecting (a topic has no value yet) → live → offline (reconnecting) → live … */
export type ConnectionState = 'connecting' | 'live' | 'offline'
export const connection = createStore<ConnectionState>('connecting')

const RELEASE_DELAY_MS = 2000

interface Shared {
  state: TopicState<Json>
  phase: ConnectionState
  subscription: TopicSubscription
  listeners: Set<() => void>
  releaseTimer: ReturnType<typeof setTimeout> | null
}

const shared = new Map<string, Shared>()

function updateConnection(): void {
  const phases = [...shared.values()].map((s) => s.phase)
  connection.set(phases.includes('offline') ? 'offline' : phases.includes('connecting') ? 'connecting' : 'live')
}

function open(key: string, path: string[]): Shared {
  const entry: Shared = {
    state: { value: undefined, error: undefined },
    phase: 'connecting',
    listeners: new Set(),
    releaseTimer: null,
    subscription: null as unknown as TopicSubscription,
  }
  const notify = () => {
    for (const listener of [...entry.listeners]) listener()
    updateConnection()
  }
  const fail = (error: Error) => {
    describeError(error) // a 401 opens the token dialog
    entry.state = { value: entry.state.value, error }
    entry.phase = 'live'
    notify()
  }
  entry.subscription = subscribeTopic(
    client,
    path,
    (value) => {
      entry.state = { value, error: undefined }
      entry.phase = 'live'
      notify()
    },
    {
      onError: fail,
      onRetry: () => {
        entry.phase = 'offline'
        notify()
      },
    },
  )
  entry.subscription.ready.catch(fail)
  shared.set(key, entry)
  updateConnection()
  return entry
}

/**
 * The topic's current value, re-rendering on every change; `null` subscribes to nothing.
 *
 * @example
 * const run = useTopic<RunSnapshot>(['workspaces', ws.id, 'runs', runId])
 */
export function useTopic<T>(path: string[] | null): TopicState<T> {
  const key = path ? JSON.stringify(path) : ''
  const [, setVersion] = useState(0)
  useEffect(() => {
    if (!path) return
    const entry = shared.get(key) ?? open(key, path)
    if (entry.releaseTimer) clearTimeout(entry.releaseTimer)
    entry.releaseTimer = null
    const listener = () => setVersion((n) => n + 1)
    entry.listeners.add(listener)
    listener()
    return () => {
      entry.listeners.delete(listener)
      if (entry.listeners.size > 0) return
      entry.releaseTimer = setTimeout(() => {
        if (entry.listeners.size > 0) return
        entry.subscription.close()
        shared.delete(key)
        updateConnection()
      }, RELEASE_DELAY_MS)
    }
  }, [key])
  const entry = path ? shared.get(key) : undefined
  return (entry?.state ?? { value: undefined, error: undefined }) as TopicState<T>
}

/** A sentence for a topic that ended with an error. */
export function topicErrorText(error: Error, what: string): string {
  if (error instanceof ApiError) {
    if (error.code === 'not_found') return `${what} not found.`
    if (error.code === 'forbidden') return `Your token has no access to this ${what.toLowerCase()}.`
    if (error.status === 401) return 'A token is needed to see this.'
  }
  return `Could not load ${what.toLowerCase()}: ${error.message}`
}
