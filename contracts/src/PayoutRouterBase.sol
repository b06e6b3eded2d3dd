// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IPayoutRouter} from "./interfaces/IPayoutRouter.sol";

/// @title PayoutRouterBase — what both payment-chain routers share (SPEC §3).
/// @notice The router holds the USDT it pays. A `payoutId` pays at most once, ever, so a keeper may retry
///         a payout whose transaction it lost track of without paying twice. Every payout must be at least
///         `minPayout`, at most `maxPerPayout`, and the payouts of one UTC day (`block.timestamp / 86400`)
///         add up to at most `dailyLimit`.
/// @dev Transfers in (`fund`) use SafeERC20's `safeTransferFrom`. Transfers out use `_transferOut`, SafeERC20's
///      rule plus one exception needed on the production chain: Ethereum's USDT returns nothing from `transfer`
///      (accepted), a standard token returns `true` (accepted), but TRON's USDT (TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t)
///      returns `false` from a *successful* `transfer` (a missing `return` in its StandardTokenWithFees). A
///      `false` (or any other value) is therefore accepted only when the balances prove the transfer happened:
///      the router's balance fell by exactly `amount` and the recipient's rose by exactly `amount`. Otherwise it
///      reverts with SafeERC20FailedOperation, as SafeERC20 would. A token that charges a transfer fee and
///      returns `false` thus reverts (the router never under-pays silently). Reverts of the token are bubbled.
///      Paying functions follow checks-effects-interactions and are `nonReentrant`.
///      Roles: DEFAULT_ADMIN_ROLE (limits, withdraw, role management; may be renounced once set up),
///      PAUSER_ROLE (pause/unpause), DISBURSER_ROLE (pays; granted by the admin to the keeper).
abstract contract PayoutRouterBase is IPayoutRouter, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant DISBURSER_ROLE = keccak256("DISBURSER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice 10 USDT (6 decimals): the minimum payout at deployment (SPEC §3).
    uint256 public constant DEFAULT_MIN_PAYOUT = 10e6;

    IERC20 internal immutable _usdt;

    mapping(bytes32 payoutId => bool) public paid;
    mapping(uint64 day => uint256) public spentOnDay;

    uint256 public minPayout;
    uint256 public maxPerPayout;
    uint256 public dailyLimit;
    uint256 public totalPaid;

    /// @param admin gets DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param usdt  the token paid out (USDT, 6 decimals).
    constructor(address admin, IERC20 usdt, uint256 min, uint256 maxPer, uint256 daily) {
        if (admin == address(0) || address(usdt) == address(0)) revert ZeroAddress();
        _usdt = usdt;
        _setLimits(min, maxPer, daily);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @inheritdoc IPayoutRouter
    function USDT() external view returns (address) {
        return address(_usdt);
    }

    /// @notice The UTC day number of the current block (`block.timestamp / 86400`), the key of `spentOnDay`.
    function currentDay() public view returns (uint64) {
        return uint64(block.timestamp / 1 days);
    }

    /// @inheritdoc IPayoutRouter
    /// @dev Requires `0 < min <= maxPer <= daily`; emits LimitsUpdated.
    function setLimits(uint256 min, uint256 maxPer, uint256 daily) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setLimits(min, maxPer, daily);
    }

    /// @inheritdoc IPayoutRouter
    /// @notice Anyone may fund the router; the caller must have approved it. Emits Funded with the amount the
    ///         router actually received (its balance difference).
    function fund(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 before = _usdt.balanceOf(address(this));
        _usdt.safeTransferFrom(msg.sender, address(this), amount);
        emit Funded(msg.sender, _usdt.balanceOf(address(this)) - before);
    }

    /// @inheritdoc IPayoutRouter
    /// @notice Admin only; works while paused (to move funds out in an emergency).
    function withdraw(address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (to == address(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        uint256 balance = _usdt.balanceOf(address(this));
        if (amount > balance) revert InsufficientBalance(amount, balance);
        emit Withdrawn(to, amount);
        _transferOut(to, amount);
    }

    /// @inheritdoc IPayoutRouter
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IPayoutRouter
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---------------------------------------------------------------------------------------------------
    // internals

    function _setLimits(uint256 min, uint256 maxPer, uint256 daily) internal {
        if (min == 0 || min > maxPer || maxPer > daily) revert InvalidLimits(min, maxPer, daily);
        minPayout = min;
        maxPerPayout = maxPer;
        dailyLimit = daily;
        emit LimitsUpdated(min, maxPer, daily);
    }

    /// @dev Checks one payout against the shared rules and records it (paid, spentOnDay, totalPaid).
    ///      Does not transfer: the caller checks the balance and transfers after all effects.
    function _checkAndRecord(bytes32 payoutId, address to, uint256 amount, uint64 day) internal {
        if (payoutId == bytes32(0)) revert ZeroPayoutId();
        if (to == address(0)) revert ZeroRecipient();
        if (paid[payoutId]) revert AlreadyPaid(payoutId);
        if (amount < minPayout) revert BelowMinimum(amount, minPayout);
        if (amount > maxPerPayout) revert AboveMaximum(amount, maxPerPayout);
        uint256 spent = spentOnDay[day];
        uint256 limit = dailyLimit;
        if (spent + amount > limit) {
            revert DailyLimitExceeded(day, amount, spent >= limit ? 0 : limit - spent);
        }
        paid[payoutId] = true;
        spentOnDay[day] = spent + amount;
        totalPaid += amount;
    }

    /// @dev Reverts with InsufficientBalance unless the router holds at least `amount`.
    function _requireBalance(uint256 amount) internal view {
        uint256 balance = _usdt.balanceOf(address(this));
        if (amount > balance) revert InsufficientBalance(amount, balance);
    }

    /// @dev See the contract's @dev note. A token without code fails already at `balanceOf`.
    function _transferOut(address to, uint256 amount) internal {
        IERC20 token = _usdt;
        uint256 selfBefore = token.balanceOf(address(this));
        uint256 toBefore = token.balanceOf(to);
        // Reverts of the token are bubbled up; an empty return from an address without code reverts too.
        bytes memory ret = Address.functionCall(address(token), abi.encodeCall(IERC20.transfer, (to, amount)));
        if (ret.length == 0) return; // Ethereum-USDT style: no return value
        if (ret.length >= 32 && abi.decode(ret, (uint256)) == 1) return; // standard `true`
        // TRON-USDT style `false` on success: accept only exact balance movements. The strict equalities are the
        // point: anything but an exact move of `amount` (fee, partial or no transfer) must not count as paid.
        uint256 selfAfter = token.balanceOf(address(this));
        uint256 toAfter = token.balanceOf(to);
        // slither-disable-next-line incorrect-equality
        bool moved = selfAfter + amount == selfBefore && toAfter == toBefore + amount;
        if (!moved) revert SafeERC20.SafeERC20FailedOperation(address(token));
    }
}
