//! The payout path's endpoint in the daemon's HTTP API: `POST /v1/payout-address`, a node's signed
//! EIP-712 `PayoutAddress(address nodeId,address recipient,uint64 validFrom)` (SPEC §4, Recipient).
//!
//! It lives here, on the keeper's payout path (tests/e2e/dependency_rules.rs), because the
//! signature check and the collision rules are lucid-payout's (`payaddr`): the API module only
//! mounts [`routes`], and the consensus and anchoring code never reaches this file. (The
//! `lucid-keeper payouts …` commands are the binary's `payouts` module.)

use std::sync::Arc;

use alloy::primitives::Address;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use lucid_payout::TronAddress;
use lucid_payout::payaddr::{self, OverrideError, PayoutAddressRecord};
use lucid_store::{PayoutAddress, StoreError, SubmitOutcome};
use serde_json::json;

use crate::api::{ApiError, ErrorDoc, Shared, body_of};

/// Largest accepted body of `POST /v1/payout-address`.
pub const MAX_PAYOUT_ADDRESS_BODY: usize = 4 << 10;

/// `POST /v1/payout-address` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PayoutAddressIn {
    /// The node (the signer): `0x` + 40 hex digits (EIP-55 if mixed case).
    pub node_id: String,
    /// The account to pay: a TRON `T…` base58check address or the same 20 bytes as `0x…`.
    pub recipient: String,
    /// Unix seconds from which it applies.
    pub valid_from: u64,
    /// `0x` + 130 hex digits: `r‖s‖v` over the EIP-712 hash (domain `LucidPoOT`, version `1`,
    /// the on-system chain id).
    pub sig: String,
}

fn bad(code: &str, msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, msg)
}

fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "recipient_taken", msg)
}

/// A `T…` TRON address or a `0x` EVM address.
fn parse_recipient(s: &str) -> Result<Address, ApiError> {
    if s.starts_with('T') {
        TronAddress::decode(s)
            .map(|t| Address::from(t.evm_bytes()))
            .map_err(|e| bad("bad_recipient", format!("recipient: {e}")))
    } else {
        lucid_core::address::parse_address(s)
            .map_err(|e| bad("bad_recipient", format!("recipient: {e}")))
    }
}

fn parse_sig(s: &str) -> Result<[u8; 65], ApiError> {
    let msg = "sig must be 0x followed by 130 hex digits";
    let body = s
        .strip_prefix("0x")
        .ok_or_else(|| bad("bad_signature", msg))?;
    let mut out = [0u8; 65];
    if body.len() != 130 || hex::decode_to_slice(body, &mut out).is_err() {
        return Err(bad("bad_signature", msg));
    }
    Ok(out)
}

/// Parses and checks a submission without touching the store.
pub fn parse(s: &Shared, body: &[u8]) -> Result<PayoutAddressRecord, ApiError> {
    let r: PayoutAddressIn =
        serde_json::from_slice(body).map_err(|e| bad("malformed", e.to_string()))?;
    let node_id = lucid_core::address::parse_address(&r.node_id)
        .map_err(|e| bad("bad_node_id", format!("nodeId: {e}")))?;
    let recipient = parse_recipient(&r.recipient)?;
    // Both stores keep integers as signed 64-bit.
    if r.valid_from > i64::MAX as u64 {
        return Err(bad("bad_valid_from", "validFrom is too large"));
    }
    let rec = PayoutAddressRecord {
        node_id,
        recipient,
        valid_from: r.valid_from,
        sig: parse_sig(&r.sig)?,
    };
    payaddr::verify(&s.codec, &rec).map_err(|e| bad("bad_signature", e.to_string()))?;
    if recipient.is_zero() {
        return Err(bad(
            "bad_recipient",
            OverrideError::ZeroRecipient.to_string(),
        ));
    }
    Ok(rec)
}

/// The nodes known to this keeper besides the submitter: the members of the frozen epochs around
/// the current chain time, and nodes that have named payout addresses themselves.
async fn is_known_node(s: &Shared, a: Address) -> Result<bool, StoreError> {
    if a == s.node {
        return Ok(true);
    }
    if let Some(slot) = s.clock.now().and_then(|t| s.params.slot_at(t)) {
        let e = s.params.epoch_of(slot);
        for epoch in [e, e.saturating_sub(1)] {
            if let Some(doc) = s.store.epoch(epoch).await?
                && doc.members.contains(&a)
            {
                return Ok(true);
            }
        }
    }
    Ok(!s.store.payout_addresses_of_node(&a).await?.is_empty())
}

#[utoipa::path(post, path = "/v1/payout-address",
    request_body(content = PayoutAddressIn, description = "A signed SPEC §4 PayoutAddress", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored (accepted) or already known (duplicate)", body = serde_json::Value),
        (status = 400, description = "Malformed, bad address, bad signature", body = ErrorDoc),
        (status = 409, description = "The recipient belongs to another node, or another override is stored under nodeId:validFrom; nothing stored", body = ErrorDoc),
        (status = 413, description = "Body too large", body = ErrorDoc),
        (status = 503, description = "Store unavailable", body = ErrorDoc)))]
pub async fn post_payout_address(
    State(s): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_of(body)?;
    let rec = parse(&s, &body)?;
    if rec.recipient != rec.node_id {
        if is_known_node(&s, rec.recipient)
            .await
            .map_err(ApiError::store)?
        {
            return Err(conflict(
                OverrideError::OtherNodesAccount {
                    recipient: rec.recipient,
                    owner: rec.recipient,
                }
                .to_string(),
            ));
        }
        let named = s
            .store
            .payout_addresses_by_recipient(&rec.recipient)
            .await
            .map_err(ApiError::store)?;
        if let Some(o) = named.iter().find(|o| o.node_id != rec.node_id) {
            return Err(conflict(
                OverrideError::AlreadyNamed {
                    recipient: rec.recipient,
                    by: o.node_id,
                    valid_from: o.valid_from,
                }
                .to_string(),
            ));
        }
    }
    let doc = PayoutAddress {
        id: PayoutAddress::make_id(&rec.node_id, rec.valid_from),
        node_id: rec.node_id,
        recipient: rec.recipient,
        valid_from: rec.valid_from,
        sig: rec.sig.into(),
    };
    let status = match s.store.put_payout_address(&doc).await {
        Ok(SubmitOutcome::Inserted) => "accepted",
        Ok(SubmitOutcome::Duplicate) => "duplicate",
        Err(StoreError::Conflict { reason, .. }) => return Err(conflict(reason)),
        Err(e) => return Err(ApiError::store(e)),
    };
    tracing::info!(node = %rec.node_id, recipient = %rec.recipient, valid_from = rec.valid_from, status, "PayoutAddress");
    Ok(axum::Json(json!({
        "id": doc.id,
        "status": status,
        "nodeId": format!("{:#x}", rec.node_id),
        "recipient": TronAddress::from_evm(rec.recipient.into_array()).encode(),
        "recipientEvm": format!("{:#x}", rec.recipient),
        "validFrom": rec.valid_from,
    }))
    .into_response())
}

/// The payout path's routes, mounted by [`crate::api::router`].
pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/v1/payout-address",
        post(post_payout_address).layer(axum::extract::DefaultBodyLimit::max(
            MAX_PAYOUT_ADDRESS_BODY,
        )),
    )
}
