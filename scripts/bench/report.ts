/**
 * Turns the measurements into ratios to the fork floor, checks them against issue 8's targets
 * (✓/✗: the bench reports a miss, it does not fail on one) and renders text or one JSON object.
 * Every target is a ratio to what this machine measured in the same run, or a per-execution
 * budget; no figure of a particular machine appears here.
 */
import type { Floor } from './floor.ts'
import type { Chain, FanOut, Mixed } from './phases.ts'

/** Where the server keeps its stores: SQLite files (the default), or a PostgreSQL database. */
export type Store = 'sqlite' | 'postgres'

export const STORE_NAMES: Record<Store, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' }

export interface Measurements {
  /** `database`: PostgreSQL's version, null with SQLite */
  store: { kind: Store; database: string | null }
  machine: { cores: number; cpu: string; concurrency: number; cpuTickMs: number; isQuick: boolean }
  floor: Floor
  fanOut: FanOut
  chain: Chain
  mixed: Mixed
  spawn: { tasks: number; perSecond: number }
  serverBefore: { rssMiB: number; peakMiB: number }
}

export interface Check {
  name: string
  value: number
  unit: string
  /** `≤` or `≥` the limit */
  op: '≤' | '≥'
  limit: number
  isMet: boolean
}

export interface Report extends Measurements {
  ratios: {
    fanOutOfCeiling: number
    /** executions/s if CPU were the only limit at the fan-out's measured CPU per execution */
    fanOutCpuBoundPerSecond: number
    executorOverFloorChild: number
    templateOverFloorParent: number | null
    chainP50OverFloorMs: number
    mixedOfCeiling: number
    lastOverFirstSteps: number
    forkOverSpawn: number
  }
  targets: Check[]
}

function check(name: string, value: number, unit: string, op: Check['op'], limit: number): Check {
  return { name, value, unit, op, limit, isMet: op === '≤' ? value <= limit : value >= limit }
}

export function buildReport(m: Measurements): Report {
  const { floor, fanOut, chain, mixed } = m
  const ratios = {
    fanOutOfCeiling: fanOut.perSecond / floor.ceilingPerSecond,
    fanOutCpuBoundPerSecond: (m.machine.cores * 1000) / fanOut.cpuMsPerExecution.total,
    executorOverFloorChild: fanOut.cpuMsPerExecution.executors / floor.childCpuMs,
    templateOverFloorParent: fanOut.cpuMsPerExecution.template === null ? null : fanOut.cpuMsPerExecution.template / floor.parentCpuMs,
    chainP50OverFloorMs: chain.p50Ms - floor.roundTripP50Ms,
    mixedOfCeiling: mixed.dispatchesPerSecond / floor.ceilingPerSecond,
    lastOverFirstSteps: mixed.lastStepsPerSecond / mixed.firstStepsPerSecond,
    forkOverSpawn: fanOut.perSecond / m.spawn.perSecond,
  }
  const targets = [
    check('fan-out throughput, of the fork ceiling', ratios.fanOutOfCeiling, '×', '≥', 0.6),
    check('server CPU per execution', fanOut.cpuMsPerExecution.server, 'ms', '≤', 1.0),
    check('worker CPU per execution', fanOut.cpuMsPerExecution.worker, 'ms', '≤', 1.0),
    check('forked executor CPU, of a bare forked child', ratios.executorOverFloorChild, '×', '≤', 1.5),
    check('chain p50 above the fork round trip', ratios.chainP50OverFloorMs, 'ms', '≤', 3),
    check('mixed run dispatches, of the fork ceiling', ratios.mixedOfCeiling, '×', '≥', 0.5),
    check(`server RSS after the mixed run`, mixed.server.rssMiB, 'MiB', '≤', 200),
    check(`last ${mixed.window} steps' rate, of the first ${mixed.window}'s`, ratios.lastOverFirstSteps, '×', '≥', 1.0),
  ]
  return { ...m, ratios, targets }
}

const f = (x: number, digits = 1) => x.toFixed(digits)

