// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../src/LucidAnchors.sol";
import {LucidHashes} from "../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

/// @dev Exposes the constants the assembly loop uses.
contract LucidAnchorsConstants is LucidAnchors {
    constructor() LucidAnchors(msg.sender, 0) {}

    function constants() external pure returns (uint256[6] memory) {
        return [
            _SESSION_REGISTERED_SIG,
            _ERR_ZERO_SESSION_ID,
            _ERR_ZERO_MERKLE_ROOT,
            _ERR_ZERO_OWNER,
            _ERR_ZERO_CHUNK_COUNT,
            _ERR_SESSION_ALREADY_ANCHORED
        ];
    }
}

contract LucidAnchorsTest is AnchorsFixture {
    event SessionRegistered(
        bytes32 indexed sessionId,
        address indexed owner,
        uint64 indexed slot,
        bytes32 manifestHash,
        bytes32 merkleRoot,
        uint64 startedAt,
        uint32 chunkCount
    );
    event SlotAnchored(uint64 indexed slot, address indexed submitter, uint32 count);
    event ChunkAnchored(bytes32 indexed sessionId, uint32 indexed index, bytes32 chunkHash);

    // ------------------------------------------------------------------ constructor, constants, views

    function test_constructor_setsGenesisAndAdmin() public view {
        assertEq(anchors.GENESIS_TIME(), GENESIS);
        assertEq(anchors.SLOT_DURATION(), 120);
        assertEq(anchors.ANCHORER_ROLE(), keccak256("ANCHORER_ROLE"));
        assertTrue(anchors.hasRole(anchors.DEFAULT_ADMIN_ROLE(), admin));
        assertFalse(anchors.hasRole(anchors.DEFAULT_ADMIN_ROLE(), address(this)));
        assertTrue(anchors.hasRole(anchors.ANCHORER_ROLE(), keeper));
    }

    function test_assemblyConstants_matchSelectors() public {
        uint256[6] memory c = new LucidAnchorsConstants().constants();
        assertEq(bytes32(c[0]), SessionRegistered.selector);
        assertEq(bytes32(c[0]), ILucidAnchors.SessionRegistered.selector);
        assertEq(bytes4(uint32(c[1])), ILucidAnchors.ZeroSessionId.selector);
        assertEq(bytes4(uint32(c[2])), ILucidAnchors.ZeroMerkleRoot.selector);
        assertEq(bytes4(uint32(c[3])), ILucidAnchors.ZeroOwner.selector);
        assertEq(bytes4(uint32(c[4])), ILucidAnchors.ZeroChunkCount.selector);
        assertEq(bytes4(uint32(c[5])), ILucidAnchors.SessionAlreadyAnchored.selector);
    }

    function test_constructor_genesisEqualsNow() public {
        LucidAnchors a = new LucidAnchors(admin, uint64(block.timestamp));
        assertEq(a.currentSlot(), 0);
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(ILucidAnchors.ZeroAdmin.selector);
        new LucidAnchors(address(0), GENESIS);
    }

    function test_RevertWhen_constructorGenesisInFuture() public {
        uint64 g = uint64(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.GenesisInFuture.selector, g));
        new LucidAnchors(admin, g);
    }

    function test_currentSlot_boundaries() public {
        assertEq(anchors.currentSlot(), 1000);
        vm.warp(GENESIS);
        assertEq(anchors.currentSlot(), 0);
        vm.warp(GENESIS + 119);
        assertEq(anchors.currentSlot(), 0);
        vm.warp(GENESIS + 120);
        assertEq(anchors.currentSlot(), 1);
    }

    function testFuzz_currentSlot_matchesSpec(uint64 dt) public {
        vm.assume(dt < type(uint64).max - GENESIS);
        vm.warp(uint256(GENESIS) + dt);
        assertEq(anchors.currentSlot(), dt / 120);
    }

    function test_anchorDigest_zeroWhenNotAnchored() public view {
        assertEq(anchors.anchorDigest(_sessionId(1)), bytes32(0));
        assertEq(anchors.slotSubmitter(5), address(0));
    }

    function test_RevertWhen_grantRoleByNonAdmin() public {
        bytes32 role = anchors.ANCHORER_ROLE();
        bytes32 adminRole = anchors.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, adminRole
            )
        );
        vm.prank(keeper);
        anchors.grantRole(role, stranger);
    }

    function test_revokeRole_stopsAnchoring() public {
        bytes32 role = anchors.ANCHORER_ROLE();
        vm.prank(admin);
        anchors.revokeRole(role, keeper);
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 1, 8);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, role)
        );
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_renounceRole_adminCanRenounce() public {
        bytes32 role = anchors.DEFAULT_ADMIN_ROLE();
        vm.prank(admin);
        anchors.renounceRole(role, admin);
        assertFalse(anchors.hasRole(role, admin));
        // the keeper keeps anchoring
        _anchor(_batch(1, 1, 8)[0]);
    }

    // ------------------------------------------------------------------ anchorBatch

    function test_anchorBatch_storesDigestsAndEmits() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(7, 3, 8);
        uint64 slot = 999;
        for (uint256 i = 0; i < b.length; i++) {
            vm.expectEmit(true, true, true, true, address(anchors));
            emit SessionRegistered(
                b[i].sessionId,
                b[i].owner,
                slot,
                b[i].manifestHash,
                b[i].merkleRoot,
                b[i].startedAt,
                b[i].chunkCount
            );
        }
        vm.expectEmit(true, true, true, true, address(anchors));
        emit SlotAnchored(slot, keeper, 3);
        vm.prank(keeper);
        anchors.anchorBatch(slot, b);

        for (uint256 i = 0; i < b.length; i++) {
            assertEq(anchors.anchorDigest(b[i].sessionId), keccak256(abi.encode(b[i])));
            assertEq(anchors.anchorDigest(b[i].sessionId), LucidHashes.digest(b[i]));
        }
        assertEq(anchors.slotSubmitter(slot), keeper);
    }

    function test_anchorBatch_exactLogs() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(8, 2, 3);
        vm.recordLogs();
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3);
        for (uint256 i = 0; i < 2; i++) {
            assertEq(logs[i].topics.length, 4);
            assertEq(logs[i].topics[0], SessionRegistered.selector);
            assertEq(logs[i].topics[1], b[i].sessionId);
            assertEq(logs[i].topics[2], bytes32(uint256(uint160(b[i].owner))));
            assertEq(logs[i].topics[3], bytes32(uint256(1000)));
            assertEq(
                logs[i].data, abi.encode(b[i].manifestHash, b[i].merkleRoot, b[i].startedAt, b[i].chunkCount)
            );
        }
        assertEq(logs[2].topics[0], SlotAnchored.selector);
        assertEq(logs[2].data, abi.encode(uint32(2)));
    }

    function test_anchorBatch_sameSubmitterAddsBatches() public {
        vm.startPrank(keeper);
        anchors.anchorBatch(1000, _batch(1, 2, 8));
        vm.expectEmit(true, true, true, true, address(anchors));
        emit SlotAnchored(1000, keeper, 1);
        anchors.anchorBatch(1000, _batch(2, 1, 8));
        vm.stopPrank();
        assertEq(anchors.slotSubmitter(1000), keeper);
    }

    function test_anchorBatch_slotZeroAndCurrentSlot() public {
        vm.startPrank(keeper);
        anchors.anchorBatch(0, _batch(1, 1, 1));
        anchors.anchorBatch(anchors.currentSlot(), _batch(2, 1, 1));
        vm.stopPrank();
        assertEq(anchors.slotSubmitter(0), keeper);
        assertEq(anchors.slotSubmitter(1000), keeper);
    }

    function test_anchorBatch_extremeFieldValues() public {
        ILucidAnchors.SessionAnchor memory s = ILucidAnchors.SessionAnchor({
            sessionId: bytes32(type(uint256).max),
            manifestHash: bytes32(0), // not checked: a manifest hash of zero is only implausible
            merkleRoot: bytes32(type(uint256).max),
            owner: address(type(uint160).max),
            startedAt: type(uint64).max,
            chunkCount: type(uint32).max
        });
        vm.expectEmit(true, true, true, true, address(anchors));
        emit SessionRegistered(s.sessionId, s.owner, 1000, 0, s.merkleRoot, s.startedAt, s.chunkCount);
        _anchor(s);
        assertEq(anchors.anchorDigest(s.sessionId), LucidHashes.digest(s));
    }

    function test_RevertWhen_anchorBatchWithoutRole() public {
        bytes32 role = anchors.ANCHORER_ROLE();
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 1, 8);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchEmpty() public {
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](0);
        vm.expectRevert(ILucidAnchors.EmptyBatch.selector);
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchSlotInFuture() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 1, 8);
        vm.expectRevert(
            abi.encodeWithSelector(ILucidAnchors.SlotInFuture.selector, uint64(1001), uint64(1000))
        );
        vm.prank(keeper);
        anchors.anchorBatch(1001, b);
    }

    function test_RevertWhen_anchorBatchSlotTaken() public {
        vm.prank(keeper);
        anchors.anchorBatch(1000, _batch(1, 1, 8));
        ILucidAnchors.SessionAnchor[] memory b = _batch(2, 1, 8);
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotTaken.selector, uint64(1000), keeper));
        vm.prank(keeper2);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchZeroSessionId() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 3, 8);
        b[2].sessionId = 0;
        vm.expectRevert(ILucidAnchors.ZeroSessionId.selector);
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchZeroMerkleRoot() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 3, 8);
        b[1].merkleRoot = 0;
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.ZeroMerkleRoot.selector, b[1].sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchZeroOwner() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 3, 8);
        b[1].owner = address(0);
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.ZeroOwner.selector, b[1].sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchZeroChunkCount() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 3, 8);
        b[0].chunkCount = 0;
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.ZeroChunkCount.selector, b[0].sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchSeveralZeroFields_firstErrorWins() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 1, 0);
        b[0].owner = address(0);
        b[0].merkleRoot = 0;
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.ZeroMerkleRoot.selector, b[0].sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
        b[0].merkleRoot = bytes32(uint256(1));
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.ZeroOwner.selector, b[0].sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_RevertWhen_anchorBatchSessionAlreadyAnchored() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 2, 8);
        vm.prank(keeper);
        anchors.anchorBatch(999, b);
        // same id, different content, other slot, other keeper: still single-use
        ILucidAnchors.SessionAnchor[] memory b2 = _batch(2, 2, 8);
        b2[1].sessionId = b[0].sessionId;
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SessionAlreadyAnchored.selector, b[0].sessionId));
        vm.prank(keeper2);
        anchors.anchorBatch(1000, b2);
    }

    function test_RevertWhen_anchorBatchDuplicateInBatch() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 4, 8);
        b[3] = b[1];
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SessionAlreadyAnchored.selector, b[1].sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(1000, b);
    }

    function test_anchorBatch_revertRollsBackWholeBatch() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 4, 8);
        b[3].owner = address(0);
        vm.prank(keeper);
        (bool ok,) = address(anchors).call(abi.encodeCall(anchors.anchorBatch, (1000, b)));
        assertFalse(ok);
        assertEq(anchors.anchorDigest(b[0].sessionId), bytes32(0));
        assertEq(anchors.slotSubmitter(1000), address(0));
    }

    /// @dev Non-canonical ABI encodings (dirty high bits) revert like Solidity's decoder: empty data.
    function test_RevertWhen_anchorBatchDirtyHighBits() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 2, 8);
        bytes memory good = abi.encodeCall(anchors.anchorBatch, (1000, b));
        // layout: selector(4) slot(32) offset(32) length(32) then 6 words per session
        uint256[3] memory fieldWord = [uint256(3), 4, 5]; // owner, startedAt, chunkCount
        uint256[3] memory dirt = [uint256(1) << 160, uint256(1) << 64, uint256(1) << 32];
        for (uint256 f = 0; f < 3; f++) {
            bytes memory bad = bytes.concat(good);
            uint256 pos = 4 + 32 * 3 + 192 + 32 * fieldWord[f]; // second session
            uint256 w;
            assembly {
                w := mload(add(add(bad, 0x20), pos))
            }
            w |= dirt[f];
            assembly {
                mstore(add(add(bad, 0x20), pos), w)
            }
            vm.prank(keeper);
            (bool ok, bytes memory ret) = address(anchors).call(bad);
            assertFalse(ok);
            assertEq(ret.length, 0);
        }
        vm.prank(keeper);
        (bool ok2,) = address(anchors).call(good);
        assertTrue(ok2);
    }

    function test_RevertWhen_anchorBatchTruncatedCalldata() public {
        ILucidAnchors.SessionAnchor[] memory b = _batch(1, 2, 8);
        bytes memory good = abi.encodeCall(anchors.anchorBatch, (1000, b));
        bytes memory bad = new bytes(good.length - 32);
        for (uint256 i = 0; i < bad.length; i++) {
            bad[i] = good[i];
        }
        vm.prank(keeper);
        (bool ok,) = address(anchors).call(bad);
        assertFalse(ok);
    }

    // ------------------------------------------------------------------ anchorChunks

    function test_anchorChunks_emitsPerHash() public {
        bytes32 id = _sessionId(3);
        bytes32[] memory h = new bytes32[](3);
        for (uint256 i = 0; i < 3; i++) {
            h[i] = keccak256(abi.encode(i));
            vm.expectEmit(true, true, true, true, address(anchors));
            emit ChunkAnchored(id, uint32(10 + i), h[i]);
        }
        vm.recordLogs();
        vm.prank(keeper);
        anchors.anchorChunks(id, 10, h);
        assertEq(vm.getRecordedLogs().length, 3); // nothing else emitted; no storage written
        assertEq(anchors.anchorDigest(id), bytes32(0));
    }

    function test_anchorChunks_lastIndexAtMax() public {
        bytes32[] memory h = new bytes32[](2);
        vm.expectEmit(true, true, true, true, address(anchors));
        emit ChunkAnchored(_sessionId(1), type(uint32).max - 1, 0);
        vm.expectEmit(true, true, true, true, address(anchors));
        emit ChunkAnchored(_sessionId(1), type(uint32).max, 0);
        vm.prank(keeper);
        anchors.anchorChunks(_sessionId(1), type(uint32).max - 1, h);
    }

    function test_RevertWhen_anchorChunksWithoutRole() public {
        bytes32 role = anchors.ANCHORER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        anchors.anchorChunks(_sessionId(1), 0, new bytes32[](1));
    }

    function test_RevertWhen_anchorChunksZeroSessionId() public {
        vm.expectRevert(ILucidAnchors.ZeroSessionId.selector);
        vm.prank(keeper);
        anchors.anchorChunks(0, 0, new bytes32[](1));
    }

    function test_RevertWhen_anchorChunksEmpty() public {
        vm.expectRevert(ILucidAnchors.NoChunks.selector);
        vm.prank(keeper);
        anchors.anchorChunks(_sessionId(1), 0, new bytes32[](0));
    }

    function test_RevertWhen_anchorChunksIndexOverflow() public {
        uint32 first = type(uint32).max - 1;
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.ChunkIndexOverflow.selector, first, uint256(3)));
        vm.prank(keeper);
        anchors.anchorChunks(_sessionId(1), first, new bytes32[](3));
    }

    function testFuzz_anchorChunks_overflowBoundary(uint32 first, uint8 n) public {
        vm.assume(n > 0);
        bool fits = uint256(first) + n - 1 <= type(uint32).max;
        if (!fits) {
            vm.expectRevert(
                abi.encodeWithSelector(ILucidAnchors.ChunkIndexOverflow.selector, first, uint256(n))
            );
        }
        vm.prank(keeper);
        anchors.anchorChunks(_sessionId(1), first, new bytes32[](n));
    }

    // ------------------------------------------------------------------ verifyChunk

    function test_verifyChunk_allProofsOfOneSession() public {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(5, 8);
        _anchor(s);
        for (uint256 i = 0; i < c.length; i++) {
            bytes32[] memory p = MerkleBuilder.proof(lv, i);
            assertTrue(anchors.verifyChunk(s, c[i].index, c[i].chunkHash, c[i].size, p));
        }
    }

    function test_verifyChunk_singleLeafEmptyProof() public {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(6, 1);
        assertEq(s.merkleRoot, lv[0]);
        _anchor(s);
        assertTrue(anchors.verifyChunk(s, 0, c[0].chunkHash, c[0].size, new bytes32[](0)));
    }

    function test_verifyChunk_falseWhenNotAnchored() public view {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(5, 4);
        assertFalse(anchors.verifyChunk(s, 0, c[0].chunkHash, c[0].size, MerkleBuilder.proof(lv, 0)));
    }

    function test_verifyChunk_falseWhenStructTampered() public {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(5, 4);
        _anchor(s);
        bytes32[] memory p = MerkleBuilder.proof(lv, 2);
        for (uint256 f = 0; f < 6; f++) {
            ILucidAnchors.SessionAnchor memory t = _tamper(s, f);
            assertFalse(anchors.verifyChunk(t, 2, c[2].chunkHash, c[2].size, p), "tampered field verified");
        }
    }

    function test_verifyChunk_falseWhenChunkTampered() public {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(5, 5);
        _anchor(s);
        bytes32[] memory p = MerkleBuilder.proof(lv, 2);
        assertFalse(anchors.verifyChunk(s, 3, c[2].chunkHash, c[2].size, p));
        assertFalse(anchors.verifyChunk(s, 2, c[3].chunkHash, c[2].size, p));
        assertFalse(anchors.verifyChunk(s, 2, c[2].chunkHash, c[2].size + 1, p));
        p[0] ^= bytes32(uint256(1));
        assertFalse(anchors.verifyChunk(s, 2, c[2].chunkHash, c[2].size, p));
        // proof of another leaf
        assertFalse(anchors.verifyChunk(s, 2, c[2].chunkHash, c[2].size, MerkleBuilder.proof(lv, 4)));
    }

    /// @dev The digest check is what binds the root: a struct with another root (and a proof valid for it)
    ///      is rejected because its digest differs from the stored one.
    function test_verifyChunk_falseWithForeignRootAndValidProof() public {
        (ILucidAnchors.SessionAnchor memory s,,) = _session(5, 4);
        _anchor(s);
        (, MerkleBuilder.Chunk[] memory c2, bytes32[] memory lv2) = _session(6, 4);
        // a tree over s.sessionId with other chunks
        lv2 = MerkleBuilder.leaves(s.sessionId, c2);
        ILucidAnchors.SessionAnchor memory forged = s;
        forged.merkleRoot = MerkleBuilder.root(lv2);
        assertFalse(anchors.verifyChunk(forged, 0, c2[0].chunkHash, c2[0].size, MerkleBuilder.proof(lv2, 0)));
    }

    function _tamper(ILucidAnchors.SessionAnchor memory s, uint256 field)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor memory t)
    {
        t = ILucidAnchors.SessionAnchor(
            s.sessionId, s.manifestHash, s.merkleRoot, s.owner, s.startedAt, s.chunkCount
        );
        if (field == 0) t.sessionId = bytes32(uint256(t.sessionId) ^ (1 << 200));
        else if (field == 1) t.manifestHash = bytes32(uint256(t.manifestHash) ^ 1);
        else if (field == 2) t.merkleRoot = bytes32(uint256(t.merkleRoot) ^ 1);
        else if (field == 3) t.owner = address(uint160(t.owner) ^ 1);
        else if (field == 4) t.startedAt ^= 1;
        else t.chunkCount ^= 1;
    }
}
