/**
 * The step tree of a run (cli.md §8.2) in the terminal: one line per step of the tree that
 * client/run-tree.ts builds, groups of ≥ 2 shown as a header plus their first member, each step
 * with how long its latest attempt ran (still running: so far, when `now` is given), and an
 * optional height cap for the live view.
 */
import type { Colors } from './colors.ts'
import { latestAttempt, type ExecutionStatus } from '../client/run-status.ts'
import { buildRunTree, type RunTreeNode, type RunTreeStep } from '../client/run-tree.ts'
import type { Execution, RunSnapshot, Step } from '../protocol/api.ts'
import { formatDuration } from '../client/value-text.ts'

export interface TreeOptions {
  /** cap the output at this many lines (terminal height − 1), ending with `… K more steps (M total)` */
  maxLines?: number
  /** truncate lines to this width */
  columns?: number
  /** the live view's clock: running steps show how long they have run so far */
  now?: number
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
  flatten(root, { runId, c, now: options.now }, '', '', lines)
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

interface LineContext {
  runId: string
  c: Colors
  now?: number
}

function nodeText(node: RunTreeNode, x: LineContext): string {
  if (node.kind === 'group') {
    const summary = node.counts.map(([status, n]) => `${n} ${status}`)
    return `${x.c.bold(node.name)} 1 of ${node.memberIds.length} (${summary.join(', ')})`
  }
  return stepLine(node, x)
}

function stepLine(node: RunTreeStep, { runId, c, now }: LineContext): string {
  const { step, status } = node
  const dot = statusColor(status, c)('●')
  let line = `${dot} ${c.dim(`${step.stepNumber}:${node.attempt}`)} ${step.module}/${step.target}`
  if (node.isInitial) line += ` [${runId}]`
  const ran = status === 'cached' ? null : ranFor(node.execution, now)
  if (ran !== null) line += ` ${c.dim(formatStepDuration(ran))}`
  const note = annotation(step, status, c)
  return note ? `${line} ${note}` : line
}

/** Assigned → result, or assigned → `now` while it runs; null when it never ran on a worker. */
function ranFor(execution: Execution | undefined, now: number | undefined): number | null {
  if (!execution || execution.assignedAt === null) return null
  if (execution.completedAt !== null) return Math.max(0, execution.completedAt - execution.assignedAt)
  return now === undefined ? null : Math.max(0, now - execution.assignedAt)
}

/**
 * Milliseconds under a second, tenths under ten seconds, whole seconds after that.
 *
 * @example
 * formatStepDuration(340) // '340ms'; formatStepDuration(1_250) // '1.3s'; formatStepDuration(95_000) // '1m35s'
 */
export function formatStepDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  return formatDuration(ms < 10_000 ? Math.round(ms / 100) / 10 : Math.round(ms / 1000))
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

function flatten(node: RunTreeNode, x: LineContext, prefix: string, childPrefix: string, out: string[]): void {
  out.push(prefix + nodeText(node, x))
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1
    flatten(child, x, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '), out)
  })
}

function truncate(line: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
  if ([...plain].length <= width) return line
  // cutting inside colour codes is messy; drop colour on the rare overlong line
  return [...plain].slice(0, Math.max(1, width - 1)).join('') + '…'
}
