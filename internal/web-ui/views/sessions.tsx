/** Worker sessions with their load: executions running against the worker's concurrency, and waiting ones against its bound. */
import type { SessionEntry } from '../../protocol/api.ts'
import { Card, StatusBadge, Tags, WorkspaceCrumbs, TopicList } from '../components/ui.tsx'
import { useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

/** `n / max` with a bar; a bar is full (and marked) at the bound. */
function Load({ n, max, label }: { n: number; max: number; label: string }) {
  const share = max > 0 ? Math.min(1, n / max) : 0
  return (
    <span class={`load${share >= 1 ? ' full' : ''}`} title={`${n} ${label} of at most ${max}`}>
      <span class="load-bar">
        <span style={`width:${Math.round(share * 100)}%`} />
      </span>
      <span class="mono">
        {n} / {max}
      </span>
    </span>
  )
}

export function SessionsView({ ws }: { ws: WorkspaceRef }) {
  const { value: sessions, error } = useTopic<Record<string, SessionEntry>>(['workspaces', ws.id, 'sessions'])
  const entries = Object.entries(sessions ?? {}).sort((a, b) => Number(b[1].connected) - Number(a[1].connected) || a[0].localeCompare(b[0]))
  return (
    <div class="page">
      <WorkspaceCrumbs ws={ws} items={[{ label: 'Sessions' }]} />
      <div class="page-head">
        <h1>Sessions</h1>
        <span class="count">{entries.length}</span>
      </div>
      <Card flush>
        <TopicList
          what="Sessions"
          error={error}
          loaded={!!sessions}
          isEmpty={entries.length === 0}
          empty={
            <>
              No sessions. Start a worker with <code>coflux worker &lt;module&gt;</code>.
            </>
          }
        >
          <table class="table">
            <thead>
              <tr>
                <th>Session</th>
                <th>State</th>
                <th>Pool</th>
                <th>Executing</th>
                <th>Waiting</th>
                <th>Targets</th>
                <th>Provides</th>
                <th>Accepts</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([id, s]) => {
                const state = s.connected ? (s.workerState === 'draining' ? 'draining' : s.workerState === 'paused' ? 'paused' : 'connected') : 'disconnected'
                const targets = Object.entries(s.targets).flatMap(([module, names]) => names.map((n) => `${module}/${n}`))
                return (
                  <tr data-session={id}>
                    <td class="mono">{id}</td>
                    <td class="nowrap">
                      <StatusBadge status={state} />
                    </td>
                    <td>{s.poolName ?? <span class="faint">—</span>}</td>
                    <td>
                      <Load n={s.executing} max={s.concurrency} label="executing" />
                    </td>
                    <td>
                      <Load n={s.waiting} max={s.maxWaiting} label="waiting" />
                    </td>
                    <td>
                      <details class="targets">
                        <summary>{targets.length} targets</summary>
                        <span class="chips">{targets.map((t) => <span class="chip mono">{t}</span>)}</span>
                      </details>
                    </td>
                    <td>
                      <Tags tags={s.provides} />
                    </td>
                    <td>
                      <Tags tags={s.accepts} />
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </TopicList>
      </Card>
    </div>
  )
}
