import { defineCommand } from 'citty'
import { formatDateTime, renderTable, UsageError, variadic, withContext, type Colors } from '../../internal/cli-ui/index.ts'
import {
  jsonArguments,
  parseTargetSpec,
  SCHEDULE_CATCH_UP,
  SCHEDULE_OVERLAP,
  type ScheduleEntry,
  type SchedulesTopic,
} from '../../internal/client/index.ts'
import { connect, positionals } from './_shared.ts'

const list = defineCommand({
  meta: { name: 'list', description: 'List schedules: their cron in words, next and last fire' },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    out.result(await withContext('failed to list schedules', client.listSchedules(wsId)), renderSchedules)
  },
})

const create = defineCommand({
  meta: { name: 'create', description: 'Start a workflow on a cron schedule' },
  args: {
    target: { type: 'positional', description: 'Workflow as module/target' },
    arguments: variadic({ type: 'positional', required: false, description: 'Arguments, each a JSON text' }),
    cron: { type: 'string', valueHint: 'CRON', description: "Five fields or a macro, quoted: '0 6 * * 1-5', '@daily'" },
    timezone: { type: 'string', valueHint: 'ZONE', description: 'IANA time zone the cron is read in (default: UTC)' },
    'catch-up': { type: 'string', valueHint: 'POLICY', description: 'Due times missed while the server was down: once (default) or skip' },
    overlap: { type: 'string', valueHint: 'POLICY', description: 'While the previous run is active: allow (default), skip or cancel' },
  },
  async run(ctx) {
    const a = ctx.args as Record<string, string | undefined>
    const [spec, ...texts] = positionals(ctx)
    if (a.cron === undefined) throw new UsageError("--cron is required (e.g. --cron '0 6 * * 1-5')")
    const catchUp = oneOf('--catch-up', SCHEDULE_CATCH_UP, a['catch-up'])
    const overlap = oneOf('--overlap', SCHEDULE_OVERLAP, a.overlap)
    const { module, target } = parseTargetSpec(spec!)
    const args = jsonArguments(texts)
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId({ autoCreate: true })
    const request = { workspaceId: wsId, module, target, cron: a.cron, timezone: a.timezone, arguments: args, catchUp, overlap }
    const created = await withContext('failed to create schedule', client.createSchedule(request))
    out.result(created, () => `Schedule ${created.id} created: ${describe(created)}; next at ${next(created)}.`)
  },
})

const scheduleId = { type: 'positional', description: 'Schedule id (from schedules list)' } as const

const pause = defineCommand({
  meta: { name: 'pause', description: 'Stop starting runs until resumed' },
  args: { id: scheduleId },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const paused = await withContext('failed to pause schedule', client.pauseSchedule(await workspaceId(), ctx.args.id as string))
    out.result(paused, () => `Schedule ${paused.id} paused.`)
  },
})

const resume = defineCommand({
  meta: { name: 'resume', description: 'Start runs again from the next due time' },
  args: { id: scheduleId },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const resumed = await withContext('failed to resume schedule', client.resumeSchedule(await workspaceId(), ctx.args.id as string))
    out.result(resumed, () => `Schedule ${resumed.id} resumed; next at ${next(resumed)}.`)
  },
})

const remove = defineCommand({
  meta: { name: 'delete', description: 'Delete a schedule made with schedules create' },
  args: { id: scheduleId },
  async run(ctx) {
    const id = ctx.args.id as string
    const { client, out, workspaceId } = await connect(ctx)
    await withContext('failed to delete schedule', client.deleteSchedule(await workspaceId(), id))
    out.result({ id, deleted: true }, () => `Schedule ${id} deleted.`)
  },
})

/** `coflux schedules …` (ours, issue 11) */
export default defineCommand({
  meta: { name: 'schedules', description: 'Manage workflow schedules' },
  subCommands: { list, create, pause, resume, delete: remove },
})

function oneOf<T extends string>(flag: string, allowed: readonly T[], value: string | undefined): T | undefined {
  if (value === undefined || allowed.includes(value as T)) return value as T | undefined
  throw new UsageError(`invalid value for ${flag}: "${value}" (expected ${allowed.join(' or ')})`)
}

function describe(s: ScheduleEntry): string {
  return `${s.module}/${s.target}, ${s.description} (${s.timezone})`
}

function next(s: ScheduleEntry): string {
  return s.nextFireAt === null ? '-' : formatDateTime(s.nextFireAt)
}

function renderSchedules(schedules: SchedulesTopic, c: Colors): string[] | string {
  const entries = Object.values(schedules)
  if (entries.length === 0) return 'No schedules.'
  const rows = entries.map((s) => [
    s.id,
    `${s.module}/${s.target}`,
    `${s.cron} ${c.dim(`(${s.description})`)}`,
    s.timezone,
    s.paused ? c.yellow('paused') : next(s),
    s.lastFire ? `${formatDateTime(s.lastFire.dueAt)} ${s.lastFire.runId ?? s.lastFire.outcome}` : '-',
    s.source === 'manifest' ? 'decorator' : 'cli',
  ])
  return renderTable(['ID', 'Workflow', 'Cron', 'Zone', 'Next', 'Last', 'From'], rows, c)
}
