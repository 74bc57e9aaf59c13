/**
 * Authentication (http-api.md §6): token shapes, the service-token HMAC, checks that must not
 * touch the database, stored-token states, Studio JWTs, and workspace patterns and coverage.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Server } from 'bun'
import { ApiError } from '../../../internal/protocol/errors.ts'
import {
  authenticate,
  canAccessWorkspace,
  coversPatterns,
  patternCovers,
  patternMatches,
  type Access,
} from '../../../internal/server/auth.ts'
import { silentLogger } from '../../../internal/server/logger.ts'
import { Project } from '../../../internal/server/project.ts'
import { mintServiceToken, sha256Hex, verifyServiceToken } from '../../../internal/server/service-tokens.ts'
import { resolveServerSettings, type ServerSettings } from '../../../internal/server/settings.ts'
import { requestHost, StudioKeys, verifyStudioJwt } from '../../../internal/server/studio-jwt.ts'

function settings(env: Record<string, string> = {}): ServerSettings {
  return resolveServerSettings({}, { COFLUX_SECRET: 's', COFLUX_SUPER_TOKEN: 'super-xyz', ...env }, {}, tmpdir())
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, code: err.code }
    throw err
  }
  throw new Error('expected a refusal')
}

describe('service token format (§6.3)', () => {
  test('cflx_ + 32 hex + 8 hex, signed with HMAC(HMAC(secret, project), R)', () => {
    const { token, tokenHash } = mintServiceToken('s', 'acme')
    expect(token).toMatch(/^cflx_[0-9a-f]{40}$/)
    expect(token.length).toBe(45)
    const r = token.slice(5, 37)
    const projectKey = createHmac('sha256', 's').update('acme').digest()
    expect(token.slice(37)).toBe(createHmac('sha256', projectKey).update(r).digest('hex').slice(0, 8))
    // only sha256(R) is stored, not the token
    expect(tokenHash).toBe(sha256Hex(r))
    expect(verifyServiceToken(token, 's', 'acme')).toBe(tokenHash)
  })

  test('tokens are bound to their project and secret', () => {
    const { token } = mintServiceToken('s', 'acme')
    expect(verifyServiceToken(token, 's', 'other')).toBeNull()
    expect(verifyServiceToken(token, 'not-s', 'acme')).toBeNull()
  })

  test('exact shape: a changed, shortened, lengthened or upper-cased token fails', () => {
    const { token } = mintServiceToken('s', 'acme')
    const flipped = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0')
    for (const bad of [flipped, token.slice(0, -1), token + '0', token.toUpperCase().replace('CFLX_', 'cflx_'), 'cflx_', `cflx_${'g'.repeat(40)}`]) {
      expect(verifyServiceToken(bad, 's', 'acme')).toBeNull()
    }
  })
})

describe('authenticate', () => {
  let dir: string
  let project: Project
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coflux-auth-'))
    project = new Project('acme', dir, silentLogger)
  })
  afterEach(() => {
    project.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const storeToken = (token: { tokenHash: string }, extra: { workspaces?: string[] | null; expiresAt?: number | null } = {}) =>
    project.store.tokens.create(
      { tokenHash: token.tokenHash, name: 'ci', workspaces: extra.workspaces ?? null, createdBy: null, expiresAt: extra.expiresAt ?? null },
      Math.floor(Date.now() / 1000),
    )

  test('anonymous: all workspaces when auth is off, 401 when it is required', async () => {
    expect(await authenticate(undefined, settings({ COFLUX_REQUIRE_AUTH: 'false' }), project)).toEqual({ type: 'none', workspaces: ['*'] })
    expect(await refusal(authenticate(undefined, settings(), project))).toEqual({ status: 401, code: 'unauthorized' })
  })

  test('a presented but invalid token is 401 even when auth is off', async () => {
    const open = settings({ COFLUX_REQUIRE_AUTH: 'false' })
    for (const header of ['Bearer nope', 'Basic abc', 'bearer super-xyz', 'Bearer ', 'Bearer a.b.c', 'Bearer cflx_00']) {
      expect((await refusal(authenticate(header, open, project))).status).toBe(401)
    }
  })

  test('super token: all workspaces, no principal', async () => {
    expect(await authenticate('Bearer super-xyz', settings(), project)).toEqual({ type: 'super', workspaces: ['*'] })
    expect(await authenticate('Bearer  super-xyz ', settings(), project)).toMatchObject({ type: 'super' })
  })

  test('service token: patterns and principal from the stored record', async () => {
    const minted = mintServiceToken('s', 'acme')
    const record = storeToken(minted, { workspaces: ['prod/*', 'staging'] })
    const access = await authenticate(`Bearer ${minted.token}`, settings(), project)
    expect(access).toEqual({
      type: 'service',
      workspaces: ['prod/*', 'staging'],
      tokenId: record.externalId,
      principal: { type: 'token', externalId: record.externalId },
    })
    const all = mintServiceToken('s', 'acme')
    storeToken(all, { workspaces: ['x', '*'] })
    expect((await authenticate(`Bearer ${all.token}`, settings(), project)).workspaces).toEqual(['*'])
  })

  test('service tokens need a secret', async () => {
    const minted = mintServiceToken('s', 'acme')
    storeToken(minted)
    const noSecret = resolveServerSettings({}, { COFLUX_SUPER_TOKEN: 'super-xyz' }, {}, tmpdir())
    expect((await refusal(authenticate(`Bearer ${minted.token}`, noSecret, project))).status).toBe(401)
  })

  test('revoked, expired and unknown service tokens are 401', async () => {
    const revoked = mintServiceToken('s', 'acme')
    project.store.tokens.revoke(storeToken(revoked).id, 1)
    const expired = mintServiceToken('s', 'acme')
    storeToken(expired, { expiresAt: Math.floor(Date.now() / 1000) - 1 })
    const unknown = mintServiceToken('s', 'acme')
    const otherProject = mintServiceToken('s', 'other')
    storeToken(otherProject)
    for (const t of [revoked, expired, unknown, otherProject]) {
      expect((await refusal(authenticate(`Bearer ${t.token}`, settings(), project))).status).toBe(401)
    }
  })

  test('a forged signature is refused before any database access', async () => {
    let lookups = 0
    const spy = { id: 'acme', store: { tokens: { findByHash: () => (lookups++, null) } } } as unknown as Project
    const forged = `cflx_${'a'.repeat(32)}${'0'.repeat(8)}`
    expect((await refusal(authenticate(`Bearer ${forged}`, settings(), spy))).status).toBe(401)
    expect(lookups).toBe(0)
    const good = mintServiceToken('s', 'acme')
    await refusal(authenticate(`Bearer ${good.token}`, settings(), spy))
    expect(lookups).toBe(1)
  })

  test('no project yet: service tokens are 401, the super token still works', async () => {
    const minted = mintServiceToken('s', 'acme')
    expect((await refusal(authenticate(`Bearer ${minted.token}`, settings(), null, { projectId: 'acme' }))).status).toBe(401)
    expect((await authenticate('Bearer super-xyz', settings(), null)).type).toBe('super')
  })

  test('legacy stored tokens: sha256 of the whole token', async () => {
    storeToken({ tokenHash: sha256Hex('old-style-token') }, { workspaces: ['dev'] })
    expect(await authenticate('Bearer old-style-token', settings(), project)).toMatchObject({ type: 'service', workspaces: ['dev'] })
  })

  test('session tokens: exactly their workspace', async () => {
    const ws = project.store.workspaces.create('prod/a', null, Date.now())
    const { token, session } = project.store.sessions.create({ workspaceId: ws.id, provides: {}, accepts: {} }, Date.now())
    expect(await authenticate(`Bearer ${token}`, settings(), project)).toEqual({ type: 'session', workspaces: ['prod/a'], sessionId: session.id })
    expect((await refusal(authenticate(`Bearer ${token}x`, settings(), project))).status).toBe(401)
  })

  test('failures are logged without the token', async () => {
    const lines: string[] = []
    const logger = { ...silentLogger, info: (m: string) => lines.push(m) }
    const forged = `cflx_${'b'.repeat(40)}`
    await refusal(authenticate(`Bearer ${forged}`, settings(), project, { logger }))
    await refusal(authenticate('Bearer wrong-super', settings(), project, { logger }))
    expect(lines).toHaveLength(2)
    for (const line of lines) {
      expect(line).toStartWith('authentication failed')
      expect(line).not.toContain('b'.repeat(40))
      expect(line).not.toContain('wrong-super')
    }
  })
})

describe('Studio JWTs (§6.5)', () => {
  let jwks: Server<undefined>
  let keys: { kid: string; pair: CryptoKeyPair; jwk: Record<string, unknown> }[]
  let fetches = 0
  let studioUrl: string

  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
  async function newKey(kid: string) {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
    const jwk = { ...(await crypto.subtle.exportKey('jwk', pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' }
    return { kid, pair, jwk }
  }
  async function sign(claims: Record<string, unknown>, options: { kid?: string; alg?: string; key?: CryptoKey } = {}) {
    const kid = options.kid ?? keys[0]!.kid
    const head = b64({ alg: options.alg ?? 'EdDSA', typ: 'JWT', kid })
    const body = b64(claims)
    const key = options.key ?? keys.find((k) => k.kid === kid)?.pair.privateKey ?? keys[0]!.pair.privateKey
    const sig = Buffer.from(await crypto.subtle.sign('Ed25519', key, new TextEncoder().encode(`${head}.${body}`))).toString('base64url')
    return `${head}.${body}.${sig}`
  }
  const now = () => Math.floor(Date.now() / 1000)
  const good = () => ({ iss: studioUrl, aud: 'team1:localhost:7777', sub: 'user-1', exp: now() + 60, workspaces: ['prod/*'] })

  beforeAll(async () => {
    keys = [await newKey('k1')]
    jwks = Bun.serve({
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname !== '/.well-known/jwks.json') return new Response('no', { status: 404 })
        fetches++
        return Response.json({ keys: keys.map((k) => k.jwk) })
      },
    })
    studioUrl = `http://127.0.0.1:${jwks.port}`
  })
  afterAll(() => jwks.stop(true))

  const verify = (token: string, k = new StudioKeys(studioUrl)) => verifyStudioJwt(token, { studioUrl, teams: ['team1'], host: 'localhost:7777', keys: k })

  test('a valid token gives its subject and workspaces (default all)', async () => {
    expect(await verify(await sign(good()))).toEqual({ sub: 'user-1', workspaces: ['prod/*'] })
    const { workspaces: _, ...noWorkspaces } = good()
    expect(await verify(await sign(noWorkspaces))).toEqual({ sub: 'user-1', workspaces: ['*'] })
  })

  test('every claim is checked', async () => {
    const bad: Record<string, unknown>[] = [
      { ...good(), iss: 'https://evil.example' },
      { ...good(), exp: now() - 1 },
      { ...good(), nbf: now() + 60 },
      { ...good(), aud: undefined },
      { ...good(), aud: 'team2:localhost:7777' },
      { ...good(), aud: 'team1:otherhost:7777' },
      { ...good(), sub: undefined },
      { ...good(), workspaces: 'prod/*' },
      { ...good(), exp: 'tomorrow' },
    ]
    for (const claims of bad) expect(await verify(await sign(claims))).toBeNull()
  })

  test('only EdDSA, signed by a published key', async () => {
    expect(await verify(await sign(good(), { alg: 'none' }))).toBeNull()
    const stranger = await newKey('k1')
    expect(await verify(await sign(good(), { key: stranger.pair.privateKey }))).toBeNull()
    const token = await sign(good())
    expect(await verify(token.slice(0, token.lastIndexOf('.')) + '.')).toBeNull()
    expect(await verify(`${token.split('.')[0]}.${b64({ ...good(), sub: 'admin' })}.${token.split('.')[2]}`)).toBeNull()
  })

  test('keys are cached by kid and re-fetched for an unknown kid', async () => {
    const cache = new StudioKeys(studioUrl)
    const before = fetches
    await verify(await sign(good()), cache)
    await verify(await sign(good()), cache)
    expect(fetches - before).toBe(1)
    keys.push(await newKey('k2'))
    expect(await verify(await sign(good(), { kid: 'k2' }), cache)).not.toBeNull()
    expect(fetches - before).toBe(2)
    // a kid missing from a fresh fetch is not fetched for again straight away
    expect(await verify(await sign(good(), { kid: 'k9' }), cache)).toBeNull()
    expect(await verify(await sign(good(), { kid: 'k9' }), cache)).toBeNull()
    expect(fetches - before).toBe(3)
    keys.pop()
  })

  test('a failed JWKS fetch is a refusal, and the fetch has a timeout', async () => {
    let signal: AbortSignal | undefined
    const failing = new StudioKeys(studioUrl, async (_url, init) => {
      signal = init.signal
      throw new Error('connection refused')
    })
    expect(await verify(await sign(good()), failing)).toBeNull()
    expect(signal).toBeInstanceOf(AbortSignal)
  })

  test('authenticate: only with Studio teams, audience from the request host', async () => {
    const token = await sign(good())
    const off = settings({ COFLUX_STUDIO_URL: studioUrl })
    expect((await refusal(authenticate(`Bearer ${token}`, off, null))).status).toBe(401)
    const on = settings({ COFLUX_STUDIO_URL: studioUrl, COFLUX_STUDIO_TEAMS: 'team1,team3' })
    expect(await authenticate(`Bearer ${token}`, on, null, { host: 'LOCALHOST:7777' })).toEqual({
      type: 'user',
      workspaces: ['prod/*'],
      principal: { type: 'user', externalId: 'user-1' },
    })
    expect((await refusal(authenticate(`Bearer ${token}`, on, null, { host: 'localhost:8888' }))).status).toBe(401)
  })

  test('request host drops the default ports', () => {
    expect(requestHost('Example.com:443')).toBe('example.com')
    expect(requestHost('example.com:80')).toBe('example.com')
    expect(requestHost('example.com')).toBe('example.com')
    expect(requestHost('localhost:7777')).toBe('localhost:7777')
    expect(requestHost('[::1]:7777')).toBe('[::1]:7777')
  })
})

describe('workspace patterns (§6.7)', () => {
  test('matching', () => {
    expect(patternMatches('*', 'anything/at/all')).toBe(true)
    expect(patternMatches('prod', 'prod')).toBe(true)
    expect(patternMatches('prod', 'prod/a')).toBe(false)
    expect(patternMatches('prod/*', 'prod/a')).toBe(true)
    expect(patternMatches('prod/*', 'prod/a/b')).toBe(true)
    expect(patternMatches('prod/*', 'prod')).toBe(false)
    expect(patternMatches('prod/*', 'production/a')).toBe(false)
  })

  test('coverage', () => {
    expect(patternCovers(['*'], '*')).toBe(true)
    expect(patternCovers(['prod/*'], '*')).toBe(false)
    expect(patternCovers(['prod/*'], 'prod/*')).toBe(true)
    expect(patternCovers(['prod/*'], 'prod/eu/*')).toBe(true)
    expect(patternCovers(['prod/eu/*'], 'prod/*')).toBe(false)
    expect(patternCovers(['prod'], 'prod/*')).toBe(false)
    expect(patternCovers(['prod/*'], 'production/*')).toBe(false)
    expect(patternCovers(['prod/*'], 'prod/a')).toBe(true)
    expect(patternCovers(['prod/a'], 'prod/a')).toBe(true)
    expect(patternCovers(['prod/*'], 'prod')).toBe(false)
    const caller: Access = { type: 'service', workspaces: ['prod/*', 'dev'] }
    expect(coversPatterns(caller, ['prod/x/*', 'dev'])).toBe(true)
    expect(coversPatterns(caller, ['prod/x/*', 'dev/*'])).toBe(false)
    expect(canAccessWorkspace(caller, 'dev')).toBe(true)
    expect(canAccessWorkspace(caller, 'staging')).toBe(false)
  })
})
