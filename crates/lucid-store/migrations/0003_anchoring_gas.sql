-- gas per session of the anchoring transaction (receipt gasUsed / sessions it registered), kept with
-- the anchoring row so a rollback removes it with the anchoring; the session's gas_used is derived.
ALTER TABLE session_anchorings ADD COLUMN gas_used INTEGER;
