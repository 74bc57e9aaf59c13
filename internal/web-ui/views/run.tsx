/**
 * A run, live: the header with its overall status and actions, the steps as a tree, a graph or
 * a timeline beside the selected step, then its logs and metrics.
 */
import { executionStatus, initialStep, isRunDone, latestAttempt } from '../../client/browser.ts'
import type { QueueEntry, RunSnapshot } from '../../protocol/api.ts'
import { splitExecutionId } from '../../protocol/ids.ts'
import { Ago, Card, Empty, Loading, StatusBadge, StatusDot, toast, WorkspaceCrumbs } from '../components/ui.tsx'
import { plural } from '../format.ts'
import { href, RUN_TABS, type Route, type RunTab } from '../route.ts'
import { navigate } from '../use-route.ts'
import { client, describeError } from '../session.ts'
import { topicErrorText, useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'
import { RunGraph } from './run-graph.tsx'
import { RunLogs } from './run-logs.tsx'
import { MetricCharts, RunMetrics, useRunMetrics } from './run-metrics.tsx'
import { RunTimeline } from './run-timeline.tsx'
import { RunTree } from './run-tree.tsx'
import { StepDetail } from './step-detail.tsx'

const TAB_LABEL: Record<RunTab, string> = { tree: 'Steps', graph: 'Graph', timeline: 'Timeline' }

export function RunView({ ws, route }: { ws: WorkspaceRef; route: Extract<Route, { name: 'run' }> }) {
  const { runId, tab } = route
  const { value: run, error } = useTopic<RunSnapshot>(['workspaces', ws.id, 'runs', runId])
  const { value: queue } = useTopic<Record<string, QueueEntry>>(['workspaces', ws.id, 'queue'])
  // steps reached from the initial one (cli.md §7.5, as `submit` waits): a rerun makes it active again
  const isActive = !run || !isRunDone(run, 'all')
  const metrics = useRunMetrics(runId, run, isActive)
  const init = run ? initialStep(run) : undefined
  const crumbs = (
    <WorkspaceCrumbs
      ws={ws}
      items={[...(init ? [{ label: `${init[1].module}/${init[1].target}`, href: href.workflow(ws.name, init[1].module, init[1].target) }] : []), { label: runId }]}
    />
  )
  if (error) return <div class="page">{crumbs}<Card><Empty>{topicErrorText(error, 'Run')}</Empty></Card></div>
  if (!run) return <div class="page">{crumbs}<Loading what="the run" /></div>

  const stepId = route.step && run.steps[route.step] ? route.step : (init?.[0] ?? null)
  const select = (step: string, attempt?: number | null) => navigate(href.run(ws.name, runId, { step, attempt, tab }))
  const selectExecution = (executionId: string) => {
    const id = splitExecutionId(executionId)
    if (id) select(id.stepId, Number(id.attempt))
  }
  const selectedStep = stepId ? run.steps[stepId] : undefined
  const selectedAttempt = selectedStep ? (route.attempt && selectedStep.executions[route.attempt] ? route.attempt : latestAttempt(selectedStep)?.[0]) : undefined
  const selectedExecution = selectedStep && selectedAttempt ? selectedStep.executions[selectedAttempt]?.executionId ?? null : null
  return (
    <div class="page run-page">
      {crumbs}
      <RunHeader ws={ws} run={run} runId={runId} />
      {/* the graph and the timeline need the page's width; the step panel goes below them */}
      <div class={tab === 'tree' ? 'run-layout' : 'run-layout wide'}>
        <Card
          class="run-main"
          title={
            <nav class="tabs" role="tablist">
              {RUN_TABS.map((t) => (
                <a role="tab" class={`tab${t === tab ? ' active' : ''}`} aria-selected={t === tab ? 'true' : 'false'} href={href.run(ws.name, runId, { step: route.step, attempt: route.attempt, tab: t })}>
                  {TAB_LABEL[t]}
                </a>
              ))}
            </nav>
          }
        >
          {tab === 'graph' ? (
            <RunGraph run={run} runId={runId} selected={stepId} onSelect={(s) => select(s)} />
          ) : tab === 'timeline' ? (
            <RunTimeline run={run} selected={stepId} onSelect={select} />
          ) : (
            <RunTree run={run} runId={runId} queue={queue ?? {}} selected={stepId} onSelect={(s) => select(s)} />
          )}
        </Card>
        <section class="card detail-card">
          <StepDetail ws={ws} run={run} runId={runId} stepId={stepId} attempt={selectedAttempt ?? null} queue={queue ?? {}} />
          {selectedExecution && metrics.some((p) => p.executionId === selectedExecution) && (
            <div class="card-body">
              <h3>Metrics of this attempt</h3>
              <MetricCharts points={metrics} run={run} executionId={selectedExecution} />
            </div>
          )}
        </section>
      </div>
      <RunLogs runId={runId} run={run} isActive={isActive} selectedExecution={selectedExecution} onSelect={selectExecution} />
      <RunMetrics points={metrics} run={run} />
    </div>
  )
}

function RunHeader({ ws, run, runId }: { ws: WorkspaceRef; run: RunSnapshot; runId: string }) {
  const init = initialStep(run)
  const latest = init ? latestAttempt(init[1]) : undefined
  const overall = latest ? executionStatus(latest[1]) : 'pending'
  const steps = Object.values(run.steps)
  const active = steps.filter((s) => {
    const l = latestAttempt(s)
    const st = l ? executionStatus(l[1]) : 'pending'
    return st === 'running' || st === 'pending'
  }).length
  const cancel = async () => {
    if (!latest) return
    try {
      await client.cancelExecution(ws.id, latest[1].executionId)
      toast(`Cancelled run ${runId}.`, true)
    } catch (err) {
      toast(describeError(err))
    }
  }
  const rerun = async () => {
    if (!init) return
    try {
      const res = await client.rerunStep(ws.id, init[0])
      toast(`Re-running as attempt #${res.attempt}.`, true)
    } catch (err) {
      toast(describeError(err))
    }
  }
  return (
    <div class="run-head">
      <StatusDot status={overall} />
      <div class="title">
        {init ? (
          <>
            <span class="subtle">{init[1].module}/</span>
            {init[1].target}
          </>
        ) : (
          runId
        )}
      </div>
      <span class="chip">{runId}</span>
      <StatusBadge status={overall} />
      {run.parent && (
        <span class="subtle">
          spawned by{' '}
          <a class="mono" href={href.execution(ws.name, run.parent.executionId)}>
            {run.parent.module}/{run.parent.target} {run.parent.executionId}
          </a>
        </span>
      )}
      <span class="spacer" />
      <span class="subtle">
        {plural(steps.length, 'step')}
        {active ? ` · ${active} active` : ''} · started <Ago ms={run.createdAt} />
      </span>
      {(overall === 'running' || overall === 'pending') && (
        <button type="button" class="btn btn-small btn-danger" onClick={cancel}>
          Cancel run
        </button>
      )}
      <button type="button" class="btn btn-small" onClick={rerun}>
        Re-run
      </button>
    </div>
  )
}
