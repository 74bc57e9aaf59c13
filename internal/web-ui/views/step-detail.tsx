/** The selected step: its attempts, configuration, arguments, result, links and inputs; rerun and cancel. */
import { attempts, executionStatus } from '../../client/browser.ts'
import type { Execution, QueueEntry, Result, RunSnapshot } from '../../protocol/api.ts'
import { formatTraceback } from '../../protocol/values.ts'
import { Ago, Empty, StatusBadge, StatusDot, Tags, toast } from '../components/ui.tsx'
import { ValueView } from '../components/value.tsx'
import { formatDateTime, formatMs } from '../format.ts'
import { href } from '../route.ts'
import { navigate } from '../use-route.ts'
import { client, describeError } from '../session.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'
import { InputPanel } from './inputs.tsx'
import { cacheText, retriesText } from './workflow.tsx'

export interface StepDetailProps {
  ws: WorkspaceRef
  run: RunSnapshot
  runId: string
  stepId: string | null
  attempt: number | null
  queue: Record<string, QueueEntry>
}

export function StepDetail({ ws, run, runId, stepId, attempt, queue }: StepDetailProps) {
  const step = stepId ? run.steps[stepId] : undefined
  if (!step || !stepId) return <Empty>Select a step.</Empty>
  const all = attempts(step)
  const chosen = all.find(([n]) => n === attempt) ?? all[all.length - 1]
  const execution = chosen?.[1]
  const status = execution ? executionStatus(execution) : 'pending'
  const queued = execution ? queue[execution.executionId] : undefined
  const isActive = status === 'running' || status === 'pending'

  const cancel = async () => {
    try {
      await client.cancelExecution(ws.id, execution!.executionId)
      toast(`Cancelled ${execution!.executionId}.`, true)
    } catch (err) {
      toast(describeError(err))
    }
  }
  const rerun = async () => {
    try {
      const res = await client.rerunStep(ws.id, stepId)
      navigate(href.run(ws.name, runId, { step: stepId, attempt: res.attempt, tab: currentTab() }))
    } catch (err) {
      toast(describeError(err))
    }
  }
  const meta: [string, unknown][] = []
  if (execution) {
    meta.push(['Execution', <span class="mono">{execution.executionId}</span>])
    meta.push(['Status', <><StatusBadge status={status} />{queued?.reason ? <span class="subtle"> {queued.reason}</span> : null}</>])
    meta.push(['Created', <><Ago ms={execution.createdAt} /><span class="faint"> · {formatDateTime(execution.createdAt)}</span></>])
    if (execution.executeAfter) meta.push(['Execute after', formatDateTime(execution.executeAfter)])
    if (execution.assignedAt) meta.push(['Started', `${formatDateTime(execution.assignedAt)} · waited ${formatMs(execution.assignedAt - execution.createdAt)}`])
    if (execution.completedAt) meta.push(['Finished', `${formatDateTime(execution.completedAt)} · took ${formatMs(execution.completedAt - (execution.assignedAt ?? execution.createdAt))}`])
    if (execution.createdBy) meta.push(['Created by', `${execution.createdBy.type}:${execution.createdBy.externalId}`])
  }
  if (step.parentId) meta.push(['Called by', <a class="mono" href={href.execution(ws.name, step.parentId)}>{step.parentId}</a>])
  if (step.retries) meta.push(['Retries', retriesText(step.retries)])
  if (step.timeout) meta.push(['Timeout', formatMs(step.timeout)])
  if (step.cacheConfig) meta.push(['Cache', cacheText(step.cacheConfig) + (step.cacheKey ? ` · key ${step.cacheKey}` : '')])
  if (step.memoKey) meta.push(['Memo key', step.memoKey])
  if (step.recurrent) meta.push(['Recurrent', 'yes'])
  if (Object.keys(step.requires).length) meta.push(['Requires', <Tags tags={step.requires} />])

  return (
    <div class="step-detail" data-step={stepId}>
      <div class="card-head">
        <StatusDot status={status} />
        <h2 class="mono">
          <span class="subtle">{step.module}/</span>
          {step.target}
        </h2>
        <span class="chip">{stepId}</span>
        <span class="spacer" />
        {execution && isActive && (
          <button type="button" class="btn btn-small btn-danger" onClick={cancel}>
            Cancel
          </button>
        )}
        <button type="button" class="btn btn-small" onClick={rerun}>
          Re-run
        </button>
      </div>
      <div class="card-body">
        <div class="attempts">
          {all.map(([n, e]) => (
            <a class={`attempt-tab${n === chosen?.[0] ? ' active' : ''}`} href={href.run(ws.name, runId, { step: stepId, attempt: n, tab: currentTab() })}>
              <StatusDot status={executionStatus(e)} />#{n} <span class="faint">{executionStatus(e)}</span>
            </a>
          ))}
        </div>
        <dl class="kv">
          {meta.map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v as string}</dd>
            </>
          ))}
        </dl>
        <Section title="Arguments">
          {step.arguments.length ? (
            <div class="args">
              {step.arguments.map((a, i) => (
                <>
                  <span class="aname">{i}</span>
                  <ValueView value={a} />
                </>
              ))}
            </div>
          ) : (
            <div class="subtle">None</div>
          )}
        </Section>
        <Section title="Result">{execution ? <ResultView ws={ws} result={execution.result} execution={execution} queued={queued} /> : <div class="subtle">No attempts yet.</div>}</Section>
        {execution && <Links ws={ws} execution={execution} />}
      </div>
    </div>
  )
}

