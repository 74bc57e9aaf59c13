import type { Config } from '../config/types.ts'
import { CofluxClient } from './coflux-client.ts'
import { resolveToken } from './credentials.ts'

/**
 * A client for the configured server with the resolved credentials (cli.md §5.5–§5.8).
 *
 * @example
 * const client = await createClient(config)
 * const runs = await client.getRun(workspaceId, 'RwD6')
 */
export async function createClient(config: Config, options: { session?: string } = {}): Promise<CofluxClient> {
  const token = await resolveToken(config, options)
  return new CofluxClient({ host: config.host, secure: config.secure, project: config.project, token })
}
