/**
 * Authentication and workspace patterns (http-api.md §6). The bearer token's shape selects
 * its kind; a presented but invalid token is always 401, even when auth is not required.
 */
import { ApiError } from '../protocol/errors.ts'
import type { Project } from './project.ts'
import type { ServerSettings } from './settings.ts'

export interface Access {
  type: 'super' | 'service' | 'session' | 'user' | 'none'
  /** workspace patterns; ['*'] = all */
  workspaces: string[]
  /** for session tokens */
  sessionId?: number
  /** for service tokens: their external id (principal) */
  tokenId?: string
}

export const unauthorized = () => new ApiError(401, 'unauthorized', 'unauthorized')

function sha256Hex(text: string): string {
  return new Bun.CryptoHasher('sha256').update(text).digest('hex')
}

function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

/**
 * Resolves the caller's access. `project` may be null for a project that does not exist yet
 * (then session tokens cannot be valid).
 */
export function authenticate(header: string | null | undefined, settings: ServerSettings, project: Project | null): Access {
  if (!header) {
    if (settings.requireAuth) throw unauthorized()
    return { type: 'none', workspaces: ['*'] }
  }
  if (!header.startsWith('Bearer ')) throw unauthorized()
  const token = header.slice(7).trim()
  if (!token) throw unauthorized()
  if (token.split('.').length === 3) throw unauthorized() // Studio JWTs need Studio teams, not supported here
  if (token.startsWith('cflx_')) throw unauthorized() // service tokens need COFLUX_SECRET and the token store
  const dot = token.indexOf('.')
  if (dot > 0 && dot < token.length - 1) {
    const session = project?.store.sessions.authenticate(token)
    if (!session) throw unauthorized()
    const ws = project!.store.workspaces.get(session.workspaceId)
    return { type: 'session', workspaces: ws ? [ws.name] : [], sessionId: session.id }
  }
  if (settings.superTokenHash && timingSafeEqualText(sha256Hex(token), settings.superTokenHash)) {
    return { type: 'super', workspaces: ['*'] }
  }
  throw unauthorized()
}

/** §6.7: `*`, an exact name, or `P/*` (every name under `P/`, not `P` itself). */
export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('/*')) return name.startsWith(pattern.slice(0, -1))
  return pattern === name
}

export function canAccessWorkspace(access: Access, name: string): boolean {
  return access.workspaces.some((p) => patternMatches(p, name))
}

export function requireWorkspaceAccess(access: Access, name: string): void {
  if (!canAccessWorkspace(access, name)) throw new ApiError(403, 'forbidden', 'forbidden')
}
