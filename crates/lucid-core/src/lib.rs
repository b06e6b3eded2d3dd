//! Lucid protocol domain: parameters, models, session ids, Merkle trees, EIP-712 task proofs and PoOT.
//! Pure: no network, no database, no async runtime.
//!
//! Modules:
//! - [`params`]: SPEC §1 parameters (validated: env, any key/value source or [`params::ParamValues`]),
//!   checked slot/epoch/time arithmetic, `params_hash` (SPEC §6).
//! - [`address`]: EVM address parsing with EIP-55 checksum validation.
//! - [`anchor`]: the owner's EIP-712 signature of a `SessionAnchor` (EIP-2098 compact, low s).
//! - [`session`]: session ids (UUID ↔ bytes32), chunks, BLAKE3 chunking, manifests (JCS), `SessionAnchor`.
//! - [`models`]: SPEC §5 stored documents (serde names exactly as the SPEC).
//! - [`merkle`]: SPEC §2 leaves, root, proofs, OpenZeppelin-compatible verification.
//! - [`proof`]: SPEC §4 task proofs: JSON form, EIP-712, signing, recovery, validation reasons.
//! - [`ingest`]: bounded JSON Lines reading, proofs → validation → [`poot::Tally`].
//! - [`poot`]: SPEC §4 credits (`W_t`), membership, live score, eligibility, tie key, ranking,
//!   leader schedule (cooldown by plan), slot results; SPEC §6 frozen `rows` and `tally_hash`.

pub mod address;
pub mod anchor;
pub mod ingest;
pub mod merkle;
pub mod models;
pub mod params;
pub mod poot;
pub mod proof;
pub mod session;

pub use alloy_primitives::{Address, B256};
pub use params::{ParamValues, Params};
