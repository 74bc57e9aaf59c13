/**
 * Which subscribed topics an orchestrator change can affect. Erring towards "affected" only
 * costs a recompute that yields an empty diff; missing a topic would leave clients stale, so
 * every doubtful case answers yes.
 */
import type { ChangeEvent } from '../../orchestrator/index.ts'
import { splitId } from '../../protocol/ids.ts'
import type { Json } from '../../protocol/json.ts'
import { isJsonObject } from '../../protocol/topics.ts'
import type { Project } from '../project.ts'

/** What the matcher needs to know about one subscription. */
export interface WatchedTopic {
  readonly segments: readonly string[]
  /** runs (external ids) the topic's current value mentions, for run topics */
  readonly relatedRuns: ReadonlySet<string>
}

export type TopicMatcher = (topic: WatchedTopic) => boolean

const everything: TopicMatcher = () => true

/** A key identifying the event, so repeats within one flush are matched once. */
export function changeKey(event: ChangeEvent): string {
  if (event.kind === 'workspaces' || event.kind === 'tokens' || event.kind === 'inputs') return event.kind
  return event.kind === 'run' ? `run:${event.runId}` : `${event.kind}:${event.workspaceId}`
}

/** Kinds of `workspaces/<ws>/<kind>` topics each workspace-scoped event reaches. */
const WORKSPACE_KINDS = {
  queue: new Set(['queue', 'modules']),
  sessions: new Set(['sessions', 'queue', 'pools']),
  manifests: new Set(['manifests', 'modules', 'workflows']),
  pools: new Set(['pools']),
  schedules: new Set(['schedules']),
} as const

export function changeMatcher(project: Project, event: ChangeEvent): TopicMatcher {
  switch (event.kind) {
    case 'workspaces':
      // creation, rename, pause and archive: the list itself, and every workspace topic, which
      // may now be not found (archived) or forbidden (renamed out of the caller's patterns)
      return everything
    case 'tokens':
      return ({ segments }) => segments[0] === 'tokens'
    case 'inputs':
      // an input's own topic and every workspace's list of awaited inputs
      return ({ segments }) => segments[0] === 'inputs' || (segments[0] === 'workspaces' && segments[2] === 'inputs')
    case 'run':
      return runMatcher(project, event.runId)
    case 'queue':
    case 'sessions':
    case 'manifests':
    case 'pools':
    case 'schedules': {
      const ws = project.store.workspaces.get(event.workspaceId)
      if (!ws) return everything
      const kinds: ReadonlySet<string> = WORKSPACE_KINDS[event.kind]
      return ({ segments }) => segments[0] === 'workspaces' && segments[1] === ws.externalId && kinds.has(segments[2] ?? '')
    }
    default: {
      const unknown: never = event
      void unknown
      return everything
    }
  }
}

/**
 * A run's own topic in any workspace (a run is visible from several), topics that mention it
 * (a parent's snapshot shows a spawned run's result), the workflow topics of its target and
 * every modules topic (active runs).
 */
function runMatcher(project: Project, runId: number): TopicMatcher {
  const run = project.store.runs.getRun(runId)
  if (!run) return everything
  const first = project.store.runs.getStepByNumber(run.id, 1)
  return ({ segments, relatedRuns }) => {
    if (segments[0] !== 'workspaces') return false
    switch (segments[2]) {
      case 'runs':
        return segments[3] === run.externalId || relatedRuns.has(run.externalId)
      case 'modules':
        return true
      case 'workflows':
        return !first || (segments[3] === first.module && segments[4] === first.target)
      default:
        return false
    }
  }
}

/** Fields of a run snapshot that hold ids of executions or steps (`<run>:<step>[:<attempt>]`). */
const REFERENCE_FIELDS = new Set(['executionId', 'stepId', 'parentId'])

/** The runs a run snapshot refers to, other than through its own steps. */
export function referencedRuns(segments: readonly string[], value: Json): Set<string> {
  const runs = new Set<string>()
  if (segments[0] !== 'workspaces' || segments[2] !== 'runs') return runs
  const visit = (node: Json): void => {
    if (Array.isArray(node)) node.forEach(visit)
    else if (isJsonObject(node)) {
      for (const [key, child] of Object.entries(node)) {
        if (REFERENCE_FIELDS.has(key) && typeof child === 'string') {
          const id = splitId(child)
          if (id?.step !== undefined) runs.add(id.runId)
        } else visit(child)
      }
    }
  }
  visit(value)
  runs.delete(segments[3]!)
  return runs
}

/**
 * When a topic's value changes with time alone: a queue entry's status moves from `delayed`
 * once its `executeAfter` passes, without any change event.
 */
export function nextTimedChange(segments: readonly string[], value: Json, now: number): number | null {
  if (segments[0] !== 'workspaces' || segments[2] !== 'queue' || !isJsonObject(value)) return null
  let next: number | null = null
  for (const entry of Object.values(value)) {
    const at = isJsonObject(entry) ? entry.executeAfter : null
    if (typeof at === 'number' && at > now && (next === null || at < next)) next = at
  }
  return next
}
