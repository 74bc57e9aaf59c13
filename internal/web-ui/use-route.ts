/** The current route, following `location.hash`; navigation by hash. */
import { parseRoute, type Route } from './route.ts'
import { createStore, useStore, type Store } from './store.ts'

let current: Store<Route> | undefined

/** The current route (the store is made on first use). */
export function useRoute(): Route {
  if (!current) {
    const store = createStore<Route>(parseRoute(location.hash, location.pathname, location.search))
    window.addEventListener('hashchange', () => store.set(parseRoute(location.hash, location.pathname, location.search)))
    current = store
  }
  return useStore(current)
}

export function navigate(to: string): void {
  location.hash = to.replace(/^#/, '')
}
