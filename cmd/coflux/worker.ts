import { defineCommand } from 'citty'
import { parseAdapterFlag } from '../../internal/adapter/index.ts'
import { commandEnv, ExitError, listFlag, UsageError, variadic } from '../../internal/cli-ui/index.ts'
import { parseDuration, parseInteger } from '../../internal/config/index.ts'
import { DEFAULT_DRAIN_TIMEOUT_MS, runWorker } from '../../internal/worker/index.ts'
import { positionals } from './_shared.ts'

/** `coflux worker [modules…]` (cli.md §8.1): flags here, the engine in internal/worker. */
export default defineCommand({
  meta: { name: 'worker', description: 'Run a worker for Python modules' },
  args: {
    modules: variadic({ type: 'positional', required: false, description: 'Modules (default: worker.modules)' }),
    watch: { type: 'boolean', description: 'Restart (with drain) when a .py file changes' },
    register: { type: 'boolean', description: 'Register the discovered workflows before connecting' },
    dev: { type: 'boolean', description: '--watch and --register' },
    concurrency: { type: 'string', valueHint: 'N', description: 'Max executions running at once (default: worker.concurrency)' },
    'max-waiting': { type: 'string', valueHint: 'N', description: 'Max executions blocked in a wait at once (default: worker.max_waiting, else 2 × concurrency)' },
    session: { type: 'string', valueHint: 'TOKEN', description: 'Use an existing session (default: COFLUX_SESSION)' },
    provides: { type: 'string', valueHint: 'K:V,…', description: 'Tags this worker provides (appended to config)' },
    accepts: { type: 'string', valueHint: 'K:V,…', description: 'Tags this worker accepts (appended to config)' },
    adapter: { type: 'string', valueHint: 'A,B,…', description: 'Adapter command (comma list or JSON array)' },
    'drain-timeout': { type: 'string', valueHint: 'DURATION', description: 'Max wait for running executions on shutdown (default 2m; 0 = no limit)' },
  },
  async run(ctx) {
    const { config, log, io, line } = commandEnv(ctx)
    const a = line.args as Record<string, string | boolean | undefined>
    const code = await runWorker({
      config,
      modules: positionals(ctx),
      adapter: typeof a.adapter === 'string' ? parseAdapterFlag(a.adapter) : undefined,
      concurrency: countFlag('--concurrency', a.concurrency),
      maxWaiting: countFlag('--max-waiting', a['max-waiting']),
      session: (typeof a.session === 'string' ? a.session : io.env.COFLUX_SESSION) || undefined,
      provides: [...config.worker.provides, ...listFlag(line, 'provides')],
      accepts: [...config.worker.accepts, ...listFlag(line, 'accepts')],
      register: a.register === true || a.dev === true,
      watch: a.watch === true || a.dev === true,
      drainTimeoutMs: drainTimeoutFlag(a['drain-timeout']),
      cwd: io.cwd,
      log,
    })
    // already reported in the log (e.g. an incompatible adapter)
    if (code !== 0) throw new ExitError(code)
  },
})

/** `--concurrency` and `--max-waiting`: a count, 0 = the configured value. */
function countFlag(flag: string, value: string | boolean | undefined): number | undefined {
  if (typeof value !== 'string') return undefined
  const n = parseInteger(value)
  if (n === undefined || n < 0) throw new UsageError(`invalid value for ${flag}: "${value}" (expected a non-negative integer)`)
  return n === 0 ? undefined : n
}

function drainTimeoutFlag(value: string | boolean | undefined): number {
  if (typeof value !== 'string') return DEFAULT_DRAIN_TIMEOUT_MS
  const ms = parseDuration(value)
  if (ms === undefined) throw new UsageError(`invalid value for --drain-timeout: "${value}" (expected a duration such as 90s or 2m)`)
  return ms
}
