// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IPayoutRouter} from "../src/interfaces/IPayoutRouter.sol";
import {IPayoutRouterV0} from "../src/interfaces/IPayoutRouterV0.sol";
import {PayoutRouterBase} from "../src/PayoutRouterBase.sol";
import {PayoutRouterV0} from "../src/PayoutRouterV0.sol";
import {MockTokenModes} from "./mocks/MockTokenModes.sol";
import {MockTronUSDT} from "./mocks/MockTronUSDT.sol";
import {PayoutFixture} from "./utils/PayoutFixture.sol";

contract PayoutRouterV0Test is PayoutFixture {
    event Paid(bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period);
    event PayoutSkipped(bytes32 indexed payoutId, address indexed to, uint8 reason);
    event PeriodRootSet(uint32 indexed period, bytes32 root, uint256 total);
    event LimitsUpdated(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    event Rescued(address indexed token, address indexed to, uint256 amount);

    /// @dev Plan: V0 pays alice 100, bob 250, carol 1,000 USDT; KYC pays stranger 50 (leaf 3).
    function _defaultPlan() internal returns (bytes32) {
        address[] memory rs = new address[](4);
        address[] memory ts = new address[](4);
        uint256[] memory am = new uint256[](4);
        (rs[0], ts[0], am[0]) = (address(v0), alice, 100e6);
        (rs[1], ts[1], am[1]) = (address(v0), bob, 250e6);
        (rs[2], ts[2], am[2]) = (address(v0), carol, 1_000e6);
        (rs[3], ts[3], am[3]) = (address(kyc), stranger, 50e6);
        return _plan(PERIOD, rs, ts, am, 0);
    }

    function _pay(uint256 i, address to, uint256 amount) internal {
        vm.prank(stranger); // anyone
        v0.disburse(PERIOD, to, amount, _proof(i));
    }

    function _three()
        internal
        view
        returns (address[] memory tos, uint256[] memory am, bytes32[][] memory pp)
    {
        tos = new address[](3);
        am = new uint256[](3);
        pp = new bytes32[][](3);
        (tos[0], am[0], pp[0]) = (alice, 100e6, _proof(0));
        (tos[1], am[1], pp[1]) = (bob, 250e6, _proof(1));
        (tos[2], am[2], pp[2]) = (carol, 1_000e6, _proof(2));
    }

    // ------------------------------------------------------------------ deployment

    function test_constructor_defaultsAndRoles() public view {
        assertEq(v0.minPayout(), 10e6);
        assertEq(v0.maxPerPayout(), 1_000e6);
        assertEq(v0.dailyLimit(), 10_000e6);
        assertEq(v0.USDT(), address(usdt));
        assertEq(v0.defaultAdmin(), admin);
        assertEq(v0.defaultAdminDelay(), 3 days);
        assertTrue(v0.hasRole(v0.PAUSER_ROLE(), admin));
        assertTrue(v0.hasRole(v0.TREASURER_ROLE(), treasurer));
        assertEq(v0.TREASURER_ROLE(), keccak256("TREASURER_ROLE"));
        assertEq(usdt.balanceOf(address(v0)), FUNDING);
    }

    function test_RevertWhen_constructorZeroUsdt() public {
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        new PayoutRouterV0(admin, IERC20(address(0)));
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
        new PayoutRouterV0(address(0), IERC20(address(usdt)));
    }

    function test_payoutIdAndLeaf_matchSpec() public view {
        assertEq(v0.payoutId(PERIOD, alice), _pid(PERIOD, alice));
        assertEq(v0.leaf(PERIOD, alice, 5e6), _leaf(address(v0), PERIOD, alice, 5e6));
        assertTrue(v0.leaf(PERIOD, alice, 5e6) != kyc.leaf(PERIOD, alice, 5e6));
    }

    // ------------------------------------------------------------------ period roots

    function test_setPeriodRoot_setsAndEmits() public {
        vm.expectEmit(true, true, true, true, address(v0));
        emit PeriodRootSet(7, bytes32(uint256(1)), 5e6);
        vm.prank(treasurer);
        v0.setPeriodRoot(7, bytes32(uint256(1)), 5e6);
        assertEq(v0.periodRoot(7), bytes32(uint256(1)));
        assertEq(v0.periodTotal(7), 5e6);
        assertEq(v0.periodPaid(7), 0);
    }

    function test_setPeriodRoot_replaceableWhileNothingPaid() public {
        _defaultPlan();
        vm.prank(treasurer);
        v0.setPeriodRoot(PERIOD, bytes32(uint256(2)), 1);
        assertEq(v0.periodRoot(PERIOD), bytes32(uint256(2)));
        assertEq(v0.periodTotal(PERIOD), 1);
    }

    function test_RevertWhen_setPeriodRootAfterPayout() public {
        _defaultPlan();
        _pay(0, alice, 100e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.PeriodAlreadyPaying.selector, PERIOD));
        vm.prank(treasurer);
        v0.setPeriodRoot(PERIOD, bytes32(uint256(2)), 1e12);
        // the other router has paid nothing under the period: still replaceable there
        vm.prank(treasurer);
        kyc.setPeriodRoot(PERIOD, bytes32(uint256(2)), 1e12);
    }

    function test_RevertWhen_setPeriodRootZeroRootOrTotal() public {
        vm.startPrank(treasurer);
        vm.expectRevert(IPayoutRouter.ZeroRoot.selector);
        v0.setPeriodRoot(1, bytes32(0), 1);
        vm.expectRevert(IPayoutRouter.ZeroAmount.selector);
        v0.setPeriodRoot(1, bytes32(uint256(1)), 0);
        vm.stopPrank();
    }

    function test_RevertWhen_setPeriodRootWithoutRole() public {
        bytes32 role = v0.TREASURER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        vm.prank(admin);
        v0.setPeriodRoot(1, bytes32(uint256(1)), 1);
    }

    // ------------------------------------------------------------------ disburse

    function test_disburse_paysPlannedPayout() public {
        _defaultPlan();
        bytes32 id = _pid(PERIOD, bob);
        vm.expectEmit(true, true, true, true, address(v0));
        emit Paid(id, bob, 250e6, PERIOD);
        _pay(1, bob, 250e6);
        assertEq(usdt.balanceOf(bob), 250e6);
        assertTrue(v0.paid(id));
        assertEq(v0.spentOnDay(_day()), 250e6);
        assertEq(v0.periodPaid(PERIOD), 250e6);
        assertEq(v0.totalPaid(), 250e6);
        assertEq(usdt.balanceOf(address(v0)), FUNDING - 250e6);
    }

    function test_disburse_singleLeafPlanEmptyProof() public {
        address[] memory rs = new address[](1);
        address[] memory ts = new address[](1);
        uint256[] memory am = new uint256[](1);
        (rs[0], ts[0], am[0]) = (address(v0), alice, 10e6);
        bytes32 root = _plan(PERIOD, rs, ts, am, 0);
        assertEq(root, _leaf(address(v0), PERIOD, alice, 10e6));
        v0.disburse(PERIOD, alice, 10e6, new bytes32[](0));
        assertEq(usdt.balanceOf(alice), 10e6);
    }

    function test_disburse_trueReturningAndTronFalseReturningTokens() public {
        for (uint256 k = 0; k < 2; k++) {
            address token;
            if (k == 0) {
                MockTokenModes t = new MockTokenModes();
                t.mint(address(this), 1e12);
                token = address(t);
            } else {
                MockTronUSDT t = new MockTronUSDT();
                t.mint(address(this), 1e12);
                token = address(t);
            }
            PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(token));
            bytes32 role = r.TREASURER_ROLE();
            vm.prank(admin);
            r.grantRole(role, treasurer);
            (bool ok,) = token.call(abi.encodeWithSignature("approve(address,uint256)", address(r), 1e12));
            assertTrue(ok);
            r.fund(1e12);
            vm.prank(treasurer);
            r.setPeriodRoot(PERIOD, _leaf(address(r), PERIOD, alice, 20e6), 20e6);
            r.disburse(PERIOD, alice, 20e6, new bytes32[](0));
            assertEq(IERC20(token).balanceOf(alice), 20e6);
        }
    }

    function test_RevertWhen_disbursePaused() public {
        _defaultPlan();
        vm.prank(admin);
        v0.pause();
        bytes32[] memory p = _proof(0);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        v0.disburse(PERIOD, alice, 100e6, p);
    }

    function test_RevertWhen_disburseZeroRecipient() public {
        _defaultPlan();
        vm.expectRevert(IPayoutRouter.ZeroRecipient.selector);
        v0.disburse(PERIOD, address(0), 100e6, new bytes32[](0));
    }

    function test_RevertWhen_disburseNoRoot() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.NoRoot.selector, PERIOD));
        v0.disburse(PERIOD, alice, 100e6, new bytes32[](0));
    }

    function test_RevertWhen_disburseInvalidProof() public {
        _defaultPlan();
        bytes32[] memory p = _proof(0);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, alice, 101e6));
        v0.disburse(PERIOD, alice, 101e6, p);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, bob, 100e6));
        v0.disburse(PERIOD, bob, 100e6, p);
        bytes32 root = v0.periodRoot(PERIOD);
        vm.prank(treasurer);
        v0.setPeriodRoot(PERIOD + 1, root, 1e12);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD + 1, alice, 100e6));
        v0.disburse(PERIOD + 1, alice, 100e6, p);
    }

    function test_RevertWhen_disburseAlreadyPaid() public {
        _defaultPlan();
        _pay(0, alice, 100e6);
        bytes32[] memory p = _proof(0);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, _pid(PERIOD, alice)));
        v0.disburse(PERIOD, alice, 100e6, p);
    }

    function test_RevertWhen_disburseBelowMinimumOrAboveMaximum() public {
        address[] memory rs = new address[](2);
        address[] memory ts = new address[](2);
        uint256[] memory am = new uint256[](2);
        (rs[0], ts[0], am[0]) = (address(v0), alice, 10e6 - 1);
        (rs[1], ts[1], am[1]) = (address(v0), bob, 1_000e6 + 1);
        _plan(PERIOD, rs, ts, am, 0);
        bytes32[] memory p0 = _proof(0);
        bytes32[] memory p1 = _proof(1);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.BelowMinimum.selector, 10e6 - 1, 10e6));
        v0.disburse(PERIOD, alice, 10e6 - 1, p0);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AboveMaximum.selector, 1_000e6 + 1, 1_000e6));
        v0.disburse(PERIOD, bob, 1_000e6 + 1, p1);
    }

    function test_RevertWhen_disburseDailyLimitExceeded() public {
        _defaultPlan();
        vm.prank(admin);
        v0.setLimits(10e6, 1_000e6, 1_000e6);
        _pay(1, bob, 250e6);
        bytes32[] memory p = _proof(2);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 1_000e6, 750e6)
        );
        v0.disburse(PERIOD, carol, 1_000e6, p);
        vm.warp(block.timestamp + 1 days);
        v0.disburse(PERIOD, carol, 1_000e6, p);
    }

    function test_RevertWhen_disbursePeriodTotalExceeded() public {
        address[] memory rs = new address[](2);
        address[] memory ts = new address[](2);
        uint256[] memory am = new uint256[](2);
        (rs[0], ts[0], am[0]) = (address(v0), alice, 100e6);
        (rs[1], ts[1], am[1]) = (address(v0), bob, 250e6);
        _plan(PERIOD, rs, ts, am, 300e6);
        v0.disburse(PERIOD, bob, 250e6, _proof(1));
        bytes32[] memory p = _proof(0);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.PeriodTotalExceeded.selector, PERIOD, 100e6, 50e6)
        );
        v0.disburse(PERIOD, alice, 100e6, p);
    }

    function test_RevertWhen_disburseInsufficientBalance() public {
        _defaultPlan();
        vm.prank(admin);
        v0.withdraw(admin, FUNDING - 50e6);
        bytes32[] memory p = _proof(0);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, 100e6, 50e6));
        v0.disburse(PERIOD, alice, 100e6, p);
    }

    // ------------------------------------------------------------------ disburseBatch

    function test_disburseBatch_paysAllInOrder() public {
        _defaultPlan();
        (address[] memory tos, uint256[] memory am, bytes32[][] memory pp) = _three();
        for (uint256 i = 0; i < 3; i++) {
            vm.expectEmit(true, true, true, true, address(v0));
            emit Paid(_pid(PERIOD, tos[i]), tos[i], am[i], PERIOD);
        }
        vm.prank(stranger);
        v0.disburseBatch(PERIOD, tos, am, pp);
        assertEq(usdt.balanceOf(carol), 1_000e6);
        assertEq(v0.periodPaid(PERIOD), 1_350e6);
        assertEq(v0.spentOnDay(_day()), 1_350e6);
        assertEq(v0.totalPaid(), 1_350e6);
    }

    function test_disburseBatch_skipsAlreadyPaidAndRepeats() public {
        _defaultPlan();
        _pay(0, alice, 100e6);
        (address[] memory tos, uint256[] memory am, bytes32[][] memory pp) = _three();
        tos[2] = bob;
        am[2] = 250e6;
        pp[2] = _proof(1);
        vm.expectEmit(true, true, true, true, address(v0));
        emit PayoutSkipped(_pid(PERIOD, alice), alice, 1);
        vm.expectEmit(true, true, true, true, address(v0));
        emit Paid(_pid(PERIOD, bob), bob, 250e6, PERIOD);
        vm.expectEmit(true, true, true, true, address(v0));
        emit PayoutSkipped(_pid(PERIOD, bob), bob, 1);
        v0.disburseBatch(PERIOD, tos, am, pp);
        assertEq(usdt.balanceOf(bob), 250e6);
        assertEq(usdt.balanceOf(alice), 100e6);
        assertEq(v0.totalPaid(), 350e6);
    }

    function test_disburseBatch_skipsFailedTransferAndKeepsItUnpaid() public {
        MockTokenModes t = new MockTokenModes();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(t)));
        t.mint(address(r), 1e12);
        bytes32 role = r.TREASURER_ROLE();
        vm.prank(admin);
        r.grantRole(role, treasurer);
        bytes32[] memory lv = new bytes32[](2);
        lv[0] = _leaf(address(r), PERIOD, alice, 100e6);
        lv[1] = _leaf(address(r), PERIOD, bob, 200e6);
        planLeaves = lv;
        vm.prank(treasurer);
        r.setPeriodRoot(PERIOD, _root2(lv), 300e6);
        t.setBlacklisted(alice, true);
        address[] memory tos = new address[](2);
        uint256[] memory am = new uint256[](2);
        bytes32[][] memory pp = new bytes32[][](2);
        (tos[0], am[0], pp[0]) = (alice, 100e6, _proof(0));
        (tos[1], am[1], pp[1]) = (bob, 200e6, _proof(1));
        vm.expectEmit(true, true, true, true, address(r));
        emit PayoutSkipped(_pid(PERIOD, alice), alice, 2);
        r.disburseBatch(PERIOD, tos, am, pp);
        assertFalse(r.paid(_pid(PERIOD, alice)));
        assertTrue(r.paid(_pid(PERIOD, bob)));
        assertEq(r.totalPaid(), 200e6);
        assertEq(r.periodPaid(PERIOD), 200e6);
        assertEq(r.spentOnDay(_day()), 200e6);
        // once unblocked, alice's payout goes through
        t.setBlacklisted(alice, false);
        r.disburse(PERIOD, alice, 100e6, pp[0]);
        assertEq(t.balanceOf(alice), 100e6);
    }

    function _root2(bytes32[] memory lv) internal pure returns (bytes32) {
        return lv[0] < lv[1] ? keccak256(abi.encode(lv[0], lv[1])) : keccak256(abi.encode(lv[1], lv[0]));
    }

    function test_RevertWhen_disburseBatchEmpty() public {
        vm.expectRevert(IPayoutRouterV0.EmptyBatch.selector);
        v0.disburseBatch(PERIOD, new address[](0), new uint256[](0), new bytes32[][](0));
    }

    function test_RevertWhen_disburseBatchLengthMismatch() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterV0.LengthMismatch.selector, 2, 1, 2));
        v0.disburseBatch(PERIOD, new address[](2), new uint256[](1), new bytes32[][](2));
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterV0.LengthMismatch.selector, 2, 2, 3));
        v0.disburseBatch(PERIOD, new address[](2), new uint256[](2), new bytes32[][](3));
    }

    function test_RevertWhen_disburseBatchOneBadProof_nothingPaid() public {
        _defaultPlan();
        (address[] memory tos, uint256[] memory am, bytes32[][] memory pp) = _three();
        am[2] = 999e6;
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, carol, 999e6));
        v0.disburseBatch(PERIOD, tos, am, pp);
        assertEq(v0.totalPaid(), 0);
    }

    function test_RevertWhen_disburseBatchLimitBreach_nothingPaid() public {
        _defaultPlan();
        vm.prank(admin);
        v0.setLimits(10e6, 1_000e6, 1_000e6);
        (address[] memory tos, uint256[] memory am, bytes32[][] memory pp) = _three();
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 1_000e6, 650e6)
        );
        v0.disburseBatch(PERIOD, tos, am, pp);
        assertEq(usdt.balanceOf(alice), 0);
    }

    function test_RevertWhen_disburseBatchPaused() public {
        vm.prank(admin);
        v0.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        v0.disburseBatch(PERIOD, new address[](1), new uint256[](1), new bytes32[][](1));
    }

    function test_RevertWhen_settleFromBatchCalledByAnyone() public {
        vm.expectRevert(PayoutRouterBase.OnlySelf.selector);
        v0.settleFromBatch(bytes32(uint256(1)), PERIOD, stranger, 100e6, _day());
        assertEq(usdt.balanceOf(stranger), 0);
    }

    // ------------------------------------------------------------------ limits, funding, withdraw, rescue

    function test_setLimits_updatesAndEmits() public {
        vm.expectEmit(true, true, true, true, address(v0));
        emit LimitsUpdated(1, 2, 3);
        vm.prank(admin);
        v0.setLimits(1, 2, 3);
        assertEq(v0.minPayout(), 1);
        assertEq(v0.maxPerPayout(), 2);
        assertEq(v0.dailyLimit(), 3);
    }

    function test_RevertWhen_setLimitsInvalid() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, 0, 2, 3));
        v0.setLimits(0, 2, 3);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, 3, 2, 3));
        v0.setLimits(3, 2, 3);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidLimits.selector, 1, 4, 3));
        v0.setLimits(1, 4, 3);
        vm.stopPrank();
    }

    function test_RevertWhen_setLimitsByTreasurer() public {
        bytes32 role = v0.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, treasurer, role)
        );
        vm.prank(treasurer);
        v0.setLimits(1, 2, 3);
    }

    function test_fund_emitsReceived() public {
        usdt.mint(stranger, 5e6);
        vm.startPrank(stranger);
        usdt.approve(address(v0), 5e6);
        vm.expectEmit(true, true, true, true, address(v0));
        emit Funded(stranger, 5e6);
        v0.fund(5e6);
        vm.stopPrank();
    }

    function test_RevertWhen_fundZero() public {
        vm.expectRevert(IPayoutRouter.ZeroAmount.selector);
        v0.fund(0);
    }

    function test_withdraw_worksWhilePaused() public {
        vm.startPrank(admin);
        v0.pause();
        vm.expectEmit(true, true, true, true, address(v0));
        emit Withdrawn(bob, 7e6);
        v0.withdraw(bob, 7e6);
        vm.stopPrank();
        assertEq(usdt.balanceOf(bob), 7e6);
    }

    function test_RevertWhen_withdrawInvalid() public {
        vm.startPrank(admin);
        vm.expectRevert(IPayoutRouter.ZeroRecipient.selector);
        v0.withdraw(address(0), 1);
        vm.expectRevert(IPayoutRouter.ZeroAmount.selector);
        v0.withdraw(bob, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, FUNDING + 1, FUNDING)
        );
        v0.withdraw(bob, FUNDING + 1);
        vm.stopPrank();
        bytes32 role = v0.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, treasurer, role)
        );
        vm.prank(treasurer);
        v0.withdraw(bob, 1);
    }

    function test_RevertWhen_withdrawTokenMovesNothing() public {
        MockTokenModes t = new MockTokenModes();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(t)));
        t.mint(address(r), 100e6);
        t.setMode(MockTokenModes.Mode.Noop, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.TransferAmountMismatch.selector, address(r), 5e6, 0)
        );
        vm.prank(admin);
        r.withdraw(bob, 5e6);
    }

    function test_rescue_otherToken() public {
        MockTokenModes t = new MockTokenModes();
        t.mint(address(v0), 9e6);
        vm.expectEmit(true, true, true, true, address(v0));
        emit Rescued(address(t), bob, 9e6);
        vm.prank(admin);
        v0.rescue(address(t), bob, 9e6);
        assertEq(t.balanceOf(bob), 9e6);
    }

    function test_RevertWhen_rescueUsdtOrInvalid() public {
        vm.startPrank(admin);
        vm.expectRevert(IPayoutRouter.RescueOfUsdt.selector);
        v0.rescue(address(usdt), bob, 1);
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        v0.rescue(address(0), bob, 1);
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        v0.rescue(address(this), address(0), 1);
        vm.expectRevert(IPayoutRouter.ZeroAmount.selector);
        v0.rescue(address(this), bob, 0);
        vm.stopPrank();
        bytes32 role = v0.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        v0.rescue(address(this), bob, 1);
    }

    // ------------------------------------------------------------------ pause, admin lifecycle

    function test_pause_byPauserUnpauseOnlyByAdmin() public {
        address pauser = makeAddr("pauser");
        bytes32 pr = v0.PAUSER_ROLE();
        vm.prank(admin);
        v0.grantRole(pr, pauser);
        vm.prank(pauser);
        v0.pause();
        assertTrue(v0.paused());
        bytes32 adminRole = v0.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, adminRole
            )
        );
        vm.prank(pauser);
        v0.unpause();
        vm.prank(admin);
        v0.unpause();
        assertFalse(v0.paused());
    }

    function test_RevertWhen_pauseByStranger() public {
        bytes32 pr = v0.PAUSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, pr)
        );
        vm.prank(stranger);
        v0.pause();
    }

    function test_RevertWhen_renounceAdmin() public {
        bytes32 adminRole = v0.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(PayoutRouterBase.AdminRenounceRefused.selector);
        vm.prank(admin);
        v0.renounceRole(adminRole, admin);
        // even after a scheduled transfer to zero (AccessControlDefaultAdminRules' way of renouncing)
        vm.prank(admin);
        v0.beginDefaultAdminTransfer(address(0));
        vm.warp(block.timestamp + 4 days);
        vm.expectRevert(PayoutRouterBase.AdminRenounceRefused.selector);
        vm.prank(admin);
        v0.renounceRole(adminRole, admin);
        assertEq(v0.defaultAdmin(), admin);
    }

    function test_renounceRole_otherRolesAllowed() public {
        bytes32 pr = v0.PAUSER_ROLE();
        vm.prank(admin);
        v0.renounceRole(pr, admin);
        assertFalse(v0.hasRole(pr, admin));
    }

    function test_beginDefaultAdminTransfer_twoStepWithDelay() public {
        address multisig = makeAddr("multisig");
        vm.prank(admin);
        v0.beginDefaultAdminTransfer(multisig);
        vm.expectRevert();
        vm.prank(multisig);
        v0.acceptDefaultAdminTransfer();
        vm.warp(block.timestamp + 3 days + 1);
        vm.prank(multisig);
        v0.acceptDefaultAdminTransfer();
        assertEq(v0.defaultAdmin(), multisig);
        vm.prank(multisig);
        v0.withdraw(multisig, 1e6);
        assertEq(usdt.balanceOf(multisig), 1e6);
    }

    function testFuzz_disburse_onlyExactPlannedTriplePays(address to, uint256 amount) public {
        _defaultPlan();
        vm.assume(to != address(0));
        bool planned = (to == alice && amount == 100e6);
        bytes32[] memory p = _proof(0);
        if (!planned) {
            vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, to, amount));
        }
        v0.disburse(PERIOD, to, amount, p);
    }
}
