/**
 * Authentication end to end (http-api.md §6, §9.9, §16.9; cli.md §8.7, §8.12): a server that
 * requires auth, the real CLI with the super token, scoped service tokens, sessions, and
 * `coflux login` against the server itself.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiClient } from '../../internal/client/api-client.ts'
import { subscribeTopic } from '../../internal/client/topic-subscription.ts'
import { cofluxCommand, testEnv, track, until } from './support/binary.ts'
import { coflux, type CliResult } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'

const SUPER = 'super-xyz'
let server: TestServer
let home: string

beforeAll(async () => {
  server = await startTestServer({ env: { COFLUX_SECRET: 's', COFLUX_SUPER_TOKEN: SUPER } })
  home = mkdtempSync(join(tmpdir(), 'coflux-auth-home-'))
})
afterAll(async () => {
  await server.cleanup()
  rmSync(home, { recursive: true, force: true })
})

/** The CLI with a token (or none), in a HOME of its own so no real login is used. */
const cli = (args: string[], token?: string, options: { workspace?: string; home?: string } = {}): Promise<CliResult> =>
  coflux(args, {
    host: server.host,
    workspace: options.workspace,
    env: { HOME: options.home ?? home, ...(token ? { COFLUX_TOKEN: token } : {}) },
  })

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

let counter = 0
const fresh = (prefix: string) => `${prefix}-${process.pid}-${++counter}`

async function createToken(token: string, args: string[] = []): Promise<{ token: string; externalId: string }> {
  const r = await cli(['tokens', 'create', ...args, '-o', 'json'], token)
  expect(r.code).toBe(0)
  return r.json
}

describe('tokens commands with the super token', () => {
  test('create, list, revoke', async () => {
    const created = await cli(['tokens', 'create', '--name', 'CI', '--workspaces', 'prod/*,staging', '-o', 'json'], SUPER)
    expect(created.code).toBe(0)
    expect(created.json).toEqual({
      token: expect.stringMatching(/^cflx_[0-9a-f]{40}$/),
      tokenId: expect.any(Number),
      externalId: expect.stringMatching(/^[a-zA-Z0-9]{13}$/),
      name: 'CI',
      workspaces: ['prod/*', 'staging'],
    })
    const id = created.json.externalId

    const list = await cli(['tokens', 'list', '-o', 'json'], SUPER)
    expect(list.json[id]).toEqual({
      id: created.json.tokenId,
      externalId: id,
      name: 'CI',
      workspaces: ['prod/*', 'staging'],
      createdAt: expect.any(Number),
      expiresAt: null,
      createdBy: null,
    })
    // seconds, not milliseconds
    expect(Math.abs(list.json[id].createdAt - Date.now() / 1000)).toBeLessThan(120)
    expect(JSON.stringify(list.json)).not.toContain(created.json.token)
    const text = await cli(['tokens', 'list'], SUPER)
    expect(text.stdout).toMatch(new RegExp(`${id}\\s+CI\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\s+active\\s+prod/\\*, staging`))

    const revoked = await cli(['tokens', 'revoke', id, '-o', 'json'], SUPER)
    expect(revoked.json).toEqual({ externalId: id, revoked: true })
    expect((await cli(['tokens', 'list', '-o', 'json'], SUPER)).json[id]).toBeUndefined()
    const again = await cli(['tokens', 'revoke', id], SUPER)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`token '${id}' not found`)
  })

  test('the tokens topic is live over the WebSocket, per caller', async () => {
    const scoped = await createToken(SUPER, ['--workspaces', 'prod/*'])
    const seen = { all: {} as Record<string, unknown>, mine: {} as Record<string, unknown> }
    const subscribe = (token: string, key: keyof typeof seen) =>
      subscribeTopic(new ApiClient({ host: server.host, secure: false, token }), ['tokens'], (value) => {
        seen[key] = value as Record<string, unknown>
      })
    const subs = [subscribe(SUPER, 'all'), subscribe(scoped.token, 'mine')]
    try {
      await Promise.all(subs.map((s) => s.ready))
      expect(seen.all[scoped.externalId]).toBeDefined()
      expect(seen.mine).toEqual({})
      const child = await createToken(scoped.token, ['--workspaces', 'prod/a'])
      await until(() => seen.mine[child.externalId] && seen.all[child.externalId])
      await cli(['tokens', 'revoke', child.externalId], SUPER)
      await until(() => !seen.mine[child.externalId] && !seen.all[child.externalId])
    } finally {
      for (const s of subs) s.close()
    }
  })

  test('the token text is shown once, with its workspaces', async () => {
    const r = await cli(['tokens', 'create', '--name', 'all'], SUPER)
    expect(r.stdout).toMatch(/^Token created successfully\.\n\nToken: cflx_[0-9a-f]{40}\nWorkspaces: \(all\)\n\nCopy this now, it won't be shown again\.\n$/)
  })
})

