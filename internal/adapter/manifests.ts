import type { TargetDefinition, WorkflowManifest } from '../protocol/executor.ts'

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
