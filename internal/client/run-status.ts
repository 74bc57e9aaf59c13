/**
 * Execution status and "done" (cli.md §7.5), shared by the live tree, waiting commands and
 * exit codes. Attempts are compared numerically ("10" after "9"; 0.12 compared strings).
 */
import type { Execution, Result, RunSnapshot, Step } from '../protocol/api.ts'

export type ExecutionStatus =
  | 'pending'
  | 'running'
  | 'completed'
  | 'cached'
  | 'deferred'
  | 'error'
  | 'cancelled'
  | 'abandoned'
  | 'timeout'
  | 'suspended'
  | 'recurred'

/** Attempts of a step, lowest first. */
export function attempts(step: Step): [number, Execution][] {
  return Object.entries(step.executions)
    .map(([k, e]): [number, Execution] => [Number(k), e])
    .sort((a, b) => a[0] - b[0])
}

/** The highest attempt of a step, if any. */
export function latestAttempt(step: Step): [number, Execution] | undefined {
  const all = attempts(step)
  return all[all.length - 1]
}

/** §7.5 rule 1–3. */
export function executionStatus(execution: Execution): ExecutionStatus {
  let result: Result | null = execution.result
  if (result?.type === 'spawned') result = result.result
  if (!result) return execution.assignedAt != null ? 'running' : 'pending'
  if (result.type === 'value') return 'completed'
  if (result.type === 'spawned') return 'running'
  return result.type
}

/** A result after which no further attempt will follow. */
export function isFinalResult(result: Result | null | undefined): boolean {
  if (!result) return false
  switch (result.type) {
    case 'value':
    case 'cancelled':
      return true
    case 'error':
    case 'abandoned':
    case 'timeout':
      return result.retry == null
    case 'cached':
    case 'deferred':
    case 'spawned':
      return isFinalResult(result.result)
    case 'suspended':
    case 'recurred':
      return false
    default: {
      const never: never = result
      return never
    }
  }
}

/** A final result that is (or resolves to) a value. */
export function isSuccessfulResult(result: Result | null | undefined): boolean {
  if (!result) return false
  if (result.type === 'value') return true
  if (result.type === 'cached' || result.type === 'deferred' || result.type === 'spawned') return isSuccessfulResult(result.result)
  return false
}

/** The step's latest attempt has a final result. */
export function isStepDone(step: Step): boolean {
  return isFinalResult(latestAttempt(step)?.[1].result)
}

/** The run's initial step (the one without a parent execution, else step number 1). */
export function initialStep(run: RunSnapshot): [string, Step] | undefined {
  const steps = Object.entries(run.steps)
  return steps.find(([, s]) => s.parentId === null) ?? steps.sort((a, b) => a[1].stepNumber - b[1].stepNumber)[0]
}

export type WaitScope = 'initial' | 'all'

/**
 * Steps reachable from the initial step through each step's latest attempt (what the live tree
 * shows): children of superseded attempts no longer matter to the outcome.
 */
export function currentSteps(run: RunSnapshot): Step[] {
  const init = initialStep(run)
  if (!init) return []
  const seen = new Set<string>([init[0]])
  const queue = [init[0]]
  while (queue.length > 0) {
    const latest = latestAttempt(run.steps[queue.shift()!]!)
    if (!latest) continue
    const children = new Set(latest[1].children.map((c) => c.stepId))
    for (const [id, s] of Object.entries(run.steps)) if (s.parentId === latest[1].executionId) children.add(id)
    for (const id of children) {
      if (run.steps[id] && !seen.has(id)) {
        seen.add(id)
        queue.push(id)
      }
    }
  }
  return [...seen].map((id) => run.steps[id]!)
}

/** Whether waiting is over: the initial step (JSON, non-TTY) or every step (live tree). */
export function isRunDone(run: RunSnapshot, scope: WaitScope): boolean {
  if (scope === 'initial') {
    const init = initialStep(run)
    return init !== undefined && isStepDone(init[1])
  }
  const steps = currentSteps(run)
  return steps.length > 0 && steps.every(isStepDone)
}

/** Exit code of a finished wait: 0 when the awaited final results resolve to values, else 1. */
export function runExitCode(run: RunSnapshot, scope: WaitScope): 0 | 1 {
  const steps = scope === 'initial' ? [initialStep(run)?.[1]].filter((s): s is Step => !!s) : currentSteps(run)
  if (steps.length === 0) return 1
  return steps.every((s) => isSuccessfulResult(latestAttempt(s)?.[1].result)) ? 0 : 1
}
