// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {PayoutIds} from "../src/libraries/PayoutIds.sol";

/// @notice PayoutIds against SPEC §3 (an independent byte-level encoding) and tests/vectors/payout_ids.json.
contract PayoutIdsTest is Test {
    /// @dev External wrappers so that reverts of the internal library functions can be expected.
    function periodOfExt(uint16 year, uint8 month) external pure returns (uint32) {
        return PayoutIds.periodOf(year, month);
    }

    /// @dev abi.encode("lucid.payout.v1", uint32 period, address to) written out word by word.
    function _manual(uint32 period, address to) internal pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                uint256(0x60), // offset of the dynamic string
                uint256(period),
                uint256(uint160(to)),
                uint256(15), // bytes("lucid.payout.v1").length
                // forge-lint: disable-next-line(unsafe-typecast)
                bytes32("lucid.payout.v1") // right-padded with zeros
            )
        );
    }

    function test_payoutIdFor_matchesManualEncoding() public pure {
        address to = 0x132386B89614b74523460A5d92CB973e9Ce01aAE;
        assertEq(PayoutIds.payoutIdFor(24_288, to), _manual(24_288, to));
    }

    function testFuzz_payoutIdFor_matchesManualEncoding(uint32 period, address to) public pure {
        assertEq(PayoutIds.payoutIdFor(period, to), _manual(period, to));
    }

    function testFuzz_payoutIdFor_distinctInputsDistinctIds(uint32 p1, address a1, uint32 p2, address a2)
        public
        pure
    {
        vm.assume(p1 != p2 || a1 != a2);
        assertTrue(PayoutIds.payoutIdFor(p1, a1) != PayoutIds.payoutIdFor(p2, a2));
    }

    function test_periodOf_examples() public pure {
        assertEq(PayoutIds.periodOf(2024, 1), 24_288);
        assertEq(PayoutIds.periodOf(2024, 12), 24_299);
        assertEq(PayoutIds.periodOf(2025, 1), 24_300);
        assertEq(PayoutIds.periodOf(type(uint16).max, 12), uint32(type(uint16).max) * 12 + 11);
    }

    function test_RevertWhen_periodOfMonthZero() public {
        vm.expectRevert(abi.encodeWithSelector(PayoutIds.InvalidMonth.selector, 0));
        this.periodOfExt(2024, 0);
    }

    function testFuzz_RevertWhen_periodOfMonthAbove12(uint16 year, uint8 month) public {
        month = uint8(bound(month, 13, type(uint8).max));
        vm.expectRevert(abi.encodeWithSelector(PayoutIds.InvalidMonth.selector, month));
        this.periodOfExt(year, month);
    }

    function testFuzz_periodOf_isConsecutive(uint16 year, uint8 month) public pure {
        month = uint8(bound(month, 1, 11));
        assertEq(PayoutIds.periodOf(year, month + 1), PayoutIds.periodOf(year, month) + 1);
        vm.assume(year < type(uint16).max);
        assertEq(PayoutIds.periodOf(year + 1, 1), PayoutIds.periodOf(year, 12) + 1);
    }

    function test_vectors_payoutIds() public view {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/payout_ids.json"));
        uint256 n = vm.parseJsonUint(json, ".count");
        assertGt(n, 0);
        for (uint256 i; i < n; ++i) {
            string memory p = string.concat(".payoutIds[", vm.toString(i), "]");
            uint32 period = uint32(vm.parseJsonUint(json, string.concat(p, ".period")));
            address to = vm.parseJsonAddress(json, string.concat(p, ".to"));
            if (vm.keyExistsJson(json, string.concat(p, ".year"))) {
                uint16 year = uint16(vm.parseJsonUint(json, string.concat(p, ".year")));
                uint8 month = uint8(vm.parseJsonUint(json, string.concat(p, ".month")));
                assertEq(PayoutIds.periodOf(year, month), period, "period");
            }
            assertEq(
                PayoutIds.payoutIdFor(period, to), vm.parseJsonBytes32(json, string.concat(p, ".payoutId"))
            );
        }
    }
}
