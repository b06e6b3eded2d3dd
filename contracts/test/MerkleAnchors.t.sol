// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {LucidHashes} from "../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

/// @notice SPEC §2 trees built by MerkleBuilder, verified by OpenZeppelin and by LucidAnchors.verifyChunk;
///         leaf and digest definitions; tamper cases.
contract MerkleAnchorsTest is AnchorsFixture {
    // ------------------------------------------------------------------ hashes

    function test_leaf_matchesSpecFormula() public pure {
        bytes32 id = bytes32(uint256(0x1234) << 128);
        bytes32 inner = keccak256(
            bytes.concat(id, bytes32(uint256(3)), bytes32(uint256(0xabc)), bytes32(uint256(1 << 20)))
        );
        assertEq(LucidHashes.leaf(id, 3, bytes32(uint256(0xabc)), 1 << 20), keccak256(bytes.concat(inner)));
    }

    function testFuzz_digest_isKeccakOfAbiEncode(ILucidAnchors.SessionAnchor memory s) public view {
        bytes32 d = keccak256(
            bytes.concat(
                s.sessionId,
                s.manifestHash,
                s.merkleRoot,
                bytes32(uint256(uint160(s.owner))),
                bytes32(uint256(s.startedAt)),
                bytes32(uint256(s.chunkCount))
            )
        );
        assertEq(LucidHashes.digest(s), d);
        assertEq(this.digestCalldata(s), d);
    }

    function digestCalldata(ILucidAnchors.SessionAnchor calldata s) external pure returns (bytes32) {
        return LucidHashes.digestCalldata(s);
    }

    function testFuzz_digest_changesWithEveryField(uint256 seed, uint8 field, uint256 delta) public pure {
        (ILucidAnchors.SessionAnchor memory s,,) = _session(seed, 1);
        bytes32 d = LucidHashes.digest(s);
        delta = bound(delta, 1, type(uint32).max); // nonzero in every field width
        field %= 6;
        if (field == 0) s.sessionId = bytes32(uint256(s.sessionId) ^ delta);
        else if (field == 1) s.manifestHash = bytes32(uint256(s.manifestHash) ^ delta);
        else if (field == 2) s.merkleRoot = bytes32(uint256(s.merkleRoot) ^ delta);
        else if (field == 3) s.owner = address(uint160(s.owner) ^ uint160(delta));
        else if (field == 4) s.startedAt ^= uint64(delta);
        else s.chunkCount ^= uint32(delta);
        assertTrue(LucidHashes.digest(s) != d);
    }

    // ------------------------------------------------------------------ tree shape (SPEC §2)

    function test_tree_shapes() public pure {
        bytes32[] memory l = new bytes32[](5);
        for (uint256 i = 0; i < 5; i++) {
            l[i] = keccak256(abi.encode(i));
        }
        bytes32 h01 = MerkleBuilder.hashPair(l[0], l[1]);
        bytes32 h23 = MerkleBuilder.hashPair(l[2], l[3]);
        bytes32 h0123 = MerkleBuilder.hashPair(h01, h23);
        // 5 leaves: l4 moves up alone twice, then pairs with h0123
        assertEq(MerkleBuilder.root(l), MerkleBuilder.hashPair(h0123, l[4]));
        bytes32[] memory p4 = MerkleBuilder.proof(l, 4);
        assertEq(p4.length, 1); // the levels where l4 moved up alone are skipped
        assertEq(p4[0], h0123);
        bytes32[] memory p2 = MerkleBuilder.proof(l, 2);
        assertEq(p2.length, 3);
        assertEq(p2[0], l[3]);
        assertEq(p2[1], h01);
        assertEq(p2[2], l[4]);
        // commutative pair hash = keccak(min ‖ max)
        assertEq(MerkleBuilder.hashPair(l[1], l[0]), h01);
        bytes32 lo = l[0] < l[1] ? l[0] : l[1];
        bytes32 hi = l[0] < l[1] ? l[1] : l[0];
        assertEq(h01, keccak256(bytes.concat(lo, hi)));
        // one leaf: root = leaf, empty proof
        bytes32[] memory one = new bytes32[](1);
        one[0] = l[0];
        assertEq(MerkleBuilder.root(one), l[0]);
        assertEq(MerkleBuilder.proof(one, 0).length, 0);
    }

    // ------------------------------------------------------------------ random trees

    /// @dev Every proof of a random tree (1..64 leaves) verifies through OZ MerkleProof and verifyChunk.
    function testFuzz_merkle_everyProofVerifies(uint256 seed, uint8 nRaw) public {
        uint256 n = 1 + uint256(nRaw) % 64;
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(seed, n);
        _anchor(s, _ownerKey(seed));
        for (uint256 i = 0; i < n; i++) {
            bytes32[] memory p = MerkleBuilder.proof(lv, i);
            assertTrue(MerkleProof.verify(p, s.merkleRoot, lv[i]), "OZ rejects");
            assertTrue(
                anchors.verifyChunk(s, c[i].index, c[i].chunkHash, c[i].size, p), "verifyChunk rejects"
            );
        }
    }

    /// @dev Any single tamper (index, hash, size, a proof element, proof length, a struct field) fails.
    function testFuzz_merkle_tamperFails(uint256 seed, uint8 nRaw, uint256 pick, uint8 kind, uint256 delta)
        public
    {
        uint256 n = 1 + uint256(nRaw) % 64;
        (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv) =
            _session(seed, n);
        _anchor(s, _ownerKey(seed));
        uint256 i = pick % n;
        bytes32[] memory p = MerkleBuilder.proof(lv, i);
        uint32 index = c[i].index;
        bytes32 chunkHash = c[i].chunkHash;
        uint64 size = c[i].size;
        delta = bound(delta, 1, type(uint32).max);
        kind %= 11;
        if (kind == 0) {
            index ^= uint32(delta);
        } else if (kind == 1) {
            chunkHash = bytes32(uint256(chunkHash) ^ delta);
        } else if (kind == 2) {
            size ^= uint64(delta);
        } else if (kind == 3) {
            if (p.length == 0) return; // nothing to tamper: covered by the other kinds
            p[delta % p.length] = bytes32(uint256(p[delta % p.length]) ^ delta);
        } else if (kind == 4) {
            // drop the last proof element or add one
            bytes32[] memory q = new bytes32[](p.length == 0 ? 1 : p.length - 1);
            for (uint256 k = 0; k < q.length && k < p.length; k++) {
                q[k] = p[k];
            }
            if (p.length == 0) q[0] = bytes32(delta);
            p = q;
        } else if (kind == 5) {
            s.sessionId = bytes32(uint256(s.sessionId) ^ (delta << 128));
        } else if (kind == 6) {
            s.manifestHash = bytes32(uint256(s.manifestHash) ^ delta);
        } else if (kind == 7) {
            s.merkleRoot = bytes32(uint256(s.merkleRoot) ^ delta);
        } else if (kind == 8) {
            s.owner = address(uint160(s.owner) ^ uint160(delta));
        } else if (kind == 9) {
            s.startedAt ^= uint64(delta);
        } else {
            s.chunkCount ^= uint32(delta);
        }
        assertFalse(anchors.verifyChunk(s, index, chunkHash, size, p));
        if (kind <= 4) {
            assertFalse(
                MerkleProof.verify(p, s.merkleRoot, LucidHashes.leaf(s.sessionId, index, chunkHash, size))
            );
        }
    }
}
