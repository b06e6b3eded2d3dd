// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterBase} from "./PayoutRouterBase.sol";
import {IPayoutRouterV0} from "./interfaces/IPayoutRouterV0.sol";

/// @title PayoutRouterV0 — monthly USDT payouts to node workers without a KYC attestation (SPEC §3, §4).
/// @notice Defaults at deployment: minimum 10 USDT, at most 1,000 USDT per payout, 10,000 USDT per UTC day.
contract PayoutRouterV0 is PayoutRouterBase, IPayoutRouterV0 {
    uint256 public constant DEFAULT_MAX_PER_PAYOUT = 1_000e6;
    uint256 public constant DEFAULT_DAILY_LIMIT = 10_000e6;

    constructor(address admin, IERC20 usdt)
        PayoutRouterBase(admin, usdt, DEFAULT_MIN_PAYOUT, DEFAULT_MAX_PER_PAYOUT, DEFAULT_DAILY_LIMIT)
    {}

    /// @inheritdoc IPayoutRouterV0
    /// @notice Pays `amount` micro-USDT to `to` once for `payoutId`. DISBURSER_ROLE, not while paused.
    function disburse(bytes32 payoutId, address to, uint256 amount)
        external
        onlyRole(DISBURSER_ROLE)
        whenNotPaused
        nonReentrant
    {
        _checkAndRecord(payoutId, to, amount, currentDay());
        _requireBalance(amount);
        _transferOut(to, amount);
        emit Paid(payoutId, to, amount);
    }

    /// @inheritdoc IPayoutRouterV0
    /// @notice Pays several payouts atomically: every item obeys the same rules as `disburse` (the daily limit
    ///         counts the batch's items cumulatively), and if any item fails the whole batch reverts.
    ///         In particular an id that is already paid — or appears twice in the batch — reverts with
    ///         AlreadyPaid(id). That keeps retries safe (nothing is ever paid twice) and leaves the filtering to
    ///         the caller, who can read `paid(id)` and resubmit only the unpaid items.
    /// @dev All checks and effects for every item happen first, then one balance check for the batch total,
    ///      then the transfers and events.
    function disburseBatch(bytes32[] calldata ids, address[] calldata to, uint256[] calldata amounts)
        external
        onlyRole(DISBURSER_ROLE)
        whenNotPaused
        nonReentrant
    {
        uint256 n = ids.length;
        if (n == 0) revert EmptyBatch();
        if (to.length != n || amounts.length != n) revert LengthMismatch(n, to.length, amounts.length);
        uint64 day = currentDay();
        uint256 total = 0;
        for (uint256 i; i < n; ++i) {
            _checkAndRecord(ids[i], to[i], amounts[i], day);
            total += amounts[i];
        }
        _requireBalance(total);
        for (uint256 i; i < n; ++i) {
            _transferOut(to[i], amounts[i]);
            emit Paid(ids[i], to[i], amounts[i]);
        }
    }
}
