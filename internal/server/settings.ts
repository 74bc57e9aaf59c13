/**
 * Server settings (http-api.md §2): flag > COFLUX_SERVER_<KEY> > native env > [server] table >
 * default, validated at start-up with clear messages (exit 1).
 */
import { isAbsolute, resolve } from 'node:path'
import { LAUNCHER_TYPES } from '../protocol/api.ts'
import { BlobsUrlError, parseBlobsUrl, type S3BlobsConfig } from './blobs-url.ts'

export interface ServerSettings {
  port: number
  dataDir: string
  /** `postgres://…`: the stores live in PostgreSQL instead of SQLite files under dataDir */
  databaseUrl: string | null
  /**
   * With PostgreSQL, how long a project's lease lasts unless renewed (renewed every fifth of it):
   * a standby takes a dead owner's projects over within about this long (`lease_ttl_ms`)
   */
  leaseTtlMs: number
  bind: string
  /** single-project mode */
  project: string | null
  /** `%`-prefixed for subdomain routing */
  publicHost: string | null
  requireAuth: boolean
  /** lowercase hex sha256 of the super token */
  superTokenHash: string | null
  secret: string | null
  studioTeams: string[]
  studioUrl: string
  allowOrigins: string[]
  launcherTypes: string[]
  cliPath: string
  maxBodyBytes: number
  maxBlobBytes: number
  /** `blobs_url` (`--blobs-url`, COFLUX_BLOBS_URL): blobs in S3 instead of the data directory */
  blobs: S3BlobsConfig | null
  logLevel: string
  /** grace after an execution's timeout before the server records it (semantics.md §9) */
  timeoutGraceMs: number
  /** how long a disconnected worker session waits for its worker before its work is abandoned (semantics.md §20.1) */
  reconnectionTimeoutMs: number
  /**
   * Test-only (`COFLUX_SERVER_SCHEDULE_CLOCK_OFFSET_MS`): schedules see a clock this far ahead of
   * the wall clock, so an end-to-end test reaches a due time without waiting for it
   */
  scheduleClockOffsetMs: number
  /**
   * `epochs.retention_days` (semantics.md §23.3): archived epochs, log and metric partitions
   * archived longer ago than this are deleted; null (the default) keeps them all
   */
  epochRetentionDays: number | null
  /** warnings to print at start-up */
  warnings: string[]
  /** "no project specified" note */
  defaultedProject: boolean
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError'
}

type Source = Record<string, unknown>

const NATIVE_ENV: Record<string, string> = {
  port: 'PORT',
  data_dir: 'COFLUX_DATA_DIR',
  database_url: 'COFLUX_DATABASE_URL',
  bind: 'COFLUX_BIND',
  project: 'COFLUX_PROJECT',
  public_host: 'COFLUX_PUBLIC_HOST',
  auth: 'COFLUX_REQUIRE_AUTH',
  super_token: 'COFLUX_SUPER_TOKEN',
  super_token_hash: 'COFLUX_SUPER_TOKEN_HASH',
  secret: 'COFLUX_SECRET',
  studio_teams: 'COFLUX_STUDIO_TEAMS',
  studio_url: 'COFLUX_STUDIO_URL',
  allow_origins: 'COFLUX_ALLOW_ORIGINS',
  launcher_types: 'COFLUX_LAUNCHER_TYPES',
  cli_path: 'COFLUX_CLI_PATH',
  max_body_bytes: 'COFLUX_MAX_BODY_BYTES',
  max_blob_bytes: 'COFLUX_MAX_BLOB_BYTES',
  blobs_url: 'COFLUX_BLOBS_URL',
  log_level: 'COFLUX_LOG_LEVEL',
  epochs_retention_days: 'COFLUX_EPOCHS_RETENTION_DAYS',
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter(Boolean)
  if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean)
  return []
}

function isPostgresUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.pathname.length > 1
  } catch {
    return false
  }
}

function isLoopback(bind: string): boolean {
  return bind === '127.0.0.1' || bind === '::1' || bind === 'localhost' || bind.startsWith('127.')
}

/**
 * @param flags values given on the command line (snake_case keys of the table above)
 * @param env the process environment
 * @param table the `[server]` table of coflux.toml
 */
