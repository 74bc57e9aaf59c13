import { existsSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve as resolvePath } from 'node:path'
import { parseHostList } from './hosts.ts'
import { parseToml, TomlError, type TomlTable, type TomlValue } from './toml.ts'
import { BLOB_STORE_KEYS, CONFIG_SCHEMA, envName, suggest, type KeyType, type TableSchema } from './schema.ts'
import type { BatchConfig, BlobStoreConfig, Config, LogLevel, OutputFormat, WorkerConfig } from './types.ts'
import { parseBoolean, parseInteger, splitList } from './values.ts'

/**
 * A configuration problem: missing/invalid file, wrong value type, bad environment value.
 * `exitCode` is 2 for usage errors (a bad `--output` value), else 1; cli-ui honours it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message)
  }
}

/** The global flags as parsed from the command line (all optional). */
export interface ConfigFlags {
  config?: string
  host?: string
  project?: string
  token?: string
  team?: string
  workspace?: string
  logLevel?: string
  output?: string
  /** `--no-color` */
  noColor?: boolean
}

export interface ResolveOptions {
  flags?: ConfigFlags
  env?: Record<string, string | undefined>
  cwd?: string
  /**
   * `blobs get` / `pools export`: a `-o/--output` value other than json/text is 0.12's local
   * file flag; it is returned as `outputFile` instead of failing.
   */
  outputFileCompat?: boolean
  /** `setup`: the file named by `-c`/`COFLUX_CONFIG` is about to be created, so it may be missing */
  allowMissingFile?: boolean
}

export interface ResolvedConfig {
  config: Config
  /** unknown keys, deprecated aliases: the caller logs them at warn */
  warnings: string[]
  /** see `ResolveOptions.outputFileCompat` */
  outputFile?: string
}

export const DEFAULT_HOST = 'localhost:7777'
export const DEFAULT_STUDIO_URL = 'https://studio.coflux.com'

/** Defaults only: what an empty environment and no file give. */
export function defaultConfig(): Config {
  return {
    host: DEFAULT_HOST,
    secure: false,
    workspace: 'default',
    logLevel: 'info',
    output: 'text',
    color: true,
    studioUrl: DEFAULT_STUDIO_URL,
    worker: { adapter: [], modules: [], concurrency: defaultConcurrency(), provides: [], accepts: [] },
    blobs: { threshold: 100, stores: [{ type: 'http' }] },
    logs: { type: 'http', batchSize: 100, flushInterval: 0.5 },
    metrics: { type: 'http', batchSize: 100, flushInterval: 0.2 },
    server: {},
  }
}

function defaultConcurrency(): number {
  return Math.min(availableParallelism() + 4, 32)
}

/** `coflux worker`'s limits after its flags: what `declare_targets` sends. */
export interface WorkerLimits {
  /** executions running at once */
  concurrency: number
  /** executions blocked in a wait at once */
  maxWaiting: number
}

/**
 * `--concurrency` / `--max-waiting` (0 or absent = config) over `[worker]`. `max_waiting`
 * defaults to twice the concurrency in effect, so `--concurrency 3` alone allows 6 waiting.
 *
 * @example
 * workerLimits(config.worker, { concurrency: 3 }) // { concurrency: 3, maxWaiting: 6 }
 */
export function workerLimits(worker: WorkerConfig, flags: { concurrency?: number; maxWaiting?: number } = {}): WorkerLimits {
  const concurrency = flags.concurrency || worker.concurrency
  return { concurrency, maxWaiting: flags.maxWaiting || worker.maxWaiting || 2 * concurrency }
}

/**
 * Merges flags > COFLUX_* environment > config file > defaults into one frozen `Config`
 * (cli.md §5). Throws `ConfigError` for an explicit file that is missing, invalid TOML (naming
 * file and line), values of the wrong type, or an invalid `--output`.
 *
 * @example
 * const { config, warnings } = resolveConfig({ flags: { host: 'h:7777', output: 'json' } })
 */
