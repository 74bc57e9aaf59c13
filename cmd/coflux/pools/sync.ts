import { defineCommand } from 'citty'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { confirm, ContextError, ExitError, listFlag, rootCause, UsageError, withContext } from '../../../internal/cli-ui/index.ts'
import {
  parsePoolsToml,
  planPoolImport,
  poolsAfterImport,
  poolsToToml,
  renderPoolPlan,
  summarisePoolChanges,
} from '../../../internal/client/index.ts'
import { connect } from '../_shared.ts'

export const exportCommand = defineCommand({
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

export const importCommand = defineCommand({
  meta: { name: 'import', description: 'Make the pools match a TOML file (creates, updates, deletes)' },
  args: {
    file: { type: 'positional', required: false, description: 'TOML file (default: stdin)' },
    'dry-run': { type: 'boolean', description: 'Show the plan only' },
    yes: { type: 'boolean', description: 'Apply without asking' },
    only: { type: 'string', valueHint: 'A,B', description: 'Only these pools (others are kept as they are)' },
  },
  async run(ctx) {
    const a = ctx.args
    const file = a.file as string | undefined
    const conn = await connect(ctx)
    const { client, out, io, line } = conn
    if (file === undefined && !a.yes && !a['dry-run']) {
      throw new UsageError('reading pools from stdin needs --yes or --dry-run')
    }
    const text = file === undefined ? await Bun.stdin.text() : readFileSync(resolve(io.cwd, file), 'utf8')
    const desired = parsePoolsToml(text, file ?? 'stdin')
    const only = a.only !== undefined ? new Set(listFlag(line, 'only')) : undefined
    const wsId = await conn.workspaceId({ autoCreate: true })
    const { pools: current, etag } = await withContext('failed to get pools', client.getPools(wsId))
    const changes = planPoolImport(current, desired, only)
    const result = (applied: boolean) => ({ changes: changes.map(({ name, action }) => ({ name, action })), applied })
    if (!out.isJson) out.text(renderPoolPlan(changes))
    if (changes.length === 0 || a['dry-run']) {
      if (out.isJson) out.json(result(false))
      return
    }
    if (!a.yes) {
      if (!out.isInteractive) throw new UsageError('not a terminal: pass --yes to apply, or --dry-run')
      if (!(await confirm('Apply these changes?'))) {
        out.note('Nothing applied.')
        if (out.isJson) out.json(result(false))
        throw new ExitError(1)
      }
    }
    try {
      await client.updatePools(wsId, poolsAfterImport(current, desired, only) as Record<string, unknown>, etag)
    } catch (err) {
      if ((rootCause(err) as { status?: number }).status === 412) {
        throw new Error('pool configuration has changed since plan was generated, re-run to see updated plan')
      }
      throw new ContextError('failed to update pools', err)
    }
    if (out.isJson) out.json(result(true))
    else out.text(summarisePoolChanges(changes))
  },
})

