import type { Config } from '../config/types.ts'
import { resolveAdapterArgv } from './detect.ts'
import { runDiscovery, type DiscoveryResult } from './discovery.ts'
import { sanitizedEnv } from './env.ts'
import { prepareAdapter } from './prepare.ts'

/** Modules = the positionals, else `worker.modules` (cli.md §8.1 step 1). */
export function resolveModules(positionals: string[], config: Config): string[] {
  const modules = positionals.length > 0 ? positionals : [...config.worker.modules]
  if (modules.length === 0) {
    throw new Error("no modules specified; pass them as arguments or set 'worker.modules' in coflux.toml")
  }
  return modules
}

/**
 * The whole discovery step of `worker` and `manifests`: pick the adapter (flag > config >
 * detection, reported through `onDetected`), prepare it, run `discover`, and report the adapter's
 * stderr lines through `onWarning`.
 *
 * @example
 * const { targets } = await discoverTargets({ config, cwd, modules, onWarning: (w) => log.warn(w) })
 */
export async function discoverTargets(opts: {
  flag?: string[]
  config: Config
  cwd: string
  modules: string[]
  onDetected?: (label: string, argv: string[]) => void
  onWarning?: (line: string) => void
}): Promise<DiscoveryResult & { argv: string[] }> {
  const { argv, detected } = resolveAdapterArgv({ flag: opts.flag, config: opts.config, cwd: opts.cwd })
  if (detected) opts.onDetected?.(detected.label, detected.argv)
  const prepared = await prepareAdapter(argv, opts.cwd)
  const result = await runDiscovery({ argv: prepared.argv, env: { ...sanitizedEnv(), ...prepared.env } }, opts.modules, opts.cwd)
  for (const w of result.warnings) opts.onWarning?.(w)
  return { ...result, argv }
}
