/**
 * Inputs as clients see them: the `get_input` object (http-api.md §9.6), the topics
 * `inputs/<id>` and `workspaces/<ws>/inputs` (§11.3), and who may see an input (§16.1).
 */
import { awaitedInputIds, waitingExecutions } from '../../orchestrator/index.ts'
import type { InputDetail, InputSummary, InputTopic, Value } from '../../protocol/api.ts'
import { RawJson } from '../../protocol/json.ts'
import { toTopicValue } from '../../protocol/values.ts'
import type { InputRecord, OrchestrationStore, WorkspaceRecord } from '../../store/index.ts'
import { canAccessWorkspace, type Access } from '../auth.ts'
import type { Project } from '../project.ts'
import { referenceLookup } from './run.ts'

/**
 * §16.1: an input is visible to callers who may read its workspace, or the workspace of an
 * execution that used it (an input handle passed to another run is readable from there).
 */
export function canReadInput(project: Project, access: Access, input: InputRecord, store: OrchestrationStore = project.store): boolean {
  const workspaces = new Set([input.workspaceId])
  for (const id of store.inputs.linkedExecutions(input.id)) {
    // an input of an archived run is read in its archive (semantics.md §23.2)
    const e = store === project.store ? project.orchestrator.execution(id) : store.runs.getExecution(id)
    if (e) workspaces.add(e.workspaceId)
  }
  for (const id of workspaces) {
    const ws = project.store.workspaces.get(id)
    if (ws && canAccessWorkspace(access, ws.name)) return true
  }
  return false
}

/** The `get_input` object. */
export function inputDetail(project: Project, input: InputRecord, store: OrchestrationStore = project.store): InputDetail {
  const lookup = referenceLookup(project, store)
  const placeholders: Record<string, Value> = {}
  for (const [name, valueId] of Object.entries(input.placeholders)) {
    const value = store.values.get(valueId)
    if (value) placeholders[name] = toTopicValue(value, lookup)
  }
  const response = store.inputs.response(input.id)
  let responseObject: InputDetail['response'] = null
  if (response) {
    responseObject = { type: response.type, createdAt: response.createdAt }
    // `value` is omitted when it is null, `createdBy` when unknown (§9.6)
    if (response.value !== null && response.value !== 'null') responseObject.value = new RawJson(response.value)
    const principal = response.createdBy !== null ? project.store.principals.get(response.createdBy) : null
    if (principal) responseObject.createdBy = principal
  }
  return {
    key: input.key,
    template: input.template,
    placeholders,
    schema: input.schema,
    initial: input.initial !== null ? new RawJson(input.initial) : null,
    title: input.title,
    actions: input.actions,
    requires: input.requires,
    createdAt: input.createdAt,
    response: responseObject,
  }
}

/** `inputs/<id>`: the `get_input` object plus whether an execution is waiting on it. */
export function inputTopic(project: Project | null, access: Access, inputId: string): InputTopic | null {
  const found = project?.store.findInput(inputId)
  if (!project || !found || !canReadInput(project, access, found.value, found.store)) return null
  const active = found.store === project.store && waitingExecutions(project.orchestrator, found.value.id).length > 0
  return { ...inputDetail(project, found.value, found.store), active }
}

/**
 * `workspaces/<ws>/inputs`: inputs some execution is waiting on, submitted in this workspace or
 * awaited from it, with the first waiting execution.
 */
export function workspaceInputsTopic(project: Project, ws: WorkspaceRecord): Record<string, InputSummary> {
  const o = project.orchestrator
  const out: Record<string, InputSummary> = {}
  for (const id of awaitedInputIds(o)) {
    const input = project.store.inputs.get(id)
    if (!input) continue
    const waiting = waitingExecutions(o, id).map((e) => o.execution(e)).filter((e) => e !== null)
    if (input.workspaceId !== ws.id && !waiting.some((e) => e.workspaceId === ws.id)) continue
    out[input.externalId] = {
      runId: project.store.runs.getRun(input.runId)?.externalId ?? null,
      createdAt: input.createdAt,
      title: input.title,
      requires: input.requires,
      executionId: waiting[0]?.externalId ?? null,
      key: input.key,
    }
  }
  return out
}
