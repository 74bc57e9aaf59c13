/**
 * A value that components read and follow (`useStore`): the token prompt, the connection state,
 * the current route. Small on purpose; topics have their own cache (topics.ts).
 */
import { useEffect, useState } from 'hono/jsx/dom'

export interface Store<T> {
  get(): T
  set(value: T): void
  subscribe(listener: () => void): () => void
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial
  const listeners = new Set<() => void>()
  return {
    get: () => value,
    set(next) {
      if (Object.is(next, value)) return
      value = next
      for (const listener of [...listeners]) listener()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** The store's value, re-rendering when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [, setVersion] = useState(0)
  useEffect(() => store.subscribe(() => setVersion((n) => n + 1)), [store])
  return store.get()
}

/** `Date.now()` refreshed every `intervalMs` (running durations, "5s ago"). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(timer)
  }, [intervalMs])
  return now
}
