/**
 * A workspace's pages: the sidebar (sections with live counts, the registered workflows) and the
 * view the route names. The URL names the workspace by name (`#/ws/default/…`) or by id.
 */
import type { InputSummary, ModulesTopic, QueueEntry, SessionEntry, WorkspaceSummary } from '../../protocol/api.ts'
import type { SchedulesTopic } from '../../protocol/schedules.ts'
import { Card, Crumbs, Empty, Loading } from '../components/ui.tsx'
import { href, type WorkspaceRoute } from '../route.ts'
import { topicErrorText, useTopic } from '../topics.ts'
import { resolveWorkspace, type WorkspaceRef } from '../workspace-ref.ts'
import { InputsView } from './inputs.tsx'
import { OverviewView } from './overview.tsx'
import { PoolView, PoolsView } from './pools.tsx'
import { QueueView } from './queue.tsx'
import { RunView } from './run.tsx'
import { SchedulesView } from './schedules.tsx'
import { SessionsView } from './sessions.tsx'
import { WorkflowView } from './workflow.tsx'

export function WorkspaceShell({ route }: { route: WorkspaceRoute }) {
  const { value: all, error } = useTopic<Record<string, WorkspaceSummary>>(['workspaces'])
  if (error) return <Empty>{topicErrorText(error, 'Workspaces')}</Empty>
  if (!all) return <Loading />
  const ws = resolveWorkspace(all, route.ws)
  if (!ws || ws.summary.state === 'archived') {
    return (
      <div class="page">
        <Crumbs items={[{ label: 'Workspaces', href: '#/' }, { label: route.ws }]} />
        <Card>
          <Empty>
            Workspace '{route.ws}' not found{ws ? ' (archived)' : ''}. <a href="#/">All workspaces</a>
          </Empty>
        </Card>
      </div>
    )
  }
  return (
    <div class="ws-layout">
      <Sidebar ws={ws} route={route} />
      <div class="ws-main">
        <Inner ws={ws} route={route} />
      </div>
    </div>
  )
}

function Inner({ ws, route }: { ws: WorkspaceRef; route: WorkspaceRoute }) {
  switch (route.name) {
    case 'overview':
      return <OverviewView ws={ws} />
    case 'queue':
      return <QueueView ws={ws} />
    case 'sessions':
      return <SessionsView ws={ws} />
    case 'pools':
      return <PoolsView ws={ws} />
    case 'pool':
      return <PoolView ws={ws} name={route.pool} />
    case 'inputs':
      return <InputsView ws={ws} />
    case 'schedules':
      return <SchedulesView ws={ws} />
    case 'workflow':
      return <WorkflowView ws={ws} module={route.module} target={route.target} />
    case 'run':
      return <RunView ws={ws} route={route} />
  }
}

function Sidebar({ ws, route }: { ws: WorkspaceRef; route: WorkspaceRoute }) {
  const modules = useTopic<ModulesTopic>(['workspaces', ws.id, 'modules'])
  const queue = useTopic<Record<string, QueueEntry>>(['workspaces', ws.id, 'queue'])
  const sessions = useTopic<Record<string, SessionEntry>>(['workspaces', ws.id, 'sessions'])
  const inputs = useTopic<Record<string, InputSummary>>(['workspaces', ws.id, 'inputs'])
  const schedules = useTopic<SchedulesTopic>(['workspaces', ws.id, 'schedules'])
  const count = (v: object | undefined) => (v ? Object.keys(v).length : null)
  const connected = sessions.value ? Object.values(sessions.value).filter((s) => s.connected).length : null
  const link = (to: string, label: string, isActive: boolean, n: number | null = null, isLive = false) => (
    <a class={`side-link${isActive ? ' active' : ''}`} href={to}>
      <span class="name">{label}</span>
      {n !== null && <span class={`count${isLive && n > 0 ? ' live' : ''}`}>{n}</span>}
    </a>
  )
  const workflowItems = Object.entries(modules.value ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([module, m]) => (
      <>
        <div class="side-module" title={module}>
          {module}
        </div>
        {Object.entries(m.workflows)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, wf]) =>
            link(
              href.workflow(ws.name, module, name),
              name,
              route.name === 'workflow' && route.module === module && route.target === name,
              wf.activeRuns.length || null,
              true,
            ),
          )}
      </>
    ))
  return (
    <aside class="sidebar">
      <h3>Workspace</h3>
      {link(href.workspace(ws.name), 'Overview', route.name === 'overview')}
      {link(href.queue(ws.name), 'Queue', route.name === 'queue', count(queue.value), true)}
      {link(href.sessions(ws.name), 'Sessions', route.name === 'sessions', connected)}
      {link(href.pools(ws.name), 'Pools', route.name === 'pools' || route.name === 'pool')}
      {link(href.inputs(ws.name), 'Inputs', route.name === 'inputs', count(inputs.value), true)}
      {link(href.schedules(ws.name), 'Schedules', route.name === 'schedules', count(schedules.value))}
      <h3>Workflows</h3>
      {modules.error ? (
        <div class="side-module">{topicErrorText(modules.error, 'Workflows')}</div>
      ) : !modules.value ? (
        <div class="side-module">Loading…</div>
      ) : workflowItems.length === 0 ? (
        <div class="side-module">No workflows registered</div>
      ) : (
        workflowItems
      )}
    </aside>
  )
}
