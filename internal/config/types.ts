/**
 * The resolved configuration: flags > COFLUX_* env > coflux.toml > defaults (cli.md §5).
 * Commands and the worker receive one frozen `Config`; nothing reads the environment later.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type OutputFormat = 'text' | 'json'

export interface BlobStoreConfig {
  type: 'http' | 's3'
  /** http: absent = this server's `/blobs` (reached through the ApiClient, so `*.localhost` works) */
  url?: string
  /** http: absent = the command's token (the session token for `worker`) */
  token?: string
  bucket?: string
  prefix?: string
  region?: string
}

export interface BatchConfig {
  /** only `http` exists */
  type: string
  /** absent = this server's `/logs` or `/metrics` */
  url?: string
  /** absent = the session token */
  token?: string
  batchSize: number
  /** seconds */
  flushInterval: number
}

export interface WorkerConfig {
  /** argv prefix; empty = auto-detect */
  adapter: string[]
  modules: string[]
  /** executions running at once */
  concurrency: number
  /**
   * executions blocked in a wait (`result()`, `select`, an input) at once, counted apart from
   * `concurrency`; absent = twice the concurrency in effect (see `workerLimits`)
   */
  maxWaiting?: number
  /** `key:value` items (a bare key means `key:true`) */
  provides: string[]
  accepts: string[]
}

export interface Config {
  /** host[:port] without scheme, or several joined by `,` (no spaces) to fail over between */
  host: string
  secure: boolean
  project?: string
  token?: string
  team?: string
  workspace: string
  logLevel: LogLevel
  output: OutputFormat
  /** false with `--no-color` or a non-empty NO_COLOR; the per-stream decision is cli-ui's */
  color: boolean
  /** Studio base URL (`COFLUX_STUDIO_URL`) */
  studioUrl: string
  /** absolute path of the config file that was read, if any */
  configPath?: string
  worker: WorkerConfig
  blobs: { threshold: number; stores: BlobStoreConfig[] }
  logs: BatchConfig
  metrics: BatchConfig
  /**
   * The raw `[server]` table from the file (type-checked, unknown keys warned). `coflux server`
   * applies its own flags and environment on top (http-api.md §2.2).
   */
  server: Record<string, unknown>
}
