/**
 * Pending device logins against this server (http-api.md §16.9), held in memory only: a
 * restart forgets them and they never create a project. Device codes are kept as their
 * sha256, so a memory dump does not reveal a code that could still be redeemed.
 *
 * States of one login:
 *   pending   started, waiting for someone to approve or deny its user code
 *   approved  approved; the next poll turns it into a service token and forgets it (single use)
 *   denied    denied; polls answer access_denied until it expires
 * A login past its expiry is dropped whatever its state; polls then answer expired_token.
 */
import type { Access } from './auth.ts'
import { sha256Hex } from './service-tokens.ts'

export const DEVICE_LOGIN_TTL_S = 600
export const DEVICE_POLL_INTERVAL_S = 5
/** RFC 8628 §6.1's base-20 alphabet: no vowels (no words) and no 0/O, 1/I look-alikes. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'
const USER_CODE_LENGTH = 8
const STARTS_PER_MINUTE = 5
/** Bounds memory whatever the callers do. */
const MAX_PENDING = 10_000
/** Timers and network jitter: a client sleeping exactly `interval` may arrive a little early. */
const POLL_TOLERANCE_MS = 1_000

export interface DeviceLogin {
  readonly projectId: string
  /** the device's name: the service token will be called this */
  readonly name: string
  /** requested patterns; null = whatever the approver has */
  readonly workspaces: string[] | null
  /** `ABCD-EFGH` */
  readonly userCode: string
  /** Unix ms */
  readonly expiresAt: number
  /** seconds between polls; clients add 5 after each slow_down (RFC 8628 §3.5) */
  readonly interval: number
  lastPollAt: number | null
  state: 'pending' | 'approved' | 'denied'
  /** the approver's access when approved: the token is created on their behalf */
  approver: Access | null
}

export type DevicePollError = 'authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token'
export type DevicePoll = { approved: DeviceLogin } | { error: DevicePollError }

/** `abcd efgh`, `ABCD-EFGH` → `ABCDEFGH`; null when it cannot be a user code. */
export function normalizeUserCode(code: string): string | null {
  const compact = code.toUpperCase().replace(/[\s-]/g, '')
  if (compact.length !== USER_CODE_LENGTH) return null
  return [...compact].every((c) => USER_CODE_ALPHABET.includes(c)) ? compact : null
}

function randomUserCode(): string {
  // 240 = 12 × 20: rejecting bytes above it keeps every character equally likely
  let out = ''
  while (out.length < USER_CODE_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(16))) {
      if (b < 240 && out.length < USER_CODE_LENGTH) out += USER_CODE_ALPHABET[b % 20]
    }
  }
  return out
}

export class DeviceLogins {
  readonly #now: () => number
  /** sha256(device code) → login */
  readonly #byDevice = new Map<string, DeviceLogin>()
  /** `<project>|<compact user code>` → sha256(device code) */
  readonly #byUserCode = new Map<string, string>()
  /** `<project>|<client address>` → start times within the last minute */
  readonly #starts = new Map<string, number[]>()

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Starts a login; null when the client has started too many in the last minute. */
  start(projectId: string, clientAddress: string, name: string, workspaces: string[] | null): { deviceCode: string; login: DeviceLogin } | null {
    const now = this.#now()
    this.#sweep(now)
    const key = `${projectId}|${clientAddress}`
    const recent = (this.#starts.get(key) ?? []).filter((t) => now - t < 60_000)
    if (recent.length >= STARTS_PER_MINUTE || this.#byDevice.size >= MAX_PENDING) return null
    recent.push(now)
    this.#starts.set(key, recent)
    let compact = randomUserCode()
    while (this.#byUserCode.has(`${projectId}|${compact}`)) compact = randomUserCode()
    const deviceCode = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
    const login: DeviceLogin = {
      projectId,
      name,
      workspaces,
      userCode: `${compact.slice(0, 4)}-${compact.slice(4)}`,
      expiresAt: now + DEVICE_LOGIN_TTL_S * 1000,
      interval: DEVICE_POLL_INTERVAL_S,
      lastPollAt: null,
      state: 'pending',
      approver: null,
    }
    const hash = sha256Hex(deviceCode)
    this.#byDevice.set(hash, login)
    this.#byUserCode.set(`${projectId}|${compact}`, hash)
    return { deviceCode, login }
  }

  /** The pending login with this user code in this project, or null. */
  pending(projectId: string, userCode: string): DeviceLogin | null {
    this.#sweep(this.#now())
    const compact = normalizeUserCode(userCode)
    const hash = compact ? this.#byUserCode.get(`${projectId}|${compact}`) : undefined
    const login = hash ? this.#byDevice.get(hash) : undefined
    return login?.state === 'pending' ? login : null
  }

  approve(login: DeviceLogin, approver: Access): void {
    login.state = 'approved'
    login.approver = approver
  }

  deny(login: DeviceLogin): void {
    login.state = 'denied'
  }

  /**
   * One poll of the token endpoint. An approved login is handed out once and forgotten; the
   * caller must be able to turn it into a token (checked before polling).
   */
  poll(projectId: string, deviceCode: string): DevicePoll {
    const now = this.#now()
    this.#sweep(now)
    const hash = sha256Hex(deviceCode)
    const login = this.#byDevice.get(hash)
    // unknown codes read as expired: after a restart that is exactly what happened
    if (!login || login.projectId !== projectId) return { error: 'expired_token' }
    const tooSoon = login.lastPollAt !== null && now - login.lastPollAt < login.interval * 1000 - POLL_TOLERANCE_MS
    login.lastPollAt = now
    // every poll restarts the wait, so a client that keeps hammering keeps being told to slow down
    if (tooSoon) return { error: 'slow_down' }
    if (login.state === 'denied') return { error: 'access_denied' }
    if (login.state === 'pending') return { error: 'authorization_pending' }
    this.#forget(hash, login)
    return { approved: login }
  }

  #forget(hash: string, login: DeviceLogin): void {
    this.#byDevice.delete(hash)
    this.#byUserCode.delete(`${login.projectId}|${login.userCode.replace('-', '')}`)
  }

  #sweep(now: number): void {
    for (const [hash, login] of this.#byDevice) if (login.expiresAt <= now) this.#forget(hash, login)
    for (const [key, times] of this.#starts) if (times.every((t) => now - t >= 60_000)) this.#starts.delete(key)
  }
}
