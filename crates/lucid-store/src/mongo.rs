//! MongoDB backend: the official driver, SPEC §5 field names, SPEC indexes created at start-up.
//!
//! A block range and its checkpoint commit in one multi-document transaction when the deployment
//! supports it (replica set or sharded cluster); otherwise the data is written first and the
//! checkpoint last, so a crash replays at most one range, harmlessly (idempotent upserts).

use std::sync::Mutex;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{
    ErrorKind, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT, WriteFailure,
};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::*;

/// How [`MongoStore`] writes a block range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxMode {
    /// Transactions when the server reports a replica set or a sharded cluster.
    #[default]
    Auto,
    /// Always transactions (fails on a standalone server).
    On,
    /// Never: data first, checkpoint last.
    Off,
}

/// Backend options. In a URL: `lucidTransactions=auto|on|off` (removed before the driver sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MongoOptions {
    pub transactions: TxMode,
}

impl MongoOptions {
    pub fn from_url(url: &str) -> Self {
        let mode = url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("lucidTransactions="));
        MongoOptions {
            transactions: match mode {
                Some("off") => TxMode::Off,
                Some("on") => TxMode::On,
                _ => TxMode::Auto,
            },
        }
    }
}

fn strip_own_params(url: &str) -> String {
    match url.split_once('?') {
        None => url.to_owned(),
        Some((base, q)) => {
            let rest: Vec<&str> = q
                .split('&')
                .filter(|kv| !kv.starts_with("lucidTransactions=") && !kv.is_empty())
                .collect();
            if rest.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", rest.join("&"))
            }
        }
    }
}

/// The MongoDB store.
#[derive(Debug)]
pub struct MongoStore {
    client: Client,
    db: Database,
    transactions: bool,
    fault: Mutex<Option<Fault>>,
}

const DUP_KEY: i32 = 11000;
const TX_ATTEMPTS: usize = 20;

fn write_error_code(e: &mongodb::error::Error) -> Option<(i32, String)> {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(we)) => Some((we.code, we.message.clone())),
        ErrorKind::Command(ce) => Some((ce.code, ce.message.clone())),
        ErrorKind::InsertMany(im) => im
            .write_errors
            .as_ref()
            .and_then(|w| w.first())
            .map(|w| (w.code, w.message.clone())),
        _ => None,
    }
}

fn map_err(collection: &str, e: mongodb::error::Error) -> StoreError {
    match write_error_code(&e) {
        Some((DUP_KEY, msg)) => StoreError::Duplicate {
            collection: collection.to_owned(),
            key: msg,
        },
        _ => StoreError::Mongo(e),
    }
}

/// A duplicate key on the `_id` index (a lost race of two upserts), not on another unique index.
fn is_id_dup(e: &mongodb::error::Error) -> bool {
    matches!(write_error_code(e), Some((DUP_KEY, m)) if is_id_index_msg(&m))
}

/// `E11000 … index: <name> dup key: …`: whether `<name>` is `_id_`. (Matching `_id` anywhere
/// also caught e.g. `session_id_idx`, retrying a real unique-index violation as a race.)
fn is_id_index_msg(msg: &str) -> bool {
    msg.contains(" index: _id_ ")
}

fn too_big(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) if n.is_u64() && n.as_i64().is_none() => Some(String::new()),
        serde_json::Value::Object(m) => m.iter().find_map(|(k, v)| {
            too_big(v).map(|p| {
                if p.is_empty() {
                    k.clone()
                } else {
                    format!("{k}.{p}")
                }
            })
        }),
        serde_json::Value::Array(a) => a.iter().find_map(too_big),
        _ => None,
    }
}

