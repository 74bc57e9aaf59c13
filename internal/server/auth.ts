/**
 * Authentication and workspace patterns (http-api.md §6). The bearer token's shape selects
 * its kind; a presented but invalid token is always 401, even when auth is not required.
 * Failures are logged with their kind and reason, never with the token.
 */
import type { Principal } from '../protocol/api.ts'
import { ApiError } from '../protocol/errors.ts'
import { isTokenUsable } from '../store/index.ts'
import type { Logger } from './logger.ts'
import type { Project } from './project.ts'
import { SERVICE_TOKEN_PREFIX, sha256Hex, timingSafeEqualText, verifyServiceToken } from './service-tokens.ts'
import type { ServerSettings } from './settings.ts'
import { requestHost, verifyStudioJwt } from './studio-jwt.ts'

export interface Access {
  type: 'super' | 'service' | 'session' | 'user' | 'none'
  /** workspace patterns; ['*'] = all */
  workspaces: string[]
  /** for session tokens */
  sessionId?: number
  /** for service tokens: their external id */
  tokenId?: string
  /** who is calling: the service token or the Studio user; absent for super, session, anonymous */
  principal?: Principal
}

/** What authentication needs to know about the request besides the header. */
export interface AuthRequest {
  /** the resolved project id, needed to check a service token's signature when `project` is null */
  projectId?: string
  /** the `Host` header, for Studio JWT audiences */
  host?: string | null
  logger?: Logger
}

export const unauthorized = () => new ApiError(401, 'unauthorized', 'unauthorized')

const ALL = ['*']

/** A reason the token was refused (for the log), or the access it grants. */
type Outcome = Access | { refused: string }

/**
 * Resolves the caller's access. `project` may be null for a project that does not exist yet
 * (then no stored token can be valid, but the super token and Studio JWTs still are).
 */
export async function authenticate(
  header: string | null | undefined,
  settings: ServerSettings,
  project: Project | null,
  request: AuthRequest = {},
): Promise<Access> {
  const outcome = await resolveAccess(header, settings, project, request)
  if ('refused' in outcome) {
    request.logger?.info(`authentication failed: ${outcome.refused}`)
    throw unauthorized()
  }
  return outcome
}

async function resolveAccess(header: string | null | undefined, settings: ServerSettings, project: Project | null, request: AuthRequest): Promise<Outcome> {
  if (!header) return settings.requireAuth ? { refused: 'no credentials' } : { type: 'none', workspaces: ALL }
  if (!header.startsWith('Bearer ')) return { refused: 'not a bearer token' }
  const token = header.slice(7).trim()
  if (!token) return { refused: 'empty token' }
  if (token.split('.').length === 3) return studioAccess(token, settings, request.host)
  if (token.startsWith(SERVICE_TOKEN_PREFIX)) return serviceAccess(token, settings, project, request.projectId)
  const dot = token.indexOf('.')
  if (dot > 0 && dot < token.length - 1) return sessionAccess(token, project)
  if (settings.superTokenHash && timingSafeEqualText(sha256Hex(token), settings.superTokenHash)) return { type: 'super', workspaces: ALL }
  // tokens stored by earlier versions: the hash of the whole token, looked up like a service token
  return project ? storedTokenAccess(project, sha256Hex(token), 'legacy token') : { refused: 'unknown token' }
}

async function studioAccess(token: string, settings: ServerSettings, host: string | null | undefined): Promise<Outcome> {
  if (settings.studioTeams.length === 0) return { refused: 'Studio token, but no Studio teams are configured' }
  const claims = await verifyStudioJwt(token, { studioUrl: settings.studioUrl, teams: settings.studioTeams, host: requestHost(host) })
  if (!claims) return { refused: 'invalid Studio token' }
  return { type: 'user', workspaces: normalizePatterns(claims.workspaces), principal: { type: 'user', externalId: claims.sub } }
}

function serviceAccess(token: string, settings: ServerSettings, project: Project | null, projectId: string | undefined): Outcome {
  if (!settings.secret) return { refused: 'service token, but no secret is configured' }
  const id = project?.id ?? projectId
  // the signature binds the token to its project and is checked before any database access
  const tokenHash = id ? verifyServiceToken(token, settings.secret, id) : null
  if (!tokenHash) return { refused: 'malformed service token or bad signature' }
  if (!project) return { refused: 'unknown service token' }
  return storedTokenAccess(project, tokenHash, 'service token')
}

function storedTokenAccess(project: Project, tokenHash: string, kind: string): Outcome {
  const record = project.store.tokens.findByHash(tokenHash)
  if (!record || !timingSafeEqualText(record.tokenHash, tokenHash)) return { refused: `unknown ${kind}` }
  if (!isTokenUsable(record, Math.floor(Date.now() / 1000))) return { refused: `${kind} ${record.externalId} is revoked or expired` }
  return {
    type: 'service',
    workspaces: normalizePatterns(record.workspaces),
    tokenId: record.externalId,
    principal: { type: 'token', externalId: record.externalId },
  }
}

function sessionAccess(token: string, project: Project | null): Outcome {
  const session = project?.store.sessions.authenticate(token)
  if (!session) return { refused: 'unknown or expired session token' }
  const ws = project!.store.workspaces.get(session.workspaceId)
  return { type: 'session', workspaces: ws ? [ws.name] : [], sessionId: session.id }
}

/** null, or a list containing `*`, means all workspaces (§6.3). */
function normalizePatterns(patterns: string[] | null): string[] {
  return patterns === null || patterns.includes('*') ? ALL : patterns
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

export function hasAllWorkspaces(access: Access): boolean {
  return access.workspaces.includes('*')
}

/**
 * §6.7 coverage: may a caller with `callerPatterns` grant `pattern`? `*` needs `*`; `X/*` needs
 * `X/*` itself or a broader `Y/*` (`X/` starts with `Y/`); an exact name needs a matching pattern.
 */
export function patternCovers(callerPatterns: readonly string[], pattern: string): boolean {
  if (callerPatterns.includes('*')) return true
  if (pattern === '*') return false
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -1)
    return callerPatterns.some((p) => p.endsWith('/*') && prefix.startsWith(p.slice(0, -1)))
  }
  return callerPatterns.some((p) => patternMatches(p, pattern))
}

/** Whether the caller may grant every one of `patterns`. */
export function coversPatterns(access: Access, patterns: readonly string[]): boolean {
  return patterns.every((q) => patternCovers(access.workspaces, q))
}
