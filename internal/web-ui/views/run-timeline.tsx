/**
 * Every execution of the run on one time axis: how long it waited (created → assigned) and how
 * long it ran (assigned → completed), live while the run goes on.
 */
import { attempts, executionStatus } from '../../client/browser.ts'
import type { RunSnapshot } from '../../protocol/api.ts'
import { Empty } from '../components/ui.tsx'
import { formatMs } from '../format.ts'
import { useNow } from '../store.ts'

interface Bar {
  stepId: string
  attempt: number
  label: string
  status: string
  created: number
  assigned: number | null
  completed: number | null
}

export function RunTimeline({ run, selected, onSelect }: { run: RunSnapshot; selected: string | null; onSelect: (stepId: string, attempt: number) => void }) {
  const now = useNow(1000)
  const bars: Bar[] = Object.entries(run.steps)
    .sort((a, b) => a[1].stepNumber - b[1].stepNumber)
    .flatMap(([stepId, step]) =>
      attempts(step).map(([attempt, e]) => ({
        stepId,
        attempt,
        label: `${step.target} ${step.stepNumber}:${attempt}`,
        status: executionStatus(e),
        created: e.createdAt,
        assigned: e.assignedAt,
        completed: e.completedAt,
      })),
    )
    .sort((a, b) => a.created - b.created)
  if (bars.length === 0) return <Empty>No executions yet.</Empty>
  const start = Math.min(...bars.map((b) => b.created))
  const end = Math.max(start + 1, ...bars.map((b) => b.completed ?? now))
  const pct = (t: number) => `${(((t - start) / (end - start)) * 100).toFixed(3)}%`
  const width = (a: number, b: number) => `${Math.max(0.2, ((b - a) / (end - start)) * 100).toFixed(3)}%`
  return (
    <div class="timeline">
      <div class="tl-axis">
        <span />
        <div class="tl-track">
          {[0, 0.25, 0.5, 0.75, 1].map((f) => (
            <span class="tl-tick" style={`left:${f * 100}%`}>
              {formatMs((end - start) * f)}
            </span>
          ))}
        </div>
      </div>
      {bars.map((b) => {
        const waitedUntil = b.assigned ?? b.completed ?? now
        const ranUntil = b.completed ?? now
        const waited = waitedUntil - b.created
        const ran = b.assigned !== null ? ranUntil - b.assigned : 0
        const title = `${b.label}: waited ${formatMs(waited)}${b.assigned !== null ? `, ran ${formatMs(ran)}` : ''} (${b.status})`
        return (
          <div class={`tl-row${b.stepId === selected ? ' selected' : ''}`} data-execution={`${b.stepId}:${b.attempt}`} onClick={() => onSelect(b.stepId, b.attempt)} title={title}>
            <span class="tl-label mono">{b.label}</span>
            <div class="tl-track">
              <span class="tl-wait" style={`left:${pct(b.created)};width:${width(b.created, waitedUntil)}`} />
              {b.assigned !== null && <span class={`tl-run s-${b.status}`} style={`left:${pct(b.assigned)};width:${width(b.assigned, ranUntil)}`} />}
            </div>
            <span class="tl-times mono subtle">
              {formatMs(waited)} / {b.assigned !== null ? formatMs(ran) : '—'}
            </span>
          </div>
        )
      })}
      <div class="legend-row subtle">
        <span><span class="tl-key wait" /> waited (queued, waiting for a worker)</span>
        <span><span class="tl-key run" /> ran</span>
        <span>times: waited / ran</span>
      </div>
    </div>
  )
}
