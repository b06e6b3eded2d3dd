//! Sessions (SPEC §2): session ids, chunks, manifests and the on-chain `SessionAnchor`.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, B256, keccak256};
use alloy_sol_types::{SolValue, sol};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::params::MIB;

/// Maximum chunk size: 16 MiB of ciphertext.
pub const MAX_CHUNK_SIZE: u64 = 16 * MIB;

/// Errors about session ids, chunks and manifests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Not a UUID in text form.
    #[error("invalid session id {0:?}: not a UUID")]
    BadUuid(String),
    /// A bytes32 session id whose last 16 bytes are not zero.
    #[error("bytes32 session id {0} does not end in 16 zero bytes")]
    BadBytes32(B256),
    /// A chunk size outside `1..=16 MiB`.
    #[error("chunk {index}: size {size} outside 1..=16 MiB")]
    BadChunkSize {
        /// Chunk index.
        index: u32,
        /// Its size.
        size: u64,
    },
    /// Chunks not numbered 0, 1, 2… in order.
    #[error("chunk at position {position} has index {index}; chunks must be numbered 0.. in order")]
    BadChunkIndex {
        /// Position in the list.
        position: usize,
        /// Index found.
        index: u32,
    },
    /// A session has at least one chunk.
    #[error("a session has at least one chunk")]
    NoChunks,
    /// The manifest could not be canonicalized.
    #[error("manifest: {0}")]
    Manifest(String),
}

/// A session id: a UUID. Its `bytes32` form is the 16 UUID bytes followed by 16 zero bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SessionId(pub Uuid);

impl SessionId {
    /// The nil UUID (used for "no session").
    pub const NIL: Self = Self(Uuid::nil());

    /// A fresh random (v4) id.
    pub fn new_v4() -> Self {
        Self(Uuid::new_v4())
    }

    /// The `bytes32` form.
    pub fn to_bytes32(&self) -> B256 {
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(self.0.as_bytes());
        B256::from(b)
    }

    /// Parses the `bytes32` form; the last 16 bytes must be zero.
    pub fn from_bytes32(b: &B256) -> Result<Self, SessionError> {
        if b[16..].iter().any(|x| *x != 0) {
            return Err(SessionError::BadBytes32(*b));
        }
        let mut u = [0u8; 16];
        u.copy_from_slice(&b[..16]);
        Ok(Self(Uuid::from_bytes(u)))
    }

    /// The UUID as a `u128` (big-endian), a compact key.
    pub fn as_u128(&self) -> u128 {
        self.0.as_u128()
    }

    /// True for the nil UUID.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }
}

impl FromStr for SessionId {
    type Err = SessionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Hyphenated text form only (SPEC §2), case-insensitive.
        if s.len() != 36 {
            return Err(SessionError::BadUuid(s.to_owned()));
        }
        Uuid::try_parse(s)
            .map(Self)
            .map_err(|_| SessionError::BadUuid(s.to_owned()))
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0.hyphenated())
    }
}

impl Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One chunk of a session (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chunk {
    /// Index from 0.
    pub index: u32,
    /// BLAKE3-256 of the chunk's ciphertext (opaque to the chain).
    pub chunk_hash: B256,
    /// Bytes of ciphertext, `1..=16 MiB`.
    pub size: u64,
}

impl Chunk {
    /// Checks `1 ≤ size ≤ 16 MiB`.
    pub fn validate(&self) -> Result<(), SessionError> {
        if self.size == 0 || self.size > MAX_CHUNK_SIZE {
            return Err(SessionError::BadChunkSize {
                index: self.index,
                size: self.size,
            });
        }
        Ok(())
    }
}

/// Checks a session's chunk list: non-empty, numbered 0.. in order, sizes in range.
pub fn validate_chunks(chunks: &[Chunk]) -> Result<(), SessionError> {
    if chunks.is_empty() {
        return Err(SessionError::NoChunks);
    }
    for (i, c) in chunks.iter().enumerate() {
        if c.index as usize != i {
            return Err(SessionError::BadChunkIndex {
                position: i,
                index: c.index,
            });
        }
        c.validate()?;
    }
    Ok(())
}

/// BLAKE3-256 of a chunk's ciphertext.
pub fn chunk_hash(ciphertext: &[u8]) -> B256 {
    B256::from(*blake3::hash(ciphertext).as_bytes())
}

/// Splits a stream of ciphertext into chunks of `chunk_size` bytes (the last may be shorter) and
/// hashes each with BLAKE3. `chunk_size` must be in `1..=16 MiB`. An empty stream yields no chunks.
pub fn chunk_reader(mut r: impl std::io::Read, chunk_size: u64) -> std::io::Result<Vec<Chunk>> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "chunk size must be in 1..=16 MiB",
        ));
    }
    let mut buf = vec![0u8; chunk_size as usize];
    let mut out = Vec::new();
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match r.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            break;
        }
        let index = u32::try_from(out.len()).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "more than 2^32 chunks")
        })?;
        out.push(Chunk {
            index,
            chunk_hash: chunk_hash(&buf[..filled]),
            size: filled as u64,
        });
        if filled < buf.len() {
            break;
        }
    }
    Ok(out)
}

