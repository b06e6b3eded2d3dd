// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {LucidAnchors} from "../../src/LucidAnchors.sol";
import {LucidChunkStore} from "../../src/LucidChunkStore.sol";
import {AnchorsHandler} from "./AnchorsHandler.sol";

/// @notice Handler-based invariants of LucidAnchors and LucidChunkStore under an adversarial anchorer.
contract AnchorsInvariantsTest is Test {
    LucidAnchors internal anchors;
    LucidChunkStore internal store;
    AnchorsHandler internal handler;

    function setUp() public {
        vm.warp(1_704_067_200 + 5 * 120);
        address admin = makeAddr("admin");
        anchors = new LucidAnchors(admin, 1_704_067_200);
        store = new LucidChunkStore(admin, anchors);
        address honest = makeAddr("honestKeeper");
        address adversary = makeAddr("adversaryKeeper");
        address[2] memory storers = [makeAddr("storerA"), makeAddr("storerB")];
        vm.startPrank(admin);
        anchors.grantRole(anchors.ANCHORER_ROLE(), honest);
        anchors.grantRole(anchors.ANCHORER_ROLE(), adversary);
        store.grantRole(store.STORER_ROLE(), storers[0]);
        store.grantRole(store.STORER_ROLE(), storers[1]);
        vm.stopPrank();
        handler = new AnchorsHandler(anchors, store, honest, adversary, storers);
        handler.recordSession(1);
        targetContract(address(handler));
    }

    /// A session's digest never changes once set.
    function invariant_digestNeverChangesOnceSet() public view {
        uint256 n = handler.idsLength();
        for (uint256 i = 0; i < n; i++) {
            bytes32 id = handler.ids(i);
            bytes32 g = handler.ghostDigest(id);
            if (g != bytes32(0)) assertEq(anchors.anchorDigest(id), g);
        }
    }

    /// Every anchored session is content its owner signed: a squatter never anchors a forged root under the
    /// victim's owner; an id holds the real owner's digest unless the adversary squatted it with its own key.
    function invariant_onlyOwnerSignedContentAnchored() public view {
        uint256 n = handler.idsLength();
        for (uint256 i = 0; i < n; i++) {
            bytes32 id = handler.ids(i);
            bytes32 d = anchors.anchorDigest(id);
            if (d == bytes32(0)) continue;
            assertTrue(handler.signedDigest(d), "anchored content nobody signed");
            if (!handler.squattedWithOwnKey(id)) {
                assertEq(d, handler.realDigest(id), "real session displaced");
            }
        }
    }

    /// A slot has one submitter, the first one, and was claimed while it was the current or the previous slot.
    function invariant_slotsOwnedOnceAndClaimedInWindow() public view {
        uint256 n = handler.slotsLength();
        for (uint256 i = 0; i < n; i++) {
            uint64 slot = handler.slots(i);
            assertEq(anchors.slotSubmitter(slot), handler.ghostSlotOwner(slot));
            assertLe(handler.claimedAtCurrent(slot), slot + 1, "an old slot was claimed");
        }
    }

    /// ChunkStore: replicas == distinct storers of the index, and its chunkHash is the first registration's.
    function invariant_replicasAndFixedChunkHash() public view {
        uint256 n = handler.chunkKeysLength();
        for (uint256 i = 0; i < n; i++) {
            bytes32 key = handler.chunkKeys(i);
            bytes32 id = handler.keyId(key);
            uint32 index = handler.keyIndex(key);
            assertEq(store.replicas(id, index), handler.ghostReplicas(key));
            (bytes32 h,) = store.chunkOf(id, index);
            assertEq(h, handler.ghostChunkHash(key));
        }
    }

    /// Nothing that must be rejected was accepted; SlotAnchored.count always equals the sessions newly anchored;
    /// an honest batch only fails for a slot the adversary owns or an id it squatted with its own key.
    function invariant_noForbiddenActionAccepted() public view {
        assertEq(handler.violations(), 0);
    }
}
