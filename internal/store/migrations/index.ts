import type { Migration } from '../db.ts'
import m0001 from './0001_initial.sql' with { type: 'text' }
import m0002 from './0002_metric_definitions.sql' with { type: 'text' }

/** Orchestration store migrations, embedded in the binary. Never edit a shipped one. */
export const ORCHESTRATION_MIGRATIONS: Migration[] = [
  { version: 1, name: 'initial', sql: m0001 },
  { version: 2, name: 'metric_definitions', sql: m0002 },
]
