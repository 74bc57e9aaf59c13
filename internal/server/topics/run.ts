/**
 * The run snapshot (cli.md §7.4): what `runs inspect`, waiting `submit` and run topics show,
 * as seen from one workspace (the run's origin workspace plus the requested one). The shapes
 * are those of `protocol/api.ts`, which the CLI reads.
 */
import type { Dependency, Execution, ExecutionRef, Result, RunSnapshot, Step, Value } from '../../protocol/api.ts'
import { stepIdOf } from '../../protocol/ids.ts'
import { toTopicValue, frameToObject, type ReferenceLookup, type AssetSummary } from '../../protocol/values.ts'
import type { ExecutionRecord, InputLinkRole, MetricDefinition, OrchestrationStore, ResultRecord, StepRecord } from '../../store/index.ts'
import type { Project } from '../project.ts'
import { executionInputs } from './run-inputs.ts'

const hex10 = (key: Uint8Array | null) => (key ? Buffer.from(key).toString('hex').slice(0, 10) : null)

/**
 * An execution by internal id in `store`: the active epoch's (through the orchestrator's live
 * records) or an archived one's (semantics.md §23: archived runs are read in place).
 */
function executionIn(project: Project, store: OrchestrationStore, id: number): ExecutionRecord | null {
  return store === project.store ? project.orchestrator.execution(id) : store.runs.getExecution(id)
}

/** Refills execution module/target and asset summaries for outgoing values. */
export function referenceLookup(project: Project, store: OrchestrationStore = project.store): ReferenceLookup {
  return {
    execution: (id) => {
      // references may point into archived epochs (read without copying, §23.2)
      const e = project.orchestrator.executionByExternalId(id) ?? project.store.findExecution(id)?.value
      return e ? { module: e.module, target: e.target } : null
    },
    asset: (id) => {
      const a = store.assets.getByExternalId(id)
      if (a) return assetSummary(project, a.id, store)
      const active = store !== project.store ? project.store.assets.getByExternalId(id) : null
      return active ? assetSummary(project, active.id) : null
    },
  }
}

export function assetSummary(project: Project, assetId: number, store: OrchestrationStore = project.store): AssetSummary {
  const a = store.assets.get(assetId)!
  const entries = Object.entries(store.assets.entries(assetId))
  const only = entries.length === 1 ? entries[0]! : null
  return {
    name: a.name,
    totalCount: a.totalCount,
    totalSize: a.totalSize,
    entry: only ? { path: only[0], blobKey: only[1].blobKey, size: only[1].size, metadata: only[1].metadata } : null,
  } as AssetSummary
}

function executionRef(e: ExecutionRecord): ExecutionRef
function executionRef(e: ExecutionRecord | null): ExecutionRef | null
function executionRef(e: ExecutionRecord | null): ExecutionRef | null {
  return e ? { executionId: e.externalId, module: e.module, target: e.target } : null
}

const NULL_VALUE: Value = { type: 'raw', data: null, references: [] }

/** A result as topics show it (cli.md §7.3), following redirects for the nested `result`. */
export function resultSnapshot(
  project: Project,
  result: ResultRecord,
  depth = 0,
  known?: Map<number, ExecutionRecord>,
  store: OrchestrationStore = project.store,
): Result {
  const createdBy = null
  const successor = result.successorId !== null ? (known?.get(result.successorId) ?? executionIn(project, store, result.successorId)) : null
  const valueOf = (valueId: number | null): Value => {
    const value = valueId !== null ? store.values.get(valueId) : null
    return value ? toTopicValue(value, referenceLookup(project, store)) : NULL_VALUE
  }
  switch (result.type) {
    case 'value':
      return { type: result.type, createdBy, value: valueOf(result.valueId) }
    case 'error':
      return {
        type: result.type,
        createdBy,
        error: { type: result.error?.type ?? '', message: result.error?.message ?? '', frames: (result.error?.frames ?? []).map(frameToObject) },
        retry: successor?.attempt ?? null,
        retryable: result.retryable,
      }
    case 'abandoned':
    case 'timeout':
      return { type: result.type, createdBy, retry: successor?.attempt ?? null }
    case 'cancelled':
      return { type: result.type, createdBy }
    case 'suspended':
    case 'recurred':
      return { type: result.type, createdBy, successor: successor?.attempt ?? null }
    case 'deferred':
    case 'cached':
    case 'spawned': {
      if (result.successorId === null && result.successorRef !== null) {
        // resolved form (§4.1): the execution lives in an archived epoch; the value was copied
        const target = project.store.findExecution(result.successorRef)?.value ?? null
        return {
          type: result.type,
          createdBy,
          execution: executionRef(target) ?? { executionId: result.successorRef, module: null, target: null },
          result: { type: 'value', createdBy, value: valueOf(result.valueId) },
        }
      }
      const nested = successor && depth < 50 ? store.results.get(successor.id) : null
      return { type: result.type, createdBy, execution: executionRef(successor), result: nested ? resultSnapshot(project, nested, depth + 1, known, store) : null }
    }
  }
}

/** Everything about a run's executions, read in a handful of queries rather than per execution. */
interface RunBundle {
  executions: Map<number, ExecutionRecord>
  results: Map<number, ResultRecord>
  assignments: Map<number, { assignedAt: number }>
  children: Map<number, { childId: number; groupId: number | null }[]>
  groups: Map<number, Record<string, string | null>>
  dependencies: Map<number, number[]>
  assetLinks: Map<number, { assetId: number; role: 'produced' | 'used' }[]>
  inputLinks: Map<number, { inputId: number; role: InputLinkRole }[]>
  metrics: Map<number, Record<string, MetricDefinition>>
  workspaces: Map<number, string | null>
}

