//! What the daemon reads from the on-system chain: chain time, the epoch seed (binary search over
//! block timestamps, SPEC §6), membership (ANCHORER_ROLE holders, replayed from role events), slot
//! claims (`SlotAnchored`) and which sessions are already anchored. Every function takes plain
//! inputs and returns plain data, so the loops stay small and each piece is testable on anvil.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::{Address, B256, keccak256};
use alloy::sol_types::{SolCall, SolEvent};
use serde_json::json;

use lucid_chain::ChainClient as Rpc;
use lucid_chain::bindings::{IAccessControl, ILucidAnchors};
use lucid_chain::node::{BlockHead, NodeError as RpcErr};

/// `keccak256("ANCHORER_ROLE")`.
pub fn anchorer_role() -> B256 {
    keccak256("ANCHORER_ROLE")
}

/// `keccak256("STORER_ROLE")`.
pub fn storer_role() -> B256 {
    keccak256("STORER_ROLE")
}

/// A `SlotAnchored` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub slot: u64,
    pub submitter: Address,
    pub count: u32,
    pub block_number: u64,
    pub block_time: u64,
    pub tx_hash: B256,
}

/// The chain as the keeper sees it.
#[derive(Debug, Clone)]
pub struct ChainView {
    pub rpc: Rpc,
    pub anchors: Address,
    /// The deployment's first block (role events are replayed from there).
    pub start_block: u64,
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> RpcErr {
    RpcErr::Transport(format!("{what}: {e}"))
}

impl ChainView {
    async fn call<C: SolCall>(&self, call: C) -> Result<C::Return, RpcErr> {
        let out = self
            .rpc
            .call_raw(None, self.anchors, &call.abi_encode(), "latest")
            .await?;
        C::abi_decode_returns(&out).map_err(|e| decode_err(C::SIGNATURE, e))
    }

    /// `GENESIS_TIME()` of LucidAnchors.
    pub async fn genesis_time(&self) -> Result<u64, RpcErr> {
        self.call(ILucidAnchors::GENESIS_TIMECall {}).await
    }

    /// `slotSubmitter(slot)` (zero when unclaimed).
    pub async fn slot_submitter(&self, slot: u64) -> Result<Address, RpcErr> {
        self.call(ILucidAnchors::slotSubmitterCall { slot }).await
    }

    /// `anchorDigest(sessionId)` (zero when not anchored).
    pub async fn anchor_digest(&self, session_id: B256) -> Result<B256, RpcErr> {
        self.call(ILucidAnchors::anchorDigestCall {
            sessionId: session_id,
        })
        .await
    }

    pub async fn has_role(&self, role: B256, who: Address) -> Result<bool, RpcErr> {
        self.call(IAccessControl::hasRoleCall { role, account: who })
            .await
    }

    /// The hash and number of the last block whose timestamp is below `t` (block 0 if none):
    /// the epoch seed when `t = start(720E)` (SPEC §4, §6). Binary search over `[0, head]`.
    pub async fn last_block_before(&self, t: u64, head: &BlockHead) -> Result<(B256, u64), RpcErr> {
        let b = self
            .rpc
            .seed_block(t, head.number)
            .await
            .map_err(|e| RpcErr::Transport(e.to_string()))?;
        Ok((b.hash, b.number()))
    }

    /// Holders of `role` at block `at`, replayed from the role events since the deployment.
    pub async fn role_members(&self, role: B256, at: u64) -> Result<BTreeSet<Address>, RpcErr> {
        let logs = self
            .rpc
            .logs(
                self.anchors,
                json!([
                    [
                        IAccessControl::RoleGranted::SIGNATURE_HASH,
                        IAccessControl::RoleRevoked::SIGNATURE_HASH
                    ],
                    role
                ]),
                self.start_block,
                at,
            )
            .await?;
        let mut ordered: BTreeMap<(u64, u64), (bool, Address)> = BTreeMap::new();
        for l in &logs {
            if l.removed || l.topics.len() < 3 {
                continue;
            }
            let granted = l.topics[0] == IAccessControl::RoleGranted::SIGNATURE_HASH;
            let who = Address::from_word(l.topics[2]);
            ordered.insert(
                (l.block_number.unwrap_or(0), l.log_index.unwrap_or(0)),
                (granted, who),
            );
        }
        let mut members = BTreeSet::new();
        for (granted, who) in ordered.into_values() {
            if granted {
                members.insert(who);
            } else {
                members.remove(&who);
            }
        }
        Ok(members)
    }

    /// `SlotAnchored` events in an inclusive block range, with their blocks' timestamps.
    pub async fn claims(&self, from: u64, to: u64) -> Result<Vec<Claim>, RpcErr> {
        let logs = self
            .rpc
            .logs(
                self.anchors,
                json!([ILucidAnchors::SlotAnchored::SIGNATURE_HASH]),
                from,
                to,
            )
            .await?;
        let mut times: BTreeMap<u64, u64> = BTreeMap::new();
        let mut out = Vec::new();
        for l in logs {
            if l.removed {
                continue;
            }
            let ev = ILucidAnchors::SlotAnchored::decode_raw_log(l.topics.iter().copied(), &l.data)
                .map_err(|e| decode_err("SlotAnchored", e))?;
            let bn = l.block_number.unwrap_or(0);
            let ts = match times.get(&bn) {
                Some(t) => *t,
                None => {
                    let t = self
                        .rpc
                        .block_head(bn)
                        .await?
                        .map(|b| b.timestamp)
                        .unwrap_or(0);
                    times.insert(bn, t);
                    t
                }
            };
            out.push(Claim {
                slot: ev.slot,
                submitter: ev.submitter,
                count: ev.count,
                block_number: bn,
                block_time: ts,
                tx_hash: l.transaction_hash.unwrap_or_default(),
            });
        }
        Ok(out)
    }
}
