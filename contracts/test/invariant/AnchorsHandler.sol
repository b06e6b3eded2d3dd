// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {ILucidAnchors} from "../../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../../src/LucidAnchors.sol";
import {LucidChunkStore} from "../../src/LucidChunkStore.sol";
import {LucidHashes} from "../../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";

/// @notice Drives LucidAnchors + LucidChunkStore with random, partly conflicting actions and keeps ghost
///         state: the first digest of every session, the first submitter of every slot, the number of
///         distinct registrations per chunk.
contract AnchorsHandler is CommonBase, StdUtils {
    LucidAnchors public immutable anchors;
    LucidChunkStore public immutable store;
    address[3] internal keepers; // the third has no role
    address[3] internal storers; // the third has no role

    // ghost state
    bytes32[] public ids;
    mapping(bytes32 => bytes32) public ghostDigest;
    mapping(bytes32 => uint256) internal seedOf; // session content is rebuilt from (seed, chunkCount)
    mapping(bytes32 => uint32) internal countOf;
    uint64[] public slots;
    mapping(uint64 => address) public ghostSlotOwner;
    bytes32[] public chunkKeys; // keccak(id, index)
    mapping(bytes32 => bytes32) public keyId;
    mapping(bytes32 => uint32) public keyIndex;
    mapping(bytes32 => uint256) public ghostReplicas;
    mapping(bytes32 => mapping(address => bool)) internal ghostStored;

    /// Set when the contracts accept something they must reject (checked by an invariant: a `require` here
    /// would only be a discarded revert of the handler call).
    string public violation;
    uint256 public anchored;
    uint256 public registered;
    uint256 public rejected;

    constructor(
        LucidAnchors anchors_,
        LucidChunkStore store_,
        address[3] memory keepers_,
        address[3] memory storers_
    ) {
        anchors = anchors_;
        store = store_;
        keepers = keepers_;
        storers = storers_;
    }

    function idsLength() external view returns (uint256) {
        return ids.length;
    }

    function slotsLength() external view returns (uint256) {
        return slots.length;
    }

    function chunkKeysLength() external view returns (uint256) {
        return chunkKeys.length;
    }

    function _build(uint256 seed, uint256 n)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv)
    {
        bytes32 id = bytes32(uint256(keccak256(abi.encode("inv-sid", seed % 64))) << 128); // 64 ids: reuse
        c = new MerkleBuilder.Chunk[](n);
        for (uint256 i = 0; i < n; i++) {
            c[i] = MerkleBuilder.Chunk(
                uint32(i), keccak256(abi.encode(seed, i)), uint64(1 + (seed >> 8) % 1000 + i)
            );
        }
        lv = MerkleBuilder.leaves(id, c);
        s = ILucidAnchors.SessionAnchor(
            id,
            keccak256(abi.encode("m", seed)),
            MerkleBuilder.root(lv),
            address(uint160(1 + seed % 1000)),
            1,
            uint32(n)
        );
    }

    /// @notice Anchor a batch of 1..4 sessions (ids from a small space, so re-anchoring attempts happen).
    function anchorBatch(uint256 seed, uint8 nRaw, uint8 keeperIdx, uint8 slotBack) external {
        uint256 n = 1 + nRaw % 4;
        address keeper = keepers[keeperIdx % 3];
        uint64 cur = anchors.currentSlot();
        uint64 slot = cur - uint64(slotBack % 3 > cur ? 0 : slotBack % 3);
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](n);
        uint256[] memory seeds = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            seeds[i] = uint256(keccak256(abi.encode(seed, i)));
            (b[i],,) = _build(seeds[i], 1 + seeds[i] % 8);
        }
        vm.prank(keeper);
        try anchors.anchorBatch(slot, b) {
            anchored += n;
            if (keeper == keepers[2]) violation = "anchorer without role accepted";
            if (ghostSlotOwner[slot] != address(0) && ghostSlotOwner[slot] != keeper) {
                violation = "slot taken over";
            }
            if (ghostSlotOwner[slot] == address(0)) {
                ghostSlotOwner[slot] = keeper;
                slots.push(slot);
            }
            for (uint256 i = 0; i < n; i++) {
                bytes32 id = b[i].sessionId;
                if (ghostDigest[id] != bytes32(0)) violation = "re-anchor accepted";
                ghostDigest[id] = LucidHashes.digest(b[i]);
                seedOf[id] = seeds[i];
                countOf[id] = b[i].chunkCount;
                ids.push(id);
            }
        } catch {
            rejected++;
        }
    }

    /// @notice A storer registers a chunk of an anchored session (sometimes with a wrong size).
    function registerChunk(uint256 idPick, uint256 chunkPick, uint8 storerIdx, bool corrupt) external {
        if (ids.length == 0) return;
        bytes32 id = ids[idPick % ids.length];
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _build(seedOf[id], countOf[id]);
        uint256 i = chunkPick % c.length;
        address who = storers[storerIdx % 3];
        uint64 size = corrupt ? c[i].size + 1 : c[i].size;
        vm.prank(who);
        try store.registerChunk(s, c[i].index, c[i].chunkHash, size, MerkleBuilder.proof(lv, i)) {
            if (corrupt) violation = "corrupt chunk accepted";
            if (who == storers[2]) violation = "storer without role accepted";
            bytes32 key = keccak256(abi.encode(id, c[i].index));
            if (ghostStored[key][who]) violation = "double registration accepted";
            ghostStored[key][who] = true;
            if (ghostReplicas[key] == 0) {
                chunkKeys.push(key);
                keyId[key] = id;
                keyIndex[key] = c[i].index;
            }
            ghostReplicas[key]++;
            registered++;
        } catch {
            rejected++;
        }
    }

    /// @notice Live-session chunk announcements: events only, must not touch any state.
    function anchorChunks(uint256 seed, uint32 first, uint8 n) external {
        bytes32[] memory h = new bytes32[](n % 8);
        vm.prank(keepers[seed % 3]);
        try anchors.anchorChunks(bytes32(seed), first, h) {} catch {}
    }

    function warp(uint16 dt) external {
        vm.warp(block.timestamp + dt);
    }
}
