//! The transaction manager: one process per signing key, a persistent outbox keyed by idempotency
//! keys, explicit nonces, stored signed bytes, fee bumps, slot awareness and reorg handling.
//! See docs/decisions/keeper.md for the rules and why each one is there.
//!
//! The manager is driven by [`Txm::tick`], called by the daemon every block or so. A tick only
//! reads the chain and the outbox and takes the next step of each entry, persisting every step
//! before the action it enables, so a process killed anywhere loses nothing and sends nothing
//! twice.

pub mod outbox;

use std::fs::File;
use std::path::{Path, PathBuf};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, B256, TxKind, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;

pub use outbox::{Attempt, Entry, NewTx, Outbox, OutboxError, TxState, now_ms};

use lucid_chain::ChainClient as Rpc;
use lucid_chain::bindings::ILucidAnchors;
use lucid_chain::decode_revert;
use lucid_chain::node::{BlockHead, NodeError as RpcErr};

const GWEI: u128 = 1_000_000_000;

/// Tunables of the transaction manager.
#[derive(Debug, Clone)]
pub struct TxmConfig {
    /// Blocks on top of (and including) the receipt's block for `confirmed` (1 on anvil).
    pub confirmations: u64,
    /// Bump when not included after this many blocks …
    pub bump_after_blocks: u64,
    /// … or this many milliseconds since the last send.
    pub bump_after_ms: u64,
    /// Signed attempts per entry (the first send counts).
    pub max_attempts: u32,
    /// Never pay more than this per gas (wei), tip included.
    pub max_fee_cap: u128,
    /// Lowest tip offered (wei).
    pub min_tip: u128,
    /// Blocks below the head in which a receipt's block is re-checked for reorgs.
    pub reorg_depth: u64,
}

impl Default for TxmConfig {
    fn default() -> Self {
        Self {
            confirmations: 1,
            bump_after_blocks: 2,
            bump_after_ms: 12_000,
            max_attempts: 5,
            max_fee_cap: 500 * GWEI,
            min_tip: GWEI / 1000,
            reorg_depth: 64,
        }
    }
}

/// Slot awareness of anchoring transactions (SPEC §6: nobody submits for a slot once
/// `slot_now > s`; a slot another keeper anchored is lost).
#[derive(Debug, Clone, Copy)]
pub struct SlotGuard {
    /// LucidAnchors, asked `slotSubmitter(slot)`; `None`: only the chain-time check.
    pub anchors: Option<Address>,
    pub genesis_time: u64,
    pub slot_duration: u64,
}

/// Test hook: a tick returns [`TxmError::Crash`] right after persisting the named step, as a
/// process killed there would leave things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The nonce is stored, nothing signed.
    AfterNonce,
    /// The signed attempt is stored, not broadcast.
    AfterSign,
    /// Broadcast accepted by the node, not yet recorded as `broadcast`.
    AfterBroadcast,
}

#[derive(Debug, thiserror::Error)]
pub enum TxmError {
    #[error(
        "another lucid-keeper process already runs with key {address} (lock {lock} is held); only one process per signing key may run"
    )]
    Locked { address: String, lock: String },
    #[error("state directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Rpc(#[from] RpcErr),
    #[error(transparent)]
    Chain(#[from] lucid_chain::ChainError),
    #[error("signing: {0}")]
    Sign(String),
    #[error("bad outbox entry: {0}")]
    BadEntry(String),
    #[error("injected crash at {0:?}")]
    Crash(CrashPoint),
}

/// What one tick did (for logs, metrics and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub sent: u32,
    pub bumped: u32,
    pub rebroadcast: u32,
    pub cancel_sent: u32,
    pub cancelled_unsent: u32,
    pub mined: u32,
    pub confirmed: u32,
    pub reorged: u32,
    pub requeued: u32,
    pub send_errors: u32,
}

/// How the node answered a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted, or the node already has it / it is already mined / an equal-or-better
    /// replacement is in the pool: the bytes are out.
    Submitted,
    /// "nonce too high": our idea of the nonce is ahead of the node's.
    NonceTooHigh,
    /// Anything else (funds, fee cap, transport): stays signed, retried next tick.
    Error(String),
}

