/**
 * Starting runs (semantics.md §3.1) and scheduling steps from executions (§3.2), with memo,
 * cache and defer keys (§6.2) and idempotency keys (§22).
 */
import type { CacheConfig, TagSet } from '../protocol/api.ts'
import { ApiError } from '../protocol/errors.ts'
import { RawJson } from '../protocol/json.ts'
import { computeStepKey, type ServerValue } from '../protocol/values.ts'
import type { ExecutionRecord, RunRecord } from '../store/index.ts'
import type { Core } from './core.ts'
import { reattachedChild } from './reattachment.ts'

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000

export interface StepOptions {
  type: 'task' | 'workflow'
  waitFor: number[] | true
  cache: CacheConfig | null
  defer: { params: true | number[] } | null
  /** true / indexes / false (explicit opt-out) / null (inherit the run's) */
  memo: true | number[] | false | null
  delay: number
  retries: { limit: number; backoffMin: number; backoffMax: number } | null
  /** workflows: resumes after abandonment (null: the default); ignored for tasks */
  resumes: number | null
  recurrent: boolean
  timeout: number
  requires: TagSet | null
  /** higher runs first (null: the caller's, or 0 at the top of a run) */
  priority: number | null
  /** at most `limit` executions with this key run at once in the workspace (key already resolved) */
  concurrency: ConcurrencyLimit | null
}

export interface ConcurrencyLimit {
  limit: number
  key: string
}

export interface WorkflowSubmission extends Omit<StepOptions, 'type' | 'memo' | 'requires' | 'concurrency'> {
  workspaceId: number
  module: string
  target: string
  /** encoded data of each argument (raw values) */
  arguments: RawJson[]
  requires: TagSet
  memo: boolean
  idempotencyKey: string | null
  createdBy: number | null
  /** the key is a template (`{customer_id}`) resolved with the arguments; null: `module/target` */
  concurrency: { limit: number; key: string | null } | null
}

export interface SubmittedRun {
  runId: string
  stepId: string
  executionId: string
}

function keys(module: string, target: string, args: ServerValue[], options: Pick<StepOptions, 'cache' | 'defer'>, memo: true | number[] | null) {
  const own = `${module}:${target}`
  const cacheKey = options.cache
    ? computeStepKey(options.cache.namespace ?? own, options.cache.version, args, options.cache.params === false ? [] : options.cache.params)
    : null
  const deferKey = options.defer ? computeStepKey(own, '', args, options.defer.params) : null
  const memoKey = memo ? computeStepKey(own, '', args, memo) : null
  return { cacheKey, deferKey, memoKey }
}

/** A workflow abandoned with its worker is resumed this many times unless it says otherwise. */
export const DEFAULT_WORKFLOW_RESUMES = 3

function resumeLimit(type: 'task' | 'workflow', resumes: number | null): number {
  return type === 'workflow' ? (resumes ?? DEFAULT_WORKFLOW_RESUMES) : 0
}

function retryFields(retries: StepOptions['retries']) {
  return retries
    ? { retryLimit: retries.limit, backoffMin: retries.backoffMin, backoffMax: retries.backoffMax }
    : { retryLimit: 0, backoffMin: 0, backoffMax: 0 }
}

function waitForIndexes(waitFor: number[] | true, argCount: number): number[] {
  return waitFor === true ? Array.from({ length: argCount }, (_, i) => i) : [...waitFor].sort((a, b) => a - b)
}

/**
 * The limit's key for a submission from outside (the adapter resolves its own calls' keys with
 * `str.format`): `{name}` is replaced by the argument of that parameter as Python's `str()`
 * would write it for strings, numbers, booleans and None (other values as JSON), parameter names
 * coming from the workflow's manifest; no template: `module/target`. Format specs and attribute
 * access (`{x:>4}`, `{a.b}`) are for calls made from Python only.
 */
function resolveLimit(o: Core, input: WorkflowSubmission, limit: { limit: number; key: string | null }): ConcurrencyLimit {
  if (limit.key === null) return { limit: limit.limit, key: `${input.module}/${input.target}` }
  const parameters = o.store.manifests.get(input.workspaceId, input.module, input.target)?.parameters ?? []
  const key = limit.key.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const index = parameters.findIndex((p) => p.name === name)
    const data = index >= 0 ? input.arguments[index] : undefined
    if (!data) throw new ApiError(400, 'bad_request', `concurrency key names an unknown argument: ${name}`, { concurrency: 'invalid' })
    const value: unknown = JSON.parse(data.text)
    if (typeof value === 'string') return value
    if (value === true) return 'True'
    if (value === false) return 'False'
    if (value === null) return 'None'
    return data.text
  })
  return { limit: limit.limit, key }
}

export function idempotencyHash(workspaceExternalId: string, key: string): Uint8Array {
  return new Bun.CryptoHasher('sha256').update(`${workspaceExternalId}\0${key}`).digest() as Uint8Array
}

