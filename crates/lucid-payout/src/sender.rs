//! Sending one payout transaction through a TRON full node, safely:
//!
//! 1. preflight: `/wallet/triggerconstantcontract` (a revert there is fatal: nothing is sent);
//! 2. fee_limit = estimated energy × energy price × margin (1.5), capped by configuration;
//! 3. build offline (reference block = solidified head, expiration = head time + 60 s), sign, and
//!    hand the signed attempt to the caller's [`Journal`] — durably — BEFORE broadcasting;
//! 4. broadcast: `DUP_TRANSACTION_ERROR` = already submitted; `SERVER_BUSY` / `BLOCK_UNSOLIDIFIED`
//!    (and no-peer answers, transport errors) are retried with backoff until the head passes the
//!    expiration; other refusals are fatal;
//! 5. wait for `/walletsolidity/gettransactioninfobyid`. Only when the *solidified* head's time has
//!    reached the expiration without the transaction is a new attempt built (a transaction can no
//!    longer be included then, so the new one cannot pay twice);
//! 6. judge by the receipt: `SUCCESS` plus every expected log (a router's `Paid`/`PaidKYC`) — never
//!    by a return value; `OUT_OF_ENERGY` → rebuild with fee_limit × 1.5, at most 3 times;
//!    `REVERT` → fatal, with the decoded custom error.
//!
//! After a crash the caller passes the last journalled attempt back as `prior`: it is re-checked
//! (and re-broadcast while valid) before anything new is built.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use k256::ecdsa::SigningKey;
use tracing::{debug, info, warn};

use crate::api::{ApiError, ContractResult, ReturnCode, TronClient, TxInfo};
use crate::revert::decode_revert;
use crate::tron::TronAddress;
use crate::tx::{EXPIRATION_MS, SignedTx, TriggerParams, address_of_key};

/// While waiting for a receipt, the transaction is sent again every this many polls if the node's
/// head does not know it yet.
pub const REBROADCAST_EVERY: u32 = 5;

/// Tunables of the sender.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Expiration after the head block's time (java-tron default: 60 s).
    pub expiration_ms: i64,
    /// Upper bound on fee_limit, in sun (configuration; TRON's own maximum is 15,000 TRX).
    pub fee_limit_cap: i64,
    /// fee_limit = energy × price × `energy_margin_pct` / 100 (150 = × 1.5).
    pub energy_margin_pct: u64,
    /// How many times an `OUT_OF_ENERGY` attempt is rebuilt with fee_limit × 1.5.
    pub max_energy_rebuilds: u32,
    /// Pause between receipt polls.
    pub poll_interval: Duration,
    /// First pause after a busy answer; doubles up to `busy_backoff_max`.
    pub busy_backoff: Duration,
    /// Longest pause after busy answers.
    pub busy_backoff_max: Duration,
    /// How often an unanswered query (transport error, HTTP 5xx) is repeated before giving up.
    pub max_transport_retries: u32,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            expiration_ms: EXPIRATION_MS,
            fee_limit_cap: 100_000_000, // 100 TRX
            energy_margin_pct: 150,
            max_energy_rebuilds: 3,
            poll_interval: Duration::from_secs(3),
            busy_backoff: Duration::from_secs(1),
            busy_backoff_max: Duration::from_secs(30),
            max_transport_retries: 10,
        }
    }
}

/// A log the transaction must have emitted to count as done: from `address`, with topics starting
/// with `topics` (e.g. `[Paid.selector, payoutId]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLog {
    /// Emitting contract.
    pub address: TronAddress,
    /// Leading topics.
    pub topics: Vec<[u8; 32]>,
}

impl ExpectedLog {
    /// True iff `info` has a matching log.
    pub fn found_in(&self, info: &TxInfo) -> bool {
        info.logs.iter().any(|l| {
            l.address == self.address.0
                && l.topics.len() >= self.topics.len()
                && l.topics[..self.topics.len()] == self.topics[..]
        })
    }
}

/// One contract call to make as a TRON transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutCall {
    /// Contract called (a router).
    pub contract: TronAddress,
    /// ABI-encoded call data.
    pub data: Vec<u8>,
    /// Logs that must be present for success (empty: the receipt's SUCCESS is enough, the caller
    /// inspects the logs itself, e.g. for `disburseBatch`'s `PayoutSkipped`).
    pub expected_logs: Vec<ExpectedLog>,
}

