// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterBase} from "./PayoutRouterBase.sol";
import {IPayoutRouterV0} from "./interfaces/IPayoutRouterV0.sol";

/// @title PayoutRouterV0 — monthly USDT payouts of treasury-approved plans to node workers without a KYC
///        attestation (SPEC §3, §4). Anyone may execute a planned payout.
/// @notice Defaults at deployment: minimum 10 USDT, at most 1,000 USDT per payout, 10,000 USDT per UTC day.
contract PayoutRouterV0 is PayoutRouterBase, IPayoutRouterV0 {
    uint256 public constant DEFAULT_MAX_PER_PAYOUT = 1_000e6;
    uint256 public constant DEFAULT_DAILY_LIMIT = 10_000e6;

    constructor(address admin, IERC20 usdt)
        PayoutRouterBase(admin, usdt, DEFAULT_MIN_PAYOUT, DEFAULT_MAX_PER_PAYOUT, DEFAULT_DAILY_LIMIT)
    {}

    /// @inheritdoc IPayoutRouterV0
    /// @notice Pays the planned payout `(period, to, amount)`, proven by `proof` against the period's root. Anyone,
    ///         not while paused.
    /// @dev Reverts (in this order): `EnforcedPause`; `ZeroRecipient`; `NoRoot`; `InvalidProof`; `AlreadyPaid`;
    ///      `BelowMinimum`; `AboveMaximum`; `DailyLimitExceeded`; `PeriodTotalExceeded`; `InsufficientBalance`;
    ///      a token revert; `TransferAmountMismatch`.
    function disburse(uint32 period, address to, uint256 amount, bytes32[] calldata proof)
        external
        whenNotPaused
        nonReentrant
    {
        bytes32 id = _checkPlanned(period, to, amount, proof);
        if (paid[id]) revert AlreadyPaid(id);
        uint64 day = currentDay();
        _checkLimits(period, amount, day);
        _requireBalance(amount);
        _settle(id, period, to, amount, day);
        emit Paid(id, to, amount, period);
    }

    /// @inheritdoc IPayoutRouterV0
    /// @notice Pays several planned payouts of one period. A wrong proof or a limit breach reverts the batch (the
    ///         daily and period totals count the batch's items cumulatively); an already-paid item (also one
    ///         repeated in the batch) is skipped with `PayoutSkipped(id, to, 1)`, an item whose transfer fails
    ///         (token revert, e.g. a blacklisted recipient, or a balance mismatch) with `PayoutSkipped(id, to, 2)`
    ///         and stays unpaid.
    function disburseBatch(
        uint32 period,
        address[] calldata to,
        uint256[] calldata amounts,
        bytes32[][] calldata proofs
    ) external whenNotPaused nonReentrant {
        uint256 n = to.length;
        if (n == 0) revert EmptyBatch();
        if (amounts.length != n || proofs.length != n) {
            revert LengthMismatch(n, amounts.length, proofs.length);
        }
        uint64 day = currentDay();
        for (uint256 i; i < n; ++i) {
            address recipient = to[i];
            uint256 amount = amounts[i];
            bytes32 id = _checkPlanned(period, recipient, amount, proofs[i]);
            if (paid[id]) {
                emit PayoutSkipped(id, recipient, 1);
                continue;
            }
            _checkLimits(period, amount, day);
            // The self-call reverts alone (bookkeeping included) when the transfer fails.
            try this.settleFromBatch(id, period, recipient, amount, day) {
                emit Paid(id, recipient, amount, period);
            } catch {
                emit PayoutSkipped(id, recipient, 2);
            }
        }
    }
}
