/**
 * Which server serves a project (issue 10): several servers share one database and each project
 * is served by one of them at a time, the lease owner. The others answer any request for it
 * (API, blobs, WebSocket upgrades) in one of two ways, and clients act on them:
 *
 * - 307 `not_owner`: `Location: <same scheme>://<owner><same path and query>`, the owner's
 *   `host:port` in `Coflux-Owner`, body `{"error":"not_owner","owner":…,"project":…}`. Clients
 *   resend the same request to the owner themselves (never through fetch's redirect following,
 *   which may drop `Authorization` on the way to another origin).
 * - 503 `no_owner`: nobody holds the lease yet (the owner died, a standby is about to take
 *   over), with `Retry-After: 1`. Clients ask again, cycling through their servers.
 */

/** The response header naming the owner's `host:port`. */
export const OWNER_HEADER = 'Coflux-Owner'

export const OWNERSHIP_ERROR = {
  /** 307: another server owns the project */
  notOwner: 'not_owner',
  /** 503: no server owns it right now */
  noOwner: 'no_owner',
} as const

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/

/**
 * A server address as `--host` and `Coflux-Owner` carry it: a name, an IPv4 address or a
 * bracketed IPv6 address, with an optional port (1–65535); no scheme, path or spaces.
 *
 * @example
 * isHostPort('a.example.com:7777') // true
 * isHostPort('[::1]:7777')         // true
 * isHostPort('a:7777/x')           // false
 */
export function isHostPort(text: string): boolean {
  const m = HOST_PORT.exec(text)
  if (!m) return false
  const port = m[1]
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65_535)
}