describe('a token scoped to prod/*', () => {
  let scoped: { token: string; externalId: string }
  let prodId: string
  let devId: string
  beforeAll(async () => {
    scoped = await createToken(SUPER, ['--name', 'prod-only', '--workspaces', 'prod/*'])
    prodId = (await cli(['workspaces', 'create', fresh('prod/app'), '-o', 'json'], SUPER)).json.id
    devId = (await cli(['workspaces', 'create', fresh('dev'), '-o', 'json'], SUPER)).json.id
  })

  test('reads and writes only prod/*', async () => {
    const list = await cli(['workspaces', 'list', '-o', 'json'], scoped.token)
    expect(list.code).toBe(0)
    expect(Object.keys(list.json)).toContain(prodId)
    expect(Object.keys(list.json)).not.toContain(devId)
    expect(Object.values(list.json).every((w: any) => w.name.startsWith('prod/'))).toBe(true)

    const name = fresh('prod/new')
    expect((await cli(['workspaces', 'create', name, '-o', 'json'], scoped.token)).code).toBe(0)
    const outside = await cli(['workspaces', 'create', fresh('staging')], scoped.token)
    expect(outside.code).toBe(1)
    expect(outside.stderr).toContain('restricted')
  })

  test('another workspace is 403', async () => {
    const res = await server.get(`/topics/workspaces/${devId}/queue`, bearer(scoped.token))
    expect(res).toEqual({ status: 403, body: expect.objectContaining({ error: 'forbidden' }) })
    const paused = await server.api('pause_workspace', { workspaceId: devId }, bearer(scoped.token))
    expect(paused.status).toBe(403)
    expect((await server.get(`/topics/workspaces/${prodId}/queue`, bearer(scoped.token))).status).toBe(200)
    const logs = await server.get(`/logs?run=Rxyz&workspaces=${devId}`, bearer(scoped.token))
    expect(logs).toEqual({ status: 200, body: { logs: [], cursor: null } })
  })

  test('grants only what it covers, sees and revokes only its own tokens', async () => {
    const broader = await cli(['tokens', 'create', '--workspaces', '*'], scoped.token)
    expect(broader.code).toBe(4)
    expect(broader.stderr).toContain('forbidden')
    const child = await createToken(scoped.token, ['--name', 'child', '--workspaces', 'prod/eu/*'])
    const inherited = await createToken(scoped.token, ['--name', 'inherited'])

    const mine = await cli(['tokens', 'list', '-o', 'json'], scoped.token)
    expect(Object.keys(mine.json).sort()).toEqual([child.externalId, inherited.externalId].sort())
    expect(mine.json[inherited.externalId].workspaces).toEqual(['prod/*'])
    expect(mine.json[child.externalId].createdBy).toEqual({ type: 'token', externalId: scoped.externalId })

    // a token it did not create: not listed, and refused by the server
    const other = await createToken(SUPER, ['--workspaces', 'prod/*'])
    expect((await server.api('revoke_token', { externalId: other.externalId }, bearer(scoped.token))).status).toBe(403)
    expect((await cli(['tokens', 'revoke', child.externalId], scoped.token)).code).toBe(0)
    expect((await server.get('/api/discover', bearer(child.token))).status).toBe(401)
  })

  test('only the super token may rotate epochs', async () => {
    expect((await server.api('rotate_epoch', {}, bearer(scoped.token))).status).toBe(403)
    expect((await server.api('rotate_logs', {}, bearer(scoped.token))).status).toBe(403)
    expect((await server.api('rotate_epoch', {}, bearer(SUPER))).status).toBe(204)
  })
})

describe('refused credentials', () => {
  test('no token, a bad token, a revoked and an expired token are 401 (exit 4)', async () => {
    const anonymous = await cli(['workspaces', 'list'])
    expect(anonymous.code).toBe(4)
    const forged = `cflx_${'0'.repeat(40)}`
    const revoked = await createToken(SUPER)
    await cli(['tokens', 'revoke', revoked.externalId], SUPER)
    const expiring = await createToken(SUPER, ['--expires-in', '1'])
    for (const token of ['nonsense', forged, revoked.token]) {
      const r = await cli(['workspaces', 'list'], token)
      expect(r.code).toBe(4)
      expect(r.stderr).toContain('unauthorized')
    }
    await until(async () => (await server.get('/api/discover', bearer(expiring.token))).status === 401, { message: 'the token to expire' })
    expect((await cli(['workspaces', 'list'], expiring.token)).code).toBe(4)
    // the token value never reaches the server log
    expect(server.stderr()).not.toContain(forged)
    expect(server.stderr()).toContain('authentication failed')
  })

  test('a session token cannot create or revoke tokens', async () => {
    const ws = (await cli(['workspaces', 'create', fresh('sess'), '-o', 'json'], SUPER)).json.id
    const { body } = await server.api('create_session', { workspaceId: ws }, bearer(SUPER))
    const r = await cli(['tokens', 'create'], body.sessionId)
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('forbidden')
    const target = await createToken(SUPER)
    expect((await server.api('revoke_token', { externalId: target.externalId }, bearer(body.sessionId))).status).toBe(403)
  })

  test('without a secret, create_token is 501 not_configured', async () => {
    const bare = await startTestServer({ env: { COFLUX_SUPER_TOKEN: SUPER } })
    try {
      const res = await bare.api('create_token', {}, bearer(SUPER))
      expect(res).toEqual({
        status: 501,
        body: expect.objectContaining({ error: 'not_configured', details: { message: 'Service tokens require COFLUX_SECRET to be configured' } }),
      })
      const r = await coflux(['tokens', 'create'], { host: bare.host, env: { HOME: home, COFLUX_TOKEN: SUPER } })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('not_configured')
    } finally {
      await bare.cleanup()
    }
  })
})

