// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayoutRouter} from "./IPayoutRouter.sol";

/// @title IPayoutRouterV0 — non-KYC USDT payouts of treasury-approved plans (SPEC §3, v1.1). Anyone executes.
interface IPayoutRouterV0 is IPayoutRouter {
    event Paid(bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period);

    error LengthMismatch(uint256 to, uint256 amounts, uint256 proofs);
    error EmptyBatch();

    function disburse(uint32 period, address to, uint256 amount, bytes32[] calldata proof) external;
    /// @notice An already-paid id or a failing transfer is skipped with PayoutSkipped; a wrong proof or a limit
    ///         breach reverts the batch.
    function disburseBatch(
        uint32 period,
        address[] calldata to,
        uint256[] calldata amounts,
        bytes32[][] calldata proofs
    ) external;
}
