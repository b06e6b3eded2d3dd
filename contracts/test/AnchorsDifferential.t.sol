// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../src/LucidAnchors.sol";
import {LucidAnchorsReference} from "./utils/LucidAnchorsReference.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Differential fuzzing: the assembly LucidAnchors must behave exactly like the plain-Solidity
///         LucidAnchorsReference — same success/revert data, same events, same storage (digests, slot owners) —
///         for random batches (zero fields, repeated ids, identical re-anchorings), random signatures (valid,
///         another key, flipped parity, high-s twin, garbage), dirty ABI encodings and malformed ABI offsets and
///         lengths of both arrays.
contract AnchorsDifferentialTest is Test {
    uint64 internal constant GENESIS = 1_704_067_200;
    uint256 internal constant ID_POOL = 8; // small pool: ids re-used across and inside batches
    uint256 internal constant KEY_POOL = 4;
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    LucidAnchors internal impl;
    LucidAnchorsReference internal ref;
    address internal admin = makeAddr("admin");
    address[3] internal callers;

    function setUp() public {
        vm.warp(GENESIS + 1_000 * 120 + 7);
        impl = new LucidAnchors(admin, GENESIS);
        ref = new LucidAnchorsReference(admin, GENESIS, address(impl));
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

    function _key(uint256 k) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("key", k % KEY_POOL))) % (N - 1) + 1;
    }

    /// @dev A pooled session: same id and content for the same k (so identical re-anchorings happen).
    function _pooled(uint256 k) internal pure returns (ILucidAnchors.SessionAnchor memory s) {
        s = ILucidAnchors.SessionAnchor({
            sessionId: _id(k),
            manifestHash: keccak256(abi.encode("pm", k % ID_POOL, k % 2)), // two contents per id
            merkleRoot: keccak256(abi.encode("proot", k % ID_POOL)),
            owner: vm.addr(_key(k % ID_POOL)),
            startedAt: uint64(k % ID_POOL),
            chunkCount: uint32(1 + k % ID_POOL)
        });
    }

    /// @dev Random batch with occasional zero fields, pool collisions (same or other content) and extremes.
    function _randomBatch(uint256 seed)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys)
    {
        uint256 n = seed % 10; // 0..9
        b = new ILucidAnchors.SessionAnchor[](n);
        keys = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 z = r % 64; // rare zero fields
            if ((r >> 8) % 4 == 0) {
                uint256 k = (r >> 12) % (2 * ID_POOL);
                b[i] = _pooled(k);
                keys[i] = _key(k % ID_POOL);
            } else {
                keys[i] = _key(r >> 20);
                b[i] = ILucidAnchors.SessionAnchor({
                    sessionId: bytes32(uint256(keccak256(abi.encode("f", r))) << 128),
                    manifestHash: (r >> 16) % 8 == 0 ? bytes32(0) : keccak256(abi.encode("m", r)),
                    merkleRoot: keccak256(abi.encode("root", r)),
                    owner: vm.addr(keys[i]),
                    startedAt: (r >> 24) % 16 == 0 ? type(uint64).max : uint64(r >> 64),
                    chunkCount: (r >> 32) % 16 == 0 ? type(uint32).max : uint32(1 + ((r >> 96) % 64))
                });
            }
            if (z == 0) b[i].sessionId = 0;
            if (z == 1) b[i].merkleRoot = 0;
            if (z == 2) b[i].owner = address(0);
            if (z == 3) b[i].chunkCount = 0;
        }
    }

    /// @dev Signatures, mostly valid, sometimes broken in one of several ways.
    function _sigsFor(ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys, uint256 seed)
        internal
        view
        returns (bytes32[2][] memory sigs)
    {
        sigs = new bytes32[2][](b.length);
        for (uint256 i = 0; i < b.length; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, "sig", i)));
            uint256 kind = r % 24;
            uint256 key = kind == 0 ? _key(keys[i] + 1) : keys[i]; // 0: another key
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(key, impl.sessionDigest(b[i]));
            uint256 parity = v - 27;
            if (kind == 1) parity ^= 1; // flipped parity
            uint256 sv = uint256(s);
            if (kind == 2) {
                sv = N - sv; // high-s twin (its top bit is lost in the compact form)
                parity ^= 1;
            }
            sigs[i] = [rr, bytes32((sv & ((1 << 255) - 1)) | (parity << 255))];
            if (kind == 3) sigs[i] = [bytes32(r), bytes32(r >> 1)]; // garbage
            if (kind == 4) sigs[i] = [bytes32(0), bytes32(0)];
        }
    }

    function _callBoth(address caller, bytes memory data) internal returns (bool ok) {
        vm.recordLogs();
        vm.prank(caller);
        (bool okI, bytes memory retI) = address(impl).call(data);
        Vm.Log[] memory logsI = vm.getRecordedLogs();
        vm.prank(caller);
        (bool okR, bytes memory retR) = address(ref).call(data);
        Vm.Log[] memory logsR = vm.getRecordedLogs();

        assertEq(okI, okR, "success differs");
        assertEq(retI, retR, "return/revert data differs");
        // Only the logs of successful calls are observable on chain, so only those are compared.
        if (!okI) return false;
        assertEq(logsI.length, logsR.length, "log count differs");
        for (uint256 i = 0; i < logsI.length; i++) {
            assertEq(logsI[i].emitter, address(impl));
            assertEq(logsR[i].emitter, address(ref));
            assertEq(logsI[i].topics, logsR[i].topics, "topics differ");
            assertEq(logsI[i].data, logsR[i].data, "data differs");
        }
        return true;
    }

    function _assertSameState(ILucidAnchors.SessionAnchor[] memory b) internal view {
        for (uint256 i = 0; i < b.length; i++) {
            assertEq(impl.anchorDigest(b[i].sessionId), ref.anchorDigest(b[i].sessionId), "digest differs");
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

    function _setWord(bytes memory data, uint256 pos, uint256 w) internal pure {
        assembly {
            mstore(add(add(data, 0x20), pos), w)
        }
    }

    function _word(bytes memory data, uint256 pos) internal pure returns (uint256 w) {
        assembly {
            w := mload(add(add(data, 0x20), pos))
        }
    }

    /// @dev Breaks the ABI encoding of `data` = anchorBatch(slot, sessions, sigs) in one of several ways:
    ///      dirty high bits of a struct field, an offset or a length word of either array changed, extra or
    ///      missing bytes at the end.
    function _malform(bytes memory data, uint256 r) internal pure returns (bytes memory) {
        // layout: selector | slot | offS | offG | lenS | n*192 | lenG | n*64
        uint256 n = _word(data, 4 + 96);
        uint256 kind = r % 8;
        if (kind == 0 && n > 0) {
            uint256 fieldWord = [uint256(3), 4, 5][(r >> 8) % 3];
            uint256 pos = 4 + 128 + 192 * ((r >> 16) % n) + 32 * fieldWord;
            data[pos] = bytes1(uint8(1 + (r >> 24) % 255));
        } else if (kind == 1) {
            _setWord(data, 4 + 32, _word(data, 4 + 32) + 32 * (1 + (r >> 8) % 3)); // sessions offset moved
        } else if (kind == 2) {
            _setWord(data, 4 + 64, _word(data, 4 + 64) - 32 * (1 + (r >> 8) % 2)); // sigs offset moved back
        } else if (kind == 3) {
            _setWord(data, 4 + 96, n + 1 + (r >> 8) % 3); // sessions length too long
        } else if (kind == 4 && n > 1) {
            _setWord(data, 4 + 96, n - 1); // sessions length too short (LengthMismatch)
        } else if (kind == 5) {
            uint256 posG = _word(data, 4 + 64) + 4;
            _setWord(data, posG, _word(data, posG) + 1 + (r >> 8) % 2); // sigs length too long
        } else if (kind == 6) {
            _setWord(data, 4 + 64, type(uint256).max - 31); // huge offset
        } else {
            uint256 cut = (r >> 8) % 64 + 1; // truncated calldata
            if (cut < data.length - 4) {
                assembly {
                    mstore(data, sub(mload(data), cut))
                }
            }
        }
        return data;
    }

    /// @param seed drives 4 consecutive operations (caller, slot, batch, signatures, malformed encodings, time).
    function testFuzz_anchorBatch_matchesReference(uint256 seed) public {
        for (uint256 op = 0; op < 4; op++) {
            uint256 r = uint256(keccak256(abi.encode(seed, "op", op)));
            if (r % 5 == 0) vm.warp(block.timestamp + (r >> 8) % 400);
            uint256 c = (r >> 16) % 16; // keeperA 11/16, keeperB 4/16, stranger 1/16
            address caller = callers[c < 11 ? 0 : (c < 15 ? 1 : 2)];
            uint256 sl = (r >> 24) % 16; // future slot 1/16, else cur-3 .. cur
            uint64 slot = sl == 0 ? impl.currentSlot() + 1 : impl.currentSlot() - uint64(sl % 4);
            (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _randomBatch(r >> 32);
            bytes32[2][] memory sigs = _sigsFor(b, keys, r);
            if ((r >> 36) % 16 == 0 && b.length > 0) {
                // one signature more or less than sessions
                bytes32[2][] memory other = new bytes32[2][](b.length + 1 - 2 * ((r >> 37) % 2));
                for (uint256 i = 0; i < other.length && i < sigs.length; i++) {
                    other[i] = sigs[i];
                }
                sigs = other;
            }
            bytes memory data = abi.encodeCall(ILucidAnchors.anchorBatch, (slot, b, sigs));
            if ((r >> 40) % 6 == 0) data = _malform(data, r >> 44);
            _callBoth(caller, data);
            _assertSameState(b);
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

    function _anchorTree(uint256 seed, uint256 n)
        internal
        returns (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv)
    {
        bytes32 id = _id(seed);
        c = new MerkleBuilder.Chunk[](n);
        for (uint256 i = 0; i < n; i++) {
            c[i] = MerkleBuilder.Chunk(uint32(i), keccak256(abi.encode(seed, i)), uint64(1 + i));
        }
        lv = MerkleBuilder.leaves(id, c);
        uint256 key = _key(seed);
        s = ILucidAnchors.SessionAnchor(
            id, keccak256("m"), MerkleBuilder.root(lv), vm.addr(key), 1, uint32(n)
        );
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = s;
        bytes32[2][] memory sigs = new bytes32[2][](1);
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(key, impl.sessionDigest(s));
        sigs[0] = [rr, bytes32(uint256(ss) | (uint256(v - 27) << 255))];
        assertTrue(
            _callBoth(callers[0], abi.encodeCall(ILucidAnchors.anchorBatch, (impl.currentSlot(), b, sigs)))
        );
    }

    function testFuzz_verifyChunk_matchesReference(uint256 seed, uint8 nLeaves, uint8 tamper) public {
        uint256 n = 1 + uint256(nLeaves) % 20;
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _anchorTree(seed, n);
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

    function test_reference_sessionDigestMatches() public view {
        ILucidAnchors.SessionAnchor memory s = _pooled(3);
        assertEq(ref.sessionDigest(s), impl.sessionDigest(s));
        assertEq(ref.domainSeparator(), impl.domainSeparator());
    }
}
