/** The workflow topic's `configuration` (http-api.md §11.3), read from the registered manifest. */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildManifest } from '../../../internal/adapter/index.ts'
import type { WorkflowTopic } from '../../../internal/protocol/api.ts'
import type { Access } from '../../../internal/server/auth.ts'
import { silentLogger } from '../../../internal/server/logger.ts'
import { Project } from '../../../internal/server/project.ts'
import { topicValue } from '../../../internal/server/topics/index.ts'

let dir: string
let project: Project
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-workflow-topic-'))
  project = new Project('acme', dir, silentLogger)
})
afterEach(() => {
  project.close()
  rmSync(dir, { recursive: true, force: true })
})

const everyone: Access = { type: 'super', workspaces: ['*'] }

function configurationOf(workspaceId: string, target: string): WorkflowTopic['configuration'] {
  return (topicValue(project, everyone, ['workspaces', workspaceId, 'workflows', 'app', target]) as WorkflowTopic).configuration
}

test('resumes: as registered, 0 kept, null when unset', () => {
  const ws = project.store.workspaces.create('w', null, Date.now())
  const manifest = (name: string, resumes?: number) => buildManifest({ module: 'app', name, type: 'workflow', parameters: [], resumes })
  project.store.manifests.replace(ws.id, { app: { five: manifest('five', 5), never: manifest('never', 0), unset: manifest('unset') } }, Date.now())
  expect(configurationOf(ws.externalId, 'five')!.resumes).toBe(5)
  expect(configurationOf(ws.externalId, 'never')!.resumes).toBe(0)
  expect(configurationOf(ws.externalId, 'unset')!.resumes).toBeNull()
})

test('resumes: null for a manifest stored before the field existed', () => {
  const ws = project.store.workspaces.create('w', null, Date.now())
  const { resumes: _, ...legacy } = buildManifest({ module: 'app', name: 'old', type: 'workflow', parameters: [] })
  project.store.manifests.replace(ws.id, { app: { old: legacy as never } }, Date.now())
  expect(configurationOf(ws.externalId, 'old')).toMatchObject({ resumes: null, timeout: 0 })
})

test('priority and concurrency: as registered (the key as its template), null when unset or stored before they existed', () => {
  const ws = project.store.workspaces.create('w', null, Date.now())
  const urgent = buildManifest({ module: 'app', name: 'urgent', type: 'workflow', parameters: [{ name: 'customer_id' }], priority: 7, concurrency: { limit: 2, key: '{customer_id}' } })
  const lowest = buildManifest({ module: 'app', name: 'lowest', type: 'workflow', parameters: [], priority: -1, concurrency: { limit: 1, key: null } })
  const { priority: _p, concurrency: _c, ...legacy } = buildManifest({ module: 'app', name: 'old', type: 'workflow', parameters: [] })
  project.store.manifests.replace(ws.id, { app: { urgent, lowest, old: legacy as never } }, Date.now())
  expect(configurationOf(ws.externalId, 'urgent')).toMatchObject({ priority: 7, concurrency: { limit: 2, key: '{customer_id}' } })
  expect(configurationOf(ws.externalId, 'lowest')).toMatchObject({ priority: -1, concurrency: { limit: 1, key: null } })
  expect(configurationOf(ws.externalId, 'old')).toMatchObject({ priority: null, concurrency: null })
})
