/** Shared set-up for the worker tests: a real Python, the fake adapter, a recording logger. */
import { createConsola, type ConsolaInstance } from 'consola'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { BlobStores } from '../../../../internal/client/blob-stores.ts'
import { SpawnExecutorLauncher, type SpawnOptions } from '../../../../internal/worker/executor-process.ts'
import { ForkExecutorLauncher } from '../../../../internal/worker/fork-launcher.ts'
import type { ExecutorLauncher } from '../../../../internal/worker/executor-pool.ts'
import { WorkerSession, type WorkerSessionOptions } from '../../../../internal/worker/worker-session.ts'
import type { FakeServer } from './fake-server.ts'

/** The real interpreter (the pyenv shim costs ~100 ms per spawn). */
export const PYTHON = Bun.spawnSync(['python3', '-c', 'import sys; print(sys.executable)']).stdout.toString().trim()
export const FAKE_ADAPTER = resolve(import.meta.dir, 'fake_adapter.py')
export const PYTHON_SRC = resolve(import.meta.dir, '../../../../src/python')

export interface RecordingLog {
  log: ConsolaInstance
  lines: { level: string; text: string }[]
  has(pattern: RegExp): boolean
}

export function recordingLog(): RecordingLog {
  const lines: { level: string; text: string }[] = []
  const log = createConsola({
    level: 5,
    reporters: [{ log: (obj) => lines.push({ level: obj.type, text: obj.args.map(String).join(' ') }) }],
  })
  return { log, lines, has: (pattern) => lines.some((l) => pattern.test(l.text)) }
}

export function fakeSpawnOptions(env: Record<string, string> = {}): SpawnOptions {
  return { argv: [PYTHON, '-I', '-S', FAKE_ADAPTER], cwd: process.cwd(), env: { PATH: process.env.PATH ?? '', ...env } }
}

/** Our own Python adapter, from the source tree. */
export function realSpawnOptions(cwd: string, modules: string[], env: Record<string, string> = {}): SpawnOptions {
  return {
    argv: [PYTHON, '-m', 'coflux'],
    cwd,
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: `${PYTHON_SRC}:${cwd}`, COFLUX_EXECUTOR_MODULES: modules.join(','), ...env },
  }
}

export interface Harness {
  session: WorkerSession
  dir: string
  log: RecordingLog
  launcher: ExecutorLauncher
  close(): Promise<void>
}

export interface HarnessOptions {
  spawn?: SpawnOptions
  fork?: boolean
  concurrency?: number
  maxWaiting?: number
  threshold?: number
  readyTimeoutMs?: number
  extra?: Partial<WorkerSessionOptions>
}

export function startHarness(server: FakeServer, options: HarnessOptions = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'coflux-worker-test-'))
  const log = recordingLog()
  const spawn = options.spawn ?? fakeSpawnOptions()
  const launcher = options.fork
    ? new ForkExecutorLauncher(spawn, dir, log.log, options.readyTimeoutMs)
    : new SpawnExecutorLauncher(spawn, log.log, options.readyTimeoutMs)
  const client = server.client()
  const session = new WorkerSession({
    client,
    workspaceId: 'W1',
    sessionToken: 'sess.secret',
    targets: { fake: { task: ['echo'] } },
    concurrency: options.concurrency ?? 2,
    maxWaiting: options.maxWaiting ?? 2 * (options.concurrency ?? 2),
    launcher,
    blobs: new BlobStores(client, { token: 'sess.secret' }),
    blobCacheDir: join(dir, 'blobs'),
    blobThreshold: options.threshold ?? 100,
    logs: { batchSize: 100, flushIntervalMs: 50 },
    metrics: { batchSize: 100, flushIntervalMs: 50 },
    log: log.log,
    heartbeatIntervalMs: 200,
    reconnectBackoff: { firstMs: 50, maxMs: 200 },
    tempRoot: dir,
    transferRoot: dir,
    ...options.extra,
  })
  session.start()
  return {
    session,
    dir,
    log,
    launcher,
    async close() {
      await session.close(Date.now() + 2000)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function inline(value: unknown): ['raw', unknown, []] {
  return ['raw', value, []]
}
