/**
 * `make bench`: a real server and worker on this machine, measuring
 *   1. a fan-out of 1,000 no-op tasks — executions per second;
 *   2. a chain of 200 child calls — p50/p99 child-call round trip;
 *   3. 10,000 steps with caching and retries mixed in — dispatch throughput;
 * and the server's memory (RSS now, and its peak) before and after. Figures depend on the
 * machine; the script prints them with the machine's description, never compares to constants.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const REPO = resolve(import.meta.dir, '..')
const BIN = join(REPO, 'dist', 'coflux')
const quick = process.argv.includes('--quick')
const sizes = { fanOut: quick ? 200 : 1000, chain: quick ? 50 : 200, mixed: quick ? 1000 : 10_000, spawnFanOut: quick ? 50 : 200 }

function env(extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('COFLUX_')) out[k] = v
  return { ...out, NO_COLOR: '1', ...extra }
}

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 }
}

async function api(port: number, name: string, body: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/api/${name}`, { method: 'POST', body: JSON.stringify(body) })
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`)
  return res.status === 204 ? undefined : res.json()
}

async function topic(port: number, path: string): Promise<any> {
  return (await fetch(`http://127.0.0.1:${port}/topics/${path}`)).json()
}

/** Until a connected session in the workspace has declared its targets. */
async function waitForWorker(port: number, ws: string): Promise<void> {
  for (;;) {
    const sessions = await topic(port, `workspaces/${ws}/sessions`)
    if (Object.values(sessions).some((s: any) => s.connected && Object.keys(s.targets).length)) return
    await Bun.sleep(50)
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Waits for the run, polling its queue entry cheaply; returns the final snapshot once. */
async function waitForRun(port: number, ws: string, runId: string): Promise<any> {
  const executionId = `${runId}:1:1`
  for (;;) {
    const queue = await topic(port, `workspaces/${ws}/queue`)
    if (!queue[executionId]) break
    await Bun.sleep(20)
  }
  const snap = await topic(port, `workspaces/${ws}/runs/${runId}`)
  const result = snap.steps[`${runId}:1`].executions['1'].result
  if (result?.type !== 'value') throw new Error(`run ${runId} ended with ${JSON.stringify(result).slice(0, 400)}`)
  return snap
}

/** Seconds from the run's creation to its last completed execution (server clock). */
function runSpan(snap: any): number {
  let last = 0
  for (const step of Object.values<any>(snap.steps)) {
    for (const e of Object.values<any>(step.executions)) last = Math.max(last, e.completedAt ?? 0)
  }
  return (last - snap.createdAt) / 1000
}

async function main(): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'coflux-bench-'))
  // BENCH_SERVER_PREFIX lets a profiler wrap the server, e.g. "bun --cpu-prof-md cmd/coflux/main.ts"
  const serverCommand = process.env.BENCH_SERVER_PREFIX ? process.env.BENCH_SERVER_PREFIX.split(' ') : [BIN]
  const server = Bun.spawn([...serverCommand, 'server', '--port', '0', '--data-dir', data], { env: env({ COFLUX_OUTPUT: 'json' }), stdout: 'pipe', stderr: 'ignore' })
  const reader = server.stdout.getReader()
  let port = 0
  let text = ''
  while (!port) {
    const { value, done } = await reader.read()
    if (done) throw new Error('server exited')
    text += new TextDecoder().decode(value)
    const line = text.split('\n').find((l) => l.includes('"ready"'))
    if (line) port = JSON.parse(line).port
  }
  const ws = (await api(port, 'create_workspace', { name: 'bench' })).id
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8)
  const workerCommand = process.env.BENCH_WORKER_PREFIX ? process.env.BENCH_WORKER_PREFIX.split(' ') : [BIN]
  const worker = Bun.spawn([...workerCommand, 'worker', '--concurrency', String(concurrency), 'bench_flows'], {
    cwd: join(REPO, 'scripts', 'bench'),
    env: env({ COFLUX_HOST: `localhost:${port}`, COFLUX_WORKSPACE: 'bench', COFLUX_LOG_LEVEL: process.env.BENCH_WORKER_LOG_LEVEL ?? 'info' }),
    stdout: 'ignore',
    stderr: 'ignore',
  })
  try {
    await waitForWorker(port, ws)
    const submit = async (target: string, args: unknown[]) =>
      (await api(port, 'submit_workflow', { workspaceId: ws, module: 'bench_flows', target, arguments: args.map((a) => ['json', JSON.stringify(a)]) })).runId as string
    // warm-up: the pool, the caches, the JIT
    await waitForRun(port, ws, await submit('fan_out', [20]))
    const before = memory(server.pid)

    let run = await submit('fan_out', [sizes.fanOut])
    const fanSeconds = runSpan(await waitForRun(port, ws, run))
    const fanRate = (sizes.fanOut + 1) / fanSeconds

    run = await submit('chain', [sizes.chain])
    const chainSnap = await waitForRun(port, ws, run)
    const created = Object.values(chainSnap.steps)
      .filter((s: any) => s.stepNumber > 1)
      .map((s: any) => s.createdAt as number)
      .sort((a, b) => a - b)
    const trips = created.slice(1).map((t, i) => t - created[i]!).sort((a, b) => a - b)

    const markers = mkdtempSync(join(tmpdir(), 'coflux-bench-markers-'))
    run = await submit('mixed', [sizes.mixed, markers])
    const mixedSnap = await waitForRun(port, ws, run)
    const mixedSeconds = runSpan(mixedSnap)
    const executions = Object.values(mixedSnap.steps).reduce((n: number, s: any) => n + Object.keys(s.executions).length, 0)
    rmSync(markers, { recursive: true, force: true })
    const after = memory(server.pid)

    // the same fan-out on a worker that spawns a fresh interpreter per execution (the fork
    // template disabled by hiding its socket from the adapter), for comparison
    const spawnRate = await plainSpawnFanOut(port, ws, concurrency)

    const cpu = cpus()[0]?.model ?? 'unknown CPU'
    console.log(`machine: ${cpus().length} × ${cpu}; worker concurrency ${concurrency}`)
    console.log(`fan-out of ${sizes.fanOut} no-op tasks: ${fanSeconds.toFixed(2)} s, ${fanRate.toFixed(0)} executions/s`)
    console.log(`  same fan-out (${sizes.spawnFanOut} tasks) spawning a fresh interpreter per execution: ${spawnRate.toFixed(0)} executions/s (${(fanRate / spawnRate).toFixed(1)}× slower than forking)`)
    console.log(`chain of ${sizes.chain} child calls: round trip p50 ${percentile(trips, 50).toFixed(1)} ms, p99 ${percentile(trips, 99).toFixed(1)} ms`)
    console.log(`mixed run of ${sizes.mixed} steps (cache + retries): ${executions} executions in ${mixedSeconds.toFixed(2)} s, ${(executions / mixedSeconds).toFixed(0)} dispatches/s`)
    console.log(`server memory: before ${before.rssMiB.toFixed(0)} MiB RSS, after ${after.rssMiB.toFixed(0)} MiB RSS, peak ${after.peakMiB.toFixed(0)} MiB`)
  } finally {
    worker.kill(process.env.BENCH_WORKER_PREFIX ? 'SIGINT' : 'SIGKILL')
    server.kill('SIGTERM')
    await Promise.all([worker.exited, server.exited])
    rmSync(data, { recursive: true, force: true })
  }
}

