/**
 * Finding things inside a run snapshot for `runs result` and `logs` (cli.md §8.5, §8.15).
 */
import { attempts, initialStep, latestAttempt } from './run-status.ts'
import type { Execution, RunSnapshot } from '../protocol/api.ts'
import { splitExecutionId, splitId } from '../protocol/ids.ts'

/** `<runId>`, `<runId>:<step>` or `<runId>:<step>:<attempt>`. */
export function parseResultTarget(text: string): { runId: string; step?: string; attempt?: string } {
  const target = splitId(text)
  if (!target) throw new Error(`invalid target: expected '<run-id>[:<step>[:<attempt>]]', got '${text}'`)
  return target
}

/**
 * The execution `runs result` reports: the latest attempt of the initial step, of a given step,
 * or an exact attempt. Throws with cli.md §8.5's messages.
 */
export function findResultExecution(run: RunSnapshot, t: { runId: string; step?: string; attempt?: string }): Execution {
  if (t.step === undefined) {
    const init = initialStep(run)
    const latest = init && latestAttempt(init[1])
    if (!latest) throw new Error(`no execution found for run ${t.runId}`)
    return latest[1]
  }
  const stepId = `${t.runId}:${t.step}`
  const step = run.steps[stepId]
  if (!step) throw new Error(`step ${stepId} not found in run ${t.runId}`)
  if (t.attempt === undefined) {
    const latest = latestAttempt(step)
    if (!latest) throw new Error(`no execution found for run ${t.runId}`)
    return latest[1]
  }
  const execution = attempts(step).find(([n]) => String(n) === String(Number(t.attempt)))?.[1]
  if (!execution) throw new Error(`execution attempt ${t.attempt} not found for step ${stepId} in run ${t.runId}`)
  return execution
}

/**
 * `logs <run> <step-id>:<attempt>`: split on the last `:`, then resolved through the snapshot.
 */
export function findLogExecution(run: RunSnapshot, spec: string): string {
  const id = splitExecutionId(spec)
  if (!id) throw new Error(`invalid execution: expected '<run-id>:<step>:<attempt>', got '${spec}'`)
  const { stepId, attempt } = id
  const step = run.steps[stepId]
  if (!step) throw new Error(`step "${stepId}" not found in run`)
  const execution = step.executions[String(Number(attempt))] ?? step.executions[attempt]
  if (!execution) throw new Error(`attempt ${attempt} not found for step "${stepId}"`)
  return execution.executionId
}

/** executionId → its step (for log headers `module/target step:attempt`). */
export function executionIndex(run: RunSnapshot): Map<string, { module: string; target: string; stepNumber: number; attempt: number }> {
  const out = new Map<string, { module: string; target: string; stepNumber: number; attempt: number }>()
  for (const step of Object.values(run.steps)) {
    for (const [attempt, e] of attempts(step)) {
      out.set(e.executionId, { module: step.module, target: step.target, stepNumber: step.stepNumber, attempt })
    }
  }
  return out
}
