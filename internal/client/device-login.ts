/**
 * The device login flow (cli.md §8.7), against Coflux Studio or against our own server
 * (http-api.md §16.9, same shapes): start, show the user where to approve, poll for the token.
 */
import { hostname } from 'node:os'
import { ApiError } from '../protocol/errors.ts'
import type { CofluxClient } from './coflux-client.ts'
import { sleep } from './run-waiter.ts'
import type { DeviceLoginStart } from '../protocol/api.ts'

export type PollOutcome<T> = { done: T } | { pending: true } | { slowDown: true }

/** Raised when the login expired or was denied. */
export class DeviceLoginError extends Error {
  override readonly name = 'DeviceLoginError'
}

/**
 * Polls every `interval` seconds (at least `minInterval`) until `poll` succeeds, the login
 * expires (`expiresIn`) or `signal` aborts.
 */
export async function pollDeviceLogin<T>(
  poll: () => Promise<PollOutcome<T>>,
  o: { interval: number; expiresIn: number; minInterval?: number; signal?: AbortSignal },
): Promise<T> {
  let interval = Math.max(o.interval, o.minInterval ?? 0) * 1000
  const deadline = Date.now() + o.expiresIn * 1000
  while (Date.now() < deadline) {
    await sleep(interval, o.signal)
    if (o.signal?.aborted) throw new DeviceLoginError('login cancelled')
    const outcome = await poll()
    if ('done' in outcome) return outcome.done
    if ('slowDown' in outcome) interval += 5000
  }
  throw new DeviceLoginError('login expired before it was approved; run coflux login again')
}

/** The device name sent with a login request. */
export function deviceName(): string {
  return hostname()
}

// -- Studio -----------------------------------------------------------------------------------

async function studioPost(studioUrl: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response
  try {
    res = await fetch(`${studioUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    throw new Error(`failed to reach Coflux Studio at ${studioUrl}: ${(err as Error).message}`)
  }
  const text = await res.text()
  let parsed: Record<string, unknown> = {}
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    // non-JSON answers are reported by status
  }
  return { status: res.status, body: parsed }
}

export async function startStudioLogin(studioUrl: string): Promise<DeviceLoginStart> {
  const { status, body } = await studioPost(studioUrl, '/api/auth/device', { name: deviceName() })
  if (status !== 200) throw new Error(`failed to start Studio login: HTTP ${status}${body.error ? ` (${body.error})` : ''}`)
  return body as unknown as DeviceLoginStart
}

export async function pollStudioLogin(
  studioUrl: string,
  deviceCode: string,
): Promise<PollOutcome<{ access_token: string; user_email?: string; user_id?: string }>> {
  const { status, body } = await studioPost(studioUrl, '/api/auth/device/token', { device_code: deviceCode })
  if (status === 200 && typeof body.access_token === 'string') {
    return { done: body as { access_token: string; user_email?: string; user_id?: string } }
  }
  if (body.error === 'authorization_pending') return { pending: true }
  if (body.error === 'slow_down') return { slowDown: true }
  if (body.error === 'expired_token') throw new DeviceLoginError('login expired before it was approved; run coflux login again')
  if (body.error === 'access_denied') throw new DeviceLoginError('login was denied')
  throw new Error(`Studio login failed: HTTP ${status}${body.error ? ` (${body.error})` : ''}`)
}

// -- our own server ---------------------------------------------------------------------------

export async function pollServerLogin(
  client: CofluxClient,
  deviceCode: string,
): Promise<PollOutcome<{ access_token: string; token_id: string; workspaces: string[] | null }>> {
  try {
    return { done: await client.pollDeviceToken(deviceCode) }
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    if (err.code === 'authorization_pending') return { pending: true }
    if (err.code === 'slow_down') return { slowDown: true }
    if (err.code === 'expired_token') throw new DeviceLoginError('login expired before it was approved; run coflux login again')
    if (err.code === 'access_denied') throw new DeviceLoginError('login was denied')
    throw err
  }
}