export function resolveServerSettings(flags: Source, env: Record<string, string | undefined>, table: Source, cwd = process.cwd()): ServerSettings {
  const warnings: string[] = []
  const pick = (key: string): unknown => {
    if (flags[key] !== undefined) return flags[key]
    const prefixed = env[`COFLUX_SERVER_${key.toUpperCase()}`]
    if (prefixed !== undefined && prefixed !== '') return prefixed
    const native = NATIVE_ENV[key] ? env[NATIVE_ENV[key]!] : undefined
    if (native !== undefined && native !== '') return native
    return table[key]
  }
  if (table.image !== undefined || flags.image !== undefined) warnings.push('the server image setting is ignored: the server runs in-process')

  const portRaw = pick('port') ?? 7777
  const port = Number(portRaw)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SettingsError(`invalid port: ${String(portRaw)}`)

  const dataDirRaw = String(pick('data_dir') ?? './data')
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw)

  const databaseUrlRaw = pick('database_url')
  const databaseUrl = databaseUrlRaw === undefined || databaseUrlRaw === '' ? null : String(databaseUrlRaw)
  if (databaseUrl !== null && !isPostgresUrl(databaseUrl)) {
    throw new SettingsError('invalid database URL: expected postgres://user[:password]@host[:port]/database')
  }

  const publicHostRaw = pick('public_host')
  const publicHost = publicHostRaw === undefined || publicHostRaw === '' ? null : String(publicHostRaw)
  if (publicHost !== null && !/^%?[A-Za-z0-9.-]*(:\d{1,5})?$/.test(publicHost)) throw new SettingsError(`invalid public host: ${publicHost}`)

  const projectRaw = pick('project')
  let project = projectRaw === undefined || projectRaw === '' ? null : String(projectRaw)
  let defaultedProject = false
  if (project === null && !publicHost?.startsWith('%')) {
    project = 'default'
    defaultedProject = true
  }
  if (project !== null && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(project)) throw new SettingsError(`invalid project id: ${project}`)

  const superToken = pick('super_token')
  let superTokenHash = pick('super_token_hash') as string | undefined
  if (superTokenHash !== undefined) {
    superTokenHash = String(superTokenHash).toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(superTokenHash)) throw new SettingsError('super token hash must be 64 hex characters')
  }
  if (superToken !== undefined) {
    const plain = String(superToken)
    if (plain.startsWith('cflx_') || plain.includes('.')) {
      throw new SettingsError("super token must not start with 'cflx_' or contain '.' (it would be read as another kind of token)")
    }
    const hash = new Bun.CryptoHasher('sha256').update(plain).digest('hex')
    if (superTokenHash !== undefined && superTokenHash !== hash) throw new SettingsError('super token and super token hash disagree')
    superTokenHash = hash
  }
  const secretRaw = pick('secret')
  const secret = secretRaw === undefined || secretRaw === '' ? null : String(secretRaw)
  const studioTeams = list(pick('studio_teams'))

  const authRaw = pick('auth')
  const zeroConfig = authRaw === undefined && superTokenHash === undefined && secret === null && studioTeams.length === 0
  const bindRaw = pick('bind')
  const bind = bindRaw !== undefined && bindRaw !== '' ? String(bindRaw) : zeroConfig ? '127.0.0.1' : '0.0.0.0'
  let requireAuth: boolean
  if (authRaw !== undefined) requireAuth = typeof authRaw === 'boolean' ? authRaw : String(authRaw).toLowerCase() !== 'false'
  else requireAuth = !(zeroConfig && isLoopback(bind))
  if (zeroConfig && isLoopback(bind) && !requireAuth) {
    warnings.push(`authentication disabled (no credentials configured); listening on ${bind} only`)
  } else if (!requireAuth && !isLoopback(bind)) {
    warnings.push(`authentication is disabled and the server listens on ${bind}`)
  } else if (requireAuth && superTokenHash === undefined && secret === null && studioTeams.length === 0) {
    warnings.push('authentication is required but no credentials are configured')
  }

  const launcherTypes = list(pick('launcher_types')).filter((t) => {
    const ok = (LAUNCHER_TYPES as readonly string[]).includes(t)
    if (!ok) warnings.push(`unknown launcher type ignored: ${t}`)
    return ok
  })
  const size = (key: string, fallback: number): number => {
    const raw = pick(key)
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n <= 0) throw new SettingsError(`invalid ${key}: ${String(raw)}`)
    return n
  }
  const offset = (key: string): number => {
    const raw = pick(key)
    if (raw === undefined) return 0
    const n = Number(raw)
    if (!Number.isSafeInteger(n)) throw new SettingsError(`invalid ${key}: ${String(raw)}`)
    return n
  }
  return {
    port,
    dataDir,
    databaseUrl,
    leaseTtlMs: size('lease_ttl_ms', 6_000),
    bind,
    project,
    publicHost,
    requireAuth,
    superTokenHash: superTokenHash ?? null,
    secret,
    studioTeams,
    studioUrl: String(pick('studio_url') ?? 'https://studio.coflux.com'),
    allowOrigins: pick('allow_origins') !== undefined ? list(pick('allow_origins')) : ['https://studio.coflux.com'],
    launcherTypes,
    cliPath: String(pick('cli_path') ?? process.execPath),
    maxBodyBytes: size('max_body_bytes', 16 * 1024 * 1024),
    maxBlobBytes: size('max_blob_bytes', 5 * 1024 * 1024 * 1024),
    blobs: blobsLocation(pick('blobs_url'), env),
    logLevel: String(pick('log_level') ?? 'info'),
    timeoutGraceMs: size('timeout_grace_ms', 30_000),
    reconnectionTimeoutMs: size('reconnection_timeout_ms', 30_000),
    scheduleClockOffsetMs: offset('schedule_clock_offset_ms'),
    epochRetentionDays: retentionDays(pick('epochs_retention_days') ?? (table.epochs as Source | undefined)?.retention_days),
    warnings,
    defaultedProject,
  }
}

/** Absent or empty → the data directory; else an `s3://` URL with credentials in the environment. */
function blobsLocation(raw: unknown, env: Record<string, string | undefined>): S3BlobsConfig | null {
  if (raw === undefined || raw === null || raw === '') return null
  try {
    return parseBlobsUrl(String(raw), env)
  } catch (err) {
    if (err instanceof BlobsUrlError) throw new SettingsError(`invalid blobs_url: ${err.message}`)
    throw err
  }
}

/** Days, fractions allowed (`0.5` is twelve hours); absent or empty → off. */
function retentionDays(raw: unknown): number | null {
  if (raw === undefined || raw === null || raw === '') return null
  const days = Number(raw)
  if (typeof raw === 'boolean' || !Number.isFinite(days) || days <= 0) throw new SettingsError(`invalid epochs.retention_days: ${String(raw)} (expected a number of days > 0)`)
  return days
}
