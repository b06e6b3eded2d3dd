// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IPayoutRouter} from "../src/interfaces/IPayoutRouter.sol";
import {IPayoutRouterKYC} from "../src/interfaces/IPayoutRouterKYC.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";
import {MockGasBurner1271} from "./mocks/MockGasBurner1271.sol";
import {PayoutFixture} from "./utils/PayoutFixture.sol";

contract PayoutRouterKYCTest is PayoutFixture {
    event PaidKYC(
        bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period, bytes32 kycHash
    );
    event KycRevoked(bytes32 indexed kycHash, address indexed by);
    event RecipientDailyLimitUpdated(uint256 recipientDailyLimit);

    bytes32 internal constant KYC_A = keccak256("kyc-a");
    bytes32 internal constant KYC_B = keccak256("kyc-b");
    uint64 internal expiry;

    function setUp() public override {
        super.setUp();
        expiry = uint64(block.timestamp + 90 days);
        address[] memory rs = new address[](4);
        address[] memory ts = new address[](4);
        uint256[] memory am = new uint256[](4);
        (rs[0], ts[0], am[0]) = (address(kyc), alice, 100e6);
        (rs[1], ts[1], am[1]) = (address(kyc), bob, 4_000e6);
        (rs[2], ts[2], am[2]) = (address(kyc), carol, 5_000e6);
        (rs[3], ts[3], am[3]) = (address(v0), alice, 100e6);
        _plan(PERIOD, rs, ts, am, 0);
    }

    function _payKyc(uint256 i, address to, uint256 amount, bytes32 kycHash, bytes memory sig) internal {
        vm.prank(stranger); // anyone executes
        kyc.disburseKYC(PERIOD, to, amount, _proof(i), kycHash, expiry, sig);
    }

    function _expectRevertKyc(
        bytes memory err,
        uint256 i,
        address to,
        uint256 amount,
        bytes32 kycHash,
        bytes memory sig
    ) internal {
        bytes32[] memory p = _proof(i);
        vm.expectRevert(err);
        kyc.disburseKYC(PERIOD, to, amount, p, kycHash, expiry, sig);
    }

    function _grantSigner(address who) internal {
        bytes32 role = kyc.COMPLIANCE_SIGNER_ROLE();
        vm.prank(admin);
        kyc.grantRole(role, who);
    }

    // ------------------------------------------------------------------ deployment, EIP-712

    function test_constructor_setsDefaultsAndRoles() public view {
        assertEq(kyc.minPayout(), 10e6);
        assertEq(kyc.maxPerPayout(), 5_000e6);
        assertEq(kyc.dailyLimit(), 50_000e6);
        assertEq(kyc.recipientDailyLimit(), 10_000e6);
        assertEq(kyc.defaultAdmin(), admin);
        assertTrue(kyc.hasRole(kyc.COMPLIANCE_SIGNER_ROLE(), signer));
        assertEq(kyc.KYC_ATTESTATION_TYPEHASH(), KYC_TYPEHASH);
    }

    function test_domainSeparator_matchesEip712() public view {
        assertEq(
            kyc.domainSeparator(),
            keccak256(
                abi.encode(
                    DOMAIN_TYPEHASH, keccak256("LucidPayoutKYC"), keccak256("1"), block.chainid, address(kyc)
                )
            )
        );
    }

    function testFuzz_attestationDigest_matchesManualEncoding(address to, bytes32 kycHash, uint64 exp)
        public
        view
    {
        assertEq(kyc.attestationDigest(to, kycHash, exp), _digest(address(kyc), to, kycHash, exp));
    }

    // ------------------------------------------------------------------ disburseKYC

    function test_disburseKYC_paysAndRecords() public {
        bytes32 id = _pid(PERIOD, bob);
        vm.expectEmit(true, true, true, true, address(kyc));
        emit PaidKYC(id, bob, 4_000e6, PERIOD, KYC_B);
        _payKyc(1, bob, 4_000e6, KYC_B, _attest(signerKey, bob, KYC_B, expiry));
        assertEq(usdt.balanceOf(bob), 4_000e6);
        assertTrue(kyc.paid(id));
        assertEq(kyc.recipientSpentOnDay(KYC_B, _day()), 4_000e6);
        assertEq(kyc.spentOnDay(_day()), 4_000e6);
        assertEq(kyc.periodPaid(PERIOD), 4_000e6);
        assertEq(kyc.totalPaid(), 4_000e6);
    }

    function test_disburseKYC_oneSecondBeforeExpiry() public {
        vm.warp(expiry - 1);
        _payKyc(0, alice, 100e6, KYC_A, _attest(signerKey, alice, KYC_A, expiry));
        assertEq(usdt.balanceOf(alice), 100e6);
    }

    function test_RevertWhen_disburseKYCPaused() public {
        vm.prank(admin);
        kyc.pause();
        _expectRevertKyc(
            abi.encodeWithSelector(Pausable.EnforcedPause.selector), 0, alice, 100e6, KYC_A, new bytes(65)
        );
    }

    function test_RevertWhen_disburseKYCZeroKycHash() public {
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouterKYC.ZeroKycHash.selector),
            0,
            alice,
            100e6,
            bytes32(0),
            new bytes(65)
        );
    }

    function test_RevertWhen_disburseKYCZeroRecipient() public {
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouter.ZeroRecipient.selector),
            0,
            address(0),
            100e6,
            KYC_A,
            new bytes(65)
        );
    }

    function test_RevertWhen_disburseKYCNoRootOrInvalidProof() public {
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.NoRoot.selector, PERIOD + 1));
        kyc.disburseKYC(PERIOD + 1, alice, 100e6, _proof(0), KYC_A, expiry, sig);
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouter.InvalidProof.selector, PERIOD, alice, 200e6),
            0,
            alice,
            200e6,
            KYC_A,
            sig
        );
    }

    function test_RevertWhen_disburseKYCExpired() public {
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        vm.warp(expiry);
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouterKYC.AttestationExpired.selector, expiry, block.timestamp),
            0,
            alice,
            100e6,
            KYC_A,
            sig
        );
    }

    function test_RevertWhen_disburseKYCRevoked() public {
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        vm.prank(signer);
        kyc.revokeKyc(KYC_A);
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouterKYC.KycRevokedError.selector, KYC_A),
            0,
            alice,
            100e6,
            KYC_A,
            sig
        );
    }

    function test_RevertWhen_disburseKYCAttestationMismatch() public {
        bytes memory err = abi.encodeWithSelector(IPayoutRouterKYC.InvalidAttestation.selector);
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, _attest(signerKey, bob, KYC_A, expiry)); // other recipient
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, _attest(signerKey, alice, KYC_B, expiry)); // other kycHash
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, _attest(signerKey, alice, KYC_A, expiry + 1)); // other expiry
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, _attest(0xBAD, alice, KYC_A, expiry)); // not a signer
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, new bytes(65)); // garbage
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, new bytes(64)); // wrong length
    }

    function test_RevertWhen_disburseKYCHighSSignature() public {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, _digest(address(kyc), alice, KYC_A, expiry));
        bytes memory high =
            abi.encodePacked(r, bytes32(SECP256K1_N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouterKYC.InvalidAttestation.selector), 0, alice, 100e6, KYC_A, high
        );
    }

    /// @dev AlreadyPaid is checked before the signature, so a keeper's retry of a paid payout costs little.
    function test_RevertWhen_disburseKYCAlreadyPaid_beforeSignatureCheck() public {
        _payKyc(0, alice, 100e6, KYC_A, _attest(signerKey, alice, KYC_A, expiry));
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, _pid(PERIOD, alice)),
            0,
            alice,
            100e6,
            KYC_A,
            new bytes(65)
        );
    }

    function test_RevertWhen_disburseKYCRecipientDailyLimitExceeded() public {
        vm.prank(admin);
        kyc.setRecipientDailyLimit(5_000e6);
        _payKyc(1, bob, 4_000e6, KYC_B, _attest(signerKey, bob, KYC_B, expiry));
        _expectRevertKyc(
            abi.encodeWithSelector(
                IPayoutRouterKYC.RecipientDailyLimitExceeded.selector, KYC_B, _day(), 5_000e6, 1_000e6
            ),
            2,
            carol,
            5_000e6,
            KYC_B,
            _attest(signerKey, carol, KYC_B, expiry)
        );
        vm.prank(admin);
        kyc.setRecipientDailyLimit(1_000e6); // below what was spent: remaining 0
        _expectRevertKyc(
            abi.encodeWithSelector(
                IPayoutRouterKYC.RecipientDailyLimitExceeded.selector, KYC_B, _day(), 5_000e6, 0
            ),
            2,
            carol,
            5_000e6,
            KYC_B,
            _attest(signerKey, carol, KYC_B, expiry)
        );
    }

    function test_RevertWhen_disburseKYCDailyLimitExceeded() public {
        vm.prank(admin);
        kyc.setLimits(10e6, 5_000e6, 5_000e6);
        _payKyc(1, bob, 4_000e6, KYC_B, _attest(signerKey, bob, KYC_B, expiry));
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 5_000e6, 1_000e6),
            2,
            carol,
            5_000e6,
            KYC_A,
            _attest(signerKey, carol, KYC_A, expiry)
        );
    }

    function test_RevertWhen_disburseKYCInsufficientBalance() public {
        vm.prank(admin);
        kyc.withdraw(admin, FUNDING - 10e6);
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, 100e6, 10e6),
            0,
            alice,
            100e6,
            KYC_A,
            _attest(signerKey, alice, KYC_A, expiry)
        );
    }

    // ------------------------------------------------------------------ ERC-1271 signers

    function test_disburseKYC_erc1271TwoOfTwoMultisig() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), vm.addr(0x2222));
        _grantSigner(address(wallet));
        bytes memory inner =
            abi.encodePacked(_attest(0x1111, alice, KYC_A, expiry), _attest(0x2222, alice, KYC_A, expiry));
        bytes memory sig = abi.encode(address(wallet), inner);
        assertTrue(kyc.isAttestationValid(alice, KYC_A, expiry, sig));
        _payKyc(0, alice, 100e6, KYC_A, sig);
        assertEq(usdt.balanceOf(alice), 100e6);
    }

    function test_RevertWhen_erc1271WalletLacksRoleOrMisbehaves() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        bytes memory sig = abi.encode(address(wallet), _attest(0x1111, alice, KYC_A, expiry));
        bytes memory err = abi.encodeWithSelector(IPayoutRouterKYC.InvalidAttestation.selector);
        _expectRevertKyc(err, 0, alice, 100e6, KYC_A, sig);
        _grantSigner(address(wallet));
        MockERC1271Wallet.Mode[3] memory modes = [
            MockERC1271Wallet.Mode.RejectAll, MockERC1271Wallet.Mode.WrongMagic, MockERC1271Wallet.Mode.Revert
        ];
        for (uint256 i; i < modes.length; ++i) {
            wallet.setMode(modes[i]);
            _expectRevertKyc(err, 0, alice, 100e6, KYC_A, sig);
        }
    }

    function test_RevertWhen_erc1271MalformedEncoding() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        _grantSigner(address(wallet));
        bytes memory inner = _attest(0x1111, alice, KYC_A, expiry);
        bytes[3] memory bad = [
            abi.encodePacked(
                uint256(uint160(address(wallet))) | (uint256(1) << 200), uint256(0x40), inner.length, inner
            ),
            abi.encodePacked(uint256(uint160(address(wallet))), uint256(0x60), inner.length, inner),
            abi.encodePacked(uint256(uint160(address(wallet))), uint256(0x40), inner.length + 1, inner)
        ];
        for (uint256 i; i < bad.length; ++i) {
            assertFalse(kyc.isAttestationValid(alice, KYC_A, expiry, bad[i]));
            _expectRevertKyc(
                abi.encodeWithSelector(IPayoutRouterKYC.InvalidAttestation.selector),
                0,
                alice,
                100e6,
                KYC_A,
                bad[i]
            );
        }
        _payKyc(
            0,
            alice,
            100e6,
            KYC_A,
            abi.encodePacked(uint256(uint160(address(wallet))), uint256(0x40), inner.length, inner)
        );
    }

    /// @dev A gas-burning ERC-1271 contract: without COMPLIANCE_SIGNER_ROLE it is never called (the role is checked
    ///      first); with the role (a compromised or broken signer) the call gets at most 63/64 of the gas and the
    ///      attestation is simply invalid.
    function test_RevertWhen_erc1271SignerBurnsAllGas() public {
        MockGasBurner1271 burner = new MockGasBurner1271();
        bytes memory sig = abi.encode(address(burner), hex"01");
        bytes32[] memory p = _proof(0);
        uint256 g = gasleft();
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        kyc.disburseKYC(PERIOD, alice, 100e6, p, KYC_A, expiry, sig);
        assertLt(g - gasleft(), 200_000, "an unauthorised contract was called");
        _grantSigner(address(burner));
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        kyc.disburseKYC{gas: 2_000_000}(PERIOD, alice, 100e6, p, KYC_A, expiry, sig);
        assertFalse(kyc.paid(_pid(PERIOD, alice)));
    }

    // ------------------------------------------------------------------ views, revocation, limits

    function test_isAttestationValid_cases() public {
        bytes memory sig = _attest(signerKey, alice, KYC_A, expiry);
        assertTrue(kyc.isAttestationValid(alice, KYC_A, expiry, sig));
        assertFalse(kyc.isAttestationValid(bob, KYC_A, expiry, sig));
        assertFalse(
            kyc.isAttestationValid(address(0), KYC_A, expiry, _attest(signerKey, address(0), KYC_A, expiry))
        );
        assertFalse(
            kyc.isAttestationValid(alice, bytes32(0), expiry, _attest(signerKey, alice, bytes32(0), expiry))
        );
        vm.warp(expiry);
        assertFalse(kyc.isAttestationValid(alice, KYC_A, expiry, sig));
        vm.warp(expiry - 1);
        vm.prank(admin);
        kyc.revokeKyc(KYC_A);
        assertFalse(kyc.isAttestationValid(alice, KYC_A, expiry, sig));
    }

    function test_revokeKyc_bySignerOrAdminWhilePaused() public {
        vm.prank(admin);
        kyc.pause();
        vm.expectEmit(true, true, true, true, address(kyc));
        emit KycRevoked(KYC_A, signer);
        vm.prank(signer);
        kyc.revokeKyc(KYC_A);
        vm.prank(admin);
        kyc.revokeKyc(KYC_B);
        assertTrue(kyc.revoked(KYC_A));
        assertTrue(kyc.revoked(KYC_B));
    }

    function test_RevertWhen_revokeKycInvalid() public {
        bytes32 role = kyc.COMPLIANCE_SIGNER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        kyc.revokeKyc(KYC_A);
        vm.startPrank(signer);
        vm.expectRevert(IPayoutRouterKYC.ZeroKycHash.selector);
        kyc.revokeKyc(bytes32(0));
        kyc.revokeKyc(KYC_A);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.KycRevokedError.selector, KYC_A));
        kyc.revokeKyc(KYC_A);
        vm.stopPrank();
    }

    function test_setRecipientDailyLimit_updatesAndEmits() public {
        vm.expectEmit(true, true, true, true, address(kyc));
        emit RecipientDailyLimitUpdated(7);
        vm.prank(admin);
        kyc.setRecipientDailyLimit(7);
        assertEq(kyc.recipientDailyLimit(), 7);
    }

    function test_RevertWhen_setRecipientDailyLimitInvalid() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.InvalidRecipientDailyLimit.selector, 0));
        vm.prank(admin);
        kyc.setRecipientDailyLimit(0);
        bytes32 role = kyc.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, signer, role)
        );
        vm.prank(signer);
        kyc.setRecipientDailyLimit(1);
    }

    function testFuzz_disburseKYC_expiryBoundary(uint64 exp, uint32 dt) public {
        exp = uint64(bound(exp, block.timestamp, block.timestamp + 365 days));
        expiry = exp;
        bytes memory sig = _attest(signerKey, alice, KYC_A, exp);
        vm.warp(block.timestamp + dt % 400 days);
        if (block.timestamp >= exp) {
            _expectRevertKyc(
                abi.encodeWithSelector(IPayoutRouterKYC.AttestationExpired.selector, exp, block.timestamp),
                0,
                alice,
                100e6,
                KYC_A,
                sig
            );
        } else {
            _payKyc(0, alice, 100e6, KYC_A, sig);
            assertEq(usdt.balanceOf(alice), 100e6);
        }
    }

    function testFuzz_RevertWhen_signerNotCompliance(uint256 key) public {
        key = bound(key, 1, SECP256K1_N - 1);
        vm.assume(key != signerKey);
        _expectRevertKyc(
            abi.encodeWithSelector(IPayoutRouterKYC.InvalidAttestation.selector),
            0,
            alice,
            100e6,
            KYC_A,
            _attest(key, alice, KYC_A, expiry)
        );
    }

    function test_RevertWhen_constructorZeroUsdt() public {
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        new PayoutRouterKYC(admin, IERC20(address(0)));
    }
}
