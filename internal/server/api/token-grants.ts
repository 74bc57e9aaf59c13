/**
 * What `create_token` and the device login share (http-api.md §9.9, §16.9): who may grant
 * which patterns, and minting a stored service token.
 */
import { ApiError, forbidden } from '../../protocol/errors.ts'
import type { TokenRecord } from '../../store/index.ts'
import { coversPatterns, hasAllWorkspaces, type Access } from '../auth.ts'
import type { Project } from '../project.ts'
import { mintServiceToken } from '../service-tokens.ts'
import type { ServerSettings } from '../settings.ts'
import { WORKSPACE_NAME, type Fields } from './body.ts'

const MAX_PATTERNS = 100

/** The secret that signs service tokens; 501 without one. */
export function requireSecret(settings: ServerSettings): string {
  if (settings.secret) return settings.secret
  throw new ApiError(501, 'not_configured', 'not configured', { message: 'Service tokens require COFLUX_SECRET to be configured' })
}

/** Session tokens belong to one worker and may not mint or revoke credentials (§6.4). */
export function refuseSessionTokens(access: Access): void {
  if (access.type === 'session') throw forbidden('session tokens cannot manage tokens')
}

/** `*`, a workspace name, or `<name>/*`. */
export function isWorkspacePattern(pattern: string): boolean {
  if (pattern === '*') return true
  const name = pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern
  return name.length > 0 && name.length <= 100 && WORKSPACE_NAME.test(name)
}

/** An optional list of patterns from the body; records `invalid` for anything else. */
export function optionalPatterns(v: Fields, field: string): string[] | undefined {
  const value = v.body[field]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.length > MAX_PATTERNS || !value.every((p) => typeof p === 'string' && isWorkspacePattern(p))) {
    return v.fail(field, 'invalid')
  }
  return value as string[]
}

/**
 * The patterns a new token gets: the requested ones if the caller covers them (else 403), or
 * the caller's own (all → null).
 */
export function grantedWorkspaces(access: Access, requested: string[] | undefined): string[] | null {
  if (requested === undefined) return hasAllWorkspaces(access) ? null : [...access.workspaces]
  if (!coversPatterns(access, requested)) throw forbidden('the requested workspaces are not covered by your own access')
  return requested.includes('*') ? null : requested
}

/** Mints and stores a service token; the plain token is in the result and nowhere else. */
export function issueServiceToken(
  project: Project,
  secret: string,
  input: { name: string | null; workspaces: string[] | null; creator: Access; expiresIn?: number },
): { token: string; record: TokenRecord } {
  const { token, tokenHash } = mintServiceToken(secret, project.id)
  const now = Math.floor(Date.now() / 1000)
  const record = project.store.tokens.create(
    {
      tokenHash,
      name: input.name,
      workspaces: input.workspaces,
      createdBy: input.creator.principal ?? null,
      expiresAt: input.expiresIn === undefined ? null : now + input.expiresIn,
    },
    now,
  )
  project.orchestrator.emit({ kind: 'tokens' })
  return { token, record }
}