describe('device login against this server', () => {
  test('coflux login, approved with coflux tokens approve, then commands use the stored token', async () => {
    const loginHome = mkdtempSync(join(tmpdir(), 'coflux-login-home-'))
    try {
      const proc = track(
        Bun.spawn([...cofluxCommand(), 'login', '--no-browser', '-o', 'json'], {
          env: testEnv({ COFLUX_HOST: server.host, HOME: loginHome }),
          stdin: 'ignore',
          stdout: 'pipe',
          stderr: 'pipe',
        }),
      )
      let stderr = ''
      ;(async () => {
        for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk)
      })()
      const stdout = new Response(proc.stdout).text()
      const code = await until(() => /approve ([A-Z]{4}-[A-Z]{4})/.exec(stderr)?.[1], { message: 'a user code' })
      expect(stderr).toContain(`/device?code=${code}`)

      const approved = await cli(['tokens', 'approve', code, '-o', 'json'], SUPER)
      expect(approved.json).toEqual({ approved: true })
      expect(await proc.exited).toBe(0)
      const result = JSON.parse(await stdout)
      expect(result).toMatchObject({ loggedIn: true, kind: 'server' })

      const credentials = join(loginHome, '.config', 'coflux', 'credentials.json')
      expect(statSync(credentials).mode & 0o777).toBe(0o600)
      const works = await cli(['workspaces', 'list', '-o', 'json'], undefined, { home: loginHome })
      expect(works.code).toBe(0)
      // the login is a service token named after the device, created by the approver
      const tokens = (await cli(['tokens', 'list', '-o', 'json'], SUPER)).json
      expect(Object.values(tokens).some((t: any) => t.name === result.user && t.workspaces === null)).toBe(true)
      expect((await cli(['logout'], undefined, { home: loginHome })).code).toBe(0)
      expect((await cli(['workspaces', 'list'], undefined, { home: loginHome })).code).toBe(4)
    } finally {
      rmSync(loginHome, { recursive: true, force: true })
    }
    // the CLI waits a whole poll interval (5 s) before its first poll; the preload's default
    // timeout does not reach every file of a multi-file run, so this test names its own
  }, 30_000)

  test('the endpoints: start and poll need no token, approve and deny do', async () => {
    const start = await server.api('auth/device', { name: 'box', workspaces: ['prod/*'] })
    expect(start.status).toBe(200)
    expect(start.body).toEqual({
      device_code: expect.any(String),
      user_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verification_uri: expect.stringContaining(`/device?code=${start.body.user_code}`),
      expires_in: 600,
      interval: 5,
    })
    const poll = () => server.api('auth/device/token', { device_code: start.body.device_code })
    expect(await poll()).toEqual({ status: 400, body: { error: 'authorization_pending' } })
    expect(await poll()).toEqual({ status: 400, body: { error: 'slow_down' } })
    expect((await server.api('auth/device/approve', { user_code: start.body.user_code })).status).toBe(401)

    // an approver must cover the requested workspaces
    const devOnly = await createToken(SUPER, ['--workspaces', 'dev/*'])
    expect((await server.api('auth/device/approve', { user_code: start.body.user_code }, bearer(devOnly.token))).status).toBe(403)
    expect((await server.api('auth/device/deny', { user_code: start.body.user_code }, bearer(SUPER))).status).toBe(204)
    expect((await server.api('auth/device/approve', { user_code: start.body.user_code }, bearer(SUPER))).status).toBe(404)

    const denied = await server.api('auth/device', { name: 'box' })
    expect((await server.api('auth/device/deny', { user_code: denied.body.user_code.toLowerCase() }, bearer(SUPER))).status).toBe(204)
    expect(await server.api('auth/device/token', { device_code: denied.body.device_code })).toEqual({ status: 400, body: { error: 'access_denied' } })
    expect(await server.api('auth/device/token', { device_code: 'not-a-code' })).toEqual({ status: 400, body: { error: 'expired_token' } })
  })
})