export function resolveConfig(options: ResolveOptions = {}): ResolvedConfig {
  const flags = options.flags ?? {}
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const warnings: string[] = []

  const { file, path } = readConfigFile(flags.config ?? nonEmpty(env.COFLUX_CONFIG), cwd, options.allowMissingFile ?? false)
  const source = new Sources(file, env, path)

  const config = defaultConfig()
  if (path) config.configPath = path

  // Top-level keys
  const str = (key: string, flag?: string) => flag ?? source.string([key])
  config.project = str('project', flags.project)
  config.token = str('token', flags.token)
  config.team = str('team', flags.team)
  config.workspace = str('workspace', flags.workspace) ?? config.workspace

  const levelText = str('log_level', flags.logLevel)
  if (levelText !== undefined) config.logLevel = parseLogLevel(levelText)

  let outputFile: string | undefined
  const outputText = flags.output ?? source.string(['output'])
  if (outputText !== undefined) {
    if (outputText === 'json' || outputText === 'text') config.output = outputText as OutputFormat
    else if (options.outputFileCompat && flags.output !== undefined) outputFile = flags.output
    else throw new ConfigError(`invalid output format "${outputText}": expected json or text`, 2)
  }

  config.color = !(flags.noColor === true || nonEmpty(env.NO_COLOR) !== undefined)
  config.studioUrl = (nonEmpty(env.COFLUX_STUDIO_URL) ?? DEFAULT_STUDIO_URL).replace(/\/+$/, '')

  // host (one server or a comma-separated list to fail over between) and secure (cli.md §5.5)
  const hostList = parseHostList(str('host', flags.host) ?? DEFAULT_HOST)
  if (!hostList.isValid) throw new ConfigError(hostList.error)
  config.host = hostList.hosts.join(',')
  config.secure = source.bool(['secure']) ?? hostList.schemeSecure ?? !hostList.hosts.every(isLoopbackHost)

  // [worker]
  const legacyModules = source.fileValue(['modules'])
  const modules = source.list(['worker', 'modules'])
  if (legacyModules !== undefined) {
    warnings.push(`'modules' in ${path} is deprecated; use 'modules' under [worker]`)
  }
  config.worker = {
    adapter: source.list(['worker', 'adapter']) ?? [],
    modules: modules ?? (legacyModules as string[] | undefined) ?? [],
    concurrency: positive(source.int(['worker', 'concurrency'])) ?? config.worker.concurrency,
    maxWaiting: positive(source.int(['worker', 'max_waiting'])),
    provides: source.list(['worker', 'provides']) ?? [],
    accepts: source.list(['worker', 'accepts']) ?? [],
  }

  // [blobs]
  config.blobs = {
    threshold: source.int(['blobs', 'threshold']) ?? config.blobs.threshold,
    stores: blobStores(source.fileValue(['blobs', 'stores']), path, warnings) ?? config.blobs.stores,
  }

  config.logs = batch(source, 'logs', config.logs, false)
  config.metrics = batch(source, 'metrics', config.metrics, true)
  const server = (source.fileValue(['server']) as Record<string, unknown> | undefined) ?? {}
  for (const key of Object.keys(server)) source.fileValue(['server', key]) // type check
  config.server = { ...server }

  warnings.push(...unknownKeyWarnings(file, CONFIG_SCHEMA, [], path ?? 'coflux.toml'))
  return { config: deepFreeze(config), warnings, outputFile }
}

/** `debug`, `info`, `warn`/`warning`, `error`; anything else behaves as `warn` (cli.md §4). */
export function parseLogLevel(text: string): LogLevel {
  const t = text.toLowerCase()
  if (t === 'debug' || t === 'info' || t === 'error') return t
  return 'warn'
}

/**
 * §5.5 step 3: plain http/ws for `localhost`, `*.localhost`, `127.0.0.1` and `[::1]`
 * (port optional), https/wss for anything else.
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.toLowerCase()
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1)
  else name = name.replace(/:\d*$/, '')
  return name === 'localhost' || name.endsWith('.localhost') || name === '127.0.0.1' || name === '[::1]'
}

function readConfigFile(explicit: string | undefined, cwd: string, allowMissing: boolean): { file: TomlTable; path?: string } {
  const path = resolvePath(cwd, explicit ?? 'coflux.toml')
  if (!existsSync(path)) {
    if (explicit !== undefined && !allowMissing) throw new ConfigError(`config file not found: ${explicit}`)
    return { file: {} }
  }
  let text: string
  try {
    if (statSync(path).isDirectory()) throw new Error('is a directory')
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  try {
    return { file: parseToml(text), path }
  } catch (err) {
    if (err instanceof TomlError) throw new ConfigError(`invalid config file ${path}: ${err.message}`)
    throw err
  }
}

/** Per key: environment (COFLUX_*) first, then the file; both type-checked. */
class Sources {
  constructor(
    readonly file: TomlTable,
    readonly env: Record<string, string | undefined>,
    readonly path: string | undefined,
  ) {}