fn to_doc<T: Serialize>(collection: &str, t: &T) -> Result<Document> {
    if let Ok(v) = serde_json::to_value(t)
        && let Some(field) = too_big(&v)
    {
        let id = v.get("_id").map(|i| i.to_string()).unwrap_or_default();
        return Err(out_of_range(collection, id.trim_matches('"'), &field));
    }
    mongodb::bson::serialize_to_document(t).map_err(|e| {
        let s = e.to_string();
        if s.contains("range") || s.contains("u64") || s.contains("unsigned") {
            out_of_range(collection, "?", &s)
        } else {
            StoreError::Invalid(format!("{collection}: {s}"))
        }
    })
}

fn from_doc<T: DeserializeOwned>(collection: &str, d: Document) -> Result<T> {
    let id = match d.get("_id") {
        Some(Bson::String(s)) => s.clone(),
        Some(b) => b.to_string(),
        None => "?".to_owned(),
    };
    mongodb::bson::deserialize_from_document(d).map_err(|e| StoreError::Malformed {
        collection: collection.to_owned(),
        id,
        reason: e.to_string(),
    })
}

/// Runs a driver action with or without the session.
macro_rules! s {
    ($sess:expr, $action:expr) => {
        match $sess.as_deref_mut() {
            Some(s) => $action.session(s).await,
            None => $action.await,
        }
    };
}

