/**
 * Configuration: flags > COFLUX_* environment > coflux.toml > defaults (cli.md §5), TOML reading
 * (smol-toml), and the small comment-keeping TOML editor `setup` uses.
 */
export {
  ConfigError,
  DEFAULT_HOST,
  DEFAULT_STUDIO_URL,
  defaultConfig,
  isLoopbackHost,
  parseLogLevel,
  resolveConfig,
  workerLimits,
  type ConfigFlags,
  type ResolvedConfig,
  type ResolveOptions,
  type WorkerLimits,
} from './resolve.ts'
export { CONFIG_SCHEMA, editDistance, envName, suggest } from './schema.ts'
export { parseHostList, type HostList } from './hosts.ts'
export { parseToml, TomlError, type TomlTable, type TomlValue } from './toml.ts'
export { formatTomlValue, setTomlKeys, type TomlUpdate, type TomlWritable } from './toml-edit.ts'
export type { BatchConfig, BlobStoreConfig, Config, LogLevel, OutputFormat, WorkerConfig } from './types.ts'
export { parseBoolean, parseDuration, parseInteger, splitList } from './values.ts'
export { readSetupValues, workspaceNameFor, writeSetupValues, type SetupValues } from './setup-file.ts'