/** The view's tab, kept when following links inside the run. */
function currentTab(): 'tree' | 'graph' | 'timeline' {
  const tab = new URLSearchParams(location.hash.split('?')[1] ?? '').get('tab')
  return tab === 'graph' || tab === 'timeline' ? tab : 'tree'
}

function Section({ title, children }: { title: string; children?: unknown }) {
  return (
    <div class="section">
      <h3>{title}</h3>
      {children as string}
    </div>
  )
}

function ResultView({ ws, result, execution, queued, depth = 0 }: { ws: WorkspaceRef; result: Result | null; execution: Execution; queued?: QueueEntry; depth?: number }) {
  if (!result) {
    if (depth > 0) return <div class="notice">Waiting for the result…</div>
    if (execution.assignedAt) return <div class="notice">Running…</div>
    return <div class="notice">{queued ? `Pending — ${queued.reason || queued.status}` : 'Pending'}</div>
  }
  switch (result.type) {
    case 'value':
      return <ValueView value={result.value} />
    case 'error':
      return (
        <div class="error-box">
          <div class="error-title">
            <span class="etype">{result.error.type.replace(/^builtins\./, '')}</span>: <span class="emsg">{result.error.message}</span>
          </div>
          {result.error.frames.length > 0 && <pre class="traceback">{`Traceback (most recent call last):\n${formatTraceback(result.error.frames)}`}</pre>}
          {result.retry ? <div class="subtle">Retried as attempt #{result.retry}.</div> : result.retryable === false ? <div class="subtle">Not retryable.</div> : null}
        </div>
      )
    case 'abandoned':
    case 'timeout':
      return (
        <div class="notice warn">
          {result.type === 'timeout' ? 'The execution timed out.' : 'The execution was abandoned (its worker went away).'}
          {result.retry ? ` Retried as attempt #${result.retry}.` : ''}
        </div>
      )
    case 'cancelled':
      return <div class="notice warn">Cancelled.</div>
    case 'suspended':
    case 'recurred':
      return <div class="notice">{result.type === 'suspended' ? 'Suspended.' : 'Recurred.'}{result.successor ? ` Continued in attempt #${result.successor}.` : ''}</div>
    case 'cached':
    case 'deferred':
    case 'spawned': {
      const verb = { cached: 'Cached result of', deferred: 'Deferred to', spawned: 'Spawned' }[result.type]
      const target = result.execution
      return (
        <div>
          <div class="subtle">
            {verb}{' '}
            {target ? (
              <a class="mono" href={href.execution(ws.name, target.executionId)}>
                {target.module ? `${target.module}/${target.target} ` : ''}
                {target.executionId}
              </a>
            ) : (
              '?'
            )}
          </div>
          <div class="section">
            <ResultView ws={ws} result={result.result} execution={execution} depth={depth + 1} />
          </div>
        </div>
      )
    }
  }
}

function Links({ ws, execution }: { ws: WorkspaceRef; execution: Execution }) {
  const deps = Object.entries(execution.dependencies)
  const assets = Object.entries(execution.assets)
  const inputs = Object.entries(execution.inputs)
  return (
    <>
      {deps.length > 0 && (
        <Section title="Dependencies">
          <div class="chips">
            {deps.map(([id, d]) =>
              d.type === 'result' ? (
                <a class="chip" href={href.execution(ws.name, id)}>{`${d.execution.module}/${d.execution.target} ${id}`}</a>
              ) : d.type === 'input' ? (
                <span class="chip">{`✎ ${d.title ?? id} · ${d.status ?? 'pending'}`}</span>
              ) : (
                <span class="chip">{`▣ ${d.asset.name ?? id}`}</span>
              ),
            )}
          </div>
        </Section>
      )}
      {assets.length > 0 && (
        <Section title="Assets">
          <div class="chips">
            {assets.map(([id, a]) => (
              <span class="chip" title={id}>{`▣ ${a.name ?? id} · ${a.totalCount ?? '?'} files`}</span>
            ))}
          </div>
        </Section>
      )}
      {inputs.length > 0 && (
        <Section title="Inputs">
          {inputs.map(([id, input]) =>
            input.status === null ? (
              <div class="card inline-input">
                <div class="card-head">
                  <h2>{input.title ?? id}</h2>
                  <span class="chip">{id}</span>
                </div>
                <div class="card-body">
                  <InputPanel inputId={id} />
                </div>
              </div>
            ) : (
              <span class="chip" title={id}>{`✎ ${input.title ?? id} · ${input.status}`}</span>
            ),
          )}
        </Section>
      )}
    </>
  )
}
