import { defineCommand } from 'citty'
import { formatDateTime, formatTags, renderTable, watchView, withContext, type Colors } from '../../../internal/cli-ui/index.ts'
import type { Pool, PoolWorker } from '../../../internal/client/index.ts'
import { connect } from '../_shared.ts'
import { fetchPool, nameArg } from './_shared.ts'

export const list = defineCommand({
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

export const get = defineCommand({
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

export const launches = defineCommand({
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

