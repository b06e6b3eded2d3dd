// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IPayoutRouter} from "../src/interfaces/IPayoutRouter.sol";
import {IPayoutRouterKYC} from "../src/interfaces/IPayoutRouterKYC.sol";
import {PayoutRouterBase} from "../src/PayoutRouterBase.sol";
import {PayoutRouterV0} from "../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {MockTronUSDT} from "./mocks/MockTronUSDT.sol";
import {MockTokenModes} from "./mocks/MockTokenModes.sol";
import {MockReentrantToken} from "./mocks/MockReentrantToken.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {PayoutFixture} from "./utils/PayoutFixture.sol";

/// @notice The audit's findings against the payout routers (issue 7, items 3, 4, 5, 7), each as the attack it
///         describes. v1 let the DISBURSER_ROLE key pay anyone up to the daily limits; in v1.1 there is no such
///         role: the attacker below (`stranger`) may call everything a stolen keeper key could.
contract PayoutRouterAttacksTest is PayoutFixture {
    bytes32 internal constant KYC_A = keccak256("kyc-a");
    uint64 internal expiry;

    function setUp() public override {
        super.setUp();
        expiry = uint64(block.timestamp + 90 days);
    }

    function _planV0KycAlice() internal {
        // V0 pays alice 100; KYC pays bob 200.
        _plan3(address(v0), alice, 100e6, address(kyc), bob, 200e6);
    }

    /// Finding 3: invent a payout (recipient and amount of the attacker's choice) — no plan leaf, no payout.
    function test_attack_stolenKeyInventsPayout_reverts() public {
        _planV0KycAlice();
        bytes32[] memory p = _proof(0);
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, stranger, 100e6));
        v0.disburse(PERIOD, stranger, 100e6, p);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, stranger, 1_000e6)
        );
        v0.disburse(PERIOD, stranger, 1_000e6, new bytes32[](0));
        // a period without a plan pays nothing at all
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.NoRoot.selector, PERIOD + 1));
        v0.disburse(PERIOD + 1, stranger, 100e6, new bytes32[](0));
        vm.stopPrank();
        assertEq(usdt.balanceOf(stranger), 0);
    }

    /// Finding 3: one payoutId paid once on V0 and once on KYC. The router is in the leaf: a V0 payout cannot be
    /// proven on the KYC router.
    function test_attack_samePayoutIdThroughBothRouters_reverts() public {
        _planV0KycAlice();
        bytes32[] memory p = _proof(0);
        v0.disburse(PERIOD, alice, 100e6, p);
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, alice, 100e6));
        kyc.disburseKYC(PERIOD, alice, 100e6, p, KYC_A, expiry, sig);
        assertEq(usdt.balanceOf(alice), 100e6);
    }

    /// Finding 3: a real payoutId spent on another recipient, after which the real payout failed AlreadyPaid.
    /// The id is computed on chain from (period, to): a proof for A cannot pay B, and A's payout stays payable.
    function test_attack_idDerivedForAPaidToB_reverts() public {
        _planV0KycAlice();
        bytes32[] memory p = _proof(0);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, stranger, 100e6));
        v0.disburse(PERIOD, stranger, 100e6, p);
        assertFalse(v0.paid(_pid(PERIOD, alice)));
        v0.disburse(PERIOD, alice, 100e6, p);
        assertTrue(v0.paid(_pid(PERIOD, alice)));
    }

    /// Finding 3: a leaf that is not in the root (here: a valid leaf of another plan).
    function test_attack_leafNotInRoot_reverts() public {
        bytes32[] memory other = new bytes32[](2);
        other[0] = _leaf(address(v0), PERIOD, stranger, 500e6);
        other[1] = _leaf(address(v0), PERIOD, alice, 100e6);
        bytes32[] memory otherProof = MerkleBuilder.proof(other, 0);
        _planV0KycAlice();
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, stranger, 500e6));
        v0.disburse(PERIOD, stranger, 500e6, otherProof);
    }

    /// Finding 3: the sum paid under a root never exceeds its total, whatever the tree holds.
    function test_attack_periodTotalExceeded_reverts() public {
        address[] memory rs = new address[](3);
        address[] memory ts = new address[](3);
        uint256[] memory am = new uint256[](3);
        (rs[0], ts[0], am[0]) = (address(v0), alice, 400e6);
        (rs[1], ts[1], am[1]) = (address(v0), bob, 400e6);
        (rs[2], ts[2], am[2]) = (address(v0), carol, 400e6);
        _plan(PERIOD, rs, ts, am, 1_000e6); // tree sums to 1,200 but the treasury approved 1,000
        v0.disburse(PERIOD, alice, 400e6, _proof(0));
        v0.disburse(PERIOD, bob, 400e6, _proof(1));
        bytes32[] memory p = _proof(2);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.PeriodTotalExceeded.selector, PERIOD, 400e6, 200e6)
        );
        v0.disburse(PERIOD, carol, 400e6, p);
        assertLe(v0.periodPaid(PERIOD), v0.periodTotal(PERIOD));
    }

    /// Finding 3: replacing the plan after payouts started (to pay the same recipients again under new amounts).
    function test_attack_replaceRootAfterPaying_reverts() public {
        _planV0KycAlice();
        v0.disburse(PERIOD, alice, 100e6, _proof(0));
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.PeriodAlreadyPaying.selector, PERIOD));
        vm.prank(treasurer);
        v0.setPeriodRoot(PERIOD, _leaf(address(v0), PERIOD, alice, 900e6), 900e6);
    }

    /// Finding 3: limits lowered mid-day take effect at once; raising them lets the rest through (the plan still
    /// bounds what can be paid).
    function test_attack_limitsChangedMidDay() public {
        address[] memory rs = new address[](3);
        address[] memory ts = new address[](3);
        uint256[] memory am = new uint256[](3);
        (rs[0], ts[0], am[0]) = (address(v0), alice, 600e6);
        (rs[1], ts[1], am[1]) = (address(v0), bob, 600e6);
        (rs[2], ts[2], am[2]) = (address(v0), carol, 600e6);
        _plan(PERIOD, rs, ts, am, 0);
        v0.disburse(PERIOD, alice, 600e6, _proof(0));
        vm.prank(admin);
        v0.setLimits(10e6, 1_000e6, 1_000e6);
        bytes32[] memory p = _proof(1);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 600e6, 400e6)
        );
        v0.disburse(PERIOD, bob, 600e6, p);
        vm.prank(admin);
        v0.setLimits(10e6, 500e6, 500e6); // below what was spent today: nothing more today
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AboveMaximum.selector, 600e6, 500e6));
        v0.disburse(PERIOD, bob, 600e6, p);
        vm.prank(admin);
        v0.setLimits(10e6, 1_000e6, 10_000e6);
        v0.disburse(PERIOD, bob, 600e6, p);
        assertEq(v0.totalPaid(), 1_200e6);
    }

    /// Finding 3: the burst across UTC midnight (the daily limit twice within seconds). The day rolls over, but
    /// only planned payouts exist and the period total caps the sum.
    function test_attack_burstAcrossUtcMidnight_boundedByPlan() public {
        address[] memory rs = new address[](4);
        address[] memory ts = new address[](4);
        uint256[] memory am = new uint256[](4);
        address dave = makeAddr("dave");
        (rs[0], ts[0], am[0]) = (address(v0), alice, 1_000e6);
        (rs[1], ts[1], am[1]) = (address(v0), bob, 1_000e6);
        (rs[2], ts[2], am[2]) = (address(v0), carol, 1_000e6);
        (rs[3], ts[3], am[3]) = (address(v0), dave, 1_000e6);
        _plan(PERIOD, rs, ts, am, 0);
        vm.prank(admin);
        v0.setLimits(10e6, 1_000e6, 2_000e6);
        vm.warp((block.timestamp / 1 days + 1) * 1 days - 1); // 23:59:59
        v0.disburse(PERIOD, alice, 1_000e6, _proof(0));
        v0.disburse(PERIOD, bob, 1_000e6, _proof(1));
        bytes32[] memory p2 = _proof(2);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 1_000e6, uint256(0))
        );
        v0.disburse(PERIOD, carol, 1_000e6, p2);
        vm.warp(block.timestamp + 1); // 00:00:00
        v0.disburse(PERIOD, carol, 1_000e6, p2);
        v0.disburse(PERIOD, dave, 1_000e6, _proof(3));
        // everything planned is paid, nothing else can be
        assertEq(v0.periodPaid(PERIOD), v0.periodTotal(PERIOD));
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, _pid(PERIOD, alice)));
        v0.disburse(PERIOD, alice, 1_000e6, _proof(0));
        assertEq(v0.totalPaid(), 4_000e6);
    }

    /// Finding 3: a KYC attestation lifted from old calldata pays nothing unplanned.
    function test_attack_reuseOldKycAttestation_paysOnlyThePlan() public {
        _planV0KycAlice();
        bytes memory sig = _attest(signerKey, bob, KYC_A, expiry);
        kyc.disburseKYC(PERIOD, bob, 200e6, _proof(1), KYC_A, expiry, sig);
        // next month: no leaf for bob in the new plan's root
        vm.prank(treasurer);
        kyc.setPeriodRoot(PERIOD + 1, _leaf(address(kyc), PERIOD + 1, carol, 50e6), 50e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD + 1, bob, 200e6));
        kyc.disburseKYC(PERIOD + 1, bob, 200e6, new bytes32[](0), KYC_A, expiry, sig);
        assertEq(usdt.balanceOf(bob), 200e6);
    }

    /// Finding 7: one kycHash attested for many addresses multiplied the per-recipient limit; it is keyed by
    /// kycHash now.
    function test_attack_oneKycHashManyAddresses_sharesRecipientLimit() public {
        address[] memory rs = new address[](3);
        address[] memory ts = new address[](3);
        uint256[] memory am = new uint256[](3);
        (rs[0], ts[0], am[0]) = (address(kyc), alice, 5_000e6);
        (rs[1], ts[1], am[1]) = (address(kyc), bob, 5_000e6);
        (rs[2], ts[2], am[2]) = (address(kyc), carol, 5_000e6);
        _plan(PERIOD, rs, ts, am, 0);
        kyc.disburseKYC(
            PERIOD, alice, 5_000e6, _proof(0), KYC_A, expiry, _attest(signerKey, alice, KYC_A, expiry)
        );
        kyc.disburseKYC(
            PERIOD, bob, 5_000e6, _proof(1), KYC_A, expiry, _attest(signerKey, bob, KYC_A, expiry)
        );
        bytes32[] memory p = _proof(2);
        bytes memory sig = _attest(signerKey, carol, KYC_A, expiry);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayoutRouterKYC.RecipientDailyLimitExceeded.selector, KYC_A, _day(), 5_000e6, uint256(0)
            )
        );
        kyc.disburseKYC(PERIOD, carol, 5_000e6, p, KYC_A, expiry, sig);
    }

    /// Finding 5: a fee switched on in TRON's USDT (returns false): disburse refuses to short-pay; withdraw, which
    /// checks the router's own balance, still works (v1 reverted it too).
    function test_attack_tronUsdtFeeSwitchedOn() public {
        MockTronUSDT t = new MockTronUSDT();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(t)));
        t.mint(address(r), 10_000e6);
        bytes32 role = r.TREASURER_ROLE();
        vm.prank(admin);
        r.grantRole(role, treasurer);
        vm.prank(treasurer);
        r.setPeriodRoot(PERIOD, _leaf(address(r), PERIOD, alice, 100e6), 100e6);
        t.setFeeBps(10); // 0.1 %
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.TransferAmountMismatch.selector, alice, 100e6, 99.9e6)
        );
        r.disburse(PERIOD, alice, 100e6, new bytes32[](0));
        assertEq(r.totalPaid(), 0);
        vm.prank(admin);
        r.withdraw(admin, 1_000e6);
        assertEq(t.balanceOf(address(r)), 9_000e6);
        assertEq(t.balanceOf(admin), 999e6);
    }

    /// Finding 5: a true-returning fee token short-paid silently while totalPaid counted the full amount.
    function test_attack_trueReturningFeeToken_refused() public {
        MockTokenModes t = new MockTokenModes();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(t)));
        t.mint(address(r), 10_000e6);
        bytes32 role = r.TREASURER_ROLE();
        vm.prank(admin);
        r.grantRole(role, treasurer);
        vm.prank(treasurer);
        r.setPeriodRoot(PERIOD, _leaf(address(r), PERIOD, alice, 100e6), 100e6);
        t.setMode(MockTokenModes.Mode.Fee, 100); // 1 %
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.TransferAmountMismatch.selector, alice, 100e6, 99e6)
        );
        r.disburse(PERIOD, alice, 100e6, new bytes32[](0));
        t.setMode(MockTokenModes.Mode.Noop, 0); // claims success, moves nothing
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.TransferAmountMismatch.selector, alice, 100e6, 0)
        );
        r.disburse(PERIOD, alice, 100e6, new bytes32[](0));
        t.setMode(MockTokenModes.Mode.Normal, 0);
        r.disburse(PERIOD, alice, 100e6, new bytes32[](0));
        assertEq(t.balanceOf(alice), 100e6);
        assertEq(r.totalPaid(), 100e6);
    }

    /// Finding 7: one blacklisted recipient (a token reverting mid-batch) used to revert a whole disburseBatch.
    function test_attack_tokenRevertingMidBatch_othersPaid() public {
        MockTokenModes t = new MockTokenModes();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(t)));
        t.mint(address(r), 10_000e6);
        bytes32 role = r.TREASURER_ROLE();
        vm.prank(admin);
        r.grantRole(role, treasurer);
        bytes32[] memory lv = new bytes32[](3);
        lv[0] = _leaf(address(r), PERIOD, alice, 100e6);
        lv[1] = _leaf(address(r), PERIOD, bob, 200e6);
        lv[2] = _leaf(address(r), PERIOD, carol, 300e6);
        vm.prank(treasurer);
        r.setPeriodRoot(PERIOD, MerkleBuilder.root(lv), 600e6);
        t.setBlacklisted(bob, true);
        address[] memory tos = new address[](3);
        uint256[] memory am = new uint256[](3);
        bytes32[][] memory pp = new bytes32[][](3);
        (tos[0], am[0], pp[0]) = (alice, 100e6, MerkleBuilder.proof(lv, 0));
        (tos[1], am[1], pp[1]) = (bob, 200e6, MerkleBuilder.proof(lv, 1));
        (tos[2], am[2], pp[2]) = (carol, 300e6, MerkleBuilder.proof(lv, 2));
        r.disburseBatch(PERIOD, tos, am, pp);
        assertEq(t.balanceOf(alice), 100e6);
        assertEq(t.balanceOf(bob), 0);
        assertEq(t.balanceOf(carol), 300e6);
        assertEq(r.totalPaid(), 400e6);
        assertFalse(r.paid(_pid(PERIOD, bob)));
    }

    /// A token calling back into the router during a transfer: every paying function is nonReentrant, and the
    /// self-call of disburseBatch cannot be reached from outside.
    function test_attack_reentrantToken_blocked() public {
        MockReentrantToken t = new MockReentrantToken();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(t)));
        t.mint(address(r), 10_000e6);
        bytes32 role = r.TREASURER_ROLE();
        vm.prank(admin);
        r.grantRole(role, treasurer);
        bytes32[] memory lv = new bytes32[](2);
        lv[0] = _leaf(address(r), PERIOD, alice, 100e6);
        lv[1] = _leaf(address(r), PERIOD, bob, 200e6);
        vm.prank(treasurer);
        r.setPeriodRoot(PERIOD, MerkleBuilder.root(lv), 300e6);
        t.arm(address(r), abi.encodeCall(r.disburse, (PERIOD, bob, 200e6, MerkleBuilder.proof(lv, 1))), true);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        r.disburse(PERIOD, alice, 100e6, MerkleBuilder.proof(lv, 0));
        t.arm(
            address(r),
            abi.encodeCall(r.settleFromBatch, (_pid(PERIOD, bob), PERIOD, bob, 200e6, _day())),
            true
        );
        vm.expectRevert(PayoutRouterBase.OnlySelf.selector);
        r.disburse(PERIOD, alice, 100e6, MerkleBuilder.proof(lv, 0));
        assertEq(r.totalPaid(), 0);
    }

    /// Finding 4: renouncing a router's admin stranded its USDT and left a compromised role unrevocable.
    function test_attack_renounceRouterAdmin_refusedAndTransferIsTwoStep() public {
        bytes32 adminRole = v0.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(PayoutRouterBase.AdminRenounceRefused.selector);
        vm.prank(admin);
        v0.renounceRole(adminRole, admin);
        address multisig = makeAddr("multisig");
        vm.prank(admin);
        kyc.beginDefaultAdminTransfer(multisig);
        vm.warp(block.timestamp + 3 days + 1);
        vm.prank(multisig);
        kyc.acceptDefaultAdminTransfer();
        // the new admin can revoke a compromised treasurer and move the funds
        bytes32 tr = kyc.TREASURER_ROLE();
        vm.startPrank(multisig);
        kyc.revokeRole(tr, treasurer);
        kyc.withdraw(multisig, FUNDING);
        vm.stopPrank();
        assertEq(usdt.balanceOf(multisig), FUNDING);
    }

    /// Finding 4: only the admin unpauses, so a stolen pauser key cannot resume payouts after an incident.
    function test_attack_pauserCannotUnpause() public {
        address pauserKey = makeAddr("pauserKey");
        bytes32 pr = v0.PAUSER_ROLE();
        vm.prank(admin);
        v0.grantRole(pr, pauserKey);
        vm.prank(admin);
        v0.pause();
        vm.expectRevert();
        vm.prank(pauserKey);
        v0.unpause();
        assertTrue(v0.paused());
    }
}
