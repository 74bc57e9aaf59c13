/**
 * The measured runs: a fan-out (throughput and CPU per execution of every process), a chain
 * (per-call latency), a mixed run (sustained dispatch rate, drift, server memory) and the same
 * fan-out on a worker that spawns instead of forking. Times come from the run snapshot (server
 * clock); CPU from /proc, including the PostgreSQL cluster's when the stores are there.
 */
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createWorkspace, REPO, runSnapshot, startWorker, submit, waitForRun, type Server, type Worker } from './cluster.ts'
import { cpuDelta, cpuTimes, memory, treeCpuTimes, type CpuTimes } from './proc.ts'
import { percentile, rateOf } from './stats.ts'

export interface Target {
  port: number
  ws: string
  server: Server
  worker: Worker
  /** the PostgreSQL cluster's postmaster, or null when the stores are SQLite files */
  databasePid: number | null
}

export interface FanOut {
  tasks: number
  /** executions dispatched to the worker: the tasks and the workflow */
  executions: number
  seconds: number
  perSecond: number
  /** CPU ms per execution; `executors` are the forked children, reaped by the template (or by
   * the worker when it spawns them); `database` the whole PostgreSQL cluster (null with SQLite,
   * whose work is the server's own) */
  cpuMsPerExecution: { server: number; worker: number; template: number | null; executors: number; database: number | null; total: number }
  /** the raw /proc deltas over the fan-out, ms (own and reaped children's) */
  cpuMs: { server: CpuTimes; worker: CpuTimes; template: CpuTimes | null; database: CpuTimes | null }
}

export async function fanOut(t: Target, tasks: number): Promise<FanOut> {
  const before = await sample(t)
  const run = await submit(t.port, t.ws, 'fan_out', [tasks])
  await waitForRun(t.port, t.ws, run)
  const after = await sample(t)
  const snap = await runSnapshot(t.port, t.ws, run)
  const executions = dispatched(snap)
  const seconds = runSpan(snap)
  const per = (d: CpuTimes | null, key: keyof CpuTimes) => (d ? d[key] / executions : 0)
  const server = cpuDelta(before.server, after.server)
  const worker = cpuDelta(before.worker, after.worker)
  const template = before.template && after.template ? cpuDelta(before.template, after.template) : null
  const database = before.database && after.database ? cpuDelta(before.database, after.database) : null
  const cpu = {
    server: per(server, 'self'),
    worker: per(worker, 'self'),
    template: template ? per(template, 'self') : null,
    executors: template ? per(template, 'children') : per(worker, 'children'),
    database: database ? per(database, 'self') + per(database, 'children') : null,
  }
  return {
    tasks,
    executions,
    seconds,
    perSecond: executions / seconds,
    cpuMsPerExecution: { ...cpu, total: cpu.server + cpu.worker + (cpu.template ?? 0) + cpu.executors + (cpu.database ?? 0) },
    cpuMs: { server, worker, template, database },
  }
}

interface Sample {
  server: CpuTimes
  worker: CpuTimes
  template: CpuTimes | null
  database: CpuTimes | null
}

/** CPU of the three processes (and the PostgreSQL cluster), once the reaper's children total has stopped moving (an exited
 * executor is counted only when reaped). */
async function sample(t: Target): Promise<Sample> {
  const reaper = t.worker.templatePid ?? t.worker.pid
  let last = -1
  for (let i = 0; i < 20; i++) {
    const now = cpuTimes(reaper).children
    if (now === last) break
    last = now
    await Bun.sleep(100)
  }
  try {
    return {
      server: cpuTimes(t.server.pid),
      worker: cpuTimes(t.worker.pid),
      template: t.worker.templatePid === null ? null : cpuTimes(t.worker.templatePid),
      database: t.databasePid === null ? null : treeCpuTimes(t.databasePid),
    }
  } catch (err) {
    throw new Error(`a measured process is gone (the fork template restarted?): ${(err as Error).message}`)
  }
}

export interface Chain {
  calls: number
  /** one call: a child step's creation to the next one's (server clock) */
  p50Ms: number
  p99Ms: number
}

