// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {PayoutRouterV0} from "../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {MockUSDT} from "./mocks/MockUSDT.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";

/// @notice Cross-language vectors of payout plans: tests/vectors/payout_plans.json (tools/gen-vectors.mjs; the
///         Rust side checks the same file) against both routers deployed at the vectors' addresses: leaves,
///         payoutIds, roots, proofs, then every planned payout executed.
contract PayoutPlanVectorsTest is Test {
    string internal json;
    MockUSDT internal usdt;
    PayoutRouterV0 internal v0;
    PayoutRouterKYC internal kyc;
    address internal admin = makeAddr("admin");
    uint256 internal signerKey = 0xA11CE;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/payout_plans.json"));
        vm.warp(1_767_225_600);
        usdt = new MockUSDT();
        deployCodeTo(
            "PayoutRouterV0.sol:PayoutRouterV0",
            abi.encode(admin, IERC20(address(usdt))),
            vm.parseJsonAddress(json, ".routerV0")
        );
        deployCodeTo(
            "PayoutRouterKYC.sol:PayoutRouterKYC",
            abi.encode(admin, IERC20(address(usdt))),
            vm.parseJsonAddress(json, ".routerKyc")
        );
        v0 = PayoutRouterV0(vm.parseJsonAddress(json, ".routerV0"));
        kyc = PayoutRouterKYC(vm.parseJsonAddress(json, ".routerKyc"));
        vm.startPrank(admin);
        v0.grantRole(v0.TREASURER_ROLE(), admin);
        kyc.grantRole(kyc.TREASURER_ROLE(), admin);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), vm.addr(signerKey));
        // vector amounts go up to 5,000 USDT on either router
        v0.setLimits(10e6, 10_000e6, 1_000_000e6);
        kyc.setLimits(10e6, 10_000e6, 1_000_000e6);
        kyc.setRecipientDailyLimit(1_000_000e6);
        vm.stopPrank();
        usdt.mint(address(v0), 1_000_000e6);
        usdt.mint(address(kyc), 1_000_000e6);
    }

    function _q(uint256 p, string memory tail) internal pure returns (string memory) {
        return string.concat(".plans[", vm.toString(p), "]", tail);
    }

    function _r(uint256 p, uint256 i, string memory tail) internal pure returns (string memory) {
        return string.concat(".plans[", vm.toString(p), "].payouts[", vm.toString(i), "]", tail);
    }

    function test_vectors_leavesRootsProofsAndPayouts() public {
        uint256 np = vm.parseJsonUint(json, ".count");
        assertGt(np, 0);
        for (uint256 p = 0; p < np; p++) {
            (uint32 period, bytes32 root, uint256 total, uint256 n) = _checkPlan(p);
            vm.startPrank(admin);
            v0.setPeriodRoot(period, root, total);
            kyc.setPeriodRoot(period, root, total);
            vm.stopPrank();
            for (uint256 i = 0; i < n; i++) {
                _pay(p, i, period);
            }
            assertEq(v0.periodPaid(period) + kyc.periodPaid(period), total);
        }
    }

    function _checkPlan(uint256 p)
        internal
        view
        returns (uint32 period, bytes32 root, uint256 total, uint256 n)
    {
        period = uint32(vm.parseJsonUint(json, _q(p, ".period")));
        assertEq(
            period, vm.parseJsonUint(json, _q(p, ".year")) * 12 + vm.parseJsonUint(json, _q(p, ".month")) - 1
        );
        root = vm.parseJsonBytes32(json, _q(p, ".root"));
        total = vm.parseJsonUint(json, _q(p, ".total"));
        n = _len(p);
        bytes32[] memory leaves = new bytes32[](n);
        uint256 sum;
        address prev;
        for (uint256 i = 0; i < n; i++) {
            address to;
            uint256 amount;
            (leaves[i], to, amount) = _checkItem(p, i, period, root);
            assertGt(uint160(to), uint160(prev), "leaves ordered by recipient");
            prev = to;
            sum += amount;
        }
        assertEq(MerkleBuilder.root(leaves), root, "root");
        assertEq(sum, total, "total");
    }

    function _checkItem(uint256 p, uint256 i, uint32 period, bytes32 root)
        internal
        view
        returns (bytes32 lf, address to, uint256 amount)
    {
        PayoutRouterV0 r = PayoutRouterV0(vm.parseJsonAddress(json, _r(p, i, ".router")));
        to = vm.parseJsonAddress(json, _r(p, i, ".to"));
        amount = vm.parseJsonUint(json, _r(p, i, ".amount"));
        lf = vm.parseJsonBytes32(json, _r(p, i, ".leaf"));
        assertEq(r.leaf(period, to, amount), lf, "leaf");
        assertEq(r.payoutId(period, to), vm.parseJsonBytes32(json, _r(p, i, ".payoutId")), "payoutId");
        assertTrue(MerkleProof.verify(vm.parseJsonBytes32Array(json, _r(p, i, ".proof")), root, lf), "proof");
    }

    function _pay(uint256 p, uint256 i, uint32 period) internal {
        address router = vm.parseJsonAddress(json, _r(p, i, ".router"));
        address to = vm.parseJsonAddress(json, _r(p, i, ".to"));
        uint256 amount = vm.parseJsonUint(json, _r(p, i, ".amount"));
        bytes32[] memory proof = vm.parseJsonBytes32Array(json, _r(p, i, ".proof"));
        uint256 before = usdt.balanceOf(to);
        if (router == address(v0)) {
            v0.disburse(period, to, amount, proof);
        } else {
            bytes32 kycHash = keccak256(abi.encode("vector-kyc", to));
            uint64 expiry = uint64(block.timestamp + 60 days);
            (uint8 v, bytes32 rr, bytes32 s) = vm.sign(signerKey, kyc.attestationDigest(to, kycHash, expiry));
            kyc.disburseKYC(period, to, amount, proof, kycHash, expiry, abi.encodePacked(rr, s, v));
        }
        assertEq(usdt.balanceOf(to), before + amount);
    }

    function _len(uint256 p) internal view returns (uint256 n) {
        while (vm.keyExistsJson(json, _r(p, n, ".leaf"))) n++;
    }
}
