// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPayoutRouter — what both payment-chain routers share (SPEC §3): limits, pause, one-time payoutIds.
interface IPayoutRouter {
    event LimitsUpdated(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);

    error AlreadyPaid(bytes32 payoutId);
    error ZeroPayoutId();
    error ZeroRecipient();
    error BelowMinimum(uint256 amount, uint256 minPayout);
    error AboveMaximum(uint256 amount, uint256 maxPerPayout);
    error DailyLimitExceeded(uint64 day, uint256 requested, uint256 remaining);
    error InsufficientBalance(uint256 requested, uint256 balance);
    error InvalidLimits(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
    error ZeroAddress();
    error ZeroAmount();

    function USDT() external view returns (address);
    function DISBURSER_ROLE() external view returns (bytes32);
    function PAUSER_ROLE() external view returns (bytes32);
    function currentDay() external view returns (uint64);
    function paid(bytes32 payoutId) external view returns (bool);
    function minPayout() external view returns (uint256);
    function maxPerPayout() external view returns (uint256);
    function dailyLimit() external view returns (uint256);
    function spentOnDay(uint64 day) external view returns (uint256);
    function totalPaid() external view returns (uint256);
    function setLimits(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit) external;
    function fund(uint256 amount) external;
    function withdraw(address to, uint256 amount) external;
    function pause() external;
    function unpause() external;
}
