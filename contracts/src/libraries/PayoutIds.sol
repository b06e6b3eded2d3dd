// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PayoutIds — the one-time identifiers of monthly payouts (SPEC §3).
/// @notice `payoutId = keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))`, where `period` is
///         `year × 12 + month − 1` of the UTC month paid for and the string is ABI-encoded as a dynamic `string`.
library PayoutIds {
    string internal constant DOMAIN = "lucid.payout.v1";

    error InvalidMonth(uint8 month);

    /// @notice The payoutId of the payout for `period` to `to`.
    function payoutIdFor(uint32 period, address to) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN, period, to));
    }

    /// @notice `year × 12 + month − 1`; `month` is 1–12.
    function periodOf(uint16 year, uint8 month) internal pure returns (uint32) {
        if (month == 0 || month > 12) revert InvalidMonth(month);
        return uint32(uint256(year) * 12 + month - 1);
    }
}