export function renderText(r: Report): string {
  const { machine, floor, fanOut, chain, mixed, ratios } = r
  const cpu = fanOut.cpuMsPerExecution
  const template = cpu.template === null ? 'no template (executors spawned)' : `template ${f(cpu.template, 2)} ms (${f(ratios.templateOverFloorParent!, 2)}× the floor's parent)`
  const database = cpu.database === null ? '' : `, PostgreSQL ${f(cpu.database, 2)} ms (every process of the cluster)`
  const lines = [
    `store: ${STORE_NAMES[r.store.kind]}${r.store.database ? ` ${r.store.database}` : ' files'}`,
    `machine: ${machine.cores} cores, ${machine.cpu}; worker concurrency ${machine.concurrency}; /proc CPU resolution ${f(machine.cpuTickMs, 0)} ms${machine.isQuick ? '; --quick' : ''}`,
    '',
    `fork floor: python ${floor.pythonVersion} started like the worker's fork template${floor.source === 'fallback' ? ' (NO TEMPLATE FOUND: python3 + src/python instead)' : ''},`,
    `  ${floor.modules} modules imported (preloaded: ${floor.preloaded.join(', ') || 'none'}), ${f(floor.rssMiB, 0)} MiB RSS${floor.templateRssMiB === null ? '' : ` (the template: ${f(floor.templateRssMiB, 0)} MiB)`}`,
    `  ${floor.forks} × fork → child os._exit(0) → wait4, one at a time`,
    `  CPU per fork        ${f(floor.cpuMs, 2)} ms (parent ${f(floor.parentCpuMs, 2)}, child ${f(floor.childCpuMs, 2)})`,
    `  ceiling             ${f(floor.ceilingPerSecond, 0)} executions/s (${machine.cores} cores ÷ CPU per fork)`,
    `  round trip          p50 ${f(floor.roundTripP50Ms, 2)} ms, p99 ${f(floor.roundTripP99Ms, 2)} ms (wall, fork → reaped: the chain's floor)`,
    '',
    `fan-out of ${fanOut.tasks} no-op tasks: ${fanOut.executions} executions in ${f(fanOut.seconds, 2)} s, ${f(fanOut.perSecond, 0)}/s = ${f(ratios.fanOutOfCeiling, 2)} of the ceiling`,
    `  CPU per execution   server ${f(cpu.server, 2)} ms, worker ${f(cpu.worker, 2)} ms, ${template},`,
    `                      executors ${f(cpu.executors, 2)} ms (${f(ratios.executorOverFloorChild, 2)}× the floor's child)${database}; total ${f(cpu.total, 2)} ms (floor ${f(floor.cpuMs, 2)})`,
    `  CPU-bound limit     ${f(ratios.fanOutCpuBoundPerSecond, 0)}/s at that total (${r.machine.cores} cores ÷ ${f(cpu.total, 2)} ms); the fan-out reached ${f(fanOut.perSecond / ratios.fanOutCpuBoundPerSecond, 2)} of it`,
    `  spawning a fresh interpreter per execution instead (${r.spawn.tasks} tasks): ${f(r.spawn.perSecond, 0)}/s (forking is ${f(ratios.forkOverSpawn)}× faster)`,
    '',
    `chain of ${chain.calls} child calls: p50 ${f(chain.p50Ms)} ms, p99 ${f(chain.p99Ms)} ms per call; floor ${f(floor.roundTripP50Ms, 2)} ms (p50 = floor + ${f(ratios.chainP50OverFloorMs)} ms)`,
    `  a call: one child step's creation to the next one's (server clock, whole milliseconds)`,
    '',
    `mixed run of ${mixed.steps} steps (cache + retries): ${mixed.executions} executions, ${mixed.dispatches} dispatched, in ${f(mixed.seconds, 2)} s`,
    `  ${f(mixed.dispatchesPerSecond, 0)} dispatches/s = ${f(ratios.mixedOfCeiling, 2)} of the ceiling`,
    `  steps completed     first ${mixed.window} at ${f(mixed.firstStepsPerSecond, 0)}/s, last ${mixed.window} at ${f(mixed.lastStepsPerSecond, 0)}/s (${f(ratios.lastOverFirstSteps, 2)}×)`,
    `  by tenths          ${mixed.stepsPerSecondByTenth.map((x) => f(x, 0)).join(' ')} steps/s`,
    `  server memory       before ${f(r.serverBefore.rssMiB, 0)} MiB RSS, after ${f(mixed.server.rssMiB, 0)} MiB RSS, peak ${f(mixed.server.peakMiB, 0)} MiB`,
    '',
    'targets (issue 8):',
    ...r.targets.map((t) => `  ${t.isMet ? '✓' : '✗'} ${t.name.padEnd(48)} ${f(t.value, 2).padStart(8)} ${t.unit.padEnd(3)} (${t.op} ${t.limit})`),
  ]
  return lines.join('\n')
}
