-- The pending queue's index holds pending sessions only. Before, every session (anchored ones too)
-- had an entry keyed by its random id, one more random B-tree insert per anchored session during a
-- backfill; `pending_sessions` reads `WHERE status = 'pending' ORDER BY received_at, "_id"`, which this
-- partial index serves as before.
DROP INDEX sessions_pending;
CREATE INDEX sessions_pending ON sessions (received_at, "_id") WHERE status = 'pending';