  fileValue(keyPath: string[]): TomlValue | undefined {
    let v: TomlValue | undefined = this.file
    for (const k of keyPath) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
      v = (v as TomlTable)[k]
    }
    if (v !== undefined) this.check(keyPath, v)
    return v
  }

  #env(keyPath: string[]): string | undefined {
    return nonEmpty(this.env[envName(keyPath)])
  }

  string(keyPath: string[]): string | undefined {
    return this.#env(keyPath) ?? (this.fileValue(keyPath) as string | undefined)
  }

  bool(keyPath: string[]): boolean | undefined {
    const e = this.#env(keyPath)
    if (e !== undefined) {
      const b = parseBoolean(e)
      if (b === undefined) throw new ConfigError(`invalid boolean value for ${envName(keyPath)}: "${e}"`)
      return b
    }
    return this.fileValue(keyPath) as boolean | undefined
  }

  int(keyPath: string[]): number | undefined {
    const e = this.#env(keyPath)
    if (e !== undefined) {
      const n = parseInteger(e)
      if (n === undefined) throw new ConfigError(`invalid integer value for ${envName(keyPath)}: "${e}"`)
      return n
    }
    return this.fileValue(keyPath) as number | undefined
  }

  float(keyPath: string[]): number | undefined {
    const e = this.#env(keyPath)
    if (e !== undefined) {
      const n = Number(e)
      if (e.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`invalid number value for ${envName(keyPath)}: "${e}"`)
      return n
    }
    return this.fileValue(keyPath) as number | undefined
  }

  list(keyPath: string[]): string[] | undefined {
    const e = this.#env(keyPath)
    if (e !== undefined) return splitList(e)
    return this.fileValue(keyPath) as string[] | undefined
  }

  check(keyPath: string[], v: TomlValue): void {
    const type = schemaType(keyPath)
    if (type === undefined || typeof type === 'object') return
    const ok =
      type === 'string' ? typeof v === 'string'
      : type === 'bool' ? typeof v === 'boolean'
      : type === 'int' ? typeof v === 'number' && Number.isInteger(v)
      : type === 'float' ? typeof v === 'number'
      : type === 'list' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : Array.isArray(v) && v.every((x) => typeof x === 'object' && !Array.isArray(x))
    if (!ok) {
      const expected = { string: 'a string', bool: 'a boolean', int: 'an integer', float: 'a number', list: 'an array of strings', stores: 'an array of tables ([[blobs.stores]])' }[type]
      throw new ConfigError(`invalid config file ${this.path}: '${keyPath.join('.')}' must be ${expected}`)
    }
  }
}

function schemaType(keyPath: string[]): KeyType | TableSchema | undefined {
  let s: KeyType | TableSchema | undefined = CONFIG_SCHEMA
  for (const k of keyPath) {
    if (typeof s !== 'object') return undefined
    s = Object.prototype.hasOwnProperty.call(s, k) ? s[k] : undefined
  }
  return s
}

function batch(source: Sources, table: 'logs' | 'metrics', defaults: BatchConfig, clampMetrics: boolean): BatchConfig {
  const out: BatchConfig = {
    type: source.string([table, 'type']) ?? 'http',
    batchSize: source.int([table, 'batch_size']) ?? defaults.batchSize,
    flushInterval: source.float([table, 'flush_interval']) ?? defaults.flushInterval,
  }
  const url = source.string([table, 'url'])
  const token = source.string([table, 'token'])
  if (url !== undefined) out.url = url.replace(/\/+$/, '')
  if (token !== undefined) out.token = token
  // cli.md §5.2: metrics batch_size ≤ 0 → 100, flush_interval ≤ 0 → 0.5; logs allow 0 (= immediate)
  if (clampMetrics) {
    if (out.batchSize <= 0) out.batchSize = 100
    if (out.flushInterval <= 0) out.flushInterval = 0.5
  } else if (out.batchSize <= 0) out.batchSize = 100
  return out
}

function blobStores(raw: TomlValue | undefined, path: string | undefined, warnings: string[]): BlobStoreConfig[] | undefined {
  if (raw === undefined) return undefined
  const stores = raw as TomlTable[]
  if (stores.length === 0) return undefined
  return stores.map((t, i) => {
    const where = `blobs.stores[${i}]`
    for (const key of Object.keys(t)) {
      if (!(BLOB_STORE_KEYS as readonly string[]).includes(key)) {
        const hint = suggest(key, [...BLOB_STORE_KEYS])
        warnings.push(`unknown key '${where}.${key}' in ${path}${hint ? ` (did you mean '${hint}'?)` : ''}`)
      }
    }
    for (const key of BLOB_STORE_KEYS) {
      if (t[key] !== undefined && typeof t[key] !== 'string') {
        throw new ConfigError(`invalid config file ${path}: '${where}.${key}' must be a string`)
      }
    }
    const type = (t.type as string | undefined) ?? 'http'
    if (type !== 'http' && type !== 's3') {
      throw new ConfigError(`invalid config file ${path}: '${where}.type' must be "http" or "s3"`)
    }
    if (type === 's3' && t.bucket === undefined) {
      throw new ConfigError(`invalid config file ${path}: '${where}' (s3) needs a bucket`)
    }
    const store: BlobStoreConfig = { type }
    for (const key of ['url', 'token', 'bucket', 'prefix', 'region'] as const) {
      if (t[key] !== undefined) store[key] = t[key] as string
    }
    if (store.url) store.url = store.url.replace(/\/+$/, '')
    return store
  })
}

function unknownKeyWarnings(table: TomlTable, schema: TableSchema, prefix: string[], path: string): string[] {
  const out: string[] = []
  for (const [key, value] of Object.entries(table)) {
    const s = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined
    const full = [...prefix, key].join('.')
    if (s === undefined) {
      const hint = suggest(key, Object.keys(schema))
      out.push(`unknown key '${full}' in ${path}${hint ? ` (did you mean '${[...prefix, hint].join('.')}'?)` : ''}`)
    } else if (typeof s === 'object') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ConfigError(`invalid config file ${path}: '${full}' must be a table`)
      }
      out.push(...unknownKeyWarnings(value as TomlTable, s, [...prefix, key], path))
    }
  }
  return out
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}
