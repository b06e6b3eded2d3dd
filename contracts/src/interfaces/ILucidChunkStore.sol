// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILucidAnchors} from "./ILucidAnchors.sol";

/// @title ILucidChunkStore — which storage node holds which chunk, proven against the anchor (SPEC §3, v1.1).
/// @notice The first registration of an index fixes its `chunkHash` and `size`; later ones must match.
interface ILucidChunkStore {
    event ChunkStored(
        bytes32 indexed sessionId,
        uint32 indexed index,
        address indexed storer,
        bytes32 chunkHash,
        uint64 size
    );

    error InvalidChunkProof(bytes32 sessionId, uint32 index);
    error SessionNotAnchored(bytes32 sessionId);
    error AlreadyStored(bytes32 sessionId, uint32 index, address storer);
    error ChunkMismatch(bytes32 sessionId, uint32 index, bytes32 chunkHash, uint64 size);
    error IndexOutOfRange(bytes32 sessionId, uint32 index, uint32 chunkCount);
    error InvalidChunkSize(uint64 size);
    error LengthMismatch();
    error EmptyBatch();
    error ZeroAddress();

    function registerChunk(
        ILucidAnchors.SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external;
    /// @notice Many chunks of one session; the anchor digest is checked once.
    function registerChunks(
        ILucidAnchors.SessionAnchor calldata s,
        uint32[] calldata indexes,
        bytes32[] calldata chunkHashes,
        uint64[] calldata sizes,
        bytes32[][] calldata proofs
    ) external;
    function replicas(bytes32 sessionId, uint32 index) external view returns (uint16);
    function isStored(bytes32 sessionId, uint32 index, address storer) external view returns (bool);
    /// @notice The `(chunkHash, size)` fixed by the first registration of an index (zero when none).
    function chunkOf(bytes32 sessionId, uint32 index) external view returns (bytes32 chunkHash, uint64 size);
    function STORER_ROLE() external view returns (bytes32);
    function ANCHORS() external view returns (ILucidAnchors);
}