/// Runs `$ops` (given `$sess: &mut Sess`) in a transaction of `$store` and returns its value from
/// the enclosing function: the whole transaction again on a transient error, the commit again
/// when its result is unknown, up to [`TX_ATTEMPTS`] attempts in all. (A macro, not an async
/// closure: the trait's futures must be `Send` for every session lifetime.)
macro_rules! in_transaction {
    ($store:expr, |$sess:ident| $ops:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut session = $store.client.start_session().await?;
            session.start_transaction().await?;
            let r = {
                let mut s: Sess<'_> = Some(&mut session);
                let $sess = &mut s;
                $ops
            };
            match r {
                Ok(v) => loop {
                    match session.commit_transaction().await {
                        Ok(()) => return Ok(v),
                        Err(e)
                            if e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
                                && attempt < TX_ATTEMPTS =>
                        {
                            attempt += 1;
                        }
                        Err(e)
                            if e.contains_label(TRANSIENT_TRANSACTION_ERROR)
                                && attempt < TX_ATTEMPTS =>
                        {
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    }
                },
                Err(e) => {
                    let _ = session.abort_transaction().await;
                    if !(transient(&e) && attempt < TX_ATTEMPTS) {
                        return Err(e);
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
        }
    }};
}

type Sess<'a> = Option<&'a mut ClientSession>;

impl MongoStore {
    /// Connects, creates the SPEC §5 indexes (idempotent) and detects transaction support. The
    /// database is the URL's path (default `lucid`).
    pub async fn open(url: &str, opts: MongoOptions) -> Result<Self> {
        let copts = ClientOptions::parse(strip_own_params(url)).await?;
        let dbname = copts
            .default_database
            .clone()
            .unwrap_or_else(|| "lucid".to_owned());
        let client = Client::with_options(copts)?;
        let db = client.database(&dbname);
        let hello = match db.run_command(doc! {"hello": 1}).await {
            Ok(h) => h,
            // servers before 4.4.2 only know the legacy name
            Err(_) => db.run_command(doc! {"isMaster": 1}).await?,
        };
        let replicated =
            hello.get_str("setName").is_ok() || hello.get_str("msg").ok() == Some("isdbgrid");
        let transactions = match opts.transactions {
            TxMode::Auto => replicated,
            TxMode::On => true,
            TxMode::Off => false,
        };
        let store = MongoStore {
            client,
            db,
            transactions,
            fault: Mutex::new(None),
        };
        store.create_indexes().await?;
        Ok(store)
    }

    /// Whether block ranges are written in transactions.
    pub fn uses_transactions(&self) -> bool {
        self.transactions
    }

    /// The database (tests: hand edits).
    #[doc(hidden)]
    pub fn database(&self) -> &Database {
        &self.db
    }

    fn coll(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    async fn create_indexes(&self) -> Result<()> {
        let ix = |name: &str, keys: Document, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(unique.then_some(true))
                        .build(),
                )
                .build()
        };
        let plan: Vec<(&str, Vec<IndexModel>)> = vec![
            (
                collections::SESSIONS,
                vec![
                    // owner_addr, extended with the API's newest-first keyset order
                    ix(
                        "owner_addr",
                        doc! {"owner_addr": 1, "started_at": -1, "_id": -1},
                        false,
                    ),
                    ix("started_at_desc", doc! {"started_at": -1}, false),
                    ix("status", doc! {"status": 1}, false),
                    ix("anchor_txid", doc! {"anchor_txid": 1}, false),
                ],
            ),
            (
                collections::CHUNKS,
                vec![ix("session_id_idx", doc! {"session_id": 1, "idx": 1}, true)],
            ),
            (
                collections::EVENTS,
                vec![
                    ix(
                        "chain_id_block_number",
                        doc! {"chain_id": 1, "block_number": 1},
                        false,
                    ),
                    ix("event", doc! {"event": 1}, false),
                    ix("tx_hash", doc! {"tx_hash": 1}, false),
                ],
            ),
            (
                collections::TASK_PROOFS,
                vec![
                    ix("slot_nodeId", doc! {"slot": 1, "nodeId": 1}, false),
                    ix("nodeId_slot", doc! {"nodeId": 1, "slot": 1}, false),
                    ix("type", doc! {"type": 1}, false),
                ],
            ),
            (
                collections::WORK_TALLY,
                vec![
                    ix("epoch_entityId", doc! {"epoch": 1, "entityId": 1}, true),
                    ix("epoch_rank", doc! {"epoch": 1, "rank": 1}, false),
                ],
            ),
            (
                collections::LEADER_SCHEDULE,
                vec![
                    ix("primary", doc! {"primary": 1}, false),
                    ix("epoch", doc! {"epoch": 1}, false),
                ],
            ),
            (
                collections::PAYOUTS,
                vec![
                    ix("period_to_evm", doc! {"period": 1, "to_evm": 1}, false),
                    ix("status", doc! {"status": 1}, false),
                ],
            ),
        ];
        for (coll, models) in plan {
            self.coll(coll).create_indexes(models).await?;
        }
        Ok(())
    }

    /// Idempotent replace-by-`_id` of each document.
    async fn upsert_docs(
        &self,
        sess: &mut Sess<'_>,
        coll: &str,
        docs: Vec<Document>,
    ) -> Result<()> {
        let c = self.coll(coll);
        for d in docs {
            let id = d.get("_id").cloned().unwrap_or(Bson::Null);
            let mut tries = 0;
            loop {
                let r = s!(
                    sess,
                    c.replace_one(doc! {"_id": id.clone()}, &d).upsert(true)
                );
                match r {
                    Ok(_) => break,
                    // two concurrent upserts of a new _id: the loser retries as an update
                    Err(e) if is_id_dup(&e) && tries < 3 && sess.is_none() => tries += 1,
                    Err(e) => return Err(map_err(coll, e)),
                }
            }
        }
        Ok(())
    }

    async fn put<T: Serialize + Sync>(&self, coll: &str, items: &[T]) -> Result<()> {
        let docs = items
            .iter()
            .map(|t| to_doc(coll, t))
            .collect::<Result<Vec<_>>>()?;
        self.insert_or_replace(coll, docs).await
    }

    /// Idempotent replace-by-`_id` outside a transaction: one unordered `insert_many`, then a
    /// replace of the documents whose `_id` already existed.
    async fn insert_or_replace(&self, coll: &str, docs: Vec<Document>) -> Result<()> {
        if docs.is_empty() {
            return Ok(());
        }
        let dups = self.insert_unordered(coll, &docs).await?;
        let again = dups
            .into_iter()
            .filter_map(|i| docs.get(i).cloned())
            .collect();
        self.upsert_docs(&mut None, coll, again).await
    }

    /// Events of a range: inside a transaction delete-then-insert (replace semantics, atomic);
    /// outside, unordered `insert_many` and replace the ones that already existed.
    async fn write_events(&self, sess: &mut Sess<'_>, events: &[ChainEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let coll = collections::EVENTS;
        let c = self.coll(coll);
        let docs = events
            .iter()
            .map(|e| to_doc(coll, e))
            .collect::<Result<Vec<_>>>()?;
        if sess.is_some() {
            let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
            s!(sess, c.delete_many(doc! {"_id": {"$in": ids}})).map_err(|e| map_err(coll, e))?;
            s!(sess, c.insert_many(&docs)).map_err(|e| map_err(coll, e))?;
            return Ok(());
        }
        self.insert_or_replace(coll, docs).await
    }

    /// Unordered `insert_many`: the indexes of the documents a duplicate key refused; any other
    /// failure is an error.
    async fn insert_unordered(&self, coll: &str, docs: &[Document]) -> Result<Vec<usize>> {
        match self.coll(coll).insert_many(docs).ordered(false).await {
            Ok(_) => Ok(Vec::new()),
            Err(e) => {
                let ErrorKind::InsertMany(im) = e.kind.as_ref() else {
                    return Err(map_err(coll, e));
                };
                if im.write_concern_error.is_some() {
                    return Err(map_err(coll, e));
                }
                let mut dups = Vec::new();
                for w in im.write_errors.iter().flatten() {
                    if w.code != DUP_KEY {
                        return Err(map_err(coll, e.clone()));
                    }
                    dups.push(w.index);
                }
                Ok(dups)
            }
        }
    }

    async fn add_storers(&self, sess: &mut Sess<'_>, storers: &[ChunkStorer]) -> Result<()> {
        let coll = collections::CHUNKS;
        let c = self.coll(coll);
        for st in storers {
            let id = Chunk::make_id(&st.session_id, st.idx);
            let size = i64_of(coll, &id, "size", st.size)?;
            let mut tries = 0;
            loop {
                let r = s!(
                    sess,
                    c.update_one(
                        doc! {"_id": &id},
                        doc! {
                            "$setOnInsert": {
                                "session_id": &st.session_id,
                                "idx": i64::from(st.idx),
                                "chunk_hash": &st.chunk_hash,
                                "size": size,
                            },
                            "$addToSet": {"storers": &st.storer},
                        },
                    )
                    .upsert(true)
                );
                match r {
                    Ok(_) => break,
                    Err(e) if is_id_dup(&e) && tries < 3 && sess.is_none() => tries += 1,
                    Err(e) => return Err(map_err(coll, e)),
                }
            }
        }
        Ok(())
    }

    async fn set_slot_results(&self, sess: &mut Sess<'_>, results: &[SlotOutcome]) -> Result<()> {
        let coll = collections::LEADER_SCHEDULE;
        let c = self.coll(coll);
        for r in results {
            let res = mongodb::bson::serialize_to_bson(&r.result)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            s!(
                sess,
                c.update_one(
                    doc! {"_id": i64_of(coll, "-", "slot", r.slot)?},
                    doc! {"$set": {"result": res}}
                )
            )
            .map_err(|e| map_err(coll, e))?;
        }
        Ok(())
    }

    async fn set_checkpoint(&self, sess: &mut Sess<'_>, cp: &Checkpoint) -> Result<()> {
        let d = to_doc(collections::CHECKPOINTS, cp)?;
        self.upsert_docs(sess, collections::CHECKPOINTS, vec![d])
            .await
    }

    async fn range_ops(
        &self,
        sess: &mut Sess<'_>,
        range: &BlockRange,
        fault: Option<Fault>,
    ) -> Result<()> {
        self.write_events(sess, &range.events).await?;
        let sessions = range
            .sessions
            .iter()
            .map(|s| to_doc(collections::SESSIONS, s))
            .collect::<Result<Vec<_>>>()?;
        self.upsert_docs(sess, collections::SESSIONS, sessions)
            .await?;
        self.add_storers(sess, &range.chunk_storers).await?;
        self.set_slot_results(sess, &range.slot_results).await?;
        let payouts = range
            .payouts
            .iter()
            .map(|p| to_doc(collections::PAYOUTS, p))
            .collect::<Result<Vec<_>>>()?;
        self.upsert_docs(sess, collections::PAYOUTS, payouts)
            .await?;
        if let Some(f) = fault {
            return Err(StoreError::Injected(f));
        }
        self.set_checkpoint(sess, &range.checkpoint).await
    }

    async fn rollback_ops(
        &self,
        sess: &mut Sess<'_>,
        chain: i64,
        from: i64,
        d: &Derived,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<RollbackReport> {
        let txs: Vec<&str> = d.tx_hashes.iter().map(String::as_str).collect();
        let mut rep = RollbackReport::default();
        if !txs.is_empty() {
            rep.sessions_reset = s!(
                sess,
                self.coll(collections::SESSIONS).update_many(
                    doc! {"anchor_txid": {"$in": &txs}},
                    doc! {"$set": {"status": "pending", "slot": Bson::Null, "anchor_txid": Bson::Null,
                      "block_number": Bson::Null, "block_hash": Bson::Null, "gas_used": Bson::Null}}
                )
            )?
            .modified_count;
            rep.slot_results_cleared = s!(
                sess,
                self.coll(collections::LEADER_SCHEDULE).update_many(
                    doc! {"result.txid": {"$in": &txs}},
                    doc! {"$set": {"result": Bson::Null}}
                )
            )?
            .modified_count;
            rep.payouts_reset = s!(
                sess,
                self.coll(collections::PAYOUTS).update_many(
                    doc! {"txid": {"$in": &txs}, "status": "paid"},
                    doc! {"$set": {"status": "sent"}}
                )
            )?
            .modified_count;
        }
        for (chunk_id, storers) in &d.storers {
            let list: Vec<&str> = storers.iter().map(String::as_str).collect();
            // one round trip: the document as it was tells how many storers the pull removed
            let before = s!(
                sess,
                self.coll(collections::CHUNKS)
                    .find_one_and_update(
                        doc! {"_id": chunk_id},
                        doc! {"$pull": {"storers": {"$in": list}}}
                    )
                    .return_document(ReturnDocument::Before)
            )?;
            rep.storers_removed += before
                .as_ref()
                .and_then(|b| b.get_array("storers").ok())
                .map(|a| {
                    a.iter()
                        .filter(|v| v.as_str().is_some_and(|s| storers.contains(s)))
                        .count() as u64
                })
                .unwrap_or(0);
        }
        rep.events_deleted = s!(
            sess,
            self.coll(collections::EVENTS)
                .delete_many(doc! {"chain_id": chain, "block_number": {"$gte": from}})
        )?
        .deleted_count;
        match checkpoint {
            Some(cp) => self.set_checkpoint(sess, cp).await?,
            None => {
                s!(
                    sess,
                    self.coll(collections::CHECKPOINTS)
                        .delete_one(doc! {"_id": chain})
                )?;
            }
        }
        Ok(rep)
    }

    async fn find_all<T: DeserializeOwned>(
        &self,
        coll: &str,
        filter: Document,
        sort: Document,
        limit: Option<i64>,
    ) -> Result<Vec<T>> {
        let c = self.coll(coll);
        let mut f = c.find(filter).sort(sort);
        if let Some(l) = limit {
            f = f.limit(l);
        }
        let docs: Vec<Document> = f.await?.try_collect().await?;
        docs.into_iter().map(|d| from_doc(coll, d)).collect()
    }

    async fn find_one<T: DeserializeOwned>(
        &self,
        coll: &str,
        filter: Document,
    ) -> Result<Option<T>> {
        match self.coll(coll).find_one(filter).await? {
            Some(d) => Ok(Some(from_doc(coll, d)?)),
            None => Ok(None),
        }
    }

    fn take_fault(&self) -> Option<Fault> {
        self.fault.lock().ok().and_then(|mut f| f.take())
    }
}

fn transient(e: &StoreError) -> bool {
    matches!(e, StoreError::Mongo(m) if m.contains_label(TRANSIENT_TRANSACTION_ERROR))
}

#[async_trait]
impl Store for MongoStore {
    fn backend(&self) -> Backend {
        Backend::Mongo
    }

    async fn put_sessions(&self, sessions: &[Session]) -> Result<()> {
        self.put(collections::SESSIONS, sessions).await
    }
    async fn put_chunks(&self, chunks: &[Chunk]) -> Result<()> {
        self.put(collections::CHUNKS, chunks).await
    }
    async fn put_proofs(&self, proofs: &[TaskProof]) -> Result<ProofBatchOutcome> {
        if proofs.is_empty() {
            return Ok(ProofBatchOutcome::default());
        }
        let coll = collections::TASK_PROOFS;
        let docs = proofs
            .iter()
            .map(|p| to_doc(coll, p))
            .collect::<Result<Vec<_>>>()?;
        let dups = self.insert_unordered(coll, &docs).await?.len() as u64;
        Ok(ProofBatchOutcome {
            inserted: docs.len() as u64 - dups,
            duplicates: dups,
        })
    }
    async fn put_tally(&self, rows: &[WorkTally]) -> Result<()> {
        self.put(collections::WORK_TALLY, rows).await
    }
    async fn put_schedule(&self, slots: &[LeaderSlot]) -> Result<()> {
        self.put(collections::LEADER_SCHEDULE, slots).await
    }
    async fn put_payouts(&self, payouts: &[Payout]) -> Result<()> {
        self.put(collections::PAYOUTS, payouts).await
    }
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.set_checkpoint(&mut None, checkpoint).await
    }

    async fn write_block_range(&self, range: &BlockRange) -> Result<()> {
        let fault = self.take_fault();
        if !self.transactions {
            return self.range_ops(&mut None, range, fault).await;
        }
        in_transaction!(self, |sess| self.range_ops(sess, range, fault).await)
    }

    async fn rollback(
        &self,
        chain_id: u64,
        from_block: u64,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<RollbackReport> {
        check_rollback_args(chain_id, from_block, checkpoint)?;
        let chain = i64_of(collections::EVENTS, "-", "chain_id", chain_id)?;
        let from = sat(from_block);
        // Read outside the transaction: one indexer writes a chain, so nothing races this.
        let events: Vec<ChainEvent> = self
            .find_all(
                collections::EVENTS,
                doc! {"chain_id": chain, "block_number": {"$gte": from}},
                doc! {"block_number": 1, "log_index": 1},
                None,
            )
            .await?;
        let d = derive_rollback(&events);
        if !self.transactions {
            return self
                .rollback_ops(&mut None, chain, from, &d, checkpoint)
                .await;
        }
        in_transaction!(self, |sess| self
            .rollback_ops(sess, chain, from, &d, checkpoint)
            .await)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        self.find_one(collections::SESSIONS, doc! {"_id": id}).await
    }

    async fn sessions_by_owner(
        &self,
        owner: &str,
        status: Option<SessionStatus>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>> {
        let limit = limit.max(1);
        let mut filter = doc! {"owner_addr": owner};
        if let Some(s) = status {
            filter.insert("status", s.as_str());
        }
        if let Some(c) = cursor {
            let (t, id) = decode_cursor(c)?;
            filter.insert(
                "$or",
                vec![
                    doc! {"started_at": {"$lt": t}},
                    doc! {"started_at": t, "_id": {"$lt": id}},
                ],
            );
        }
        let items: Vec<Session> = self
            .find_all(
                collections::SESSIONS,
                filter,
                doc! {"started_at": -1, "_id": -1},
                Some(i64::from(limit) + 1),
            )
            .await?;
        Ok(Page::from_overfetch(items, limit))
    }

    async fn chunks_of_session(&self, session_id: &str) -> Result<Vec<Chunk>> {
        self.find_all(
            collections::CHUNKS,
            doc! {"session_id": session_id},
            doc! {"idx": 1},
            None,
        )
        .await
    }

    async fn events(&self, q: &EventQuery) -> Result<Vec<ChainEvent>> {
        let mut filter = doc! {
            "event": &q.event,
            "block_number": {"$gte": sat(q.from_block), "$lte": sat(q.to_block)},
        };
        if let Some(c) = q.chain_id {
            filter.insert("chain_id", i64_of(collections::EVENTS, "-", "chain_id", c)?);
        }
        self.find_all(
            collections::EVENTS,
            filter,
            doc! {"chain_id": 1, "block_number": 1, "log_index": 1},
            None,
        )
        .await
    }

    async fn proof(&self, id: &str) -> Result<Option<TaskProof>> {
        self.find_one(collections::TASK_PROOFS, doc! {"_id": id})
            .await
    }

    async fn proofs_in_slots(&self, from_slot: u64, to_slot: u64) -> Result<Vec<TaskProof>> {
        self.find_all(
            collections::TASK_PROOFS,
            doc! {"slot": {"$gte": sat(from_slot), "$lt": sat(to_slot)}},
            doc! {"slot": 1, "nodeId": 1, "_id": 1},
            None,
        )
        .await
    }

    async fn tally_by_rank(&self, epoch: u64) -> Result<Vec<WorkTally>> {
        let mut rows: Vec<WorkTally> = self
            .find_all(
                collections::WORK_TALLY,
                doc! {"epoch": i64_of(collections::WORK_TALLY, "-", "epoch", epoch)?},
                doc! {"rank": 1, "entityId": 1},
                None,
            )
            .await?;
        // MongoDB sorts null ranks first; the API puts them last.
        rows.sort_by(|a, b| {
            (a.rank.is_none(), a.rank, &a.entity_id).cmp(&(b.rank.is_none(), b.rank, &b.entity_id))
        });
        Ok(rows)
    }

    async fn schedule(&self, from_slot: u64, to_slot: u64) -> Result<Vec<LeaderSlot>> {
        self.find_all(
            collections::LEADER_SCHEDULE,
            doc! {"_id": {"$gte": sat(from_slot), "$lt": sat(to_slot)}},
            doc! {"_id": 1},
            None,
        )
        .await
    }

    async fn payout(&self, id: &str) -> Result<Option<Payout>> {
        self.find_one(collections::PAYOUTS, doc! {"_id": id}).await
    }

    async fn payouts_by_recipient(&self, to_evm: &str, period: Option<u32>) -> Result<Vec<Payout>> {
        let mut filter = doc! {"to_evm": to_evm};
        if let Some(p) = period {
            filter.insert("period", i64::from(p));
        }
        self.find_all(
            collections::PAYOUTS,
            filter,
            doc! {"period": 1, "_id": 1},
            None,
        )
        .await
    }

    async fn checkpoint(&self, chain_id: u64) -> Result<Option<Checkpoint>> {
        self.find_one(
            collections::CHECKPOINTS,
            doc! {"_id": i64_of(collections::CHECKPOINTS, "-", "_id", chain_id)?},
        )
        .await
    }

    fn inject_fault(&self, fault: Option<Fault>) {
        if let Ok(mut f) = self.fault.lock() {
            *f = fault;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_id_index_msg;

    #[test]
    fn id_index_dup_message() {
        assert!(is_id_index_msg(
            "E11000 duplicate key error collection: lucid.sessions index: _id_ dup key: { _id: \"a\" }"
        ));
        assert!(!is_id_index_msg(
            "E11000 duplicate key error collection: lucid.chunks index: session_id_idx dup key: { session_id: \"a\", idx: 0 }"
        ));
    }
}
