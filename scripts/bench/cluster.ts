/**
 * The system under test: a real `coflux server` (its stores in SQLite files, or in a PostgreSQL
 * database given by URL) and `coflux worker` on this machine, the HTTP calls the bench makes to
 * them, and which process is which (the server, the worker and its fork template, found even when
 * a profiler wraps them: BENCH_SERVER_PREFIX, BENCH_WORKER_PREFIX). The failover phase also reads
 * their log lines, stamped when they arrive, and kills a server as a crash would.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { commandLine, parentOf, processTree } from './proc.ts'

export const BENCH_DIR = import.meta.dir
export const REPO = join(BENCH_DIR, '..', '..')
export const BIN = join(REPO, 'dist', 'coflux')

export function childEnv(extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('COFLUX_')) out[k] = v
  return { ...out, NO_COLOR: '1', ...extra }
}

/** `"bun --cpu-prof cmd/coflux/main.ts"` → argv; the built binary when unset. */
function commandFrom(prefix: string | undefined): string[] {
  return prefix ? prefix.split(' ').filter(Boolean) : [BIN]
}

export interface Server {
  port: number
  /** the process doing the serving (below a profiler wrapper, if any) */
  pid: number
  /** SIGTERM and wait (graceful: a lease is handed over at once) */
  stop(): Promise<void>
  /** SIGKILL and wait (a crash: a lease is left to expire) */
  kill(): Promise<void>
}

/** A log line of a server or worker and when the bench read it (Date.now(), this machine's clock). */
export type LogListener = (line: string, at: number) => void

export interface ServerOptions {
  /** PostgreSQL for the stores (`--database-url`); SQLite files in the data directory when absent */
  databaseUrl?: string
  env?: Record<string, string>
  /** the server's log lines (stderr); ignored when absent */
  onLog?: LogListener
}

export async function startServer(options: ServerOptions = {}): Promise<Server> {
  const data = mkdtempSync(join(tmpdir(), 'coflux-bench-'))
  const store = options.databaseUrl ? ['--database-url', options.databaseUrl] : []
  const proc = Bun.spawn([...commandFrom(process.env.BENCH_SERVER_PREFIX), 'server', '--port', '0', '--data-dir', data, ...store], {
    env: childEnv({ COFLUX_OUTPUT: 'json', ...options.env }),
    stdout: 'pipe',
    stderr: options.onLog ? 'pipe' : 'ignore',
  })
  if (options.onLog && proc.stderr instanceof ReadableStream) void readLines(proc.stderr, options.onLog)
  const reader = proc.stdout.getReader()
  let port = 0
  let text = ''
  while (!port) {
    const { value, done } = await reader.read()
    if (done) throw new Error('server exited before it was ready')
    text += new TextDecoder().decode(value)
    const line = text.split('\n').find((l) => l.includes('"ready"'))
    if (line) port = JSON.parse(line).port
  }
  reader.releaseLock()
  void proc.stdout.pipeTo(new WritableStream()) // keep draining: a full pipe would block the server
  const pid = processTree(proc.pid).findLast((p) => commandLine(p).includes('server')) ?? proc.pid
  const end = async (signal: 'SIGTERM' | 'SIGKILL') => {
    proc.kill(signal)
    await proc.exited
    rmSync(data, { recursive: true, force: true })
  }
  return { port, pid, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') }
}

/** Calls `listener` with each line of `stream` as it arrives (keeps draining it, so the writer never blocks). */
async function readLines(stream: ReadableStream<Uint8Array>, listener: LogListener): Promise<void> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of stream) {
    const at = Date.now()
    buffered += decoder.decode(chunk, { stream: true })
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) listener(line, at)
  }
}

export interface Worker {
  /** the worker's own process (the fork template's parent) */
  pid: number
  /** the fork template, or null when executors are spawned (plain mode) */
  templatePid: number | null
  stop(): Promise<void>
}

export interface WorkerOptions {
  port: number
  /** the workspace's name and id (the worker is configured by name, its session is looked up by id) */
  workspace: { name: string; id: string }
  concurrency: number
  /** the adapter command, comma-separated; the worker's default when absent */
  adapter?: string
  env?: Record<string, string>
  prefix?: string
  /** the worker's log lines (stderr); ignored when absent */
  onLog?: LogListener
}

