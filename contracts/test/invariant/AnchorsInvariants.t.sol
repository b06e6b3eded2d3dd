// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {LucidAnchors} from "../../src/LucidAnchors.sol";
import {LucidChunkStore} from "../../src/LucidChunkStore.sol";
import {AnchorsHandler} from "./AnchorsHandler.sol";

/// @notice Handler-based invariants of LucidAnchors and LucidChunkStore.
contract AnchorsInvariantsTest is Test {
    LucidAnchors internal anchors;
    LucidChunkStore internal store;
    AnchorsHandler internal handler;

    function setUp() public {
        vm.warp(1_704_067_200 + 5 * 120);
        address admin = makeAddr("admin");
        anchors = new LucidAnchors(admin, 1_704_067_200);
        store = new LucidChunkStore(admin, anchors);
        address[3] memory keepers = [makeAddr("keeperA"), makeAddr("keeperB"), makeAddr("noRole")];
        address[3] memory storers = [makeAddr("storerA"), makeAddr("storerB"), makeAddr("noStorer")];
        vm.startPrank(admin);
        anchors.grantRole(anchors.ANCHORER_ROLE(), keepers[0]);
        anchors.grantRole(anchors.ANCHORER_ROLE(), keepers[1]);
        store.grantRole(store.STORER_ROLE(), storers[0]);
        store.grantRole(store.STORER_ROLE(), storers[1]);
        vm.stopPrank();
        handler = new AnchorsHandler(anchors, store, keepers, storers);
        targetContract(address(handler));
    }

    /// A session's digest never changes once set (single-use ids; re-anchoring always reverts).
    function invariant_digestNeverChangesOnceSet() public view {
        uint256 n = handler.idsLength();
        for (uint256 i = 0; i < n; i++) {
            bytes32 id = handler.ids(i);
            assertEq(anchors.anchorDigest(id), handler.ghostDigest(id));
        }
    }

    /// A slot has one submitter: the first one, forever.
    function invariant_slotHasOneSubmitter() public view {
        uint256 n = handler.slotsLength();
        for (uint256 i = 0; i < n; i++) {
            uint64 slot = handler.slots(i);
            assertEq(anchors.slotSubmitter(slot), handler.ghostSlotOwner(slot));
            assertTrue(anchors.slotSubmitter(slot) != address(0));
        }
    }

    /// ChunkStore replicas == number of distinct (storer) registrations of the chunk (far below the uint16 cap).
    function invariant_replicasEqualDistinctRegistrations() public view {
        uint256 n = handler.chunkKeysLength();
        for (uint256 i = 0; i < n; i++) {
            bytes32 key = handler.chunkKeys(i);
            assertEq(store.replicas(handler.keyId(key), handler.keyIndex(key)), handler.ghostReplicas(key));
        }
    }

    /// Nothing that must be rejected was accepted (re-anchoring, slot take-over, missing roles, bad chunks,
    /// double registrations).
    function invariant_noForbiddenActionAccepted() public view {
        assertEq(handler.violation(), "");
    }
}
