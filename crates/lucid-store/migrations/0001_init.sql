-- SPEC §5 stored data. Column names are the MongoDB field names. Nested values
-- (storers, args, fallbacks, result) are JSON text. No CHECK constraints: values are
-- validated when read back (a hand-edited bad row is a typed error, not a panic).

CREATE TABLE sessions (
    "_id"          TEXT PRIMARY KEY NOT NULL,
    owner_addr     TEXT,
    started_at     INTEGER,
    manifest_hash  TEXT,
    merkle_root    TEXT,
    chunk_count    INTEGER,
    status         TEXT,
    slot           INTEGER,
    anchor_txid    TEXT,
    block_number   INTEGER,
    block_hash     TEXT,
    gas_used       INTEGER
);
-- owner_addr (extended with the newest-first keyset order of the API)
CREATE INDEX sessions_owner ON sessions (owner_addr, started_at DESC, "_id" DESC);
CREATE INDEX sessions_started_at ON sessions (started_at DESC);
CREATE INDEX sessions_status ON sessions (status);
CREATE INDEX sessions_anchor_txid ON sessions (anchor_txid);

CREATE TABLE chunks (
    "_id"       TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT,
    idx         INTEGER,
    chunk_hash  TEXT,
    size        INTEGER,
    storers     TEXT
);
CREATE UNIQUE INDEX chunks_session_idx ON chunks (session_id, idx);

CREATE TABLE events (
    "_id"         TEXT PRIMARY KEY NOT NULL,
    chain_id      INTEGER,
    address       TEXT,
    event         TEXT,
    block_number  INTEGER,
    block_hash    TEXT,
    tx_hash       TEXT,
    log_index     INTEGER,
    args          TEXT
);
CREATE INDEX events_chain_block ON events (chain_id, block_number);
CREATE INDEX events_event ON events (event);
CREATE INDEX events_tx_hash ON events (tx_hash);

CREATE TABLE task_proofs (
    "_id"         TEXT PRIMARY KEY NOT NULL,
    "nodeId"      TEXT,
    slot          INTEGER,
    "type"        TEXT,
    "sessionId"   TEXT,
    amount        INTEGER,
    "chunkIndex"  INTEGER,
    digest        TEXT,
    sig           TEXT,
    ts            INTEGER
);
CREATE INDEX task_proofs_slot_node ON task_proofs (slot, "nodeId");
CREATE INDEX task_proofs_node_slot ON task_proofs ("nodeId", slot);
CREATE INDEX task_proofs_type ON task_proofs ("type");

CREATE TABLE work_tally (
    "_id"        TEXT PRIMARY KEY NOT NULL,
    epoch        INTEGER,
    "entityId"   TEXT,
    credits      INTEGER,
    "liveScore"  INTEGER,
    rank         INTEGER,
    eligible     INTEGER
);
CREATE UNIQUE INDEX work_tally_epoch_entity ON work_tally (epoch, "entityId");
CREATE INDEX work_tally_epoch_rank ON work_tally (epoch, rank);

CREATE TABLE leader_schedule (
    "_id"         INTEGER PRIMARY KEY NOT NULL,
    slot          INTEGER,
    epoch         INTEGER,
    "primary"     TEXT,
    fallbacks     TEXT,
    "planReason"  TEXT,
    result        TEXT
);
CREATE INDEX leader_schedule_primary ON leader_schedule ("primary");
CREATE INDEX leader_schedule_epoch ON leader_schedule (epoch);

CREATE TABLE payouts (
    "_id"       TEXT PRIMARY KEY NOT NULL,
    period      INTEGER,
    to_tron     TEXT,
    to_evm      TEXT,
    amount      TEXT,
    router      TEXT,
    status      TEXT,
    txid        TEXT,
    created_at  INTEGER
);
CREATE INDEX payouts_period_to_evm ON payouts (period, to_evm);
CREATE INDEX payouts_status ON payouts (status);

CREATE TABLE checkpoints (
    "_id"         INTEGER PRIMARY KEY NOT NULL,
    block_number  INTEGER,
    block_hash    TEXT
);
