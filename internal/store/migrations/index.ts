import type { MigrationSet } from '../db.ts'
import m0001 from './0001_initial.sql' with { type: 'text' }
import m0002 from './0002_metric_definitions.sql' with { type: 'text' }
import m0003 from './0003_inputs.sql' with { type: 'text' }
import m0004 from './0004_pools.sql' with { type: 'text' }
import m0005 from './0005_epochs.sql' with { type: 'text' }
import m0006 from './0006_step_resumes.sql' with { type: 'text' }
import m0007 from './0007_step_limits.sql' with { type: 'text' }
import m0008 from './0008_schedules.sql' with { type: 'text' }
import { PG_ORCHESTRATION_MIGRATIONS } from '../postgres/migrations/index.ts'

/** Orchestration store migrations, embedded in the binary. Never edit a shipped one. */
export const ORCHESTRATION_MIGRATIONS: MigrationSet = {
  sqlite: [
  { version: 1, name: 'initial', sql: m0001 },
  { version: 2, name: 'metric_definitions', sql: m0002 },
  { version: 3, name: 'inputs', sql: m0003 },
  { version: 4, name: 'pools', sql: m0004 },
  { version: 5, name: 'epochs', sql: m0005 },
  { version: 6, name: 'step_resumes', sql: m0006 },
  { version: 7, name: 'step_limits', sql: m0007 },
  { version: 8, name: 'schedules', sql: m0008 },
],
  postgres: PG_ORCHESTRATION_MIGRATIONS,
}
