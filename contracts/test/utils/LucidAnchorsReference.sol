// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "../../src/interfaces/ILucidAnchors.sol";
import {LucidHashes} from "../../src/libraries/LucidHashes.sol";

/// @notice Plain-Solidity reference of LucidAnchors v1.1 (no assembly; OpenZeppelin ECDSA for the EIP-2098
///         signatures). Test-only: the differential fuzz test requires the optimised contract to behave exactly
///         like this one (storage, events, reverts). Its EIP-712 domain names `domainContract` as the verifying
///         contract (the optimised contract's address), so one signature is valid on both.
contract LucidAnchorsReference is ILucidAnchors, AccessControl {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    bytes32 public constant SESSION_ANCHOR_TYPEHASH = keccak256(
        "SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)"
    );
    uint64 public constant SLOT_DURATION = 120;
    uint64 public immutable GENESIS_TIME;
    address public immutable DOMAIN_CONTRACT;

    mapping(bytes32 => bytes32) internal _digests;
    mapping(uint64 => address) internal _slotSubmitters;

    constructor(address admin, uint64 genesisTime, address domainContract) {
        if (genesisTime > block.timestamp) revert GenesisInFuture(genesisTime);
        GENESIS_TIME = genesisTime;
        DOMAIN_CONTRACT = domainContract;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function currentSlot() public view returns (uint64) {
        return uint64((block.timestamp - GENESIS_TIME) / SLOT_DURATION);
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256("LucidAnchors"),
                keccak256("1"),
                block.chainid,
                DOMAIN_CONTRACT
            )
        );
    }

    function sessionDigest(SessionAnchor calldata s) public view returns (bytes32) {
        return keccak256(
            abi.encodePacked("\x19\x01", domainSeparator(), keccak256(abi.encode(SESSION_ANCHOR_TYPEHASH, s)))
        );
    }

    function anchorBatch(uint64 slot, SessionAnchor[] calldata sessions, bytes32[2][] calldata ownerSigs)
        external
        onlyRole(ANCHORER_ROLE)
    {
        if (sessions.length == 0) revert EmptyBatch();
        if (ownerSigs.length != sessions.length) revert LengthMismatch();
        uint64 cur = currentSlot();
        if (slot > cur) revert SlotInFuture(slot, cur);
        if (uint256(slot) + 1 < cur) revert SlotTooOld(slot, cur);
        address slotOwner = _slotSubmitters[slot];
        if (slotOwner == address(0)) _slotSubmitters[slot] = msg.sender;
        else if (slotOwner != msg.sender) revert SlotTaken(slot, slotOwner);

        uint32 count;
        for (uint256 i = 0; i < sessions.length; i++) {
            SessionAnchor calldata s = sessions[i];
            bytes32 d = LucidHashes.digestCalldata(s); // validates the ABI encoding of every field first
            if (s.sessionId == bytes32(0)) revert ZeroSessionId();
            if (s.merkleRoot == bytes32(0)) revert ZeroMerkleRoot(s.sessionId);
            if (s.owner == address(0)) revert ZeroOwner(s.sessionId);
            if (s.chunkCount == 0) revert ZeroChunkCount(s.sessionId);
            bytes32 stored = _digests[s.sessionId];
            if (stored == d) continue;
            if (stored != bytes32(0)) revert SessionAlreadyAnchored(s.sessionId);
            (address rec, ECDSA.RecoverError err,) =
                ECDSA.tryRecover(sessionDigest(s), ownerSigs[i][0], ownerSigs[i][1]);
            if (err != ECDSA.RecoverError.NoError || rec != s.owner) {
                revert InvalidOwnerSignature(s.sessionId);
            }
            _digests[s.sessionId] = d;
            count++;
            emit SessionRegistered(
                s.sessionId, s.owner, slot, s.manifestHash, s.merkleRoot, s.startedAt, s.chunkCount
            );
        }
        emit SlotAnchored(slot, msg.sender, count);
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
            emit ChunkAnchored(sessionId, uint32(firstIndex + i), msg.sender, chunkHashes[i]);
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