/** Runs the fan-out on a second worker (own workspace) whose executors are spawned, not forked. */
async function plainSpawnFanOut(port: number, _ws: string, concurrency: number): Promise<number> {
  const python = Bun.spawnSync(['python3', '-c', 'import sys; print(sys.executable)']).stdout.toString().trim()
  const ws = (await api(port, 'create_workspace', { name: 'bench-spawn' })).id
  const worker = Bun.spawn(
    [BIN, 'worker', '--concurrency', String(concurrency), '--adapter', `env,-u,COFLUX_FORK_SOCKET,${python},-m,coflux`, 'bench_flows'],
    {
      cwd: join(REPO, 'scripts', 'bench'),
      env: env({ COFLUX_HOST: `localhost:${port}`, COFLUX_WORKSPACE: 'bench-spawn', PYTHONPATH: join(REPO, 'src', 'python') }),
      stdout: 'ignore',
      stderr: 'ignore',
    },
  )
  try {
    await waitForWorker(port, ws)
    const submit = async (n: number) =>
      (await api(port, 'submit_workflow', { workspaceId: ws, module: 'bench_flows', target: 'fan_out', arguments: [['json', String(n)]] })).runId as string
    await waitForRun(port, ws, await submit(4))
    const snap = await waitForRun(port, ws, await submit(sizes.spawnFanOut))
    return (sizes.spawnFanOut + 1) / runSpan(snap)
  } finally {
    worker.kill('SIGKILL')
    await worker.exited
  }
}

await main()
