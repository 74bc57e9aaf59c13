/**
 * The resolved configuration: flags > COFLUX_* env > coflux.toml > defaults (cli.md §5).
 * Commands and the worker receive one frozen `Config`; nothing reads the environment later.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type OutputFormat = 'text' | 'json'

export interface BlobStoreConfig {
  type: 'http' | 's3'
  url?: string
  token?: string
  bucket?: string
  prefix?: string
  region?: string
}

export interface BatchConfig {
  url?: string
  token?: string
  batchSize: number
  /** seconds */
  flushInterval: number
}

export interface WorkerConfig {
  /** argv prefix; empty = auto-detect */
  adapter: string[]
  modules: string[]
  concurrency: number
  /** `key:value` items (a bare key means `key:true`) */
  provides: string[]
  accepts: string[]
}

export interface Config {
  /** host[:port] without scheme */
  host: string
  secure: boolean
  project?: string
  token?: string
  team?: string
  workspace: string
  logLevel: LogLevel
  output: OutputFormat
  color: boolean
  /** path of the config file that was read, if any */
  configPath?: string
  worker: WorkerConfig
  blobs: { threshold: number; stores: BlobStoreConfig[] }
  logs: BatchConfig
  metrics: BatchConfig
  /** the raw `[server]` table, read by `coflux server` (http-api.md §2.1) */
  server: Record<string, unknown>
}
