/**
 * The step tree of a run (cli.md §8.2) in the terminal: one line per step of the tree that
 * client/run-tree.ts builds, groups of ≥ 2 shown as a header plus their first member, and an
 * optional height cap for the live view.
 */
import type { Colors } from './colors.ts'
import { latestAttempt, type ExecutionStatus } from '../client/run-status.ts'
import { buildRunTree, type RunTreeNode, type RunTreeStep } from '../client/run-tree.ts'
import type { RunSnapshot, Step } from '../protocol/api.ts'

export interface TreeOptions {
  /** cap the output at this many lines (terminal height − 1), ending with `… K more steps (M total)` */
  maxLines?: number
  /** truncate lines to this width */
  columns?: number
}

/**
 * @example
 * renderRunTree(snapshot, 'RwD6', colors, { maxLines: process.stdout.rows - 1 })
 * // ['● 1:1 app.flows/main [RwD6] Running...', '└─ ● 2:1 app.flows/step']
 */
export function renderRunTree(run: RunSnapshot, runId: string, c: Colors, options: TreeOptions = {}): string[] {
  const root = buildRunTree(run)
  if (!root) return [c.dim('(no steps)')]
  const lines: string[] = []
  flatten(root, runId, c, '', '', lines)
  // steps not reachable from the initial step (an earlier attempt's children) are not shown
  const total = Object.keys(run.steps).length
  let out = lines
  if (options.maxLines !== undefined && lines.length > options.maxLines) {
    const keep = Math.max(1, options.maxLines - 1)
    const hidden = lines.length - keep
    out = [...lines.slice(0, keep), c.dim(`… ${hidden} more step${hidden === 1 ? '' : 's'} (${total} total)`)]
  }
  return options.columns ? out.map((l) => truncate(l, options.columns!)) : out
}

function nodeText(node: RunTreeNode, runId: string, c: Colors): string {
  if (node.kind === 'group') {
    const summary = node.counts.map(([status, n]) => `${n} ${status}`)
    return `${c.bold(node.name)} 1 of ${node.memberIds.length} (${summary.join(', ')})`
  }
  return stepLine(node, runId, c)
}

function stepLine(node: RunTreeStep, runId: string, c: Colors): string {
  const { step, status } = node
  const dot = statusColor(status, c)('●')
  let line = `${dot} ${c.dim(`${step.stepNumber}:${node.attempt}`)} ${step.module}/${step.target}`
  if (node.isInitial) line += ` [${runId}]`
  const note = annotation(step, status, c)
  return note ? `${line} ${note}` : line
}

export function statusColor(status: ExecutionStatus, c: Colors): (s: string) => string {
  switch (status) {
    case 'completed':
      return c.green
    case 'cached':
      return (s) => c.dim(c.green(s))
    case 'running':
      return c.blue
    case 'error':
    case 'abandoned':
      return c.red
    case 'cancelled':
      return c.yellow
    default:
      return c.dim
  }
}

function annotation(step: Step, status: ExecutionStatus, c: Colors): string {
  switch (status) {
    case 'pending':
    case 'completed':
      return ''
    case 'cached':
      return c.dim('(cached)')
    case 'running':
      return c.blue('Running...')
    case 'cancelled':
      return c.yellow('(cancelled)')
    case 'abandoned':
      return c.red('(abandoned)')
    case 'error': {
      let result = latestAttempt(step)?.[1].result
      if (result?.type === 'spawned') result = result.result
      if (result?.type !== 'error') return c.red('error')
      const message = result.error.message.split('\n')[0] ?? ''
      return c.red(`${result.error.type}: ${message}`)
    }
    default:
      return c.dim(status)
  }
}

function flatten(node: RunTreeNode, runId: string, c: Colors, prefix: string, childPrefix: string, out: string[]): void {
  out.push(prefix + nodeText(node, runId, c))
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1
    flatten(child, runId, c, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '), out)
  })
}

function truncate(line: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
  if ([...plain].length <= width) return line
  // cutting inside colour codes is messy; drop colour on the rare overlong line
  return [...plain].slice(0, Math.max(1, width - 1)).join('') + '…'
}
