// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {LucidHashes} from "../../src/libraries/LucidHashes.sol";

/// @notice SPEC §2 Merkle trees, written independently of OpenZeppelin's verifier:
///         level 0 = leaves in index order; parent = keccak256(min(a,b) ‖ max(a,b)); an odd last node moves
///         up unchanged; the root of one leaf is the leaf; the proof of leaf i is the siblings from the
///         bottom up, skipping levels where the node moved up alone.
library MerkleBuilder {
    struct Chunk {
        uint32 index;
        bytes32 chunkHash;
        uint64 size;
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @notice Leaves of chunks 0..n-1 (chunks[i].index must be i).
    function leaves(bytes32 sessionId, Chunk[] memory chunks) internal pure returns (bytes32[] memory out) {
        out = new bytes32[](chunks.length);
        for (uint256 i = 0; i < chunks.length; i++) {
            require(chunks[i].index == i, "MerkleBuilder: chunks not in index order");
            out[i] = LucidHashes.leaf(sessionId, chunks[i].index, chunks[i].chunkHash, chunks[i].size);
        }
    }

    function root(bytes32[] memory level) internal pure returns (bytes32) {
        require(level.length > 0, "MerkleBuilder: no leaves");
        while (level.length > 1) level = _up(level);
        return level[0];
    }

    function proof(bytes32[] memory level, uint256 i) internal pure returns (bytes32[] memory) {
        require(i < level.length, "MerkleBuilder: index out of range");
        bytes32[] memory buf = new bytes32[](64);
        uint256 len = 0;
        while (level.length > 1) {
            uint256 sib = i ^ 1;
            if (sib < level.length) buf[len++] = level[sib]; // else: i is the odd last node, moves up alone
            level = _up(level);
            i >>= 1;
        }
        bytes32[] memory p = new bytes32[](len);
        for (uint256 k = 0; k < len; k++) {
            p[k] = buf[k];
        }
        return p;
    }

    function _up(bytes32[] memory level) private pure returns (bytes32[] memory next) {
        uint256 n = level.length;
        next = new bytes32[]((n + 1) / 2);
        for (uint256 k = 0; k + 1 < n; k += 2) {
            next[k / 2] = hashPair(level[k], level[k + 1]);
        }
        if (n % 2 == 1) next[n / 2] = level[n - 1];
    }
}
