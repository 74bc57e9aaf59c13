/**
 * The run's logs, followed live over Server-Sent Events (client/logs.ts `followLogs`, as
 * `coflux logs --follow`) while the run is active, read once (`fetchAllLogs`) when it is not:
 * a browser has six connections per server for plain HTTP, and an idle stream per open tab
 * would use them up. Messages render as the CLI's.
 */
import { useEffect, useRef, useState } from 'hono/jsx/dom'
import { fetchAllLogs, followLogs } from '../../client/browser.ts'
import type { LogEntry, RunSnapshot } from '../../protocol/api.ts'
import { splitExecutionId } from '../../protocol/ids.ts'
import { Card } from '../components/ui.tsx'
import { LogMessage } from '../components/value.tsx'
import { formatClock, formatDateTime } from '../format.ts'
import { client, describeError } from '../session.ts'

const LEVELS = ['DEBUG', 'STDOUT', 'INFO', 'STDERR', 'WARN', 'ERROR']
const MAX_LINES = 5000
const RETRY_MS = 2000
const SETTLE_MS = 3000

export function RunLogs({ runId, run, isActive, selectedExecution, onSelect }: { runId: string; run: RunSnapshot | undefined; isActive: boolean; selectedExecution: string | null; onSelect: (executionId: string) => void }) {
  const [entries, setEntries] = useState<LogEntry[]>([])
  const [state, setState] = useState('connecting…')
  const [onlySelected, setOnlySelected] = useState(false)
  const list = useRef<HTMLDivElement>(null)
  const pinned = useRef(true)

  useEffect(() => {
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const follow = async () => {
      let received: LogEntry[] = []
      if (!isActive) {
        // the worker posts its last lines in a batch that may land just after the run ends
        for (const delay of [0, SETTLE_MS]) {
          await new Promise((resolve) => (timer = setTimeout(resolve, delay)))
          if (controller.signal.aborted) return
          try {
            setEntries((await fetchAllLogs(client, { runId })).logs.slice(-MAX_LINES))
            setState('complete')
          } catch (err) {
            setState(`unavailable (${describeError(err)})`)
          }
        }
        return
      }
      try {
        setState('connecting…')
        let first = true
        for await (const batch of followLogs(client, { runId }, controller.signal)) {
          // the first batch after a (re)connect is everything so far: replace, not append
          received = first ? batch : [...received, ...batch].slice(-MAX_LINES)
          first = false
          setEntries(received)
          setState('live')
        }
      } catch (err) {
        if (controller.signal.aborted) return
        setState(`reconnecting (${describeError(err)})`)
      }
      if (!controller.signal.aborted) timer = setTimeout(follow, RETRY_MS)
    }
    follow()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [runId, isActive])

  useEffect(() => {
    const el = list.current
    if (el && pinned.current) el.scrollTop = el.scrollHeight
  })

  const label = (executionId: string) => {
    const id = splitExecutionId(executionId)
    const step = id ? run?.steps[id.stepId] : undefined
    return step && id ? `${step.target} ${step.stepNumber}:${id.attempt}` : executionId
  }
  const shown = onlySelected && selectedExecution ? entries.filter((e) => e.executionId === selectedExecution) : entries
  let lastDay = ''
  return (
    <Card
      class="logs-card"
      title={
        <>
          <h2>Logs</h2>
          <span class="faint log-state">{state}</span>
        </>
      }
      extra={
        <label class="check">
          <input type="checkbox" checked={onlySelected} onChange={(e: Event) => setOnlySelected((e.target as HTMLInputElement).checked)} />
          Selected attempt only
        </label>
      }
      flush
    >
      <div
        class="logs"
        ref={list}
        onScroll={(e: Event) => {
          const el = e.target as HTMLDivElement
          pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40
        }}
      >
        {shown.length === 0 ? (
          <div class="empty">{entries.length ? 'No log lines for this attempt.' : 'No log lines yet.'}</div>
        ) : (
          shown.map((entry) => {
            const day = formatDateTime(entry.timestamp).slice(0, 10)
            const level = Math.max(0, Math.min(5, entry.level))
            const dayLine = day !== lastDay ? <div class="log-day">{day}</div> : null
            lastDay = day
            return (
              <>
                {dayLine}
                <div class={`log-line l${level}`}>
                  <span class="ts" title={formatDateTime(entry.timestamp)}>
                    {formatClock(entry.timestamp)}
                  </span>
                  <span class="lv" title={LEVELS[level]} />
                  <span class="src" title={entry.executionId} onClick={() => onSelect(entry.executionId)}>
                    {label(entry.executionId)}
                  </span>
                  <span class="msg">
                    <LogMessage template={entry.template} values={entry.values} />
                  </span>
                </div>
              </>
            )
          })
        )}
      </div>
    </Card>
  )
}
