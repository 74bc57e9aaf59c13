/** Schedules (ours, issue 11): each with its cron in words, the next due time and what the last one did. */
import type { ScheduleEntry, SchedulesTopic } from '../../protocol/schedules.ts'
import { Card, StatusBadge, WorkspaceCrumbs, TopicList } from '../components/ui.tsx'
import { formatDateTime } from '../format.ts'
import { href } from '../route.ts'
import { useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

/** The badge of the last due time's outcome (`started` shows as completed: the run was started). */
const OUTCOME_STATUS: Record<NonNullable<ScheduleEntry['lastFire']>['outcome'], string> = {
  started: 'completed',
  skipped: 'delayed',
  missed: 'cancelled',
  failed: 'error',
}

export function SchedulesView({ ws }: { ws: WorkspaceRef }) {
  const { value: schedules, error } = useTopic<SchedulesTopic>(['workspaces', ws.id, 'schedules'])
  const entries = Object.values(schedules ?? {}).sort((a, b) => `${a.module}/${a.target}`.localeCompare(`${b.module}/${b.target}`) || a.id.localeCompare(b.id))
  return (
    <div class="page">
      <WorkspaceCrumbs ws={ws} items={[{ label: 'Schedules' }]} />
      <div class="page-head">
        <h1>Schedules</h1>
        <span class="count">{entries.length}</span>
      </div>
      <Card flush>
        <TopicList
          what="Schedules"
          error={error}
          loaded={!!schedules}
          isEmpty={entries.length === 0}
          empty={
            <>
              No schedules. Declare one with <code>@cf.workflow(schedule="0 6 * * *")</code> or create one with{' '}
              <code>coflux schedules create</code>.
            </>
          }
        >
          <table class="table">
            <thead>
              <tr>
                <th>State</th>
                <th>Workflow</th>
                <th>Cron</th>
                <th>Zone</th>
                <th>Next</th>
                <th>Last</th>
                <th>Policies</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((s) => (
                <tr data-schedule={s.id}>
                  <td class="nowrap">
                    <StatusBadge status={s.paused ? 'paused' : 'active'} />
                  </td>
                  <td class="mono">
                    <a href={href.workflow(ws.name, s.module, s.target)}>
                      <span class="subtle">{s.module}/</span>
                      {s.target}
                    </a>
                  </td>
                  <td>
                    <div class="mono nowrap">{s.cron}</div>
                    <div class="subtle">{s.description}</div>
                  </td>
                  <td class="mono">{s.timezone}</td>
                  <td class="nowrap">{s.nextFireAt === null ? '–' : formatDateTime(s.nextFireAt)}</td>
                  <td class="nowrap">{s.lastFire ? <LastFire ws={ws} last={s.lastFire} /> : '–'}</td>
                  <td class="nowrap subtle">
                    catch-up {s.catchUp}, overlap {s.overlap}
                  </td>
                  <td class="subtle">{s.source === 'manifest' ? 'decorator' : 'cli'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TopicList>
      </Card>
    </div>
  )
}

function LastFire({ ws, last }: { ws: WorkspaceRef; last: NonNullable<ScheduleEntry['lastFire']> }) {
  return (
    <span title={last.error ?? undefined}>
      {formatDateTime(last.dueAt)} <StatusBadge status={OUTCOME_STATUS[last.outcome]} text={last.outcome} />{' '}
      {last.runId && (
        <a class="mono" href={href.run(ws.name, last.runId)}>
          {last.runId}
        </a>
      )}
    </span>
  )
}
