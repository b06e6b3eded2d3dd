// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPayoutRouter — what both payment-chain routers share (SPEC §3, v1.1).
/// @notice Only what the treasury approved is paid: each period has a Merkle root (SPEC §2 hashing) over the
///         leaves `keccak256(keccak256(abi.encode(address router, uint32 period, address to, uint256 amount)))`
///         of both routers and a total, set by TREASURER_ROLE. A payout proves its leaf, so anyone may execute it.
///         `payoutId = keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))` is computed on chain
///         and pays at most once, ever.
interface IPayoutRouter {
    event PeriodRootSet(uint32 indexed period, bytes32 root, uint256 total);
    /// @notice Reason 1: already paid; 2: the transfer failed (disburseBatch only).
    event PayoutSkipped(bytes32 indexed payoutId, address indexed to, uint8 reason);
    event LimitsUpdated(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    event Rescued(address indexed token, address indexed to, uint256 amount);

    error AlreadyPaid(bytes32 payoutId);
    error ZeroRecipient();
    error ZeroRoot();
    error NoRoot(uint32 period);
    error PeriodAlreadyPaying(uint32 period);
    error InvalidProof(uint32 period, address to, uint256 amount);
    error PeriodTotalExceeded(uint32 period, uint256 requested, uint256 remaining);
    error BelowMinimum(uint256 amount, uint256 minPayout);
    error AboveMaximum(uint256 amount, uint256 maxPerPayout);
    error DailyLimitExceeded(uint64 day, uint256 requested, uint256 remaining);
    error InsufficientBalance(uint256 requested, uint256 balance);
    error InvalidLimits(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
    /// @notice The recipient's (or, for withdraw, the router's) balance did not change by exactly `amount`.
    error TransferAmountMismatch(address account, uint256 expected, uint256 actual);
    error RescueOfUsdt();
    error ZeroAddress();
    error ZeroAmount();

    function USDT() external view returns (address);
    function TREASURER_ROLE() external view returns (bytes32);
    function PAUSER_ROLE() external view returns (bytes32);
    function currentDay() external view returns (uint64);
    function paid(bytes32 payoutId) external view returns (bool);
    function payoutId(uint32 period, address to) external pure returns (bytes32);
    function leaf(uint32 period, address to, uint256 amount) external view returns (bytes32);
    function periodRoot(uint32 period) external view returns (bytes32);
    function periodTotal(uint32 period) external view returns (uint256);
    function periodPaid(uint32 period) external view returns (uint256);
    function minPayout() external view returns (uint256);
    function maxPerPayout() external view returns (uint256);
    function dailyLimit() external view returns (uint256);
    function spentOnDay(uint64 day) external view returns (uint256);
    function totalPaid() external view returns (uint256);
    function setPeriodRoot(uint32 period, bytes32 root, uint256 total) external;
    function setLimits(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit) external;
    function fund(uint256 amount) external;
    function withdraw(address to, uint256 amount) external;
    function rescue(address token, address to, uint256 amount) external;
    function pause() external;
    function unpause() external;
}
