// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayoutRouter} from "./IPayoutRouter.sol";

/// @title IPayoutRouterV0 — non-KYC USDT payouts (SPEC §3).
interface IPayoutRouterV0 is IPayoutRouter {
    event Paid(bytes32 indexed payoutId, address indexed to, uint256 amount);

    error LengthMismatch(uint256 ids, uint256 to, uint256 amounts);
    error EmptyBatch();

    function disburse(bytes32 payoutId, address to, uint256 amount) external;
    function disburseBatch(bytes32[] calldata ids, address[] calldata to, uint256[] calldata amounts) external;
}
