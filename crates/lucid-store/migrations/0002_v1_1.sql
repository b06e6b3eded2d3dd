-- SPEC §5 v1.1. New fields and collections; derived state (a session's anchoring, a chunk's
-- storer, a slot's claim, a payout's payment) in rows keyed by the event they came from.

ALTER TABLE sessions ADD COLUMN owner_sig TEXT;
ALTER TABLE sessions ADD COLUMN received_at INTEGER;
-- the keeper's batch: pending sessions by received_at, then id
CREATE INDEX sessions_pending ON sessions (status, received_at, "_id");

-- storers are derived (chunk_storers) and assembled when read
ALTER TABLE chunks DROP COLUMN storers;

ALTER TABLE events ADD COLUMN block_time INTEGER;
-- (chain_id, block_number) extended with the keyset order of the events API
DROP INDEX events_chain_block;
CREATE INDEX events_chain_block_log ON events (chain_id, block_number, log_index);

-- (slot, nodeId) extended with the keyset order of proof pages
DROP INDEX task_proofs_slot_node;
CREATE INDEX task_proofs_slot_node_id ON task_proofs (slot, "nodeId", "_id");
CREATE INDEX task_proofs_ts ON task_proofs (ts);

-- results are derived (slot_claims) and assembled when read
ALTER TABLE leader_schedule DROP COLUMN result;

DROP TABLE payouts;
CREATE TABLE payouts (
    "_id"       TEXT PRIMARY KEY NOT NULL,
    period      INTEGER,
    node_id     TEXT,
    to_tron     TEXT,
    to_evm      TEXT,
    credits     INTEGER,
    carry_in    TEXT,
    gross       TEXT,
    amount      TEXT,
    carry_out   TEXT,
    router      TEXT,
    leaf        TEXT,
    proof       TEXT,
    kyc_hash    TEXT,
    kyc_expiry  INTEGER,
    kyc_sig     TEXT,
    status      TEXT,
    txid        TEXT,
    created_at  INTEGER
);
CREATE INDEX payouts_period_to_evm ON payouts (period, to_evm);
CREATE INDEX payouts_status ON payouts (status);
CREATE INDEX payouts_to_evm_period ON payouts (to_evm, period);
CREATE INDEX payouts_node_period ON payouts (node_id, period);

CREATE TABLE epochs (
    "_id"        INTEGER PRIMARY KEY NOT NULL,
    epoch        INTEGER,
    seed         TEXT,
    seed_block   INTEGER,
    params_hash  TEXT,
    members      TEXT,
    rows         TEXT,
    tally_hash   TEXT,
    frozen_at    INTEGER,
    frozen_by    TEXT
);

CREATE TABLE periods (
    "_id"        INTEGER PRIMARY KEY NOT NULL,
    period       INTEGER,
    pool         TEXT,
    inputs_hash  TEXT,
    members      TEXT,
    min_payout   TEXT,
    max_v0       TEXT,
    max_kyc      TEXT,
    root         TEXT,
    total        TEXT,
    planned_at   INTEGER
);

CREATE TABLE payout_addresses (
    "_id"       TEXT PRIMARY KEY NOT NULL,
    node_id     TEXT,
    recipient   TEXT,
    valid_from  INTEGER,
    sig         TEXT
);
CREATE INDEX payout_addresses_recipient ON payout_addresses (recipient);
CREATE INDEX payout_addresses_node ON payout_addresses (node_id, valid_from);

-- derived state, one row per event ("_id" = chainId:txHash:logIndex)
CREATE TABLE session_anchorings (
    "_id"          TEXT PRIMARY KEY NOT NULL,
    chain_id       INTEGER,
    block_number   INTEGER,
    log_index      INTEGER,
    block_hash     TEXT,
    tx_hash        TEXT,
    session_id     TEXT,
    owner_addr     TEXT,
    slot           INTEGER,
    manifest_hash  TEXT,
    merkle_root    TEXT,
    started_at     INTEGER,
    chunk_count    INTEGER
);
CREATE INDEX session_anchorings_chain_block ON session_anchorings (chain_id, block_number);
CREATE INDEX session_anchorings_session ON session_anchorings (session_id);

CREATE TABLE chunk_storers (
    "_id"          TEXT PRIMARY KEY NOT NULL,
    chain_id       INTEGER,
    block_number   INTEGER,
    log_index      INTEGER,
    session_id     TEXT,
    idx            INTEGER,
    storer         TEXT,
    chunk_hash     TEXT,
    size           INTEGER
);
CREATE INDEX chunk_storers_chain_block ON chunk_storers (chain_id, block_number);
CREATE INDEX chunk_storers_session ON chunk_storers (session_id, idx);

CREATE TABLE slot_claims (
    "_id"          TEXT PRIMARY KEY NOT NULL,
    chain_id       INTEGER,
    block_number   INTEGER,
    log_index      INTEGER,
    slot           INTEGER,
    submitter      TEXT,
    tx_hash        TEXT,
    block_time     INTEGER
);
CREATE INDEX slot_claims_chain_block ON slot_claims (chain_id, block_number);
CREATE INDEX slot_claims_slot ON slot_claims (slot, chain_id, block_number, log_index);

CREATE TABLE payout_payments (
    "_id"          TEXT PRIMARY KEY NOT NULL,
    chain_id       INTEGER,
    block_number   INTEGER,
    log_index      INTEGER,
    payout_id      TEXT,
    "to"           TEXT,
    amount         TEXT,
    period         INTEGER,
    kyc_hash       TEXT,
    tx_hash        TEXT,
    block_time     INTEGER
);
CREATE INDEX payout_payments_chain_block ON payout_payments (chain_id, block_number);
CREATE INDEX payout_payments_payout ON payout_payments (payout_id);
CREATE INDEX payout_payments_period ON payout_payments (period);
