/** The run's metrics as charts, one per key with a line per execution, followed live. */
import { useEffect, useState } from 'hono/jsx/dom'
import { followMetrics } from '../../client/browser.ts'
import type { RunSnapshot } from '../../protocol/api.ts'
import { splitExecutionId } from '../../protocol/ids.ts'
import type { MetricPoint } from '../../protocol/metrics.ts'
import { LineChart, type Series } from '../components/line-chart.tsx'
import { Card } from '../components/ui.tsx'
import { client } from '../session.ts'

const RETRY_MS = 3000

export function useRunMetrics(runId: string): MetricPoint[] {
  const [points, setPoints] = useState<MetricPoint[]>([])
  useEffect(() => {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const follow = async () => {
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
  }, [runId])
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