/// Classifies a broadcast error (node messages of geth, reth, anvil, erigon, nethermind).
pub fn classify_send(r: &Result<B256, RpcErr>) -> SendOutcome {
    match r {
        Ok(_) => SendOutcome::Submitted,
        Err(e @ RpcErr::Transport(_)) => SendOutcome::Error(e.to_string()),
        Err(e) => {
            let m = e.node_message();
            if m.contains("already known")
                || m.contains("known transaction")
                || m.contains("already imported")
                || m.contains("already exists")
                || m.contains("nonce too low")
                || m.contains("nonce is too low")
                || m.contains("oldnonce")
                || m.contains("replacement transaction underpriced")
                || m.contains("replacement underpriced")
            {
                SendOutcome::Submitted
            } else if m.contains("nonce too high") || m.contains("nonce is too high") {
                SendOutcome::NonceTooHigh
            } else {
                SendOutcome::Error(e.to_string())
            }
        }
    }
}

/// `ceil(x × 1.125)`: the smallest bump every client accepts (geth needs +10%).
pub fn bumped(x: u128) -> u128 {
    x.saturating_mul(9).saturating_add(7) / 8
}

/// Fees `(max_fee, tip)` of a bump of `(max_fee, tip)` given the current suggestion, or `None`
/// when the cap leaves no room for +12.5% on both.
pub fn bump_fees(prev: (u128, u128), suggested: (u128, u128), cap: u128) -> Option<(u128, u128)> {
    let tip = bumped(prev.1).max(suggested.1);
    let max = bumped(prev.0).max(suggested.0).max(tip);
    if max > cap || tip > cap {
        return None;
    }
    Some((max, tip))
}

/// The exclusive lock and outbox location of one signing key: `<base>/<address>/`.
pub fn state_dir(base: &Path, address: Address) -> PathBuf {
    base.join(format!("{address:#x}"))
}

