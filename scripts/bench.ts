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
 * Prints the figures with ✓/✗ against the targets; never fails on a miss.
 *
 *   bun scripts/bench.ts [--quick] [--json]
 *   --quick   smaller runs (fan-out 200, chain 50, mixed 1,000)
 *   --json    one JSON object with every figure on stdout (progress stays on stderr)
 * Environment: BENCH_SERVER_PREFIX / BENCH_WORKER_PREFIX wrap the server / worker command (a
 * profiler, e.g. "bun --cpu-prof cmd/coflux/main.ts"), BENCH_CONCURRENCY (8),
 * BENCH_WORKER_LOG_LEVEL (info).
 */
import { availableParallelism, cpus } from 'node:os'
import { createWorkspace, locateTemplate, startServer, startWorker, submit, waitForRun } from './bench/cluster.ts'
import { measureFloor } from './bench/floor.ts'
import { chain, fanOut, mixed, spawnFanOut } from './bench/phases.ts'
import { CPU_TICK_MS, memory } from './bench/proc.ts'
import { buildReport, renderText } from './bench/report.ts'

const args = process.argv.slice(2)
const unknown = args.filter((a) => a !== '--quick' && a !== '--json')
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown argument ${unknown.join(' ')}\nusage: bun scripts/bench.ts [--quick] [--json]\n`)
  process.exit(2)
}
const isQuick = args.includes('--quick')
const isJson = args.includes('--json')
const sizes = isQuick
  ? { floor: 200, fanOut: 200, chain: 50, mixed: 1000, spawnFanOut: 50 }
  : { floor: 500, fanOut: 1000, chain: 200, mixed: 10_000, spawnFanOut: 200 }
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8)
const cores = availableParallelism()

const note = (message: string) => process.stderr.write(`bench: ${message}\n`)

async function main(): Promise<void> {
  const server = await startServer()
  const workspace = await createWorkspace(server.port, 'bench')
  const worker = await startWorker({ port: server.port, workspace, concurrency, prefix: process.env.BENCH_WORKER_PREFIX })
  try {
    const target = { port: server.port, ws: workspace.id, server, worker }
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
    const report = buildReport({
      machine: { cores, cpu: cpus()[0]?.model ?? 'unknown CPU', concurrency, cpuTickMs: CPU_TICK_MS, isQuick },
      floor,
      fanOut: fan,
      chain: chained,
      mixed: mix,
      spawn,
      serverBefore,
    })
    console.log(isJson ? JSON.stringify(report, null, 2) : renderText(report))
  } finally {
    await worker.stop()
    await server.stop()
  }
}

await main()
