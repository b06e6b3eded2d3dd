// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";
import {ILucidAnchors} from "../../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../../src/LucidAnchors.sol";
import {LucidChunkStore} from "../../src/LucidChunkStore.sol";
import {LucidHashes} from "../../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";

/// @notice Drives LucidAnchors and LucidChunkStore with an honest keeper and an ADVERSARIAL anchorer (it holds
///         ANCHORER_ROLE like every PoOT leader): it squats pending sessions with forged roots, front-runs parts
///         of the honest keeper's batches, claims old slots and other keepers' slots, and registers forged
///         chunks. Ghost state records what must hold; `violations` counts anything accepted that must not be.
contract AnchorsHandler is Test {
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant CHUNKS = 4;

    LucidAnchors public immutable anchors;
    LucidChunkStore public immutable store;
    address public immutable honest;
    address public immutable adversary;
    address[2] internal storers;

    /// Pending real sessions (owner-signed), by index; their signatures and chunk data.
    ILucidAnchors.SessionAnchor[] internal pending;
    bytes32[2][] internal pendingSig;
    uint256 internal nextSeed;

    bytes32[] public ids; // every id ever touched
    mapping(bytes32 => bool) internal known;
    mapping(bytes32 => bytes32) public ghostDigest; // first digest stored for an id
    mapping(bytes32 => bool) public signedDigest; // digests some owner signed for its own struct
    mapping(bytes32 => bytes32) public realDigest; // honest owner's digest of a pending id
    mapping(bytes32 => bool) public squattedWithOwnKey; // the residual attack (SPEC: ids are single-use)
    uint64[] public slots;
    mapping(uint64 => address) public ghostSlotOwner;
    mapping(uint64 => uint64) public claimedAtCurrent; // slot => currentSlot when first claimed
    bytes32[] public chunkKeys;
    mapping(bytes32 => uint16) public ghostReplicas;
    mapping(bytes32 => bytes32) public ghostChunkHash;
    mapping(bytes32 => bytes32) public keyId;
    mapping(bytes32 => uint32) public keyIndex;
    mapping(bytes32 => mapping(address => bool)) internal registered;

    uint256 public violations;
    uint256 public honestBatches;
    uint256 public squatAttempts;
    uint256 public frontRuns;

    constructor(
        LucidAnchors a,
        LucidChunkStore s,
        address honest_,
        address adversary_,
        address[2] memory storers_
    ) {
        anchors = a;
        store = s;
        honest = honest_;
        adversary = adversary_;
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

    function pendingLength() external view returns (uint256) {
        return pending.length;
    }

    function _ownerKey(uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("owner", seed))) % (N - 1) + 1;
    }

    function _chunkHash(bytes32 id, uint256 i) internal pure returns (bytes32) {
        return keccak256(abi.encode("chunk", id, i));
    }

    function _leaves(bytes32 id) internal pure returns (bytes32[] memory lv) {
        lv = new bytes32[](CHUNKS);
        for (uint256 i = 0; i < CHUNKS; i++) {
            lv[i] = LucidHashes.leaf(id, uint32(i), _chunkHash(id, i), uint64(100 + i));
        }
    }

    function _sign(uint256 key, ILucidAnchors.SessionAnchor memory s)
        internal
        view
        returns (bytes32[2] memory)
    {
        (uint8 v, bytes32 r, bytes32 ss) = vm.sign(key, anchors.sessionDigest(s));
        return [r, bytes32(uint256(ss) | (uint256(v - 27) << 255))];
    }

    function _track(bytes32 id) internal {
        if (!known[id]) {
            known[id] = true;
            ids.push(id);
        }
    }

    function _afterSuccess(uint64 slot, address who, ILucidAnchors.SessionAnchor[] memory b) internal {
        if (ghostSlotOwner[slot] == address(0)) {
            ghostSlotOwner[slot] = who;
            claimedAtCurrent[slot] = anchors.currentSlot();
            slots.push(slot);
        } else if (ghostSlotOwner[slot] != who) {
            violations++; // another submitter got into an owned slot
        }
        for (uint256 i = 0; i < b.length; i++) {
            bytes32 id = b[i].sessionId;
            _track(id);
            bytes32 d = anchors.anchorDigest(id);
            if (ghostDigest[id] == bytes32(0)) ghostDigest[id] = d;
        }
    }

    /// @dev Counts digests that went from 0 to set by this call and compares with SlotAnchored.count.
    function _send(address who, uint64 slot, ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs)
        internal
        returns (bool ok)
    {
        uint256 before;
        for (uint256 i = 0; i < b.length; i++) {
            if (anchors.anchorDigest(b[i].sessionId) == bytes32(0)) before++;
        }
        vm.recordLogs();
        vm.prank(who);
        try anchors.anchorBatch(slot, b, sigs) {
            ok = true;
        } catch {
            ok = false;
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        if (!ok) return false;
        uint256 fresh;
        for (uint256 i = 0; i < b.length; i++) {
            if (anchors.anchorDigest(b[i].sessionId) != bytes32(0)) fresh++;
        }
        // fresh counts ids set now (before: unset before the call; duplicates inside b counted once by both)
        uint32 count = abi.decode(logs[logs.length - 1].data, (uint32));
        uint256 unsetAfter = b.length - fresh;
        if (count != before - unsetAfter - _dupUnset(b)) violations++;
        _afterSuccess(slot, who, b);
    }

    /// @dev Ids repeated inside b that were unset before: each repeat was counted in `before` but anchors once.
    function _dupUnset(ILucidAnchors.SessionAnchor[] memory b) internal view returns (uint256 d) {
        for (uint256 i = 1; i < b.length; i++) {
            for (uint256 j = 0; j < i; j++) {
                if (b[i].sessionId == b[j].sessionId && ghostDigest[b[i].sessionId] == bytes32(0)) {
                    d++;
                    break;
                }
            }
        }
    }

    // ------------------------------------------------------------------ honest actors

    /// An owner records a session and submits it (signed) to the shared store: it becomes pending.
    function recordSession(uint256 seed) external {
        uint256 s = uint256(keccak256(abi.encode(seed, nextSeed++)));
        uint256 key = _ownerKey(s);
        bytes32 id = bytes32(uint256(keccak256(abi.encode("sid", s))) << 128);
        ILucidAnchors.SessionAnchor memory a = ILucidAnchors.SessionAnchor({
            sessionId: id,
            manifestHash: keccak256(abi.encode("m", s)),
            merkleRoot: MerkleBuilder.root(_leaves(id)),
            owner: vm.addr(key),
            startedAt: uint64(block.timestamp),
            chunkCount: uint32(CHUNKS)
        });
        pending.push(a);
        pendingSig.push(_sign(key, a));
        realDigest[id] = LucidHashes.digest(a);
        signedDigest[realDigest[id]] = true;
        _track(id);
    }

    /// The honest leader anchors up to 6 pending sessions in the current slot (or the one before).
    function honestAnchor(uint256 start, uint8 nRaw, bool previousSlot) external {
        uint256 np = pending.length;
        if (np == 0) return;
        uint256 n = 1 + uint256(nRaw) % 6;
        if (n > np) n = np;
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](n);
        bytes32[2][] memory sigs = new bytes32[2][](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 k = (start % np + i) % np;
            b[i] = pending[k];
            sigs[i] = pendingSig[k];
        }
        uint64 cur = anchors.currentSlot();
        uint64 slot = previousSlot ? cur - 1 : cur;
        bool ok = _send(honest, slot, b, sigs);
        if (ok) honestBatches++;
        // The batch fails only for a slot the adversary owns or for a squatted id (the residual attack).
        if (!ok) {
            bool explained = ghostSlotOwner[slot] != address(0) && ghostSlotOwner[slot] != honest;
            for (uint256 i = 0; i < n && !explained; i++) {
                explained = squattedWithOwnKey[b[i].sessionId];
            }
            if (!explained) violations++;
        }
    }

    function registerChunk(uint256 pick, uint256 chunk, uint8 storerIdx, bool forged) external {
        if (pending.length == 0) return;
        ILucidAnchors.SessionAnchor memory a = pending[pick % pending.length];
        if (anchors.anchorDigest(a.sessionId) != realDigest[a.sessionId]) return;
        uint256 i = chunk % CHUNKS;
        address who = storers[storerIdx % 2];
        bytes32 h = forged ? keccak256(abi.encode("forged", chunk)) : _chunkHash(a.sessionId, i);
        vm.prank(who);
        try store.registerChunk(
            a, uint32(i), h, uint64(100 + i), MerkleBuilder.proof(_leaves(a.sessionId), i)
        ) {
            bytes32 key = keccak256(abi.encode(a.sessionId, i));
            if (forged || registered[key][who]) violations++;
            registered[key][who] = true;
            if (ghostReplicas[key] == 0) {
                chunkKeys.push(key);
                keyId[key] = a.sessionId;
                keyIndex[key] = uint32(i);
                ghostChunkHash[key] = h;
            }
            ghostReplicas[key]++;
        } catch {}
    }

    function warp(uint16 dt) external {
        vm.warp(block.timestamp + dt % 300);
    }

    // ------------------------------------------------------------------ the adversarial anchorer

    /// Squat a pending session with a forged root, keeping its owner (the victim's signature or its own key).
    function advSquatForged(uint256 pick, bool reuseVictimSig) external {
        if (pending.length == 0) return;
        uint256 k = pick % pending.length;
        ILucidAnchors.SessionAnchor memory a = pending[k];
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = ILucidAnchors.SessionAnchor(
            a.sessionId,
            a.manifestHash,
            keccak256(abi.encode("forged", pick)),
            a.owner,
            a.startedAt,
            a.chunkCount
        );
        bytes32[2][] memory sigs = new bytes32[2][](1);
        sigs[0] = reuseVictimSig ? pendingSig[k] : _sign(uint256(keccak256("adversary key")), b[0]);
        squatAttempts++;
        if (_send(adversary, anchors.currentSlot(), b, sigs)) violations++;
    }

    /// Squat with its own key as owner (the residual, attributable attack: nothing ties an id to an owner).
    function advSquatOwnKey(uint256 pick) external {
        if (pending.length == 0) return;
        ILucidAnchors.SessionAnchor memory a = pending[pick % pending.length];
        if (anchors.anchorDigest(a.sessionId) != bytes32(0)) return;
        uint256 key = uint256(keccak256("adversary key"));
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = ILucidAnchors.SessionAnchor(
            a.sessionId,
            a.manifestHash,
            keccak256(abi.encode("squat", pick)),
            vm.addr(key),
            a.startedAt,
            a.chunkCount
        );
        bytes32[2][] memory sigs = new bytes32[2][](1);
        sigs[0] = _sign(key, b[0]);
        signedDigest[LucidHashes.digest(b[0])] = true;
        if (_send(adversary, anchors.currentSlot(), b, sigs)) squattedWithOwnKey[a.sessionId] = true;
    }

    /// Front-run one pending session (an exact, validly signed copy) into its own slot.
    function advFrontRun(uint256 pick, bool previousSlot) external {
        if (pending.length == 0) return;
        uint256 k = pick % pending.length;
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = pending[k];
        bytes32[2][] memory sigs = new bytes32[2][](1);
        sigs[0] = pendingSig[k];
        uint64 cur = anchors.currentSlot();
        if (_send(adversary, previousSlot ? cur - 1 : cur, b, sigs)) frontRuns++;
    }

    /// Claim an old slot (2 or more slots back) or a slot another keeper owns.
    function advGrabSlot(uint16 back, uint256 pick) external {
        if (pending.length == 0) return;
        uint256 k = pick % pending.length;
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = pending[k];
        bytes32[2][] memory sigs = new bytes32[2][](1);
        sigs[0] = pendingSig[k];
        uint64 cur = anchors.currentSlot();
        uint64 slot;
        if (back % 2 == 0 && slots.length > 0) {
            slot = slots[back % slots.length];
            if (ghostSlotOwner[slot] == adversary) return;
        } else {
            uint64 d = 2 + uint64(back % 50);
            if (d > cur) return;
            slot = cur - d;
        }
        if (_send(adversary, slot, b, sigs)) violations++;
    }
}
