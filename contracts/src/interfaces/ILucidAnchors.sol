// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ILucidAnchors — owner-signed, single-use session anchors on the on-system chain (SPEC §3, v1.1).
/// @notice One storage slot per session: `digest = keccak256(abi.encode(SessionAnchor))`. Each session carries
///         its owner's EIP-712 signature (EIP-2098 compact `[r, vs]`, low s) over
///         `SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)`,
///         domain `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`,
///         name "LucidAnchors", version "1".
interface ILucidAnchors {
    struct SessionAnchor {
        bytes32 sessionId;
        bytes32 manifestHash;
        bytes32 merkleRoot;
        address owner;
        uint64 startedAt;
        uint32 chunkCount;
    }

    event SessionRegistered(
        bytes32 indexed sessionId,
        address indexed owner,
        uint64 indexed slot,
        bytes32 manifestHash,
        bytes32 merkleRoot,
        uint64 startedAt,
        uint32 chunkCount
    );
    /// @notice `count` = sessions newly anchored by the batch (skipped identical re-anchorings not counted).
    event SlotAnchored(uint64 indexed slot, address indexed submitter, uint32 count);
    /// @notice Advisory: no state derives from it.
    event ChunkAnchored(
        bytes32 indexed sessionId, uint32 indexed index, address indexed submitter, bytes32 chunkHash
    );

    error SessionAlreadyAnchored(bytes32 sessionId);
    error InvalidOwnerSignature(bytes32 sessionId);
    error SlotTaken(uint64 slot, address owner);
    error SlotInFuture(uint64 slot, uint64 currentSlot);
    error SlotTooOld(uint64 slot, uint64 currentSlot);
    error ZeroSessionId();
    error ZeroMerkleRoot(bytes32 sessionId);
    error ZeroOwner(bytes32 sessionId);
    error ZeroChunkCount(bytes32 sessionId);
    error EmptyBatch();
    error LengthMismatch();
    error NoChunks();
    error GenesisInFuture(uint64 genesisTime);
    /// @notice `anchorChunks` would emit a chunk index above `type(uint32).max`.
    error ChunkIndexOverflow(uint32 firstIndex, uint256 count);

    function anchorBatch(uint64 slot, SessionAnchor[] calldata sessions, bytes32[2][] calldata ownerSigs)
        external;
    function anchorChunks(bytes32 sessionId, uint32 firstIndex, bytes32[] calldata chunkHashes) external;
    function anchorDigest(bytes32 sessionId) external view returns (bytes32);
    function verifyChunk(
        SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external view returns (bool);
    /// @notice The EIP-712 hash the owner signs for `s` (what `ownerSigs[i]` must recover `s.owner` from).
    function sessionDigest(SessionAnchor calldata s) external view returns (bytes32);
    function domainSeparator() external view returns (bytes32);
    function SESSION_ANCHOR_TYPEHASH() external view returns (bytes32);
    function ANCHORER_ROLE() external view returns (bytes32);
    function slotSubmitter(uint64 slot) external view returns (address);
    function currentSlot() external view returns (uint64);
    function GENESIS_TIME() external view returns (uint64);
    function SLOT_DURATION() external view returns (uint64);
}
