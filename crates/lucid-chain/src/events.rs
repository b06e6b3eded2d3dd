//! Decoding of the contracts' logs into [`ChainEvent`]s.
//!
//! `args` is a JSON object keyed by the Solidity parameter names exactly; addresses and `bytesN` are
//! lower-case `0x` hex, integers of at most 64 bits are JSON numbers, wider integers (`uint256`) are
//! decimal strings, `bool` is a JSON boolean, dynamic `bytes` hex and `string` a string. An indexed
//! dynamic parameter is its topic (the keccak256 hash), as hex. The store derives all state from these
//! `args`, so this shape is a contract (tests pin it per event).

use std::collections::HashMap;

use alloy::dyn_abi::{DecodedEvent as DynDecoded, DynSolValue, EventExt};
use alloy::json_abi::Event;
use alloy_primitives::{Address, B256, hex};
use lucid_core::models::ChainEvent;
use serde_json::{Map, Value};

use crate::bindings::ContractKind;
use crate::rpc::RawLog;

/// Why a log could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("log of {address} is not from a followed contract")]
    UnknownContract { address: Address },
    #[error("{contract}: unknown event topic {topic} (tx {tx}, log {log_index})")]
    UnknownEvent {
        contract: &'static str,
        topic: String,
        tx: B256,
        log_index: u64,
    },
    #[error("{contract}.{event}: cannot decode (tx {tx}, log {log_index}): {reason}")]
    Malformed {
        contract: &'static str,
        event: String,
        tx: B256,
        log_index: u64,
        reason: String,
    },
}

/// A decoded log with its block time: what the indexer stores.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedEvent {
    pub chain_id: u64,
    pub address: Address,
    pub contract: ContractKind,
    /// Event name, e.g. `SessionRegistered`.
    pub event: String,
    pub block_number: u64,
    pub block_hash: B256,
    /// Unix seconds of the event's block (never 0 for a real block).
    pub block_time: u64,
    pub tx_hash: B256,
    pub log_index: u64,
    pub args: Value,
}

/// Lower-case `0x` hex of bytes.
pub fn hex0x(bytes: impl AsRef<[u8]>) -> String {
    hex::encode_prefixed(bytes)
}

impl DecodedEvent {
    /// The stored document (`_id` = `chainId:txHash:logIndex`, hex lower-case).
    pub fn to_chain_event(&self) -> ChainEvent {
        ChainEvent {
            id: ChainEvent::make_id(self.chain_id, &self.tx_hash, self.log_index),
            chain_id: self.chain_id,
            address: self.address,
            event: self.event.clone(),
            block_number: self.block_number,
            block_hash: self.block_hash,
            block_time: self.block_time,
            tx_hash: self.tx_hash,
            log_index: self.log_index,
            args: self.args.clone(),
        }
    }
}

/// Decodes the logs of a set of deployed contracts.
#[derive(Debug, Clone)]
pub struct EventDecoder {
    chain_id: u64,
    contracts: HashMap<Address, ContractKind>,
    events: HashMap<(ContractKind, B256), Event>,
}

impl EventDecoder {
    /// A decoder for the given contracts of one chain.
    pub fn new(
        chain_id: u64,
        contracts: impl IntoIterator<Item = (Address, ContractKind)>,
    ) -> Self {
        let mut events = HashMap::new();
        for kind in ContractKind::ALL {
            for abi in kind.abis() {
                for e in abi.events() {
                    events.insert((kind, e.selector()), e.clone());
                }
            }
        }
        EventDecoder {
            chain_id,
            contracts: contracts.into_iter().collect(),
            events,
        }
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The followed contracts' addresses.
    pub fn addresses(&self) -> Vec<Address> {
        let mut v: Vec<Address> = self.contracts.keys().copied().collect();
        v.sort();
        v
    }

    /// The ABI event of a contract kind by name (e.g. to build test logs).
    pub fn event_abi(&self, kind: ContractKind, name: &str) -> Option<&Event> {
        self.events
            .iter()
            .find(|((k, _), e)| *k == kind && e.name == name)
            .map(|(_, e)| e)
    }

    /// Decodes one log; `block_time` is the timestamp of its block.
    pub fn decode(&self, log: &RawLog, block_time: u64) -> Result<DecodedEvent, DecodeError> {
        let kind = *self
            .contracts
            .get(&log.address)
            .ok_or(DecodeError::UnknownContract {
                address: log.address,
            })?;
        let topic0 = log.topics.first().copied().unwrap_or_default();
        let ev = self
            .events
            .get(&(kind, topic0))
            .ok_or_else(|| DecodeError::UnknownEvent {
                contract: kind.name(),
                topic: hex0x(topic0),
                tx: log.transaction_hash,
                log_index: log.log_index(),
            })?;
        let malformed = |reason: String| DecodeError::Malformed {
            contract: kind.name(),
            event: ev.name.clone(),
            tx: log.transaction_hash,
            log_index: log.log_index(),
            reason,
        };
        let decoded: DynDecoded = ev
            .decode_log_parts(log.topics.iter().copied(), &log.data)
            .map_err(|e| malformed(e.to_string()))?;
        let mut indexed = decoded.indexed.into_iter();
        let mut body = decoded.body.into_iter();
        let mut args = Map::new();
        for p in &ev.inputs {
            let v = if p.indexed {
                indexed.next()
            } else {
                body.next()
            }
            .ok_or_else(|| malformed(format!("missing value of {}", p.name)))?;
            args.insert(p.name.clone(), to_json(&v));
        }
        Ok(DecodedEvent {
            chain_id: self.chain_id,
            address: log.address,
            contract: kind,
            event: ev.name.clone(),
            block_number: log.block_number(),
            block_hash: log.block_hash,
            block_time,
            tx_hash: log.transaction_hash,
            log_index: log.log_index(),
            args: Value::Object(args),
        })
    }
}

/// The JSON form of an ABI value (see the module documentation).
pub fn to_json(v: &DynSolValue) -> Value {
    match v {
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Address(a) => Value::String(hex0x(a)),
        DynSolValue::Function(f) => Value::String(hex0x(f)),
        DynSolValue::FixedBytes(w, size) => Value::String(hex0x(&w[..(*size).min(32)])),
        DynSolValue::Bytes(b) => Value::String(hex0x(b)),
        DynSolValue::String(s) => Value::String(s.clone()),
        DynSolValue::Uint(u, bits) => {
            if *bits <= 64 {
                Value::from(u.to::<u64>())
            } else {
                Value::String(u.to_string())
            }
        }
        DynSolValue::Int(i, bits) => {
            if *bits <= 64 {
                Value::from(i.as_i64())
            } else {
                Value::String(i.to_string())
            }
        }
        DynSolValue::Array(xs) | DynSolValue::FixedArray(xs) | DynSolValue::Tuple(xs) => {
            Value::Array(xs.iter().map(to_json).collect())
        }
        #[allow(unreachable_patterns)]
        _ => Value::Null,
    }
}
