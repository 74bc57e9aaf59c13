/**
 * The bench's whole output when it measured one store or both (issue 10: PostgreSQL beside
 * SQLite): each store's report (report.ts), then, with both, the same figures side by side with
 * PostgreSQL's ratio to SQLite, then the failover time. JSON: one object per store measured,
 * `{ "sqlite": Report, "postgres": Report & { failover } }`.
 */
import type { Failover } from './failover.ts'
import { renderText, STORE_NAMES, type Report } from './report.ts'

export interface Summary {
  sqlite?: Report
  postgres?: Report & { failover: Failover | null }
}

const f = (x: number, digits = 1) => x.toFixed(digits)

export function renderSummary(s: Summary): string {
  const blocks: string[] = []
  for (const report of [s.sqlite, s.postgres]) {
    if (report) blocks.push(`══ ${STORE_NAMES[report.store.kind]} ══\n${renderText(report)}`)
  }
  if (s.sqlite && s.postgres) blocks.push(renderSideBySide(s.sqlite, s.postgres))
  if (s.postgres?.failover) blocks.push(renderFailover(s.postgres.failover))
  return blocks.join('\n\n')
}

interface Row {
  name: string
  unit: string
  pick: (r: Report) => number | null
  digits?: number
}

const ROWS: Row[] = [
  { name: 'fork ceiling (the floor, measured again)', unit: '/s', pick: (r) => r.floor.ceilingPerSecond, digits: 0 },
  { name: 'fan-out throughput', unit: '/s', pick: (r) => r.fanOut.perSecond, digits: 0 },
  { name: '  of the fork ceiling', unit: '×', pick: (r) => r.ratios.fanOutOfCeiling, digits: 2 },
  { name: '  CPU per execution: server', unit: 'ms', pick: (r) => r.fanOut.cpuMsPerExecution.server, digits: 2 },
  { name: '    worker', unit: 'ms', pick: (r) => r.fanOut.cpuMsPerExecution.worker, digits: 2 },
  { name: '    fork template', unit: 'ms', pick: (r) => r.fanOut.cpuMsPerExecution.template, digits: 2 },
  { name: '    executors', unit: 'ms', pick: (r) => r.fanOut.cpuMsPerExecution.executors, digits: 2 },
  { name: '    PostgreSQL cluster', unit: 'ms', pick: (r) => r.fanOut.cpuMsPerExecution.database, digits: 2 },
  { name: '    total', unit: 'ms', pick: (r) => r.fanOut.cpuMsPerExecution.total, digits: 2 },
  { name: '  CPU-bound limit at that total', unit: '/s', pick: (r) => r.ratios.fanOutCpuBoundPerSecond, digits: 0 },
  { name: 'fan-out, spawning executors', unit: '/s', pick: (r) => r.spawn.perSecond, digits: 0 },
  { name: 'chain: p50 per call', unit: 'ms', pick: (r) => r.chain.p50Ms },
  { name: '  p99 per call', unit: 'ms', pick: (r) => r.chain.p99Ms },
  { name: 'mixed run: dispatches', unit: '/s', pick: (r) => r.mixed.dispatchesPerSecond, digits: 0 },
  { name: '  duration', unit: 's', pick: (r) => r.mixed.seconds, digits: 2 },
  { name: '  first steps completed', unit: '/s', pick: (r) => r.mixed.firstStepsPerSecond, digits: 0 },
  { name: '  last steps completed', unit: '/s', pick: (r) => r.mixed.lastStepsPerSecond, digits: 0 },
  { name: 'server RSS before the fan-out', unit: 'MiB', pick: (r) => r.serverBefore.rssMiB, digits: 0 },
  { name: '  after the mixed run', unit: 'MiB', pick: (r) => r.mixed.server.rssMiB, digits: 0 },
  { name: '  peak', unit: 'MiB', pick: (r) => r.mixed.server.peakMiB, digits: 0 },
]

/** The figures of both runs in two columns, PostgreSQL's as a multiple of SQLite's, and the targets met by each. */
export function renderSideBySide(sqlite: Report, postgres: Report): string {
  const cell = (x: number | null, digits = 1) => (x === null ? '—' : f(x, digits)).padStart(10)
  const lines = [
    `side by side${' '.repeat(38)}${'SQLite'.padStart(10)} ${'PostgreSQL'.padStart(10)}   PostgreSQL ÷ SQLite`,
    ...ROWS.map((row) => {
      const [a, b] = [row.pick(sqlite), row.pick(postgres)]
      const ratio = a !== null && b !== null && a !== 0 ? `${f(b / a, 2)}×` : ''
      return `  ${row.name.padEnd(42)} ${row.unit.padEnd(4)} ${cell(a, row.digits)} ${cell(b, row.digits)}   ${ratio}`
    }),
    'targets (issue 8), SQLite | PostgreSQL:',
    ...sqlite.targets.map((t, i) => {
      const other = postgres.targets[i]!
      return `  ${t.isMet ? '✓' : '✗'} ${other.isMet ? '✓' : '✗'} ${t.name.padEnd(48)} ${f(t.value, 2).padStart(8)} ${f(other.value, 2).padStart(8)} ${t.unit.padEnd(3)} (${t.op} ${t.limit})`
    }),
  ]
  return lines.join('\n')
}

export function renderFailover(fo: Failover): string {
  const ms = (x: number | null) => (x === null ? '—' : `${f(x / 1000, 2)} s`)
  const less = (x: number | null) => (x === null ? '—' : `${f((x - fo.ttlMs) / 1000, 2)} s`)
  const { median } = fo
  const lines = [
    `failover: two servers on one PostgreSQL, lease TTL ${fo.ttlMs} ms (renewed every ${fo.ttlMs / 5} ms), owner killed (SIGKILL)`,
    `  a quarter into a fan-out of ${fo.tasks}; median of ${fo.repetitions.length}, from the kill (and less the TTL):`,
    `  standby serves the project   ${ms(median.servingMs).padStart(7)}  (${less(median.servingMs)})   its log line`,
    `  worker reconnected to it     ${ms(median.reconnectedMs).padStart(7)}  (${less(median.reconnectedMs)})   its log line`,
    `  first execution dispatched   ${ms(median.firstDispatchMs).padStart(7)}  (${less(median.firstDispatchMs)})   earliest assignedAt after the kill`,
    `  run completed                ${ms(median.completedMs).padStart(7)}  (${less(median.completedMs)})`,
    '  each repetition: serving / reconnected / first dispatch / completed; the worker\'s backoff waits; children done at the kill → dispatched by the standby',
    ...fo.repetitions.map(
      (t, i) =>
        `    ${i + 1}. ${ms(t.servingMs)} / ${ms(t.reconnectedMs)} / ${ms(t.firstDispatchMs)} / ${ms(t.completedMs)}; backoff ${t.backoffMs.map((b) => `${f(b / 1000)} s`).join(' + ') || 'none'}; ${t.doneBeforeKill} → ${t.dispatchedAfter}`,
    ),
  ]
  return lines.join('\n')
}
