/** What coflux.toml may contain (cli.md §5.2): key → type, or a nested table. */
export type KeyType = 'string' | 'bool' | 'int' | 'float' | 'list' | 'stores'
export interface TableSchema {
  [key: string]: KeyType | TableSchema
}

const batch: TableSchema = { type: 'string', url: 'string', token: 'string', batch_size: 'int', flush_interval: 'float' }

export const CONFIG_SCHEMA: TableSchema = {
  host: 'string',
  project: 'string',
  token: 'string',
  secure: 'bool',
  workspace: 'string',
  team: 'string',
  log_level: 'string',
  output: 'string',
  /** older docs: alias of worker.modules */
  modules: 'list',
  server: {
    port: 'int',
    data_dir: 'string',
    database_url: 'string',
    image: 'string',
    project: 'string',
    public_host: 'string',
    auth: 'bool',
    super_token: 'string',
    super_token_hash: 'string',
    secret: 'string',
    studio_teams: 'list',
    studio_url: 'string',
    allow_origins: 'list',
    launcher_types: 'list',
    bind: 'string',
    cli_path: 'string',
    max_body_bytes: 'int',
    max_blob_bytes: 'int',
    blobs_url: 'string',
    epochs: { retention_days: 'float' },
  },
  worker: { adapter: 'list', modules: 'list', concurrency: 'int', max_waiting: 'int', provides: 'list', accepts: 'list' },
  blobs: { threshold: 'int', stores: 'stores' },
  logs: batch,
  metrics: batch,
}

export const BLOB_STORE_KEYS = ['type', 'url', 'token', 'bucket', 'prefix', 'region'] as const

/** Keys settable from the environment as `COFLUX_<KEY>` (`[[blobs.stores]]` is file-only). */
export function envName(path: string[]): string {
  return 'COFLUX_' + path.join('_').toUpperCase()
}

/** Edit distance counting an adjacent transposition as one edit, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** The closest of `candidates` to `key`, when close enough to be a plausible typo. */
export function suggest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? best : undefined
}
