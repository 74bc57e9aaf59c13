import type { WorkflowSubmission } from '../../../internal/orchestrator/index.ts'

/** A plain `submit_workflow` of `app/main` with every option at its default; tests override what they need. */
export function workflowSubmission(workspaceId: number, overrides: Partial<WorkflowSubmission> = {}): WorkflowSubmission {
  return {
    workspaceId,
    module: 'app',
    target: 'main',
    arguments: [],
    requires: {},
    memo: false,
    idempotencyKey: null,
    createdBy: null,
    waitFor: [],
    cache: null,
    defer: null,
    delay: 0,
    retries: null,
    resumes: null,
    priority: null,
    concurrency: null,
    recurrent: false,
    timeout: 0,
    ...overrides,
  }
}
