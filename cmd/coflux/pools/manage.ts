import { defineCommand } from 'citty'
import { UsageError, withContext } from '../../../internal/cli-ui/index.ts'
import { applyPoolOps, LAUNCHER_TYPES, poolForCreate } from '../../../internal/client/index.ts'
import { connect } from '../_shared.ts'
import { fetchPool, fieldArgs, nameArg, poolOps } from './_shared.ts'

export const create = defineCommand({
  meta: { name: 'create', description: 'Create a pool' },
  args: { ...nameArg, type: { type: 'enum', options: [...LAUNCHER_TYPES], required: true, description: 'Launcher type' }, ...fieldArgs },
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

export const update = defineCommand({
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

export const del = defineCommand({
  meta: { name: 'delete', description: 'Delete a pool' },
  args: nameArg,
  async run(ctx) {
    const name = ctx.args.name as string
    const { client, out, workspaceId } = await connect(ctx)
    await withContext('failed to delete pool', client.updatePool(await workspaceId(), name, null))
    out.result({ pool: name, deleted: true }, () => `Deleted pool '${name}'.`)
  },
})

export function toggle(which: 'enable' | 'disable') {
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

