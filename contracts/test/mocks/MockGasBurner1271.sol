// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MockGasBurner1271 — an ERC-1271 "signer" whose isValidSignature burns all the gas it is given.
contract MockGasBurner1271 {
    uint256 public calls;

    function isValidSignature(bytes32, bytes calldata) external view returns (bytes4) {
        uint256 x;
        while (gasleft() > 0) {
            x = uint256(keccak256(abi.encode(x)));
        }
        return bytes4(uint32(x));
    }
}
