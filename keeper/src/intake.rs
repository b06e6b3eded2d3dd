//! Validation of what clients submit, as pure functions over bytes and JSON: proof batches (JSON
//! array or JSON Lines) and sessions (manifest + chunks or Merkle root + the owner's EIP-2098
//! signature over the SPEC §3 `SessionAnchor`). The HTTP handlers only call these and the store.

use alloy::primitives::{Address, B256};
use lucid_core::anchor::{AnchorSigError, CompactSignature};
use lucid_core::merkle::MerkleTree;
use lucid_core::session::{
    Chunk, Manifest, SessionAnchor, SessionId, manifest_hash, validate_chunks,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A client error: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub code: &'static str,
    pub message: String,
}

impl Reject {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Splits a proofs body into items: a JSON array, or JSON Lines (blank lines skipped). Returns
/// each item's JSON text.
pub fn split_proofs(body: &[u8]) -> Result<Vec<String>, Reject> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Reject::new("malformed", format!("body is not UTF-8: {e}")))?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(trimmed)
            .map_err(|e| Reject::new("malformed", format!("JSON array: {e}")))?;
        return Ok(items.into_iter().map(|r| r.get().to_owned()).collect());
    }
    let items: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if items.is_empty() {
        return Err(Reject::new("empty", "no proofs in the body"));
    }
    Ok(items)
}

/// A session submission (SPEC §2/§3 and issue 9): `manifest`, `chunks` or `merkleRoot`, `ownerSig`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionIn {
    pub manifest: Box<RawValue>,
    #[serde(default)]
    pub chunks: Option<Vec<ChunkIn>>,
    #[serde(default)]
    pub merkle_root: Option<String>,
    pub owner_sig: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChunkIn {
    pub index: u32,
    pub chunk_hash: String,
    pub size: u64,
}

/// A validated session, ready to be stored `pending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSession {
    pub session_id: SessionId,
    pub anchor: SessionAnchor,
    pub owner_sig: CompactSignature,
    /// The chunk list when given (needed later for chunk registrations).
    pub chunks: Option<Vec<Chunk>>,
}

fn hex32(s: &str, what: &str) -> Result<B256, Reject> {
    let ok = s.len() == 66 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return Err(Reject::new(
            "bad_field",
            format!("{what}: expected 0x + 64 hex digits"),
        ));
    }
    s.parse()
        .map_err(|_| Reject::new("bad_field", format!("{what}: not hex")))
}

/// Validates one submission for the LucidAnchors at `anchors` on `chain_id`.
pub fn validate_session(
    raw: &str,
    chain_id: u64,
    anchors: Address,
) -> Result<ValidSession, Reject> {
    let input: SessionIn =
        serde_json::from_str(raw).map_err(|e| Reject::new("malformed", e.to_string()))?;
    let mv: Value = serde_json::from_str(input.manifest.get())
        .map_err(|e| Reject::new("malformed", format!("manifest: {e}")))?;
    if !mv.is_object() {
        return Err(Reject::new(
            "bad_manifest",
            "manifest must be a JSON object",
        ));
    }
    let m: Manifest = serde_json::from_value(mv.clone())
        .map_err(|e| Reject::new("bad_manifest", format!("manifest: {e}")))?;
    if m.session_id.is_nil() {
        return Err(Reject::new(
            "bad_manifest",
            "manifest.sessionId is the nil UUID",
        ));
    }
    let owner = lucid_core::address::parse_address(&m.owner)
        .map_err(|e| Reject::new("bad_manifest", format!("manifest.owner: {e}")))?;
    if owner == Address::ZERO {
        return Err(Reject::new(
            "bad_manifest",
            "manifest.owner is the zero address",
        ));
    }
    if m.chunk_count == 0 {
        return Err(Reject::new(
            "bad_manifest",
            "manifest.chunkCount must be at least 1",
        ));
    }
    if m.merkle_root == B256::ZERO {
        return Err(Reject::new("bad_manifest", "manifest.merkleRoot is zero"));
    }
    // Hash the manifest exactly as received (extra fields included).
    let mhash = manifest_hash(&mv).map_err(|e| Reject::new("bad_manifest", e.to_string()))?;
    let chunks = match (input.chunks, input.merkle_root) {
        (Some(_), Some(_)) => {
            return Err(Reject::new(
                "bad_request",
                "give either chunks or merkleRoot, not both",
            ));
        }
        (None, None) => {
            return Err(Reject::new(
                "bad_request",
                "chunks or merkleRoot is required",
            ));
        }
        (None, Some(r)) => {
            if hex32(&r, "merkleRoot")? != m.merkle_root {
                return Err(Reject::new(
                    "root_mismatch",
                    "merkleRoot differs from manifest.merkleRoot",
                ));
            }
            None
        }
        (Some(cs), None) => {
            let chunks = cs
                .iter()
                .map(|c| {
                    Ok(Chunk {
                        index: c.index,
                        chunk_hash: hex32(&c.chunk_hash, "chunkHash")?,
                        size: c.size,
                    })
                })
                .collect::<Result<Vec<_>, Reject>>()?;
            validate_chunks(&chunks).map_err(|e| Reject::new("bad_chunks", e.to_string()))?;
            if chunks.len() != m.chunk_count as usize {
                return Err(Reject::new(
                    "chunk_count_mismatch",
                    format!(
                        "{} chunks given, manifest.chunkCount is {}",
                        chunks.len(),
                        m.chunk_count
                    ),
                ));
            }
            let tree = MerkleTree::from_chunks(&m.session_id.to_bytes32(), &chunks)
                .map_err(|e| Reject::new("bad_chunks", e.to_string()))?;
            if tree.root() != m.merkle_root {
                return Err(Reject::new(
                    "root_mismatch",
                    "the Merkle root of the chunks differs from manifest.merkleRoot",
                ));
            }
            Some(chunks)
        }
    };
    let sig: CompactSignature = input
        .owner_sig
        .parse()
        .map_err(|e: AnchorSigError| Reject::new("bad_signature", format!("ownerSig: {e}")))?;
    let anchor = SessionAnchor {
        sessionId: m.session_id.to_bytes32(),
        manifestHash: mhash,
        merkleRoot: m.merkle_root,
        owner,
        startedAt: m.started_at,
        chunkCount: m.chunk_count,
    };
    lucid_core::anchor::verify(&anchor, chain_id, anchors, &sig)
        .map_err(|e| Reject::new("bad_signature", format!("ownerSig: {e}")))?;
    Ok(ValidSession {
        session_id: m.session_id,
        anchor,
        owner_sig: sig,
        chunks,
    })
}

/// Splits a sessions body: one object or an array of them.
pub fn split_sessions(body: &[u8]) -> Result<(Vec<String>, bool), Reject> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Reject::new("malformed", format!("body is not UTF-8: {e}")))?;
    if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text)
            .map_err(|e| Reject::new("malformed", format!("JSON array: {e}")))?;
        if items.is_empty() {
            return Err(Reject::new("empty", "no sessions in the array"));
        }
        Ok((
            items.into_iter().map(|r| r.get().to_owned()).collect(),
            true,
        ))
    } else {
        let _: &RawValue =
            serde_json::from_str(text).map_err(|e| Reject::new("malformed", e.to_string()))?;
        Ok((vec![text.to_owned()], false))
    }
}
