/**
 * The page's one client for the server that served it, with the token kept in this browser's
 * local storage. A changed token reloads the page: every subscription starts over with it.
 */
import { CofluxClient } from '../client/browser.ts'
import { ApiError } from '../protocol/errors.ts'
import { createStore } from './store.ts'

const TOKEN_KEY = 'coflux.token'

/** `?project=<id>` selects the project on a server that hosts several (http-api.md §3). */
const project = new URLSearchParams(location.search).get('project') ?? undefined

function readToken(): string | undefined {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? undefined
  } catch {
    return undefined // storage unavailable (private mode)
  }
}

export const client = new CofluxClient(
  { host: location.host, secure: location.protocol === 'https:', project, token: readToken() },
  { inBrowser: true },
)

export function hasToken(): boolean {
  return !!client.address.token
}

export function saveToken(token: string): void {
  try {
    if (token.trim()) localStorage.setItem(TOKEN_KEY, token.trim())
    else localStorage.removeItem(TOKEN_KEY)
  } catch {
    // nothing to keep it in: the reload below asks again
  }
  location.reload()
}

/** Set when the server answers 401: the token dialog opens and asks for one. */
export const authNeeded = createStore<string | null>(null)

/** Records a 401 (opening the token dialog) and returns the text to show for any error. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) authNeeded.set(hasToken() ? 'The server rejected this token.' : 'This server requires a token.')
    // field errors (`{"pool.launcher.type": "not_allowed"}`) or a longer explanation
    const details = err.details as Record<string, unknown> | undefined
    const more =
      details && typeof details === 'object'
        ? typeof details.message === 'string'
          ? details.message
          : Object.entries(details).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')
        : ''
    const text = err.message && err.message !== err.code ? `${err.code}: ${err.message}` : err.code
    return more ? `${text} (${more})` : text
  }
  return err instanceof Error ? err.message : String(err)
}
