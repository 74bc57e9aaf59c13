/**
 * The step tree of a run (cli.md §8.2) as data, drawn by the terminal (cli-ui/tree.ts) and by
 * the web UI: children under the execution that called them, siblings by step number, and a
 * group of ≥ 2 children of one execution summarised by the worst status of each member's branch.
 * Only steps reachable through each step's latest attempt are part of the tree.
 */
import type { Execution, RunSnapshot, Step } from '../protocol/api.ts'
import { splitExecutionId } from '../protocol/ids.ts'
import { executionStatus, initialStep, latestAttempt, type ExecutionStatus } from './run-status.ts'

export type RunTreeNode = RunTreeStep | RunTreeGroup

export interface RunTreeStep {
  kind: 'step'
  stepId: string
  step: Step
  /** latest attempt number, 0 when there is none yet */
  attempt: number
  execution: Execution | undefined
  status: ExecutionStatus
  isInitial: boolean
  children: RunTreeNode[]
}

export interface RunTreeGroup {
  kind: 'group'
  /** the group's name as the caller gave it, else `group` */
  name: string
  /** the members' step ids, by step number */
  memberIds: string[]
  /** members per worst branch status, in `GROUP_COUNT_ORDER` */
  counts: [ExecutionStatus, number][]
  /** the first member only (`members: 'first'`, the terminal's view) or all of them */
  children: RunTreeStep[]
}

export interface RunTreeOptions {
  /** which members of a group become nodes; default `first` */
  members?: 'first' | 'all'
}

/** Order used to pick a branch's worst status: active states first. */
export const WORST_FIRST: readonly ExecutionStatus[] = [
  'running', 'pending', 'error', 'abandoned', 'timeout', 'cancelled', 'suspended', 'recurred', 'deferred', 'cached', 'completed',
]
/** Order of the counts in a group summary. */
export const GROUP_COUNT_ORDER: readonly ExecutionStatus[] = [
  'pending', 'running', 'error', 'abandoned', 'timeout', 'cancelled', 'suspended', 'recurred', 'deferred', 'cached', 'completed',
]

interface Ctx {
  run: RunSnapshot
  initialId: string
  seen: Set<string>
  members: 'first' | 'all'
}

/**
 * The tree from the run's initial step, or undefined when the run has no steps yet.
 *
 * @example
 * const root = buildRunTree(snapshot)
 * if (root) for (const child of root.children) draw(child)
 */
export function buildRunTree(run: RunSnapshot, options: RunTreeOptions = {}): RunTreeStep | undefined {
  const init = initialStep(run)
  if (!init) return undefined
  return stepNode({ run, initialId: init[0], seen: new Set(), members: options.members ?? 'first' }, init[0], init[1])
}

/** The step's latest status, `pending` before its first attempt. */
export function stepStatus(step: Step): ExecutionStatus {
  const latest = latestAttempt(step)
  return latest ? executionStatus(latest[1]) : 'pending'
}

/** Ids of the steps an execution called: its listed children, then steps naming it as parent. */
export function childStepIds(run: RunSnapshot, execution: Execution): { stepId: string; groupId: number | null }[] {
  const entries: { stepId: string; groupId: number | null }[] = []
  const listed = new Set<string>()
  for (const ch of execution.children) {
    if (!listed.has(ch.stepId) && run.steps[ch.stepId]) {
      listed.add(ch.stepId)
      entries.push({ stepId: ch.stepId, groupId: ch.groupId ?? null })
    }
  }
  for (const [id, s] of Object.entries(run.steps)) {
    if (s.parentId === execution.executionId && !listed.has(id)) {
      listed.add(id)
      entries.push({ stepId: id, groupId: null })
    }
  }
  return entries
}

/** The execution with this id in the run, if the run holds it. */
export function findExecution(run: RunSnapshot, executionId: string): Execution | undefined {
  const id = splitExecutionId(executionId)
  return id ? run.steps[id.stepId]?.executions[id.attempt] : undefined
}

/** The worst status in a step's branch (itself and everything below its latest attempt). */
export function worstBranchStatus(run: RunSnapshot, stepId: string, visiting = new Set<string>()): ExecutionStatus {
  visiting.add(stepId)
  const latest = latestAttempt(run.steps[stepId]!)
  if (!latest) return 'pending'
  let worst = executionStatus(latest[1])
  for (const { stepId: id } of childStepIds(run, latest[1])) {
    if (visiting.has(id)) continue
    const s = worstBranchStatus(run, id, visiting)
    if (WORST_FIRST.indexOf(s) < WORST_FIRST.indexOf(worst)) worst = s
  }
  return worst
}

function stepNode(ctx: Ctx, stepId: string, step: Step): RunTreeStep {
  ctx.seen.add(stepId)
  const latest = latestAttempt(step)
  return {
    kind: 'step',
    stepId,
    step,
    attempt: latest?.[0] ?? 0,
    execution: latest?.[1],
    status: latest ? executionStatus(latest[1]) : 'pending',
    isInitial: stepId === ctx.initialId,
    children: latest ? childNodes(ctx, latest[1]) : [],
  }
}

function childNodes(ctx: Ctx, execution: Execution): RunTreeNode[] {
  const { run } = ctx
  const fresh = childStepIds(run, execution).filter((e) => !ctx.seen.has(e.stepId))
  fresh.sort((a, b) => run.steps[a.stepId]!.stepNumber - run.steps[b.stepId]!.stepNumber)
  const groups = new Map<number, string[]>()
  for (const e of fresh) if (e.groupId !== null) groups.set(e.groupId, [...(groups.get(e.groupId) ?? []), e.stepId])
  const out: RunTreeNode[] = []
  const emitted = new Set<number>()
  for (const e of fresh) {
    const members = e.groupId !== null ? groups.get(e.groupId)! : []
    if (members.length < 2) {
      out.push(stepNode(ctx, e.stepId, run.steps[e.stepId]!))
      continue
    }
    if (emitted.has(e.groupId!)) continue
    emitted.add(e.groupId!)
    const counts = new Map<ExecutionStatus, number>()
    for (const id of members) {
      const worst = worstBranchStatus(run, id)
      counts.set(worst, (counts.get(worst) ?? 0) + 1)
    }
    const shown = ctx.members === 'all' ? members : members.slice(0, 1)
    const children = shown.map((id) => stepNode(ctx, id, run.steps[id]!))
    for (const id of members) if (!ctx.seen.has(id)) markSeen(ctx, id)
    out.push({
      kind: 'group',
      name: execution.groups[String(e.groupId)] ?? 'group',
      memberIds: members,
      counts: GROUP_COUNT_ORDER.filter((s) => counts.has(s)).map((s) => [s, counts.get(s)!]),
      children,
    })
  }
  return out
}

/** Hidden group members' branches are not shown elsewhere in the tree either. */
function markSeen(ctx: Ctx, stepId: string): void {
  ctx.seen.add(stepId)
  const latest = latestAttempt(ctx.run.steps[stepId]!)
  if (!latest) return
  for (const { stepId: id } of childStepIds(ctx.run, latest[1])) if (!ctx.seen.has(id)) markSeen(ctx, id)
}
