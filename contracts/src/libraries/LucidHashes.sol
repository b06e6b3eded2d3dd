// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILucidAnchors} from "../interfaces/ILucidAnchors.sol";

/// @title LucidHashes — the hashes of SPEC §2/§3, shared by the contracts, the tests and the vectors.
library LucidHashes {
    /// @notice Merkle leaf of one chunk (SPEC §2):
    ///         `keccak256(keccak256(abi.encode(bytes32 sessionId, uint32 index, bytes32 chunkHash, uint64 size)))`.
    /// @dev The double hash keeps a leaf from ever being mistaken for an inner node (second pre-image).
    function leaf(bytes32 sessionId, uint32 index, bytes32 chunkHash, uint64 size)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(sessionId, index, chunkHash, size))));
    }

    /// @notice Anchor digest (SPEC §3): `keccak256(abi.encode(s))` of the whole struct (6 words, 192 bytes).
    function digest(ILucidAnchors.SessionAnchor memory s) internal pure returns (bytes32) {
        return keccak256(abi.encode(s));
    }

    /// @notice Same as {digest} for a struct in calldata (no copy of the struct to memory by the caller).
    function digestCalldata(ILucidAnchors.SessionAnchor calldata s) internal pure returns (bytes32) {
        return keccak256(abi.encode(s));
    }
}
