/**
 * Pools as responses show them (http-api.md §9.3, §11.3): secrets replaced by `"<redacted>"`
 * (§16.6), and the `get_pools` ETag that `update_pools` checks with `If-Match`.
 */
import type { LauncherConfig, Pool } from '../../protocol/api.ts'
import type { PoolRecord } from '../../store/index.ts'
import { mapSecrets, REDACTED, stableJson } from './draft.ts'

export function redactLauncher(launcher: LauncherConfig | null): LauncherConfig | null {
  return launcher ? (mapSecrets(launcher, () => REDACTED) as LauncherConfig) : null
}

/** The `workspaces/<ws>/pools` entry and the `pool` of `workspaces/<ws>/pools/<name>`. */
export function poolTopicView(pool: PoolRecord): Pool {
  return {
    modules: pool.modules,
    provides: pool.provides,
    accepts: pool.accepts,
    launcher: redactLauncher(pool.launcher),
    state: pool.disabled ? 'disabled' : 'active',
  }
}

/** A `get_pools` entry: `provides`/`accepts` only when non-empty, `launcher` only when set. */
type GetPoolsEntry = Pick<Pool, 'modules'> & Partial<Pick<Pool, 'provides' | 'accepts' | 'launcher'>>

/** The `get_pools` entry of a pool (http-api.md §9.3). */
export function getPoolsView(pool: PoolRecord): GetPoolsEntry {
  const out: GetPoolsEntry = { modules: pool.modules }
  if (Object.keys(pool.provides).length > 0) out.provides = pool.provides
  if (Object.keys(pool.accepts).length > 0) out.accepts = pool.accepts
  if (pool.launcher) out.launcher = redactLauncher(pool.launcher)
  return out
}

/**
 * A hash of the stored configurations (ciphertext included, so a changed secret changes it,
 * although the redacted view does not), quoted as an ETag.
 */
export function poolsEtag(pools: PoolRecord[]): string {
  const state = pools
    .map((p) => [p.name, p.modules, p.provides, p.accepts, p.launcher])
    .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))
  return `"${new Bun.CryptoHasher('sha256').update(stableJson(state)).digest('hex').slice(0, 32)}"`
}

/** `If-Match` values compare without quotes (they are optional, http-api.md §9.3). */
export function etagMatches(header: string, etag: string): boolean {
  const strip = (v: string) => v.trim().replace(/^W\//, '').replace(/^"|"$/g, '')
  return header.trim() === '*' || strip(header) === strip(etag)
}
