//! Payment-chain code (TRON): addresses, payout planning, router client. Isolated: nothing in
//! consensus or anchoring depends on this crate.
//!
//! The TRON transaction path: [`tx`] builds and signs `TriggerSmartContract` transactions offline,
//! [`api`] talks to a full node's HTTP API (or the local stand-in, `lucid-tron-local`), [`sender`]
//! drives one payout transaction to a solidified receipt without ever paying twice.

pub mod api;
pub mod calls;
pub mod leaf;
pub mod payaddr;
pub mod plan;
pub mod proto;
pub mod revert;
pub mod sender;
pub mod tron;
pub mod tx;

pub use api::{
    ApiError, BlockHeader, BroadcastResult, ContractResult, Log, ReturnCode, TronClient, TxInfo,
};
pub use sender::{
    Confirmed, ExpectedLog, Journal, MemoryJournal, PayoutCall, SendError, Sender, SenderConfig,
};
pub use tron::{TronAddress, TronAddressError};
pub use tx::{RefBlock, SignedTx, TriggerParams, TxError, UnsignedTx};