/// A session manifest (SPEC §2). Unknown extra fields are kept (and hashed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Session id (UUID text, lower-case: see [`Manifest::hash`]).
    #[serde(deserialize_with = "exact_text::deserialize")]
    pub session_id: SessionId,
    /// Owner address, as given (lower-case hex when produced here).
    pub owner: String,
    /// Unix time the session started.
    pub started_at: u64,
    /// Number of chunks.
    pub chunk_count: u32,
    /// Merkle root (lower-case hex: see [`Manifest::hash`]).
    #[serde(deserialize_with = "exact_text::deserialize")]
    pub merkle_root: B256,
    /// Codec name.
    pub codec: String,
    /// Recorder version.
    pub recorder_version: String,
    /// Hex public keys of the participants.
    pub participants: Vec<String>,
    /// Any other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Manifest {
    /// RFC 8785 canonical JSON of this manifest.
    pub fn jcs(&self) -> Result<String, SessionError> {
        serde_json_canonicalizer::to_string(self).map_err(|e| SessionError::Manifest(e.to_string()))
    }

    /// `manifestHash = keccak256(JCS(manifest))`. The manifest is hashed as received: a
    /// `Manifest` parsed from JSON hashes exactly like [`manifest_hash`] of that JSON, because the
    /// only typed text fields (`sessionId`, `merkleRoot`) are accepted only in the form they are
    /// written back in (lower-case, SPEC conventions); other text is kept verbatim.
    pub fn hash(&self) -> Result<B256, SessionError> {
        Ok(keccak256(self.jcs()?.as_bytes()))
    }
}

/// Deserializes a value from a string only if it serializes back to the same string, so that a
/// re-serialized manifest is byte-identical to the received one (no silent normalisation).
mod exact_text {
    use serde::{Deserialize, Deserializer, Serialize, de::Error};

    pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: serde::de::DeserializeOwned + Serialize,
    {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let v: T = serde_json::from_value(serde_json::Value::String(s.clone().into_owned()))
            .map_err(D::Error::custom)?;
        match serde_json::to_value(&v) {
            Ok(serde_json::Value::String(back)) if back == *s => Ok(v),
            _ => Err(D::Error::custom(format!(
                "{s:?} is not in canonical form (lower-case hex / UUID)"
            ))),
        }
    }
}

/// RFC 8785 canonical JSON of any JSON value.
pub fn jcs(v: &serde_json::Value) -> Result<String, SessionError> {
    serde_json_canonicalizer::to_string(v).map_err(|e| SessionError::Manifest(e.to_string()))
}

/// `keccak256(JCS(manifest))` of an arbitrary manifest object (extra fields included).
pub fn manifest_hash(v: &serde_json::Value) -> Result<B256, SessionError> {
    Ok(keccak256(jcs(v)?.as_bytes()))
}

sol! {
    /// `LucidAnchors.SessionAnchor` (SPEC §3).
    #[derive(Debug, PartialEq, Eq)]
    struct SessionAnchor {
        bytes32 sessionId;
        bytes32 manifestHash;
        bytes32 merkleRoot;
        address owner;
        uint64 startedAt;
        uint32 chunkCount;
    }
}

impl SessionAnchor {
    /// The one storage word per session: `keccak256(abi.encode(s))`.
    pub fn digest(&self) -> B256 {
        keccak256(self.abi_encode())
    }

