//! `sol!` bindings of the contracts' interfaces (contracts/src/interfaces, flattened by build.rs so that
//! inherited items appear in each interface), plus the OpenZeppelin parts the contracts inherit
//! (access control, default-admin rules, pausing, EIP-712 domain), whose events the contracts emit too.
//!
//! `tests/e2e/chain_abi.rs` proves that every event, function and error here has the same signature and
//! shape in the compiled Solidity ABI, and that the interfaces' bindings match it one for one.
#![allow(
    missing_docs,
    missing_debug_implementations,
    clippy::too_many_arguments,
    clippy::pub_underscore_fields
)]

include!(concat!(env!("OUT_DIR"), "/lucid_interfaces.rs"));

alloy::sol! {
    /// OpenZeppelin `IAccessControl` (events and the role check the daemons use).
    #[sol(rpc, abi, all_derives)]
    interface IAccessControl {
        event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole);
        event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
        event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);
        function hasRole(bytes32 role, address account) external view returns (bool);
        function getRoleAdmin(bytes32 role) external view returns (bytes32);
        function grantRole(bytes32 role, address account) external;
        function revokeRole(bytes32 role, address account) external;
        function renounceRole(bytes32 role, address callerConfirmation) external;
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
        error AccessControlBadConfirmation();
    }

    /// OpenZeppelin `IAccessControlDefaultAdminRules` events.
    #[sol(abi, all_derives)]
    interface IAccessControlDefaultAdminRules {
        event DefaultAdminTransferScheduled(address indexed newAdmin, uint48 acceptSchedule);
        event DefaultAdminTransferCanceled();
        event DefaultAdminDelayChangeScheduled(uint48 newDelay, uint48 effectSchedule);
        event DefaultAdminDelayChangeCanceled();
    }

    /// OpenZeppelin `Pausable` events (the routers).
    #[sol(abi, all_derives)]
    interface IPausable {
        event Paused(address account);
        event Unpaused(address account);
        function paused() external view returns (bool);
    }

    /// OpenZeppelin `IERC5267` (contracts with an EIP-712 domain).
    #[sol(abi, all_derives)]
    interface IERC5267 {
        event EIP712DomainChanged();
    }
}

use alloy::json_abi::JsonAbi;

/// The four contracts whose events the indexer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContractKind {
    LucidAnchors,
    LucidChunkStore,
    PayoutRouterV0,
    PayoutRouterKYC,
}

impl ContractKind {
    pub const ALL: [ContractKind; 4] = [
        ContractKind::LucidAnchors,
        ContractKind::LucidChunkStore,
        ContractKind::PayoutRouterV0,
        ContractKind::PayoutRouterKYC,
    ];

    /// The contract's name (also its key in `deployments/<chainId>.json` and forge's `out/`).
    pub fn name(self) -> &'static str {
        match self {
            ContractKind::LucidAnchors => "LucidAnchors",
            ContractKind::LucidChunkStore => "LucidChunkStore",
            ContractKind::PayoutRouterV0 => "PayoutRouterV0",
            ContractKind::PayoutRouterKYC => "PayoutRouterKYC",
        }
    }

    /// Every ABI the contract's bindings are made of: its interface (with inherited interfaces) and
    /// the OpenZeppelin parts it may inherit.
    pub fn abis(self) -> Vec<JsonAbi> {
        let mut v = vec![
            IAccessControl::abi::contract(),
            IAccessControlDefaultAdminRules::abi::contract(),
        ];
        match self {
            ContractKind::LucidAnchors => {
                v.push(ILucidAnchors::abi::contract());
                v.push(IERC5267::abi::contract());
            }
            ContractKind::LucidChunkStore => v.push(ILucidChunkStore::abi::contract()),
            ContractKind::PayoutRouterV0 => {
                v.push(IPayoutRouterV0::abi::contract());
                v.push(IPausable::abi::contract());
            }
            ContractKind::PayoutRouterKYC => {
                v.push(IPayoutRouterKYC::abi::contract());
                v.push(IPausable::abi::contract());
                v.push(IERC5267::abi::contract());
            }
        }
        v
    }

    /// The contract's own interface (what its implementation must expose exactly).
    pub fn interface_abi(self) -> JsonAbi {
        match self {
            ContractKind::LucidAnchors => ILucidAnchors::abi::contract(),
            ContractKind::LucidChunkStore => ILucidChunkStore::abi::contract(),
            ContractKind::PayoutRouterV0 => IPayoutRouterV0::abi::contract(),
            ContractKind::PayoutRouterKYC => IPayoutRouterKYC::abi::contract(),
        }
    }
}

/// A readable name for revert data of the on-system contracts: a custom error of LucidAnchors,
/// LucidChunkStore or OpenZeppelin access control, `Error(string)`, or the raw data.
pub fn decode_revert(data: &[u8]) -> String {
    use alloy::sol_types::{SolError, SolInterface};
    if data.is_empty() {
        return "reverted without data".into();
    }
    if let Ok(e) = ILucidAnchors::ILucidAnchorsErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = ILucidChunkStore::ILucidChunkStoreErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = IAccessControl::IAccessControlErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = alloy::sol_types::Revert::abi_decode(data) {
        return format!("Error({:?})", e.reason);
    }
    format!("0x{}", alloy_primitives::hex::encode(data))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloy::sol_types::SolError;
    use alloy_primitives::{Address, B256};

    #[test]
    fn revert_data_is_named() {
        let e = IAccessControl::AccessControlUnauthorizedAccount {
            account: Address::repeat_byte(1),
            neededRole: B256::repeat_byte(2),
        };
        assert!(decode_revert(&e.abi_encode()).contains("AccessControlUnauthorizedAccount"));
        let e = ILucidAnchors::SlotTaken {
            slot: 7,
            owner: Address::repeat_byte(3),
        };
        assert!(decode_revert(&e.abi_encode()).contains("SlotTaken"));
        assert_eq!(decode_revert(&[]), "reverted without data");
        assert_eq!(decode_revert(&[1, 2, 3]), "0x010203");
    }
}
