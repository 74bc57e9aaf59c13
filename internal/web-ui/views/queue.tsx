/** The queue (http-api.md §11.3): every waiting or running execution with the reason it waits. */
import type { QueueEntry } from '../../protocol/api.ts'
import { Ago, Card, StatusBadge, Tags, WorkspaceCrumbs, TopicList } from '../components/ui.tsx'
import { href } from '../route.ts'
import { useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

export function QueueView({ ws }: { ws: WorkspaceRef }) {
  const { value: queue, error } = useTopic<Record<string, QueueEntry>>(['workspaces', ws.id, 'queue'])
  const entries = Object.entries(queue ?? {}).sort((a, b) => a[1].createdAt - b[1].createdAt)
  const counts = new Map<string, number>()
  for (const [, q] of entries) counts.set(q.status, (counts.get(q.status) ?? 0) + 1)
  return (
    <div class="page">
      <WorkspaceCrumbs ws={ws} items={[{ label: 'Queue' }]} />
      <div class="page-head">
        <h1>Queue</h1>
        <span class="count">{entries.length}</span>
        <span class="spacer" />
        <span class="chips">
          {[...counts].map(([status, n]) => (
            <StatusBadge status={status} text={`${n} ${status.replace(/_/g, ' ')}`} />
          ))}
        </span>
      </div>
      <Card flush>
        <TopicList
          what="Queue"
          error={error}
          loaded={!!queue}
          isEmpty={entries.length === 0}
          empty="Queue is empty."
        >
          <table class="table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Execution</th>
                <th>Target</th>
                <th>Reason</th>
                <th>Requires</th>
                <th>Dependencies</th>
                <th>Queued</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([id, q]) => (
                <tr data-execution={id}>
                  <td class="nowrap">
                    <StatusBadge status={q.status} />
                  </td>
                  <td>
                    <a class="mono" href={href.execution(ws.name, id)}>
                      {id}
                    </a>
                  </td>
                  <td class="mono">
                    <span class="subtle">{q.module}/</span>
                    {q.target}
                  </td>
                  <td class="reason">
                    {q.reason || '—'}
                    {q.executeAfter && (
                      <div class="faint">
                        after <Ago ms={q.executeAfter} />
                      </div>
                    )}
                  </td>
                  <td>
                    <Tags tags={q.requires} />
                  </td>
                  <td>
                    {q.dependencies.length ? (
                      <span class="chips">
                        {q.dependencies.map((d) => (d.includes('/') ? <span class="chip">{d}</span> : <a class="chip" href={href.execution(ws.name, d)}>{d}</a>))}
                      </span>
                    ) : (
                      <span class="faint">—</span>
                    )}
                  </td>
                  <td class="nowrap">
                    <Ago ms={q.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TopicList>
      </Card>
    </div>
  )
}
