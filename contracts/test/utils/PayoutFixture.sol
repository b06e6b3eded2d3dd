// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterV0} from "../../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../../src/PayoutRouterKYC.sol";
import {MockUSDT} from "../mocks/MockUSDT.sol";
import {IPayoutRouter} from "../../src/interfaces/IPayoutRouter.sol";

/// @notice Shared set-up for the payout router tests: a MockUSDT (no-return transfers, like mainnet USDT), both
///         routers funded with 1,000,000 USDT, a keeper with DISBURSER_ROLE and an EOA compliance signer.
abstract contract PayoutFixture is Test {
    uint256 internal constant USDT_UNIT = 1e6;
    uint256 internal constant FUNDING = 1_000_000e6;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant KYC_TYPEHASH =
        keccak256("KycAttestation(address to,bytes32 kycHash,uint64 expiry)");
    /// @dev secp256k1 group order.
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");
    uint256 internal signerKey = 0xC0FFEE;
    address internal signer;

    MockUSDT internal usdt;
    PayoutRouterV0 internal v0;
    PayoutRouterKYC internal kyc;

    function setUp() public virtual {
        vm.warp(1_767_225_600); // 2026-01-01T00:00:00Z
        signer = vm.addr(signerKey);
        usdt = new MockUSDT();
        v0 = new PayoutRouterV0(admin, IERC20(address(usdt)));
        kyc = new PayoutRouterKYC(admin, IERC20(address(usdt)));
        vm.startPrank(admin);
        v0.grantRole(v0.DISBURSER_ROLE(), keeper);
        kyc.grantRole(kyc.DISBURSER_ROLE(), keeper);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), signer);
        vm.stopPrank();
        _fundRouter(address(v0), FUNDING);
        _fundRouter(address(kyc), FUNDING);
    }

    function _fundRouter(address router, uint256 amount) internal {
        usdt.mint(address(this), amount);
        usdt.approve(router, amount);
        IPayoutRouter(router).fund(amount);
    }

    function _digest(address router, address to, bytes32 kycHash, uint64 expiry)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("LucidPayoutKYC"), keccak256("1"), block.chainid, router)
        );
        bytes32 structHash = keccak256(abi.encode(KYC_TYPEHASH, to, kycHash, expiry));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev An EOA attestation for the default KYC router.
    function _attest(uint256 key, address to, bytes32 kycHash, uint64 expiry)
        internal
        view
        returns (bytes memory)
    {
        return _sign(key, _digest(address(kyc), to, kycHash, expiry));
    }

    function _day() internal view returns (uint64) {
        return uint64(block.timestamp / 1 days);
    }
}
