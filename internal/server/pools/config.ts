/**
 * Validation of pool objects (http-api.md §9.3) into drafts. Problems are collected as
 * `path → reason` (`pool.launcher.type: not_allowed`), so one 400 lists all of them.
 */
import { parseTagSet } from '../../orchestrator/index.ts'
import { LAUNCHER_TYPES, type LauncherType, type TagSet } from '../../protocol/api.ts'
import { isPlainObject, REDACTED, Sealed, type LauncherDraft, type PoolDraft } from './draft.ts'

export const POOL_NAME = /^[a-z][a-z0-9_-]{0,19}$/i
const MODULE_PART = /^[a-z_][a-z0-9_]*$/i

export class FieldErrors {
  readonly details: Record<string, string> = {}

  fail(path: string, reason: string): undefined {
    this.details[path] ??= reason
    return undefined
  }

  get isEmpty(): boolean {
    return Object.keys(this.details).length === 0
  }
}

export interface PoolContext {
  /** `COFLUX_LAUNCHER_TYPES` */
  allowedTypes: readonly string[]
  /** the pool as stored, for `"<redacted>"` sent back (update); null when creating */
  current: PoolDraft | null
}

/** Validates a pool object; undefined when `errors` got a problem. */
export function parsePool(raw: unknown, path: string, ctx: PoolContext, errors: FieldErrors): PoolDraft | undefined {
  if (!isPlainObject(raw)) return errors.fail(path, raw === undefined || raw === null ? 'required' : 'invalid')
  const modules = parseModules(raw.modules, `${path}.modules`, errors)
  const provides = parseTags(raw.provides, `${path}.provides`, errors)
  const accepts = parseTags(raw.accepts, `${path}.accepts`, errors)
  const launcher = raw.launcher === undefined || raw.launcher === null ? null : parseLauncher(raw.launcher, `${path}.launcher`, ctx, errors)
  if (modules === undefined || provides === undefined || accepts === undefined || launcher === undefined) return undefined
  return { modules, provides, accepts, launcher }
}

function parseModules(raw: unknown, path: string, errors: FieldErrors): string[] | undefined {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) return errors.fail(path, 'invalid')
  let ok = true
  raw.forEach((m, i) => {
    if (typeof m !== 'string' || m.length > 100 || !m.split('.').every((part) => part === '*' || MODULE_PART.test(part))) {
      ok = !!errors.fail(`${path}.${i}`, 'invalid')
    }
  })
  return ok ? (raw as string[]) : undefined
}

function parseTags(raw: unknown, path: string, errors: FieldErrors): TagSet | undefined {
  return parseTagSet(raw) ?? errors.fail(path, 'invalid')
}

type Check = (value: unknown, path: string, errors: FieldErrors, ctx: PoolContext) => unknown

const str =
  (max?: number): Check =>
  (v, path, errors) =>
    typeof v === 'string' && (max === undefined || v.length <= max) ? v : errors.fail(path, 'invalid')
const bool: Check = (v, path, errors) => (typeof v === 'boolean' ? v : errors.fail(path, 'invalid'))
const positiveInt: Check = (v, path, errors) => (Number.isInteger(v) && (v as number) >= 1 ? v : errors.fail(path, 'invalid'))
const object: Check = (v, path, errors) => (isPlainObject(v) ? v : errors.fail(path, 'invalid'))
const list: Check = (v, path, errors) => (Array.isArray(v) ? v : errors.fail(path, 'invalid'))
const strings =
  (nonEmpty: boolean): Check =>
  (v, path, errors) =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') && (!nonEmpty || v.length > 0) ? v : errors.fail(path, 'invalid')
const oneOf =
  (...values: string[]): Check =>
  (v, path, errors) =>
    typeof v === 'string' && values.includes(v) ? v : errors.fail(path, 'invalid')

/** string → string; NUL never reaches an environment or a manifest */
const stringMap: Check = (v, path, errors) => {
  if (!isPlainObject(v)) return errors.fail(path, 'invalid')
  const bad = Object.entries(v).find(([, x]) => typeof x !== 'string' || x.includes('\0'))
  return bad ? errors.fail(`${path}.${bad[0]}`, 'invalid') : v
}

