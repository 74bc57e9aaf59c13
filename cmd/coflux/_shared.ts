/**
 * Arg definitions shared by commands, and `connect`: config → client → output in one call.
 * The root command owns the global flags; cli-ui's parser accepts them anywhere on the line,
 * so commands don't need to spread them (help lists them once, under "Global flags").
 */
import type { ArgsDef, CommandContext } from 'citty'
import { commandEnv, type CommandEnv } from '../../internal/cli-ui/index.ts'
import { BlobStores, createClient, resolveWorkspaceId, type CofluxClient } from '../../internal/client/index.ts'
import { parseJson, type Json } from '../../internal/protocol/json.ts'

export const globalArgs = {
  config: { type: 'string', alias: 'c', valueHint: 'PATH', description: 'Configuration file (default: ./coflux.toml)' },
  host: { type: 'string', valueHint: 'HOST[:PORT][,…]', description: 'Server address, or several separated by commas to fail over between (default: localhost:7777)' },
  project: { type: 'string', valueHint: 'ID', description: 'Project (sent as X-Project)' },
  token: { type: 'string', valueHint: 'TOKEN', description: 'Bearer token' },
  team: { type: 'string', alias: 't', valueHint: 'ID', description: 'Studio team for token exchange' },
  workspace: { type: 'string', alias: 'w', valueHint: 'NAME', description: 'Workspace (default: default)' },
  'log-level': { type: 'string', valueHint: 'LEVEL', description: 'debug, info, warn or error (default: info)' },
  output: { type: 'string', alias: 'o', valueHint: 'FORMAT', description: 'text or json (default: text)' },
  'no-color': { type: 'boolean', description: 'Disable colour' },
} as const satisfies ArgsDef

export const noWaitArgs = {
  'no-wait': { type: 'boolean', description: 'Return immediately instead of waiting' },
} as const satisfies ArgsDef

export interface Connected extends CommandEnv {
  client: CofluxClient
  /** the configured workspace's id (cli.md §5.9); `autoCreate` for worker/submit/register/pools */
  workspaceId(options?: { autoCreate?: boolean }): Promise<string>
}

/**
 * @example
 * const { client, out, workspaceId } = await connect(ctx)
 */
export async function connect(ctx: CommandContext<any>, options: { outputFileCompat?: boolean } = {}): Promise<Connected> {
  const env = commandEnv(ctx, options)
  const client = await createClient(env.config)
  let cached: Promise<string> | undefined
  return {
    ...env,
    client,
    workspaceId: (o) => (cached ??= resolveWorkspaceId(client, env.config.workspace, o)),
  }
}

/** Positional values of a command (everything after the command words). */
export function positionals(ctx: CommandContext<any>): string[] {
  return (ctx.args._ as string[] | undefined) ?? []
}

/** A blob value's JSON content through the configured blob stores; undefined when it is not there. */
export function blobJsonLoader({ client, config }: Connected): (key: string) => Promise<Json | undefined> {
  return async (key) => {
    const bytes = await new BlobStores(client, { stores: [...config.blobs.stores], token: client.address.token }).get(key)
    return bytes ? parseJson(new TextDecoder().decode(bytes)) : undefined
  }
}
