/** Service tokens (http-api.md §9.9), administration (§9.10) and device logins (§16.9). */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { forbidden, notFound } from '../../protocol/errors.ts'
import { rotateEpoch } from '../../orchestrator/index.ts'
import { hasAllWorkspaces, type Access } from '../auth.ts'
import { jsonResponse, noContent, projectOf, requireProject, type AppEnv, type ServerContext } from '../context.ts'
import { registerDeviceLoginRoutes } from './device-login.ts'
import { grantedWorkspaces, issueServiceToken, optionalPatterns, refuseSessionTokens, requireSecret } from './token-grants.ts'
import { bodyReader, Fields, type JsonBody } from './body.ts'

/** A century: anything longer is a typo (and it keeps `now + expiresIn` a safe integer). */
const MAX_EXPIRES_IN_S = 100 * 365 * 24 * 3600

export { UNAUTHENTICATED_PATHS } from './device-login.ts'

export function registerTokenRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const readBody = bodyReader(server)

  app.post('/api/create_token', readBody, validator('json', parseCreateToken), async (c) => {
    const access = c.get('access')
    const secret = requireSecret(server.settings)
    refuseSessionTokens(access)
    const { name, workspaces: requested, expiresIn } = c.req.valid('json')
    const workspaces = grantedWorkspaces(access, requested)
    const project = requireProject(c, server)
    const { token, record } = issueServiceToken(project, secret, { name: name || null, workspaces, creator: access, expiresIn })
    return jsonResponse({ token, tokenId: record.id, externalId: record.externalId })
  })

  app.post('/api/revoke_token', readBody, validator('json', parseRevokeToken), async (c) => {
    const access = c.get('access')
    refuseSessionTokens(access)
    const { externalId } = c.req.valid('json')
    const project = projectOf(c, server)
    const record = project?.store.tokens.getByExternalId(externalId)
    if (!project || !record || record.revokedAt !== null) throw notFound()
    if (!hasAllWorkspaces(access) && !isCreator(access, record.createdBy)) throw forbidden('only the token\'s creator or an all-workspace caller may revoke it')
    project.store.tokens.revoke(record.id, Math.floor(Date.now() / 1000))
    project.orchestrator.emit({ kind: 'tokens' })
    return noContent()
  })

  // §9.10: archive the project's active orchestration database and start a new epoch
  app.post('/api/rotate_epoch', (c) => {
    if (c.get('access').type !== 'super') throw forbidden('only the super token may rotate epochs')
    // rotating creates the project's archive: a write, like any other
    rotateEpoch(requireProject(c, server).orchestrator)
    return noContent()
  })

  // §9.10: archive the project's active log store; pages and live streams go on across it
  app.post('/api/rotate_logs', (c) => {
    if (c.get('access').type !== 'super') throw forbidden('only the super token may rotate logs')
    requireProject(c, server).logs.rotate()
    return noContent()
  })

  registerDeviceLoginRoutes(app, server)
}

function isCreator(access: Access, createdBy: { type: string; externalId: string } | null): boolean {
  return !!access.principal && !!createdBy && access.principal.type === createdBy.type && access.principal.externalId === createdBy.externalId
}

function parseCreateToken(body: JsonBody): { name?: string; workspaces?: string[]; expiresIn?: number } {
  const v = new Fields(body)
  const name = v.string('name', { max: 200 })
  const workspaces = optionalPatterns(v, 'workspaces')
  const expiresIn = v.integer('expiresIn', { min: 1 })
  if (expiresIn !== undefined && expiresIn > MAX_EXPIRES_IN_S) v.fail('expiresIn', 'invalid')
  v.finish()
  return { name, workspaces, expiresIn }
}

function parseRevokeToken(body: JsonBody): { externalId: string } {
  const v = new Fields(body)
  const externalId = v.string('externalId', { required: true, max: 100 })
  v.finish()
  return { externalId: externalId! }
}
