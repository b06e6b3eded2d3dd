//! What the payout commands read and write in the store (SPEC §5 `periods`, `payouts`,
//! `payout_addresses`, `task_proofs`), behind a small trait so the commands do not depend on a
//! backend's details. [`open`] gives the lucid-store implementation.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, U256};
use async_trait::async_trait;
use lucid_core::models::ChainEvent;
use lucid_core::proof::TaskProof;
use lucid_payout::payaddr::PayoutAddressRecord;
use lucid_payout::plan::{Attestation, RouterKind};

/// `periods` (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodDoc {
    pub period: u32,
    pub pool: U256,
    pub inputs_hash: B256,
    pub members: Vec<Address>,
    /// PayoutRouterV0's minimum (both routers deploy with 10 USDT).
    pub min_payout: U256,
    pub max_v0: U256,
    pub max_kyc: U256,
    pub root: Option<B256>,
    pub total: U256,
    pub planned_at: u64,
}

/// A payout's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutState {
    Planned,
    Submitted,
    Paid,
    RolledOver,
}

impl PayoutState {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutState::Planned => "planned",
            PayoutState::Submitted => "submitted",
            PayoutState::Paid => "paid",
            PayoutState::RolledOver => "rolled_over",
        }
    }
}

/// `payouts` (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutDoc {
    pub id: B256,
    pub period: u32,
    pub node_id: Address,
    /// Recipient (20 bytes; `to_tron` is its base58check form).
    pub to: Address,
    pub credits: u64,
    pub carry_in: U256,
    pub gross: U256,
    pub amount: U256,
    pub carry_out: U256,
    pub router: RouterKind,
    pub leaf: Option<B256>,
    pub proof: Vec<B256>,
    pub attestation: Option<Attestation>,
    pub status: PayoutState,
    pub txid: Option<B256>,
    pub created_at: u64,
}

/// The keeper's own confirmation of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidRecord {
    pub payout_id: B256,
    /// The paying transaction, when this keeper sent it.
    pub txid: Option<B256>,
    pub router: Address,
}

#[async_trait]
pub trait PayoutDb: Send + Sync {
    /// Valid proofs with `from ≤ slot < to`, and their ids.
    async fn proofs_in_slots(
        &self,
        from: u64,
        to: u64,
    ) -> anyhow::Result<(Vec<TaskProof>, Vec<B256>)>;
    /// `carry(e)` for every node with a payout in a period before `period`.
    async fn latest_carries(&self, period: u32) -> anyhow::Result<BTreeMap<Address, U256>>;
    /// Every stored PayoutAddress of `nodes`.
    async fn payout_addresses(
        &self,
        nodes: &BTreeSet<Address>,
    ) -> anyhow::Result<Vec<PayoutAddressRecord>>;
    /// Stores a plan (replacing an earlier plan of the period only while nothing is paying).
    async fn save_plan(&self, period: &PeriodDoc, payouts: &[PayoutDoc]) -> anyhow::Result<()>;
    async fn period(&self, period: u32) -> anyhow::Result<Option<PeriodDoc>>;
    async fn payouts(&self, period: u32) -> anyhow::Result<Vec<PayoutDoc>>;
    /// `planned` → `submitted` with the transaction that may pay it (before broadcasting).
    async fn mark_submitted(&self, id: &B256, txid: &B256) -> anyhow::Result<()>;
    /// The keeper saw the payout paid.
    async fn record_paid(&self, p: &PaidRecord) -> anyhow::Result<()>;
    /// The keeper's own confirmation: the `Paid` / `PaidKYC` events of a transaction it saw
    /// solidified, stored as the indexer would store them (readers then see the payouts `paid`
    /// with their transaction, with or without an indexer).
    async fn record_payments(&self, events: &[ChainEvent]) -> anyhow::Result<()>;
}

pub use super::store_db::open;
