/**
 * Read scoping of topics (http-api.md §16.1): workspace topics are 403 outside the caller's
 * patterns, assets are not found outside their workspaces, tokens are listed per creator.
 */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { submitWorkflow } from '../../../internal/orchestrator/index.ts'
import { ApiError } from '../../../internal/protocol/errors.ts'
import type { Access } from '../../../internal/server/auth.ts'
import { silentLogger } from '../../../internal/server/logger.ts'
import { Project } from '../../../internal/server/project.ts'
import { topicValue } from '../../../internal/server/topics/index.ts'
import { workflowSubmission } from '../support/submission.ts'

let dir: string
let project: Project
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-scoping-'))
  project = new Project('acme', dir, silentLogger)
})
afterEach(() => {
  project.close()
  rmSync(dir, { recursive: true, force: true })
})

const prodOnly: Access = { type: 'service', workspaces: ['prod/*'], principal: { type: 'token', externalId: 'tokA' } }
const everyone: Access = { type: 'super', workspaces: ['*'] }

function statusOf(fn: () => unknown): number | 'ok' {
  try {
    return fn() === null ? 404 : 'ok'
  } catch (err) {
    if (err instanceof ApiError) return err.status
    throw err
  }
}

function assetIn(workspaceName: string): string {
  const ws = project.store.workspaces.create(workspaceName, null, Date.now())
  const run = submitWorkflow(project.orchestrator, workflowSubmission(ws.id))
  const exec = project.orchestrator.executionByExternalId(run.executionId)!
  const entries = { [`${workspaceName}.txt`]: { blobKey: 'a'.repeat(64), size: 1, metadata: {} } }
  return project.store.assets.put(workspaceName, entries, exec.id, Date.now()).externalId
}

test('workspace topics: 403 outside the caller patterns', () => {
  const prod = project.store.workspaces.create('prod/a', null, Date.now())
  const dev = project.store.workspaces.create('dev', null, Date.now())
  expect(statusOf(() => topicValue(project, prodOnly, ['workspaces', prod.externalId, 'queue']))).toBe('ok')
  for (const kind of [['queue'], ['manifests'], ['modules'], ['sessions'], ['pools'], ['inputs'], ['runs', 'Rxyz'], ['workflows', 'm', 't']]) {
    expect(statusOf(() => topicValue(project, prodOnly, ['workspaces', dev.externalId, ...kind]))).toBe(403)
  }
  expect(Object.keys(topicValue(project, prodOnly, ['workspaces']) as object)).toEqual([prod.externalId])
})

test('assets: not found outside the workspaces that produced or used them', () => {
  const prodAsset = assetIn('prod/a')
  const devAsset = assetIn('dev')
  expect(topicValue(project, prodOnly, ['asset', prodAsset])).toMatchObject({ name: 'prod/a' })
  expect(topicValue(project, prodOnly, ['asset', devAsset])).toBeNull()
  expect(topicValue(project, everyone, ['asset', devAsset])).toMatchObject({ name: 'dev' })
})

test('tokens: all-workspace callers see every token, others their own', () => {
  const now = Math.floor(Date.now() / 1000)
  const mine = project.store.tokens.create({ tokenHash: 'h1', name: 'mine', workspaces: ['prod/x/*'], createdBy: prodOnly.principal!, expiresAt: null }, now)
  const theirs = project.store.tokens.create({ tokenHash: 'h2', name: 'theirs', workspaces: null, createdBy: null, expiresAt: now + 60 }, now)
  const revoked = project.store.tokens.create({ tokenHash: 'h3', name: 'old', workspaces: null, createdBy: null, expiresAt: null }, now)
  project.store.tokens.revoke(revoked.id, now)
  expect(topicValue(project, everyone, ['tokens'])).toEqual({
    [mine.externalId]: { id: mine.id, externalId: mine.externalId, name: 'mine', workspaces: ['prod/x/*'], createdAt: now, expiresAt: null, createdBy: prodOnly.principal },
    [theirs.externalId]: { id: theirs.id, externalId: theirs.externalId, name: 'theirs', workspaces: null, createdAt: now, expiresAt: now + 60, createdBy: null },
  })
  expect(Object.keys(topicValue(project, prodOnly, ['tokens']) as object)).toEqual([mine.externalId])
  const session: Access = { type: 'session', workspaces: ['prod/a'], sessionId: 1 }
  expect(topicValue(project, session, ['tokens'])).toEqual({})
  expect(topicValue(null, everyone, ['tokens'])).toEqual({})
})
