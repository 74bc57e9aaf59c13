import { defineCommand } from 'citty'
import { renderTable, UsageError, withContext } from '../../internal/cli-ui/index.ts'
import { findWorkspaceId, type WorkspaceSummary } from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

const list = defineCommand({
  meta: { name: 'list', description: 'List workspaces' },
  args: { all: { type: 'boolean', description: 'Include archived workspaces' } },
  async run(ctx) {
    const { client, out } = await connect(ctx)
    const all = await withContext('failed to list workspaces', client.listWorkspaces())
    out.result(all, (ws, c) => {
      const rows = Object.values(ws)
        .filter((w) => ctx.args.all || w.state !== 'archived')
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((w) => [w.name, (w.baseId && ws[w.baseId]?.name) || '(None)', w.state])
      return rows.length ? renderTable(['Name', 'Base', 'State'], rows, c) : 'No workspaces found.'
    })
  },
})

const create = defineCommand({
  meta: { name: 'create', description: 'Create a workspace' },
  args: {
    name: { type: 'positional', description: 'Workspace name' },
    base: { type: 'string', valueHint: 'NAME', description: 'Base workspace' },
  },
  async run(ctx) {
    const name = ctx.args.name as string
    const { client, out } = await connect(ctx)
    const baseId = ctx.args.base ? await baseIdFor(await client.listWorkspaces(), ctx.args.base as string) : null
    const { id } = await withContext('failed to create workspace', client.createWorkspace(name, baseId ?? undefined))
    out.result({ id, name, baseId }, () => `Created workspace '${name}'.`)
  },
})

const update = defineCommand({
  meta: { name: 'update', description: 'Rename the workspace or change its base' },
  args: {
    name: { type: 'string', valueHint: 'NAME', description: 'New name' },
    base: { type: 'string', valueHint: 'NAME', description: 'New base workspace' },
    'no-base': { type: 'boolean', description: 'Remove the base' },
  },
  async run(ctx) {
    const a = ctx.args
    if (a.base !== undefined && a['no-base']) throw new UsageError('--base and --no-base cannot be used together')
    if (a.name === undefined && a.base === undefined && !a['no-base']) {
      throw new UsageError('nothing to update; pass --name, --base or --no-base')
    }
    const { client, out, config, workspaceId } = await connect(ctx)
    const id = await workspaceId()
    const all = await client.listWorkspaces()
    const changes: { name?: string; baseId?: string | null } = {}
    if (a.name !== undefined) changes.name = a.name as string
    if (a.base !== undefined) changes.baseId = baseIdFor(all, a.base as string)
    if (a['no-base']) changes.baseId = null
    await withContext('failed to update workspace', client.updateWorkspace(id, changes))
    const name = changes.name ?? config.workspace
    const baseId = 'baseId' in changes ? changes.baseId! : (all[id]?.baseId ?? null)
    out.result({ id, name, baseId }, () => `Updated workspace '${name}'.`)
  },
})

function stateCommand(name: 'archive' | 'pause' | 'resume', description: string) {
  const state = { archive: 'archived', pause: 'paused', resume: 'active' } as const
  const done = { archive: 'Archived', pause: 'Paused', resume: 'Resumed' } as const
  return defineCommand({
    meta: { name, description },
    async run(ctx) {
      const { client, out, config, workspaceId } = await connect(ctx)
      const id = await workspaceId()
      const call = { archive: client.archiveWorkspace, pause: client.pauseWorkspace, resume: client.resumeWorkspace }[name]
      await withContext(`failed to ${name} workspace`, call.call(client, id))
      out.result({ id, name: config.workspace, state: state[name] }, () => `${done[name]} workspace '${config.workspace}'.`)
    },
  })
}

function baseIdFor(all: Record<string, WorkspaceSummary>, name: string): string {
  const id = findWorkspaceId(all, name)
  if (!id) throw new Error(`base workspace not found: ${name}`)
  return id
}

/** `coflux workspaces …` (cli.md §8.8): all but list/create act on the configured workspace. */
export default defineCommand({
  meta: { name: 'workspaces', description: 'Manage workspaces' },
  subCommands: {
    list,
    create,
    update,
    archive: stateCommand('archive', 'Archive the workspace'),
    pause: stateCommand('pause', 'Pause the workspace (nothing is dispatched)'),
    resume: stateCommand('resume', 'Resume the workspace'),
  },
})
