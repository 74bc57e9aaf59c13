/**
 * `make bench`: a real server and worker on this machine, measured against the fork floor taken in
 * the same run (issue 8):
 *   0. the floor: fork + exit of an interpreter started like the worker's fork template
 *      (CPU per fork, the ceiling cores ÷ that, the wall round trip);
 *   1. a fan-out of 1,000 no-op tasks: executions/s of the ceiling, CPU per execution of the
 *      server, the worker, the template and the executors (from /proc), and the same fan-out
 *      spawning an interpreter per execution, for comparison;
 *   2. a chain of 200 child calls: p50/p99 per call next to the floor's round trip;
 *   3. 10,000 steps with caching and retries: dispatches/s of the ceiling, the rate of the first
 *      and last thousand steps, the server's RSS after it.
 * Each phase runs once per store measured: the server's stores in SQLite files, and in a PostgreSQL
 * database (issue 10; the tests' own cluster, test/e2e/support/postgres.ts, whose CPU the fan-out
 * counts too). With PostgreSQL, one more phase:
 *   4. failover: two servers on one database with a short lease, the owner killed mid fan-out;
 *      the time to the standby's first dispatch and to the run's completion (median of 3).
 * Profile findings behind the figures: scripts/bench/FINDINGS.md.
 * Prints the figures with ✓/✗ against the targets, each store's and then both side by side; never
 * fails on a miss.
 *
 *   bun scripts/bench.ts [--store sqlite|postgres|both] [--quick] [--json]
 *   --store   where the server keeps its stores (both: SQLite, then PostgreSQL; the default)
 *   --quick   smaller runs (fan-out 200, chain 50, mixed 1,000, one failover)
 *   --json    one JSON object on stdout, with one object per store (progress stays on stderr)
 * Environment: BENCH_SERVER_PREFIX / BENCH_WORKER_PREFIX wrap the server / worker command (a
 * profiler, e.g. "bun --cpu-prof cmd/coflux/main.ts"), BENCH_CONCURRENCY (8),
 * BENCH_WORKER_LOG_LEVEL (info), BENCH_LEASE_TTL_MS (the failover's lease, 2000).
 */
import { availableParallelism, cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { createWorkspace, locateTemplate, startServer, startWorker, submit, waitForRun } from './bench/cluster.ts'
import { failover } from './bench/failover.ts'
import { measureFloor } from './bench/floor.ts'
import { chain, fanOut, mixed, spawnFanOut } from './bench/phases.ts'
import { startBenchPostgres, type BenchPostgres } from './bench/postgres.ts'
import { CPU_TICK_MS, memory } from './bench/proc.ts'
import { buildReport, STORE_NAMES, type Report, type Store } from './bench/report.ts'
import { renderSummary, type Summary } from './bench/summary.ts'

const USAGE = 'usage: bun scripts/bench.ts [--store sqlite|postgres|both] [--quick] [--json]'
const STORE_CHOICES: Record<string, Store[]> = { sqlite: ['sqlite'], postgres: ['postgres'], both: ['sqlite', 'postgres'] }

function parseOptions(argv: string[]): { stores: Store[]; isQuick: boolean; isJson: boolean } {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: { store: { type: 'string' }, quick: { type: 'boolean' }, json: { type: 'boolean' } }, strict: true }))
  } catch (err) {
    return usageError((err as Error).message)
  }
  const stores = STORE_CHOICES[values.store ?? 'both']
  if (!stores) return usageError(`--store must be sqlite, postgres or both, not '${values.store}'`)
  return { stores, isQuick: values.quick === true, isJson: values.json === true }
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`)
  process.exit(2)
}

const { stores, isQuick, isJson } = parseOptions(process.argv.slice(2))
const sizes = isQuick
  ? { floor: 200, fanOut: 200, chain: 50, mixed: 1000, spawnFanOut: 50, failoverTasks: 200, failovers: 1 }
  : { floor: 500, fanOut: 1000, chain: 200, mixed: 10_000, spawnFanOut: 200, failoverTasks: 500, failovers: 3 }
// short enough that a takeover is quick to measure, long enough that renewals every ttl/5 are not
// missed on a loaded machine (the failover tests use the same); the server's default is 6000
const FAILOVER_LEASE_TTL_MS = Number(process.env.BENCH_LEASE_TTL_MS ?? 2000)
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8)
const cores = availableParallelism()

const note = (message: string) => process.stderr.write(`bench: ${message}\n`)

/** Every phase but the failover, on a server whose stores are in `postgres` (SQLite files when null). */
async function measure(kind: Store, postgres: BenchPostgres | null): Promise<Report> {
  note(`${STORE_NAMES[kind]}: starting the server`)
  const server = await startServer({ databaseUrl: postgres ? await postgres.createDatabase() : undefined })
  const workspace = await createWorkspace(server.port, 'bench')
  const worker = await startWorker({ port: server.port, workspace, concurrency, prefix: process.env.BENCH_WORKER_PREFIX })
  try {
    const target = { port: server.port, ws: workspace.id, server, worker, databasePid: postgres?.pid ?? null }
    note('warming up (the pool, the caches, the JIT)')
    await waitForRun(server.port, workspace.id, await submit(server.port, workspace.id, 'fan_out', [20]))
    locateTemplate(worker)
    note(`server ${server.pid}, worker ${worker.pid}, fork template ${worker.templatePid ?? 'none'}; measuring the fork floor`)
    const floor = await measureFloor(worker.templatePid, sizes.floor, cores)
    const serverBefore = memory(server.pid)
    note(`fan-out of ${sizes.fanOut}`)
    const fan = await fanOut(target, sizes.fanOut)
    note(`chain of ${sizes.chain}`)
    const chained = await chain(target, sizes.chain)
    note(`mixed run of ${sizes.mixed} steps`)
    const mix = await mixed(target, sizes.mixed)
    note(`fan-out of ${sizes.spawnFanOut} on a spawning worker`)
    const spawn = await spawnFanOut(server.port, concurrency, sizes.spawnFanOut)
    return buildReport({
      store: { kind, database: postgres?.version ?? null },
      machine: { cores, cpu: cpus()[0]?.model ?? 'unknown CPU', concurrency, cpuTickMs: CPU_TICK_MS, isQuick },
      floor,
      fanOut: fan,
      chain: chained,
      mixed: mix,
      spawn,
      serverBefore,
    })
  } finally {
    await worker.stop()
    await server.stop()
  }
}

async function main(): Promise<void> {
  const summary: Summary = {}
  if (stores.includes('sqlite')) summary.sqlite = await measure('sqlite', null)
  if (stores.includes('postgres')) {
    // a PostgreSQL stopped by its exit hook: on Ctrl-C too
    process.once('SIGINT', () => process.exit(130))
    note('starting PostgreSQL')
    const postgres = await startBenchPostgres()
    const report = await measure('postgres', postgres)
    const taken = await failover({
      createDatabase: () => postgres.createDatabase(),
      ttlMs: FAILOVER_LEASE_TTL_MS,
      tasks: sizes.failoverTasks,
      repetitions: sizes.failovers,
      concurrency,
      note,
    })
    summary.postgres = { ...report, failover: taken }
  }
  console.log(isJson ? JSON.stringify(summary, null, 2) : renderSummary(summary))
}

await main()