/// Takes the key's exclusive lock (held as long as the returned file is open).
pub fn lock_key(dir: &Path, address: Address) -> Result<File, TxmError> {
    let io = |source| TxmError::Io {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join("lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(TxmError::Locked {
            address: format!("{address:#x}"),
            lock: path.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

/// The transaction manager of one signing key.
#[derive(Debug)]
pub struct Txm {
    rpc: Rpc,
    signer: PrivateKeySigner,
    address: Address,
    chain_id: u64,
    outbox: Outbox,
    cfg: TxmConfig,
    guard: Option<SlotGuard>,
    crash: Option<CrashPoint>,
    _lock: File,
}

impl Txm {
    /// Locks the key's state directory under `base` and opens its outbox.
    pub async fn open(
        base: &Path,
        rpc: Rpc,
        signer: PrivateKeySigner,
        cfg: TxmConfig,
        guard: Option<SlotGuard>,
    ) -> Result<Self, TxmError> {
        let address = signer.address();
        let dir = state_dir(base, address);
        let lock = lock_key(&dir, address)?;
        let chain_id = rpc.chain_id().await?;
        let outbox = Outbox::open(&dir.join("outbox.sqlite"), chain_id).await?;
        Ok(Self {
            rpc,
            signer,
            address,
            chain_id,
            outbox,
            cfg,
            guard,
            crash: None,
            _lock: lock,
        })
    }

    pub fn address(&self) -> Address {
        self.address
    }
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }
    pub fn rpc(&self) -> &Rpc {
        &self.rpc
    }

    /// Test hook (see [`CrashPoint`]).
    #[doc(hidden)]
    pub fn set_crash(&mut self, at: Option<CrashPoint>) {
        self.crash = at;
    }

    fn crash_at(&self, p: CrashPoint) -> Result<(), TxmError> {
        if self.crash == Some(p) {
            return Err(TxmError::Crash(p));
        }
        Ok(())
    }

    /// Enqueues a transaction; the same key twice does nothing (returns the first entry).
    pub async fn enqueue(&self, tx: &NewTx) -> Result<(Entry, bool), TxmError> {
        Ok(self.outbox.enqueue(tx).await?)
    }

    /// One step of every entry.
    pub async fn tick(&self) -> Result<TickReport, TxmError> {
        let mut rep = TickReport::default();
        let head = self.rpc.latest().await?;
        self.check_reorgs(&head, &mut rep).await?;
        self.check_receipts(&head, &mut rep).await?;
        self.resend(&head, &mut rep).await?;
        self.send_queued(&head, &mut rep).await?;
        Ok(rep)
    }

    /// Suggested `(max_fee, tip)` from the head's base fee and the node's tip.
    async fn suggested_fees(&self, head: &BlockHead) -> (u128, u128) {
        let base = head.base_fee_per_gas.unwrap_or(0);
        let tip = self
            .rpc
            .max_priority_fee()
            .await
            .unwrap_or(GWEI)
            .max(self.cfg.min_tip)
            .min(self.cfg.max_fee_cap);
        let max = base
            .saturating_mul(2)
            .saturating_add(tip)
            .min(self.cfg.max_fee_cap);
        (max, tip)
    }

    /// Is an anchoring transaction for `slot` no longer wanted (slot over, or taken by another)?
    async fn slot_unwanted(&self, slot: Option<u64>, head: &BlockHead) -> Result<bool, TxmError> {
        let (Some(slot), Some(g)) = (slot, self.guard) else {
            return Ok(false);
        };
        let slot_now = head.timestamp.saturating_sub(g.genesis_time) / g.slot_duration.max(1);
        if head.timestamp >= g.genesis_time && slot_now > slot {
            return Ok(true);
        }
        if let Some(anchors) = g.anchors {
            let data = ILucidAnchors::slotSubmitterCall { slot }.abi_encode();
            let out = self.rpc.call_raw(None, anchors, &data, "latest").await?;
            let who = ILucidAnchors::slotSubmitterCall::abi_decode_returns(&out)
                .map_err(|e| TxmError::BadEntry(format!("slotSubmitter answer: {e}")))?;
            if who != Address::ZERO && who != self.address {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn sign(
        &self,
        e: &Entry,
        nonce: u64,
        fees: (u128, u128),
        cancel: bool,
        n: u32,
    ) -> Result<Attempt, TxmError> {
        let (to, value, data, gas_limit) = if cancel {
            (self.address, U256::ZERO, Vec::new(), 21_000)
        } else {
            let value: U256 = e
                .value
                .parse()
                .map_err(|_| TxmError::BadEntry(format!("value {:?}", e.value)))?;
            (Address::from(e.to), value, e.data.clone(), e.gas_limit)
        };
        let mut tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: fees.0,
            max_priority_fee_per_gas: fees.1,
            to: TxKind::Call(to),
            value,
            access_list: Default::default(),
            input: data.into(),
        };
        let sig = self
            .signer
            .sign_transaction_sync(&mut tx)
            .map_err(|e| TxmError::Sign(e.to_string()))?;
        let env = TxEnvelope::from(tx.into_signed(sig));
        Ok(Attempt {
            tx_hash: format!("{:#x}", env.tx_hash()),
            entry_id: e.id,
            n,
            nonce,
            cancel,
            max_fee: fees.0,
            tip: fees.1,
            raw: env.encoded_2718(),
        })
    }

    /// Broadcasts stored bytes; `Submitted` marks the entry `broadcast` (send time and block).
    async fn broadcast(
        &self,
        e: &Entry,
        a: &Attempt,
        head: &BlockHead,
        rep: &mut TickReport,
    ) -> Result<SendOutcome, TxmError> {
        let outcome = classify_send(&self.rpc.send_raw(&a.raw).await);
        match &outcome {
            SendOutcome::Submitted => {
                self.crash_at(CrashPoint::AfterBroadcast)?;
                self.outbox.mark_sent(e.id, head.number).await?;
                tracing::info!(key = %e.key, nonce = a.nonce, tx = %a.tx_hash, attempt = a.n, cancel = a.cancel, "broadcast");
            }
            SendOutcome::NonceTooHigh => {
                rep.send_errors += 1;
                tracing::warn!(key = %e.key, nonce = a.nonce, "node says nonce too high: resyncing");
                self.outbox
                    .requeue(e.id, "nonce too high: resynced with the node")
                    .await?;
                rep.requeued += 1;
            }
            SendOutcome::Error(m) => {
                rep.send_errors += 1;
                tracing::warn!(key = %e.key, nonce = a.nonce, error = %m, "broadcast failed; will retry");
                self.outbox.set_error(e.id, m).await?;
            }
        }
        Ok(outcome)
    }

    /// Receipts of included/confirmed/failed/cancelled entries whose block left the chain.
    async fn check_reorgs(&self, head: &BlockHead, rep: &mut TickReport) -> Result<(), TxmError> {
        let from = head.number.saturating_sub(self.cfg.reorg_depth);
        for e in self.outbox.with_block_from(from).await? {
            let (Some(bn), Some(bh)) = (e.block_number, e.block_hash.as_deref()) else {
                continue;
            };
            let canonical = match self.rpc.block_head(bn).await? {
                Some(b) => format!("{:#x}", b.hash) == bh,
                None => false,
            };
            if canonical {
                continue;
            }
            rep.reorged += 1;
            tracing::warn!(key = %e.key, block = bn, "receipt's block left the chain: back to broadcast");
            self.outbox.unmine(e.id).await?;
            // Maybe it is already in another block; else rebroadcast the latest attempt as it is.
            if !self.find_receipt(&e, head, rep).await?
                && let Some(a) = self.outbox.attempts(e.id).await?.pop()
            {
                let fresh = self.outbox.get(e.id).await?.unwrap_or(e);
                if self.broadcast(&fresh, &a, head, rep).await? == SendOutcome::Submitted {
                    rep.rebroadcast += 1;
                }
            }
        }
        // Confirmation depth.
        for e in self.outbox.in_states(&[TxState::Included]).await? {
            if let Some(bn) = e.block_number
                && head.number + 1 >= bn + self.cfg.confirmations
            {
                self.outbox.set_state(e.id, TxState::Confirmed).await?;
                rep.confirmed += 1;
            }
        }
        Ok(())
    }

    /// Looks for a receipt of any attempt of `e`; records it. True if found.
    async fn find_receipt(
        &self,
        e: &Entry,
        head: &BlockHead,
        rep: &mut TickReport,
    ) -> Result<bool, TxmError> {
        for a in self.outbox.attempts(e.id).await?.iter().rev() {
            let hash: B256 = a
                .tx_hash
                .parse()
                .map_err(|_| TxmError::BadEntry(format!("hash {}", a.tx_hash)))?;
            let Some(r) = self.rpc.receipt(hash).await? else {
                continue;
            };
            let (state, error) = if a.cancel {
                (TxState::Cancelled, None)
            } else if r.status == 1 {
                (TxState::Included, None)
            } else {
                (
                    TxState::Failed,
                    Some(self.revert_reason(e, r.block_number).await),
                )
            };
            self.outbox
                .mark_mined(
                    e.id,
                    state,
                    &a.tx_hash,
                    r.block_number,
                    &format!("{:#x}", r.block_hash),
                    r.gas_used,
                    error.as_deref(),
                )
                .await?;
            rep.mined += 1;
            tracing::info!(key = %e.key, tx = %a.tx_hash, block = r.block_number, state = state.as_str(), error = error.as_deref().unwrap_or(""), "mined");
            if state == TxState::Included
                && head.number + 1 >= r.block_number + self.cfg.confirmations
            {
                self.outbox.set_state(e.id, TxState::Confirmed).await?;
                rep.confirmed += 1;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// The custom error of a reverted transaction, by replaying its call on the parent block.
    async fn revert_reason(&self, e: &Entry, block: u64) -> String {
        let at = format!("0x{:x}", block.saturating_sub(1));
        match self
            .rpc
            .call_raw(Some(self.address), Address::from(e.to), &e.data, &at)
            .await
        {
            Ok(_) => "reverted (replay on the parent block succeeds)".into(),
            Err(err) => match err.revert_data() {
                Some(d) => decode_revert(d),
                None => format!("reverted: {err}"),
            },
        }
    }

    async fn check_receipts(&self, head: &BlockHead, rep: &mut TickReport) -> Result<(), TxmError> {
        let live = self
            .outbox
            .in_states(&[TxState::Signed, TxState::Broadcast])
            .await?;
        if live.is_empty() {
            return Ok(());
        }
        // Read the mined nonce before the receipts: a nonce below it without any receipt of ours
        // was used by another transaction of this key.
        let mined_nonce = self.rpc.nonce(self.address, "latest").await?;
        for e in live {
            if self.find_receipt(&e, head, rep).await? {
                continue;
            }
            if let Some(n) = e.nonce
                && n < mined_nonce
            {
                tracing::warn!(key = %e.key, nonce = n, "nonce used by another transaction of this key: re-queued with a new nonce");
                self.outbox
                    .requeue(e.id, "nonce used by another transaction of this key")
                    .await?;
                rep.requeued += 1;
            }
        }
        Ok(())
    }

    /// Signed entries: (re)broadcast. Broadcast entries: cancel, bump or rebroadcast when due.
    async fn resend(&self, head: &BlockHead, rep: &mut TickReport) -> Result<(), TxmError> {
        let now = now_ms();
        for e in self
            .outbox
            .in_states(&[TxState::Signed, TxState::Broadcast])
            .await?
        {
            let attempts = self.outbox.attempts(e.id).await?;
            let Some(last) = attempts.last() else {
                continue;
            };
            let unwanted = !e.cancelling && self.slot_unwanted(e.slot, head).await?;
            if unwanted {
                // Replace with a 0-value self-send at the same nonce, priced as a bump.
                let sugg = self.suggested_fees(head).await;
                let fees = bump_fees((last.max_fee, last.tip), sugg, self.cfg.max_fee_cap)
                    .unwrap_or((self.cfg.max_fee_cap, self.cfg.max_fee_cap));
                let a = self.sign(&e, last.nonce, fees, true, last.n + 1)?;
                self.outbox.add_attempt(&a).await?;
                tracing::info!(key = %e.key, nonce = a.nonce, "slot over or taken: replacing with a self-send");
                if self.broadcast(&e, &a, head, rep).await? == SendOutcome::Submitted {
                    rep.cancel_sent += 1;
                }
                continue;
            }
            if e.state == TxState::Signed {
                // Maybe sent before a crash: the same bytes again.
                if self.broadcast(&e, last, head, rep).await? == SendOutcome::Submitted {
                    rep.rebroadcast += 1;
                }
                continue;
            }
            let due = match (e.last_sent_ms, e.last_sent_block) {
                (Some(t), Some(b)) => {
                    now.saturating_sub(t) >= self.cfg.bump_after_ms
                        || head.number >= b + self.cfg.bump_after_blocks
                }
                _ => true,
            };
            if !due {
                continue;
            }
            let sugg = self.suggested_fees(head).await;
            let next =
                if attempts.len() < self.cfg.max_attempts as usize && e.last_sent_ms.is_some() {
                    bump_fees((last.max_fee, last.tip), sugg, self.cfg.max_fee_cap)
                } else {
                    None
                };
            match next {
                Some(fees) => {
                    let a = self.sign(&e, last.nonce, fees, last.cancel, last.n + 1)?;
                    self.outbox.add_attempt(&a).await?;
                    if self.broadcast(&e, &a, head, rep).await? == SendOutcome::Submitted {
                        rep.bumped += 1;
                    }
                }
                None => {
                    if self.broadcast(&e, last, head, rep).await? == SendOutcome::Submitted {
                        rep.rebroadcast += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Queued entries in order: nonce (persisted), sign (persisted), broadcast. Stops at the first
    /// entry whose broadcast did not go through: the nonce advances only on a successful send.
    async fn send_queued(&self, head: &BlockHead, rep: &mut TickReport) -> Result<(), TxmError> {
        if !self.outbox.in_states(&[TxState::Signed]).await?.is_empty() {
            return Ok(());
        }
        let queued = self.outbox.in_states(&[TxState::Queued]).await?;
        if queued.is_empty() {
            return Ok(());
        }
        let mined = self.rpc.nonce(self.address, "latest").await?;
        for e in queued {
            if self.slot_unwanted(e.slot, head).await? {
                self.outbox.set_state(e.id, TxState::Cancelled).await?;
                rep.cancelled_unsent += 1;
                tracing::info!(key = %e.key, "slot over or taken before sending: cancelled");
                continue;
            }
            let nonce = match e.nonce {
                Some(n) if n >= mined => n,
                _ => {
                    let pending = self.rpc.nonce(self.address, "pending").await?;
                    let next = self
                        .outbox
                        .max_nonce()
                        .await?
                        .map_or(0, |n| n + 1)
                        .max(pending);
                    self.outbox.set_nonce(e.id, Some(next)).await?;
                    next
                }
            };
            self.crash_at(CrashPoint::AfterNonce)?;
            let fees = self.suggested_fees(head).await;
            let n = self
                .outbox
                .attempts(e.id)
                .await?
                .last()
                .map_or(0, |a| a.n + 1);
            let a = self.sign(&e, nonce, fees, false, n)?;
            self.outbox.add_attempt(&a).await?;
            self.crash_at(CrashPoint::AfterSign)?;
            match self.broadcast(&e, &a, head, rep).await? {
                SendOutcome::Submitted => rep.sent += 1,
                _ => break,
            }
        }
        Ok(())
    }
}
