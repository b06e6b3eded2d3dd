// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {PayoutFixture} from "./utils/PayoutFixture.sol";
import {PayoutRouterV0} from "../src/PayoutRouterV0.sol";
import {IPayoutRouter} from "../src/interfaces/IPayoutRouter.sol";
import {IPayoutRouterV0} from "../src/interfaces/IPayoutRouterV0.sol";
import {MockUSDT} from "./mocks/MockUSDT.sol";

/// @notice Unit and fuzz tests of PayoutRouterV0 and of the shared PayoutRouterBase (limits, fund, withdraw, pause).
contract PayoutRouterV0Test is PayoutFixture {
    event Paid(bytes32 indexed payoutId, address indexed to, uint256 amount);
    event LimitsUpdated(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    event Paused(address account);
    event Unpaused(address account);

    bytes32 internal constant ID1 = keccak256("id1");
    bytes32 internal constant ID2 = keccak256("id2");
    bytes32 internal constant ID3 = keccak256("id3");

    // ------------------------------------------------------------------ constructor, views

    function test_constructor_setsDefaultsAndRoles() public view {
        assertEq(v0.USDT(), address(usdt));
        assertEq(v0.minPayout(), 10e6);
        assertEq(v0.maxPerPayout(), 1_000e6);
        assertEq(v0.dailyLimit(), 10_000e6);
        assertEq(v0.totalPaid(), 0);
        assertEq(v0.DISBURSER_ROLE(), keccak256("DISBURSER_ROLE"));
        assertEq(v0.PAUSER_ROLE(), keccak256("PAUSER_ROLE"));
        assertTrue(v0.hasRole(v0.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(v0.hasRole(v0.PAUSER_ROLE(), admin));
        assertFalse(v0.hasRole(v0.DISBURSER_ROLE(), admin));
        assertFalse(v0.paused());
        assertEq(usdt.balanceOf(address(v0)), FUNDING);
    }

    function test_constructor_emitsLimitsUpdated() public {
        vm.expectEmit(false, false, false, true);
        emit LimitsUpdated(10e6, 1_000e6, 10_000e6);
        new PayoutRouterV0(admin, IERC20(address(usdt)));
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        new PayoutRouterV0(address(0), IERC20(address(usdt)));
    }

    function test_RevertWhen_constructorZeroToken() public {
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        new PayoutRouterV0(admin, IERC20(address(0)));
    }

    function test_currentDay_isUtcDay() public {
        assertEq(v0.currentDay(), 1_767_225_600 / 86_400);
        vm.warp(block.timestamp + 1 days - 1);
        assertEq(v0.currentDay(), 1_767_225_600 / 86_400);
        vm.warp(block.timestamp + 1);
        assertEq(v0.currentDay(), 1_767_225_600 / 86_400 + 1);
    }

    // ------------------------------------------------------------------ setLimits

    function test_setLimits_updatesAndEmits() public {
        vm.expectEmit(address(v0));
        emit LimitsUpdated(20e6, 500e6, 2_000e6);
        vm.prank(admin);
        v0.setLimits(20e6, 500e6, 2_000e6);
        assertEq(v0.minPayout(), 20e6);
        assertEq(v0.maxPerPayout(), 500e6);
        assertEq(v0.dailyLimit(), 2_000e6);
    }

    function test_setLimits_allowsEqualBounds() public {
        vm.prank(admin);
        v0.setLimits(5e6, 5e6, 5e6);
        assertEq(v0.dailyLimit(), 5e6);
    }

    function test_RevertWhen_setLimitsNotAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, v0.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(keeper);
        v0.setLimits(20e6, 500e6, 2_000e6);
    }

    function test_RevertWhen_setLimitsZeroMin() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, 0, 500e6, 2_000e6));
        vm.prank(admin);
        v0.setLimits(0, 500e6, 2_000e6);
    }

    function test_RevertWhen_setLimitsMinAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, 600e6, 500e6, 2_000e6));
        vm.prank(admin);
        v0.setLimits(600e6, 500e6, 2_000e6);
    }

    function test_RevertWhen_setLimitsMaxAboveDaily() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, 10e6, 3_000e6, 2_000e6));
        vm.prank(admin);
        v0.setLimits(10e6, 3_000e6, 2_000e6);
    }

    function testFuzz_setLimits_validatesOrdering(uint256 min, uint256 maxPer, uint256 daily) public {
        bool valid = min != 0 && min <= maxPer && maxPer <= daily;
        if (!valid) {
            vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, min, maxPer, daily));
        }
        vm.prank(admin);
        v0.setLimits(min, maxPer, daily);
        if (valid) {
            assertEq(v0.minPayout(), min);
            assertEq(v0.maxPerPayout(), maxPer);
            assertEq(v0.dailyLimit(), daily);
        }
    }

    // ------------------------------------------------------------------ fund / withdraw

    function test_fund_pullsAndEmits() public {
        usdt.mint(stranger, 500e6);
        vm.startPrank(stranger);
        usdt.approve(address(v0), 500e6);
        vm.expectEmit(address(v0));
        emit Funded(stranger, 500e6);
        v0.fund(500e6);
        vm.stopPrank();
        assertEq(usdt.balanceOf(address(v0)), FUNDING + 500e6);
        assertEq(usdt.balanceOf(stranger), 0);
    }

    function test_RevertWhen_fundZero() public {
        vm.expectRevert(IPayoutRouter.ZeroAmount.selector);
        v0.fund(0);
    }

    function test_RevertWhen_fundWithoutAllowance() public {
        usdt.mint(stranger, 500e6);
        vm.expectRevert(
            abi.encodeWithSelector(MockUSDT.InsufficientTokenAllowance.selector, address(v0), 0, 500e6)
        );
        vm.prank(stranger);
        v0.fund(500e6);
    }

    function test_withdraw_sendsAndEmits() public {
        vm.expectEmit(address(v0));
        emit Withdrawn(bob, 1_234e6);
        vm.prank(admin);
        v0.withdraw(bob, 1_234e6);
        assertEq(usdt.balanceOf(bob), 1_234e6);
        assertEq(usdt.balanceOf(address(v0)), FUNDING - 1_234e6);
    }

    function test_withdraw_worksWhilePaused() public {
        vm.startPrank(admin);
        v0.pause();
        v0.withdraw(admin, FUNDING);
        vm.stopPrank();
        assertEq(usdt.balanceOf(admin), FUNDING);
    }

    function test_RevertWhen_withdrawNotAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, v0.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(keeper);
        v0.withdraw(keeper, 1e6);
    }

    function test_RevertWhen_withdrawZeroRecipient() public {
        vm.expectRevert(IPayoutRouter.ZeroRecipient.selector);
        vm.prank(admin);
        v0.withdraw(address(0), 1e6);
    }

    function test_RevertWhen_withdrawZeroAmount() public {
        vm.expectRevert(IPayoutRouter.ZeroAmount.selector);
        vm.prank(admin);
        v0.withdraw(admin, 0);
    }

    function test_RevertWhen_withdrawAboveBalance() public {
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, FUNDING + 1, FUNDING)
        );
        vm.prank(admin);
        v0.withdraw(admin, FUNDING + 1);
    }

    // ------------------------------------------------------------------ pause / unpause

    function test_pause_andUnpause() public {
        vm.expectEmit(address(v0));
        emit Paused(admin);
        vm.prank(admin);
        v0.pause();
        assertTrue(v0.paused());
        vm.expectEmit(address(v0));
        emit Unpaused(admin);
        vm.prank(admin);
        v0.unpause();
        assertFalse(v0.paused());
    }

    function test_pause_byGrantedPauser() public {
        address pauser = makeAddr("pauser");
        vm.startPrank(admin);
        v0.grantRole(v0.PAUSER_ROLE(), pauser);
        vm.stopPrank();
        vm.prank(pauser);
        v0.pause();
        assertTrue(v0.paused());
    }

    function test_RevertWhen_pauseNotPauser() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, v0.PAUSER_ROLE()
            )
        );
        vm.prank(keeper);
        v0.pause();
    }

    function test_RevertWhen_unpauseNotPauser() public {
        vm.prank(admin);
        v0.pause();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, v0.PAUSER_ROLE()
            )
        );
        vm.prank(keeper);
        v0.unpause();
    }

    function test_RevertWhen_pauseTwice() public {
        vm.startPrank(admin);
        v0.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        v0.pause();
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ disburse

    function test_disburse_paysAndRecords() public {
        vm.expectEmit(address(v0));
        emit Paid(ID1, alice, 100e6);
        vm.prank(keeper);
        v0.disburse(ID1, alice, 100e6);
        assertEq(usdt.balanceOf(alice), 100e6);
        assertEq(usdt.balanceOf(address(v0)), FUNDING - 100e6);
        assertTrue(v0.paid(ID1));
        assertEq(v0.spentOnDay(_day()), 100e6);
        assertEq(v0.totalPaid(), 100e6);
    }

    function test_disburse_atExactBounds() public {
        vm.startPrank(keeper);
        v0.disburse(ID1, alice, 10e6);
        v0.disburse(ID2, alice, 1_000e6);
        vm.stopPrank();
        assertEq(usdt.balanceOf(alice), 1_010e6);
    }

    function test_disburse_fillsDailyLimitExactly() public {
        vm.startPrank(keeper);
        for (uint256 i; i < 10; ++i) {
            v0.disburse(bytes32(i + 1), alice, 1_000e6);
        }
        vm.stopPrank();
        assertEq(v0.spentOnDay(_day()), 10_000e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 10e6, 0));
        vm.prank(keeper);
        v0.disburse(bytes32(uint256(11)), alice, 10e6);
    }

    function test_disburse_dailyLimitResetsAtUtcMidnight() public {
        vm.startPrank(keeper);
        for (uint256 i; i < 10; ++i) {
            v0.disburse(bytes32(i + 1), alice, 1_000e6);
        }
        uint64 day0 = _day();
        vm.warp((uint256(day0) + 1) * 1 days); // 00:00:00 UTC the next day
        v0.disburse(bytes32(uint256(11)), alice, 1_000e6);
        vm.stopPrank();
        assertEq(v0.spentOnDay(day0), 10_000e6);
        assertEq(v0.spentOnDay(day0 + 1), 1_000e6);
    }

    function test_RevertWhen_disburseNotDisburser() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, admin, v0.DISBURSER_ROLE()
            )
        );
        vm.prank(admin);
        v0.disburse(ID1, alice, 100e6);
    }

    function test_RevertWhen_disbursePaused() public {
        vm.prank(admin);
        v0.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(keeper);
        v0.disburse(ID1, alice, 100e6);
    }

    function test_disburse_worksAfterUnpause() public {
        vm.startPrank(admin);
        v0.pause();
        v0.unpause();
        vm.stopPrank();
        vm.prank(keeper);
        v0.disburse(ID1, alice, 100e6);
        assertTrue(v0.paid(ID1));
    }

    function test_RevertWhen_disburseZeroPayoutId() public {
        vm.expectRevert(IPayoutRouter.ZeroPayoutId.selector);
        vm.prank(keeper);
        v0.disburse(bytes32(0), alice, 100e6);
    }

    function test_RevertWhen_disburseZeroRecipient() public {
        vm.expectRevert(IPayoutRouter.ZeroRecipient.selector);
        vm.prank(keeper);
        v0.disburse(ID1, address(0), 100e6);
    }

    function test_RevertWhen_disburseAlreadyPaid() public {
        vm.startPrank(keeper);
        v0.disburse(ID1, alice, 100e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, ID1));
        v0.disburse(ID1, alice, 100e6);
        // also to another recipient or amount, and on another day
        vm.warp(block.timestamp + 40 days);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, ID1));
        v0.disburse(ID1, bob, 50e6);
        vm.stopPrank();
    }

    function test_RevertWhen_disburseBelowMinimum() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.BelowMinimum.selector, 10e6 - 1, 10e6));
        vm.prank(keeper);
        v0.disburse(ID1, alice, 10e6 - 1);
    }

    function test_RevertWhen_disburseAboveMaximum() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AboveMaximum.selector, 1_000e6 + 1, 1_000e6));
        vm.prank(keeper);
        v0.disburse(ID1, alice, 1_000e6 + 1);
    }

    function test_RevertWhen_disburseDailyLimitExceeded() public {
        vm.startPrank(keeper);
        for (uint256 i; i < 9; ++i) {
            v0.disburse(bytes32(i + 1), alice, 1_000e6);
        }
        v0.disburse(ID1, alice, 990e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 11e6, 10e6));
        v0.disburse(ID2, alice, 11e6);
        vm.stopPrank();
    }

    function test_RevertWhen_disburseAfterDailyLimitLoweredBelowSpent() public {
        vm.prank(keeper);
        v0.disburse(ID1, alice, 1_000e6);
        vm.prank(admin);
        v0.setLimits(10e6, 500e6, 500e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 10e6, 0));
        vm.prank(keeper);
        v0.disburse(ID2, alice, 10e6);
    }

    function test_RevertWhen_disburseInsufficientBalance() public {
        vm.prank(admin);
        v0.withdraw(admin, FUNDING - 50e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, 100e6, 50e6));
        vm.prank(keeper);
        v0.disburse(ID1, alice, 100e6);
        assertFalse(v0.paid(ID1));
    }

    function testFuzz_disburse_limits(uint256 amount, uint32 dayOffset, address to) public {
        vm.assume(to != address(0) && to != address(v0));
        amount = bound(amount, 0, 2_000e6);
        vm.warp(block.timestamp + uint256(dayOffset) * 1 days + (amount % 1 days));
        uint256 before = usdt.balanceOf(to);
        if (amount < 10e6) {
            vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.BelowMinimum.selector, amount, 10e6));
        } else if (amount > 1_000e6) {
            vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AboveMaximum.selector, amount, 1_000e6));
        }
        vm.prank(keeper);
        v0.disburse(ID1, to, amount);
        if (amount >= 10e6 && amount <= 1_000e6) {
            assertEq(usdt.balanceOf(to), before + amount);
            assertEq(v0.spentOnDay(_day()), amount);
        }
    }

    function testFuzz_disburse_dailyTotalNeverExceeded(uint256[12] memory amounts, uint8 hoursStep) public {
        uint64 startDay = _day();
        vm.warp(uint256(startDay) * 1 days); // start of a UTC day
        uint256 sum;
        for (uint256 i; i < amounts.length; ++i) {
            vm.warp(block.timestamp + uint256(hoursStep % 3) * 1 hours);
            uint256 a = bound(amounts[i], 10e6, 1_000e6);
            uint64 d = _day();
            uint256 spent = v0.spentOnDay(d);
            vm.prank(keeper);
            if (spent + a > 10_000e6) {
                vm.expectRevert(
                    abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, d, a, 10_000e6 - spent)
                );
                v0.disburse(bytes32(i + 1), alice, a);
            } else {
                v0.disburse(bytes32(i + 1), alice, a);
                sum += a;
            }
            assertLe(v0.spentOnDay(d), 10_000e6);
        }
        assertEq(usdt.balanceOf(alice), sum);
        assertEq(v0.totalPaid(), sum);
    }

    // ------------------------------------------------------------------ disburseBatch

    function _batch3()
        internal
        view
        returns (bytes32[] memory ids, address[] memory to, uint256[] memory amounts)
    {
        ids = new bytes32[](3);
        to = new address[](3);
        amounts = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (ID1, ID2, ID3);
        (to[0], to[1], to[2]) = (alice, bob, alice);
        (amounts[0], amounts[1], amounts[2]) = (100e6, 200e6, 300e6);
    }

    function test_disburseBatch_paysAll() public {
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        vm.expectEmit(address(v0));
        emit Paid(ID1, alice, 100e6);
        vm.expectEmit(address(v0));
        emit Paid(ID2, bob, 200e6);
        vm.expectEmit(address(v0));
        emit Paid(ID3, alice, 300e6);
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
        assertEq(usdt.balanceOf(alice), 400e6);
        assertEq(usdt.balanceOf(bob), 200e6);
        assertTrue(v0.paid(ID1) && v0.paid(ID2) && v0.paid(ID3));
        assertEq(v0.spentOnDay(_day()), 600e6);
        assertEq(v0.totalPaid(), 600e6);
    }

    function test_RevertWhen_disburseBatchEmpty() public {
        vm.expectRevert(IPayoutRouterV0.EmptyBatch.selector);
        vm.prank(keeper);
        v0.disburseBatch(new bytes32[](0), new address[](0), new uint256[](0));
    }

    function test_RevertWhen_disburseBatchToLengthMismatch() public {
        (bytes32[] memory ids,, uint256[] memory amounts) = _batch3();
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterV0.LengthMismatch.selector, 3, 2, 3));
        vm.prank(keeper);
        v0.disburseBatch(ids, new address[](2), amounts);
    }

    function test_RevertWhen_disburseBatchAmountsLengthMismatch() public {
        (bytes32[] memory ids, address[] memory to,) = _batch3();
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterV0.LengthMismatch.selector, 3, 3, 4));
        vm.prank(keeper);
        v0.disburseBatch(ids, to, new uint256[](4));
    }

    function test_RevertWhen_disburseBatchContainsPaidId() public {
        vm.prank(keeper);
        v0.disburse(ID2, bob, 200e6);
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, ID2));
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
        assertFalse(v0.paid(ID1)); // atomic: nothing from the batch was paid
        assertEq(usdt.balanceOf(alice), 0);
    }

    function test_RevertWhen_disburseBatchDuplicateId() public {
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        ids[2] = ID1;
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, ID1));
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
    }

    function test_disburseBatch_retryAfterFilteringPaidIds() public {
        vm.prank(keeper);
        v0.disburse(ID2, bob, 200e6);
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        // the caller filters out what is already paid and resubmits the rest
        bytes32[] memory ids2 = new bytes32[](2);
        address[] memory to2 = new address[](2);
        uint256[] memory amounts2 = new uint256[](2);
        uint256 k;
        for (uint256 i; i < 3; ++i) {
            if (v0.paid(ids[i])) continue;
            (ids2[k], to2[k], amounts2[k]) = (ids[i], to[i], amounts[i]);
            ++k;
        }
        vm.prank(keeper);
        v0.disburseBatch(ids2, to2, amounts2);
        assertEq(usdt.balanceOf(alice), 400e6);
        assertEq(usdt.balanceOf(bob), 200e6);
    }

    function test_RevertWhen_disburseBatchItemInvalid() public {
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        amounts[1] = 1_001e6;
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AboveMaximum.selector, 1_001e6, 1_000e6));
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
        to[1] = address(0);
        amounts[1] = 200e6;
        vm.expectRevert(IPayoutRouter.ZeroRecipient.selector);
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
    }

    function test_RevertWhen_disburseBatchExceedsDailyLimitCumulatively() public {
        bytes32[] memory ids = new bytes32[](11);
        address[] memory to = new address[](11);
        uint256[] memory amounts = new uint256[](11);
        for (uint256 i; i < 11; ++i) {
            (ids[i], to[i], amounts[i]) = (bytes32(i + 1), alice, 1_000e6);
        }
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 1_000e6, 0));
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
    }

    function test_RevertWhen_disburseBatchInsufficientBalance() public {
        vm.prank(admin);
        v0.withdraw(admin, FUNDING - 500e6);
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, 600e6, 500e6));
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
    }

    function test_RevertWhen_disburseBatchNotDisburser() public {
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, v0.DISBURSER_ROLE()
            )
        );
        vm.prank(stranger);
        v0.disburseBatch(ids, to, amounts);
    }

    function test_RevertWhen_disburseBatchPaused() public {
        vm.prank(admin);
        v0.pause();
        (bytes32[] memory ids, address[] memory to, uint256[] memory amounts) = _batch3();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
    }

    function testFuzz_disburseBatch_matchesSinglePayouts(uint256[8] memory raw, uint8 n) public {
        n = uint8(bound(n, 1, 8));
        bytes32[] memory ids = new bytes32[](n);
        address[] memory to = new address[](n);
        uint256[] memory amounts = new uint256[](n);
        uint256 total;
        for (uint256 i; i < n; ++i) {
            ids[i] = keccak256(abi.encode(i));
            to[i] = address(uint160(0x1000 + (raw[i] % 3)));
            amounts[i] = bound(raw[i], 10e6, 1_000e6);
            total += amounts[i];
        }
        vm.prank(keeper);
        v0.disburseBatch(ids, to, amounts);
        assertEq(v0.totalPaid(), total);
        assertEq(v0.spentOnDay(_day()), total);
        assertEq(
            usdt.balanceOf(address(0x1000)) + usdt.balanceOf(address(0x1001))
                + usdt.balanceOf(address(0x1002)),
            total
        );
    }
}
