// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {PayoutFixture} from "./utils/PayoutFixture.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {IPayoutRouter} from "../src/interfaces/IPayoutRouter.sol";
import {IPayoutRouterKYC} from "../src/interfaces/IPayoutRouterKYC.sol";
import {MockERC1271Wallet} from "./mocks/MockERC1271Wallet.sol";

/// @notice Unit and fuzz tests of PayoutRouterKYC: attestations (EOA and ERC-1271 signers), expiry, revocation,
///         per-recipient daily limit.
contract PayoutRouterKYCTest is PayoutFixture {
    event PaidKYC(bytes32 indexed payoutId, address indexed to, uint256 amount, bytes32 indexed kycHash);
    event KycRevoked(bytes32 indexed kycHash, address indexed by);
    event RecipientDailyLimitUpdated(uint256 recipientDailyLimit);
    event LimitsUpdated(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);

    bytes32 internal constant ID1 = keccak256("id1");
    bytes32 internal constant ID2 = keccak256("id2");
    bytes32 internal constant KYC_A = keccak256("kyc-alice");
    bytes32 internal constant KYC_B = keccak256("kyc-bob");

    uint64 internal expiry;
    bytes internal sigAlice;

    function setUp() public override {
        super.setUp();
        expiry = uint64(block.timestamp + 365 days);
        sigAlice = _attest(signerKey, alice, KYC_A, expiry);
    }

    function _pay(bytes32 id, uint256 amount) internal {
        vm.prank(keeper);
        kyc.disburseKYC(id, alice, amount, KYC_A, expiry, sigAlice);
    }

    // ------------------------------------------------------------------ constructor, views

    function test_constructor_setsDefaultsAndRoles() public view {
        assertEq(kyc.USDT(), address(usdt));
        assertEq(kyc.minPayout(), 10e6);
        assertEq(kyc.maxPerPayout(), 5_000e6);
        assertEq(kyc.dailyLimit(), 50_000e6);
        assertEq(kyc.recipientDailyLimit(), 10_000e6);
        assertEq(kyc.COMPLIANCE_SIGNER_ROLE(), keccak256("COMPLIANCE_SIGNER_ROLE"));
        assertEq(kyc.KYC_ATTESTATION_TYPEHASH(), KYC_TYPEHASH);
        assertTrue(kyc.hasRole(kyc.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(kyc.hasRole(kyc.PAUSER_ROLE(), admin));
        assertTrue(kyc.hasRole(kyc.COMPLIANCE_SIGNER_ROLE(), signer));
    }

    function test_constructor_emitsLimitEvents() public {
        vm.expectEmit(false, false, false, true);
        emit LimitsUpdated(10e6, 5_000e6, 50_000e6);
        vm.expectEmit(false, false, false, true);
        emit RecipientDailyLimitUpdated(10_000e6);
        new PayoutRouterKYC(admin, IERC20(address(usdt)));
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(IPayoutRouter.ZeroAddress.selector);
        new PayoutRouterKYC(address(0), IERC20(address(usdt)));
    }

    function test_domainSeparator_matchesEip712() public view {
        bytes32 expected = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("LucidPayoutKYC"), keccak256("1"), block.chainid, address(kyc)
            )
        );
        assertEq(kyc.domainSeparator(), expected);
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            kyc.eip712Domain();
        assertEq(name, "LucidPayoutKYC");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(kyc));
    }

    function test_attestationDigest_matchesManualEncoding() public view {
        assertEq(kyc.attestationDigest(alice, KYC_A, expiry), _digest(address(kyc), alice, KYC_A, expiry));
    }

    function testFuzz_attestationDigest_matchesManualEncoding(address to, bytes32 kycHash, uint64 exp)
        public
        view
    {
        assertEq(kyc.attestationDigest(to, kycHash, exp), _digest(address(kyc), to, kycHash, exp));
    }

    // ------------------------------------------------------------------ disburseKYC: success

    function test_disburseKYC_paysAndRecords() public {
        vm.expectEmit(address(kyc));
        emit PaidKYC(ID1, alice, 1_000e6, KYC_A);
        _pay(ID1, 1_000e6);
        assertEq(usdt.balanceOf(alice), 1_000e6);
        assertTrue(kyc.paid(ID1));
        assertEq(kyc.spentOnDay(_day()), 1_000e6);
        assertEq(kyc.recipientSpentOnDay(alice, _day()), 1_000e6);
        assertEq(kyc.totalPaid(), 1_000e6);
    }

    function test_disburseKYC_oneSecondBeforeExpiry() public {
        vm.warp(expiry - 1);
        _pay(ID1, 100e6);
        assertTrue(kyc.paid(ID1));
    }

    function test_disburseKYC_attestationReusableForLaterPayouts() public {
        _pay(ID1, 100e6);
        vm.warp(block.timestamp + 31 days);
        _pay(ID2, 100e6);
        assertEq(usdt.balanceOf(alice), 200e6);
    }

    function test_disburseKYC_secondComplianceSigner() public {
        uint256 key2 = 0xBEEF;
        vm.startPrank(admin);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), vm.addr(key2));
        vm.stopPrank();
        bytes memory sig = _attest(key2, bob, KYC_B, expiry);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, bob, 50e6, KYC_B, expiry, sig);
        assertEq(usdt.balanceOf(bob), 50e6);
    }

    // ------------------------------------------------------------------ disburseKYC: reverts

    function test_RevertWhen_disburseKYCNotDisburser() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, kyc.DISBURSER_ROLE()
            )
        );
        vm.prank(alice); // the attested recipient itself cannot pull money
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sigAlice);
    }

    function test_RevertWhen_disburseKYCPaused() public {
        vm.prank(admin);
        kyc.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        _pay(ID1, 100e6);
    }

    function test_RevertWhen_disburseKYCZeroKycHash() public {
        bytes memory sig = _attest(signerKey, alice, bytes32(0), expiry);
        vm.expectRevert(IPayoutRouterKYC.ZeroKycHash.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, bytes32(0), expiry, sig);
    }

    function test_RevertWhen_disburseKYCExpiredAtExpiry() public {
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.AttestationExpired.selector, expiry, expiry));
        _pay(ID1, 100e6);
    }

    function test_RevertWhen_disburseKYCExpiredAfterExpiry() public {
        vm.warp(uint256(expiry) + 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayoutRouterKYC.AttestationExpired.selector, expiry, uint256(expiry) + 1 days
            )
        );
        _pay(ID1, 100e6);
    }

    function test_RevertWhen_disburseKYCRevoked() public {
        vm.prank(signer);
        kyc.revokeKyc(KYC_A);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.KycRevokedError.selector, KYC_A));
        _pay(ID1, 100e6);
    }

    function test_RevertWhen_disburseKYCZeroRecipient() public {
        bytes memory sig = _attest(signerKey, address(0), KYC_A, expiry);
        vm.expectRevert(IPayoutRouter.ZeroRecipient.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, address(0), 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_disburseKYCRecipientMismatch() public {
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, bob, 100e6, KYC_A, expiry, sigAlice); // alice's attestation, bob's address
    }

    function test_RevertWhen_disburseKYCKycHashMismatch() public {
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_B, expiry, sigAlice);
    }

    function test_RevertWhen_disburseKYCExpiryMismatch() public {
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry + 1, sigAlice); // extending the expiry
    }

    function test_RevertWhen_disburseKYCSignerLacksRole() public {
        bytes memory sig = _attest(0xBAD, alice, KYC_A, expiry);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_disburseKYCSignerRoleRevoked() public {
        vm.startPrank(admin);
        kyc.revokeRole(kyc.COMPLIANCE_SIGNER_ROLE(), signer);
        vm.stopPrank();
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        _pay(ID1, 100e6);
    }

    function test_RevertWhen_disburseKYCSignedByDisburser() public {
        uint256 keeperKey = 0xABCD;
        address k2 = vm.addr(keeperKey);
        vm.startPrank(admin);
        kyc.grantRole(kyc.DISBURSER_ROLE(), k2);
        vm.stopPrank();
        bytes memory sig = _attest(keeperKey, alice, KYC_A, expiry);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(k2);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_disburseKYCMalformedSignatures() public {
        bytes[5] memory bad = [
            bytes(""),
            new bytes(64),
            new bytes(65), // v = 0: invalid
            abi.encodePacked(sigAlice, uint8(0)), // 66 bytes: neither format
            new bytes(95)
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
            vm.prank(keeper);
            kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, bad[i]);
        }
    }

    function test_RevertWhen_disburseKYCHighSSignature() public {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, _digest(address(kyc), alice, KYC_A, expiry));
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, abi.encodePacked(r, highS, flippedV));
    }

    function test_RevertWhen_disburseKYCZeroPayoutId() public {
        vm.expectRevert(IPayoutRouter.ZeroPayoutId.selector);
        _pay(bytes32(0), 100e6);
    }

    function test_RevertWhen_disburseKYCAlreadyPaid() public {
        _pay(ID1, 100e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AlreadyPaid.selector, ID1));
        _pay(ID1, 100e6);
    }

    function test_RevertWhen_disburseKYCBelowMinimum() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.BelowMinimum.selector, 9_999_999, 10e6));
        _pay(ID1, 9_999_999);
    }

    function test_RevertWhen_disburseKYCAboveMaximum() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.AboveMaximum.selector, 5_000e6 + 1, 5_000e6));
        _pay(ID1, 5_000e6 + 1);
    }

    function test_RevertWhen_disburseKYCRecipientDailyLimitExceeded() public {
        _pay(ID1, 5_000e6);
        _pay(ID2, 4_000e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayoutRouterKYC.RecipientDailyLimitExceeded.selector, alice, _day(), 1_000e6 + 1, 1_000e6
            )
        );
        _pay(keccak256("id3"), 1_000e6 + 1);
        _pay(keccak256("id4"), 1_000e6); // exactly up to the limit is fine
        assertEq(kyc.recipientSpentOnDay(alice, _day()), 10_000e6);
        // the next UTC day starts afresh
        vm.warp((uint256(_day()) + 1) * 1 days);
        _pay(keccak256("id5"), 5_000e6);
    }

    function test_RevertWhen_disburseKYCRecipientLimitLoweredBelowSpent() public {
        _pay(ID1, 1_000e6);
        vm.prank(admin);
        kyc.setRecipientDailyLimit(500e6);
        vm.expectRevert(
            abi.encodeWithSelector(
                IPayoutRouterKYC.RecipientDailyLimitExceeded.selector, alice, _day(), 10e6, 0
            )
        );
        _pay(ID2, 10e6);
    }

    function test_RevertWhen_disburseKYCDailyLimitExceeded() public {
        vm.prank(admin);
        kyc.setLimits(10e6, 5_000e6, 6_000e6);
        _pay(ID1, 5_000e6);
        bytes memory sigBob = _attest(signerKey, bob, KYC_B, expiry);
        vm.expectRevert(
            abi.encodeWithSelector(IPayoutRouter.DailyLimitExceeded.selector, _day(), 1_500e6, 1_000e6)
        );
        vm.prank(keeper);
        kyc.disburseKYC(ID2, bob, 1_500e6, KYC_B, expiry, sigBob);
    }

    function test_RevertWhen_disburseKYCInsufficientBalance() public {
        vm.prank(admin);
        kyc.withdraw(admin, FUNDING - 10e6);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouter.InsufficientBalance.selector, 20e6, 10e6));
        _pay(ID1, 20e6);
    }

    // ------------------------------------------------------------------ ERC-1271 contract signers

    function _walletSig(address wallet, bytes memory inner) internal pure returns (bytes memory) {
        return abi.encode(wallet, inner);
    }

    function _grantSigner(address who) internal {
        vm.startPrank(admin);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), who);
        vm.stopPrank();
    }

    function test_disburseKYC_erc1271SingleOwnerWallet() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        _grantSigner(address(wallet));
        bytes memory sig = _walletSig(address(wallet), _attest(0x1111, alice, KYC_A, expiry));
        assertTrue(kyc.isAttestationValid(alice, KYC_A, expiry, sig));
        vm.expectEmit(address(kyc));
        emit PaidKYC(ID1, alice, 100e6, KYC_A);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_disburseKYC_erc1271TwoOfTwoMultisig() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), vm.addr(0x2222));
        _grantSigner(address(wallet));
        bytes memory inner =
            abi.encodePacked(_attest(0x1111, alice, KYC_A, expiry), _attest(0x2222, alice, KYC_A, expiry));
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, _walletSig(address(wallet), inner));
        assertEq(usdt.balanceOf(alice), 100e6);
    }

    function test_disburseKYC_erc1271NonCanonicalPaddingAccepted() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        _grantSigner(address(wallet));
        bytes memory sig =
            abi.encodePacked(_walletSig(address(wallet), _attest(0x1111, alice, KYC_A, expiry)), "xx");
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        assertTrue(kyc.paid(ID1));
    }

    function test_RevertWhen_erc1271WalletLacksRole() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        bytes memory sig = _walletSig(address(wallet), _attest(0x1111, alice, KYC_A, expiry));
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_erc1271WrongOwnerSignature() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), vm.addr(0x2222));
        _grantSigner(address(wallet));
        bytes memory inner =
            abi.encodePacked(_attest(0x1111, alice, KYC_A, expiry), _attest(0x3333, alice, KYC_A, expiry));
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, _walletSig(address(wallet), inner));
    }

    function test_RevertWhen_erc1271WalletRejectsOrMisbehaves() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        _grantSigner(address(wallet));
        bytes memory sig = _walletSig(address(wallet), _attest(0x1111, alice, KYC_A, expiry));
        MockERC1271Wallet.Mode[3] memory modes = [
            MockERC1271Wallet.Mode.RejectAll, MockERC1271Wallet.Mode.WrongMagic, MockERC1271Wallet.Mode.Revert
        ];
        for (uint256 i; i < modes.length; ++i) {
            wallet.setMode(modes[i]);
            vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
            vm.prank(keeper);
            kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
        }
    }

    function test_RevertWhen_erc1271FormatWithEoaSigner() public {
        // An EOA compliance signer's signature wrapped in the contract format: the EOA has no code, so the
        // ERC-1271 check fails. EOAs must use the plain 65-byte format.
        bytes memory sig = _walletSig(signer, sigAlice);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, sig);
    }

    function test_RevertWhen_erc1271MalformedEncoding() public {
        MockERC1271Wallet wallet = new MockERC1271Wallet(vm.addr(0x1111), address(0));
        _grantSigner(address(wallet));
        bytes memory inner = _attest(0x1111, alice, KYC_A, expiry);
        bytes[3] memory bad = [
            // dirty upper bits in the signer word
            abi.encodePacked(
                uint256(uint160(address(wallet))) | (uint256(1) << 200), uint256(0x40), inner.length, inner
            ),
            // wrong offset
            abi.encodePacked(uint256(uint160(address(wallet))), uint256(0x60), inner.length, inner),
            // length running past the end
            abi.encodePacked(uint256(uint160(address(wallet))), uint256(0x40), inner.length + 1, inner)
        ];
        for (uint256 i; i < bad.length; ++i) {
            assertFalse(kyc.isAttestationValid(alice, KYC_A, expiry, bad[i]));
            vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
            vm.prank(keeper);
            kyc.disburseKYC(ID1, alice, 100e6, KYC_A, expiry, bad[i]);
        }
        // the well-formed encoding of the same inner signature works
        vm.prank(keeper);
        kyc.disburseKYC(
            ID1,
            alice,
            100e6,
            KYC_A,
            expiry,
            abi.encodePacked(uint256(uint160(address(wallet))), uint256(0x40), inner.length, inner)
        );
    }

    // ------------------------------------------------------------------ isAttestationValid

    function test_isAttestationValid_cases() public {
        assertTrue(kyc.isAttestationValid(alice, KYC_A, expiry, sigAlice));
        assertFalse(kyc.isAttestationValid(bob, KYC_A, expiry, sigAlice));
        assertFalse(
            kyc.isAttestationValid(address(0), KYC_A, expiry, _attest(signerKey, address(0), KYC_A, expiry))
        );
        assertFalse(
            kyc.isAttestationValid(alice, bytes32(0), expiry, _attest(signerKey, alice, bytes32(0), expiry))
        );
        vm.warp(expiry);
        assertFalse(kyc.isAttestationValid(alice, KYC_A, expiry, sigAlice));
        vm.warp(expiry - 1);
        assertTrue(kyc.isAttestationValid(alice, KYC_A, expiry, sigAlice));
        vm.prank(admin);
        kyc.revokeKyc(KYC_A);
        assertFalse(kyc.isAttestationValid(alice, KYC_A, expiry, sigAlice));
    }

    // ------------------------------------------------------------------ revokeKyc

    function test_revokeKyc_byComplianceSigner() public {
        vm.expectEmit(address(kyc));
        emit KycRevoked(KYC_A, signer);
        vm.prank(signer);
        kyc.revokeKyc(KYC_A);
        assertTrue(kyc.revoked(KYC_A));
        assertFalse(kyc.revoked(KYC_B));
    }

    function test_revokeKyc_byAdmin() public {
        vm.expectEmit(address(kyc));
        emit KycRevoked(KYC_A, admin);
        vm.prank(admin);
        kyc.revokeKyc(KYC_A);
        assertTrue(kyc.revoked(KYC_A));
    }

    function test_revokeKyc_worksWhilePaused() public {
        vm.startPrank(admin);
        kyc.pause();
        kyc.revokeKyc(KYC_A);
        vm.stopPrank();
        assertTrue(kyc.revoked(KYC_A));
    }

    function test_RevertWhen_revokeKycUnauthorized() public {
        bytes32 role = kyc.COMPLIANCE_SIGNER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, keeper, role)
        );
        vm.prank(keeper);
        kyc.revokeKyc(KYC_A);
    }

    function test_RevertWhen_revokeKycZeroHash() public {
        vm.expectRevert(IPayoutRouterKYC.ZeroKycHash.selector);
        vm.prank(signer);
        kyc.revokeKyc(bytes32(0));
    }

    function test_RevertWhen_revokeKycTwice() public {
        vm.startPrank(signer);
        kyc.revokeKyc(KYC_A);
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.KycRevokedError.selector, KYC_A));
        kyc.revokeKyc(KYC_A);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ setRecipientDailyLimit

    function test_setRecipientDailyLimit_updatesAndEmits() public {
        vm.expectEmit(address(kyc));
        emit RecipientDailyLimitUpdated(2_000e6);
        vm.prank(admin);
        kyc.setRecipientDailyLimit(2_000e6);
        assertEq(kyc.recipientDailyLimit(), 2_000e6);
    }

    function test_RevertWhen_setRecipientDailyLimitZero() public {
        vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.InvalidRecipientDailyLimit.selector, 0));
        vm.prank(admin);
        kyc.setRecipientDailyLimit(0);
    }

    function test_RevertWhen_setRecipientDailyLimitNotAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, signer, kyc.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(signer);
        kyc.setRecipientDailyLimit(2_000e6);
    }

    // ------------------------------------------------------------------ fuzz

    function _boundKey(uint256 key) internal pure returns (uint256) {
        return bound(key, 1, SECP256K1_N - 1);
    }

    function testFuzz_disburseKYC_randomComplianceKey(
        uint256 key,
        address to,
        bytes32 kycHash,
        uint64 exp,
        uint256 amount
    ) public {
        key = _boundKey(key);
        vm.assume(to != address(0) && to != address(kyc) && kycHash != bytes32(0));
        exp = uint64(bound(exp, block.timestamp + 1, type(uint64).max));
        amount = bound(amount, 10e6, 5_000e6);
        _grantSigner(vm.addr(key));
        bytes memory sig = _attest(key, to, kycHash, exp);
        uint256 before = usdt.balanceOf(to);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, to, amount, kycHash, exp, sig);
        assertEq(usdt.balanceOf(to), before + amount);
    }

    function testFuzz_RevertWhen_signerNotCompliance(uint256 key, address to, bytes32 kycHash) public {
        key = _boundKey(key);
        vm.assume(key != signerKey && to != address(0) && kycHash != bytes32(0));
        bytes memory sig = _attest(key, to, kycHash, expiry);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, to, 100e6, kycHash, expiry, sig);
    }

    function testFuzz_disburseKYC_expiryBoundary(uint64 exp, uint64 nowTs) public {
        nowTs = uint64(bound(nowTs, 1, type(uint64).max - 1));
        vm.warp(nowTs);
        bytes memory sig = _attest(signerKey, alice, KYC_A, exp);
        vm.prank(keeper);
        if (exp <= nowTs) {
            vm.expectRevert(abi.encodeWithSelector(IPayoutRouterKYC.AttestationExpired.selector, exp, nowTs));
            kyc.disburseKYC(ID1, alice, 100e6, KYC_A, exp, sig);
        } else {
            kyc.disburseKYC(ID1, alice, 100e6, KYC_A, exp, sig);
            assertEq(usdt.balanceOf(alice), 100e6);
        }
    }

    function testFuzz_RevertWhen_attestationForOtherRecipient(address signedFor, address payTo) public {
        vm.assume(signedFor != payTo && payTo != address(0));
        bytes memory sig = _attest(signerKey, signedFor, KYC_A, expiry);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        vm.prank(keeper);
        kyc.disburseKYC(ID1, payTo, 100e6, KYC_A, expiry, sig);
    }

    function testFuzz_disburseKYC_recipientDailyLimit(uint256[6] memory amounts) public {
        uint256 spent;
        for (uint256 i; i < amounts.length; ++i) {
            uint256 a = bound(amounts[i], 10e6, 5_000e6);
            vm.prank(keeper);
            if (spent + a > 10_000e6) {
                vm.expectRevert(
                    abi.encodeWithSelector(
                        IPayoutRouterKYC.RecipientDailyLimitExceeded.selector,
                        alice,
                        _day(),
                        a,
                        10_000e6 - spent
                    )
                );
                kyc.disburseKYC(bytes32(i + 1), alice, a, KYC_A, expiry, sigAlice);
            } else {
                kyc.disburseKYC(bytes32(i + 1), alice, a, KYC_A, expiry, sigAlice);
                spent += a;
            }
        }
        assertEq(kyc.recipientSpentOnDay(alice, _day()), spent);
        assertLe(spent, 10_000e6);
    }
}
