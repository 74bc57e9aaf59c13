/**
 * A pool configuration on its way between a request and the store. Secret launcher fields
 * (kubernetes `token`, `secretEnv` values, http-api.md §16.6) are either plaintext from the
 * request or the stored ciphertext kept as is (`Sealed`), which is what `"<redacted>"` sent
 * back means. Only `sealPool` turns plaintext into ciphertext.
 */
import type { LauncherConfig, TagSet } from '../../protocol/api.ts'
import type { PoolConfig } from '../../store/index.ts'

/** What every response shows instead of a secret. */
export const REDACTED = '<redacted>'

/** A stored secret, still encrypted. */
export class Sealed {
  constructor(readonly ciphertext: string) {}
}

export type SecretValue = string | Sealed

export type LauncherDraft = { type: string } & Record<string, unknown>

export interface PoolDraft {
  modules: string[]
  provides: TagSet
  accepts: TagSet
  launcher: LauncherDraft | null
}

/** Launcher fields holding one secret string. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['token'])
/** Launcher fields holding a map of secret strings. */
export const SECRET_MAPS: ReadonlySet<string> = new Set(['secretEnv'])

export interface Sealer {
  encrypt(plain: string): string
  decrypt(ciphertext: string): string
}

/** The stored configuration as a draft: its secrets wrapped as `Sealed`. */
export function draftOf(config: PoolConfig): PoolDraft {
  const { modules, provides, accepts, launcher } = config
  return { modules, provides, accepts, launcher: launcher ? mapSecrets(launcher, (v) => new Sealed(String(v))) : null }
}

/** The draft as stored: plaintext secrets encrypted, kept ones unchanged. */
export function sealPool(draft: PoolDraft, sealer: Sealer): PoolConfig {
  const seal = (v: unknown) => (v instanceof Sealed ? v.ciphertext : sealer.encrypt(String(v)))
  return { ...draft, launcher: draft.launcher ? (mapSecrets(draft.launcher, seal) as LauncherConfig) : null }
}

/**
 * Whether two drafts configure the same pool. A kept secret equals itself; a plaintext one is
 * compared with the decrypted stored value (an undecryptable one counts as changed).
 */
export function samePool(current: PoolDraft, next: PoolDraft, sealer: Sealer): boolean {
  const reveal = (v: unknown): unknown => {
    if (!(v instanceof Sealed)) return v
    try {
      return { plain: sealer.decrypt(v.ciphertext) }
    } catch {
      return { sealed: v.ciphertext }
    }
  }
  const plain = (v: unknown) => (v instanceof Sealed ? reveal(v) : { plain: v })
  const canonical = (d: PoolDraft) =>
    stableJson({ ...d, launcher: d.launcher ? mapSecrets(d.launcher, plain) : null })
  return canonical(current) === canonical(next)
}

/** Applies `fn` to every secret value of a launcher configuration. */
export function mapSecrets(launcher: Record<string, unknown>, fn: (value: unknown) => unknown): LauncherDraft {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(launcher)) {
    if (SECRET_FIELDS.has(key) && value !== undefined && value !== null) out[key] = fn(value)
    else if (SECRET_MAPS.has(key) && isPlainObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fn(v)]))
    } else out[key] = value
  }
  return out as LauncherDraft
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Sealed)
}

/** JSON with object keys sorted, for comparisons and hashes. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  )
}
