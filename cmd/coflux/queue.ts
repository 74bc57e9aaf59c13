import { defineCommand } from 'citty'
import { formatTags, renderTable, watchView, withContext, type Colors } from '../../internal/cli-ui/index.ts'
import type { QueueEntry } from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

/** `coflux queue [--no-watch]` (cli.md §8.16): unfinished executions and why each waits. */
export default defineCommand({
  meta: { name: 'queue', description: 'Show unfinished executions and why they wait' },
  args: { 'no-watch': { type: 'boolean', description: 'Print one snapshot and exit' } },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    const fetch = () => withContext('failed to get queue', client.getQueue(wsId))
    await watchView(out, { watch: ctx.args['no-watch'] !== true, fetch, render: renderQueue })
  },
})

const STATUS_COLOR: Record<string, keyof Colors> = {
  assigned: 'blue',
  ready: 'green',
  delayed: 'dim',
  waiting: 'dim',
  launching: 'cyan',
  paused: 'yellow',
  no_session: 'red',
  no_match: 'red',
  at_capacity: 'yellow',
}

/** Higher priority first, then oldest first. */
function renderQueue(queue: Record<string, QueueEntry>, c: Colors): string[] | string {
  const entries = Object.entries(queue).sort(([, a], [, b]) => b.priority - a.priority || a.createdAt - b.createdAt)
  if (entries.length === 0) return 'Queue is empty.'
  const rows = entries.map(([id, e]) => {
    const paint = (c[STATUS_COLOR[e.status] ?? 'dim'] as (s: string) => string) ?? c.dim
    return [id, `${e.module}/${e.target}`, String(e.priority), formatTags(e.requires), e.dependencies.join(', ') || '-', `${paint('●')} ${e.reason || e.status}`]
  })
  return renderTable(['Execution', 'Target', 'Priority', 'Requires', 'Dependencies', 'Status'], rows, c)
}
