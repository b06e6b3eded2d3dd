// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {PayoutFixture} from "./utils/PayoutFixture.sol";
import {PayoutRouterV0} from "../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {IPayoutRouterKYC} from "../src/interfaces/IPayoutRouterKYC.sol";
import {MockERC20ReturnsFalse} from "./mocks/MockERC20ReturnsFalse.sol";
import {MockReentrantToken} from "./mocks/MockReentrantToken.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";
import {MockTronUSDT} from "./mocks/MockTronUSDT.sol";

/// @notice Attacks on the payout routers: attestation replay across routers and chains, contract signers,
///         re-entrant and non-standard tokens, paused routers.
contract PayoutRouterAttacksTest is PayoutFixture {
    bytes32 internal constant ID1 = keccak256("id1");
    bytes32 internal constant ID2 = keccak256("id2");
    bytes32 internal constant KYC_A = keccak256("kyc-alice");

    uint64 internal expiry;

    function setUp() public override {
        super.setUp();
        expiry = uint64(block.timestamp + 30 days);
    }

    function _newKycRouter(IERC20 token) internal returns (PayoutRouterKYC r) {
        r = new PayoutRouterKYC(admin, token);
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), keeper);
        r.grantRole(r.COMPLIANCE_SIGNER_ROLE(), signer);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ replay

    function test_RevertWhen_attestationReplayedOnAnotherRouter() public {
        PayoutRouterKYC other = _newKycRouter(IERC20(address(usdt)));
        _fundRouter(address(other), 1_000e6);
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry); // signed for `kyc`
        assertTrue(kyc.isAttestationValid(alice, KYC_A, expiry, sig));
        assertFalse(other.isAttestationValid(alice, KYC_A, expiry, sig));
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        other.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        // and it does work where it was meant to
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_attestationReplayedOnAnotherChainId() public {
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry); // signed for chain 31337
        bytes32 sepBefore = kyc.domainSeparator();
        vm.chainId(728126428); // TRON mainnet's chain id
        assertTrue(kyc.domainSeparator() != sepBefore);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        // a signature for the new chain id is accepted
        bytes memory sig2 = _attest(signerKey, alice, KYC_A, expiry);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig2);
    }

    function testFuzz_RevertWhen_attestationReplayedOnChainId(uint64 chainId) public {
        vm.assume(chainId != block.chainid && chainId != 0);
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        vm.chainId(chainId);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_erc1271SignatureReplayedOnAnotherRouter() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        PayoutRouterKYC other = _newKycRouter(IERC20(address(usdt)));
        _fundRouter(address(other), 1_000e6);
        vm.startPrank(admin);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), address(wallet));
        other.grantRole(other.COMPLIANCE_SIGNER_ROLE(), address(wallet));
        vm.stopPrank();
        bytes memory sig = abi.encode(address(wallet), _attest(0x1111, alice, KYC_A, expiry));
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        other.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_payoutReplayedWithSameAttestation() public {
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        vm.startPrank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        vm.expectRevert(abi.encodeWithSignature("AlreadyPaid(bytes32)", ID1));
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ re-entrant token

    function test_RevertWhen_tokenReentersDisburse() public {
        MockReentrantToken token = new MockReentrantToken();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(token)));
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), keeper);
        r.grantRole(r.DISBURSER_ROLE(), address(token)); // even with the role, re-entry is refused
        vm.stopPrank();
        token.mint(address(r), 10_000e6);
        token.arm(address(r), abi.encodeCall(r.disburse, (ID2, bob, 100e6)), true);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(keeper);
        r.disburse(ID1, alice, 100e6);
        assertFalse(r.paid(ID1));
        assertFalse(r.paid(ID2));
    }

    function test_tokenReentrySwallowed_paysOnlyOnce() public {
        MockReentrantToken token = new MockReentrantToken();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(token)));
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), keeper);
        r.grantRole(r.DISBURSER_ROLE(), address(token));
        vm.stopPrank();
        token.mint(address(r), 10_000e6);
        // the token tries to pay the same payoutId again from inside the transfer
        token.arm(address(r), abi.encodeCall(r.disburse, (ID1, alice, 100e6)), false);
        vm.prank(keeper);
        r.disburse(ID1, alice, 100e6);
        assertEq(token.reentryAttempts(), 1);
        assertFalse(token.lastCallSucceeded());
        assertEq(bytes4(token.lastReturnData()), ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        assertEq(token.balanceOf(alice), 100e6);
        assertEq(r.totalPaid(), 100e6);
    }

    function test_RevertWhen_tokenReentersDisburseBatch() public {
        MockReentrantToken token = new MockReentrantToken();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(token)));
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), keeper);
        r.grantRole(r.DISBURSER_ROLE(), address(token));
        vm.stopPrank();
        token.mint(address(r), 10_000e6);
        bytes32[] memory ids = new bytes32[](1);
        address[] memory to = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (ids[0], to[0], amounts[0]) = (ID2, bob, 100e6);
        token.arm(address(r), abi.encodeCall(r.disburseBatch, (ids, to, amounts)), true);
        ids[0] = ID1;
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(keeper);
        r.disburseBatch(ids, to, amounts);
    }

    function test_RevertWhen_tokenReentersDisburseKYC() public {
        MockReentrantToken token = new MockReentrantToken();
        PayoutRouterKYC r = _newKycRouter(IERC20(address(token)));
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), address(token));
        vm.stopPrank();
        token.mint(address(r), 10_000e6);
        bytes memory sig = _sign(signerKey, _digest(address(r), alice, KYC_A, expiry));
        token.arm(address(r), abi.encodeCall(r.disburseKYC, (ID2, alice, 100e6, KYC_A, expiry, sig)), true);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        vm.prank(keeper);
        r.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_tokenReentersWithdrawDuringFund() public {
        MockReentrantToken token = new MockReentrantToken();
        PayoutRouterV0 r = new PayoutRouterV0(address(token), IERC20(address(token))); // token is the admin
        token.mint(address(this), 1_000e6);
        token.approve(address(r), 1_000e6);
        token.arm(address(r), abi.encodeCall(r.withdraw, (stranger, 1e6)), true);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        r.fund(1_000e6);
    }

    // ------------------------------------------------------------------ non-standard tokens

    function test_usdtStyleNoReturnTransfers_work() public {
        // MockUSDT's transfer returns nothing: a plain IERC20 call cannot decode it, SafeERC20 can.
        usdt.mint(address(this), 1e6);
        vm.expectRevert();
        this.plainTransfer(bob, 1e6);
        vm.prank(keeper);
        v0.disburse(ID1, alice, 100e6);
        assertEq(usdt.balanceOf(alice), 100e6);
        vm.prank(admin);
        v0.withdraw(bob, 1e6);
        assertEq(usdt.balanceOf(bob), 1e6);
    }

    function plainTransfer(address to, uint256 amount) external returns (bool) {
        return IERC20(address(usdt)).transfer(to, amount);
    }

    function test_RevertWhen_tokenReturnsFalse() public {
        MockERC20ReturnsFalse token = new MockERC20ReturnsFalse();
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(address(token)));
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), keeper);
        vm.stopPrank();
        token.mint(address(this), 1_000e6);
        token.approve(address(r), 1_000e6);
        r.fund(1_000e6); // transferFrom behaves
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(keeper);
        r.disburse(ID1, alice, 100e6);
        assertFalse(r.paid(ID1)); // the whole payout reverted, nothing recorded
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(admin);
        r.withdraw(admin, 1e6);
    }

    function test_RevertWhen_tokenReturnsFalseOnKYC() public {
        MockERC20ReturnsFalse token = new MockERC20ReturnsFalse();
        PayoutRouterKYC r = _newKycRouter(IERC20(address(token)));
        token.mint(address(r), 1_000e6);
        bytes memory sig = _sign(signerKey, _digest(address(r), alice, KYC_A, expiry));
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(keeper);
        r.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function _tronRouters() internal returns (MockTronUSDT token, PayoutRouterV0 r, PayoutRouterKYC k) {
        token = new MockTronUSDT();
        r = new PayoutRouterV0(admin, IERC20(address(token)));
        k = _newKycRouter(IERC20(address(token)));
        vm.startPrank(admin);
        r.grantRole(r.DISBURSER_ROLE(), keeper);
        vm.stopPrank();
        // fund through fund(): TRON USDT's transferFrom returns true
        token.mint(address(this), 20_000e6);
        token.approve(address(r), 10_000e6);
        r.fund(10_000e6);
        token.approve(address(k), 10_000e6);
        k.fund(10_000e6);
    }

    function test_tronUsdtFalseReturnOnSuccess_works() public {
        (MockTronUSDT token, PayoutRouterV0 r, PayoutRouterKYC k) = _tronRouters();
        vm.prank(keeper);
        r.disburse(ID1, alice, 100e6);
        assertEq(token.balanceOf(alice), 100e6);

        bytes32[] memory ids = new bytes32[](2);
        address[] memory to = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (ids[0], to[0], amounts[0]) = (ID2, bob, 200e6);
        (ids[1], to[1], amounts[1]) = (keccak256("id3"), alice, 300e6);
        vm.prank(keeper);
        r.disburseBatch(ids, to, amounts);
        assertEq(token.balanceOf(bob), 200e6);
        assertEq(token.balanceOf(alice), 400e6);

        bytes memory sig = _sign(signerKey, _digest(address(k), alice, KYC_A, expiry));
        vm.prank(keeper);
        k.disburseKYC(ID1, alice, 1_000e6, KYC_A, expiry, sig);
        assertEq(token.balanceOf(alice), 1_400e6);

        vm.prank(admin);
        r.withdraw(admin, 1_000e6);
        assertEq(token.balanceOf(admin), 1_000e6);
        assertEq(token.balanceOf(address(r)), 10_000e6 - 600e6 - 1_000e6);
    }

    function test_RevertWhen_tronUsdtChargesFee() public {
        (MockTronUSDT token, PayoutRouterV0 r,) = _tronRouters();
        token.setFeeBps(10); // 0.1 %: the recipient would get less than `amount` and `transfer` says false
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(keeper);
        r.disburse(ID1, alice, 100e6);
        assertFalse(r.paid(ID1));
        assertEq(token.balanceOf(alice), 0);
    }

    function test_RevertWhen_tronUsdtSelfTransferReturnsFalse() public {
        (MockTronUSDT token, PayoutRouterV0 r,) = _tronRouters();
        // a `false` with no balance movement (paying the router itself) is not proof of success
        vm.expectRevert(abi.encodeWithSelector(SafeERC20.SafeERC20FailedOperation.selector, address(token)));
        vm.prank(admin);
        r.withdraw(address(r), 1e6);
    }

    function test_RevertWhen_tokenHasNoCode() public {
        PayoutRouterV0 r = new PayoutRouterV0(admin, IERC20(makeAddr("not-a-token")));
        vm.expectRevert();
        r.fund(1e6);
    }

    // ------------------------------------------------------------------ paused routers

    function test_RevertWhen_pausedRoutersDisburse() public {
        vm.startPrank(admin);
        v0.pause();
        kyc.pause();
        vm.stopPrank();
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        bytes32[] memory ids = new bytes32[](1);
        address[] memory to = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (ids[0], to[0], amounts[0]) = (ID2, bob, 100e6);
        vm.startPrank(keeper);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        v0.disburse(ID1, alice, 100e6);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        v0.disburseBatch(ids, to, amounts);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        vm.stopPrank();
    }

    function test_RevertWhen_strangerGrantsHimselfDisburser() public {
        bytes32 role = v0.DISBURSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSignature(
                "AccessControlUnauthorizedAccount(address,bytes32)", stranger, v0.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(stranger);
        v0.grantRole(role, stranger);
    }
}
