import { defineCommand, type CommandContext } from 'citty'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  commandData,
  formatDateTime,
  formatTags,
  listFlag,
  renderTable,
  UsageError,
  watchView,
  withContext,
  type Colors,
} from '../../internal/cli-ui/index.ts'
import {
  applyPoolOps,
  poolForCreate,
  poolsToToml,
  type CofluxClient,
  type Pool,
  type PoolOp,
  type PoolTopic,
  type PoolWorker,
} from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

const nameArg = { name: { type: 'positional', description: 'Pool name' } } as const
const fieldArgs = {
  set: { type: 'string', valueHint: 'KEY=VALUE', description: 'Set a field (repeatable; value parsed as JSON when valid)' },
  modules: { type: 'string', valueHint: 'A,B', description: 'Modules the pool serves' },
  provides: { type: 'string', valueHint: 'K:V,…', description: 'Tags the workers provide' },
  accepts: { type: 'string', valueHint: 'K:V,…', description: 'Tags the workers accept' },
} as const

/** The field operations in command-line order (later wins). */
function poolOps(ctx: CommandContext<any>): PoolOp[] {
  const ops: PoolOp[] = []
  for (const { name, value } of commandData(ctx).line.ordered) {
    if (name === 'set') ops.push({ op: 'set', text: String(value) })
    else if (name === 'unset') ops.push({ op: 'unset', key: String(value) })
    else if (name === 'modules') ops.push({ op: 'modules', text: String(value) })
    else if (name === 'provides' || name === 'accepts') ops.push({ op: name, text: String(value) })
    else if ((name === 'no-provides' || name === 'no-accepts') && value === true) ops.push({ op: name })
  }
  return ops
}

async function fetchPool(client: CofluxClient, wsId: string, name: string): Promise<PoolTopic> {
  return withContext(`failed to get pool '${name}'`, client.getPool(wsId, name))
}

const list = defineCommand({
  meta: { name: 'list', description: 'List pools' },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const pools = await withContext('failed to list pools', client.listPools(await workspaceId()))
    out.result(pools, (p, c) => {
      const rows = Object.entries(p)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, pool]) => [
          pool.state === 'disabled' ? `${name} ${c.dim('(disabled)')}` : name,
          pool.launcher?.type ?? '-',
          pool.modules.join(', ') || '-',
          formatTags(pool.provides),
          formatTags(pool.accepts),
        ])
      return rows.length ? renderTable(['Name', 'Launcher', 'Modules', 'Provides', 'Accepts'], rows, c) : 'No pools found.'
    })
  },
})

const get = defineCommand({
  meta: { name: 'get', description: 'Show a pool' },
  args: nameArg,
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const { pool } = await fetchPool(client, await workspaceId(), ctx.args.name as string)
    out.result(pool, renderPool)
  },
})

const LABELS: [string, string][] = [
  ['image', 'Image'], ['directory', 'Directory'], ['dockerHost', 'Docker host'], ['namespace', 'Namespace'],
  ['apiServer', 'API server'], ['serviceAccount', 'Service account'], ['imagePullPolicy', 'Image pull policy'],
  ['serverHost', 'Server host'], ['adapter', 'Adapter'], ['concurrency', 'Concurrency'],
]

function renderPool(pool: Pool): string[] {
  const lines = [
    `Modules: ${pool.modules.join(', ') || '(none)'}`,
    `Provides: ${formatTags(pool.provides)}`,
    `Accepts: ${formatTags(pool.accepts)}`,
    `Launcher: ${pool.launcher?.type ?? '(none)'}`,
  ]
  const l = pool.launcher
  if (l) {
    for (const [key, label] of LABELS) {
      const v = l[key]
      if (v === undefined || v === null) continue
      lines.push(`${label}: ${Array.isArray(v) ? v.join(' ') : String(v)}`)
    }
    if (l.env && typeof l.env === 'object' && Object.keys(l.env).length) {
      lines.push('Environment:', ...Object.entries(l.env).map(([k, v]) => `  ${k}=${String(v)}`))
    }
  }
  return lines
}

const create = defineCommand({
  meta: { name: 'create', description: 'Create a pool' },
  args: { ...nameArg, type: { type: 'enum', options: ['docker', 'process', 'kubernetes'], required: true, description: 'Launcher type' }, ...fieldArgs },
  async run(ctx) {
    const name = ctx.args.name as string
    const body = poolForCreate(ctx.args.type as string, applyPoolOps(poolOps(ctx)))
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId({ autoCreate: true })
    await withContext('failed to create pool', client.createPool(wsId, name, body))
    if (out.isJson) out.json((await fetchPool(client, wsId, name)).pool)
    else out.text(`Created pool '${name}'.`)
  },
})

const update = defineCommand({
  meta: { name: 'update', description: 'Change a pool' },
  args: {
    ...nameArg,
    ...fieldArgs,
    unset: { type: 'string', valueHint: 'KEY', description: 'Remove a field (repeatable)' },
    'no-provides': { type: 'boolean', description: 'Remove provides' },
    'no-accepts': { type: 'boolean', description: 'Remove accepts' },
  },
  async run(ctx) {
    const name = ctx.args.name as string
    const ops = poolOps(ctx)
    if (ops.length === 0) throw new UsageError('no changes specified; use --set, --unset, or convenience flags')
    const patch = applyPoolOps(ops)
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId({ autoCreate: true })
    await withContext('failed to update pool', client.updatePool(wsId, name, patch as Record<string, unknown>))
    if (out.isJson) out.json((await fetchPool(client, wsId, name)).pool)
    else out.text(`Updated pool '${name}'.`)
  },
})

