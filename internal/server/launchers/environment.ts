/**
 * The worker environment contract (semantics.md §21.3, http-api.md §2.5): what a launched
 * worker needs to find the server and use its session, on top of the launcher's base
 * environment.
 */
import type { LaunchRequest } from '../../orchestrator/index.ts'

/** The server's own secrets never reach a worker (**Improvement** over 0.12). */
const SERVER_SECRETS = ['COFLUX_SECRET', 'COFLUX_SUPER_TOKEN', 'COFLUX_SUPER_TOKEN_HASH']

/** Where workers reach this server when the pool does not say (`serverHost`). */
export interface ServerEndpoint {
  publicHost: string | null
  /** the bound port (known only once the server listens) */
  port(): number
}

/** The server's environment without its secrets; `PATH` and the rest stay (adapters need them). */
export function inheritedEnvironment(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) if (value !== undefined && !SERVER_SECRETS.includes(key)) out[key] = value
  return out
}

/** `serverHost`, else the public host (`%` → project), else `localhost:<port>` (`localhost` on 80/443). */
export function workerHost(serverHost: unknown, endpoint: ServerEndpoint, projectId: string): string {
  if (typeof serverHost === 'string' && serverHost !== '') return serverHost
  if (endpoint.publicHost) return endpoint.publicHost.replace('%', projectId)
  const port = endpoint.port()
  return port === 80 || port === 443 ? 'localhost' : `localhost:${port}`
}

/**
 * The contract variables plus the pool's `env` and (decrypted) `secretEnv`.
 *
 * @example
 * workerEnvironment(request, { host: 'localhost:7777', projectId: 'default', secretEnv: {} })
 * // {COFLUX_HOST: 'localhost:7777', COFLUX_PROJECT: 'default', COFLUX_WORKSPACE: …, COFLUX_SESSION: …}
 */
export function workerEnvironment(
  request: LaunchRequest,
  options: { host: string; projectId: string; secretEnv: Record<string, string> },
): Record<string, string> {
  const l = request.launcher
  const env: Record<string, string> = {
    COFLUX_HOST: options.host,
    COFLUX_PROJECT: options.projectId,
    COFLUX_WORKSPACE: request.workspaceName,
    COFLUX_SESSION: request.sessionToken,
  }
  if (Array.isArray(l.adapter) && l.adapter.length > 0) env.COFLUX_WORKER_ADAPTER = l.adapter.join(',')
  if (typeof l.concurrency === 'number') env.COFLUX_WORKER_CONCURRENCY = String(l.concurrency)
  if (typeof l.serverSecure === 'boolean') env.COFLUX_SECURE = String(l.serverSecure)
  // validation keeps COFLUX_* out of both maps, so the contract cannot be overridden
  const userEnv = typeof l.env === 'object' && l.env !== null ? (l.env as Record<string, string>) : {}
  return { ...env, ...userEnv, ...options.secretEnv }
}