/// Where attempts are persisted. `record_attempt` must be durable when it returns: it runs before
/// the attempt is broadcast, so after a crash the caller knows every transaction that may be live.
#[async_trait]
pub trait Journal: Send {
    /// A new signed attempt, not yet broadcast.
    async fn record_attempt(&mut self, attempt: &SignedTx) -> Result<(), String>;
    /// An attempt that can never pay: expired unseen on the solidified chain, or included but ran
    /// out of energy. Default: nothing.
    async fn attempt_dead(&mut self, _attempt: &SignedTx, _why: &str) -> Result<(), String> {
        Ok(())
    }
}

/// A journal that keeps attempts in memory (tests, dry runs).
#[derive(Debug, Default, Clone)]
pub struct MemoryJournal {
    /// Every attempt, in order.
    pub attempts: Vec<SignedTx>,
    /// Dead attempts with the reason.
    pub dead: Vec<(String, String)>,
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn record_attempt(&mut self, attempt: &SignedTx) -> Result<(), String> {
        self.attempts.push(attempt.clone());
        Ok(())
    }
    async fn attempt_dead(&mut self, attempt: &SignedTx, why: &str) -> Result<(), String> {
        self.dead.push((attempt.txid_hex(), why.to_string()));
        Ok(())
    }
}

/// Why a payout transaction did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The node could not be asked (after retries where that is safe).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Building or signing failed.
    #[error("transaction: {0}")]
    Tx(String),
    /// The journal could not persist an attempt (nothing was broadcast).
    #[error("journal: {0}")]
    Journal(String),
    /// The preflight constant call failed: nothing was sent.
    #[error("the call would revert: {reason}")]
    WouldRevert {
        /// Decoded revert reason.
        reason: String,
    },
    /// The node refused the transaction for good (`SIGERROR`, `CONTRACT_VALIDATE_ERROR`, …).
    #[error("broadcast of {txid} refused: {code}: {message}")]
    Refused {
        /// txid (hex).
        txid: String,
        /// java-tron's code.
        code: ReturnCode,
        /// java-tron's message.
        message: String,
    },
    /// Included and reverted.
    #[error("transaction {txid} reverted: {reason}")]
    Reverted {
        /// txid (hex).
        txid: String,
        /// Decoded revert reason.
        reason: String,
    },
    /// Still out of energy after the allowed rebuilds (or at the fee_limit cap).
    #[error(
        "transaction {txid} ran out of energy at fee_limit {fee_limit} sun after {rebuilds} rebuilds"
    )]
    OutOfEnergy {
        /// Last txid (hex).
        txid: String,
        /// Its fee_limit.
        fee_limit: i64,
        /// Rebuilds done.
        rebuilds: u32,
    },
    /// Included with another failure (`OUT_OF_TIME`, `TRANSFER_FAILED`, …).
    #[error("transaction {txid} failed: {result}: {message}")]
    Failed {
        /// txid (hex).
        txid: String,
        /// `receipt.result`.
        result: String,
        /// `resMessage`.
        message: String,
    },
    /// `SUCCESS`, but an expected log is missing: not counted as paid.
    #[error("transaction {txid} succeeded without the expected log {missing:?}")]
    MissingLog {
        /// txid (hex).
        txid: String,
        /// The first missing log.
        missing: ExpectedLog,
    },
}

/// A confirmed payout transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    /// The transaction that succeeded.
    pub tx: SignedTx,
    /// Its solidified info.
    pub info: TxInfo,
}

enum Drive {
    Included(TxInfo),
    Expired,
}

