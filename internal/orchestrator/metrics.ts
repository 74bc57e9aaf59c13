/** Metric definitions from executors (executor-protocol.md §5.2, semantics.md §25). */
import { ProtocolError } from '../protocol/errors.ts'
import { toNumber } from '../protocol/json.ts'
import type { ExecutionRecord, MetricDefinition } from '../store/index.ts'
import type { Core } from './core.ts'

/** `define_metric [execution_id, key, definition]`: the first definition per (execution, key) wins. */
export function defineMetric(o: Core, exec: ExecutionRecord, key: unknown, definition: unknown): void {
  if (typeof key !== 'string') throw new ProtocolError('metric key must be a string')
  if (o.store.metricDefinitions.define(exec.id, key, parseMetricDefinition(definition))) {
    o.emit({ kind: 'run', runId: exec.runId })
  }
}

/**
 * Every field is optional, and `throttle` stays with the worker. The worker forwards what the
 * user's adapter sent without checking it, so a field of the wrong type counts as absent rather
 * than closing the session (which would abandon every execution it holds).
 */
export function parseMetricDefinition(raw: unknown): MetricDefinition {
  const d = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {}
  return {
    group: text(d.group),
    groupUnits: text(d.group_units),
    groupLower: finite(d.group_lower),
    groupUpper: finite(d.group_upper),
    scale: text(d.scale),
    units: text(d.units),
    progress: d.progress === true,
    lower: finite(d.lower),
    upper: finite(d.upper),
  }
}

function text(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

function finite(v: unknown): number | null {
  const n = toNumber(v)
  return n !== undefined && Number.isFinite(n) ? n : null
}
