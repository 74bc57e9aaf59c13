/**
 * Workspace-scoped topic values (http-api.md §11.3): workspaces, manifests, modules,
 * workflows, queue (with server-computed reasons, §11.2) and sessions.
 */
import { pendingDependencyIds, sessionWorker, type QueuedExecution } from '../../orchestrator/index.ts'
import type { ManifestsTopic, ModulesTopic, QueueEntry, SessionEntry, WorkflowTopic, WorkspaceSummary } from '../../protocol/api.ts'
import { stepIdOf } from '../../protocol/ids.ts'
import type { WorkspaceRecord } from '../../store/index.ts'
import { canAccessWorkspace, type Access } from '../auth.ts'
import type { Project } from '../project.ts'

export function workspacesTopic(project: Project | null, access: Access): Record<string, WorkspaceSummary> {
  const out: Record<string, WorkspaceSummary> = {}
  if (!project) return out
  const byId = new Map(project.store.workspaces.list().map((w) => [w.id, w]))
  for (const w of byId.values()) {
    if (!canAccessWorkspace(access, w.name)) continue
    out[w.externalId] = { name: w.name, baseId: w.baseId !== null ? (byId.get(w.baseId)?.externalId ?? null) : null, state: w.state }
  }
  return out
}

export function manifestsTopic(project: Project, ws: WorkspaceRecord): ManifestsTopic {
  const out: ManifestsTopic = {}
  for (const [module, workflows] of Object.entries(project.store.manifests.list(ws.id))) {
    out[module] = {}
    for (const [name, m] of Object.entries(workflows)) {
      out[module]![name] = {
        parameters: m.parameters.map((p) => ({ name: p.name, default: p.default ?? null, annotation: p.annotation ?? null })),
        waitFor: m.waitFor,
        cache: m.cache,
        defer: m.defer,
        delay: m.delay,
        retries: m.retries,
        requires: m.requires ?? {},
      }
    }
  }
  return out
}


export function modulesTopic(project: Project, ws: WorkspaceRecord): ModulesTopic {
  const out: ModulesTopic = {}
  for (const [module, workflows] of Object.entries(project.store.manifests.list(ws.id))) {
    out[module] = { workflows: {} }
    for (const name of Object.keys(workflows)) out[module]!.workflows[name] = { activeRuns: [] }
  }
  const active = new Map<string, Set<string>>()
  for (const live of project.orchestrator.queueOf(ws.id)) {
    const first = project.store.runs.getStepByNumber(live.exec.runId, 1)
    if (!first) continue
    const key = `${first.module}\0${first.target}`
    let set = active.get(key)
    if (!set) active.set(key, (set = new Set()))
    set.add(live.exec.runExternalId)
  }
  for (const [key, runs] of active) {
    const [module, target] = key.split('\0') as [string, string]
    const entry = ((out[module] ??= { workflows: {} }).workflows[target] ??= { activeRuns: [] })
    entry.activeRuns = [...runs].sort()
  }
  return out
}

export function workflowTopic(project: Project, ws: WorkspaceRecord, module: string, target: string): WorkflowTopic | null {
  const manifest = project.store.manifests.get(ws.id, module, target)
  const runs = project.store.recentRunsOfWorkflow(module, target, ws.id, 50)
  if (!manifest && runs.length === 0) return null
  return {
    parameters: manifest ? manifest.parameters.map((p) => ({ name: p.name, default: p.default ?? null, annotation: p.annotation ?? null })) : null,
    instruction: manifest?.instruction ?? null,
    configuration: manifest
      ? {
          waitFor: manifest.waitFor,
          cache: manifest.cache,
          defer: manifest.defer,
          delay: manifest.delay,
          retries: manifest.retries,
          recurrent: manifest.recurrent,
          timeout: manifest.timeout,
          requires: manifest.requires ?? {},
          memo: manifest.memo,
          resumes: manifest.resumes ?? null,
          priority: manifest.priority ?? null,
          concurrency: manifest.concurrency ?? null,
        }
      : null,
    runs: Object.fromEntries(runs.map((r) => [r.externalId, { id: r.externalId, createdAt: r.createdAt, createdBy: null }])),
  }
}

export function queueTopic(project: Project, ws: WorkspaceRecord): Record<string, QueueEntry> {
  const now = Date.now()
  const out: Record<string, QueueEntry> = {}
  for (const [live, status] of project.orchestrator.queueWithStatusOf(ws.id, ws.state, now)) {
    const { exec, step } = live
    out[exec.externalId] = {
      module: step.module,
      target: step.target,
      runId: exec.runExternalId,
      stepId: stepIdOf(exec.runExternalId, exec.stepNumber),
      stepNumber: exec.stepNumber,
      attempt: exec.attempt,
      executeAfter: exec.executeAfter,
      createdAt: exec.createdAt,
      assignedAt: live.assignedAt,
      dependencies: pendingDependencyIds(project.orchestrator, live),
      requires: live.requires,
      priority: step.priority,
      ...status,
    }
  }
  return out
}

export function sessionsTopic(project: Project, ws: WorkspaceRecord): Record<string, SessionEntry> {
  const out: Record<string, SessionEntry> = {}
  for (const s of project.orchestrator.sessionsOf(ws.id)) {
    const targets: Record<string, string[]> = {}
    for (const [module, byType] of Object.entries(s.declared)) targets[module] = [...(byType.workflow ?? []), ...(byType.task ?? [])].sort()
    const worker = sessionWorker(project.orchestrator, s)
    const { waiting } = project.orchestrator.loadOf(s)
    out[s.record.externalId] = {
      connected: s.isConnected,
      // running: held, not finished, not blocked in a wait (durable waiting)
      executing: s.executing - waiting,
      concurrency: s.concurrency,
      waiting,
      maxWaiting: s.maxWaiting,
      poolName: worker?.poolName ?? null,
      targets,
      provides: s.record.provides,
      accepts: s.record.accepts,
      workerState: worker?.state ?? null,
      executions: s.executed,
    }
  }
  return out
}
