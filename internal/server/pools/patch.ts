/**
 * `update_pool` patch semantics (http-api.md §9.3): only present keys change. The result is a
 * pool object in request form, validated afterwards like a new one, so a patch can never store
 * what `create_pool` would refuse.
 */
import { ApiError } from '../../protocol/errors.ts'
import { isPlainObject, type LauncherDraft, type PoolDraft } from './draft.ts'

/**
 * Map fields patched per key (a `null` value removes that key). The spec names `env`; the CLI
 * edits the other maps per key too (`--set labels.team=x`), which only works if they merge.
 */
const MAP_FIELDS: ReadonlySet<string> = new Set(['env', 'secretEnv', 'labels', 'annotations', 'nodeSelector', 'resources'])

/**
 * `modules`/`provides`/`accepts` are replaced (`null` → empty); `launcher: null` removes the
 * launcher; a `launcher` object patches field by field (`null` removes a field) and may not
 * change `type` (409 `type_change`).
 *
 * @example
 * mergePoolPatch(current, { launcher: { env: { A: null, B: 'x' }, concurrency: 2 } })
 */
export function mergePoolPatch(current: PoolDraft, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current }
  for (const key of ['modules', 'provides', 'accepts']) if (key in patch) merged[key] = patch[key]
  if ('launcher' in patch) merged.launcher = mergeLauncher(current.launcher, patch.launcher)
  return merged
}

function mergeLauncher(current: LauncherDraft | null, patch: unknown): unknown {
  if (patch === null || !isPlainObject(patch)) return patch
  if (current && patch.type !== undefined && patch.type !== null && patch.type !== current.type) {
    throw new ApiError(409, 'type_change', `the launcher type is ${current.type}; delete and create the pool to change it`)
  }
  const out: Record<string, unknown> = { ...(current ?? {}) }
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete out[field]
    else if (MAP_FIELDS.has(field) && isPlainObject(value)) out[field] = mergeMap(out[field], value)
    else out[field] = value
  }
  return out
}

function mergeMap(current: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = isPlainObject(current) ? { ...current } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = value
  }
  return out
}