/** Starts a worker and waits until its session has declared its targets. */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const { port, workspace, concurrency } = options
  const adapter = options.adapter ? ['--adapter', options.adapter] : []
  const proc = Bun.spawn([...commandFrom(options.prefix), 'worker', '--concurrency', String(concurrency), ...adapter, 'bench_flows'], {
    cwd: BENCH_DIR,
    env: childEnv({
      COFLUX_HOST: `localhost:${port}`,
      COFLUX_WORKSPACE: workspace.name,
      COFLUX_LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'info',
      ...options.env,
    }),
    stdout: 'ignore',
    stderr: options.onLog ? 'pipe' : 'ignore',
  })
  if (options.onLog && proc.stderr instanceof ReadableStream) void readLines(proc.stderr, options.onLog)
  const worker: Worker = {
    pid: proc.pid,
    templatePid: null,
    async stop() {
      proc.kill(options.prefix ? 'SIGINT' : 'SIGKILL')
      await proc.exited
    },
  }
  for (;;) {
    const sessions = await topic(port, `workspaces/${workspace.id}/sessions`)
    if (Object.values(sessions).some((s: any) => s.connected && Object.keys(s.targets).length)) return worker
    if (proc.exitCode !== null) throw new Error(`worker exited with ${proc.exitCode}`)
    await Bun.sleep(50)
  }
}

export async function createWorkspace(port: number, name: string): Promise<{ name: string; id: string }> {
  return { name, id: (await api(port, 'create_workspace', { name })).id }
}

/**
 * Finds the fork template below the worker: a `… -m coflux execute` process whose parent is not
 * one (forked executors share the template's command line). Call after a run, when it exists.
 */
export function locateTemplate(worker: Worker): void {
  const isExecutor = (pid: number) => {
    const argv = commandLine(pid)
    return argv.includes('coflux') && argv.at(-1) === 'execute'
  }
  for (const pid of processTree(worker.pid)) {
    try {
      if (isExecutor(pid) && !isExecutor(parentOf(pid))) {
        worker.templatePid = pid
        worker.pid = parentOf(pid)
        return
      }
    } catch {
      // exited while we looked
    }
  }
  const own = processTree(worker.pid).findLast((p) => commandLine(p).includes('worker'))
  if (own) worker.pid = own
}

export async function api(port: number, name: string, body: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/api/${name}`, { method: 'POST', body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`)
  return res.status === 204 ? undefined : res.json()
}

export async function topic(port: number, path: string): Promise<any> {
  return (await fetch(`http://127.0.0.1:${port}/topics/${path}`)).json()
}

/** A submitted run whose workflow creates `done` just before it returns. */
export interface Run {
  runId: string
  done: string
}

/** Submits a bench_flows workflow; `done` is appended to its arguments. */
export async function submit(port: number, ws: string, target: string, args: unknown[]): Promise<Run> {
  const done = join(mkdtempSync(join(tmpdir(), 'coflux-bench-done-')), 'done')
  const body = { workspaceId: ws, module: 'bench_flows', target, arguments: [...args, done].map((a) => ['json', JSON.stringify(a)]) }
  return { runId: (await api(port, 'submit_workflow', body)).runId, done }
}

/**
 * Waits for the run to finish without asking the server while it works (the `done` file), then
 * until the server has recorded the workflow's result (its queue entry is gone).
 */
export async function waitForRun(port: number, ws: string, run: Run): Promise<void> {
  const root = `${run.runId}:1:1`
  for (let i = 1; !existsSync(run.done); i++) {
    // now and then (cheap next to the run), make sure the workflow has not ended without it
    if (i % 500 === 0 && !(await topic(port, `workspaces/${ws}/queue`))[root]) {
      await runSnapshot(port, ws, run) // throws unless it returned a value
      break
    }
    await Bun.sleep(10)
  }
  rmSync(join(run.done, '..'), { recursive: true, force: true })
  while ((await topic(port, `workspaces/${ws}/queue`))[root]) await Bun.sleep(10)
}

/** The run's snapshot; throws unless the workflow returned a value. */
export async function runSnapshot(port: number, ws: string, run: Run): Promise<any> {
  const snap = await topic(port, `workspaces/${ws}/runs/${run.runId}`)
  const result = snap.steps[`${run.runId}:1`].executions['1'].result
  if (result?.type !== 'value') throw new Error(`run ${run.runId} ended with ${JSON.stringify(result).slice(0, 400)}`)
  return snap
}
