import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  applyPoolOps,
  logout,
  parsePoolsToml,
  planPoolImport,
  poolsAfterImport,
  renderPoolPlan,
  summarisePoolChanges,
  matchEntries,
  planDownload,
  poolForCreate,
  poolsToToml,
  readCredentials,
  resolveToken,
  saveServerLogin,
  saveStudioLogin,
  tokenCachePath,
} from '../../../internal/client/index.ts'
import { defaultConfig, parseToml } from '../../../internal/config/index.ts'

let dir: string
let savedHome: string | undefined
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-client-'))
  savedHome = process.env.HOME
  process.env.HOME = join(dir, 'home')
})
afterAll(() => {
  process.env.HOME = savedHome
  rmSync(dir, { recursive: true, force: true })
})

describe('credentials (cli.md §5.7)', () => {
  const config = (over: Partial<ReturnType<typeof defaultConfig>> = {}) => ({ ...defaultConfig(), host: 'h:1', ...over })

  test('token > stored server login > session > none; files are private', async () => {
    expect(await resolveToken(config())).toBeUndefined()
    expect(await resolveToken(config(), { session: 'sess' })).toBe('sess')
    saveServerLogin('h:1', undefined, { token: 'cflx_stored' })
    expect(await resolveToken(config(), { session: 'sess' })).toBe('cflx_stored')
    expect(await resolveToken(config({ project: 'other' }))).toBeUndefined()
    expect(await resolveToken(config({ token: 'explicit' }))).toBe('explicit')
    const file = join(process.env.HOME!, '.config/coflux/credentials.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(process.env.HOME!, '.config/coflux')).mode & 0o777).toBe(0o700)
  })

  test('team: Studio exchange, cached until 60 s before expiry', async () => {
    let calls = 0
    const fetchFn = (async (url: string, init: RequestInit) => {
      calls++
      expect(url).toBe('https://studio.example/api/auth/project-token')
      expect((init.headers as Record<string, string>).authorization).toBe('Bearer studio-tok')
      expect(JSON.parse(String(init.body))).toEqual({ team: 'T1', host: 'h:1' })
      return new Response(JSON.stringify({ token: 'jwt.a.b', expiresIn: 3600 }))
    }) as unknown as typeof fetch
    const c = config({ team: 'T1', studioUrl: 'https://studio.example' })
    await expect(resolveToken(c, { fetchFn })).rejects.toThrow("run 'coflux login' to authenticate")
    saveStudioLogin({ studio_token: 'studio-tok', user_email: 'a@b' })
    expect(await resolveToken(c, { fetchFn })).toBe('jwt.a.b')
    expect(await resolveToken(c, { fetchFn })).toBe('jwt.a.b')
    expect(calls).toBe(1)
    expect(JSON.parse(readFileSync(tokenCachePath(), 'utf8'))['T1:h:1'].token).toBe('jwt.a.b')
    const unauthorised = (async () => new Response('{}', { status: 401 })) as unknown as typeof fetch
    await expect(resolveToken(config({ team: 'T2' }), { fetchFn: unauthorised })).rejects.toThrow("run 'coflux login'")
  })

  test('logout: one server, or everything', () => {
    saveStudioLogin({ studio_token: 'studio-tok', user_email: 'a@b' })
    saveServerLogin('x:1', 'p', { token: 't' })
    expect(logout({ host: 'x:1', project: 'p' })).toBe('server')
    expect(readCredentials().servers?.['x:1|p']).toBeUndefined()
    expect(readCredentials().studio_token).toBe('studio-tok')
    expect(logout()).toBe('all')
    expect(readCredentials()).toEqual({})
  })
})

describe('pool operations (cli.md §8.10)', () => {
  test('in order, JSON-or-string values, dotted map keys', () => {
    expect(
      applyPoolOps([
        { op: 'set', text: 'concurrency=4' },
        { op: 'set', text: 'adapter=["python3","x.py","--socket","s"]' },
        { op: 'set', text: 'directory=/srv/app' },
        { op: 'set', text: 'env.A=b,c' },
        { op: 'unset', key: 'env.B' },
        { op: 'modules', text: 'app.flows,app.*' },
        { op: 'provides', text: 'gpu:A100;region:eu' },
        { op: 'set', text: 'concurrency=8' },
        { op: 'no-accepts' },
      ]),
    ).toEqual({
      modules: ['app.flows', 'app.*'],
      provides: { gpu: ['A100'], region: ['eu'] },
      accepts: null,
      launcher: { concurrency: 8, adapter: ['python3', 'x.py', '--socket', 's'], directory: '/srv/app', env: { A: 'b,c', B: null } },
    })
  })

  test('errors', () => {
    expect(() => applyPoolOps([{ op: 'set', text: 'nope' }])).toThrow('invalid --set value "nope": must be key=value')
    expect(() => applyPoolOps([{ op: 'set', text: 'colour=red' }])).toThrow('unknown field "colour"')
    expect(() => applyPoolOps([{ op: 'set', text: 'image.x=1' }])).toThrow('unknown field "image.x"')
  })

  test('create body and TOML export', () => {
    expect(poolForCreate('process', applyPoolOps([{ op: 'set', text: 'directory=/x' }]))).toEqual({
      modules: [], provides: {}, accepts: {}, launcher: { type: 'process', directory: '/x' },
    })
    const toml = poolsToToml({
      cpu: {
        modules: ['app'], provides: { gpu: ['A100'] }, accepts: {},
        launcher: { type: 'docker', image: 'img', dockerHost: 'unix:///x', env: { K: 'v' }, concurrency: 4 },
      },
    })
    expect(parseToml(toml)).toEqual({
      cpu: { modules: ['app'], provides: { gpu: ['A100'] }, launcher: { type: 'docker', image: 'img', docker_host: 'unix:///x', env: { K: 'v' }, concurrency: 4 } },
    })
  })
})

describe('asset downloads (cli.md §8.13)', () => {
  const entries = {
    'data.txt': { blobKey: 'a'.repeat(64), size: 3, metadata: {} },
    'plots/x/y.png': { blobKey: 'b'.repeat(64), size: 4, metadata: {} },
  }

  test('globs', () => {
    expect(Object.keys(matchEntries(entries, '*.txt'))).toEqual(['data.txt'])
    expect(Object.keys(matchEntries(entries, 'plots/**'))).toEqual(['plots/x/y.png'])
    expect(Object.keys(matchEntries(entries))).toHaveLength(2)
  })

  test('unsafe paths are refused before anything is written', () => {
    expect(() => planDownload({ ...entries, '../evil': entries['data.txt'] }, dir, false)).toThrow('unsafe')
    expect(() => planDownload({ '/etc/passwd': entries['data.txt'] }, dir, false)).toThrow('unsafe')
    expect(() => planDownload({ 'a/../../b': entries['data.txt'] }, dir, false)).toThrow('unsafe')
  })

  test('existing files need --force; non-files are never overwritten', () => {
    const to = join(dir, 'dl')
    mkdirSync(join(to, 'plots/x/y.png'), { recursive: true })
    writeFileSync(join(to, 'data.txt'), 'old')
    expect(() => planDownload({ 'data.txt': entries['data.txt'] }, to, false)).toThrow('file already exists at path')
    expect(planDownload({ 'data.txt': entries['data.txt'] }, to, true)).toHaveLength(1)
    expect(() => planDownload(entries, to, true)).toThrow('not a file')
    symlinkSync('/nonexistent', join(to, 'link'))
    expect(() => planDownload({ link: entries['data.txt'] }, to, true)).toThrow('not a file')
  })
})

describe('pools import plan (cli.md §8.10)', () => {
  const current = {
    keep: { modules: ['a'], provides: {}, accepts: {}, launcher: { type: 'process' as const, directory: '/x', env: { A: '1', B: '2' } } },
    gone: { modules: ['b'], provides: {}, accepts: {}, launcher: null },
    swap: { modules: ['c'], provides: {}, accepts: {}, launcher: { type: 'docker' as const, image: 'i' } },
  }

  test('the export format round-trips, and the old [pools] format is read', () => {
    expect(parsePoolsToml(poolsToToml(current))).toEqual(current)
    expect(parsePoolsToml('[pools.p]\nmodules = ["m"]\n[pools.p.launcher]\ntype = "docker"\ndocker_host = "h"\nimage = "i"\n')).toEqual({
      p: { modules: ['m'], provides: {}, accepts: {}, launcher: { type: 'docker', dockerHost: 'h', image: 'i' } },
    })
    expect(() => parsePoolsToml('[p]\n[p.launcher]\nimage = 1\n', 'f.toml')).toThrow("'p.launcher' needs a type")
  })

  test('create, update (per-key map diffs), replace, delete; --only limits scope', () => {
    const desired = {
      keep: { modules: ['a', 'z'], provides: { gpu: ['A100'] }, accepts: {}, launcher: { type: 'process' as const, directory: '/x', env: { A: '9', C: '3' } } },
      swap: { modules: ['c'], provides: {}, accepts: {}, launcher: { type: 'process' as const, directory: '/y' } },
      fresh: { modules: ['n'], provides: {}, accepts: {}, launcher: null },
    }
    const changes = planPoolImport(current, desired)
    expect(renderPoolPlan(changes)).toEqual([
      '+ fresh (create)',
      '- gone (delete)',
      '~ keep (update)',
      '    ~ launcher.env.A: "1" -> "9"',
      '    - launcher.env.B: "2"',
      '    + launcher.env.C: "3"',
      '    ~ modules: ["a"] -> ["a","z"]',
      '    + provides: {"gpu":["A100"]}',
      '~ swap (replace — launcher type changed)',
    ])
    expect(summarisePoolChanges(changes)).toBe('Applied: 1 created, 1 updated, 1 replaced, 1 deleted.')
    const only = new Set(['fresh'])
    expect(planPoolImport(current, desired, only).map((c) => c.name)).toEqual(['fresh'])
    expect(Object.keys(poolsAfterImport(current, desired, only)).sort()).toEqual(['fresh', 'gone', 'keep', 'swap'])
    expect(poolsAfterImport(current, desired, only).keep).toBe(current.keep)
    expect(renderPoolPlan(planPoolImport(current, current))).toEqual(['No changes.'])
  })
})