function loadRunBundle(store: OrchestrationStore, runId: number, executions: ExecutionRecord[]): RunBundle {
  const { results, assignments } = store.results.ofRun(runId)
  return {
    executions: new Map(executions.map((e) => [e.id, e])),
    results,
    assignments,
    ...store.runs.edgesOfRun(runId),
    assetLinks: store.assets.linksOfRun(runId),
    inputLinks: store.inputs.linksOfRun(runId),
    metrics: store.metricDefinitions.ofRun(runId),
    workspaces: new Map(store.workspaces.list().map((w) => [w.id, w.externalId])),
  }
}

function executionSnapshot(project: Project, store: OrchestrationStore, e: ExecutionRecord, bundle: RunBundle): Execution {
  const find = (id: number) => bundle.executions.get(id) ?? executionIn(project, store, id)
  const result = bundle.results.get(e.id) ?? null
  const assignment = bundle.assignments.get(e.id)
  const assets: Record<string, AssetSummary> = {}
  const dependencies: Record<string, Dependency> = {}
  for (const link of bundle.assetLinks.get(e.id) ?? []) {
    const asset = store.assets.get(link.assetId)!
    if (link.role === 'produced') assets[asset.externalId] = assetSummary(project, asset.id, store)
    else dependencies[asset.externalId] = { type: 'asset', assetId: asset.externalId, asset: assetSummary(project, asset.id, store) }
  }
  for (const depId of bundle.dependencies.get(e.id) ?? []) {
    const dep = find(depId)
    if (dep) dependencies[dep.externalId] = { type: 'result', execution: executionRef(dep) }
  }
  const inputs = executionInputs(project, bundle.inputLinks.get(e.id), store)
  Object.assign(dependencies, inputs.dependencies)
  const children = (bundle.children.get(e.id) ?? []).map(({ childId, groupId }) => {
    const child = find(childId)!
    return { stepId: stepIdOf(child.runExternalId, child.stepNumber), attempt: child.attempt, groupId }
  })
  return {
    executionId: e.externalId,
    workspaceId: bundle.workspaces.get(e.workspaceId) ?? null,
    createdAt: e.createdAt,
    createdBy: null,
    executeAfter: e.executeAfter,
    assignedAt: assignment?.assignedAt ?? null,
    completedAt: result?.createdAt ?? null,
    groups: bundle.groups.get(e.id) ?? {},
    assets,
    dependencies,
    children,
    inputs: inputs.inputs,
    result: result ? resultSnapshot(project, result, 0, bundle.executions, store) : null,
    metrics: bundle.metrics.get(e.id) ?? {},
  }
}

/** A step as cli.md §7.4 shows it: 0.12's fields, so no `type` (tasks and workflows look alike). */
function stepSnapshot(project: Project, store: OrchestrationStore, step: StepRecord, executions: ExecutionRecord[], bundle: RunBundle): Step {
  const lookup = referenceLookup(project, store)
  const parent = step.parentExecutionId !== null ? (bundle.executions.get(step.parentExecutionId) ?? executionIn(project, store, step.parentExecutionId)) : null
  return {
    stepNumber: step.number,
    module: step.module,
    target: step.target,
    parentId: parent?.externalId ?? null,
    cacheConfig: step.cacheConfig,
    cacheKey: hex10(step.cacheKey),
    memoKey: hex10(step.memoKey),
    retries: step.retryLimit !== 0 ? { limit: step.retryLimit < 0 ? null : step.retryLimit, backoffMin: step.backoffMin, backoffMax: step.backoffMax } : null,
    recurrent: step.recurrent,
    timeout: step.timeout,
    createdAt: step.createdAt,
    arguments: step.argumentIds.map((id) => toTopicValue(store.values.get(id)!, lookup)),
    requires: step.requires ?? {},
    executions: Object.fromEntries(executions.map((e) => [String(e.attempt), executionSnapshot(project, store, e, bundle)])),
  }
}

/**
 * The snapshot of a run as seen from `workspaceId`, or null when unknown. A run that is only in
 * an archived epoch is read there, without copying it (semantics.md §23.2).
 */
export function runSnapshot(project: Project, runExternalId: string, workspaceId: number): RunSnapshot | null {
  const found = project.store.findRun(runExternalId)
  if (!found) return null
  const { value: run, store } = found
  const origin = store.runs.originWorkspace(run.id)
  const visible = new Set([origin, workspaceId])
  const byStep = new Map<number, ExecutionRecord[]>()
  const all = store.runs.executionsOfRun(run.id)
  const bundle = loadRunBundle(store, run.id, all)
  for (const e of all) {
    if (!visible.has(e.workspaceId)) continue
    let list = byStep.get(e.stepId)
    if (!list) byStep.set(e.stepId, (list = []))
    list.push(e)
  }
  const steps: Record<string, Step> = {}
  for (const step of store.runs.stepsOfRun(run.id)) {
    const executions = byStep.get(step.id)
    if (executions?.length) steps[stepIdOf(run.externalId, step.number)] = stepSnapshot(project, store, step, executions, bundle)
  }
  const parent = run.parentExecutionId !== null ? executionIn(project, store, run.parentExecutionId) : null
  return { createdAt: run.createdAt, createdBy: null, requires: run.requires, parent: executionRef(parent), steps }
}
