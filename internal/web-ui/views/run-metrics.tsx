/**
 * The run's metrics as charts, one per key with a line per execution: followed live while the
 * run is active and has metrics defined, read once otherwise (see run-logs.tsx for why).
 */
import { useEffect, useState } from 'hono/jsx/dom'
import { followMetrics, queryMetrics } from '../../client/browser.ts'
import type { RunSnapshot } from '../../protocol/api.ts'
import { splitExecutionId } from '../../protocol/ids.ts'
import type { MetricPoint } from '../../protocol/metrics.ts'
import { LineChart, type Series } from '../components/line-chart.tsx'
import { Card } from '../components/ui.tsx'
import { client } from '../session.ts'

const RETRY_MS = 3000
const SETTLE_MS = 3000

async function allMetrics(runId: string): Promise<MetricPoint[]> {
  const all: MetricPoint[] = []
  let after: string | undefined
  for (;;) {
    const page = await queryMetrics(client, { runId, after })
    all.push(...page.metrics.map((p) => ({ ...p, value: Number(p.value), at: Number(p.at) })))
    if (!page.cursor || page.metrics.length === 0 || page.cursor === after) return all
    after = page.cursor
  }
}

export function useRunMetrics(runId: string, run: RunSnapshot | undefined, isActive: boolean): MetricPoint[] {
  const [points, setPoints] = useState<MetricPoint[]>([])
  const isDefined = !!run && Object.values(run.steps).some((s) => Object.values(s.executions).some((e) => Object.keys(e.metrics).length > 0))
  useEffect(() => {
    if (!isDefined) return
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const follow = async () => {
      if (!isActive) {
        // read twice: the last points are posted in a batch that may land just after the run ends
        for (const delay of [0, SETTLE_MS]) {
          await new Promise((resolve) => (timer = setTimeout(resolve, delay)))
          if (controller.signal.aborted) return
          try {
            setPoints(await allMetrics(runId))
          } catch {
            // charts are extra: without them the page still shows the run
          }
        }
        return
      }
      let received: MetricPoint[] = []
      try {
        let first = true
        for await (const batch of followMetrics(client, { runId }, controller.signal)) {
          received = first ? batch : [...received, ...batch]
          first = false
          setPoints(received)
        }
      } catch {
        // reconnect below
      }
      if (!controller.signal.aborted) timer = setTimeout(follow, RETRY_MS)
    }
    follow()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [runId, isActive, isDefined])
  return points
}

/** Charts of `points`, keyed by metric, a series per execution. */
export function MetricCharts({ points, run, executionId }: { points: MetricPoint[]; run: RunSnapshot | undefined; executionId?: string }) {
  const byKey = new Map<string, Map<string, Series>>()
  for (const p of points) {
    if (executionId && p.executionId !== executionId) continue
    const series = byKey.get(p.key) ?? new Map<string, Series>()
    byKey.set(p.key, series)
    const id = splitExecutionId(p.executionId)
    const step = id ? run?.steps[id.stepId] : undefined
    const name = step && id ? `${step.target} ${step.stepNumber}:${id.attempt}` : p.executionId
    const s = series.get(p.executionId) ?? { name, points: [] }
    series.set(p.executionId, s)
    s.points.push({ at: p.at, value: p.value })
  }
  if (byKey.size === 0) return null
  return (
    <div class="charts">
      {[...byKey].sort(([a], [b]) => a.localeCompare(b)).map(([key, series]) => (
        <LineChart title={key} series={[...series.values()]} />
      ))}
    </div>
  )
}

export function RunMetrics({ points, run }: { points: MetricPoint[]; run: RunSnapshot | undefined }) {
  if (points.length === 0) return null
  return (
    <Card title="Metrics" class="metrics-card">
      <MetricCharts points={points} run={run} />
    </Card>
  )
}
