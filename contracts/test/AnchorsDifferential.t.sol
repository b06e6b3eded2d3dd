// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../src/LucidAnchors.sol";
import {LucidAnchorsReference} from "./utils/LucidAnchorsReference.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Differential fuzzing: the assembly LucidAnchors must behave exactly like the plain-Solidity
///         LucidAnchorsReference — same success/revert data, same events, same storage (digests, slot owners).
contract AnchorsDifferentialTest is Test {
    uint64 internal constant GENESIS = 1_704_067_200;
    uint256 internal constant ID_POOL = 8; // small pool: ids re-used across and inside batches

    LucidAnchors internal impl;
    LucidAnchorsReference internal ref;
    address internal admin = makeAddr("admin");
    address[3] internal callers;

    function setUp() public {
        vm.warp(GENESIS + 1_000 * 120 + 7);
        impl = new LucidAnchors(admin, GENESIS);
        ref = new LucidAnchorsReference(admin, GENESIS);
        callers = [makeAddr("keeperA"), makeAddr("keeperB"), makeAddr("stranger")];
        vm.startPrank(admin);
        for (uint256 i = 0; i < 2; i++) {
            impl.grantRole(impl.ANCHORER_ROLE(), callers[i]);
            ref.grantRole(ref.ANCHORER_ROLE(), callers[i]);
        }
        vm.stopPrank();
    }

    function _id(uint256 k) internal pure returns (bytes32) {
        return bytes32(uint256(keccak256(abi.encode("pool", k % ID_POOL))) << 128);
    }

    /// @dev Random batch with occasional zero fields, zero length, pool collisions and extreme values.
    function _randomBatch(uint256 seed) internal pure returns (ILucidAnchors.SessionAnchor[] memory b) {
        uint256 n = seed % 13; // 0..12
        b = new ILucidAnchors.SessionAnchor[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 z = r % 128; // rare zero fields
            b[i] = ILucidAnchors.SessionAnchor({
                // 1 in 8 from the small pool (collisions), else a fresh id
                sessionId: z == 0
                    ? bytes32(0)
                    : ((r >> 8) % 8 == 0
                            ? _id(r >> 12)
                            : bytes32(uint256(keccak256(abi.encode("f", r))) << 128)),
                manifestHash: (r >> 16) % 8 == 0 ? bytes32(0) : keccak256(abi.encode("m", r)),
                merkleRoot: z == 1 ? bytes32(0) : keccak256(abi.encode("root", r)),
                owner: z == 2 ? address(0) : address(uint160(uint256(keccak256(abi.encode("o", r))))),
                startedAt: (r >> 24) % 16 == 0 ? type(uint64).max : uint64(r >> 64),
                chunkCount: z == 3
                    ? 0
                    : ((r >> 32) % 16 == 0 ? type(uint32).max : uint32(1 + ((r >> 96) % 64)))
            });
        }
    }

    function _callBoth(address caller, bytes memory data) internal {
        vm.recordLogs();
        vm.prank(caller);
        (bool okI, bytes memory retI) = address(impl).call(data);
        Vm.Log[] memory logsI = vm.getRecordedLogs();
        vm.prank(caller);
        (bool okR, bytes memory retR) = address(ref).call(data);
        Vm.Log[] memory logsR = vm.getRecordedLogs();

        assertEq(okI, okR, "success differs");
        assertEq(retI, retR, "return/revert data differs");
        // vm.recordLogs also records logs of calls that then reverted; the chain discards those (at every
        // call depth), so only the logs of successful calls are observable and compared. (The optimised
        // loop logs a session before its duplicate check; the reference checks first.)
        if (!okI) return;
        assertEq(logsI.length, logsR.length, "log count differs");
        for (uint256 i = 0; i < logsI.length; i++) {
            assertEq(logsI[i].emitter, address(impl));
            assertEq(logsR[i].emitter, address(ref));
            assertEq(logsI[i].topics, logsR[i].topics, "topics differ");
            assertEq(logsI[i].data, logsR[i].data, "data differs");
        }
    }

    function _assertSameState(bytes memory data) internal view {
        // every id of the batch (fresh ones included), read from the raw calldata
        uint256 n = (data.length - 100) / 192;
        for (uint256 i = 0; i < n; i++) {
            bytes32 id;
            uint256 pos = 0x20 + 100 + 192 * i;
            assembly {
                id := mload(add(data, pos))
            }
            assertEq(impl.anchorDigest(id), ref.anchorDigest(id), "digest differs");
        }
        for (uint256 k = 0; k < ID_POOL; k++) {
            assertEq(impl.anchorDigest(_id(k)), ref.anchorDigest(_id(k)), "digest differs");
        }
        assertEq(impl.anchorDigest(0), ref.anchorDigest(0));
        uint64 cur = impl.currentSlot();
        assertEq(cur, ref.currentSlot());
        for (uint64 s = cur - 4; s <= cur + 1; s++) {
            assertEq(impl.slotSubmitter(s), ref.slotSubmitter(s), "slot submitter differs");
        }
    }

    /// @param seed drives 4 consecutive operations (caller, slot, batch, dirty encodings, time warps).
    function testFuzz_anchorBatch_matchesReference(uint256 seed) public {
        for (uint256 op = 0; op < 4; op++) {
            uint256 r = uint256(keccak256(abi.encode(seed, "op", op)));
            if (r % 5 == 0) vm.warp(block.timestamp + (r >> 8) % 400);
            uint256 c = (r >> 16) % 16; // keeperA 11/16, keeperB 4/16, stranger 1/16
            address caller = callers[c < 11 ? 0 : (c < 15 ? 1 : 2)];
            uint256 sl = (r >> 24) % 16; // future slot 1/16, else cur-3 .. cur
            uint64 slot = sl == 0 ? impl.currentSlot() + 1 : impl.currentSlot() - uint64(sl % 4);
            bytes memory data = abi.encodeCall(ILucidAnchors.anchorBatch, (slot, _randomBatch(r >> 32)));
            // occasionally dirty the high bits of an owner / startedAt / chunkCount word
            uint256 n = (data.length - 100) / 192;
            if (n > 0 && (r >> 40) % 16 == 0) {
                uint256 word = [uint256(3), 4, 5][(r >> 44) % 3];
                uint256 pos = 4 + 96 + 192 * ((r >> 48) % n) + 32 * word;
                data[pos] = bytes1(uint8(1 + (r >> 56) % 255));
            }
            _callBoth(caller, data);
            _assertSameState(data);
        }
    }

    function testFuzz_anchorChunks_matchesReference(
        bytes32 sessionId,
        uint32 firstIndex,
        uint8 n,
        address caller
    ) public {
        if (uint256(uint160(caller)) % 3 != 0) caller = callers[uint160(caller) % 2];
        bytes32[] memory h = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            h[i] = keccak256(abi.encode(sessionId, i));
        }
        if (firstIndex % 4 == 0) firstIndex = type(uint32).max - firstIndex % 300;
        if (uint256(sessionId) % 7 == 0) sessionId = 0;
        _callBoth(caller, abi.encodeCall(ILucidAnchors.anchorChunks, (sessionId, firstIndex, h)));
    }

    function testFuzz_verifyChunk_matchesReference(uint256 seed, uint8 nLeaves, uint8 tamper) public {
        uint256 n = 1 + uint256(nLeaves) % 20;
        bytes32 id = _id(seed);
        MerkleBuilder.Chunk[] memory c = new MerkleBuilder.Chunk[](n);
        for (uint256 i = 0; i < n; i++) {
            c[i] = MerkleBuilder.Chunk(uint32(i), keccak256(abi.encode(seed, i)), uint64(1 + i));
        }
        bytes32[] memory lv = MerkleBuilder.leaves(id, c);
        ILucidAnchors.SessionAnchor memory s =
            ILucidAnchors.SessionAnchor(id, keccak256("m"), MerkleBuilder.root(lv), address(7), 1, uint32(n));
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = s;
        _callBoth(callers[0], abi.encodeCall(ILucidAnchors.anchorBatch, (impl.currentSlot(), b)));
        uint256 i = seed % n;
        bytes32[] memory p = MerkleBuilder.proof(lv, i);
        uint64 size = c[i].size;
        if (tamper % 4 == 1) size++;
        if (tamper % 4 == 2 && p.length > 0) p[0] = bytes32(uint256(p[0]) ^ 1);
        if (tamper % 4 == 3) s.startedAt++;
        bool vi = impl.verifyChunk(s, uint32(i), c[i].chunkHash, size, p);
        assertEq(vi, ref.verifyChunk(s, uint32(i), c[i].chunkHash, size, p));
        assertEq(vi, tamper % 4 == 0 || (tamper % 4 == 2 && p.length == 0));
    }
}
