// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

/// @notice Gas of `anchorBatch` per anchored owner-signed session — a product figure (SPEC §3 v1.1).
/// @dev A Foundry test sees only the execution part of a transaction. The rest is computed here exactly:
///      21,000 intrinsic + calldata (4 gas per zero byte, 16 per nonzero byte), with the EIP-7623 floor
///      (Prague: 21,000 + 10 per token, tokens = zero bytes + 4 × nonzero bytes) when that is higher.
///      `tools/gas-anchors.sh` measures the same thing as real transactions on anvil (receipts' gasUsed).
contract GasAnchorsTest is AnchorsFixture {
    /// Product limit: whole transaction gas / sessions, for a batch of 100 sessions of 8 chunks (issue 7).
    uint256 internal constant MAX_TX_GAS_PER_SESSION = 32_500;
    /// Regression budget for the execution part only (see docs/benchmarks.md for the figure when written).
    uint256 internal constant MAX_EXEC_GAS_PER_SESSION_100 = 29_200;

    function _calldataCost(bytes memory data) internal pure returns (uint256 standard, uint256 floor) {
        uint256 zeros;
        for (uint256 i = 0; i < data.length; i++) {
            if (data[i] == 0) zeros++;
        }
        uint256 nonzeros = data.length - zeros;
        standard = zeros * 4 + nonzeros * 16;
        floor = 21_000 + 10 * (zeros + 4 * nonzeros);
    }

    /// @return exec gas used by the call frame, txGas what the transaction's receipt would show.
    function _measure(uint256 seed, uint256 n) internal returns (uint256 exec, uint256 txGas) {
        (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys) = _batch(seed, n, 8);
        bytes memory data = abi.encodeCall(anchors.anchorBatch, (anchors.currentSlot(), b, _sigs(b, keys)));
        vm.prank(keeper);
        (bool ok,) = address(anchors).call(data);
        assertTrue(ok);
        exec = vm.lastCallGas().gasTotalUsed;
        (uint256 standard, uint256 floor) = _calldataCost(data);
        txGas = 21_000 + standard + exec;
        if (floor > txGas) txGas = floor;
    }

    function test_anchorBatch_gasPerSession() public {
        uint256[3] memory sizes = [uint256(1), 10, 100];
        for (uint256 k = 0; k < 3; k++) {
            // a fresh slot per batch: each batch also pays for claiming its slot, as in production
            vm.warp(START + k * 120);
            (uint256 exec, uint256 txGas) = _measure(1000 + k, sizes[k]);
            console.log("sessions", sizes[k]);
            console.log("  exec gas per session", exec / sizes[k]);
            console.log("  tx gas per session  ", txGas / sizes[k]);
            if (sizes[k] == 100) {
                assertLe(txGas / 100, MAX_TX_GAS_PER_SESSION, "tx gas per session over the product limit");
                assertLe(exec / 100, MAX_EXEC_GAS_PER_SESSION_100, "execution gas per session regressed");
            }
        }
    }

    /// @dev Same figure for a random batch content: zero-byte counts in hashes vary, the limit must hold.
    function testFuzz_anchorBatch_gasPerSession100(uint256 seed) public {
        (uint256 exec, uint256 txGas) = _measure(seed, 100);
        assertLe(txGas / 100, MAX_TX_GAS_PER_SESSION);
        assertLe(exec / 100, MAX_EXEC_GAS_PER_SESSION_100);
    }
}
