// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {IPayoutRouterKYC} from "../src/interfaces/IPayoutRouterKYC.sol";
import {MockUSDT} from "./mocks/MockUSDT.sol";

/// @notice Checks tests/vectors/kyc.json (generated off-chain by tools/gen-vectors.mjs, an independent JS
///         implementation) against the real PayoutRouterKYC deployed at the vector's router address on the
///         vector's chain id: type hash, domain separator, struct hashes, digests, and that every vector
///         signature is accepted by `disburseKYC` (and rejected on another router or chain).
contract KycVectorsTest is Test {
    string internal json;
    PayoutRouterKYC internal router;
    MockUSDT internal usdt;
    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/kyc.json"));
        vm.chainId(vm.parseJsonUint(json, ".chainId"));
        vm.warp(1_767_225_600); // 2026-01-01, before every vector's expiry
        usdt = new MockUSDT();
        address at = vm.parseJsonAddress(json, ".router");
        deployCodeTo("PayoutRouterKYC.sol:PayoutRouterKYC", abi.encode(admin, IERC20(address(usdt))), at);
        router = PayoutRouterKYC(at);
        vm.startPrank(admin);
        router.grantRole(router.TREASURER_ROLE(), keeper);
        vm.stopPrank();
        usdt.mint(address(router), 1_000_000e6);
    }

    function _at(uint256 i, string memory key) internal pure returns (string memory) {
        return string.concat(".attestations[", vm.toString(i), "].", key);
    }

    function test_vectors_chainAndRouter() public view {
        assertEq(block.chainid, 31338);
        assertEq(address(router), vm.parseJsonAddress(json, ".router"));
        assertGt(address(router).code.length, 0);
    }

    function test_vectors_typeHash() public view {
        assertEq(router.KYC_ATTESTATION_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHash"));
    }

    function test_vectors_domainSeparator() public view {
        assertEq(router.domainSeparator(), vm.parseJsonBytes32(json, ".domainSeparator"));
    }

    function test_vectors_attestationsAccepted() public {
        uint256 n = vm.parseJsonUint(json, ".count");
        assertGt(n, 0);
        bytes32 typeHash = router.KYC_ATTESTATION_TYPEHASH();
        for (uint256 i; i < n; ++i) {
            address to = vm.parseJsonAddress(json, _at(i, "to"));
            bytes32 kycHash = vm.parseJsonBytes32(json, _at(i, "kycHash"));
            uint64 expiry = uint64(vm.parseJsonUint(json, _at(i, "expiry")));
            address signer = vm.parseJsonAddress(json, _at(i, "signer"));
            bytes memory sig = vm.parseJsonBytes(json, _at(i, "sig"));

            assertEq(vm.addr(vm.parseJsonUint(json, _at(i, "signerPrivateKey"))), signer, "signer key");
            assertEq(
                keccak256(abi.encode(typeHash, to, kycHash, expiry)),
                vm.parseJsonBytes32(json, _at(i, "structHash")),
                "structHash"
            );
            bytes32 digest = router.attestationDigest(to, kycHash, expiry);
            assertEq(digest, vm.parseJsonBytes32(json, _at(i, "digest")), "digest");

            // not a compliance signer yet: refused
            assertFalse(router.isAttestationValid(to, kycHash, expiry, sig));
            vm.startPrank(admin);
            router.grantRole(router.COMPLIANCE_SIGNER_ROLE(), signer);
            vm.stopPrank();
            assertTrue(router.isAttestationValid(to, kycHash, expiry, sig), "valid");

            if (to == address(0)) continue;
            // a one-payout plan per attestation (its root is its leaf), executed by anyone
            uint32 period = uint32(24_312 + i);
            bytes32 planRoot = router.leaf(period, to, 10e6);
            vm.prank(keeper);
            router.setPeriodRoot(period, planRoot, 10e6);
            uint256 before = usdt.balanceOf(to);
            router.disburseKYC(period, to, 10e6, new bytes32[](0), kycHash, expiry, sig);
            assertEq(usdt.balanceOf(to), before + 10e6);
        }
    }

    function test_RevertWhen_vectorSignatureOnOtherChainOrRouter() public {
        address to = vm.parseJsonAddress(json, _at(0, "to"));
        bytes32 kycHash = vm.parseJsonBytes32(json, _at(0, "kycHash"));
        uint64 expiry = uint64(vm.parseJsonUint(json, _at(0, "expiry")));
        address signer = vm.parseJsonAddress(json, _at(0, "signer"));
        bytes memory sig = vm.parseJsonBytes(json, _at(0, "sig"));

        PayoutRouterKYC other = new PayoutRouterKYC(admin, IERC20(address(usdt)));
        vm.startPrank(admin);
        router.grantRole(router.COMPLIANCE_SIGNER_ROLE(), signer);
        other.grantRole(other.COMPLIANCE_SIGNER_ROLE(), signer);
        other.grantRole(other.TREASURER_ROLE(), keeper);
        vm.stopPrank();
        usdt.mint(address(other), 1_000e6);
        vm.startPrank(keeper);
        other.setPeriodRoot(1, other.leaf(1, to, 10e6), 10e6);
        router.setPeriodRoot(1, router.leaf(1, to, 10e6), 10e6);
        vm.stopPrank();

        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        other.disburseKYC(1, to, 10e6, new bytes32[](0), kycHash, expiry, sig);

        vm.chainId(31337);
        vm.expectRevert(IPayoutRouterKYC.InvalidAttestation.selector);
        router.disburseKYC(1, to, 10e6, new bytes32[](0), kycHash, expiry, sig);
    }
}
