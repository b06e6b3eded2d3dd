//! [`PayoutDb`] over lucid-store's [`Store`] (SQLite or MongoDB, SPEC §5 shapes).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use anyhow::Context;
use async_trait::async_trait;
use futures::StreamExt;
use lucid_core::models::{ChainEvent, Payout, PayoutRouter, PayoutStatus, Period};
use lucid_core::proof::TaskProof;
use lucid_payout::TronAddress;
use lucid_payout::payaddr::PayoutAddressRecord;
use lucid_payout::plan::{Attestation, RouterKind};
use lucid_store::{ProofQuery, Store};

use super::db::{PaidRecord, PayoutDb, PayoutDoc, PayoutState, PeriodDoc};

/// Opens the store named by `LUCID_STORE` (default `sqlite://lucid.db`).
pub async fn open(url: Option<&str>) -> anyhow::Result<Box<dyn PayoutDb>> {
    let s = lucid_store::open(url)
        .await
        .context("opening LUCID_STORE")?;
    Ok(Box::new(StoreDb(s)))
}

pub struct StoreDb(pub Arc<dyn Store>);

fn to_doc(p: Payout) -> PayoutDoc {
    let attestation = match (p.kyc_hash, p.kyc_expiry, p.kyc_sig) {
        (Some(h), Some(e), Some(s)) => Some(Attestation {
            to: p.to_evm,
            kyc_hash: h,
            expiry: e,
            sig: s,
            revoked: false,
        }),
        _ => None,
    };
    PayoutDoc {
        id: p.id,
        period: p.period,
        node_id: p.node_id,
        to: p.to_evm,
        credits: p.credits,
        carry_in: p.carry_in,
        gross: p.gross,
        amount: p.amount,
        carry_out: p.carry_out,
        router: match p.router {
            PayoutRouter::V0 => RouterKind::V0,
            PayoutRouter::Kyc => RouterKind::Kyc,
        },
        leaf: p.leaf,
        proof: p.proof,
        attestation,
        status: match p.status {
            PayoutStatus::Planned => PayoutState::Planned,
            PayoutStatus::Submitted => PayoutState::Submitted,
            PayoutStatus::Paid => PayoutState::Paid,
            PayoutStatus::RolledOver => PayoutState::RolledOver,
        },
        txid: p.txid,
        created_at: p.created_at,
    }
}

fn from_doc(p: &PayoutDoc) -> Payout {
    let a = p.attestation.as_ref();
    Payout {
        id: p.id,
        period: p.period,
        node_id: p.node_id,
        to_tron: TronAddress::from_evm(p.to.0.0).encode(),
        to_evm: p.to,
        credits: p.credits,
        carry_in: p.carry_in,
        gross: p.gross,
        amount: p.amount,
        carry_out: p.carry_out,
        router: match p.router {
            RouterKind::V0 => PayoutRouter::V0,
            RouterKind::Kyc => PayoutRouter::Kyc,
        },
        leaf: p.leaf,
        proof: p.proof.clone(),
        kyc_hash: a.map(|a| a.kyc_hash),
        kyc_expiry: a.map(|a| a.expiry),
        kyc_sig: a.map(|a| a.sig.clone()),
        status: match p.status {
            PayoutState::Planned => PayoutStatus::Planned,
            PayoutState::Submitted => PayoutStatus::Submitted,
            PayoutState::Paid => PayoutStatus::Paid,
            PayoutState::RolledOver => PayoutStatus::RolledOver,
        },
        txid: p.txid,
        created_at: p.created_at,
    }
}

#[async_trait]
impl PayoutDb for StoreDb {
    async fn proofs_in_slots(
        &self,
        from: u64,
        to: u64,
    ) -> anyhow::Result<(Vec<TaskProof>, Vec<B256>)> {
        let mut s = self.0.proofs_stream(
            ProofQuery {
                from_slot: from,
                to_slot: to,
                max_ts: None,
            },
            10_000,
        );
        let (mut proofs, mut ids) = (Vec::new(), Vec::new());
        while let Some(p) = s.next().await {
            let p = p.context("reading task_proofs")?;
            let session_id = p
                .session_id
                .parse()
                .with_context(|| format!("stored proof {:#x}: sessionId", p.id))?;
            proofs.push(TaskProof {
                node_id: p.node_id,
                slot: p.slot,
                kind: p.kind,
                session_id,
                amount: p.amount,
                chunk_index: p.chunk_index,
                digest: p.digest,
            });
            ids.push(p.id);
        }
        Ok((proofs, ids))
    }

    async fn latest_carries(&self, period: u32) -> anyhow::Result<BTreeMap<Address, U256>> {
        Ok(self.0.latest_carries(period).await?)
    }

    async fn payout_addresses(
        &self,
        nodes: &BTreeSet<Address>,
    ) -> anyhow::Result<Vec<PayoutAddressRecord>> {
        let mut out = Vec::new();
        for n in nodes {
            for a in self.0.payout_addresses_of_node(n).await? {
                out.push(PayoutAddressRecord {
                    node_id: a.node_id,
                    recipient: a.recipient,
                    valid_from: a.valid_from,
                    sig: a.sig.0,
                });
            }
        }
        Ok(out)
    }

    async fn save_plan(&self, d: &PeriodDoc, payouts: &[PayoutDoc]) -> anyhow::Result<()> {
        let period = Period {
            id: d.period,
            period: d.period,
            pool: d.pool,
            inputs_hash: d.inputs_hash,
            members: d.members.clone(),
            min_payout: d.min_payout,
            max_v0: d.max_v0,
            max_kyc: d.max_kyc,
            root: d.root,
            total: d.total,
            planned_at: d.planned_at,
        };
        let rows: Vec<Payout> = payouts.iter().map(from_doc).collect();
        Ok(self.0.put_period_plan(&period, &rows).await?)
    }

    async fn period(&self, period: u32) -> anyhow::Result<Option<PeriodDoc>> {
        Ok(self.0.period(period).await?.map(|d| PeriodDoc {
            period: d.period,
            pool: d.pool,
            inputs_hash: d.inputs_hash,
            members: d.members,
            min_payout: d.min_payout,
            max_v0: d.max_v0,
            max_kyc: d.max_kyc,
            root: d.root,
            total: d.total,
            planned_at: d.planned_at,
        }))
    }

    async fn payouts(&self, period: u32) -> anyhow::Result<Vec<PayoutDoc>> {
        Ok(self
            .0
            .payouts_of_period(period)
            .await?
            .into_iter()
            .map(to_doc)
            .collect())
    }

    async fn mark_submitted(&self, id: &B256, txid: &B256) -> anyhow::Result<()> {
        self.0.mark_payout_submitted(id, txid).await?;
        Ok(())
    }

    async fn record_paid(&self, p: &PaidRecord) -> anyhow::Result<()> {
        // `paid` is derived from the routers' Paid/PaidKYC events (the indexer's, or the ones
        // this keeper stores with `record_payments`); this is the log line.
        tracing::info!(payout_id = %p.payout_id, txid = ?p.txid, router = %p.router, "payout paid");
        Ok(())
    }

    async fn record_payments(&self, events: &[ChainEvent]) -> anyhow::Result<()> {
        self.0
            .put_events(events, &Default::default())
            .await
            .context("storing the confirmed Paid / PaidKYC events")?;
        Ok(())
    }
}
