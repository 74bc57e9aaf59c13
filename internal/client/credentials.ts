/**
 * Credential resolution (cli.md §5.7) and the files under `~/.config/coflux/` (mode 0600,
 * directory 0700): `credentials.json` (Studio login, and logins against our own servers under
 * `servers["<host>|<project>"]`) and `token_cache.json` (Studio project tokens).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Config } from '../config/types.ts'

/** No usable login: exit 4 with advice. */
export class AuthRequiredError extends Error {
  override readonly name = 'AuthRequiredError'
  readonly exitCode = 4
}

export interface ServerLogin {
  token: string
  tokenId?: string
  user?: string
  workspaces?: string[] | null
}

export interface Credentials {
  studio_token?: string
  user_email?: string
  user_id?: string
  servers?: Record<string, ServerLogin>
}

/** `~/.config/coflux` (HOME is read on every call: os.homedir() may be fixed at startup). */
export function configDir(): string {
  return join(process.env.HOME || homedir(), '.config', 'coflux')
}

function readJsonFile<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

function writePrivate(path: string, data: unknown): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 })
  chmodSync(configDir(), 0o700)
  writeFileSync(path, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 })
  chmodSync(path, 0o600)
}

export const credentialsPath = () => join(configDir(), 'credentials.json')
export const tokenCachePath = () => join(configDir(), 'token_cache.json')

export function readCredentials(): Credentials {
  return readJsonFile<Credentials>(credentialsPath()) ?? {}
}

export function writeCredentials(credentials: Credentials): void {
  writePrivate(credentialsPath(), credentials)
}

/** The key of a server login: `<host>|<project>` (project empty when none). */
export function serverLoginKey(host: string, project?: string): string {
  return `${host}|${project ?? ''}`
}

/** Saves a login against our own server (`coflux login` server flow). */
export function saveServerLogin(host: string, project: string | undefined, login: ServerLogin): void {
  const creds = readCredentials()
  creds.servers = { ...creds.servers, [serverLoginKey(host, project)]: login }
  writeCredentials(creds)
}

/** Saves a Studio login and drops cached project tokens (they belong to the old login). */
export function saveStudioLogin(login: { studio_token: string; user_email?: string; user_id?: string }): void {
  writeCredentials({ ...readCredentials(), ...login })
  rmSync(tokenCachePath(), { force: true })
}

/**
 * `logout`: with `host`, removes only that server's login when there is one; otherwise removes
 * every credential and the token cache. Returns what was removed.
 */
export function logout(scope?: { host: string; project?: string }): 'server' | 'all' {
  const creds = readCredentials()
  const key = scope ? serverLoginKey(scope.host, scope.project) : undefined
  if (key && creds.servers?.[key]) {
    delete creds.servers[key]
    writeCredentials(creds)
    return 'server'
  }
  rmSync(credentialsPath(), { force: true })
  rmSync(tokenCachePath(), { force: true })
  return 'all'
}

type TokenCache = Record<string, { token: string; expires_at: number }>

/**
 * A Studio project token for `team` and this host, cached until 60 s before it expires.
 * `fetchFn` is injectable for tests.
 */
export async function studioProjectToken(config: Config, team: string, fetchFn: typeof fetch = fetch): Promise<string> {
  const key = `${team}:${config.host}`
  const cache = readJsonFile<TokenCache>(tokenCachePath()) ?? {}
  const now = Date.now() / 1000
  const cached = cache[key]
  if (cached && cached.expires_at - 60 > now) return cached.token
  const studioToken = readCredentials().studio_token
  if (!studioToken) throw new AuthRequiredError(`not logged in to Coflux Studio (run 'coflux login' to authenticate)`)
  let res: Response
  try {
    res = await fetchFn(`${config.studioUrl}/api/auth/project-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${studioToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ team, host: config.host }),
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    throw new Error(`failed to get a project token from Studio: ${(err as Error).message}`)
  }
  if (res.status === 401) throw new AuthRequiredError(`Studio login expired or invalid (run 'coflux login' to authenticate)`)
  if (!res.ok) throw new Error(`failed to get a project token from Studio: HTTP ${res.status}`)
  const body = (await res.json()) as { token?: string; expiresIn?: number }
  if (typeof body.token !== 'string') throw new Error('failed to get a project token from Studio: no token in answer')
  cache[key] = { token: body.token, expires_at: Math.floor(now + (body.expiresIn ?? 3600)) }
  writePrivate(tokenCachePath(), cache)
  return body.token
}

/**
 * The bearer token for a command (cli.md §5.7): `token` > Studio team token > a stored login for
 * this host/project > the worker's session token > none (anonymous).
 *
 * @example
 * const token = await resolveToken(config)            // commands
 * const token = await resolveToken(config, { session }) // worker
 */
export async function resolveToken(config: Config, options: { session?: string; fetchFn?: typeof fetch } = {}): Promise<string | undefined> {
  if (config.token) return config.token
  if (config.team) return studioProjectToken(config, config.team, options.fetchFn)
  const login = readCredentials().servers?.[serverLoginKey(config.host, config.project)]
  if (login?.token) return login.token
  return options.session || undefined
}
