import { defineCommand } from 'citty'
import { formatTags, renderTable, watchView, withContext, type Colors } from '../../internal/cli-ui/index.ts'
import type { SessionEntry } from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

const list = defineCommand({
  meta: { name: 'list', description: 'List worker sessions' },
  args: { watch: { type: 'boolean', description: 'Keep the view updated (TTY only)' } },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    const fetch = () => withContext('failed to get sessions', client.getSessions(wsId))
    await watchView(out, { watch: ctx.args.watch === true, fetch, render: renderSessions })
  },
})

function renderSessions(sessions: Record<string, SessionEntry>, c: Colors): string[] | string {
  const entries = Object.entries(sessions)
  if (entries.length === 0) return 'No active sessions.'
  const rows = entries.map(([id, s]) => {
    const targets = Object.entries(s.targets)
      .map(([m, names]) => `${m}(${names.length})`)
      .join(' ')
    const load = [`${s.executing}/${s.concurrency}`, `${s.waiting}/${s.maxWaiting}`]
    const row = [id, s.poolName ?? '-', targets || '-', formatTags(s.provides), ...load]
    return s.connected ? row : row.map((cell) => c.dim(cell))
  })
  // a waiting execution holds no slot: running and waiting are bounded apart
  return renderTable(['Session', 'Pool', 'Targets', 'Provides', 'Executing', 'Waiting'], rows, c)
}

/** `coflux sessions list [--watch]` (cli.md §8.11) */
export default defineCommand({
  meta: { name: 'sessions', description: 'Inspect worker sessions' },
  subCommands: { list },
})
