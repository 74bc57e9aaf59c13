/**
 * Service token format (http-api.md §6.3): `cflx_` + R (32 hex, 16 random bytes) + S (8 hex),
 * where S is the first 4 bytes of HMAC-SHA256(K_project, R) and K_project =
 * HMAC-SHA256(secret, project id). The signature lets the server reject forged tokens, and
 * tokens of another project, without touching the database. Only sha256(R) is stored.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const SERVICE_TOKEN_PREFIX = 'cflx_'
const SERVICE_TOKEN = /^cflx_([0-9a-f]{32})([0-9a-f]{8})$/

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** Compares two strings without revealing where they differ (length is not secret here). */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** R is signed as its hex text: the token carries it that way, so both sides agree trivially. */
function signatureOf(secret: string, projectId: string, r: string): string {
  const projectKey = createHmac('sha256', secret).update(projectId).digest()
  return createHmac('sha256', projectKey).update(r).digest().subarray(0, 4).toString('hex')
}

/** A new token for `projectId`; `tokenHash` is what gets stored. */
export function mintServiceToken(secret: string, projectId: string): { token: string; tokenHash: string } {
  const r = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
  return { token: `${SERVICE_TOKEN_PREFIX}${r}${signatureOf(secret, projectId, r)}`, tokenHash: sha256Hex(r) }
}

/**
 * The stored hash of a well-formed token whose signature is valid for `projectId`, else null.
 * The signature is compared in constant time, and nothing here reads the database.
 */
export function verifyServiceToken(token: string, secret: string, projectId: string): string | null {
  const match = SERVICE_TOKEN.exec(token)
  if (!match) return null
  const [, r, s] = match as unknown as [string, string, string]
  if (!timingSafeEqualText(signatureOf(secret, projectId, r), s)) return null
  return sha256Hex(r)
}
