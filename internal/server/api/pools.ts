/** Pool and worker endpoints (http-api.md §9.3). */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import {
  createPool,
  deletePool,
  replacePools,
  resumePoolWorker,
  setPoolDisabled,
  stopPoolWorker,
  updatePool,
} from '../../orchestrator/index.ts'
import { ApiError, badRequest, notFound } from '../../protocol/errors.ts'
import type { PoolConfig, PoolRecord, WorkspaceRecord } from '../../store/index.ts'
import {
  jsonResponse,
  noContent,
  projectOf,
  requireProject,
  workspaceFor,
  type AppContext,
  type AppEnv,
  type ServerContext,
} from '../context.ts'
import type { Project } from '../project.ts'
import { FieldErrors, parsePool, POOL_NAME } from '../pools/config.ts'
import { draftOf, isPlainObject, samePool, sealPool, stableJson, type PoolDraft } from '../pools/draft.ts'
import { mergePoolPatch } from '../pools/patch.ts'
import { etagMatches, getPoolsView, poolsEtag } from '../pools/view.ts'
import { secretBoxFor } from '../secrets.ts'
import { bodyReader, parseWorkspaceRef, type JsonBody } from './body.ts'

export function registerPoolRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const box = secretBoxFor(server.settings)
  const ctx = (current: PoolDraft | null) => ({ allowedTypes: server.settings.launcherTypes, current })

  const readBody = bodyReader(server)

  /** A body parser for `validator('json', …)`: `check` records problems; any makes one 400. */
  const body = <T>(check: (b: JsonBody, errors: FieldErrors) => T) => (b: JsonBody): T & { workspaceId: unknown } => {
    const errors = new FieldErrors()
    const out = check(b, errors)
    if (!errors.isEmpty) throw badRequest(errors.details)
    return { ...out, workspaceId: b.workspaceId }
  }
  /** The project (created: these are writes) and the body's workspace. */
  const target = (c: AppContext, workspaceId: unknown) => {
    const project = requireProject(c, server)
    return { project, ws: workspaceFor(c, project, workspaceId) }
  }

  const existingPool = (project: Project, ws: WorkspaceRecord, name: string): PoolRecord => {
    const pool = project.store.pools.getByName(ws.id, name)
    if (!pool) throw notFound()
    return pool
  }

  const parseCreatePool = body((b, errors) => ({ poolName: poolName(b.poolName, errors)!, draft: parsePool(b.pool, 'pool', ctx(null), errors)! }))
  app.post('/api/create_pool', readBody, validator('json', parseCreatePool), async (c) => {
    const { workspaceId, poolName, draft } = c.req.valid('json')
    const { project, ws } = target(c, workspaceId)
    if (project.store.pools.getByName(ws.id, poolName)) throw new ApiError(409, 'already_exists', 'a pool with this name exists')
    createPool(project.orchestrator, ws.id, poolName, sealPool(draft, box))
    return noContent()
  })

  const parseUpdatePool = body((b, errors) => {
    if (b.pool === undefined) errors.fail('pool', 'required')
    else if (b.pool !== null && !isPlainObject(b.pool)) errors.fail('pool', 'invalid')
    return { poolName: poolName(b.poolName, errors)!, pool: b.pool as Record<string, unknown> | null }
  })
  app.post('/api/update_pool', readBody, validator('json', parseUpdatePool), async (c) => {
    const body = c.req.valid('json')
    const { project, ws } = target(c, body.workspaceId)
    const pool = existingPool(project, ws, body.poolName)
    if (body.pool === null) {
      deletePool(project.orchestrator, pool)
      return noContent()
    }
    const current = draftOf(pool)
    const errors = new FieldErrors()
    const next = parsePool(mergePoolPatch(current, body.pool), 'pool', ctx(current), errors)
    if (!errors.isEmpty || !next) throw badRequest(errors.details)
    if (!samePool(current, next, box)) updatePool(project.orchestrator, pool, sealPool(next, box))
    return noContent()
  })

  const parsePoolRef = body((b, errors) => ({ poolName: poolName(b.poolName, errors)! }))
  for (const [path, disabled] of [['/api/disable_pool', true], ['/api/enable_pool', false]] as const) {
    app.post(path, readBody, validator('json', parsePoolRef), async (c) => {
      const body = c.req.valid('json')
      const { project, ws } = target(c, body.workspaceId)
      setPoolDisabled(project.orchestrator, existingPool(project, ws, body.poolName), disabled)
      return noContent()
    })
  }

  app.post('/api/get_pools', readBody, validator('json', parseWorkspaceRef), async (c) => {
    const body = c.req.valid('json')
    const project = projectOf(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const pools = project!.store.pools.list(ws.id)
    return jsonResponse(Object.fromEntries(pools.map((p) => [p.name, getPoolsView(p)])), 200, { etag: poolsEtag(pools) })
  })

  const parseUpdatePools = body((b, errors) => {
    if (!isPlainObject(b.pools)) errors.fail('pools', b.pools === undefined || b.pools === null ? 'required' : 'invalid')
    return { pools: b.pools as Record<string, unknown> }
  })
  app.post('/api/update_pools', readBody, validator('json', parseUpdatePools), async (c) => {
    const body = c.req.valid('json')
    const { project, ws } = target(c, body.workspaceId)
    const currentPools = project.store.pools.list(ws.id)
    const ifMatch = c.req.header('if-match')
    if (ifMatch && !etagMatches(ifMatch, poolsEtag(currentPools))) {
      throw new ApiError(412, 'conflict', 'Pool configuration has changed', { message: 'Pool configuration has changed' })
    }
    const byName = new Map(currentPools.map((p) => [p.name, p]))
    const errors = new FieldErrors()
    const desired = new Map<string, PoolConfig>()
    for (const [name, raw] of Object.entries(body.pools)) {
      if (!POOL_NAME.test(name)) {
        errors.fail(`pools.${name}`, 'invalid')
        continue
      }
      const stored = byName.get(name)
      const current = stored ? draftOf(stored) : null
      const next = parsePool(raw, `pools.${name}`, ctx(current), errors)
      if (!next) continue
      // an unchanged pool keeps its stored form, so its workers are left alone
      desired.set(name, stored && current && samePool(current, next, box) ? configOf(stored) : sealPool(next, box))
    }
    if (!errors.isEmpty) throw badRequest(errors.details)
    replacePools(project.orchestrator, ws.id, desired, (current, next) => stableJson(configOf(current)) === stableJson(next))
    return noContent()
  })

  const parseWorkerRef = body((b, errors) => {
    if (b.workerId === undefined || b.workerId === null) errors.fail('workerId', 'required')
    else if (typeof b.workerId !== 'string') errors.fail('workerId', 'invalid')
    return { workerId: b.workerId as string }
  })
  const workerRoute = (path: string, apply: typeof stopPoolWorker) =>
    app.post(path, readBody, validator('json', parseWorkerRef), async (c) => {
      const body = c.req.valid('json')
      const { project, ws } = target(c, body.workspaceId)
      const worker = project.store.workers.getByExternalId(body.workerId)
      if (!worker || project.store.pools.get(worker.poolId)?.workspaceId !== ws.id) throw notFound()
      apply(project.orchestrator, worker)
      return noContent()
    })
  workerRoute('/api/stop_worker', stopPoolWorker)
  workerRoute('/api/resume_worker', resumePoolWorker)
}

function poolName(value: unknown, errors: FieldErrors): string | undefined {
  if (value === undefined || value === null) return errors.fail('poolName', 'required')
  if (typeof value !== 'string' || !POOL_NAME.test(value)) return errors.fail('poolName', 'invalid')
  return value
}

function configOf(pool: PoolRecord): PoolConfig {
  return { modules: pool.modules, provides: pool.provides, accepts: pool.accepts, launcher: pool.launcher }
}
