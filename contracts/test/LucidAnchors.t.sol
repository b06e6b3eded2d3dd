// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "forge-std/Vm.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../src/LucidAnchors.sol";
import {LucidHashes} from "../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

/// @dev Exposes the constants the assembly loop uses.
contract LucidAnchorsConstants is LucidAnchors {
    constructor() LucidAnchors(msg.sender, 0) {}

    function constants() external pure returns (uint256[9] memory) {
        return [
            _SESSION_REGISTERED_SIG,
            _ERR_ZERO_SESSION_ID,
            _ERR_ZERO_MERKLE_ROOT,
            _ERR_ZERO_OWNER,
            _ERR_ZERO_CHUNK_COUNT,
            _ERR_SESSION_ALREADY_ANCHORED,
            _ERR_INVALID_OWNER_SIGNATURE,
            _HALF_N,
            _SESSION_ANCHOR_TYPEHASH_WORD
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
    event ChunkAnchored(
        bytes32 indexed sessionId, uint32 indexed index, address indexed submitter, bytes32 chunkHash
    );

    uint64 internal constant NOW_SLOT = 1000;

    function _send(address who, uint64 slot, ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs)
        internal
    {
        vm.prank(who);
        anchors.anchorBatch(slot, b, sigs);
    }

    function _signed(uint256 seed, uint256 n)
        internal
        view
        returns (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs)
    {
        uint256[] memory keys;
        (b, keys) = _batch(seed, n, 8);
        sigs = _sigs(b, keys);
    }

    function _expectRevertSend(
        bytes memory err,
        uint64 slot,
        ILucidAnchors.SessionAnchor[] memory b,
        bytes32[2][] memory sigs
    ) internal {
        vm.expectRevert(err);
        _send(keeper, slot, b, sigs);
    }

    // ------------------------------------------------------------------ constructor, constants, views

    function test_constructor_setsGenesisAdminAndDelay() public view {
        assertEq(anchors.GENESIS_TIME(), GENESIS);
        assertEq(anchors.SLOT_DURATION(), 120);
        assertEq(anchors.ANCHORER_ROLE(), keccak256("ANCHORER_ROLE"));
        assertTrue(anchors.hasRole(anchors.DEFAULT_ADMIN_ROLE(), admin));
        assertEq(anchors.defaultAdmin(), admin);
        assertEq(anchors.defaultAdminDelay(), 3 days);
        assertFalse(anchors.hasRole(anchors.DEFAULT_ADMIN_ROLE(), address(this)));
        assertTrue(anchors.hasRole(anchors.ANCHORER_ROLE(), keeper));
    }

    function test_eip712_typeHashAndDomain() public view {
        assertEq(anchors.SESSION_ANCHOR_TYPEHASH(), ANCHOR_TYPEHASH);
        assertEq(
            anchors.domainSeparator(),
            keccak256(
                abi.encode(
                    DOMAIN_TYPEHASH,
                    keccak256("LucidAnchors"),
                    keccak256("1"),
                    block.chainid,
                    address(anchors)
                )
            )
        );
        (ILucidAnchors.SessionAnchor[] memory b,) = _batch(3, 1, 8);
        assertEq(anchors.sessionDigest(b[0]), _typedHash(address(anchors), b[0]));
    }

    function test_assemblyConstants_matchSelectors() public {
        uint256[9] memory c = new LucidAnchorsConstants().constants();
        assertEq(bytes32(c[0]), SessionRegistered.selector);
        assertEq(bytes32(c[0]), ILucidAnchors.SessionRegistered.selector);
        assertEq(bytes4(uint32(c[1])), ILucidAnchors.ZeroSessionId.selector);
        assertEq(bytes4(uint32(c[2])), ILucidAnchors.ZeroMerkleRoot.selector);
        assertEq(bytes4(uint32(c[3])), ILucidAnchors.ZeroOwner.selector);
        assertEq(bytes4(uint32(c[4])), ILucidAnchors.ZeroChunkCount.selector);
        assertEq(bytes4(uint32(c[5])), ILucidAnchors.SessionAlreadyAnchored.selector);
        assertEq(bytes4(uint32(c[6])), ILucidAnchors.InvalidOwnerSignature.selector);
        assertEq(c[7], SECP256K1_N / 2);
        assertEq(bytes32(c[8]), ANCHOR_TYPEHASH);
    }

    function test_constructor_genesisEqualsNow() public {
        LucidAnchors a = new LucidAnchors(admin, uint64(block.timestamp));
        assertEq(a.currentSlot(), 0);
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
        new LucidAnchors(address(0), GENESIS);
    }

    function test_RevertWhen_constructorGenesisInFuture() public {
        uint64 g = uint64(block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.GenesisInFuture.selector, g));
        new LucidAnchors(admin, g);
    }

    function test_currentSlot_boundaries() public {
        assertEq(anchors.currentSlot(), NOW_SLOT);
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

    // ------------------------------------------------------------------ roles and the admin lifecycle

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
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        _expectRevertSend(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, role),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_beginDefaultAdminTransfer_acceptedOnlyAfterDelay() public {
        address multisig = makeAddr("multisig");
        vm.prank(admin);
        anchors.beginDefaultAdminTransfer(multisig);
        uint48 schedule = uint48(block.timestamp + 3 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(multisig);
        anchors.acceptDefaultAdminTransfer();
        vm.warp(schedule + 1);
        vm.prank(multisig);
        anchors.acceptDefaultAdminTransfer();
        assertEq(anchors.defaultAdmin(), multisig);
        assertFalse(anchors.hasRole(anchors.DEFAULT_ADMIN_ROLE(), admin));
    }

    function test_RevertWhen_grantDefaultAdminRoleDirectly() public {
        bytes32 adminRole = anchors.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        vm.prank(admin);
        anchors.grantRole(adminRole, stranger);
    }

    // ------------------------------------------------------------------ anchorBatch

    function test_anchorBatch_storesDigestsAndEmits() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(7, 3);
        uint64 slot = NOW_SLOT - 1;
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
        _send(keeper, slot, b, sigs);

        for (uint256 i = 0; i < b.length; i++) {
            assertEq(anchors.anchorDigest(b[i].sessionId), keccak256(abi.encode(b[i])));
            assertEq(anchors.anchorDigest(b[i].sessionId), LucidHashes.digest(b[i]));
        }
        assertEq(anchors.slotSubmitter(slot), keeper);
    }

    function test_anchorBatch_exactLogs() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(8, 2);
        vm.recordLogs();
        _send(keeper, NOW_SLOT, b, sigs);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3);
        for (uint256 i = 0; i < 2; i++) {
            assertEq(logs[i].topics.length, 4);
            assertEq(logs[i].topics[0], SessionRegistered.selector);
            assertEq(logs[i].topics[1], b[i].sessionId);
            assertEq(logs[i].topics[2], bytes32(uint256(uint160(b[i].owner))));
            assertEq(logs[i].topics[3], bytes32(uint256(NOW_SLOT)));
            assertEq(
                logs[i].data, abi.encode(b[i].manifestHash, b[i].merkleRoot, b[i].startedAt, b[i].chunkCount)
            );
        }
        assertEq(logs[2].topics[0], SlotAnchored.selector);
        assertEq(logs[2].data, abi.encode(uint32(2)));
    }

    function test_anchorBatch_keepsMemoryIntact() public {
        // A call from Solidity code (this test) with live memory around it: the results must be unaffected.
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(9, 5);
        bytes32 before = keccak256(abi.encode(b, sigs));
        _send(keeper, NOW_SLOT, b, sigs);
        assertEq(keccak256(abi.encode(b, sigs)), before);
    }

    function test_anchorBatch_sameSubmitterAddsBatches() public {
        (ILucidAnchors.SessionAnchor[] memory b1, bytes32[2][] memory s1) = _signed(1, 2);
        (ILucidAnchors.SessionAnchor[] memory b2, bytes32[2][] memory s2) = _signed(2, 1);
        _send(keeper, NOW_SLOT, b1, s1);
        vm.expectEmit(true, true, true, true, address(anchors));
        emit SlotAnchored(NOW_SLOT, keeper, 1);
        _send(keeper, NOW_SLOT, b2, s2);
        assertEq(anchors.slotSubmitter(NOW_SLOT), keeper);
    }

    function test_anchorBatch_slotZeroRightAfterGenesis() public {
        LucidAnchors a = new LucidAnchors(admin, uint64(block.timestamp));
        vm.startPrank(admin);
        a.grantRole(a.ANCHORER_ROLE(), keeper);
        vm.stopPrank();
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(4, 1, 8);
        bytes32[2][] memory sigs = _oneSig(_compact(keys[0], _typedHash(address(a), b[0])));
        vm.prank(keeper);
        a.anchorBatch(0, b, sigs); // c = 0: slot 0 is the current slot, nothing is too old
        vm.warp(block.timestamp + 120); // c = 1: slot 0 is the one before
        (b, keys) = _batch(5, 1, 8);
        sigs = _oneSig(_compact(keys[0], _typedHash(address(a), b[0])));
        vm.prank(keeper);
        a.anchorBatch(0, b, sigs);
        vm.warp(block.timestamp + 120); // c = 2: slot 0 too old
        (b, keys) = _batch(6, 1, 8);
        sigs = _oneSig(_compact(keys[0], _typedHash(address(a), b[0])));
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotTooOld.selector, uint64(0), uint64(2)));
        vm.prank(keeper);
        a.anchorBatch(0, b, sigs);
    }

    function test_anchorBatch_previousSlotAccepted() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        _send(keeper, NOW_SLOT - 1, b, sigs);
        assertEq(anchors.slotSubmitter(NOW_SLOT - 1), keeper);
    }

    function test_RevertWhen_anchorBatchSlotTooOld() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.SlotTooOld.selector, NOW_SLOT - 2, NOW_SLOT),
            NOW_SLOT - 2,
            b,
            sigs
        );
        _expectRevertSend(abi.encodeWithSelector(ILucidAnchors.SlotTooOld.selector, 0, NOW_SLOT), 0, b, sigs);
    }

    function testFuzz_anchorBatch_slotWindow(uint64 slot) public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        if (slot > NOW_SLOT) {
            vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotInFuture.selector, slot, NOW_SLOT));
        } else if (slot + 1 < NOW_SLOT) {
            vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotTooOld.selector, slot, NOW_SLOT));
        }
        _send(keeper, slot, b, sigs);
    }

    function test_anchorBatch_extremeFieldValues() public {
        uint256 key = _ownerKey(77);
        ILucidAnchors.SessionAnchor memory s = ILucidAnchors.SessionAnchor({
            sessionId: bytes32(type(uint256).max),
            manifestHash: bytes32(0), // not checked: a manifest hash of zero is only implausible
            merkleRoot: bytes32(type(uint256).max),
            owner: vm.addr(key),
            startedAt: type(uint64).max,
            chunkCount: type(uint32).max
        });
        vm.expectEmit(true, true, true, true, address(anchors));
        emit SessionRegistered(s.sessionId, s.owner, NOW_SLOT, 0, s.merkleRoot, s.startedAt, s.chunkCount);
        _anchor(s, key);
        assertEq(anchors.anchorDigest(s.sessionId), LucidHashes.digest(s));
    }

    function test_RevertWhen_anchorBatchWithoutRole() public {
        bytes32 role = anchors.ANCHORER_ROLE();
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        _send(stranger, NOW_SLOT, b, sigs);
    }

    function test_RevertWhen_anchorBatchEmpty() public {
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.EmptyBatch.selector),
            NOW_SLOT,
            new ILucidAnchors.SessionAnchor[](0),
            new bytes32[2][](0)
        );
    }

    function test_RevertWhen_anchorBatchLengthMismatch() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 3);
        bytes32[2][] memory shortSigs = new bytes32[2][](2);
        shortSigs[0] = sigs[0];
        shortSigs[1] = sigs[1];
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.LengthMismatch.selector), NOW_SLOT, b, shortSigs
        );
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.LengthMismatch.selector), NOW_SLOT, b, new bytes32[2][](4)
        );
    }

    function test_RevertWhen_anchorBatchSlotInFuture() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.SlotInFuture.selector, NOW_SLOT + 1, NOW_SLOT),
            NOW_SLOT + 1,
            b,
            sigs
        );
    }

    function test_RevertWhen_anchorBatchSlotTaken() public {
        (ILucidAnchors.SessionAnchor[] memory b1, bytes32[2][] memory s1) = _signed(1, 1);
        (ILucidAnchors.SessionAnchor[] memory b2, bytes32[2][] memory s2) = _signed(2, 1);
        _send(keeper, NOW_SLOT, b1, s1);
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SlotTaken.selector, NOW_SLOT, keeper));
        _send(keeper2, NOW_SLOT, b2, s2);
    }

    function test_RevertWhen_anchorBatchZeroSessionId() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 3);
        b[2].sessionId = 0;
        _expectRevertSend(abi.encodeWithSelector(ILucidAnchors.ZeroSessionId.selector), NOW_SLOT, b, sigs);
    }

    function test_RevertWhen_anchorBatchZeroMerkleRoot() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 3);
        b[1].merkleRoot = 0;
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.ZeroMerkleRoot.selector, b[1].sessionId), NOW_SLOT, b, sigs
        );
    }

    function test_RevertWhen_anchorBatchZeroOwner() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 3);
        b[1].owner = address(0);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.ZeroOwner.selector, b[1].sessionId), NOW_SLOT, b, sigs
        );
    }

    function test_RevertWhen_anchorBatchZeroChunkCount() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 3);
        b[0].chunkCount = 0;
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.ZeroChunkCount.selector, b[0].sessionId), NOW_SLOT, b, sigs
        );
    }

    function test_RevertWhen_anchorBatchSeveralZeroFields_firstErrorWins() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        b[0].chunkCount = 0;
        b[0].owner = address(0);
        b[0].merkleRoot = 0;
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.ZeroMerkleRoot.selector, b[0].sessionId), NOW_SLOT, b, sigs
        );
        b[0].merkleRoot = bytes32(uint256(1));
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.ZeroOwner.selector, b[0].sessionId), NOW_SLOT, b, sigs
        );
    }

    /// @dev The zero checks come before everything else of a session, even for an already anchored id.
    function test_RevertWhen_anchorBatchZeroFieldOfAnchoredId() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        _send(keeper, NOW_SLOT, b, sigs);
        b[0].chunkCount = 0;
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.ZeroChunkCount.selector, b[0].sessionId), NOW_SLOT, b, sigs
        );
    }

    function test_RevertWhen_anchorBatchSessionAlreadyAnchored() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 2);
        _send(keeper, NOW_SLOT - 1, b, sigs);
        // same id, different content (validly signed by its owner): still single-use
        (ILucidAnchors.SessionAnchor[] memory b2, uint256[] memory k2) = _batch(2, 2, 8);
        b2[1].sessionId = b[0].sessionId;
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.SessionAlreadyAnchored.selector, b[0].sessionId));
        _send(keeper2, NOW_SLOT, b2, _sigs(b2, k2));
    }

    /// @dev SessionAlreadyAnchored comes before the signature check: a bad signature on a conflicting id reports
    ///      the conflict.
    function test_RevertWhen_anchorBatchConflictWithBadSignature_conflictWins() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        _send(keeper, NOW_SLOT, b, sigs);
        b[0].manifestHash = keccak256("other");
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.SessionAlreadyAnchored.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_anchorBatch_identicalReanchoringSkipped() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 3);
        _send(keeper, NOW_SLOT - 1, b, sigs);
        // the same three again (even with garbage signatures: a skipped session's signature is not checked)
        bytes32[2][] memory junk = new bytes32[2][](3);
        vm.recordLogs();
        _send(keeper2, NOW_SLOT, b, junk);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "only SlotAnchored");
        assertEq(logs[0].topics[0], SlotAnchored.selector);
        assertEq(logs[0].data, abi.encode(uint32(0)));
        assertEq(anchors.slotSubmitter(NOW_SLOT), keeper2, "an all-skipped batch still claims the slot");
    }

    function test_anchorBatch_duplicateInBatchSkipped() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 4);
        b[3] = b[1];
        sigs[3] = sigs[1];
        vm.expectEmit(true, true, true, true, address(anchors));
        emit SlotAnchored(NOW_SLOT, keeper, 3);
        _send(keeper, NOW_SLOT, b, sigs);
    }

    function test_RevertWhen_anchorBatchDuplicateIdOtherContentInBatch() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(1, 4, 8);
        b[3].sessionId = b[1].sessionId;
        bytes32[2][] memory sigs = _sigs(b, keys);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.SessionAlreadyAnchored.selector, b[1].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_RevertWhen_anchorBatchSignatureByAnotherKey() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(1, 2, 8);
        bytes32[2][] memory sigs = _sigs(b, keys);
        sigs[1] = _sig(keys[0], b[1]);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[1].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_RevertWhen_anchorBatchSignatureForOtherContract() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(1, 1, 8);
        bytes32[2][] memory sigs = _oneSig(_compact(keys[0], _typedHash(address(store), b[0])));
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_RevertWhen_anchorBatchSignatureForOtherChain() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(1, 1, 8);
        bytes32[2][] memory sigs = _sigs(b, keys);
        vm.chainId(block.chainid + 1);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    /// @dev The malleable twin (n − s, flipped parity) recovers the same address; EIP-2098/low-s refuses it.
    function test_RevertWhen_anchorBatchHighS() public {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(1, 1, 8);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[0], _typedHash(address(anchors), b[0]));
        uint256 highS = SECP256K1_N - uint256(s);
        uint256 flipped = v == 27 ? 1 : 0;
        bytes32[2][] memory sigs = _oneSig([r, bytes32(highS | (flipped << 255))]);
        // sanity: ecrecover itself accepts the twin
        assertEq(
            ecrecover(_typedHash(address(anchors), b[0]), uint8(27 + flipped), r, bytes32(highS)), b[0].owner
        );
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_RevertWhen_anchorBatchWrongParity() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        sigs[0][1] = bytes32(uint256(sigs[0][1]) ^ (1 << 255));
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_RevertWhen_anchorBatchZeroOrGarbageSignature() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 1);
        sigs[0] = [bytes32(0), bytes32(0)];
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
        sigs[0] = [bytes32(type(uint256).max), bytes32(uint256(1))]; // r >= n: ecrecover fails
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function testFuzz_anchorBatch_anyFieldChangeInvalidatesSignature(uint256 seed, uint8 field) public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(seed, 1);
        b[0] = _tamper(b[0], field % 6);
        vm.assume(b[0].sessionId != 0 && b[0].chunkCount != 0);
        _expectRevertSend(
            abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId),
            NOW_SLOT,
            b,
            sigs
        );
    }

    function test_anchorBatch_revertRollsBackWholeBatch() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 4);
        sigs[3][0] = bytes32(uint256(sigs[3][0]) ^ 1);
        vm.prank(keeper);
        (bool ok,) = address(anchors).call(abi.encodeCall(anchors.anchorBatch, (NOW_SLOT, b, sigs)));
        assertFalse(ok);
        assertEq(anchors.anchorDigest(b[0].sessionId), bytes32(0));
        assertEq(anchors.slotSubmitter(NOW_SLOT), address(0));
    }

    /// @dev Non-canonical ABI encodings (dirty high bits) revert like Solidity's decoder: empty data.
    function test_RevertWhen_anchorBatchDirtyHighBits() public {
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 2);
        bytes memory good = abi.encodeCall(anchors.anchorBatch, (NOW_SLOT, b, sigs));
        // layout: selector(4) slot(32) offset(32) offset(32) length(32) then 6 words per session
        uint256[3] memory fieldWord = [uint256(3), 4, 5]; // owner, startedAt, chunkCount
        uint256[3] memory dirt = [uint256(1) << 160, uint256(1) << 64, uint256(1) << 32];
        for (uint256 f = 0; f < 3; f++) {
            bytes memory bad = bytes.concat(good);
            uint256 pos = 4 + 32 * 4 + 192 + 32 * fieldWord[f]; // second session
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
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _signed(1, 2);
        bytes memory good = abi.encodeCall(anchors.anchorBatch, (NOW_SLOT, b, sigs));
        for (uint256 cut = 1; cut <= 64; cut += 63) {
            bytes memory bad = new bytes(good.length - 32 * cut / 32 - (cut == 64 ? 32 : 0));
            for (uint256 i = 0; i < bad.length; i++) {
                bad[i] = good[i];
            }
            vm.prank(keeper);
            (bool ok,) = address(anchors).call(bad);
            assertFalse(ok);
        }
    }

    // ------------------------------------------------------------------ anchorChunks

    function test_anchorChunks_emitsPerHashWithSubmitter() public {
        bytes32 id = _sessionId(3);
        bytes32[] memory h = new bytes32[](3);
        for (uint256 i = 0; i < 3; i++) {
            h[i] = keccak256(abi.encode(i));
            vm.expectEmit(true, true, true, true, address(anchors));
            emit ChunkAnchored(id, uint32(10 + i), keeper, h[i]);
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
        emit ChunkAnchored(_sessionId(1), type(uint32).max - 1, keeper2, 0);
        vm.expectEmit(true, true, true, true, address(anchors));
        emit ChunkAnchored(_sessionId(1), type(uint32).max, keeper2, 0);
        vm.prank(keeper2);
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
        _anchor(s, _ownerKey(5));
        for (uint256 i = 0; i < c.length; i++) {
            bytes32[] memory p = MerkleBuilder.proof(lv, i);
            assertTrue(anchors.verifyChunk(s, c[i].index, c[i].chunkHash, c[i].size, p));
        }
    }

    function test_verifyChunk_singleLeafEmptyProof() public {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(6, 1);
        assertEq(s.merkleRoot, lv[0]);
        _anchor(s, _ownerKey(6));
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
        _anchor(s, _ownerKey(5));
        bytes32[] memory p = MerkleBuilder.proof(lv, 2);
        for (uint256 f = 0; f < 6; f++) {
            ILucidAnchors.SessionAnchor memory t = _tamper(s, f);
            assertFalse(anchors.verifyChunk(t, 2, c[2].chunkHash, c[2].size, p), "tampered field verified");
        }
    }

    function test_verifyChunk_falseWhenChunkTampered() public {
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(5, 5);
        _anchor(s, _ownerKey(5));
        bytes32[] memory p = MerkleBuilder.proof(lv, 2);
        assertFalse(anchors.verifyChunk(s, 3, c[2].chunkHash, c[2].size, p));
        assertFalse(anchors.verifyChunk(s, 2, c[3].chunkHash, c[2].size, p));
        assertFalse(anchors.verifyChunk(s, 2, c[2].chunkHash, c[2].size + 1, p));
        p[0] ^= bytes32(uint256(1));
        assertFalse(anchors.verifyChunk(s, 2, c[2].chunkHash, c[2].size, p));
        assertFalse(anchors.verifyChunk(s, 2, c[2].chunkHash, c[2].size, MerkleBuilder.proof(lv, 4)));
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
