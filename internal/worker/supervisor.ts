/**
 * `coflux worker` (cli.md §8.1): modules → adapter → workspace → discovery → registration →
 * session → executor pool and connection, then run until a signal (drain, then stop) or, with
 * `--watch`, until a source file changes (drain, then start over with a new session and a fresh
 * discovery, so no executor keeps stale code).
 */
import type { ConsolaInstance } from 'consola'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildManifests, declaredTargets, discoverTargets, preloadModules, prepareAdapter, resolveModules, sanitizedEnv } from '../adapter/index.ts'
import { BlobStores, createClient, parseTagItems, resolveWorkspaceId, type CofluxClient } from '../client/index.ts'
import { workerLimits, type Config } from '../config/index.ts'
import { WorkerFatalError } from './connection.ts'
import { ExecutorStartError } from './executor.ts'
import { ForkExecutorLauncher } from './fork-launcher.ts'
import { ShutdownSignals } from './signals.ts'
import { watchSources } from './watcher.ts'
import { WorkerSession } from './worker-session.ts'

export const DEFAULT_DRAIN_TIMEOUT_MS = 120_000

export interface WorkerRunOptions {
  config: Config
  /** positionals; empty = `worker.modules` */
  modules: string[]
  /** `--adapter`, parsed */
  adapter?: string[]
  /** `--concurrency`; 0/absent = `worker.concurrency` */
  concurrency?: number
  /** `--max-waiting`; 0/absent = `worker.max_waiting`, else twice the concurrency */
  maxWaiting?: number
  /** `--session` or `COFLUX_SESSION` */
  session?: string
  /** `worker.provides` + `--provides` (`key:value` items) */
  provides: string[]
  accepts: string[]
  register: boolean
  watch: boolean
  /** 0 = no limit */
  drainTimeoutMs: number
  cwd: string
  log: ConsolaInstance
  /** injected by tests; default: the process's SIGINT/SIGTERM */
  signals?: ShutdownSignals
}

type Ending = 'reload' | 'exit' | { fatal: Error }

/** Runs the worker; resolves with the exit code (0 after a clean or forced shutdown). */
export async function runWorker(options: WorkerRunOptions): Promise<number> {
  const modules = resolveModules(options.modules, options.config)
  const client = await createClient(options.config, { session: options.session })
  const signals = options.signals ?? new ShutdownSignals().install()
  // private: the blob cache, the fork socket and transfer directories (0.12 put the session token in this name)
  const workDir = await mkdtemp(join(tmpdir(), 'coflux-worker-'))
  try {
    for (;;) {
      const ending = await runGeneration(options, modules, client, signals, workDir)
      if (ending === 'exit') return 0
      if (ending !== 'reload') {
        if (ending.fatal instanceof WorkerFatalError) throw ending.fatal
        return 1
      }
      await Bun.sleep(100)
    }
  } finally {
    if (!options.signals) signals.dispose()
    await rm(workDir, { recursive: true, force: true })
  }
}

async function runGeneration(
  options: WorkerRunOptions,
  modules: string[],
  client: CofluxClient,
  signals: ShutdownSignals,
  workDir: string,
): Promise<Ending> {
  const { config, cwd, log } = options
  const workspaceId = await resolveWorkspaceId(client, config.workspace, { autoCreate: true })
  const { targets, argv } = await discoverTargets({
    flag: options.adapter,
    config,
    cwd,
    modules,
    onDetected: (label, detected) => log.info(`using detected adapter ${label}: ${detected.join(' ')}`),
    onWarning: (line) => log.warn(line),
  })
  if (options.register) {
    const manifests = buildManifests(targets)
    if (Object.keys(manifests).length > 0) {
      await client.registerManifests(workspaceId, manifests)
      log.info(`registered workflows of ${Object.keys(manifests).join(', ')}`)
    }
  }
  const prepared = await prepareAdapter(argv, cwd)
  const sessionToken =
    options.session ??
    (await client.createSession(workspaceId, parseTagItems(options.provides), parseTagItems(options.accepts))).sessionId
  if (signals.stage !== 'running') return 'exit'

  const { concurrency, maxWaiting } = workerLimits(config.worker, options)
  const env = { ...sanitizedEnv(), ...prepared.env, COFLUX_EXECUTOR_MODULES: preloadModules(targets).join(',') }
  const session = new WorkerSession({
    client,
    workspaceId,
    sessionToken,
    targets: declaredTargets(targets),
    concurrency,
    maxWaiting,
    launcher: new ForkExecutorLauncher({ argv: prepared.argv, cwd, env }, workDir, log),
    blobs: new BlobStores(client, { stores: [...config.blobs.stores], token: sessionToken }),
    blobCacheDir: join(workDir, 'blobs'),
    transferRoot: workDir,
    blobThreshold: config.blobs.threshold,
    logs: batchSettings(config.logs),
    metrics: batchSettings(config.metrics),
    log,
  })
  session.start()
  log.info(`worker started for ${modules.join(', ')} (workspace ${config.workspace}, concurrency ${concurrency}, max waiting ${maxWaiting})`)

  let onChange: () => void = () => {}
  const changed = new Promise<'reload'>((resolve) => (onChange = () => resolve('reload')))
  const stopWatching = options.watch ? watchSources(cwd, onChange) : () => {}
  const event = await Promise.race([signals.first.then(() => 'signal' as const), changed, session.fatal.then((fatal) => ({ fatal }))])
  stopWatching()

  if (typeof event === 'object') return stopOnFatal(session, event.fatal, options, signals)
  log.info(event === 'signal' ? 'shutting down (signal again to abort drain early)' : 'change detected, reloading...')
  await drain(session, options, signals)
  await session.close()
  return event === 'reload' && signals.stage === 'running' ? 'reload' : 'exit'
}

/** Waits for running executions (with the socket open) until done, a second signal or the timeout. */
async function drain(session: WorkerSession, options: WorkerRunOptions, signals: ShutdownSignals): Promise<void> {
  session.drain()
  if (signals.stage === 'running') {
    // a signal during a reload's drain turns it into a shutdown (cli.md §8.1)
    void signals.first.then(() => options.log.info('shutting down (signal again to abort drain early)'))
  }
  const limit = options.drainTimeoutMs > 0 ? Bun.sleep(options.drainTimeoutMs).then(() => 'timeout' as const) : new Promise<never>(() => {})
  const outcome = await Promise.race([session.whenDrained().then(() => 'drained' as const), signals.second.then(() => 'signal' as const), limit])
  if (outcome === 'drained') return
  options.log.info(outcome === 'timeout' ? 'drain timed out; aborting remaining executions' : 'aborting remaining executions')
  session.stopExecutions()
}

async function stopOnFatal(session: WorkerSession, fatal: Error, options: WorkerRunOptions, signals: ShutdownSignals): Promise<Ending> {
  if (fatal instanceof ExecutorStartError) {
    // every execution would fail: say so, let running ones finish, exit 1 (executor-protocol.md §13)
    options.log.error(fatal.message)
    await drain(session, options, signals)
  }
  await session.close()
  return { fatal }
}

/** Config's batch settings (already defaulted and clamped by the config resolver) in ms. */
function batchSettings(config: Config['logs']) {
  return { batchSize: config.batchSize, flushIntervalMs: config.flushInterval * 1000, url: config.url, token: config.token }
}
