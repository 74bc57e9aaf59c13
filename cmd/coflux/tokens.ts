import { defineCommand } from 'citty'
import { formatDateTime, listFlag, commandData, renderTable, withContext } from '../../internal/cli-ui/index.ts'
import { connect } from './_shared.ts'

const list = defineCommand({
  meta: { name: 'list', description: 'List active service tokens' },
  async run(ctx) {
    const { client, out } = await connect(ctx)
    const tokens = await withContext('failed to list tokens', client.listTokens())
    out.result(tokens, (t, c) => {
      const now = Date.now() / 1000
      const rows = Object.values(t)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((tok) => [
          tok.externalId,
          tok.name ?? '(unnamed)',
          formatDateTime(tok.createdAt * 1000),
          tok.expiresAt !== null && tok.expiresAt <= now ? 'expired' : 'active',
          tok.workspaces ? tok.workspaces.join(', ') : '(all)',
        ])
      return rows.length ? renderTable(['ID', 'Name', 'Created', 'Status', 'Workspaces'], rows, c) : 'No tokens found.'
    })
  },
})

const create = defineCommand({
  meta: { name: 'create', description: 'Create a service token' },
  args: {
    name: { type: 'string', valueHint: 'NAME', description: 'A name to recognise the token by' },
    workspaces: { type: 'string', valueHint: 'PATTERNS', description: "Workspace patterns (e.g. 'production/*'); default: yours" },
    'expires-in': { type: 'string', valueHint: 'SECONDS', description: 'Lifetime in seconds' },
  },
  async run(ctx) {
    const { client, out } = await connect(ctx)
    const { line } = commandData(ctx)
    const name = ctx.args.name as string | undefined
    const workspaces = ctx.args.workspaces !== undefined ? listFlag(line, 'workspaces') : undefined
    const expiresIn = ctx.args['expires-in'] !== undefined ? Number(ctx.args['expires-in']) : undefined
    const created = await withContext('failed to create token', client.createToken({ name, workspaces, expiresIn }))
    const result = { ...created, name: name ?? null, workspaces: workspaces ?? null }
    out.result(result, () => [
      'Token created successfully.',
      '',
      `Token: ${created.token}`,
      `Workspaces: ${workspaces ? workspaces.join(', ') : '(all)'}`,
      '',
      "Copy this now, it won't be shown again.",
    ])
  },
})

const revoke = defineCommand({
  meta: { name: 'revoke', description: 'Revoke a service token' },
  args: { 'token-id': { type: 'positional', description: 'Token id (external id)' } },
  async run(ctx) {
    const id = ctx.args['token-id'] as string
    const { client, out } = await connect(ctx)
    const tokens = await withContext('failed to list tokens', client.listTokens())
    if (!tokens[id]) throw new Error(`token '${id}' not found`)
    await withContext('failed to revoke token', client.revokeToken(id))
    out.result({ externalId: id, revoked: true }, () => `Token '${id}' has been revoked.`)
  },
})

const approve = defineCommand({
  meta: { name: 'approve', description: 'Approve a pending device login (coflux login)' },
  args: { 'user-code': { type: 'positional', description: 'The code shown by coflux login' } },
  async run(ctx) {
    const code = ctx.args['user-code'] as string
    const { client, out } = await connect(ctx)
    await withContext('failed to approve login', client.approveDevice(code))
    out.result({ approved: true }, () => `Login '${code}' approved.`)
  },
})

/** `coflux tokens …` (cli.md §8.12) */
export default defineCommand({
  meta: { name: 'tokens', description: 'Manage service tokens' },
  subCommands: { list, create, revoke, approve },
})
