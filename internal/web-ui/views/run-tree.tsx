/** The run's step tree (client/run-tree.ts, the CLI's tree), one clickable row per step. */
import { buildRunTree, type RunTreeNode, type RunTreeStep } from '../../client/browser.ts'
import type { QueueEntry, RunSnapshot } from '../../protocol/api.ts'
import { Empty, StatusDot } from '../components/ui.tsx'

export function RunTree({ run, runId, queue, selected, onSelect }: { run: RunSnapshot; runId: string; queue: Record<string, QueueEntry>; selected: string | null; onSelect: (stepId: string) => void }) {
  const root = buildRunTree(run, { members: 'all' })
  if (!root) return <Empty>No steps yet.</Empty>
  const stepRow = (node: RunTreeStep) => {
    const { step, status, execution } = node
    let note: string | null = null
    let isError = false
    if (status === 'running') note = 'Running…'
    else if (status === 'pending') note = execution ? (queue[execution.executionId]?.reason ?? null) : null
    else if (status === 'error') {
      let result = execution?.result
      if (result?.type === 'spawned') result = result.result
      if (result?.type === 'error') note = `${result.error.type.replace(/^builtins\./, '')}: ${result.error.message.split('\n')[0]}`
      isError = true
    } else if (status !== 'completed') note = `(${status})`
    const attemptsCount = Object.keys(step.executions).length
    return (
      <div class={`tree-row${node.stepId === selected ? ' selected' : ''}`} data-step={node.stepId} onClick={() => onSelect(node.stepId)} title={`${step.module}/${step.target} · ${node.stepId}`}>
        <StatusDot status={status} />
        <span class="num">
          {step.stepNumber}:{node.attempt || '-'}
        </span>
        <span class="target">
          <span class="module">{step.module}/</span>
          {step.target}
        </span>
        {node.isInitial && <span class="runid">[{runId}]</span>}
        {attemptsCount > 1 && <span class="chip" title="attempts">×{attemptsCount}</span>}
        {note && <span class={isError ? 'note err' : 'note'}>{note}</span>}
      </div>
    )
  }
  const item = (node: RunTreeNode) => {
    if (node.kind === 'step') {
      return (
        <li>
          {stepRow(node)}
          {node.children.length > 0 && <ul class="tree">{node.children.map(item)}</ul>}
        </li>
      )
    }
    const summary = node.counts.map(([s, n]) => `${n} ${s}`).join(', ')
    return (
      <li>
        <details class="tree-group" open={node.memberIds.length <= 10}>
          <summary>
            <span class="gname">{node.name}</span> <span class="faint">{node.memberIds.length} steps ({summary})</span>
          </summary>
          <ul class="tree">{node.children.map(item)}</ul>
        </details>
      </li>
    )
  }
  return <ul class="tree">{item(root)}</ul>
}
