/** Pieces shared by the `pools` subcommands. */
import type { CommandContext } from 'citty'
import { commandData, withContext } from '../../../internal/cli-ui/index.ts'
import type { CofluxClient, PoolOp, PoolTopic } from '../../../internal/client/index.ts'

export const nameArg = { name: { type: 'positional', description: 'Pool name' } } as const
export const fieldArgs = {
  set: { type: 'string', valueHint: 'KEY=VALUE', description: 'Set a field (repeatable; value parsed as JSON when valid)' },
  modules: { type: 'string', valueHint: 'A,B', description: 'Modules the pool serves' },
  provides: { type: 'string', valueHint: 'K:V,…', description: 'Tags the workers provide' },
  accepts: { type: 'string', valueHint: 'K:V,…', description: 'Tags the workers accept' },
} as const

/** The field operations in command-line order (later wins). */
export function poolOps(ctx: CommandContext<any>): PoolOp[] {
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

export async function fetchPool(client: CofluxClient, wsId: string, name: string): Promise<PoolTopic> {
  return withContext(`failed to get pool '${name}'`, client.getPool(wsId, name))
}

