/**
 * Workspace-scoped topic values (http-api.md §11.3): workspaces, manifests, modules,
 * workflows, queue (with server-computed reasons, §11.2) and sessions.
 */
import { launchingPool, pendingDependencyIds, sessionLoad, sessionWorker, tagsMatch, type LiveExecution } from '../../orchestrator/index.ts'
import type { TagSet, WorkspaceRecord } from '../../store/index.ts'
import { canAccessWorkspace, type Access } from '../auth.ts'
import type { Project } from '../project.ts'

export function workspacesTopic(project: Project | null, access: Access): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (!project) return out
  const byId = new Map(project.store.workspaces.list().map((w) => [w.id, w]))
  for (const w of byId.values()) {
    if (!canAccessWorkspace(access, w.name)) continue
    out[w.externalId] = { name: w.name, baseId: w.baseId !== null ? (byId.get(w.baseId)?.externalId ?? null) : null, state: w.state }
  }
  return out
}

export function manifestsTopic(project: Project, ws: WorkspaceRecord): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {}
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

function liveExecutions(project: Project): LiveExecution[] {
  return [...project.orchestrator.pending.values(), ...project.orchestrator.assigned.values()]
}

export function modulesTopic(project: Project, ws: WorkspaceRecord): Record<string, unknown> {
  const out: Record<string, { workflows: Record<string, { activeRuns: string[] }> }> = {}
  for (const [module, workflows] of Object.entries(project.store.manifests.list(ws.id))) {
    out[module] = { workflows: {} }
    for (const name of Object.keys(workflows)) out[module]!.workflows[name] = { activeRuns: [] }
  }
  const active = new Map<string, Set<string>>()
  for (const live of liveExecutions(project)) {
    if (live.exec.workspaceId !== ws.id) continue
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

export function workflowTopic(project: Project, ws: WorkspaceRecord, module: string, target: string): Record<string, unknown> | null {
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
        }
      : null,
    runs: Object.fromEntries(runs.map((r) => [r.externalId, { id: r.externalId, createdAt: r.createdAt, createdBy: null }])),
  }
}

function describeTags(tags: TagSet): string {
  return Object.entries(tags).map(([k, v]) => `${k}=${v.join('|')}`).join(', ') || 'nothing'
}

/** §11.2: the first status that applies, with a human reason. */
function queueStatus(project: Project, ws: WorkspaceRecord, live: LiveExecution, now: number): { status: string; reason: string } {
  const o = project.orchestrator
  if (live.assignedAt !== null && live.sessionId !== null) {
    const session = o.sessions.get(live.sessionId)
    return { status: 'assigned', reason: `running on session ${session?.record.externalId ?? live.sessionId}` }
  }
  if (live.exec.executeAfter !== null && live.exec.executeAfter > now) {
    return { status: 'delayed', reason: `delayed until ${new Date(live.exec.executeAfter).toISOString()}` }
  }
  if (ws.state === 'paused') return { status: 'paused', reason: 'workspace paused' }
  const deps = pendingDependencyIds(o, live)
  if (deps.length > 0) return { status: 'waiting', reason: `waiting for ${deps.join(', ')}` }
  if (live.step.type === 'workflow' && live.step.parentExecutionId !== null) return { status: 'ready', reason: 'ready' }
  const pool = launchingPool(o, live)
  if (pool !== null) return { status: 'launching', reason: `pool '${pool}' launching a worker` }
  const declaring = [...o.sessions.values()].filter(
    (s) => s.channel && s.record.workspaceId === ws.id && s.targets?.has(`${live.step.type}\0${live.step.module}\0${live.step.target}`),
  )
  if (declaring.length === 0) {
    return { status: 'no_session', reason: `no connected worker provides ${live.step.module}/${live.step.target}` }
  }
  const matching = declaring.filter((s) => tagsMatch(live.requires, s.record.provides, s.record.accepts))
  if (matching.length === 0) {
    const offered = declaring.map((s) => describeTags({ ...s.record.provides, ...s.record.accepts })).join('; ')
    return { status: 'no_match', reason: `requires ${describeTags(live.requires)}; connected workers provide ${offered}` }
  }
  if (matching.every((s) => s.draining || sessionLoad(s) >= s.concurrency)) {
    return { status: 'at_capacity', reason: `${matching.length} matching worker${matching.length === 1 ? '' : 's'} at capacity` }
  }
  return { status: 'ready', reason: 'ready' }
}

export function queueTopic(project: Project, ws: WorkspaceRecord): Record<string, unknown> {
  const now = Date.now()
  const out: Record<string, unknown> = {}
  for (const live of liveExecutions(project)) {
    if (live.exec.workspaceId !== ws.id) continue
    const { exec, step } = live
    out[exec.externalId] = {
      module: step.module,
      target: step.target,
      runId: exec.runExternalId,
      stepId: `${exec.runExternalId}:${exec.stepNumber}`,
      stepNumber: exec.stepNumber,
      attempt: exec.attempt,
      executeAfter: exec.executeAfter,
      createdAt: exec.createdAt,
      assignedAt: live.assignedAt,
      dependencies: pendingDependencyIds(project.orchestrator, live),
      requires: live.requires,
      ...queueStatus(project, ws, live, now),
    }
  }
  return out
}

export function sessionsTopic(project: Project, ws: WorkspaceRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const s of project.orchestrator.sessions.values()) {
    if (s.record.workspaceId !== ws.id) continue
    const targets: Record<string, string[]> = {}
    for (const [module, byType] of Object.entries(s.declared)) targets[module] = [...(byType.workflow ?? []), ...(byType.task ?? [])].sort()
    const worker = sessionWorker(project.orchestrator, s)
    out[s.record.externalId] = {
      connected: s.channel !== null,
      executing: [...s.held.values()].filter((st) => st !== 'finished').length,
      concurrency: s.concurrency,
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
