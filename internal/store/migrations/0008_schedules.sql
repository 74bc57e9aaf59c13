-- Schedules (our improvement, issue 11): a workflow started on a cron schedule. Configuration,
-- so a rotation copies the table whole into the next epoch. Times are Unix milliseconds.
CREATE TABLE schedules (
  id INTEGER PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE, -- 'S…'
  workspace_id INTEGER NOT NULL REFERENCES workspaces (id),
  module TEXT NOT NULL,
  target TEXT NOT NULL,
  source INTEGER NOT NULL, -- 0 manifest (@cf.workflow(schedule=…)), 1 api (coflux schedules create)
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL, -- IANA name
  arguments TEXT NOT NULL, -- JSON list of JSON texts, one per argument
  catch_up INTEGER NOT NULL, -- 0 once, 1 skip
  overlap INTEGER NOT NULL, -- 0 allow, 1 skip, 2 cancel
  paused INTEGER NOT NULL DEFAULT 0,
  -- due times up to here are handled; written in the transaction that starts the due time's run,
  -- so a restart never starts a second one (and set to "now" on creation, resumption, new cron)
  handled_until INTEGER NOT NULL,
  last_due_at INTEGER,
  last_outcome INTEGER, -- 0 started, 1 skipped (overlap), 2 missed (catch-up skip), 3 failed
  last_run_id TEXT, -- external id of the last run started (no foreign key: runs move between epochs)
  last_error TEXT,
  created_by INTEGER REFERENCES principals (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
-- one schedule per workflow from its manifest; any number made with the API
CREATE UNIQUE INDEX schedules_manifest ON schedules (workspace_id, module, target) WHERE source = 0;
CREATE INDEX schedules_workspace ON schedules (workspace_id);
