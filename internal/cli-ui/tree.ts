/**
 * The step tree of a run (cli.md §8.2): one line per step, children under the execution that
 * called them, siblings by step number, groups of ≥ 2 collapsed to a header plus their first
 * member, and an optional height cap for the live view.
 */
import type { Colors } from './colors.ts'
import { executionStatus, initialStep, latestAttempt, type ExecutionStatus } from '../client/run-status.ts'
import type { RunSnapshot, Step } from '../protocol/api.ts'
import { splitExecutionId } from '../protocol/ids.ts'

interface Node {
  kind: 'step' | 'group'
  text: string
  children: Node[]
}

export interface TreeOptions {
  /** cap the output at this many lines (terminal height − 1), ending with `… K more steps (M total)` */
  maxLines?: number
  /** truncate lines to this width */
  columns?: number
}

/** Order used to pick a group member's worst branch status: active states first. */
const WORST_FIRST: ExecutionStatus[] = [
  'running', 'pending', 'error', 'abandoned', 'timeout', 'cancelled', 'suspended', 'recurred', 'deferred', 'cached', 'completed',
]
/** Order of the counts in a group header. */
const COUNT_ORDER: ExecutionStatus[] = [
  'pending', 'running', 'error', 'abandoned', 'timeout', 'cancelled', 'suspended', 'recurred', 'deferred', 'cached', 'completed',
]

/**
 * @example
 * renderRunTree(snapshot, 'RwD6', colors, { maxLines: process.stdout.rows - 1 })
 * // ['● 1:1 app.flows/main [RwD6] Running...', '└─ ● 2:1 app.flows/step']
 */
export function renderRunTree(run: RunSnapshot, runId: string, c: Colors, options: TreeOptions = {}): string[] {
  const init = initialStep(run)
  if (!init) return [c.dim('(no steps)')]
  const ctx = { run, runId, c, initialId: init[0], seen: new Set<string>() }
  const root = stepNode(ctx, init[0], init[1])
  const lines: string[] = []
  flatten(root, '', '', lines)
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

interface Ctx {
  run: RunSnapshot
  runId: string
  c: Colors
  initialId: string
  seen: Set<string>
}

function stepNode(ctx: Ctx, stepId: string, step: Step): Node {
  ctx.seen.add(stepId)
  const latest = latestAttempt(step)
  const status: ExecutionStatus = latest ? executionStatus(latest[1]) : 'pending'
  const text = stepLine(ctx, stepId, step, latest?.[0] ?? 0, status)
  return { kind: 'step', text, children: latest ? childNodes(ctx, latest[1].executionId) : [] }
}

function childNodes(ctx: Ctx, executionId: string): Node[] {
  const { run } = ctx
  const execution = findExecution(run, executionId)
  const entries: { stepId: string; groupId: number | null }[] = []
  const listed = new Set<string>()
  for (const ch of execution?.children ?? []) {
    if (!listed.has(ch.stepId) && run.steps[ch.stepId]) {
      listed.add(ch.stepId)
      entries.push({ stepId: ch.stepId, groupId: ch.groupId ?? null })
    }
  }
  for (const [id, s] of Object.entries(run.steps)) {
    if (s.parentId === executionId && !listed.has(id)) {
      listed.add(id)
      entries.push({ stepId: id, groupId: null })
    }
  }
  const fresh = entries.filter((e) => !ctx.seen.has(e.stepId))
  fresh.sort((a, b) => run.steps[a.stepId]!.stepNumber - run.steps[b.stepId]!.stepNumber)

  const groups = new Map<number, string[]>()
  for (const e of fresh) if (e.groupId !== null) groups.set(e.groupId, [...(groups.get(e.groupId) ?? []), e.stepId])
  const out: Node[] = []
  const emittedGroups = new Set<number>()
  for (const e of fresh) {
    const members = e.groupId !== null ? groups.get(e.groupId)! : []
    if (members.length < 2) {
      out.push(stepNode(ctx, e.stepId, run.steps[e.stepId]!))
      continue
    }
    if (emittedGroups.has(e.groupId!)) continue
    emittedGroups.add(e.groupId!)
    const name = execution?.groups[String(e.groupId)] ?? 'group'
    const first = stepNode(ctx, members[0]!, run.steps[members[0]!]!)
    const counts = new Map<ExecutionStatus, number>()
    for (const id of members) {
      const worst = worstBranchStatus(ctx.run, id, new Set())
      counts.set(worst, (counts.get(worst) ?? 0) + 1)
    }
    for (const id of members.slice(1)) markSeen(ctx, id)
    const summary = COUNT_ORDER.filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`)
    out.push({ kind: 'group', text: `${ctx.c.bold(name)} 1 of ${members.length} (${summary.join(', ')})`, children: [first] })
  }
  return out
}

function markSeen(ctx: Ctx, stepId: string): void {
  if (ctx.seen.has(stepId)) return
  ctx.seen.add(stepId)
  const latest = latestAttempt(ctx.run.steps[stepId]!)
  if (!latest) return
  for (const [id, s] of Object.entries(ctx.run.steps)) if (s.parentId === latest[1].executionId) markSeen(ctx, id)
  for (const ch of latest[1].children) if (ctx.run.steps[ch.stepId]) markSeen(ctx, ch.stepId)
}

function worstBranchStatus(run: RunSnapshot, stepId: string, visiting: Set<string>): ExecutionStatus {
  visiting.add(stepId)
  const latest = latestAttempt(run.steps[stepId]!)
  if (!latest) return 'pending'
  let worst = executionStatus(latest[1])
  const childIds = new Set<string>(latest[1].children.map((ch) => ch.stepId))
  for (const [id, s] of Object.entries(run.steps)) if (s.parentId === latest[1].executionId) childIds.add(id)
  for (const id of childIds) {
    if (!run.steps[id] || visiting.has(id)) continue
    const s = worstBranchStatus(run, id, visiting)
    if (WORST_FIRST.indexOf(s) < WORST_FIRST.indexOf(worst)) worst = s
  }
  return worst
}

function findExecution(run: RunSnapshot, executionId: string) {
  const id = splitExecutionId(executionId)
  return id ? run.steps[id.stepId]?.executions[id.attempt] : undefined
}

function stepLine(ctx: Ctx, stepId: string, step: Step, attempt: number, status: ExecutionStatus): string {
  const { c } = ctx
  const dot = statusColor(status, c)('●')
  let line = `${dot} ${c.dim(`${step.stepNumber}:${attempt}`)} ${step.module}/${step.target}`
  if (stepId === ctx.initialId) line += ` [${ctx.runId}]`
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

function flatten(node: Node, prefix: string, childPrefix: string, out: string[]): void {
  out.push(prefix + node.text)
  node.children.forEach((child, i) => {
    const last = i === node.children.length - 1
    flatten(child, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '), out)
  })
}

function truncate(line: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '')
  if ([...plain].length <= width) return line
  // cutting inside colour codes is messy; drop colour on the rare overlong line
  return [...plain].slice(0, Math.max(1, width - 1)).join('') + '…'
}
