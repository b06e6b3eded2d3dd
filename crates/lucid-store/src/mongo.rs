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
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::models::collections::derived;
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
const TX_ATTEMPTS: usize = 40;

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
            tokio::time::sleep(backoff(attempt)).await;
        }
    }};
}

type Sess<'a> = Option<&'a mut ClientSession>;

/// Back-off before retrying a transaction: grows to 200 ms, with jitter so that writers that
/// conflicted once do not collide again in lock step.
fn backoff(attempt: usize) -> std::time::Duration {
    let base = (10 * attempt as u64).min(200);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) % 25)
        .unwrap_or(0);
    std::time::Duration::from_millis(base + jitter)
}

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
        let by_block = || {
            ix(
                "chain_id_block_number",
                doc! {"chain_id": 1, "block_number": 1},
                false,
            )
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
                    ix("started_at_desc", doc! {"started_at": -1, "_id": -1}, false),
                    ix("status", doc! {"status": 1}, false),
                    ix(
                        "status_received_at",
                        doc! {"status": 1, "received_at": 1, "_id": 1},
                        false,
                    ),
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
                        doc! {"chain_id": 1, "block_number": 1, "log_index": 1},
                        false,
                    ),
                    ix("event", doc! {"event": 1}, false),
                    ix("tx_hash", doc! {"tx_hash": 1}, false),
                ],
            ),
            (
                collections::TASK_PROOFS,
                vec![
                    ix(
                        "slot_nodeId",
                        doc! {"slot": 1, "nodeId": 1, "_id": 1},
                        false,
                    ),
                    ix("nodeId_slot", doc! {"nodeId": 1, "slot": 1}, false),
                    ix("type", doc! {"type": 1}, false),
                    ix("ts", doc! {"ts": 1}, false),
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
                    ix("to_evm_period", doc! {"to_evm": 1, "period": 1}, false),
                    ix("node_id_period", doc! {"node_id": 1, "period": -1}, false),
                ],
            ),
            (
                collections::PAYOUT_ADDRESSES,
                vec![
                    ix("recipient", doc! {"recipient": 1}, false),
                    ix(
                        "node_id_valid_from",
                        doc! {"node_id": 1, "valid_from": 1},
                        false,
                    ),
                ],
            ),
            (
                derived::SESSION_ANCHORINGS,
                vec![by_block(), ix("session_id", doc! {"session_id": 1}, false)],
            ),
            (
                derived::CHUNK_STORERS,
                vec![
                    by_block(),
                    ix("session_id_idx", doc! {"session_id": 1, "idx": 1}, false),
                ],
            ),
            (
                derived::SLOT_CLAIMS,
                vec![
                    by_block(),
                    ix(
                        "slot",
                        doc! {"slot": 1, "chain_id": 1, "block_number": 1, "log_index": 1},
                        false,
                    ),
                ],
            ),
            (
                derived::PAYOUT_PAYMENTS,
                vec![
                    by_block(),
                    ix("payout_id", doc! {"payout_id": 1}, false),
                    ix("period", doc! {"period": 1}, false),
                ],
            ),
        ];
        for (coll, models) in plan {
            self.coll(coll).create_indexes(models).await?;
        }
        Ok(())
    }

    /// Unordered `insert_many` outside a transaction: the indexes of the documents a duplicate
    /// key refused; any other failure is an error.
    async fn insert_unordered(&self, coll: &str, docs: &[Document]) -> Result<Vec<usize>> {
        if docs.is_empty() {
            return Ok(Vec::new());
        }
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

    /// Insert-if-absent by `_id`; returns how many were inserted. In a transaction the present
    /// ids are read first (a duplicate key would abort the transaction); outside, one unordered
    /// `insert_many` that ignores duplicates.
    async fn insert_absent(
        &self,
        sess: &mut Sess<'_>,
        coll: &str,
        docs: Vec<Document>,
    ) -> Result<u64> {
        if docs.is_empty() {
            return Ok(0);
        }
        if sess.is_none() {
            let dups = self.insert_unordered(coll, &docs).await?;
            return Ok((docs.len() - dups.len()) as u64);
        }
        let c = self.coll(coll);
        let ids: Vec<Bson> = docs
            .iter()
            .map(|d| d.get("_id").cloned().unwrap_or(Bson::Null))
            .collect();
        let present: Vec<Document> = match sess.as_deref_mut() {
            Some(s) => {
                let mut cur = c
                    .find(doc! {"_id": {"$in": ids}})
                    .projection(doc! {"_id": 1})
                    .session(&mut *s)
                    .await?;
                cur.stream(s).try_collect().await?
            }
            None => Vec::new(),
        };
        let present: Vec<Bson> = present
            .into_iter()
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        let mut seen = present;
        let mut fresh = Vec::new();
        for d in docs {
            let id = d.get("_id").cloned().unwrap_or(Bson::Null);
            if !seen.contains(&id) {
                seen.push(id);
                fresh.push(d);
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        s!(sess, c.insert_many(&fresh)).map_err(|e| map_err(coll, e))?;
        Ok(fresh.len() as u64)
    }

    /// Replace-by-`_id` of events: in a transaction delete-then-insert (atomic); outside,
    /// unordered `insert_many` and replace the ones that already existed.
    async fn write_events(&self, sess: &mut Sess<'_>, events: &[ChainEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let coll = collections::EVENTS;
        let c = self.coll(coll);
        let docs = docs_of(coll, events)?;
        if sess.is_some() {
            let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
            s!(sess, c.delete_many(doc! {"_id": {"$in": ids}})).map_err(|e| map_err(coll, e))?;
            s!(sess, c.insert_many(&docs)).map_err(|e| map_err(coll, e))?;
            return Ok(());
        }
        let dups = self.insert_unordered(coll, &docs).await?;
        for i in dups {
            if let Some(d) = docs.get(i) {
                let id = d.get("_id").cloned().unwrap_or(Bson::Null);
                c.replace_one(doc! {"_id": id}, d)
                    .upsert(true)
                    .await
                    .map_err(|e| map_err(coll, e))?;
            }
        }
        Ok(())
    }

    async fn find_docs<T: DeserializeOwned>(
        &self,
        sess: &mut Sess<'_>,
        coll: &str,
        filter: Document,
        sort: Option<Document>,
        limit: Option<i64>,
    ) -> Result<Vec<T>> {
        let c = self.coll(coll);
        let mut f = c.find(filter);
        if let Some(s) = sort {
            f = f.sort(s);
        }
        if let Some(l) = limit {
            f = f.limit(l);
        }
        let docs: Vec<Document> = match sess.as_deref_mut() {
            Some(s) => {
                let mut cur = f.session(&mut *s).await?;
                cur.stream(s).try_collect().await?
            }
            None => f.await?.try_collect().await?,
        };
        docs.into_iter().map(|d| from_doc(coll, d)).collect()
    }

    async fn find_all<T: DeserializeOwned>(
        &self,
        coll: &str,
        filter: Document,
        sort: Document,
        limit: Option<i64>,
    ) -> Result<Vec<T>> {
        self.find_docs(&mut None, coll, filter, Some(sort), limit)
            .await
    }

    async fn find_one_in<T: DeserializeOwned>(
        &self,
        sess: &mut Sess<'_>,
        coll: &str,
        filter: Document,
    ) -> Result<Option<T>> {
        let d = s!(sess, self.coll(coll).find_one(filter))?;
        d.map(|d| from_doc(coll, d)).transpose()
    }

    async fn find_one<T: DeserializeOwned>(
        &self,
        coll: &str,
        filter: Document,
    ) -> Result<Option<T>> {
        self.find_one_in(&mut None, coll, filter).await
    }

    /// Events and their derived rows; the sessions whose anchorings changed are recomputed.
    async fn apply_events(
        &self,
        sess: &mut Sess<'_>,
        events: &[ChainEvent],
        session_gas: &BTreeMap<B256, u64>,
    ) -> Result<()> {
        let d = derive_rows(events, session_gas)?;
        self.write_events(sess, events).await?;
        let inserted = self
            .insert_absent(
                sess,
                derived::SESSION_ANCHORINGS,
                docs_of(derived::SESSION_ANCHORINGS, &d.anchorings)?,
            )
            .await?;
        if inserted < d.anchorings.len() as u64 {
            // Some anchorings were stored before (a replay, or put_events without receipts): fill
            // in a gas_used they lack; a stored value is never overwritten.
            let mut by_gas: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
            for a in &d.anchorings {
                if let Some(g) = a.gas_used {
                    by_gas.entry(g).or_default().push(a.id.as_str());
                }
            }
            let c = self.coll(derived::SESSION_ANCHORINGS);
            for (g, ids) in by_gas {
                let g = i64_of(derived::SESSION_ANCHORINGS, ids[0], "gas_used", g)?;
                s!(
                    sess,
                    c.update_many(
                        doc! {"_id": {"$in": ids}, "gas_used": null},
                        doc! {"$set": {"gas_used": g}}
                    )
                )
                .map_err(|e| map_err(derived::SESSION_ANCHORINGS, e))?;
            }
        }
        self.insert_absent(
            sess,
            derived::CHUNK_STORERS,
            docs_of(derived::CHUNK_STORERS, &d.storers)?,
        )
        .await?;
        self.insert_absent(
            sess,
            derived::SLOT_CLAIMS,
            docs_of(derived::SLOT_CLAIMS, &d.claims)?,
        )
        .await?;
        self.insert_absent(
            sess,
            derived::PAYOUT_PAYMENTS,
            docs_of(derived::PAYOUT_PAYMENTS, &d.payments)?,
        )
        .await?;
        for id in d.session_ids() {
            self.refresh_session(sess, &id, None).await?;
        }
        Ok(())
    }

    /// Recomputes a session's document from its anchorings, leaving out those of blocks
    /// `>= from` of chain `chain` when `exclude` is `(chain, from)`. Returns whether it changed.
    /// Writes are conditional on the document read (its `owner_sig`), so a submission racing
    /// this outside a transaction is re-read, never overwritten.
    async fn refresh_session(
        &self,
        sess: &mut Sess<'_>,
        id: &str,
        exclude: Option<(u64, u64)>,
    ) -> Result<bool> {
        let coll = collections::SESSIONS;
        let c = self.coll(coll);
        for _ in 0..8 {
            let cur: Option<Session> = self.find_one_in(sess, coll, doc! {"_id": id}).await?;
            let anchorings: Vec<AnchoringRow> = self
                .find_docs(
                    sess,
                    derived::SESSION_ANCHORINGS,
                    doc! {"session_id": id},
                    None,
                    None,
                )
                .await?;
            let anchorings: Vec<AnchoringRow> = anchorings
                .into_iter()
                .filter(|a| {
                    exclude.is_none_or(|(ch, from)| !(a.chain_id == ch && a.block_number >= from))
                })
                .collect();
            let sig = match cur.as_ref().and_then(|s| s.owner_sig) {
                Some(s) => Bson::String(hex_of(&s)),
                None => Bson::Null,
            };
            match recompute_session(id, cur.as_ref(), &anchorings) {
                SessionWrite::Keep => return Ok(false),
                SessionWrite::Put(s) => {
                    let d = to_doc(coll, &*s)?;
                    if cur.is_none() {
                        match s!(sess, c.insert_one(&d)) {
                            Ok(_) => return Ok(true),
                            Err(e) if is_id_dup(&e) && sess.is_none() => continue,
                            // in a transaction: the raw error, so the transaction is retried
                            Err(e) if is_id_dup(&e) => return Err(e.into()),
                            Err(e) => return Err(map_err(coll, e)),
                        }
                    }
                    let r = s!(sess, c.replace_one(doc! {"_id": id, "owner_sig": sig}, &d))
                        .map_err(|e| map_err(coll, e))?;
                    if r.matched_count == 1 {
                        return Ok(true);
                    }
                }
                SessionWrite::Delete => {
                    let r = s!(
                        sess,
                        c.delete_one(doc! {"_id": id, "owner_sig": Bson::Null})
                    )?;
                    if r.deleted_count == 1 {
                        return Ok(true);
                    }
                }
            }
            if sess.is_some() {
                break;
            }
        }
        Err(StoreError::Conflict {
            collection: coll.to_owned(),
            id: id.to_owned(),
            reason: "the session kept changing while its anchoring was recomputed; retry".into(),
        })
    }

    async fn set_checkpoint(&self, sess: &mut Sess<'_>, cp: &Checkpoint) -> Result<()> {
        let coll = collections::CHECKPOINTS;
        let d = to_doc(coll, cp)?;
        let id = d.get("_id").cloned().unwrap_or(Bson::Null);
        let c = self.coll(coll);
        for tries in 0.. {
            match s!(
                sess,
                c.replace_one(doc! {"_id": id.clone()}, &d).upsert(true)
            ) {
                Ok(_) => return Ok(()),
                // two concurrent upserts of a new _id: the loser retries as an update
                Err(e) if is_id_dup(&e) && tries < 3 && sess.is_none() => {}
                Err(e) => return Err(map_err(coll, e)),
            }
        }
        Ok(())
    }

    async fn range_ops(&self, sess: &mut Sess<'_>, range: &BlockRange, fault: bool) -> Result<()> {
        self.apply_events(sess, &range.events, &range.session_gas)
            .await?;
        if fault {
            return Err(StoreError::Injected(Fault::BeforeCheckpoint));
        }
        self.set_checkpoint(sess, &range.checkpoint).await
    }

    /// Rollback, in the order that keeps a store without transactions replay-safe: sessions
    /// are recomputed as if the rows were gone (so a retry still finds them), then the derived
    /// rows go, then the events, then the checkpoint moves.
    async fn rollback_ops(
        &self,
        sess: &mut Sess<'_>,
        chain_id: u64,
        from_block: u64,
        checkpoint: Option<&Checkpoint>,
        fault: bool,
    ) -> Result<RollbackReport> {
        let chain = i64_of(collections::EVENTS, "-", "chain_id", chain_id)?;
        let from = sat(from_block);
        let in_range = doc! {"chain_id": chain, "block_number": {"$gte": from}};
        let mut rep = RollbackReport::default();
        let rows: Vec<AnchoringRow> = self
            .find_docs(
                sess,
                derived::SESSION_ANCHORINGS,
                in_range.clone(),
                None,
                None,
            )
            .await?;
        let affected: BTreeSet<String> = rows.into_iter().map(|a| a.session_id).collect();
        for id in &affected {
            if self
                .refresh_session(sess, id, Some((chain_id, from_block)))
                .await?
            {
                rep.sessions_changed += 1;
            }
        }
        for coll in derived::ALL {
            rep.derived_deleted +=
                s!(sess, self.coll(coll).delete_many(in_range.clone()))?.deleted_count;
        }
        if fault {
            return Err(StoreError::Injected(Fault::MidRollback));
        }
        rep.events_deleted = s!(
            sess,
            self.coll(collections::EVENTS).delete_many(in_range.clone())
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

    async fn submit_ops(
        &self,
        sess: &mut Sess<'_>,
        s: &SessionSubmission,
    ) -> Result<SubmitOutcome> {
        let coll = collections::SESSIONS;
        let c = self.coll(coll);
        let mut out = None;
        for _ in 0..8 {
            let cur: Option<Session> = self.find_one_in(sess, coll, doc! {"_id": &s.id}).await?;
            match plan_submission(cur.as_ref(), s)? {
                SubmitPlan::Insert => {
                    match s!(sess, c.insert_one(to_doc(coll, &s.to_session())?)) {
                        Ok(_) => {
                            self.refresh_session(sess, &s.id, None).await?;
                            out = Some(SubmitOutcome::Inserted);
                        }
                        Err(e) if is_id_dup(&e) && sess.is_none() => continue,
                        // in a transaction: the raw error, so the transaction is retried
                        Err(e) if is_id_dup(&e) => return Err(e.into()),
                        Err(e) => return Err(map_err(coll, e)),
                    }
                }
                SubmitPlan::Adopt => {
                    let r = s!(
                        sess,
                        c.update_one(
                            doc! {"_id": &s.id, "owner_sig": Bson::Null},
                            doc! {"$set": {
                                "owner_sig": hex_of(&s.owner_sig),
                                "received_at": i64_of(coll, &s.id, "received_at", s.received_at)?,
                            }}
                        )
                    )?;
                    if r.matched_count == 0 {
                        if sess.is_some() {
                            break;
                        }
                        continue;
                    }
                    self.refresh_session(sess, &s.id, None).await?;
                    out = Some(SubmitOutcome::Inserted);
                }
                SubmitPlan::Duplicate => out = Some(SubmitOutcome::Duplicate),
            }
            break;
        }
        let Some(out) = out else {
            return Err(StoreError::Conflict {
                collection: coll.to_owned(),
                id: s.id.clone(),
                reason: "the session kept changing during the submission; retry".into(),
            });
        };
        let docs: Vec<ChunkDoc> = s.chunks.iter().map(|c| ChunkDoc::of(&s.id, c)).collect();
        self.insert_absent(
            sess,
            collections::CHUNKS,
            docs_of(collections::CHUNKS, &docs)?,
        )
        .await?;
        Ok(out)
    }

    async fn payments_of(&self, sess: &mut Sess<'_>, ids: &[B256]) -> Result<Vec<PaymentRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(hex_of).collect();
        self.find_docs(
            sess,
            derived::PAYOUT_PAYMENTS,
            doc! {"payout_id": {"$in": list}},
            None,
            None,
        )
        .await
    }

    async fn with_payments(&self, sess: &mut Sess<'_>, mut v: Vec<Payout>) -> Result<Vec<Payout>> {
        let ids: Vec<B256> = v.iter().map(|p| p.id).collect();
        let pays = self.payments_of(sess, &ids).await?;
        apply_payments(&mut v, &pays);
        Ok(v)
    }

    async fn period_plan_ops(
        &self,
        sess: &mut Sess<'_>,
        period: &Period,
        payouts: &[Payout],
    ) -> Result<()> {
        let p = i64::from(period.period);
        let pc = self.coll(collections::PAYOUTS);
        let submitted = s!(
            sess,
            pc.count_documents(doc! {"period": p, "status": "submitted"})
        )?;
        if submitted > 0 {
            return Err(replan_conflict(
                period.period,
                &format!("{submitted} payout(s) submitted"),
            ));
        }
        let existing: Vec<Payout> = self
            .find_docs(sess, collections::PAYOUTS, doc! {"period": p}, None, None)
            .await?;
        let mut ids: Vec<String> = existing.iter().map(|x| hex_of(&x.id)).collect();
        ids.extend(payouts.iter().map(|x| hex_of(&x.id)));
        let paid = s!(
            sess,
            self.coll(derived::PAYOUT_PAYMENTS)
                .count_documents(doc! {"$or": [{"period": p}, {"payout_id": {"$in": ids}}]})
        )?;
        if paid > 0 {
            return Err(replan_conflict(
                period.period,
                &format!("{paid} payment(s) seen on chain"),
            ));
        }
        let new_ids: Vec<String> = payouts.iter().map(|x| hex_of(&x.id)).collect();
        let elsewhere = s!(
            sess,
            pc.count_documents(doc! {"period": {"$ne": p}, "_id": {"$in": new_ids}})
        )?;
        if elsewhere > 0 {
            return Err(replan_conflict(
                period.period,
                &format!("{elsewhere} payout id(s) belong to another period"),
            ));
        }
        s!(sess, pc.delete_many(doc! {"period": p}))?;
        let docs = docs_of(collections::PAYOUTS, payouts)?;
        if !docs.is_empty() {
            s!(sess, pc.insert_many(&docs)).map_err(|e| map_err(collections::PAYOUTS, e))?;
        }
        let d = to_doc(collections::PERIODS, period)?;
        s!(
            sess,
            self.coll(collections::PERIODS)
                .replace_one(doc! {"_id": p}, &d)
                .upsert(true)
        )
        .map_err(|e| map_err(collections::PERIODS, e))?;
        Ok(())
    }

    fn take_fault(&self, want: Fault) -> bool {
        match self.fault.lock() {
            Ok(mut f) if *f == Some(want) => {
                *f = None;
                true
            }
            _ => false,
        }
    }
}

fn docs_of<T: Serialize>(coll: &str, items: &[T]) -> Result<Vec<Document>> {
    items.iter().map(|t| to_doc(coll, t)).collect()
}

fn transient(e: &StoreError) -> bool {
    // a duplicate `_id` inside a transaction is a race with a concurrent insert: retry it whole
    matches!(e, StoreError::Mongo(m) if m.contains_label(TRANSIENT_TRANSACTION_ERROR) || is_id_dup(m))
}

#[async_trait]
impl Store for MongoStore {
    fn backend(&self) -> Backend {
        Backend::Mongo
    }

    async fn write_block_range(&self, range: &BlockRange) -> Result<()> {
        if range
            .events
            .iter()
            .any(|e| e.chain_id != range.checkpoint.chain_id)
        {
            return Err(StoreError::Invalid(
                "a block range holds events of its checkpoint's chain only".into(),
            ));
        }
        let fault = self.take_fault(Fault::BeforeCheckpoint);
        if !self.transactions {
            return self.range_ops(&mut None, range, fault).await;
        }
        in_transaction!(self, |sess| self.range_ops(sess, range, fault).await)
    }

    async fn put_events(
        &self,
        events: &[ChainEvent],
        session_gas: &BTreeMap<B256, u64>,
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        if !self.transactions {
            return self.apply_events(&mut None, events, session_gas).await;
        }
        in_transaction!(self, |sess| self
            .apply_events(sess, events, session_gas)
            .await)
    }

    async fn rollback(
        &self,
        chain_id: u64,
        from_block: u64,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<RollbackReport> {
        check_rollback_args(chain_id, from_block, checkpoint)?;
        let fault = self.take_fault(Fault::MidRollback);
        if !self.transactions {
            return self
                .rollback_ops(&mut None, chain_id, from_block, checkpoint, fault)
                .await;
        }
        in_transaction!(self, |sess| self
            .rollback_ops(sess, chain_id, from_block, checkpoint, fault)
            .await)
    }

    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.set_checkpoint(&mut None, checkpoint).await
    }

    async fn checkpoint(&self, chain_id: u64) -> Result<Option<Checkpoint>> {
        self.find_one(
            collections::CHECKPOINTS,
            doc! {"_id": i64_of(collections::CHECKPOINTS, "-", "_id", chain_id)?},
        )
        .await
    }

    async fn events(
        &self,
        q: &EventQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ChainEvent>> {
        let limit = page_limit(limit);
        let mut filter = doc! {
            "block_number": {"$gte": sat(q.from_block), "$lte": sat(q.to_block)},
        };
        if let Some(c) = q.chain_id {
            filter.insert("chain_id", sat(c));
        }
        if let Some(e) = &q.event {
            filter.insert("event", e.as_str());
        }
        if let Some(c) = cursor {
            let (ch, b, l) = decode_event_cursor(c)?;
            filter.insert(
                "$or",
                vec![
                    doc! {"chain_id": {"$gt": ch}},
                    doc! {"chain_id": ch, "block_number": {"$gt": b}},
                    doc! {"chain_id": ch, "block_number": b, "log_index": {"$gt": l}},
                ],
            );
        }
        let items = self
            .find_all(
                collections::EVENTS,
                filter,
                doc! {"chain_id": 1, "block_number": 1, "log_index": 1},
                Some(i64::from(limit) + 1),
            )
            .await?;
        Ok(Page::from_overfetch(items, limit, event_cursor))
    }

    async fn count_events(&self, chain_id: Option<u64>) -> Result<u64> {
        let filter = match chain_id {
            Some(c) => doc! {"chain_id": sat(c)},
            None => Document::new(),
        };
        Ok(self
            .coll(collections::EVENTS)
            .count_documents(filter)
            .await?)
    }

    async fn submit_session(&self, s: &SessionSubmission) -> Result<SubmitOutcome> {
        validate_submission(s)?;
        if !self.transactions {
            return self.submit_ops(&mut None, s).await;
        }
        in_transaction!(self, |sess| self.submit_ops(sess, s).await)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        self.find_one(collections::SESSIONS, doc! {"_id": id}).await
    }

    async fn sessions(
        &self,
        q: &SessionQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>> {
        let limit = page_limit(limit);
        let mut filter = Document::new();
        if let Some(o) = &q.owner {
            filter.insert("owner_addr", hex_of(o));
        }
        if let Some(s) = q.status {
            filter.insert("status", s.as_str());
        }
        if let Some(c) = cursor {
            let (t, id) = decode_session_cursor(c)?;
            filter.insert(
                "$or",
                vec![
                    doc! {"started_at": {"$lt": t}},
                    doc! {"started_at": t, "_id": {"$lt": id}},
                ],
            );
        }
        let items = self
            .find_all(
                collections::SESSIONS,
                filter,
                doc! {"started_at": -1, "_id": -1},
                Some(i64::from(limit) + 1),
            )
            .await?;
        Ok(Page::from_overfetch(items, limit, session_cursor))
    }

    async fn pending_sessions(&self, limit: u32) -> Result<Vec<Session>> {
        self.find_all(
            collections::SESSIONS,
            doc! {"status": "pending"},
            doc! {"received_at": 1, "_id": 1},
            Some(i64::from(page_limit(limit))),
        )
        .await
    }

    async fn chunks_of_session(&self, session_id: &str) -> Result<Vec<Chunk>> {
        let docs: Vec<ChunkDoc> = self
            .find_all(
                collections::CHUNKS,
                doc! {"session_id": session_id},
                doc! {"idx": 1},
                None,
            )
            .await?;
        let storers: Vec<StorerRow> = self
            .find_all(
                derived::CHUNK_STORERS,
                doc! {"session_id": session_id},
                doc! {"chain_id": 1, "block_number": 1, "log_index": 1},
                None,
            )
            .await?;
        Ok(assemble_chunks(docs, storers))
    }

    async fn put_proofs(&self, proofs: &[TaskProof]) -> Result<InsertOutcome> {
        if proofs.is_empty() {
            return Ok(InsertOutcome::default());
        }
        let coll = collections::TASK_PROOFS;
        let docs = docs_of(coll, proofs)?;
        let dups = self.insert_unordered(coll, &docs).await?.len() as u64;
        Ok(InsertOutcome {
            inserted: docs.len() as u64 - dups,
            duplicates: dups,
        })
    }

    async fn put_proofs_reporting(&self, proofs: &[TaskProof]) -> Result<Vec<usize>> {
        if proofs.is_empty() {
            return Ok(Vec::new());
        }
        let coll = collections::TASK_PROOFS;
        let docs = docs_of(coll, proofs)?;
        let mut dups = self.insert_unordered(coll, &docs).await?;
        dups.sort_unstable();
        Ok(dups)
    }

    async fn proof(&self, id: &B256) -> Result<Option<TaskProof>> {
        self.find_one(collections::TASK_PROOFS, doc! {"_id": hex_of(id)})
            .await
    }

    async fn proofs_page(
        &self,
        q: &ProofQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<TaskProof>> {
        let limit = page_limit(limit);
        let cur = cursor.map(decode_proof_cursor).transpose()?;
        // the index range starts at the cursor's slot, not at `from_slot`
        let lower = cur
            .as_ref()
            .map_or(sat(q.from_slot), |(s, _, _)| (*s).max(sat(q.from_slot)));
        let mut filter = doc! {"slot": {"$gte": lower, "$lt": sat(q.to_slot)}};
        if let Some(t) = q.max_ts {
            filter.insert("ts", doc! {"$lte": sat(t)});
        }
        if let Some((s, n, i)) = cur {
            filter.insert(
                "$or",
                vec![
                    doc! {"slot": {"$gt": s}},
                    doc! {"slot": s, "nodeId": {"$gt": &n}},
                    doc! {"slot": s, "nodeId": &n, "_id": {"$gt": &i}},
                ],
            );
        }
        let items = self
            .find_all(
                collections::TASK_PROOFS,
                filter,
                doc! {"slot": 1, "nodeId": 1, "_id": 1},
                Some(i64::from(limit) + 1),
            )
            .await?;
        Ok(Page::from_overfetch(items, limit, proof_cursor))
    }

    async fn insert_epoch(&self, e: &Epoch) -> Result<EpochInsert> {
        validate_epoch(e)?;
        let coll = collections::EPOCHS;
        let inserted = self
            .insert_absent(&mut None, coll, vec![to_doc(coll, e)?])
            .await?
            == 1;
        let stored: Epoch = self
            .find_one(coll, doc! {"_id": sat(e.id)})
            .await?
            .ok_or_else(|| StoreError::NotFound {
                collection: coll.into(),
                id: e.id.to_string(),
            })?;
        let rows: Vec<WorkTally> = stored.rows.iter().map(WorkTally::from_row).collect();
        self.insert_absent(
            &mut None,
            collections::WORK_TALLY,
            docs_of(collections::WORK_TALLY, &rows)?,
        )
        .await?;
        Ok(EpochInsert {
            epoch: stored,
            inserted,
        })
    }

    async fn epoch(&self, epoch: u64) -> Result<Option<Epoch>> {
        self.find_one(collections::EPOCHS, doc! {"_id": sat(epoch)})
            .await
    }

    async fn tally_by_rank(&self, epoch: u64) -> Result<Vec<WorkTally>> {
        let mut rows: Vec<WorkTally> = self
            .find_all(
                collections::WORK_TALLY,
                doc! {"epoch": sat(epoch)},
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

    async fn put_plans(&self, plans: &[LeaderSlot]) -> Result<PlanOutcome> {
        validate_plans(plans)?;
        let mut out = PlanOutcome::default();
        if plans.is_empty() {
            return Ok(out);
        }
        let coll = collections::LEADER_SCHEDULE;
        let mut docs = Vec::with_capacity(plans.len());
        for p in plans {
            let mut d = to_doc(coll, p)?;
            // the result is derived when read, never stored
            d.remove("result");
            docs.push(d);
        }
        let dups = self.insert_unordered(coll, &docs).await?;
        out.inserted = (plans.len() - dups.len()) as u64;
        if !dups.is_empty() {
            let slots: Vec<i64> = dups
                .iter()
                .filter_map(|i| plans.get(*i))
                .map(|p| sat(p.slot))
                .collect();
            let stored: Vec<LeaderSlot> = self
                .find_all(coll, doc! {"_id": {"$in": slots}}, doc! {"_id": 1}, None)
                .await?;
            let stored: BTreeMap<u64, LeaderSlot> =
                stored.into_iter().map(|p| (p.slot, p)).collect();
            for i in dups {
                let Some(p) = plans.get(i) else { continue };
                let mut p = p.clone();
                p.result = None;
                if stored.get(&p.slot) == Some(&p) {
                    out.identical += 1;
                } else {
                    out.differing.push(p.slot);
                }
            }
        }
        Ok(out)
    }

    async fn plans(&self, from_slot: u64, to_slot: u64) -> Result<Vec<LeaderSlot>> {
        self.find_all(
            collections::LEADER_SCHEDULE,
            doc! {"_id": {"$gte": sat(from_slot), "$lt": sat(to_slot)}},
            doc! {"_id": 1},
            None,
        )
        .await
    }

    async fn slot_claims(&self, from_slot: u64, to_slot: u64) -> Result<Vec<SlotClaim>> {
        let rows: Vec<ClaimRow> = self
            .find_all(
                derived::SLOT_CLAIMS,
                doc! {"slot": {"$gte": sat(from_slot), "$lt": sat(to_slot)}},
                doc! {"slot": 1, "chain_id": 1, "block_number": 1, "log_index": 1},
                None,
            )
            .await?;
        let mut out: Vec<SlotClaim> = Vec::new();
        for r in rows {
            if out.last().is_none_or(|c| c.slot != r.slot) {
                out.push(r.claim());
            }
        }
        Ok(out)
    }

    async fn put_period_plan(&self, period: &Period, payouts: &[Payout]) -> Result<()> {
        validate_period_plan(period, payouts)?;
        if !self.transactions {
            return self.period_plan_ops(&mut None, period, payouts).await;
        }
        in_transaction!(self, |sess| self
            .period_plan_ops(sess, period, payouts)
            .await)
    }

    async fn period(&self, period: u32) -> Result<Option<Period>> {
        self.find_one(collections::PERIODS, doc! {"_id": i64::from(period)})
            .await
    }

    async fn payout(&self, id: &B256) -> Result<Option<Payout>> {
        let v: Vec<Payout> = self
            .find_all(
                collections::PAYOUTS,
                doc! {"_id": hex_of(id)},
                doc! {"_id": 1},
                None,
            )
            .await?;
        Ok(self.with_payments(&mut None, v).await?.pop())
    }

    async fn payouts_of_period(&self, period: u32) -> Result<Vec<Payout>> {
        let v: Vec<Payout> = self
            .find_all(
                collections::PAYOUTS,
                doc! {"period": i64::from(period)},
                doc! {"_id": 1},
                None,
            )
            .await?;
        self.with_payments(&mut None, v).await
    }

    async fn payouts_by_recipient(
        &self,
        to_evm: &Address,
        period: Option<u32>,
    ) -> Result<Vec<Payout>> {
        let mut filter = doc! {"to_evm": hex_of(to_evm)};
        if let Some(p) = period {
            filter.insert("period", i64::from(p));
        }
        let v: Vec<Payout> = self
            .find_all(
                collections::PAYOUTS,
                filter,
                doc! {"period": 1, "_id": 1},
                None,
            )
            .await?;
        self.with_payments(&mut None, v).await
    }

    async fn mark_payout_submitted(&self, id: &B256, txid: &B256) -> Result<Payout> {
        let Some(cur) = self.payout(id).await? else {
            return Err(StoreError::NotFound {
                collection: collections::PAYOUTS.into(),
                id: hex_of(id),
            });
        };
        check_submittable(&cur)?;
        let r = self
            .coll(collections::PAYOUTS)
            .update_one(
                doc! {"_id": hex_of(id), "status": {"$in": ["planned", "submitted"]}},
                doc! {"$set": {"status": "submitted", "txid": hex_of(txid)}},
            )
            .await?;
        if r.matched_count == 0 {
            return Err(StoreError::Conflict {
                collection: collections::PAYOUTS.into(),
                id: hex_of(id),
                reason: "the payout changed meanwhile; read it again".into(),
            });
        }
        let mut p = cur;
        p.status = PayoutStatus::Submitted;
        p.txid = Some(*txid);
        Ok(p)
    }

    async fn latest_carries(&self, before_period: u32) -> Result<BTreeMap<Address, U256>> {
        #[derive(Deserialize)]
        struct Carry {
            #[serde(rename = "_id")]
            id: String,
            node_id: Address,
            #[serde(with = "models::u256_dec")]
            carry_out: U256,
        }
        let coll = collections::PAYOUTS;
        let mut cur = self
            .coll(coll)
            .find(doc! {"period": {"$lt": i64::from(before_period)}})
            .sort(doc! {"node_id": 1, "period": -1})
            .projection(doc! {"_id": 1, "node_id": 1, "carry_out": 1})
            .await?;
        let mut out = BTreeMap::new();
        while let Some(d) = cur.try_next().await? {
            let c: Carry = from_doc(coll, d)?;
            let _ = &c.id;
            out.entry(c.node_id).or_insert(c.carry_out);
        }
        Ok(out)
    }

    async fn put_payout_address(&self, a: &PayoutAddress) -> Result<SubmitOutcome> {
        validate_payout_address(a)?;
        let coll = collections::PAYOUT_ADDRESSES;
        let other: Option<PayoutAddress> = self
            .find_one(
                coll,
                doc! {"recipient": hex_of(&a.recipient), "node_id": {"$ne": hex_of(&a.node_id)}},
            )
            .await?;
        if let Some(o) = other {
            return Err(address_conflict(
                a,
                format!("recipient already named by node {}", hex_of(&o.node_id)),
            ));
        }
        if self
            .insert_absent(&mut None, coll, vec![to_doc(coll, a)?])
            .await?
            == 1
        {
            return Ok(SubmitOutcome::Inserted);
        }
        let stored: Option<PayoutAddress> = self.find_one(coll, doc! {"_id": &a.id}).await?;
        if stored.as_ref() == Some(a) {
            Ok(SubmitOutcome::Duplicate)
        } else {
            Err(address_conflict(
                a,
                "another payout address is stored under this nodeId:validFrom".into(),
            ))
        }
    }

    async fn payout_addresses_of_node(&self, node: &Address) -> Result<Vec<PayoutAddress>> {
        self.find_all(
            collections::PAYOUT_ADDRESSES,
            doc! {"node_id": hex_of(node)},
            doc! {"valid_from": 1},
            None,
        )
        .await
    }

    async fn payout_addresses_by_recipient(
        &self,
        recipient: &Address,
    ) -> Result<Vec<PayoutAddress>> {
        self.find_all(
            collections::PAYOUT_ADDRESSES,
            doc! {"recipient": hex_of(recipient)},
            doc! {"node_id": 1, "valid_from": 1},
            None,
        )
        .await
    }

    /// Not known: MongoDB has no cheap "anything committed since" counter (a change stream
    /// on the whole database would be the tool). `None` turns read caches off.
    async fn data_version(&self) -> Result<Option<u64>> {
        Ok(None)
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
