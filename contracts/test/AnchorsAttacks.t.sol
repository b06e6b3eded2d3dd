// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {ILucidChunkStore} from "../src/interfaces/ILucidChunkStore.sol";
import {LucidHashes} from "../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

/// @notice The audit's findings against LucidAnchors / LucidChunkStore (issue 7, items 1, 2, 6), each as the
///         attack it describes. Every one of these succeeded on the v1 contracts; v1.1 must stop it.
///         `keeper2` is the adversarial anchorer: it holds ANCHORER_ROLE like every PoOT leader.
contract AnchorsAttacksTest is AnchorsFixture {
    event SlotAnchored(uint64 indexed slot, address indexed submitter, uint32 count);

    uint64 internal constant NOW_SLOT = 1000;

    /// Finding 1: an anchorer takes a pending session (sessionId, owner) and anchors it first with a forged
    /// Merkle root. Its owner never signed that root: refused.
    function test_attack_squatForgedRootWithVictimOwner_reverts() public {
        (ILucidAnchors.SessionAnchor memory real,,) = _session(1, 8);
        uint256 victimKey = _ownerKey(1);
        bytes32[2] memory realSig = _sig(victimKey, real);

        ILucidAnchors.SessionAnchor memory forged = _copy(real);
        forged.merkleRoot = keccak256("forged root");
        // reusing the victim's signature over the real struct
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, real.sessionId));
        vm.prank(keeper2);
        anchors.anchorBatch(NOW_SLOT, _one(forged), _oneSig(realSig));
        // signing the forgery with the attacker's own key
        uint256 attackerKey = uint256(keccak256("attacker"));
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, real.sessionId));
        vm.prank(keeper2);
        anchors.anchorBatch(NOW_SLOT, _one(forged), _oneSig(_sig(attackerKey, forged)));

        // the real session still anchors, and its chunks verify
        vm.prank(keeper);
        anchors.anchorBatch(NOW_SLOT - 1, _one(real), _oneSig(realSig));
        assertEq(anchors.anchorDigest(real.sessionId), LucidHashes.digest(real));
    }

    /// Finding 1, second half: front-running one session of a leader's batch (an exact copy, validly signed)
    /// used to revert the leader's whole batch and its slot claim. Now the copy is skipped and the batch lands;
    /// SlotAnchored.count counts only the leader's new sessions.
    function test_attack_frontRunPartOfBatch_leaderBatchStillLands() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(2, 5, 8);
        bytes32[2][] memory sigs = _sigs(b, keys);
        // the attacker lifts session 3 (with its signature) from the mempool and anchors it in the slot before
        vm.prank(keeper2);
        anchors.anchorBatch(NOW_SLOT - 1, _one(b[3]), _oneSig(sigs[3]));

        vm.recordLogs();
        vm.prank(keeper);
        anchors.anchorBatch(NOW_SLOT, b, sigs);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 5, "4 SessionRegistered + SlotAnchored");
        assertEq(logs[4].topics[0], SlotAnchored.selector);
        assertEq(logs[4].data, abi.encode(uint32(4)));
        assertEq(anchors.slotSubmitter(NOW_SLOT), keeper);
        for (uint256 i = 0; i < 5; i++) {
            assertEq(anchors.anchorDigest(b[i].sessionId), LucidHashes.digest(b[i]));
        }
    }

    /// Finding 1: the attacker anchors the victim's id with different content, signed by its own key as owner.
    /// The owner signature does not stop this (nothing ties a sessionId to an owner on chain); SPEC §3 makes the
    /// id single-use. What v1.1 guarantees here: the squat is attributable (the SessionRegistered owner is the
    /// attacker's key, SlotAnchored names the anchorer), and the victim's chunks never verify against it.
    /// docs/decisions/anchors.md describes the residual risk and the response (revoke the anchorer; the owner
    /// re-submits under a new sessionId).
    function test_attack_squatWithOwnKeyAsOwner_isAttributable() public {
        (ILucidAnchors.SessionAnchor memory real, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(3, 4);
        uint256 attackerKey = uint256(keccak256("attacker"));
        ILucidAnchors.SessionAnchor memory squat = _copy(real);
        squat.owner = vm.addr(attackerKey);
        squat.merkleRoot = keccak256("forged root");
        vm.prank(keeper2);
        anchors.anchorBatch(NOW_SLOT, _one(squat), _oneSig(_sig(attackerKey, squat)));
        assertEq(anchors.slotSubmitter(NOW_SLOT), keeper2);

        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SessionAlreadyAnchored.selector, real.sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(NOW_SLOT - 1, _one(real), _oneSig(_sig(_ownerKey(3), real)));
        assertFalse(anchors.verifyChunk(real, 0, c[0].chunkHash, c[0].size, MerkleBuilder.proof(lv, 0)));
        assertFalse(anchors.verifyChunk(squat, 0, c[0].chunkHash, c[0].size, MerkleBuilder.proof(lv, 0)));
    }

    /// Finding 2: any never-claimed past slot could be claimed at any time, changing results long after the
    /// slot. Only the current slot and the one before are accepted now.
    function test_attack_grabOldUnclaimedSlot_reverts() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(4, 1, 8);
        bytes32[2][] memory sigs = _sigs(b, keys);
        for (uint64 back = 2; back < 1000; back *= 3) {
            vm.expectRevert(
                abi.encodeWithSelector(ILucidAnchors.SlotTooOld.selector, NOW_SLOT - back, NOW_SLOT)
            );
            vm.prank(keeper2);
            anchors.anchorBatch(NOW_SLOT - back, b, sigs);
        }
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotTooOld.selector, uint64(0), NOW_SLOT));
        vm.prank(keeper2);
        anchors.anchorBatch(0, b, sigs);
    }

    /// Finding 2: the slot of the previous 120 s belongs to whoever claimed it; a late attacker cannot take over.
    function test_attack_takeOverClaimedSlot_reverts() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(5, 2, 8);
        vm.prank(keeper);
        anchors.anchorBatch(NOW_SLOT, _one(b[0]), _oneSig(_sig(keys[0], b[0])));
        vm.warp(block.timestamp + 120);
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotTaken.selector, NOW_SLOT, keeper));
        vm.prank(keeper2);
        anchors.anchorBatch(NOW_SLOT, _one(b[1]), _oneSig(_sig(keys[1], b[1])));
    }

    /// Finding 6: a tree built off chain may hold several leaves with one index; v1 counted them all as
    /// replicas whatever their hash. The first registration now fixes the index's chunkHash and size.
    function test_attack_duplicateIndexLeaves_secondHashRefused() public {
        uint256 key = _ownerKey(6);
        bytes32 id = _sessionId(6);
        bytes32[] memory lv = new bytes32[](2);
        lv[0] = LucidHashes.leaf(id, 0, keccak256("real"), 100);
        lv[1] = LucidHashes.leaf(id, 0, keccak256("other"), 200);
        ILucidAnchors.SessionAnchor memory s =
            ILucidAnchors.SessionAnchor(id, keccak256("m"), MerkleBuilder.root(lv), vm.addr(key), 1, 2);
        _anchor(s, key);

        vm.prank(storer);
        store.registerChunk(s, 0, keccak256("real"), 100, MerkleBuilder.proof(lv, 0));
        vm.expectRevert(
            abi.encodeWithSelector(
                ILucidChunkStore.ChunkMismatch.selector, id, uint32(0), keccak256("real"), uint64(100)
            )
        );
        vm.prank(storer2);
        store.registerChunk(s, 0, keccak256("other"), 200, MerkleBuilder.proof(lv, 1));
        assertEq(store.replicas(id, 0), 1);
        (bytes32 h, uint64 size) = store.chunkOf(id, 0);
        assertEq(h, keccak256("real"));
        assertEq(size, 100);
        // the matching hash still counts
        vm.prank(storer2);
        store.registerChunk(s, 0, keccak256("real"), 100, MerkleBuilder.proof(lv, 0));
        assertEq(store.replicas(id, 0), 2);
    }

    /// Finding 7: ChunkAnchored did not name who emitted it.
    function test_attack_anonymousChunkAnnouncements_nowNameSubmitter() public {
        bytes32[] memory h = new bytes32[](1);
        vm.recordLogs();
        vm.prank(keeper2);
        anchors.anchorChunks(_sessionId(7), 0, h);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs[0].topics[3], bytes32(uint256(uint160(keeper2))));
    }

    function _copy(ILucidAnchors.SessionAnchor memory s)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor memory)
    {
        return ILucidAnchors.SessionAnchor(
            s.sessionId, s.manifestHash, s.merkleRoot, s.owner, s.startedAt, s.chunkCount
        );
    }
}
