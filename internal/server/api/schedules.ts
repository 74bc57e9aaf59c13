/**
 * Schedules (our improvement, issue 11): `create_schedule`, `pause_schedule`, `resume_schedule`
 * and `delete_schedule`; the list is the `workspaces/<ws>/schedules` topic. Schedules declared
 * by a decorator come with the manifest (`parseScheduleSpec` checks both forms).
 */
import type { Hono } from 'hono'
import { validator } from 'hono/validator'
import { CronError, CronSchedule } from '../../orchestrator/index.ts'
import { ApiError, notFound } from '../../protocol/errors.ts'
import { SCHEDULE_CATCH_UP, SCHEDULE_OVERLAP, type ScheduleSpec } from '../../protocol/schedules.ts'
import { convertCliArgument } from '../../protocol/values.ts'
import type { ScheduleRecord, WorkspaceRecord } from '../../store/index.ts'
import { jsonResponse, noContent, requireProject, workspaceFor, type AppContext, type AppEnv, type ServerContext } from '../context.ts'
import type { Project } from '../project.ts'
import { scheduleEntry } from '../topics/schedules.ts'
import { bodyReader, Fields, MODULE_NAME, TARGET_NAME, type JsonBody } from './body.ts'

export function registerScheduleRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  const readBody = bodyReader(server)

  /** The project, and the schedule of the body's workspace (404 for one of another workspace). */
  const existing = (c: AppContext, body: { workspaceId: unknown; scheduleId: string }): { project: Project; schedule: ScheduleRecord } => {
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, body.workspaceId)
    const schedule = project.store.schedules.getByExternalId(body.scheduleId)
    if (!schedule || schedule.workspaceId !== ws.id) throw notFound()
    return { project, schedule }
  }

  app.post('/api/create_schedule', readBody, validator('json', parseCreateSchedule), async (c) => {
    const { workspaceId, module, target, spec } = c.req.valid('json')
    const project = requireProject(c, server)
    const ws = workspaceFor(c, project, workspaceId)
    checkArguments(project, ws, module, target, spec.arguments.length)
    const principal = c.get('access').principal
    const record = project.orchestrator.schedules.create({
      workspaceId: ws.id,
      module,
      target,
      cron: spec.cron,
      timezone: spec.timezone,
      arguments: spec.arguments.map((a) => a[1]),
      catchUp: spec.catchUp,
      overlap: spec.overlap,
      createdBy: principal ? project.store.principals.ensure(principal) : null,
    })
    return jsonResponse(scheduleEntry(project, record))
  })

  app.post('/api/pause_schedule', readBody, validator('json', parseScheduleRef), async (c) => {
    const { project, schedule } = existing(c, c.req.valid('json'))
    return jsonResponse(scheduleEntry(project, project.orchestrator.schedules.pause(schedule)))
  })

  app.post('/api/resume_schedule', readBody, validator('json', parseScheduleRef), async (c) => {
    const { project, schedule } = existing(c, c.req.valid('json'))
    return jsonResponse(scheduleEntry(project, project.orchestrator.schedules.resume(schedule)))
  })

  app.post('/api/delete_schedule', readBody, validator('json', parseScheduleRef), async (c) => {
    const { project, schedule } = existing(c, c.req.valid('json'))
    if (schedule.source === 'manifest') {
      throw new ApiError(
        409,
        'declared_by_manifest',
        `schedule ${schedule.externalId} is declared by ${schedule.module}/${schedule.target}: remove its schedule= and register again, or pause it`,
      )
    }
    project.orchestrator.schedules.remove(schedule)
    return noContent()
  })
}

/** The workflow must be registered, and the arguments fill its parameters that have no default. */
function checkArguments(project: Project, ws: WorkspaceRecord, module: string, target: string, count: number): void {
  const manifest = project.store.manifests.get(ws.id, module, target)
  if (!manifest) throw new ApiError(404, 'not_found', `workflow ${module}/${target} is not registered in this workspace`)
  const required = manifest.parameters.filter((p) => p.default === undefined).length
  if (count < required || count > manifest.parameters.length) {
    const names = manifest.parameters.map((p) => (p.default === undefined ? p.name : `${p.name}?`)).join(', ')
    throw new ApiError(400, 'bad_request', `${module}/${target} takes ${names ? `(${names})` : 'no arguments'}: ${count} given`, {
      arguments: 'invalid',
    })
  }
}

function parseCreateSchedule(body: JsonBody): { workspaceId: unknown; module: string; target: string; spec: ScheduleSpec } {
  const v = new Fields(body)
  if (!v.has('workspaceId')) v.fail('workspaceId', 'required')
  const module = v.string('module', { required: true, pattern: MODULE_NAME, max: 100 })
  const target = v.string('target', { required: true, pattern: TARGET_NAME, max: 100 })
  const spec = parseScheduleSpec(v, '', body)
  v.finish()
  return { workspaceId: body.workspaceId, module: module!, target: target!, spec: spec! }
}

function parseScheduleRef(body: JsonBody): { workspaceId: unknown; scheduleId: string } {
  const v = new Fields(body)
  const scheduleId = v.string('scheduleId', { required: true, max: 100 })
  v.finish()
  return { workspaceId: body.workspaceId, scheduleId: scheduleId! }
}

/**
 * A schedule's fields (`cron`, `timezone`, `arguments`, `catchUp`, `overlap`) under `prefix`,
 * defaults filled in. Bad fields are recorded in `v`; a cron or time zone croner rejects throws
 * at once, with croner's reason as the message (`Invalid value for minute: 61`).
 */
export function parseScheduleSpec(v: Fields, prefix: string, raw: Record<string, unknown>): ScheduleSpec | undefined {
  const field = (name: string) => `${prefix}${name}`
  const cron = raw.cron
  if (typeof cron !== 'string' || cron.length > 200) return v.fail(field('cron'), cron === undefined ? 'required' : 'invalid')
  const timezone = raw.timezone ?? 'UTC'
  if (typeof timezone !== 'string' || timezone.length > 100) return v.fail(field('timezone'), 'invalid')
  const catchUp = raw.catchUp ?? 'once'
  if (!SCHEDULE_CATCH_UP.includes(catchUp as never)) return v.fail(field('catchUp'), 'invalid')
  const overlap = raw.overlap ?? 'allow'
  if (!SCHEDULE_OVERLAP.includes(overlap as never)) return v.fail(field('overlap'), 'invalid')
  const args = raw.arguments ?? []
  if (!Array.isArray(args) || args.length > 20) return v.fail(field('arguments'), 'invalid')
  for (const [i, arg] of args.entries()) {
    if (!Array.isArray(arg) || arg.length !== 2 || arg[0] !== 'json' || typeof arg[1] !== 'string') return v.fail(field(`arguments.${i}`), 'invalid')
    try {
      convertCliArgument(arg[1])
    } catch {
      return v.fail(field(`arguments.${i}`), 'not_json')
    }
  }
  let parsed: CronSchedule
  try {
    parsed = CronSchedule.parse(cron, timezone)
  } catch (err) {
    if (!(err instanceof CronError)) throw err
    const bad = err.message.startsWith('unknown time zone') ? field('timezone') : field('cron')
    throw new ApiError(400, 'bad_request', err.message, { ...v.details, [bad]: 'invalid' })
  }
  return {
    cron: parsed.expression,
    timezone: parsed.timezone,
    arguments: args as ['json', string][],
    catchUp: catchUp as ScheduleSpec['catchUp'],
    overlap: overlap as ScheduleSpec['overlap'],
  }
}
