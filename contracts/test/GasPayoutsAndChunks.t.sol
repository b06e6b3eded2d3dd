// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {PayoutRouterV0} from "../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../src/PayoutRouterKYC.sol";
import {MockTronUSDT} from "./mocks/MockTronUSDT.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

/// @notice Gas of registerChunk, registerChunks, disburse, disburseBatch (per payout at 50) and disburseKYC: the
///         `.gas-snapshot` entries of these tests, and the per-call execution gas (`vm.lastCallGas`) logged with
///         `forge test --match-contract GasPayoutsAndChunksTest -vv` (docs/benchmarks.md). Payouts run on
///         MockTronUSDT (false-returning transfer, as on TRON) to fresh recipients (cold, zero balances: the
///         production case) with a 64-payout plan (6-level proofs).
contract GasPayoutsAndChunksTest is AnchorsFixture {
    uint32 internal constant PERIOD = 2026 * 12;
    uint256 internal constant PLAN = 64;
    uint256 internal constant KYC_KEY = 0xC0FFEE;

    MockTronUSDT internal usdt;
    PayoutRouterV0 internal v0;
    PayoutRouterKYC internal kyc;
    bytes32[] internal planLeaves;
    address[] internal recipients;

    ILucidAnchors.SessionAnchor internal s;
    MerkleBuilder.Chunk[] internal c;
    bytes32[] internal lv;

    function setUp() public override {
        super.setUp();
        // a session of 64 chunks, anchored
        (ILucidAnchors.SessionAnchor memory s_, MerkleBuilder.Chunk[] memory c_, bytes32[] memory lv_) =
            _session(77, 64);
        s = s_;
        for (uint256 i = 0; i < c_.length; i++) {
            c.push(c_[i]);
        }
        lv = lv_;
        _anchor(s_, _ownerKey(77));

        // a plan of 64 payouts: 0..31 on V0, 32..63 on KYC
        address treasurer = makeAddr("treasurer");
        vm.prank(admin);
        usdt = new MockTronUSDT();
        v0 = new PayoutRouterV0(admin, IERC20(address(usdt)));
        kyc = new PayoutRouterKYC(admin, IERC20(address(usdt)));
        vm.startPrank(admin);
        v0.grantRole(v0.TREASURER_ROLE(), treasurer);
        kyc.grantRole(kyc.TREASURER_ROLE(), treasurer);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), vm.addr(KYC_KEY));
        v0.setLimits(10e6, 1_000e6, 1_000_000e6);
        usdt.mint(address(v0), 1_000_000e6);
        usdt.mint(address(kyc), 1_000_000e6);
        vm.stopPrank();
        for (uint256 i = 0; i < PLAN; i++) {
            address to = address(uint160(uint256(keccak256(abi.encode("payee", i)))));
            recipients.push(to);
            address router = i < 32 ? address(v0) : address(kyc);
            planLeaves.push(
                keccak256(bytes.concat(keccak256(abi.encode(router, PERIOD, to, uint256(100e6 + i)))))
            );
        }
        bytes32 root = MerkleBuilder.root(planLeaves);
        vm.startPrank(treasurer);
        v0.setPeriodRoot(PERIOD, root, 1e12);
        kyc.setPeriodRoot(PERIOD, root, 1e12);
        vm.stopPrank();
    }

    function test_gas_registerChunk() public {
        bytes32[] memory p = MerkleBuilder.proof(lv, 5);
        vm.prank(storer);
        store.registerChunk(s, 5, c[5].chunkHash, c[5].size, p);
        console.log(
            "registerChunk (64-chunk session, 6-level proof), exec gas", vm.lastCallGas().gasTotalUsed
        );
    }

    function test_gas_registerChunks8() public {
        uint32[] memory ii = new uint32[](8);
        bytes32[] memory hh = new bytes32[](8);
        uint64[] memory ss = new uint64[](8);
        bytes32[][] memory pp = new bytes32[][](8);
        for (uint256 k = 0; k < 8; k++) {
            (ii[k], hh[k], ss[k], pp[k]) = (uint32(k), c[k].chunkHash, c[k].size, MerkleBuilder.proof(lv, k));
        }
        vm.prank(storer);
        store.registerChunks(s, ii, hh, ss, pp);
        uint256 g = vm.lastCallGas().gasTotalUsed;
        console.log("registerChunks x8, exec gas", g, "per chunk", g / 8);
    }

    function test_gas_disburse() public {
        bytes32[] memory p = MerkleBuilder.proof(planLeaves, 3);
        v0.disburse(PERIOD, recipients[3], 100e6 + 3, p);
        console.log(
            "disburse (V0, TRON-style USDT, fresh recipient), exec gas", vm.lastCallGas().gasTotalUsed
        );
    }

    function test_gas_disburseBatch50() public {
        // 50 V0 payouts: 32 planned on V0 are all there is, so this plan is rebuilt with 50 V0 leaves
        bytes32[] memory leaves = new bytes32[](50);
        address[] memory tos = new address[](50);
        uint256[] memory am = new uint256[](50);
        for (uint256 i = 0; i < 50; i++) {
            tos[i] = address(uint160(uint256(keccak256(abi.encode("batch-payee", i)))));
            am[i] = 100e6 + i;
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(address(v0), PERIOD + 1, tos[i], am[i]))));
        }
        vm.prank(makeAddr("treasurer"));
        v0.setPeriodRoot(PERIOD + 1, MerkleBuilder.root(leaves), 1e12);
        bytes32[][] memory pp = new bytes32[][](50);
        for (uint256 i = 0; i < 50; i++) {
            pp[i] = MerkleBuilder.proof(leaves, i);
        }
        v0.disburseBatch(PERIOD + 1, tos, am, pp);
        uint256 g = vm.lastCallGas().gasTotalUsed;
        console.log("disburseBatch x50, exec gas", g, "per payout", g / 50);
        assertEq(v0.totalPaid(), 50 * 100e6 + 49 * 50 / 2);
    }

    function test_gas_disburseKYC() public {
        address to = recipients[40];
        bytes32 kycHash = keccak256("kyc");
        uint64 expiry = uint64(block.timestamp + 60 days);
        (uint8 v, bytes32 r, bytes32 ss) = vm.sign(KYC_KEY, kyc.attestationDigest(to, kycHash, expiry));
        bytes memory sig = abi.encodePacked(r, ss, v);
        bytes32[] memory p = MerkleBuilder.proof(planLeaves, 40);
        kyc.disburseKYC(PERIOD, to, 100e6 + 40, p, kycHash, expiry, sig);
        console.log("disburseKYC (EOA attestation, fresh recipient), exec gas", vm.lastCallGas().gasTotalUsed);
    }
}
