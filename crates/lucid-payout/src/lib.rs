//! Payment-chain code (TRON): addresses, payout planning, router client. Isolated: nothing in
//! consensus or anchoring depends on this crate.

pub mod leaf;
pub mod tron;

pub use tron::{TronAddress, TronAddressError};
