-- Epochs (semantics.md §23). A `deferred`, `cached` or `spawned` result in resolved form
-- (§4.1) has no successor in this database: it names the execution it redirected to (whose run
-- lives in an archived epoch) and holds a copy of its value in `value_id`.
ALTER TABLE results ADD COLUMN successor_ref TEXT COLLATE "C";
