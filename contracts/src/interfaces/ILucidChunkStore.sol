// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILucidAnchors} from "./ILucidAnchors.sol";

/// @title ILucidChunkStore — which storage node holds which chunk, proven against the anchor (SPEC §3).
interface ILucidChunkStore {
    event ChunkStored(
        bytes32 indexed sessionId,
        uint32 indexed index,
        address indexed storer,
        bytes32 chunkHash,
        uint64 size
    );

    error InvalidChunkProof(bytes32 sessionId, uint32 index);
    error AlreadyStored(bytes32 sessionId, uint32 index, address storer);
    error IndexOutOfRange(bytes32 sessionId, uint32 index, uint32 chunkCount);
    error InvalidChunkSize(uint64 size);
    error ZeroAddress();

    function registerChunk(
        ILucidAnchors.SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external;
    function replicas(bytes32 sessionId, uint32 index) external view returns (uint16);
    function isStored(bytes32 sessionId, uint32 index, address storer) external view returns (bool);
    function ANCHORS() external view returns (ILucidAnchors);
}