export async function chain(t: Target, calls: number): Promise<Chain> {
  const run = await submit(t.port, t.ws, 'chain', [calls])
  await waitForRun(t.port, t.ws, run)
  const snap = await runSnapshot(t.port, t.ws, run)
  const created = Object.values<any>(snap.steps)
    .filter((s) => s.stepNumber > 1)
    .map((s) => s.createdAt as number)
    .sort((a, b) => a - b)
  const trips = created.slice(1).map((time, i) => time - created[i]!)
  return { calls, p50Ms: percentile(trips, 50), p99Ms: percentile(trips, 99) }
}

export interface Mixed {
  steps: number
  executions: number
  /** executions handed to the worker (a cache hit is an execution that is not) */
  dispatches: number
  seconds: number
  dispatchesPerSecond: number
  /** steps completed per second among the first and the last `window` to complete */
  window: number
  firstStepsPerSecond: number
  lastStepsPerSecond: number
  /** steps completed per second in each tenth of the steps, by completion order */
  stepsPerSecondByTenth: number[]
  server: { rssMiB: number; peakMiB: number }
}

export async function mixed(t: Target, steps: number): Promise<Mixed> {
  const markers = mkdtempSync(join(tmpdir(), 'coflux-bench-markers-'))
  try {
    const run = await submit(t.port, t.ws, 'mixed', [steps, markers])
    await waitForRun(t.port, t.ws, run)
    const server = memory(t.server.pid)
    const snap = await runSnapshot(t.port, t.ws, run)
    const completions = Object.values<any>(snap.steps)
      .filter((s) => s.stepNumber > 1)
      .map((s) => Object.values<any>(s.executions).reduce((max, e) => Math.max(max, e.completedAt ?? 0), 0))
      .sort((a, b) => a - b)
    const window = Math.min(1000, Math.floor(completions.length / 4))
    const seconds = runSpan(snap)
    const dispatches = dispatched(snap)
    return {
      steps,
      executions: executionsOf(snap).length,
      dispatches,
      seconds,
      dispatchesPerSecond: dispatches / seconds,
      window,
      firstStepsPerSecond: rateOf(completions.slice(0, window)),
      lastStepsPerSecond: rateOf(completions.slice(-window)),
      stepsPerSecondByTenth: Array.from({ length: 10 }, (_, i) =>
        rateOf(completions.slice(Math.floor((i * completions.length) / 10), Math.floor(((i + 1) * completions.length) / 10))),
      ),
      server,
    }
  } finally {
    rmSync(markers, { recursive: true, force: true })
  }
}

/** The fan-out on a second worker (own workspace) whose executors are spawned, not forked: the
 * fork template is disabled by hiding its socket from the adapter. */
export async function spawnFanOut(port: number, concurrency: number, tasks: number): Promise<{ tasks: number; perSecond: number }> {
  const python = Bun.spawnSync(['python3', '-c', 'import sys; print(sys.executable)']).stdout.toString().trim()
  const workspace = await createWorkspace(port, 'bench-spawn')
  const worker = await startWorker({
    port,
    workspace,
    concurrency,
    adapter: `env,-u,COFLUX_FORK_SOCKET,${python},-m,coflux`,
    env: { PYTHONPATH: join(REPO, 'src', 'python') },
  })
  try {
    await waitForRun(port, workspace.id, await submit(port, workspace.id, 'fan_out', [4]))
    const run = await submit(port, workspace.id, 'fan_out', [tasks])
    await waitForRun(port, workspace.id, run)
    const snap = await runSnapshot(port, workspace.id, run)
    return { tasks, perSecond: dispatched(snap) / runSpan(snap) }
  } finally {
    await worker.stop()
  }
}

export function executionsOf(snap: any): any[] {
  return Object.values<any>(snap.steps).flatMap((s) => Object.values<any>(s.executions))
}

function dispatched(snap: any): number {
  return executionsOf(snap).filter((e) => e.assignedAt !== null).length
}

/** Seconds from the run's creation to its last completed execution (server clock). */
function runSpan(snap: any): number {
  const last = executionsOf(snap).reduce((max, e) => Math.max(max, e.completedAt ?? 0), 0)
  return (last - snap.createdAt) / 1000
}
