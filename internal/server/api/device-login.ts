/**
 * Device login against this server (http-api.md §16.9), with the shapes of Studio's device
 * flow so one client serves both. `/api/auth/device` and `/api/auth/device/token` are called
 * by a CLI that has no credentials yet, so the pipeline lets them through unauthenticated.
 */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { ApiError, forbidden, notFound } from '../../protocol/errors.ts'
import { coversPatterns } from '../auth.ts'
import { jsonResponse, noContent, requireProject, type AppContext, type AppEnv, type ServerContext } from '../context.ts'
import { DeviceLogins, type DeviceLogin } from '../device-logins.ts'
import { grantedWorkspaces, issueServiceToken, optionalPatterns, refuseSessionTokens, requireSecret } from './token-grants.ts'
import { bodyReader, Fields, type JsonBody } from './body.ts'

/** Paths reachable without a token even when authentication is required. */
export const UNAUTHENTICATED_PATHS: ReadonlySet<string> = new Set(['/api/auth/device', '/api/auth/device/token'])

/** The peer address (Bun passes its server as the env of `app.fetch`); one bucket otherwise. */
function clientAddress(c: AppContext): string {
  const server = c.env as { requestIP?: (req: Request) => { address: string } | null } | undefined
  return server?.requestIP?.(c.req.raw)?.address ?? 'unknown'
}

/** The URL where the code can be approved in the web UI. */
function verificationUri(c: AppContext, userCode: string): string {
  const url = new URL(c.req.url)
  return `${url.protocol}//${c.req.header('host') ?? url.host}/device?code=${userCode}`
}

export function registerDeviceLoginRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const logins = new DeviceLogins()
  const readBody = bodyReader(server)

  app.post('/api/auth/device', readBody, validator('json', parseStartLogin), async (c) => {
    // a login could never complete without a secret: say so now, not after approval
    requireSecret(server.settings)
    const { name, workspaces } = c.req.valid('json')
    const started = logins.start(c.get('projectId'), clientAddress(c), name, workspaces ?? null)
    if (!started) throw new ApiError(429, 'rate_limited', 'too many logins started; try again in a minute')
    const { deviceCode, login } = started
    return jsonResponse({
      device_code: deviceCode,
      user_code: login.userCode,
      verification_uri: verificationUri(c, login.userCode),
      expires_in: Math.round((login.expiresAt - Date.now()) / 1000),
      interval: login.interval,
    })
  })

  /** The pending login named by `user_code`, for an approver allowed to decide on it. */
  const decide = (c: AppContext, userCode: string): DeviceLogin => {
    refuseSessionTokens(c.get('access'))
    const login = logins.pending(c.get('projectId'), userCode)
    if (!login) throw notFound()
    return login
  }
  const userCode = validator('json', (body: JsonBody) => requiredString(body, 'user_code', 100))

  app.post('/api/auth/device/approve', readBody, userCode, async (c) => {
    requireSecret(server.settings)
    const login = decide(c, c.req.valid('json'))
    const access = c.get('access')
    if (login.workspaces && !coversPatterns(access, login.workspaces)) {
      throw forbidden('the requested workspaces are not covered by your own access')
    }
    logins.approve(login, access)
    return noContent()
  })

  app.post('/api/auth/device/deny', readBody, userCode, async (c) => {
    logins.deny(decide(c, c.req.valid('json')))
    return noContent()
  })

  app.post('/api/auth/device/token', readBody, validator('json', (body: JsonBody) => requiredString(body, 'device_code', 200)), async (c) => {
    const secret = requireSecret(server.settings)
    const outcome = logins.poll(c.get('projectId'), c.req.valid('json'))
    if ('error' in outcome) throw new ApiError(400, outcome.error, outcome.error)
    const login = outcome.approved
    const approver = login.approver!
    const workspaces = grantedWorkspaces(approver, login.workspaces ?? undefined)
    const { token, record } = issueServiceToken(requireProject(c, server), secret, { name: login.name, workspaces, creator: approver })
    return jsonResponse({ access_token: token, token_id: record.externalId, workspaces: record.workspaces })
  })
}

function parseStartLogin(body: JsonBody): { name: string; workspaces?: string[] } {
  const v = new Fields(body)
  const name = v.string('name', { required: true, max: 200 })
  const workspaces = optionalPatterns(v, 'workspaces')
  v.finish()
  return { name: name!, workspaces }
}

function requiredString(body: JsonBody, field: string, max: number): string {
  const v = new Fields(body)
  const value = v.string(field, { required: true, max })
  v.finish()
  return value!
}
