import type { DiscoveredSchedule, TargetDefinition, WorkflowManifest } from '../protocol/executor.ts'
import type { ScheduleSpec } from '../protocol/schedules.ts'

/**
 * The one manifest builder (executor-protocol.md §2.4), shared by `worker --register` and
 * `manifests register`: workflows only, grouped by module, camelCase, with `timeout`.
 *
 * @example
 * buildManifests(targets) // {"app.flows": {"main": {parameters: [...], waitFor: [], cache: null, …}}}
 */
export function buildManifests(targets: TargetDefinition[]): Record<string, Record<string, WorkflowManifest>> {
  const out: Record<string, Record<string, WorkflowManifest>> = {}
  for (const t of targets) {
    if (t.type !== 'workflow' || t.is_stub) continue
    ;(out[t.module] ??= {})[t.name] = buildManifest(t)
  }
  return out
}

/** The manifest of one workflow definition. */
export function buildManifest(t: TargetDefinition): WorkflowManifest {
  return {
    parameters: t.parameters.map((p) => {
      const param: WorkflowManifest['parameters'][number] = { name: p.name }
      if (p.annotation != null) param.annotation = p.annotation
      if (p.default != null) param.default = p.default
      return param
    }),
    waitFor: t.wait_for ?? [],
    cache: t.cache
      ? {
          params: t.cache.params,
          maxAge: t.cache.max_age_ms ?? null,
          namespace: t.cache.namespace ?? null,
          version: t.cache.version ?? null,
        }
      : null,
    defer: t.defer ? { params: t.defer.params } : null,
    delay: t.delay ?? 0,
    retries: t.retries
      ? {
          limit: t.retries.limit ?? null,
          backoffMin: t.retries.backoff_min_ms ?? 0,
          backoffMax: t.retries.backoff_max_ms ?? 0,
        }
      : null,
    recurrent: t.recurrent === true,
    timeout: t.timeout ?? 0,
    requires: t.requires && Object.keys(t.requires).length > 0 ? t.requires : null,
    instruction: t.instruction ?? null,
    memo: t.memo === true,
    resumes: t.resumes ?? null,
    priority: t.priority ?? null,
    concurrency: t.concurrency ?? null,
    // absent rather than null: a workflow without one has the manifest it always had
    ...(t.schedule ? { schedule: buildSchedule(t.schedule) } : {}),
  }
}

/** A discovered schedule with the defaults filled in: UTC, no arguments, catch-up once, overlap allowed. */
function buildSchedule(s: DiscoveredSchedule): ScheduleSpec {
  return {
    cron: s.cron,
    timezone: s.timezone ?? 'UTC',
    arguments: (s.arguments ?? []).map((text) => ['json', text]),
    catchUp: s.catch_up ?? 'once',
    overlap: s.overlap ?? 'allow',
  }
}

/** `{module: {workflow: [names], task: [names]}}` for `declare_targets` (executor-protocol.md §2.4). */
export function declaredTargets(targets: TargetDefinition[]): Record<string, { workflow?: string[]; task?: string[] }> {
  const out: Record<string, { workflow?: string[]; task?: string[] }> = {}
  for (const t of targets) {
    if (t.is_stub) continue
    ;((out[t.module] ??= {})[t.type] ??= []).push(t.name)
  }
  return out
}

/** The distinct modules in manifest order: `COFLUX_EXECUTOR_MODULES` (executor-protocol.md §1.2). */
export function preloadModules(targets: TargetDefinition[]): string[] {
  return [...new Set(targets.map((t) => t.module))]
}

/**
 * A definition as `manifests discover` prints it (cli.md §8.9): snake_case, with unset and
 * default-valued optional fields omitted, and null members dropped.
 */
export function discoverOutput(t: TargetDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {
    module: t.module,
    name: t.name,
    type: t.type,
    parameters: t.parameters.map((p) => {
      const param: Record<string, unknown> = { name: p.name }
      if (p.annotation != null) param.annotation = p.annotation
      if (p.default != null) param.default = p.default
      return param
    }),
  }
  if (t.cache) out.cache = dropNulls({ ...t.cache })
  if (t.retries) out.retries = dropNulls({ ...t.retries })
  if (t.defer) out.defer = { params: t.defer.params }
  if (t.delay) out.delay = t.delay
  if (t.wait_for?.length) out.wait_for = t.wait_for
  if (t.memo === true || (Array.isArray(t.memo) && t.memo.length > 0)) out.memo = t.memo
  if (t.requires && Object.keys(t.requires).length > 0) out.requires = t.requires
  if (t.recurrent) out.recurrent = true
  if (t.timeout) out.timeout = t.timeout
  if (t.resumes != null) out.resumes = t.resumes
  if (t.priority != null) out.priority = t.priority
  if (t.concurrency) out.concurrency = t.concurrency
  if (t.schedule) out.schedule = t.schedule
  if (t.instruction != null) out.instruction = t.instruction
  return out
}

function dropNulls<T extends object>(o: T): T {
  for (const [k, v] of Object.entries(o)) if (v == null) delete (o as Record<string, unknown>)[k]
  return o
}
