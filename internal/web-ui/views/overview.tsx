/** A workspace at a glance: live counts, and each workflow with its active and latest runs. */
import type { ModulesTopic, QueueEntry, SessionEntry, WorkflowTopic } from '../../protocol/api.ts'
import { Ago, Card, Empty, Loading, StatusBadge, StatusDot, toast, WorkspaceCrumbs } from '../components/ui.tsx'
import { formatDateTime, plural } from '../format.ts'
import { href } from '../route.ts'
import { client, describeError } from '../session.ts'
import { topicErrorText, useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

/** Each shown workflow subscribes to its topic: bounded, one socket each. */
const MAX_WORKFLOWS_WITH_RUNS = 40

export function OverviewView({ ws }: { ws: WorkspaceRef }) {
  const modules = useTopic<ModulesTopic>(['workspaces', ws.id, 'modules'])
  const queue = useTopic<Record<string, QueueEntry>>(['workspaces', ws.id, 'queue'])
  const sessions = useTopic<Record<string, SessionEntry>>(['workspaces', ws.id, 'sessions'])
  const queued = Object.values(queue.value ?? {})
  const connected = Object.values(sessions.value ?? {}).filter((s) => s.connected).length
  const workflows = Object.entries(modules.value ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([module, m]) => Object.entries(m.workflows).sort(([a], [b]) => a.localeCompare(b)).map(([name, wf]) => ({ module, name, active: wf.activeRuns })))
  const activeRuns = workflows.reduce((n, w) => n + w.active.length, 0)
  const stat = (n: number, label: string, to: string) => (
    <div class="card stat">
      <a href={to}>
        <div class="num">{n}</div>
        <div class="lbl">{label}</div>
      </a>
    </div>
  )
  const toggle = async () => {
    try {
      if (ws.summary.state === 'paused') await client.resumeWorkspace(ws.id)
      else await client.pauseWorkspace(ws.id)
    } catch (err) {
      toast(describeError(err))
    }
  }
  return (
    <div class="page">
      <WorkspaceCrumbs ws={ws} items={[]} />
      <div class="page-head">
        <h1>{ws.name}</h1>
        <StatusBadge status={ws.summary.state} />
        <span class="spacer" />
        <button type="button" class="btn" onClick={toggle}>
          {ws.summary.state === 'paused' ? 'Resume' : 'Pause'}
        </button>
      </div>
      <div class="stats">
        {stat(activeRuns, 'active runs', href.workspace(ws.name))}
        {stat(queued.length, 'queued executions', href.queue(ws.name))}
        {stat(queued.filter((q) => q.status === 'assigned').length, 'running now', href.queue(ws.name))}
        {stat(connected, plural(connected, 'connected session').replace(/^\d+ /, ''), href.sessions(ws.name))}
      </div>
      {modules.error ? (
        <Card>
          <Empty>{topicErrorText(modules.error, 'Workspace')}</Empty>
        </Card>
      ) : !modules.value ? (
        <Loading />
      ) : workflows.length === 0 ? (
        <Card>
          <Empty>
            No workflows registered yet. Start a worker with <code>coflux worker --dev &lt;module&gt;</code> or run <code>coflux manifests register</code>.
          </Empty>
        </Card>
      ) : (
        <Card title="Workflows" flush>
          {workflows.map((w, i) => (
            <WorkflowRow ws={ws} module={w.module} name={w.name} active={w.active} withRuns={i < MAX_WORKFLOWS_WITH_RUNS} />
          ))}
        </Card>
      )}
    </div>
  )
}

function WorkflowRow({ ws, module, name, active, withRuns }: { ws: WorkspaceRef; module: string; name: string; active: string[]; withRuns: boolean }) {
  const topic = useTopic<WorkflowTopic>(withRuns ? ['workspaces', ws.id, 'workflows', module, name] : null)
  const activeSet = new Set(active)
  const recent = Object.values(topic.value?.runs ?? {})
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, 6)
  for (const id of active) if (!recent.some((r) => r.id === id)) recent.unshift({ id, createdAt: 0, createdBy: null })
  return (
    <div class="wf-row">
      <a class="wf-name" href={href.workflow(ws.name, module, name)}>
        <span class="subtle">{module}/</span>
        {name}
      </a>
      <span class="faint">{recent[0]?.createdAt ? <>last run <Ago ms={recent[0].createdAt} /></> : withRuns ? 'no runs yet' : ''}</span>
      <div class="wf-runs">
        {recent.slice(0, 6).map((r) => (
          <a class={`chip${activeSet.has(r.id) ? ' run-active' : ''}`} href={href.run(ws.name, r.id)} title={r.createdAt ? formatDateTime(r.createdAt) : 'active'}>
            <StatusDot status={activeSet.has(r.id) ? 'running' : 'finished'} title={activeSet.has(r.id) ? 'active' : 'finished'} />
            {r.id}
          </a>
        ))}
      </div>
    </div>
  )
}
