// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ILucidAnchors} from "./interfaces/ILucidAnchors.sol";
import {ILucidChunkStore} from "./interfaces/ILucidChunkStore.sol";

/// @title LucidChunkStore — which storage node holds which chunk of an anchored session (SPEC §3).
/// @notice A storage node (`STORER_ROLE`) registers a chunk it holds by proving it against the session's
///         anchor through {ILucidAnchors.verifyChunk}. One registration per (session, index, storer).
///         Only hashes, sizes and addresses go on chain: no keys, no plaintext metadata.
/// @dev `replicas` is a uint16 that SATURATES at 65,535: a registration beyond that is still recorded
///      ({isStored} true, `ChunkStored` emitted) but the counter stays at its maximum, so a popular chunk
///      can never block a storer from registering. Below the cap, `replicas` equals the number of distinct
///      storers registered for the chunk.
contract LucidChunkStore is ILucidChunkStore, AccessControl {
    bytes32 public constant STORER_ROLE = keccak256("STORER_ROLE");

    /// @notice Largest chunk (ciphertext bytes): 16 MiB (SPEC §2).
    uint64 public constant MAX_CHUNK_SIZE = 16 * 1024 * 1024;

    /// @inheritdoc ILucidChunkStore
    ILucidAnchors public immutable ANCHORS;

    mapping(bytes32 sessionId => mapping(uint32 index => uint16 count)) internal _replicas;
    mapping(bytes32 sessionId => mapping(uint32 index => mapping(address storer => bool))) internal _stored;

    /// @param admin gets `DEFAULT_ADMIN_ROLE` (grants `STORER_ROLE`); must not be zero.
    /// @param anchors the LucidAnchors contract chunks are proven against; must not be zero.
    constructor(address admin, ILucidAnchors anchors) {
        if (admin == address(0) || address(anchors) == address(0)) revert ZeroAddress();
        ANCHORS = anchors;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Registers that the caller holds chunk `index` of the anchored session `s`.
    /// @dev Reverts (in this order): missing role; `InvalidChunkSize` (size 0 or > 16 MiB);
    ///      `IndexOutOfRange` (index >= s.chunkCount); `AlreadyStored`; `InvalidChunkProof` (struct not the
    ///      anchored one, or the Merkle proof fails). The only external call is a view call to the
    ///      immutable anchors contract, made before any state change.
    function registerChunk(
        ILucidAnchors.SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external onlyRole(STORER_ROLE) {
        if (size == 0 || size > MAX_CHUNK_SIZE) revert InvalidChunkSize(size);
        bytes32 sessionId = s.sessionId;
        if (index >= s.chunkCount) revert IndexOutOfRange(sessionId, index, s.chunkCount);
        if (_stored[sessionId][index][msg.sender]) revert AlreadyStored(sessionId, index, msg.sender);
        if (!ANCHORS.verifyChunk(s, index, chunkHash, size, proof)) {
            revert InvalidChunkProof(sessionId, index);
        }

        _stored[sessionId][index][msg.sender] = true;
        uint16 r = _replicas[sessionId][index];
        if (r != type(uint16).max) {
            unchecked {
                _replicas[sessionId][index] = r + 1;
            }
        }
        emit ChunkStored(sessionId, index, msg.sender, chunkHash, size);
    }

    /// @inheritdoc ILucidChunkStore
    function replicas(bytes32 sessionId, uint32 index) external view returns (uint16) {
        return _replicas[sessionId][index];
    }

    /// @inheritdoc ILucidChunkStore
    function isStored(bytes32 sessionId, uint32 index, address storer) external view returns (bool) {
        return _stored[sessionId][index][storer];
    }
}