/** Variable names a worker may receive: `COFLUX_*` belongs to the contract of semantics.md §21.3. */
function envKeyProblem(key: string): boolean {
  return key.length === 0 || key.length > 200 || key.includes('=') || key.includes('\0') || key.startsWith('COFLUX_')
}

const env: Check = (v, path, errors) => {
  if (!isPlainObject(v)) return errors.fail(path, 'invalid')
  for (const [key, value] of Object.entries(v)) {
    if (envKeyProblem(key) || typeof value !== 'string' || value.includes('\0')) return errors.fail(`${path}.${key}`, 'invalid')
  }
  return v
}

/** A secret: plaintext, a kept `Sealed`, or `"<redacted>"` meaning "keep the stored one". */
function secret(v: unknown, stored: unknown, path: string, errors: FieldErrors): unknown {
  if (v instanceof Sealed) return v
  if (typeof v !== 'string' || v.includes('\0')) return errors.fail(path, 'invalid')
  if (v !== REDACTED) return v
  return stored instanceof Sealed ? stored : errors.fail(path, 'invalid')
}

const token: Check = (v, path, errors, ctx) => secret(v, ctx.current?.launcher?.token, path, errors)

const secretEnv: Check = (v, path, errors, ctx) => {
  if (!isPlainObject(v)) return errors.fail(path, 'invalid')
  const storedMap = ctx.current?.launcher?.secretEnv
  const stored = isPlainObject(storedMap) ? storedMap : {}
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(v)) {
    if (envKeyProblem(key)) return errors.fail(`${path}.${key}`, 'invalid')
    const kept = secret(value, stored[key], `${path}.${key}`, errors)
    if (kept === undefined) return undefined
    out[key] = kept
  }
  return out
}

/** Fields per launcher type, in the order responses show them, then the common ones. */
const TYPE_FIELDS: Record<LauncherType, Record<string, Check>> = {
  docker: { image: str(200), dockerHost: str(200) },
  process: { directory: str(500) },
  kubernetes: {
    image: str(200),
    namespace: str(253),
    serviceAccount: str(253),
    apiServer: str(500),
    token,
    caCert: str(),
    insecure: bool,
    imagePullPolicy: oneOf('Always', 'Never', 'IfNotPresent'),
    nodeSelector: stringMap,
    tolerations: list,
    imagePullSecrets: strings(false),
    hostAliases: list,
    resources: object,
    labels: stringMap,
    annotations: stringMap,
    activeDeadlineSeconds: positiveInt,
    volumes: list,
    volumeMounts: list,
  },
}
const COMMON_FIELDS: Record<string, Check> = {
  serverHost: str(200),
  serverSecure: bool,
  adapter: strings(true),
  concurrency: positiveInt,
  env,
  secretEnv,
}
const REQUIRED: Record<string, string> = { docker: 'image', process: 'directory', kubernetes: 'image' }

/** Fields of other types are dropped (unknown fields are ignored, http-api.md §8). */
function parseLauncher(raw: unknown, path: string, ctx: PoolContext, errors: FieldErrors): LauncherDraft | undefined {
  if (!isPlainObject(raw)) return errors.fail(path, 'invalid')
  const type = raw.type
  if (type === undefined || type === null) return errors.fail(`${path}.type`, 'required')
  if (typeof type !== 'string' || !(LAUNCHER_TYPES as readonly string[]).includes(type)) return errors.fail(`${path}.type`, 'invalid')
  // **Improvement:** a known type the server does not enable says so (0.12: `invalid`)
  if (!ctx.allowedTypes.includes(type)) return errors.fail(`${path}.type`, 'not_allowed')
  const required = REQUIRED[type]!
  let ok = true
  if (raw[required] === undefined || raw[required] === null) ok = !!errors.fail(`${path}.${required}`, 'required')
  const out: LauncherDraft = { type }
  for (const [field, check] of Object.entries({ ...TYPE_FIELDS[type as LauncherType], ...COMMON_FIELDS })) {
    const value = raw[field]
    if (value === undefined || value === null) continue
    const parsed = check(value, `${path}.${field}`, errors, ctx)
    if (parsed === undefined) ok = false
    else out[field] = parsed
  }
  return ok ? out : undefined
}
