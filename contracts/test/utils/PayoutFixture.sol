// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterV0} from "../../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../../src/PayoutRouterKYC.sol";
import {MockUSDT} from "../mocks/MockUSDT.sol";
import {IPayoutRouter} from "../../src/interfaces/IPayoutRouter.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";

/// @notice Shared set-up for the payout router tests: a MockUSDT (no-return transfers, like Ethereum's USDT), both
///         routers funded with 1,000,000 USDT, a treasurer, an EOA compliance signer, and period plans: a Merkle
///         tree over `keccak256(keccak256(abi.encode(router, period, to, amount)))` leaves of both routers
///         (computed here, independently of the routers' `leaf`).
abstract contract PayoutFixture is Test {
    uint256 internal constant FUNDING = 1_000_000e6;
    uint32 internal constant PERIOD = 2026 * 12 + 1 - 1; // January 2026
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant KYC_TYPEHASH =
        keccak256("KycAttestation(address to,bytes32 kycHash,uint64 expiry)");
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal admin = makeAddr("admin");
    address internal treasurer = makeAddr("treasurer");
    address internal keeper = makeAddr("keeper");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal stranger = makeAddr("stranger");
    uint256 internal signerKey = 0xC0FFEE;
    address internal signer;

    MockUSDT internal usdt;
    PayoutRouterV0 internal v0;
    PayoutRouterKYC internal kyc;

    /// @dev The last plan set with {_plan}: its leaves in order (for proofs).
    bytes32[] internal planLeaves;

    function setUp() public virtual {
        vm.warp(1_767_225_600 + 3 days); // 2026-01-04T00:00:00Z
        signer = vm.addr(signerKey);
        usdt = new MockUSDT();
        v0 = new PayoutRouterV0(admin, IERC20(address(usdt)));
        kyc = new PayoutRouterKYC(admin, IERC20(address(usdt)));
        vm.startPrank(admin);
        v0.grantRole(v0.TREASURER_ROLE(), treasurer);
        kyc.grantRole(kyc.TREASURER_ROLE(), treasurer);
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

    function _leaf(address router, uint32 period, address to, uint256 amount)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(router, period, to, amount))));
    }

    /// @dev Builds the plan of `period` over (routers[i], tos[i], amounts[i]), stores its leaves, sets its root and
    ///      `total` (0: the sum of the amounts) on both routers as the treasurer. Returns the root.
    function _plan(
        uint32 period,
        address[] memory routers,
        address[] memory tos,
        uint256[] memory amounts,
        uint256 total
    ) internal returns (bytes32 root) {
        delete planLeaves;
        uint256 sum;
        for (uint256 i = 0; i < tos.length; i++) {
            planLeaves.push(_leaf(routers[i], period, tos[i], amounts[i]));
            sum += amounts[i];
        }
        root = MerkleBuilder.root(planLeaves);
        vm.startPrank(treasurer);
        v0.setPeriodRoot(period, root, total == 0 ? sum : total);
        kyc.setPeriodRoot(period, root, total == 0 ? sum : total);
        vm.stopPrank();
    }

    /// @dev A plan with one payout per (router, to, amount) triple given as three parallel arrays of length 1-3.
    function _plan3(address r0, address t0, uint256 a0, address r1, address t1, uint256 a1)
        internal
        returns (bytes32)
    {
        address[] memory rs = new address[](2);
        address[] memory ts = new address[](2);
        uint256[] memory am = new uint256[](2);
        (rs[0], ts[0], am[0], rs[1], ts[1], am[1]) = (r0, t0, a0, r1, t1, a1);
        return _plan(PERIOD, rs, ts, am, 0);
    }

    function _proof(uint256 i) internal view returns (bytes32[] memory) {
        return MerkleBuilder.proof(planLeaves, i);
    }

    function _pid(uint32 period, address to) internal pure returns (bytes32) {
        return keccak256(abi.encode("lucid.payout.v1", period, to));
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
