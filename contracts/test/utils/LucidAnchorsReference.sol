// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "../../src/interfaces/ILucidAnchors.sol";
import {LucidHashes} from "../../src/libraries/LucidHashes.sol";

/// @notice Plain-Solidity reference of LucidAnchors (no assembly). Test-only: the differential fuzz test
///         requires the optimised contract to behave exactly like this one (storage, events, reverts).
contract LucidAnchorsReference is ILucidAnchors, AccessControl {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    uint64 public constant SLOT_DURATION = 120;
    uint64 public immutable GENESIS_TIME;

    mapping(bytes32 => bytes32) internal _digests;
    mapping(uint64 => address) internal _slotSubmitters;

    constructor(address admin, uint64 genesisTime) {
        if (admin == address(0)) revert ZeroAdmin();
        if (genesisTime > block.timestamp) revert GenesisInFuture(genesisTime);
        GENESIS_TIME = genesisTime;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function currentSlot() public view returns (uint64) {
        return uint64((block.timestamp - GENESIS_TIME) / SLOT_DURATION);
    }

    function anchorBatch(uint64 slot, SessionAnchor[] calldata sessions) external onlyRole(ANCHORER_ROLE) {
        if (sessions.length == 0) revert EmptyBatch();
        uint64 cur = currentSlot();
        if (slot > cur) revert SlotInFuture(slot, cur);
        address slotOwner = _slotSubmitters[slot];
        if (slotOwner == address(0)) _slotSubmitters[slot] = msg.sender;
        else if (slotOwner != msg.sender) revert SlotTaken(slot, slotOwner);

        for (uint256 i = 0; i < sessions.length; i++) {
            SessionAnchor calldata s = sessions[i];
            bytes32 d = LucidHashes.digestCalldata(s); // validates the ABI encoding of every field first
            if (s.sessionId == bytes32(0)) revert ZeroSessionId();
            if (s.merkleRoot == bytes32(0)) revert ZeroMerkleRoot(s.sessionId);
            if (s.owner == address(0)) revert ZeroOwner(s.sessionId);
            if (s.chunkCount == 0) revert ZeroChunkCount(s.sessionId);
            if (_digests[s.sessionId] != bytes32(0)) revert SessionAlreadyAnchored(s.sessionId);
            _digests[s.sessionId] = d;
            emit SessionRegistered(
                s.sessionId, s.owner, slot, s.manifestHash, s.merkleRoot, s.startedAt, s.chunkCount
            );
        }
        emit SlotAnchored(slot, msg.sender, uint32(sessions.length));
    }

    function anchorChunks(bytes32 sessionId, uint32 firstIndex, bytes32[] calldata chunkHashes)
        external
        onlyRole(ANCHORER_ROLE)
    {
        if (sessionId == bytes32(0)) revert ZeroSessionId();
        if (chunkHashes.length == 0) revert NoChunks();
        if (uint256(firstIndex) + chunkHashes.length - 1 > type(uint32).max) {
            revert ChunkIndexOverflow(firstIndex, chunkHashes.length);
        }
        for (uint256 i = 0; i < chunkHashes.length; i++) {
            emit ChunkAnchored(sessionId, uint32(firstIndex + i), chunkHashes[i]);
        }
    }

    function anchorDigest(bytes32 sessionId) external view returns (bytes32) {
        return _digests[sessionId];
    }

    function slotSubmitter(uint64 slot) external view returns (address) {
        return _slotSubmitters[slot];
    }

    function verifyChunk(
        SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 stored = _digests[s.sessionId];
        if (stored == bytes32(0) || stored != LucidHashes.digestCalldata(s)) return false;
        return MerkleProof.verify(proof, s.merkleRoot, LucidHashes.leaf(s.sessionId, index, chunkHash, size));
    }
}
