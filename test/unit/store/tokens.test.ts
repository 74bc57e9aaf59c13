/** The token store: hashed secrets, external ids, creators, revocation (http-api.md §6.3). */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ID_ALPHABET } from '../../../internal/protocol/ids.ts'
import { isTokenUsable, OrchestrationStore } from '../../../internal/store/index.ts'

let dir: string
let store: OrchestrationStore
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-tokens-'))
  store = new OrchestrationStore(join(dir, 'orchestration.sqlite'))
})
afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

test('create, find by hash, list, revoke', () => {
  const creator = { type: 'user' as const, externalId: 'u-1' }
  const a = store.tokens.create({ tokenHash: 'h1', name: 'ci', workspaces: ['prod/*'], createdBy: creator, expiresAt: 2000 }, 1000)
  const b = store.tokens.create({ tokenHash: 'h2', name: null, workspaces: null, createdBy: null, expiresAt: null }, 1001)
  expect(a).toEqual({ id: a.id, externalId: a.externalId, tokenHash: 'h1', name: 'ci', workspaces: ['prod/*'], createdBy: creator, createdAt: 1000, expiresAt: 2000, revokedAt: null })
  expect(a.externalId).toHaveLength(13)
  expect([...a.externalId].every((ch) => ID_ALPHABET.includes(ch))).toBe(true)
  expect(store.tokens.findByHash('h2')).toEqual(b)
  expect(store.tokens.findByHash('nope')).toBeNull()
  expect(store.tokens.getByExternalId(a.externalId)).toEqual(a)
  // the same creator is one principal row
  store.tokens.create({ tokenHash: 'h3', name: null, workspaces: null, createdBy: creator, expiresAt: null }, 1002)
  expect(store.principals.find(creator)).toBe(store.principals.ensure(creator))

  expect(store.tokens.revoke(a.id, 1500)).toBe(true)
  expect(store.tokens.revoke(a.id, 1600)).toBe(false)
  expect(store.tokens.listUnrevoked().map((t) => t.tokenHash)).toEqual(['h2', 'h3'])
  expect(store.tokens.findByHash('h1')!.revokedAt).toBe(1500)
})

test('usable: not revoked and not past expiry (seconds)', () => {
  const t = store.tokens.create({ tokenHash: 'h', name: null, workspaces: null, createdBy: null, expiresAt: 100 }, 50)
  expect(isTokenUsable(t, 99)).toBe(true)
  expect(isTokenUsable(t, 100)).toBe(false)
  expect(isTokenUsable({ ...t, expiresAt: null, revokedAt: 60 }, 70)).toBe(false)
})
