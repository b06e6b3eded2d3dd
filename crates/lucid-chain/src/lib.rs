//! Lucid's EVM chain access, shared by the indexer and the keeper: `sol!` bindings of the contracts'
//! interfaces ([`bindings`]), decoding of their events into [`lucid_core::models::ChainEvent`]
//! ([`events`]), JSON-RPC with classified errors and capped exponential backoff ([`rpc`]), and the
//! deployment files ([`deployments`]). No TRON code: the payment chain is read through TRON's
//! Ethereum-compatible JSON-RPC like any EVM chain.

pub mod bindings;
pub mod deployments;
pub mod events;
pub mod node;
pub mod rpc;

pub use bindings::{ContractKind, decode_revert};
pub use deployments::{Deployment, DeploymentError};
pub use events::{DecodeError, EventDecoder};
pub use rpc::{
    BlockHeader, BlockTag, ChainClient, ChainError, RawLog, RetryPolicy, RpcErrorKind, TxReceipt,
    role_id,
};
