/**
 * Studio JWTs (http-api.md §6.5): EdDSA (Ed25519) tokens signed by Coflux Studio, checked
 * against the keys it publishes at `<studio>/.well-known/jwks.json`. Keys are fetched lazily,
 * cached by `kid`, and re-fetched when a `kid` is unknown or the cache is an hour old. A fetch
 * that fails or takes longer than 5 s fails the request (401) rather than hanging it.
 */

const JWKS_MAX_AGE_MS = 60 * 60 * 1000
const JWKS_TIMEOUT_MS = 5_000
/**
 * A `kid` missing from a fetch is not fetched for again for this long, so tokens with made-up
 * `kid`s cannot make us hammer Studio. A real key rotation is seen once this has passed.
 */
const UNKNOWN_KID_RETRY_MS = 10_000
const MAX_REMEMBERED_MISSES = 1_000
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** What a valid token grants. */
export interface StudioClaims {
  /** the user principal */
  sub: string
  /** workspace patterns; `['*']` when the token has none */
  workspaces: string[]
}

type FetchFn = (url: string, init: { signal: AbortSignal }) => Promise<Response>

/** The public keys of one Studio, by `kid`. */
export class StudioKeys {
  readonly #url: string
  readonly #fetch: FetchFn
  #keys = new Map<string, CryptoKey>()
  #fetchedAt = 0
  #inflight: Promise<boolean> | null = null
  readonly #misses = new Map<string, number>()

  constructor(studioUrl: string, fetchFn: FetchFn = (url, init) => fetch(url, init)) {
    this.#url = `${studioUrl}/.well-known/jwks.json`
    this.#fetch = fetchFn
  }

  /** The key for `kid`, or null (unknown, or the keys could not be fetched). */
  async key(kid: string, now = Date.now()): Promise<CryptoKey | null> {
    const stale = now - this.#fetchedAt > JWKS_MAX_AGE_MS
    const known = this.#keys.get(kid)
    if (known && !stale) return known
    const missedAt = this.#misses.get(kid)
    if (!stale && missedAt !== undefined && now - missedAt < UNKNOWN_KID_RETRY_MS) return null
    if (!(await this.#refresh())) return null
    const key = this.#keys.get(kid) ?? null
    if (!key) this.#rememberMiss(kid, now)
    return key
  }

  /** One fetch at a time: concurrent requests share it. */
  #refresh(): Promise<boolean> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = null
    })
    return this.#inflight
  }

  async #load(): Promise<boolean> {
    try {
      const res = await this.#fetch(this.#url, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) })
      if (!res.ok) return false
      const body = (await res.json()) as { keys?: unknown }
      if (!Array.isArray(body.keys)) return false
      const keys = new Map<string, CryptoKey>()
      for (const jwk of body.keys) {
        const imported = await importEd25519(jwk)
        if (imported) keys.set(imported.kid, imported.key)
      }
      // keys absent from the new set are dropped: that is how Studio retires a key
      this.#keys = keys
      this.#fetchedAt = Date.now()
      this.#misses.clear()
      return true
    } catch {
      return false
    }
  }

  #rememberMiss(kid: string, now: number): void {
    if (this.#misses.size >= MAX_REMEMBERED_MISSES) this.#misses.clear()
    this.#misses.set(kid, now)
  }
}

async function importEd25519(jwk: unknown): Promise<{ kid: string; key: CryptoKey } | null> {
  if (!jwk || typeof jwk !== 'object') return null
  const { kty, crv, x, kid } = jwk as Record<string, unknown>
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || typeof kid !== 'string' || !kid) return null
  try {
    // only the key material: an `alg` of "EdDSA" would not match WebCrypto's "Ed25519"
    const key = await crypto.subtle.importKey('jwk', { kty, crv, x }, { name: 'Ed25519' }, false, ['verify'])
    return { kid, key }
  } catch {
    return null
  }
}

const keysByStudio = new Map<string, StudioKeys>()

/** The shared key cache for a Studio URL. */
export function studioKeysFor(studioUrl: string): StudioKeys {
  let keys = keysByStudio.get(studioUrl)
  if (!keys) keysByStudio.set(studioUrl, (keys = new StudioKeys(studioUrl)))
  return keys
}

/** §3 "request host": the Host header's hostname plus `:<port>` unless absent, 80 or 443. */
export function requestHost(hostHeader: string | null | undefined): string {
  const raw = (hostHeader ?? '').trim().toLowerCase()
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(raw)
  if (!m) return raw
  const [, hostname, port] = m as unknown as [string, string, string | undefined]
  return port === undefined || port === '80' || port === '443' ? hostname : `${hostname}:${port}`
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

function audienceMatches(aud: unknown, teams: readonly string[], host: string): boolean {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
  return list.some((a) => {
    if (typeof a !== 'string') return false
    const colon = a.indexOf(':')
    return colon > 0 && teams.includes(a.slice(0, colon)) && a.slice(colon + 1) === host
  })
}

/**
 * The claims of a valid Studio JWT, or null. Every check of §6.5: signature by a published
 * Ed25519 key, `iss`, `exp`, `nbf`, `aud` = `<team>:<request host>`, `workspaces`, `sub`.
 */
export async function verifyStudioJwt(
  token: string,
  options: { studioUrl: string; teams: readonly string[]; host: string; keys?: StudioKeys; now?: number },
): Promise<StudioClaims | null> {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return null
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  const header = decodeJson(headerPart)
  const claims = decodeJson(payloadPart)
  if (!header || !claims || header.alg !== 'EdDSA' || typeof header.kid !== 'string' || !header.kid) return null
  const studioUrl = options.studioUrl.replace(/\/+$/, '')
  const key = await (options.keys ?? studioKeysFor(studioUrl)).key(header.kid)
  if (!key) return null
  const signature = Buffer.from(signaturePart, 'base64url')
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`)
  if (signature.length !== 64 || !(await crypto.subtle.verify('Ed25519', key, signature, signed))) return null

  const now = (options.now ?? Date.now()) / 1000
  if (typeof claims.iss !== 'string' || claims.iss.replace(/\/+$/, '') !== studioUrl) return null
  if (claims.exp !== undefined && (typeof claims.exp !== 'number' || claims.exp <= now)) return null
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) return null
  if (!audienceMatches(claims.aud, options.teams, options.host)) return null
  if (typeof claims.sub !== 'string' || !claims.sub) return null
  const workspaces = claims.workspaces ?? ['*']
  if (!Array.isArray(workspaces) || !workspaces.every((w) => typeof w === 'string')) return null
  return { sub: claims.sub, workspaces: workspaces as string[] }
}
