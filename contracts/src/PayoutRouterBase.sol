// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IPayoutRouter} from "./interfaces/IPayoutRouter.sol";
import {PayoutIds} from "./libraries/PayoutIds.sol";

/// @title PayoutRouterBase — what both payment-chain routers share (SPEC §3 v1.1).
/// @notice Only what the treasury approved is paid. `TREASURER_ROLE` (a multisig) sets, per period, the Merkle
///         root of the period's plan and its total; a payout proves its leaf
///         `keccak256(keccak256(abi.encode(address router, uint32 period, address to, uint256 amount)))` against
///         that root, so anyone may execute it and a stolen hot key can move nothing outside the plan. The
///         `payoutId = keccak256(abi.encode("lucid.payout.v1", period, to))` is computed here and pays at most
///         once, ever; what is paid under a period never exceeds its total. Limits (minimum, maximum per payout,
///         daily total per UTC day `block.timestamp / 86400`) are a second line of defence.
/// @dev Transfers out accept any return value of the token (Ethereum's USDT returns nothing, TRON's USDT
///      returns `false` from a successful `transfer`) and instead require the recipient's balance to rise by
///      exactly `amount` (`TransferAmountMismatch` otherwise), so a fee-charging token is refused, never
///      silently short-paid. `withdraw` requires the router's own balance to fall by exactly `amount`. Reverts of
///      the token are bubbled. Roles: `DEFAULT_ADMIN_ROLE` (two-step transfer with {ADMIN_DELAY}; limits,
///      withdraw, rescue, unpause, role management; it can never be renounced on a router: that would strand
///      the USDT and leave a compromised role unrevocable), `TREASURER_ROLE` (period roots), `PAUSER_ROLE`.
abstract contract PayoutRouterBase is
    IPayoutRouter,
    AccessControlDefaultAdminRules,
    Pausable,
    ReentrancyGuard
{
    using SafeERC20 for IERC20;

    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Delay of a default-admin transfer (`beginDefaultAdminTransfer` → `acceptDefaultAdminTransfer`).
    uint48 public constant ADMIN_DELAY = 3 days;

    /// @notice 10 USDT (6 decimals): the minimum payout at deployment (SPEC §3).
    uint256 public constant DEFAULT_MIN_PAYOUT = 10e6;

    /// @notice Renouncing `DEFAULT_ADMIN_ROLE` on a router is refused (transfer it instead).
    error AdminRenounceRefused();
    /// @notice {settleFromBatch} is only for the router's own `disburseBatch`.
    error OnlySelf();

    struct Period {
        bytes32 root;
        uint256 total;
        uint256 paid;
    }

    IERC20 internal immutable _usdt;

    mapping(bytes32 payoutId => bool) public paid;
    mapping(uint64 day => uint256) public spentOnDay;
    mapping(uint32 period => Period) internal _periods;

    uint256 public minPayout;
    uint256 public maxPerPayout;
    uint256 public dailyLimit;
    uint256 public totalPaid;

    /// @param admin gets DEFAULT_ADMIN_ROLE and PAUSER_ROLE.
    /// @param usdt  the token paid out (USDT, 6 decimals).
    constructor(address admin, IERC20 usdt, uint256 min, uint256 maxPer, uint256 daily)
        AccessControlDefaultAdminRules(ADMIN_DELAY, admin)
    {
        if (address(usdt) == address(0)) revert ZeroAddress();
        _usdt = usdt;
        _setLimits(min, maxPer, daily);
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
    function payoutId(uint32 period, address to) public pure returns (bytes32) {
        return PayoutIds.payoutIdFor(period, to);
    }

    /// @inheritdoc IPayoutRouter
    function leaf(uint32 period, address to, uint256 amount) public view returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(address(this), period, to, amount))));
    }

    /// @inheritdoc IPayoutRouter
    function periodRoot(uint32 period) external view returns (bytes32) {
        return _periods[period].root;
    }

    /// @inheritdoc IPayoutRouter
    function periodTotal(uint32 period) external view returns (uint256) {
        return _periods[period].total;
    }

    /// @inheritdoc IPayoutRouter
    function periodPaid(uint32 period) external view returns (uint256) {
        return _periods[period].paid;
    }

    /// @inheritdoc IPayoutRouter
    /// @notice TREASURER_ROLE. Sets (or, while nothing of the period has been paid on this router, replaces) the
    ///         period's plan root and total. Root 0 reverts `ZeroRoot`, total 0 `ZeroAmount`; a period with a
    ///         payout already made reverts `PeriodAlreadyPaying`. Works while paused.
    function setPeriodRoot(uint32 period, bytes32 root, uint256 total) external onlyRole(TREASURER_ROLE) {
        if (root == bytes32(0)) revert ZeroRoot();
        if (total == 0) revert ZeroAmount();
        Period storage p = _periods[period];
        if (p.paid != 0) revert PeriodAlreadyPaying(period);
        p.root = root;
        p.total = total;
        emit PeriodRootSet(period, root, total);
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
    /// @notice Admin only; works while paused (to move funds out in an emergency). The router's balance must
    ///         fall by exactly `amount` (what the recipient receives may be less if the token charges a fee).
    function withdraw(address to, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) nonReentrant {
        if (to == address(0)) revert ZeroRecipient();
        if (amount == 0) revert ZeroAmount();
        IERC20 token = _usdt;
        uint256 before = token.balanceOf(address(this));
        if (amount > before) revert InsufficientBalance(amount, before);
        emit Withdrawn(to, amount);
        _callTransfer(to, amount);
        uint256 afterBal = token.balanceOf(address(this));
        // Strict: anything but an exact move of `amount` out of the router is refused.
        // slither-disable-next-line incorrect-equality
        if (afterBal + amount != before) {
            revert TransferAmountMismatch(address(this), amount, before - afterBal);
        }
    }

    /// @inheritdoc IPayoutRouter
    /// @notice Admin only: sends `amount` of any token other than USDT held by the router to `to`.
    function rescue(address token, address to, uint256 amount)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        nonReentrant
    {
        if (token == address(_usdt)) revert RescueOfUsdt();
        if (token == address(0) || to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        emit Rescued(token, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc IPayoutRouter
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IPayoutRouter
    /// @notice Only the admin unpauses (a pauser key is a hot incident key; resuming is a deliberate decision).
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @notice Refuses to renounce `DEFAULT_ADMIN_ROLE` (`AdminRenounceRefused`): a router without an admin
    ///         strands its USDT and cannot revoke a compromised role. Other roles may be renounced.
    function renounceRole(bytes32 role, address account) public override {
        if (role == DEFAULT_ADMIN_ROLE) revert AdminRenounceRefused();
        super.renounceRole(role, account);
    }

    /// @notice Only callable by the router itself, from `disburseBatch`: records and transfers one payout that
    ///         passed its checks, so that a failing transfer reverts just this call (and its bookkeeping) and the
    ///         batch can skip the item.
    function settleFromBatch(bytes32 id, uint32 period, address to, uint256 amount, uint64 day) external {
        if (msg.sender != address(this)) revert OnlySelf();
        _settle(id, period, to, amount, day);
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

    /// @dev The plan check: a nonzero recipient and a proof of `leaf(period, to, amount)` against the period's
    ///      root. Returns the payoutId.
    function _checkPlanned(uint32 period, address to, uint256 amount, bytes32[] calldata proof)
        internal
        view
        returns (bytes32 id)
    {
        if (to == address(0)) revert ZeroRecipient();
        bytes32 root = _periods[period].root;
        if (root == bytes32(0)) revert NoRoot(period);
        if (!MerkleProof.verifyCalldata(proof, root, leaf(period, to, amount))) {
            revert InvalidProof(period, to, amount);
        }
        id = PayoutIds.payoutIdFor(period, to);
    }

    /// @dev The limits: minimum, maximum, the day's total, the period's total. Reverts on a breach.
    function _checkLimits(uint32 period, uint256 amount, uint64 day) internal view {
        if (amount < minPayout) revert BelowMinimum(amount, minPayout);
        if (amount > maxPerPayout) revert AboveMaximum(amount, maxPerPayout);
        uint256 spent = spentOnDay[day];
        uint256 limit = dailyLimit;
        if (spent + amount > limit) {
            revert DailyLimitExceeded(day, amount, spent >= limit ? 0 : limit - spent);
        }
        Period storage p = _periods[period];
        uint256 remaining = p.total - p.paid;
        if (amount > remaining) revert PeriodTotalExceeded(period, amount, remaining);
    }

    /// @dev Effects, then the transfer with the exact-amount check. `nonReentrant` callers only (directly or
    ///      through {settleFromBatch}).
    function _settle(bytes32 id, uint32 period, address to, uint256 amount, uint64 day) internal {
        paid[id] = true;
        spentOnDay[day] += amount;
        _periods[period].paid += amount;
        totalPaid += amount;
        _transferOut(to, amount);
    }

    /// @dev Reverts with InsufficientBalance unless the router holds at least `amount`.
    function _requireBalance(uint256 amount) internal view {
        uint256 balance = _usdt.balanceOf(address(this));
        if (amount > balance) revert InsufficientBalance(amount, balance);
    }

    /// @dev Transfers `amount` to `to` and requires `to`'s balance to rise by exactly `amount`.
    function _transferOut(address to, uint256 amount) internal {
        IERC20 token = _usdt;
        uint256 before = token.balanceOf(to);
        _callTransfer(to, amount);
        uint256 afterBal = token.balanceOf(to);
        // Strict: a fee, a partial or a missing transfer must not count as paid.
        // slither-disable-next-line incorrect-equality
        if (afterBal != before + amount) {
            revert TransferAmountMismatch(to, amount, afterBal > before ? afterBal - before : 0);
        }
    }

    /// @dev `transfer(to, amount)` whatever it returns (nothing, `true`, or TRON USDT's `false`): the callers
    ///      check balances instead. Token reverts are bubbled; a token without code reverts.
    function _callTransfer(address to, uint256 amount) internal {
        // The return value is deliberately ignored (see above); balances are checked by the callers.
        // slither-disable-next-line unused-return
        Address.functionCall(address(_usdt), abi.encodeCall(IERC20.transfer, (to, amount)));
    }
}
