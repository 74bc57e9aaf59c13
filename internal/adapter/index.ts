/**
 * Finding, preparing and running the language adapter: auto-detection (cli.md §8.1), the
 * embedded Python package, discovery and the one manifest builder (executor-protocol.md §1–§2).
 * Used by `coflux worker`, `coflux manifests` and `coflux setup`.
 */
export {
  AdapterNotConfiguredError,
  detectAdapters,
  parseAdapterFlag,
  resolveAdapterArgv,
  type DetectedAdapter,
} from './detect.ts'
export { DiscoveryError, parseDiscoveryOutput, runDiscovery, type DiscoveryResult } from './discovery.ts'
export { extractAdapterFiles, extractEmbeddedAdapter, SOURCE_ADAPTER_DIR, type EmbeddedFile } from './embedded.ts'
export { SECRET_ENV_VARS, sanitizedEnv } from './env.ts'
export { buildManifest, buildManifests, declaredTargets, discoverOutput, preloadModules } from './manifests.ts'
export { clearPreparedAdapters, prepareAdapter, type PreparedAdapter } from './prepare.ts'
export { discoverTargets, resolveModules } from './discover-targets.ts'
export { findCofluxModules } from './find-modules.ts'
