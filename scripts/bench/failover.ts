/**
 * Failover time (issue 10): two real servers on one PostgreSQL database with a short project lease,
 * a real worker given both (`COFLUX_HOST=a,b`, it follows the owner), a fan-out running on the
 * owner; the owner is killed with SIGKILL and the standby takes the project over once the lease
 * has expired. Measured from the kill: the standby serving the project (its log line), the worker
 * connected to it (its log line), the first execution the standby dispatched (the earliest
 * `assignedAt` after the kill, from the run's snapshot on the standby) and the run's completion.
 *
 * The bench, both servers and PostgreSQL run on this machine, so the kill time (the bench's
 * Date.now()) and the servers' timestamps (their Date.now()) are read from one clock. The
 * takeover waits for the lease to expire, so each figure is also given less the TTL.
 */
import { createWorkspace, runSnapshot, startServer, startWorker, submit, topic, waitForRun, type Server, type Worker } from './cluster.ts'
import { executionsOf } from './phases.ts'
import { percentile } from './stats.ts'

export interface Takeover {
  /** children done on the owner when it was killed */
  doneBeforeKill: number
  /** ms from the kill: the standby logs that it serves the project */
  servingMs: number | null
  /** ms from the kill: the worker logs that it reconnected (to the standby) */
  reconnectedMs: number | null
  /** the waits the worker chose before reconnecting (its backoff), ms */
  backoffMs: number[]
  /** ms from the kill to the first execution the standby dispatched */
  firstDispatchMs: number
  /** ms from the kill to the workflow's completion */
  completedMs: number
  /** executions the standby dispatched */
  dispatchedAfter: number
}

export interface Failover {
  ttlMs: number
  tasks: number
  repetitions: Takeover[]
  /** medians over the repetitions, ms (null when a log line was never seen) */
  median: { servingMs: number | null; reconnectedMs: number | null; firstDispatchMs: number; completedMs: number }
}

export interface FailoverOptions {
  /** a new empty database, its URL */
  createDatabase: () => Promise<string>
  ttlMs: number
  tasks: number
  repetitions: number
  concurrency: number
  note: (message: string) => void
}

export async function failover(options: FailoverOptions): Promise<Failover> {
  const repetitions: Takeover[] = []
  for (let i = 0; i < options.repetitions; i++) {
    options.note(`failover ${i + 1} of ${options.repetitions}: fan-out of ${options.tasks}, owner killed a quarter of the way`)
    repetitions.push(await takeover(options))
  }
  const median = (pick: (t: Takeover) => number | null) => {
    const samples = repetitions.map(pick).filter((x): x is number => x !== null)
    return samples.length ? percentile(samples, 50) : null
  }
  return {
    ttlMs: options.ttlMs,
    tasks: options.tasks,
    repetitions,
    median: {
      servingMs: median((t) => t.servingMs),
      reconnectedMs: median((t) => t.reconnectedMs),
      firstDispatchMs: median((t) => t.firstDispatchMs)!,
      completedMs: median((t) => t.completedMs)!,
    },
  }
}

async function takeover(options: FailoverOptions): Promise<Takeover> {
  const databaseUrl = await options.createDatabase()
  const env = { COFLUX_SERVER_LEASE_TTL_MS: String(options.ttlMs) }
  const seen = { serving: null as number | null, reconnected: null as number | null, backoffMs: [] as number[] }
  const started: (Server | Worker)[] = []
  try {
    const owner = await startServer({ databaseUrl, env })
    started.push(owner)
    // the owner takes the project's lease with its first write
    const workspace = await createWorkspace(owner.port, 'bench-failover')
    const standby = await startServer({
      databaseUrl,
      env,
      onLog: (line, at) => {
        if (line.includes('serving it')) seen.serving ??= at
      },
    })
    started.push(standby)
    const worker = await startWorker({
      port: owner.port,
      workspace,
      concurrency: options.concurrency,
      env: { COFLUX_HOST: `localhost:${owner.port},localhost:${standby.port}` },
      onLog: (line, at) => {
        const wait = /reconnecting in ([\d.]+)s/.exec(line)
        if (wait) seen.backoffMs.push(Number(wait[1]) * 1000)
        if (line.includes('reconnected to server')) seen.reconnected ??= at
      },
    })
    started.push(worker)
    await waitForRun(owner.port, workspace.id, await submit(owner.port, workspace.id, 'fan_out', [20]))

    const run = await submit(owner.port, workspace.id, 'fan_out', [options.tasks])
    let doneBeforeKill = 0
    while ((doneBeforeKill = completedChildren(await topic(owner.port, `workspaces/${workspace.id}/runs/${run.runId}`), run.runId)) < options.tasks / 4) {
      await Bun.sleep(20)
    }
    const killedAt = Date.now()
    await owner.kill()
    started.splice(started.indexOf(owner), 1)

    // until the standby serves the project its API answers 503 no_owner
    while (seen.serving === null) {
      if (Date.now() - killedAt > 60_000) throw new Error('the standby did not take the project over within 60 s')
      await Bun.sleep(20)
    }
    await waitForRun(standby.port, workspace.id, run)
    const snap = await runSnapshot(standby.port, workspace.id, run)
    const after = executionsOf(snap)
      .map((e) => e.assignedAt as number | null)
      .filter((at): at is number => at !== null && at > killedAt)
    if (after.length === 0) throw new Error('the standby dispatched nothing: the fan-out ended before the kill (use more tasks)')
    const completedAt = snap.steps[`${run.runId}:1`].executions['1'].completedAt as number
    return {
      doneBeforeKill,
      servingMs: seen.serving - killedAt,
      reconnectedMs: seen.reconnected === null ? null : seen.reconnected - killedAt,
      backoffMs: seen.backoffMs,
      firstDispatchMs: Math.min(...after) - killedAt,
      completedMs: completedAt - killedAt,
      dispatchedAfter: after.length,
    }
  } finally {
    for (const each of started.reverse()) await each.stop()
  }
}

/** Children of the run (steps after the workflow's) with a completed execution. */
function completedChildren(snap: any, runId: string): number {
  return Object.entries<any>(snap.steps ?? {}).filter(
    ([id, step]) => id !== `${runId}:1` && Object.values<any>(step.executions).some((e) => e.completedAt !== null && e.completedAt !== undefined),
  ).length
}
