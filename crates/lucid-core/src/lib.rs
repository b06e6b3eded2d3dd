//! Lucid protocol domain: parameters, models, Merkle trees, EIP-712 task proofs and PoOT.
//! Pure: no network, no database, no async runtime.
pub mod models;
