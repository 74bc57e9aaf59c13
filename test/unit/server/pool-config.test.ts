/**
 * Pool objects (http-api.md §9.3): validation, `update_pool` patch semantics, and secrets that
 * are stored encrypted and shown as "<redacted>" (§16.6).
 */
import { describe, expect, test } from 'bun:test'
import { FieldErrors, parsePool, type PoolContext } from '../../../internal/server/pools/config.ts'
import { draftOf, REDACTED, samePool, Sealed, sealPool, type PoolDraft, type Sealer } from '../../../internal/server/pools/draft.ts'
import { mergePoolPatch } from '../../../internal/server/pools/patch.ts'
import { etagMatches, getPoolsView, poolsEtag, poolTopicView } from '../../../internal/server/pools/view.ts'
import { ApiError } from '../../../internal/protocol/errors.ts'
import type { PoolConfig, PoolRecord } from '../../../internal/store/index.ts'

/** Reversible and visibly different from plaintext; the real one is AES-GCM (secrets.test.ts). */
const sealer: Sealer = { encrypt: (p) => `enc(${p})`, decrypt: (c) => c.slice(4, -1) }
const ALL: PoolContext = { allowedTypes: ['docker', 'process', 'kubernetes'], current: null }

function parse(raw: unknown, ctx: PoolContext = ALL): { draft?: PoolDraft; details: Record<string, string> } {
  const errors = new FieldErrors()
  const draft = parsePool(raw, 'pool', ctx, errors)
  return { draft: errors.isEmpty ? draft : undefined, details: errors.details }
}

function record(config: PoolConfig, name = 'cpu'): PoolRecord {
  return { ...config, id: 1, externalId: 'Pbcd', workspaceId: 1, name, disabled: false, createdAt: 0, updatedAt: 0, deletedAt: null }
}

const processPool = {
  modules: ['app.flows', 'app.*'],
  provides: { gpu: ['A100'] },
  launcher: { type: 'process', directory: '/srv/app', adapter: ['python3', '-m', 'coflux'], concurrency: 4, env: { MY_VAR: 'hello' }, secretEnv: { API_KEY: 's3cret' } },
}

describe('validation', () => {
  test('the request form of http-api.md §9.3 becomes a draft; tags normalised, absent lists empty', () => {
    const { draft } = parse(processPool)
    expect(draft).toEqual({
      modules: ['app.flows', 'app.*'],
      provides: { gpu: ['A100'] },
      accepts: {},
      launcher: { type: 'process', directory: '/srv/app', adapter: ['python3', '-m', 'coflux'], concurrency: 4, env: { MY_VAR: 'hello' }, secretEnv: { API_KEY: 's3cret' } },
    })
    expect(parse({}).draft).toEqual({ modules: [], provides: {}, accepts: {}, launcher: null })
  })

  test('a launcher type the server does not enable is not_allowed; an unknown one invalid', () => {
    expect(parse(processPool, { ...ALL, allowedTypes: ['docker'] }).details).toEqual({ 'pool.launcher.type': 'not_allowed' })
    expect(parse({ launcher: { type: 'lambda' } }).details).toEqual({ 'pool.launcher.type': 'invalid' })
    expect(parse({ launcher: {} }).details).toEqual({ 'pool.launcher.type': 'required' })
  })

  test('every problem is listed with its dotted path', () => {
    const { details } = parse({
      modules: ['ok', 'a..b', '9x'],
      provides: { 'bad key!': 'x' },
      launcher: { type: 'process', concurrency: 0, adapter: [], env: { COFLUX_HOST: 'x' }, serverSecure: 'yes' },
    })
    expect(details).toEqual({
      'pool.modules.1': 'invalid',
      'pool.modules.2': 'invalid',
      'pool.provides': 'invalid',
      'pool.launcher.directory': 'required',
      'pool.launcher.concurrency': 'invalid',
      'pool.launcher.adapter': 'invalid',
      'pool.launcher.env.COFLUX_HOST': 'invalid',
      'pool.launcher.serverSecure': 'invalid',
    })
    expect(parse(null).details).toEqual({ pool: 'required' })
  })

  test('per type: docker and kubernetes need an image; fields of other types are dropped', () => {
    expect(parse({ launcher: { type: 'docker' } }).details).toEqual({ 'pool.launcher.image': 'required' })
    expect(parse({ launcher: { type: 'docker', image: 'app:1', directory: '/ignored' } }).draft?.launcher).toEqual({ type: 'docker', image: 'app:1' })
    const k8s = parse({ launcher: { type: 'kubernetes', image: 'app:1', imagePullPolicy: 'Sometimes', activeDeadlineSeconds: 0, labels: { a: 1 } } })
    expect(k8s.details).toEqual({
      'pool.launcher.imagePullPolicy': 'invalid',
      'pool.launcher.activeDeadlineSeconds': 'invalid',
      'pool.launcher.labels.a': 'invalid',
    })
  })

  test('"<redacted>" keeps the stored secret, and is refused when there is none', () => {
    expect(parse({ launcher: { type: 'process', directory: '/x', secretEnv: { K: REDACTED } } }).details).toEqual({
      'pool.launcher.secretEnv.K': 'invalid',
    })
    const current = draftOf(sealPool(parse(processPool).draft!, sealer))
    const again = parse({ ...processPool, launcher: { ...processPool.launcher, secretEnv: { API_KEY: REDACTED } } }, { ...ALL, current }).draft!
    expect(again.launcher!.secretEnv).toEqual({ API_KEY: new Sealed('enc(s3cret)') })
  })
})