/** `POST /api/submit_workflow` (§3.1). */
export function submitWorkflow(o: Core, input: WorkflowSubmission): SubmittedRun {
  const now = o.now()
  const workspace = o.store.workspaces.get(input.workspaceId)!
  const args: ServerValue[] = input.arguments.map((data) => ['raw', data, []])
  const created = o.store.transaction(() => {
    const idem = input.idempotencyKey ? idempotencyHash(workspace.externalId, input.idempotencyKey) : null
    if (idem) {
      const since = now - IDEMPOTENCY_WINDOW_MS
      // §22: archived epochs too (read-only: the run is not copied)
      const existing = o.store.runs.findRunByIdempotencyKey(idem, since) ?? o.store.epochs?.findRunByIdempotencyKey(idem, since)?.value
      if (existing) return { existing }
    }
    const run = o.store.runs.createRun(
      { parentExecutionId: null, requires: input.requires, memo: input.memo, idempotencyKey: idem, createdBy: input.createdBy },
      now,
    )
    const { cacheKey, deferKey } = keys(input.module, input.target, args, input, null)
    const step = o.store.runs.createStep(
      {
        runId: run.id,
        parentExecutionId: null,
        module: input.module,
        target: input.target,
        type: 'workflow',
        priority: input.priority ?? 0,
        waitFor: waitForIndexes(input.waitFor, args.length),
        cacheConfig: input.cache,
        cacheKey,
        deferKey,
        memoKey: null,
        ...retryFields(input.retries),
        resumeLimit: resumeLimit('workflow', input.resumes),
        concurrency: input.concurrency ? resolveLimit(o, input, input.concurrency) : null,
        recurrent: input.recurrent,
        delay: input.delay,
        timeout: input.timeout,
        requires: null,
        argumentIds: args.map((a) => o.store.values.put(a)),
      },
      now,
    )
    const exec = o.store.runs.createExecution(step.id, input.workspaceId, input.delay > 0 ? now + input.delay : null, now, input.createdBy, step)
    return { run, step, exec }
  })
  if ('existing' in created) {
    const run = created.existing!
    return { runId: run.externalId, stepId: `${run.externalId}:1`, executionId: `${run.externalId}:1:1` }
  }
  o.track(created.exec, created.step)
  o.emit({ kind: 'run', runId: created.run.id })
  o.wake()
  return { runId: created.run.externalId, stepId: `${created.run.externalId}:1`, executionId: created.exec.externalId }
}

/**
 * A call made by a running execution (§3.2). Returns the execution that answers the call: a
 * new one, or an existing one on a memo hit.
 */
export function submitStep(
  o: Core,
  parent: ExecutionRecord,
  module: string,
  target: string,
  args: ServerValue[],
  groupId: number | null,
  options: StepOptions,
): ExecutionRecord {
  const now = o.now()
  const run = o.store.runs.getRun(parent.runId)!
  const argumentIds = args.map((a) => o.store.values.put(a))
  const reattached = reattachedChild(o, parent, { type: options.type, module, target, argumentIds })
  if (reattached) {
    o.store.runs.addChild(parent.id, reattached.id, groupId)
    o.emit({ kind: 'run', runId: run.id })
    return reattached
  }
  const memo: true | number[] | null = options.memo === false ? null : options.memo ?? (run.memo ? true : null)
  const { cacheKey, deferKey, memoKey } = keys(module, target, args, options, memo)
  if (memoKey) {
    const hit = findMemoised(o, run, memoKey, parent.workspaceId)
    if (hit) {
      o.store.runs.addChild(parent.id, hit.id, groupId)
      o.emit({ kind: 'run', runId: run.id })
      return hit
    }
  }
  const created = o.store.transaction(() => {
    const step = o.store.runs.createStep(
      {
        runId: run.id,
        parentExecutionId: parent.id,
        module,
        target,
        type: options.type,
        // a call without a priority of its own inherits its caller's
        priority: options.priority ?? o.store.runs.getStep(parent.stepId)?.priority ?? 0,
        waitFor: waitForIndexes(options.waitFor, args.length),
        cacheConfig: options.cache,
        cacheKey,
        deferKey,
        memoKey,
        ...retryFields(options.retries),
        resumeLimit: resumeLimit(options.type, options.resumes),
        concurrency: options.concurrency,
        recurrent: options.recurrent,
        delay: options.delay,
        timeout: options.timeout,
        requires: options.requires,
        argumentIds,
      },
      now,
    )
    const exec = o.store.runs.createExecution(step.id, parent.workspaceId, options.delay > 0 ? now + options.delay : null, now, null, step)
    o.store.runs.addChild(parent.id, exec.id, groupId)
    return { step, exec }
  })
  o.track(created.exec, created.step)
  o.emit({ kind: 'run', runId: run.id })
  o.wake()
  return created.exec
}

/**
 * §7: the newest execution in the run with this memo key, in the caller's ancestry, whose
 * result is none, a value, or a redirect still pending or resolving to a value.
 */
function findMemoised(o: Core, run: RunRecord, memoKey: Uint8Array, workspaceId: number): ExecutionRecord | null {
  const ancestry = new Set(o.store.workspaces.ancestry(workspaceId))
  for (const c of o.store.runs.memoCandidates(run.id, memoKey)) {
    if (!ancestry.has(c.workspaceId)) continue
    const result = o.store.results.get(c.executionId)
    if (result && result.type !== 'value') {
      if (result.successorId === null) continue
      const r = o.resolve(c.executionId)
      if (r.final && r.result.type !== 'value' && !(r.result.valueId !== null && ['cached', 'deferred', 'spawned'].includes(r.result.type))) continue
    }
    return o.execution(c.executionId)
  }
  return null
}

export { RawJson }
