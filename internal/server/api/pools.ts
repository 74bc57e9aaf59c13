/** Pool and worker endpoints (http-api.md §9.3). */
import type { Hono } from 'hono'
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
  readJsonObject,
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

export function registerPoolRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const box = secretBoxFor(server.settings)
  const ctx = (current: PoolDraft | null) => ({ allowedTypes: server.settings.launcherTypes, current })

  /** Validated body fields, the project (created: these are writes) and the workspace. */
  const target = async (c: AppContext, check: (body: Record<string, unknown>, errors: FieldErrors) => void) => {
    const body = await readJsonObject(c, server)
    const errors = new FieldErrors()
    check(body, errors)
    if (!errors.isEmpty) throw badRequest(errors.details)
    const project = requireProject(c, server)
    return { body, project, ws: workspaceFor(c, project, body.workspaceId) }
  }

  const existingPool = (project: Project, ws: WorkspaceRecord, name: unknown): PoolRecord => {
    const pool = project.store.pools.getByName(ws.id, name as string)
    if (!pool) throw notFound()
    return pool
  }

  app.post('/api/create_pool', async (c) => {
    let draft: PoolDraft | undefined
    const { body, project, ws } = await target(c, (b, errors) => {
      poolName(b.poolName, errors)
      draft = parsePool(b.pool, 'pool', ctx(null), errors)
    })
    if (project.store.pools.getByName(ws.id, body.poolName as string)) throw new ApiError(409, 'already_exists', 'a pool with this name exists')
    createPool(project.orchestrator, ws.id, body.poolName as string, sealPool(draft!, box))
    return noContent()
  })

  app.post('/api/update_pool', async (c) => {
    const { body, project, ws } = await target(c, (b, errors) => {
      poolName(b.poolName, errors)
      if (b.pool === undefined) errors.fail('pool', 'required')
      else if (b.pool !== null && !isPlainObject(b.pool)) errors.fail('pool', 'invalid')
    })
    const pool = existingPool(project, ws, body.poolName)
    if (body.pool === null) {
      deletePool(project.orchestrator, pool)
      return noContent()
    }
    const current = draftOf(pool)
    const errors = new FieldErrors()
    const next = parsePool(mergePoolPatch(current, body.pool as Record<string, unknown>), 'pool', ctx(current), errors)
    if (!errors.isEmpty || !next) throw badRequest(errors.details)
    if (!samePool(current, next, box)) updatePool(project.orchestrator, pool, sealPool(next, box))
    return noContent()
  })

  for (const [path, disabled] of [['/api/disable_pool', true], ['/api/enable_pool', false]] as const) {
    app.post(path, async (c) => {
      const { body, project, ws } = await target(c, (b, errors) => poolName(b.poolName, errors))
      setPoolDisabled(project.orchestrator, existingPool(project, ws, body.poolName), disabled)
      return noContent()
    })
  }

  app.post('/api/get_pools', async (c) => {
    const body = await readJsonObject(c, server)
    const project = projectOf(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const pools = project!.store.pools.list(ws.id)
    return jsonResponse(Object.fromEntries(pools.map((p) => [p.name, getPoolsView(p)])), 200, { etag: poolsEtag(pools) })
  })

  app.post('/api/update_pools', async (c) => {
    const { body, project, ws } = await target(c, (b, errors) => {
      if (!isPlainObject(b.pools)) errors.fail('pools', b.pools === undefined || b.pools === null ? 'required' : 'invalid')
    })
    const currentPools = project.store.pools.list(ws.id)
    const ifMatch = c.req.header('if-match')
    if (ifMatch && !etagMatches(ifMatch, poolsEtag(currentPools))) {
      throw new ApiError(412, 'conflict', 'Pool configuration has changed', { message: 'Pool configuration has changed' })
    }
    const byName = new Map(currentPools.map((p) => [p.name, p]))
    const errors = new FieldErrors()
    const desired = new Map<string, PoolConfig>()
    for (const [name, raw] of Object.entries(body.pools as Record<string, unknown>)) {
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

  const workerRoute = (path: string, apply: typeof stopPoolWorker) =>
    app.post(path, async (c) => {
      const { body, project, ws } = await target(c, (b, errors) => {
        if (b.workerId === undefined || b.workerId === null) errors.fail('workerId', 'required')
        else if (typeof b.workerId !== 'string') errors.fail('workerId', 'invalid')
      })
      const worker = project.store.workers.getByExternalId(body.workerId as string)
      if (!worker || project.store.pools.get(worker.poolId)?.workspaceId !== ws.id) throw notFound()
      apply(project.orchestrator, worker)
      return noContent()
    })
  workerRoute('/api/stop_worker', stopPoolWorker)
  workerRoute('/api/resume_worker', resumePoolWorker)
}

function poolName(value: unknown, errors: FieldErrors): void {
  if (value === undefined || value === null) errors.fail('poolName', 'required')
  else if (typeof value !== 'string' || !POOL_NAME.test(value)) errors.fail('poolName', 'invalid')
}

function configOf(pool: PoolRecord): PoolConfig {
  return { modules: pool.modules, provides: pool.provides, accepts: pool.accepts, launcher: pool.launcher }
}