    /// Builds an anchor from a manifest and its hash.
    pub fn from_manifest(m: &Manifest, owner: Address) -> Result<Self, SessionError> {
        Ok(Self {
            sessionId: m.session_id.to_bytes32(),
            manifestHash: m.hash()?,
            merkleRoot: m.merkle_root,
            owner,
            startedAt: m.started_at,
            chunkCount: m.chunk_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_roundtrip() {
        let s: SessionId = "0f8fad5b-d9cb-469f-a165-70867728950e"
            .parse()
            .expect("uuid");
        let b = s.to_bytes32();
        assert_eq!(
            format!("{b:x}"),
            "0f8fad5bd9cb469fa16570867728950e00000000000000000000000000000000"
        );
        assert_eq!(SessionId::from_bytes32(&b), Ok(s));
        let mut bad = b;
        bad[31] = 1;
        assert!(SessionId::from_bytes32(&bad).is_err());
        assert!(
            "0f8fad5bd9cb469fa16570867728950e"
                .parse::<SessionId>()
                .is_err()
        );
        assert_eq!(s.to_string(), "0f8fad5b-d9cb-469f-a165-70867728950e");
        let j = serde_json::to_string(&s).expect("ser");
        assert_eq!(j, "\"0f8fad5b-d9cb-469f-a165-70867728950e\"");
        assert_eq!(serde_json::from_str::<SessionId>(&j).expect("de"), s);
    }

    #[test]
    fn chunking() {
        let data: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let chunks = chunk_reader(&data[..], 1000).expect("chunks");
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[2].size, 500);
        assert_eq!(chunks[1].chunk_hash, chunk_hash(&data[1000..2000]));
        validate_chunks(&chunks).expect("valid");
        assert!(chunk_reader(&data[..], 0).is_err());
        assert!(chunk_reader(&[][..], 10).expect("empty").is_empty());
        assert_eq!(chunk_reader(&data[..], 2500).expect("one").len(), 1);
        assert_eq!(validate_chunks(&[]), Err(SessionError::NoChunks));
        let bad = Chunk {
            index: 0,
            chunk_hash: B256::ZERO,
            size: MAX_CHUNK_SIZE + 1,
        };
        assert!(validate_chunks(&[bad]).is_err());
    }

    #[test]
    fn manifest_keeps_extra_fields() {
        let v = serde_json::json!({
            "sessionId": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "owner": "0x0000000000000000000000000000000000000001",
            "startedAt": 1704067200u64,
            "chunkCount": 2,
            "merkleRoot": "0x1111111111111111111111111111111111111111111111111111111111111111",
            "codec": "opus",
            "recorderVersion": "1.0.0",
            "participants": ["0x02ab"],
            "zExtra": {"b": 1, "a": [true, null]}
        });
        let m: Manifest = serde_json::from_value(v.clone()).expect("manifest");
        assert!(m.extra.contains_key("zExtra"));
        assert_eq!(m.jcs().expect("jcs"), jcs(&v).expect("jcs"));
        assert_eq!(m.hash().expect("h"), manifest_hash(&v).expect("h"));
        assert!(
            m.jcs()
                .expect("jcs")
                .starts_with("{\"chunkCount\":2,\"codec\":\"opus\"")
        );
    }

    /// Upper-case `sessionId` / `merkleRoot` used to be normalised by `Manifest` (so
    /// `Manifest::hash` differed from `manifest_hash` of the same input). The input is hashed as
    /// received: such a manifest cannot become a `Manifest`, and `manifest_hash` hashes its text.
    #[test]
    fn manifest_hash_is_of_the_input_as_received() {
        let lower = serde_json::json!({
            "sessionId": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "owner": "0xAbC0000000000000000000000000000000000001",
            "startedAt": 1704067200u64,
            "chunkCount": 2,
            "merkleRoot": "0xabababababababababababababababababababababababababababababababab",
            "codec": "opus",
            "recorderVersion": "1.0.0",
            "participants": ["0x02AB"]
        });
        let m: Manifest = serde_json::from_value(lower.clone()).expect("manifest");
        assert_eq!(m.hash().expect("h"), manifest_hash(&lower).expect("h"));
        for (field, upper) in [
            ("sessionId", "0F8FAD5B-D9CB-469F-A165-70867728950E"),
            (
                "merkleRoot",
                "0xABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
            ),
            (
                "merkleRoot",
                "abababababababababababababababababababababababababababababababab",
            ),
        ] {
            let mut v = lower.clone();
            v[field] = serde_json::Value::String(upper.to_owned());
            let e = serde_json::from_value::<Manifest>(v.clone()).expect_err("not canonical");
            assert!(e.to_string().contains("canonical"), "{e}");
            assert_ne!(
                manifest_hash(&v).expect("h"),
                manifest_hash(&lower).expect("h")
            );
        }
    }
}
