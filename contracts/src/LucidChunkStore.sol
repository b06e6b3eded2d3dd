// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "./interfaces/ILucidAnchors.sol";
import {ILucidChunkStore} from "./interfaces/ILucidChunkStore.sol";
import {LucidHashes} from "./libraries/LucidHashes.sol";

/// @title LucidChunkStore — which storage node holds which chunk of an anchored session (SPEC §3 v1.1).
/// @notice A storage node (`STORER_ROLE`) registers chunks it holds by proving them against the session's
///         anchor: the struct must be the anchored one (its digest equals `ANCHORS.anchorDigest`) and a Merkle
///         proof must verify the chunk's leaf against the struct's `merkleRoot`. One registration per (session,
///         index, storer). The first registration of an index fixes its `chunkHash` and `size`; later ones must
///         match (`ChunkMismatch`), so two different leaves claiming one index (possible in a tree built off
///         chain) can never both count. Only hashes, sizes and addresses go on chain.
/// @dev `replicas` is a uint16 that SATURATES at 65,535: a registration beyond that is still recorded
///      ({isStored} true, `ChunkStored` emitted) but the counter stays at its maximum, so a popular chunk
///      can never block a storer from registering. Below the cap, `replicas` equals the number of distinct
///      storers registered for the chunk.
contract LucidChunkStore is ILucidChunkStore, AccessControlDefaultAdminRules {
    bytes32 public constant STORER_ROLE = keccak256("STORER_ROLE");

    /// @notice Delay of a default-admin transfer (`beginDefaultAdminTransfer` → `acceptDefaultAdminTransfer`).
    uint48 public constant ADMIN_DELAY = 3 days;

    /// @notice Largest chunk (ciphertext bytes): 16 MiB (SPEC §2).
    uint64 public constant MAX_CHUNK_SIZE = 16 * 1024 * 1024;

    /// @inheritdoc ILucidChunkStore
    ILucidAnchors public immutable ANCHORS;

    /// @dev What the first registration of an index fixed, and how many storers hold it (one storage slot for
    ///      size and replicas).
    struct Chunk {
        bytes32 chunkHash;
        uint64 size;
        uint16 replicas;
    }

    mapping(bytes32 sessionId => mapping(uint32 index => Chunk)) internal _chunks;
    mapping(bytes32 sessionId => mapping(uint32 index => mapping(address storer => bool))) internal _stored;

    /// @param admin gets `DEFAULT_ADMIN_ROLE` (grants `STORER_ROLE`); zero reverts
    ///        `AccessControlInvalidDefaultAdmin(0)` (OpenZeppelin).
    /// @param anchors the LucidAnchors contract chunks are proven against; must not be zero.
    constructor(address admin, ILucidAnchors anchors) AccessControlDefaultAdminRules(ADMIN_DELAY, admin) {
        if (address(anchors) == address(0)) revert ZeroAddress();
        ANCHORS = anchors;
    }

    /// @notice Registers that the caller holds chunk `index` of the anchored session `s`.
    /// @dev Reverts (in this order): missing role; `SessionNotAnchored` (the struct is not the anchored one);
    ///      then as {registerChunks} for one chunk. The only external call is a view call to the immutable
    ///      anchors contract, made before any state change.
    function registerChunk(
        ILucidAnchors.SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external onlyRole(STORER_ROLE) {
        _requireAnchored(s);
        _register(s, index, chunkHash, size, proof);
    }

    /// @inheritdoc ILucidChunkStore
    /// @dev Reverts (in this order): missing role; `EmptyBatch`; `LengthMismatch`; `SessionNotAnchored` (checked
    ///      once); then per chunk in array order: `InvalidChunkSize` (0 or > 16 MiB), `IndexOutOfRange`
    ///      (index >= s.chunkCount), `AlreadyStored` (also an index repeated in the batch), `InvalidChunkProof`,
    ///      `ChunkMismatch` (a valid leaf with another hash or size than the index's first registration).
    function registerChunks(
        ILucidAnchors.SessionAnchor calldata s,
        uint32[] calldata indexes,
        bytes32[] calldata chunkHashes,
        uint64[] calldata sizes,
        bytes32[][] calldata proofs
    ) external onlyRole(STORER_ROLE) {
        uint256 n = indexes.length;
        if (n == 0) revert EmptyBatch();
        if (chunkHashes.length != n || sizes.length != n || proofs.length != n) revert LengthMismatch();
        _requireAnchored(s);
        for (uint256 i; i < n; ++i) {
            _register(s, indexes[i], chunkHashes[i], sizes[i], proofs[i]);
        }
    }

    /// @inheritdoc ILucidChunkStore
    function replicas(bytes32 sessionId, uint32 index) external view returns (uint16) {
        return _chunks[sessionId][index].replicas;
    }

    /// @inheritdoc ILucidChunkStore
    function isStored(bytes32 sessionId, uint32 index, address storer) external view returns (bool) {
        return _stored[sessionId][index][storer];
    }

    /// @inheritdoc ILucidChunkStore
    function chunkOf(bytes32 sessionId, uint32 index) external view returns (bytes32 chunkHash, uint64 size) {
        Chunk storage c = _chunks[sessionId][index];
        return (c.chunkHash, c.size);
    }

    // ---------------------------------------------------------------------------------------------------
    // internals

    /// @dev `s` must be the anchored struct of its session: nonzero stored digest equal to `digest(s)`.
    function _requireAnchored(ILucidAnchors.SessionAnchor calldata s) internal view {
        bytes32 stored = ANCHORS.anchorDigest(s.sessionId);
        if (stored == bytes32(0) || stored != LucidHashes.digestCalldata(s)) {
            revert SessionNotAnchored(s.sessionId);
        }
    }

    /// @dev One chunk of an anchored session `s` (checked by the caller).
    function _register(
        ILucidAnchors.SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) internal {
        if (size == 0 || size > MAX_CHUNK_SIZE) revert InvalidChunkSize(size);
        bytes32 sessionId = s.sessionId;
        if (index >= s.chunkCount) revert IndexOutOfRange(sessionId, index, s.chunkCount);
        if (_stored[sessionId][index][msg.sender]) revert AlreadyStored(sessionId, index, msg.sender);
        if (!MerkleProof.verifyCalldata(
                proof, s.merkleRoot, LucidHashes.leaf(sessionId, index, chunkHash, size)
            )) {
            revert InvalidChunkProof(sessionId, index);
        }
        Chunk storage c = _chunks[sessionId][index];
        uint16 r = c.replicas;
        if (r == 0) {
            c.chunkHash = chunkHash;
            c.size = size;
        } else if (c.chunkHash != chunkHash || c.size != size) {
            revert ChunkMismatch(sessionId, index, c.chunkHash, c.size);
        }
        _stored[sessionId][index][msg.sender] = true;
        if (r != type(uint16).max) {
            unchecked {
                c.replicas = r + 1;
            }
        }
        emit ChunkStored(sessionId, index, msg.sender, chunkHash, size);
    }
}
