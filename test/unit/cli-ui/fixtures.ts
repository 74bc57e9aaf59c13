/** Small run snapshots for tree and status tests. */
import type { Execution, Result, RunSnapshot, Step } from '../../../internal/client/index.ts'

export function execution(id: string, result: Result | null, opts: Partial<Execution> = {}): Execution {
  return {
    executionId: id,
    workspaceId: 'W1',
    createdAt: 1,
    createdBy: null,
    executeAfter: null,
    assignedAt: result ? 2 : null,
    completedAt: result ? 3 : null,
    groups: {},
    assets: {},
    dependencies: {},
    children: [],
    inputs: {},
    result,
    metrics: {},
    ...opts,
  }
}

export function step(runId: string, n: number, target: string, parentId: string | null, executions: Record<string, Execution>): Step {
  return {
    stepNumber: n,
    module: 'app',
    target,
    parentId,
    cacheConfig: null,
    cacheKey: null,
    memoKey: null,
    retries: null,
    recurrent: false,
    timeout: 0,
    createdAt: n,
    arguments: [],
    requires: {},
    executions,
  }
}

export const value = (data: unknown): Result => ({ type: 'value', createdBy: null, value: { type: 'raw', data: data as never, references: [] } })
export const error = (type: string, message: string, retry: number | null = null): Result => ({
  type: 'error',
  createdBy: null,
  error: { type, message, frames: [{ file: 'app.py', line: 3, name: 'f', code: 'raise X' }] },
  retry,
  retryable: null,
})

export function run(steps: Record<string, Step>): RunSnapshot {
  return { createdAt: 1, createdBy: null, requires: {}, parent: null, steps }
}