const del = defineCommand({
  meta: { name: 'delete', description: 'Delete a pool' },
  args: nameArg,
  async run(ctx) {
    const name = ctx.args.name as string
    const { client, out, workspaceId } = await connect(ctx)
    await withContext('failed to delete pool', client.updatePool(await workspaceId(), name, null))
    out.result({ pool: name, deleted: true }, () => `Deleted pool '${name}'.`)
  },
})

function toggle(which: 'enable' | 'disable') {
  return defineCommand({
    meta: { name: which, description: which === 'enable' ? 'Enable a pool' : 'Disable a pool (drains its workers)' },
    args: nameArg,
    async run(ctx) {
      const name = ctx.args.name as string
      const { client, out, workspaceId } = await connect(ctx)
      const wsId = await workspaceId()
      const call = which === 'enable' ? client.enablePool : client.disablePool
      await withContext(`failed to ${which} pool`, call.call(client, wsId, name))
      const state = which === 'enable' ? 'active' : 'disabled'
      out.result({ pool: name, state }, () => `${which === 'enable' ? 'Enabled' : 'Disabled'} pool '${name}'.`)
    },
  })
}

const launches = defineCommand({
  meta: { name: 'launches', description: 'Workers launched by a pool' },
  args: {
    pool: { type: 'positional', description: 'Pool name' },
    'worker-id': { type: 'positional', required: false, description: 'One worker' },
    watch: { type: 'boolean', description: 'Keep the view updated (TTY only)' },
  },
  async run(ctx) {
    const name = ctx.args.pool as string
    const workerId = ctx.args['worker-id'] as string | undefined
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    const fetch = async () => {
      const topic = await client.getPool(wsId, name).catch((err) => {
        if ((err as { code?: string }).code === 'not_found') throw new Error(`pool '${name}' not found`)
        throw err
      })
      if (workerId === undefined) return topic.workers
      const w = topic.workers[workerId]
      if (!w) throw new Error(`worker '${workerId}' not found`)
      return w
    }
    await watchView(out, {
      watch: ctx.args.watch === true,
      fetch: fetch as () => Promise<Record<string, PoolWorker> | PoolWorker>,
      render: (data, c) => (workerId === undefined ? renderLaunches(data as Record<string, PoolWorker>, c) : renderWorker(workerId, data as PoolWorker)),
    })
  },
})

function workerStatus(w: PoolWorker): string {
  if (w.error || w.startError) return `Failed: ${w.error ?? w.startError}`
  if (w.stoppedAt) return 'Stopped'
  if (w.stoppingAt) return 'Stopping'
  if (w.connected) return 'Running'
  if (w.startedAt) return 'Started'
  return 'Starting'
}

function renderLaunches(workers: Record<string, PoolWorker>, c: Colors): string[] | string {
  const entries = Object.entries(workers).sort(([, a], [, b]) => (b.startingAt ?? 0) - (a.startingAt ?? 0))
  if (entries.length === 0) return 'No launches.'
  return entries.map(([id, w]) => `${c.dim(w.startingAt ? formatDateTime(w.startingAt) : '-')}  ${id}  ${workerStatus(w)}`)
}

function renderWorker(id: string, w: PoolWorker): string[] {
  const at = (v: number | null) => (v ? formatDateTime(v) : '-')
  const lines = [
    `Worker: ${id}`,
    `Status: ${workerStatus(w)}`,
    `State: ${w.state}`,
    `Session: ${w.sessionId ?? '-'}`,
    `Executions: ${w.executions}`,
    `Starting: ${at(w.startingAt)}`,
    `Started: ${at(w.startedAt)}`,
    `Stopping: ${at(w.stoppingAt)}`,
    `Stopped: ${at(w.stoppedAt)}`,
  ]
  if (w.logs) lines.push('Logs:', ...w.logs.split('\n').map((l) => `  ${l}`))
  return lines
}

const exportCommand = defineCommand({
  meta: { name: 'export', description: 'Export pool configuration as TOML' },
  args: {
    to: { type: 'string', valueHint: 'FILE', description: 'Write to this file instead of stdout' },
    only: { type: 'string', valueHint: 'A,B', description: 'Only these pools' },
  },
  async run(ctx) {
    const { client, out, io, line, workspaceId, outputFile } = await connect(ctx, { outputFileCompat: true })
    if (outputFile !== undefined) io.stderr.write('Note: -o/--output FILE is deprecated here; use --to FILE\n')
    const to = (ctx.args.to as string | undefined) ?? outputFile
    const { pools } = await withContext('failed to get pools', client.getPools(await workspaceId()))
    const only = ctx.args.only !== undefined ? new Set(listFlag(line, 'only')) : undefined
    const selected = only ? Object.fromEntries(Object.entries(pools).filter(([n]) => only.has(n))) : pools
    if (out.isJson) return out.json(selected)
    const toml = poolsToToml(selected)
    if (to === undefined) return out.text(toml)
    writeFileSync(resolve(io.cwd, to), toml)
    io.stderr.write(`Exported ${Object.keys(selected).length} pool(s) to ${to}\n`)
  },
})

/** `coflux pools …` (cli.md §8.10). TODO(pools import): declarative import is not built yet. */
export default defineCommand({
  meta: { name: 'pools', description: 'Manage worker pools' },
  subCommands: {
    list,
    get,
    launches,
    create,
    update,
    delete: del,
    disable: toggle('disable'),
    enable: toggle('enable'),
    export: exportCommand,
  },
})
