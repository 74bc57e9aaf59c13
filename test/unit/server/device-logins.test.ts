/** Pending device logins (http-api.md §16.9): codes, polling rules, expiry, rate limit. */
import { describe, expect, test } from 'bun:test'
import type { Access } from '../../../internal/server/auth.ts'
import { DeviceLogins, normalizeUserCode } from '../../../internal/server/device-logins.ts'

const approver: Access = { type: 'super', workspaces: ['*'] }

function clock() {
  let t = 1_000_000
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('device logins', () => {
  test('codes: 32-byte device code, ABCD-EFGH user code from an unambiguous alphabet', () => {
    const logins = new DeviceLogins()
    const { deviceCode, login } = logins.start('acme', '1.2.3.4', 'laptop', null)!
    expect(Buffer.from(deviceCode, 'base64url')).toHaveLength(32)
    expect(login.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
    expect(login).toMatchObject({ name: 'laptop', interval: 5, state: 'pending' })
    expect(normalizeUserCode(login.userCode.toLowerCase().replace('-', ' '))).toBe(login.userCode.replace('-', ''))
    expect(normalizeUserCode('ABCD-EFG0')).toBeNull()
    expect(normalizeUserCode('ABC')).toBeNull()
  })

  test('pending → approved: handed out once, then forgotten', () => {
    const c = clock()
    const logins = new DeviceLogins(c.now)
    const { deviceCode, login } = logins.start('acme', 'a', 'laptop', ['prod/*'])!
    expect(logins.poll('acme', deviceCode)).toEqual({ error: 'authorization_pending' })
    expect(logins.pending('other', login.userCode)).toBeNull()
    const found = logins.pending('acme', login.userCode.toLowerCase())!
    logins.approve(found, approver)
    expect(logins.pending('acme', login.userCode)).toBeNull()
    c.advance(5_000)
    expect(logins.poll('other', deviceCode)).toEqual({ error: 'expired_token' })
    c.advance(5_000)
    const outcome = logins.poll('acme', deviceCode)
    expect(outcome).toEqual({ approved: expect.objectContaining({ name: 'laptop', workspaces: ['prod/*'], approver }) })
    c.advance(5_000)
    expect(logins.poll('acme', deviceCode)).toEqual({ error: 'expired_token' })
  })

  test('polling faster than the interval is slow_down; each poll restarts the wait', () => {
    const c = clock()
    const logins = new DeviceLogins(c.now)
    const { deviceCode } = logins.start('acme', 'a', 'laptop', null)!
    expect(logins.poll('acme', deviceCode)).toEqual({ error: 'authorization_pending' })
    c.advance(1_000)
    expect(logins.poll('acme', deviceCode)).toEqual({ error: 'slow_down' })
    c.advance(3_500)
    expect(logins.poll('acme', deviceCode)).toEqual({ error: 'slow_down' })
    // a client sleeping exactly the interval may arrive a little early
    c.advance(4_500)
    expect(logins.poll('acme', deviceCode)).toEqual({ error: 'authorization_pending' })
  })

  test('denied, expired and unknown codes', () => {
    const c = clock()
    const logins = new DeviceLogins(c.now)
    const denied = logins.start('acme', 'a', 'one', null)!
    logins.deny(logins.pending('acme', denied.login.userCode)!)
    expect(logins.poll('acme', denied.deviceCode)).toEqual({ error: 'access_denied' })
    const late = logins.start('acme', 'a', 'two', null)!
    c.advance(600_000)
    expect(logins.pending('acme', late.login.userCode)).toBeNull()
    expect(logins.poll('acme', late.deviceCode)).toEqual({ error: 'expired_token' })
    expect(logins.poll('acme', 'never-issued')).toEqual({ error: 'expired_token' })
  })

  test('at most 5 starts per minute per client address and project', () => {
    const c = clock()
    const logins = new DeviceLogins(c.now)
    for (let i = 0; i < 5; i++) expect(logins.start('acme', '10.0.0.1', 'x', null)).not.toBeNull()
    expect(logins.start('acme', '10.0.0.1', 'x', null)).toBeNull()
    expect(logins.start('acme', '10.0.0.2', 'x', null)).not.toBeNull()
    expect(logins.start('beta', '10.0.0.1', 'x', null)).not.toBeNull()
    c.advance(60_000)
    expect(logins.start('acme', '10.0.0.1', 'x', null)).not.toBeNull()
  })
})