describe('update_pool patches', () => {
  const current = draftOf(sealPool(parse(processPool).draft!, sealer))
  const patched = (patch: Record<string, unknown>) => {
    const errors = new FieldErrors()
    const draft = parsePool(mergePoolPatch(current, patch), 'pool', { ...ALL, current }, errors)
    if (!errors.isEmpty) throw new Error(JSON.stringify(errors.details))
    return draft!
  }

  test('an empty patch changes nothing', () => {
    expect(samePool(current, patched({}), sealer)).toBe(true)
  })

  test('modules/provides/accepts are replaced; null unsets them', () => {
    const p = patched({ modules: ['other'], provides: null, accepts: { region: 'eu' } })
    expect(p.modules).toEqual(['other'])
    expect(p.provides).toEqual({})
    expect(p.accepts).toEqual({ region: ['eu'] })
    expect(p.launcher).toEqual(current.launcher)
  })

  test('launcher fields patch one by one; null removes a field', () => {
    const p = patched({ launcher: { concurrency: 8, adapter: null } })
    expect(p.launcher).toMatchObject({ type: 'process', directory: '/srv/app', concurrency: 8 })
    expect(p.launcher!.adapter).toBeUndefined()
  })

  test('env merges per key, a null value removing that key; secretEnv too, "<redacted>" kept', () => {
    const p = patched({ launcher: { env: { MY_VAR: null, OTHER: 'x' }, secretEnv: { API_KEY: REDACTED, NEW: 'n' } } })
    expect(p.launcher!.env).toEqual({ OTHER: 'x' })
    expect(p.launcher!.secretEnv).toEqual({ API_KEY: new Sealed('enc(s3cret)'), NEW: 'n' })
    expect(sealPool(p, sealer).launcher!.secretEnv).toEqual({ API_KEY: 'enc(s3cret)', NEW: 'enc(n)' })
  })

  test('launcher: null removes the launcher', () => {
    expect(patched({ launcher: null }).launcher).toBeNull()
  })

  test('another type is a 409 type_change; the same type is fine', () => {
    expect(() => mergePoolPatch(current, { launcher: { type: 'docker', image: 'x' } })).toThrow(ApiError)
    try {
      mergePoolPatch(current, { launcher: { type: 'docker' } })
    } catch (err) {
      expect((err as ApiError).status).toBe(409)
      expect((err as ApiError).code).toBe('type_change')
    }
    expect(patched({ launcher: { type: 'process' } }).launcher!.type).toBe('process')
  })

  test('a patch is validated like a new pool', () => {
    const errors = new FieldErrors()
    parsePool(mergePoolPatch(current, { launcher: { directory: null } }), 'pool', { ...ALL, current }, errors)
    expect(errors.details).toEqual({ 'pool.launcher.directory': 'required' })
  })

  test('a secret sent again in plaintext is the same pool; a new value is a change', () => {
    expect(samePool(current, patched({ launcher: { secretEnv: { API_KEY: 's3cret' } } }), sealer)).toBe(true)
    expect(samePool(current, patched({ launcher: { secretEnv: { API_KEY: 'rotated' } } }), sealer)).toBe(false)
  })
})

describe('redaction and ETag', () => {
  const stored = sealPool(
    parse({ launcher: { type: 'kubernetes', image: 'app:1', token: 'tok', env: { A: 'plain' }, secretEnv: { B: 'hidden' } } }).draft!,
    sealer,
  )

  test('secrets are stored sealed and shown as "<redacted>"; plain env stays readable', () => {
    expect(stored.launcher).toMatchObject({ token: 'enc(tok)', secretEnv: { B: 'enc(hidden)' } })
    const shown = poolTopicView(record(stored))
    expect(shown).toEqual({
      modules: [],
      provides: {},
      accepts: {},
      launcher: { type: 'kubernetes', image: 'app:1', token: REDACTED, env: { A: 'plain' }, secretEnv: { B: REDACTED } },
      state: 'active',
    })
    expect(JSON.stringify(shown)).not.toContain('hidden')
  })

  test('get_pools omits empty provides/accepts and an absent launcher', () => {
    expect(getPoolsView(record({ modules: ['m'], provides: {}, accepts: {}, launcher: null }))).toEqual({ modules: ['m'] })
    expect(getPoolsView(record(stored)).launcher).toMatchObject({ token: REDACTED })
  })

  test('the ETag follows the stored configuration, secrets included; If-Match quotes are optional', () => {
    const a = poolsEtag([record(stored)])
    expect(a).toMatch(/^"[0-9a-f]{32}"$/)
    expect(poolsEtag([record(stored)])).toBe(a)
    const rotated = { ...stored, launcher: { ...stored.launcher!, token: 'enc(other)' } }
    expect(poolsEtag([record(rotated)])).not.toBe(a)
    expect(etagMatches(a, a)).toBe(true)
    expect(etagMatches(a.slice(1, -1), a)).toBe(true)
    expect(etagMatches('"nope"', a)).toBe(false)
  })
})