/// Sends payout transactions signed by one key through one node.
#[derive(Debug)]
pub struct Sender<'a> {
    client: &'a TronClient,
    key: &'a SigningKey,
    owner: TronAddress,
    cfg: SenderConfig,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl<'a> Sender<'a> {
    /// A sender for `key`'s account.
    pub fn new(client: &'a TronClient, key: &'a SigningKey, cfg: SenderConfig) -> Self {
        Self {
            client,
            key,
            owner: address_of_key(key),
            cfg,
        }
    }

    /// The paying account.
    pub fn owner(&self) -> TronAddress {
        self.owner
    }

    /// fee_limit for a call: estimated energy × price × margin, capped. The estimate falls back to
    /// the constant call's `energy_used` when the node has `/wallet/estimateenergy` switched off.
    pub async fn fee_limit_for(
        &self,
        call: &PayoutCall,
        energy_used: u64,
    ) -> Result<i64, SendError> {
        let energy = match self
            .client
            .estimate_energy(&self.owner, &call.contract, &call.data)
            .await
        {
            Ok(e) => e,
            Err(ApiError::Refused {
                code: ReturnCode::ContractValidateError,
                ..
            }) => energy_used,
            Err(e) => return Err(e.into()),
        };
        let price = self.retry(|| self.client.energy_price()).await?;
        let fee =
            u128::from(energy) * u128::from(price) * u128::from(self.cfg.energy_margin_pct) / 100;
        let fee = i64::try_from(fee).unwrap_or(i64::MAX).max(1);
        if fee > self.cfg.fee_limit_cap {
            warn!(
                fee,
                cap = self.cfg.fee_limit_cap,
                "estimated fee_limit above the configured cap"
            );
        }
        Ok(fee.min(self.cfg.fee_limit_cap))
    }

    /// Builds and signs a new attempt with `fee_limit` (reference: solidified head; expiration:
    /// head time + `expiration_ms`).
    pub async fn build(&self, call: &PayoutCall, fee_limit: i64) -> Result<SignedTx, SendError> {
        let solid = self.retry(|| self.client.solid_block()).await?;
        let head = self.retry(|| self.client.now_block()).await?;
        let rb = solid.as_ref_block();
        let params = TriggerParams {
            owner: self.owner,
            contract: call.contract,
            data: call.data.clone(),
            call_value: 0,
            fee_limit,
            ref_block_bytes: rb.ref_block_bytes(),
            ref_block_hash: rb.ref_block_hash(),
            expiration_ms: head.timestamp_ms + self.cfg.expiration_ms,
            timestamp_ms: now_ms(),
        };
        params
            .build()
            .sign(self.key)
            .map_err(|e| SendError::Tx(e.to_string()))
    }

    /// Sends `call` until it is confirmed or fails for good. `prior`: the last journalled attempt
    /// for this call (after a crash), re-checked before anything new is built.
    pub async fn send<J: Journal>(
        &self,
        call: &PayoutCall,
        journal: &mut J,
        prior: Option<SignedTx>,
    ) -> Result<Confirmed, SendError> {
        if let Some(p) = &prior {
            let raw = p.raw().map_err(|e| SendError::Tx(e.to_string()))?;
            let same = raw.trigger().is_some_and(|t| {
                t.contract_address == call.contract.to_bytes21()
                    && t.owner_address == self.owner.to_bytes21()
                    && t.data == call.data
            });
            if !same {
                return Err(SendError::Tx(format!(
                    "prior attempt {} is not this call from this account",
                    p.txid_hex()
                )));
            }
        }
        let mut current = prior;
        let mut rebuilds = 0u32;
        let mut fee_floor: i64 = 0;
        loop {
            let tx = match current.take() {
                Some(t) => t,
                None => {
                    let pre = self
                        .retry(|| {
                            self.client
                                .trigger_constant(&self.owner, &call.contract, &call.data)
                        })
                        .await?;
                    if pre.failed {
                        return Err(SendError::WouldRevert {
                            reason: if pre.output.is_empty() {
                                pre.message
                            } else {
                                decode_revert(&pre.output)
                            },
                        });
                    }
                    let fee = self
                        .fee_limit_for(call, pre.energy_used)
                        .await?
                        .max(fee_floor)
                        .min(self.cfg.fee_limit_cap);
                    let t = self.build(call, fee).await?;
                    journal
                        .record_attempt(&t)
                        .await
                        .map_err(SendError::Journal)?;
                    info!(txid = %t.txid_hex(), fee_limit = fee, "payout attempt journalled");
                    t
                }
            };
            match self.drive(&tx).await? {
                Drive::Expired => {
                    warn!(txid = %tx.txid_hex(), "attempt expired unseen on the solidified chain; rebuilding");
                    journal
                        .attempt_dead(&tx, "expired")
                        .await
                        .map_err(SendError::Journal)?;
                }
                Drive::Included(info) => match info.receipt_result.clone() {
                    Some(ContractResult::Success) => {
                        if let Some(missing) =
                            call.expected_logs.iter().find(|l| !l.found_in(&info))
                        {
                            return Err(SendError::MissingLog {
                                txid: tx.txid_hex(),
                                missing: missing.clone(),
                            });
                        }
                        return Ok(Confirmed { tx, info });
                    }
                    Some(ContractResult::OutOfEnergy) => {
                        journal
                            .attempt_dead(&tx, "OUT_OF_ENERGY")
                            .await
                            .map_err(SendError::Journal)?;
                        let next = tx.fee_limit.saturating_mul(3) / 2;
                        if rebuilds >= self.cfg.max_energy_rebuilds
                            || tx.fee_limit >= self.cfg.fee_limit_cap
                        {
                            return Err(SendError::OutOfEnergy {
                                txid: tx.txid_hex(),
                                fee_limit: tx.fee_limit,
                                rebuilds,
                            });
                        }
                        rebuilds += 1;
                        fee_floor = next;
                        warn!(txid = %tx.txid_hex(), next_fee_limit = next, rebuilds, "OUT_OF_ENERGY; rebuilding");
                    }
                    Some(ContractResult::Revert) => {
                        return Err(SendError::Reverted {
                            txid: tx.txid_hex(),
                            reason: decode_revert(&info.contract_result),
                        });
                    }
                    other => {
                        return Err(SendError::Failed {
                            txid: tx.txid_hex(),
                            result: match other {
                                Some(ContractResult::Other(s)) => s,
                                _ => "DEFAULT".into(),
                            },
                            message: info.res_message.clone(),
                        });
                    }
                },
            }
        }
    }

    /// Sends the same signed transaction again if the node's head does not know it and it has not
    /// expired (a node may drop what it accepted). Never unsafe: it is the same transaction.
    async fn rebroadcast_if_unseen(&self, tx: &SignedTx) {
        if !matches!(self.client.tx_info(&tx.txid, false).await, Ok(None)) {
            return;
        }
        match self.client.now_block().await {
            Ok(head) if head.timestamp_ms < tx.expiration_ms => {
                match self.client.broadcast(tx).await {
                    Ok(r) => debug!(txid = %tx.txid_hex(), code = %r.code, "re-broadcast"),
                    Err(e) => {
                        debug!(txid = %tx.txid_hex(), error = %e, "re-broadcast not answered")
                    }
                }
            }
            _ => {}
        }
    }

    /// Runs a read-only query, repeating it with backoff while the node does not answer.
    async fn retry<T, F, Fut>(&self, mut f: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut backoff = self.cfg.busy_backoff;
        let mut tries = 0;
        loop {
            match f().await {
                Err(e @ (ApiError::Transport { .. } | ApiError::Status { .. }))
                    if tries < self.cfg.max_transport_retries =>
                {
                    warn!(error = %e, "node did not answer; retrying");
                    tries += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.cfg.busy_backoff_max);
                }
                r => return r,
            }
        }
    }

    /// Broadcasts `tx` (while it can still be included) and waits until it is on the solidified
    /// chain or the solidified chain has passed its expiration without it.
    async fn drive(&self, tx: &SignedTx) -> Result<Drive, SendError> {
        let mut backoff = self.cfg.busy_backoff;
        loop {
            if let Some(info) = self.retry(|| self.client.tx_info(&tx.txid, true)).await? {
                return Ok(Drive::Included(info));
            }
            let head = self.retry(|| self.client.now_block()).await?;
            if head.timestamp_ms >= tx.expiration_ms {
                break;
            }
            let r = match self.client.broadcast(tx).await {
                Ok(r) => r,
                Err(e @ (ApiError::Transport { .. } | ApiError::Status { .. })) => {
                    warn!(error = %e, "broadcast not answered; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.cfg.busy_backoff_max);
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if !r.txid.is_empty() && !r.txid.eq_ignore_ascii_case(&tx.txid_hex()) {
                // The node re-encoded our JSON into other bytes: it did not see what was signed.
                return Err(SendError::Tx(format!(
                    "the node computed txid {} for transaction {}",
                    r.txid,
                    tx.txid_hex()
                )));
            }
            match &r.code {
                _ if r.result => {
                    debug!(txid = %tx.txid_hex(), "broadcast accepted");
                    break;
                }
                ReturnCode::DupTransactionError => {
                    debug!(txid = %tx.txid_hex(), "already submitted");
                    break;
                }
                c if c.is_retryable() => {
                    warn!(code = %c, "node busy; retrying the same transaction");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.cfg.busy_backoff_max);
                }
                // The same transaction may already be in a block (an earlier broadcast before a
                // crash): wait for the solidified chain to decide.
                ReturnCode::TransactionExpirationError | ReturnCode::TaposError => break,
                c => {
                    return Err(SendError::Refused {
                        txid: tx.txid_hex(),
                        code: c.clone(),
                        message: r.message,
                    });
                }
            }
        }
        let mut polls = 0u32;
        loop {
            if let Some(info) = self.retry(|| self.client.tx_info(&tx.txid, true)).await? {
                return Ok(Drive::Included(info));
            }
            polls += 1;
            if polls.is_multiple_of(REBROADCAST_EVERY) {
                self.rebroadcast_if_unseen(tx).await;
            }
            let solid = self.retry(|| self.client.solid_block()).await?;
            if solid.timestamp_ms >= tx.expiration_ms {
                // Asked again after the solid head was read: no block at or after it can hold it.
                return Ok(
                    match self.retry(|| self.client.tx_info(&tx.txid, true)).await? {
                        Some(info) => Drive::Included(info),
                        None => Drive::Expired,
                    },
                );
            }
            tokio::time::sleep(self.cfg.poll_interval).await;
        }
    }
}
