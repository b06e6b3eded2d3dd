//! Contract bindings of the keeper, generated from the v1.1 interfaces in contracts/src/interfaces
//! (the one source of truth for the ABI), and decoding of their custom errors.
//! TODO(lucid-chain): switch to crates/lucid-chain's bindings once it is on main.

use alloy::sol_types::{SolError, SolInterface};

alloy::sol!(
    #[sol(all_derives)]
    "../contracts/src/interfaces/ILucidAnchors.sol"
);
// ILucidChunkStore.sol imports ILucidAnchors (which `sol!` cannot follow): the part the keeper
// calls, with `SessionAnchor` as the same ABI tuple.
alloy::sol! {
    #[sol(all_derives)]
    interface ILucidChunkStore {
        struct SessionAnchor { bytes32 sessionId; bytes32 manifestHash; bytes32 merkleRoot; address owner; uint64 startedAt; uint32 chunkCount; }
        error InvalidChunkProof(bytes32 sessionId, uint32 index);
        error SessionNotAnchored(bytes32 sessionId);
        error AlreadyStored(bytes32 sessionId, uint32 index, address storer);
        error ChunkMismatch(bytes32 sessionId, uint32 index, bytes32 chunkHash, uint64 size);
        error IndexOutOfRange(bytes32 sessionId, uint32 index, uint32 chunkCount);
        error InvalidChunkSize(uint64 size);
        error LengthMismatch();
        error EmptyBatch();
        error ZeroAddress();
        function registerChunk(SessionAnchor calldata s, uint32 index, bytes32 chunkHash, uint64 size, bytes32[] calldata proof) external;
        function isStored(bytes32 sessionId, uint32 index, address storer) external view returns (bool);
    }

    /// OpenZeppelin AccessControl: role checks and the events membership is derived from.
    #[sol(all_derives)]
    interface IAccessControl {
        event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender);
        event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender);
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
        function hasRole(bytes32 role, address account) external view returns (bool);
    }
}

/// A readable name for revert data: a known custom error of LucidAnchors or LucidChunkStore,
/// `Error(string)`, or the raw selector.
pub fn decode_revert(data: &[u8]) -> String {
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
    format!("0x{}", hex::encode(data))
}
