/**
 * Epochs under the running orchestrator (semantics.md §23): rotation swaps the store while
 * workers stay connected and waiters keep waiting, and acting on an archived run first copies
 * it into the active epoch (copy-on-reference).
 *
 * Rotation copies the live runs keeping their integer ids, so nothing in memory is remapped:
 * the queue, assignments, sessions' held sets, waiters and dependency indexes still name the
 * same rows. What the orchestrator refers to beyond the live runs (executions a session still
 * holds as finished, inputs being waited on) is passed along so it is copied too.
 */
import { parseExecutionId, parseInputId } from '../protocol/ids.ts'
import type { ServerValue } from '../protocol/values.ts'
import { EPOCH_CHECK_INTERVAL_MS, EPOCH_MAX_BYTES, type AssetRecord, type CopiedRuns, type ExecutionRecord, type InputRecord, type RunRecord } from '../store/index.ts'
import { computeDependencies } from './dependencies.ts'
import type { Core } from './core.ts'
import { awaitedInputIds, inputByExternalId } from './queries.ts'
import type { CacheHit } from './planner.ts'
import type { QueuedExecution } from './queue.ts'

/** Archives the active database and starts a new epoch; returns the archived epoch's id. */
export function rotateEpoch(o: Core): string {
  const epochs = o.store.epochs
  if (!epochs) throw new Error('this store has no epochs (in-memory or archived)')
  const executions = new Set([...o.queue.referencedIds(), ...o.waiters.referencedIds()])
  for (const session of o.sessions.all()) for (const id of session.heldIds()) executions.add(id)
  // the open write batch belongs to the database being archived
  o.commit()
  const epochId = epochs.rotate(o.now(), { executions, inputs: awaitedInputIds(o) })
  // "rebuild pending dependencies": the same ids, re-read from the new database
  for (const live of o.queue.pending()) computeDependencies(o, live)
  o.wake()
  return epochId
}

/**
 * §23.1: checks the active database's size every minute and rotates at 100 MiB. When most of
 * the data is live (copied into the new epoch), the next rotation waits until the database has
 * grown by half the threshold again, rather than rotating every minute.
 */
export function startEpochRotation(
  o: Core,
  options: { maxBytes?: number; intervalMs?: number; onRotated?: (epochId: string) => void; onError?: (err: unknown) => void } = {},
): () => void {
  const maxBytes = options.maxBytes ?? EPOCH_MAX_BYTES
  let floor = 0
  const timer = setInterval(() => {
    try {
      if (!o.store.epochs) return
      const size = o.store.sizeBytes()
      if (size < maxBytes || size - floor < maxBytes / 2) return
      const epochId = rotateEpoch(o)
      floor = o.store.sizeBytes()
      options.onRotated?.(epochId)
    } catch (err) {
      options.onError?.(err)
    }
  }, options.intervalMs ?? EPOCH_CHECK_INTERVAL_MS)
  timer.unref?.()
  return () => clearInterval(timer)
}

/** Starts tracking what a copy brought in without a result, and tells topics. */
function afterCopy(o: Core, copied: CopiedRuns): void {
  for (const id of copied.pending) {
    if (o.queue.get(id)) continue
    const exec = o.store.runs.getExecution(id)
    if (exec) o.track(exec)
  }
  for (const run of copied.runs) o.emit({ kind: 'run', runId: run.id })
  if (copied.runs.length > 0) o.wake()
}

/** Copy-on-reference: the run, copied from an archive into the active epoch if needed. */
export function ensureRunActive(o: Core, runExternalId: string): RunRecord | null {
  const found = o.store.ensureRunActive(runExternalId)
  if (!found) return null
  afterCopy(o, found.copied)
  return found.run
}

/** Copy-on-reference for an execution handle (`select`, `cancel`, arguments, the API). */
export function ensureExecutionActive(o: Core, externalId: string): ExecutionRecord | null {
  const active = o.executionByExternalId(externalId)
  if (active) return active
  const parts = parseExecutionId(externalId)
  if (!parts || !o.store.epochs || !ensureRunActive(o, parts.runId)) return null
  return o.executionByExternalId(externalId)
}

/** Copy-on-reference for an input handle (selecting, responding, dismissing, cancelling). */
export function ensureInputActive(o: Core, externalId: unknown): InputRecord | null {
  const active = inputByExternalId(o, externalId)
  if (active || typeof externalId !== 'string' || !o.store.epochs) return active
  const parts = parseInputId(externalId)
  return parts && ensureRunActive(o, parts.runId) ? inputByExternalId(o, externalId) : null
}

/** An asset named by a value or a request, copied from an archive if needed (content-addressed). */
export function ensureAssetActive(o: Core, externalId: string): AssetRecord | null {
  const active = o.store.assets.getByExternalId(externalId)
  if (active || !o.store.epochs) return active
  return o.store.epochs.copyAsset(externalId) !== null ? o.store.assets.getByExternalId(externalId) : null
}

/** Makes every execution, input and asset a value refers to active (new arguments, §23.2). */
export function ensureReferencesActive(o: Core, values: ServerValue[]): void {
  if (!o.store.epochs) return
  for (const value of values) {
    for (const ref of value[0] === 'raw' ? value[2] : value[3]) {
      if (ref[0] === 'execution') ensureExecutionActive(o, ref[1])
      else if (ref[0] === 'input') ensureInputActive(o, ref[1])
      else if (ref[0] === 'asset') ensureAssetActive(o, ref[1])
    }
  }
}

/**
 * §6.1, miss in the active epoch: a value-resolved candidate in an archive becomes a `cached`
 * result in resolved form — a reference to the archived execution plus a copy of its value
 * (made when the hit is applied). The archived run is not copied.
 */
export function archivedCacheHit(o: Core, live: QueuedExecution, now: number): CacheHit | null {
  const epochs = o.store.epochs
  if (!epochs || !live.step.cacheKey || !live.step.cacheConfig) return null
  const ancestry = new Set(o.store.workspaces.ancestry(live.exec.workspaceId))
  const hit = epochs.findCacheHit(live.step.cacheKey, ancestry, live.step.cacheConfig.maxAge, now)
  return hit ? { kind: 'archived', value: hit.value, executionExternalId: hit.executionExternalId } : null
}
