// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterV0} from "../../src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../../src/PayoutRouterKYC.sol";
import {MockTronUSDT} from "../mocks/MockTronUSDT.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";

/// @notice Drives PayoutRouterV0 and PayoutRouterKYC TOGETHER on MockTronUSDT (false-returning `transfer`, fee
///         switch) with treasury plans over both routers, honest executors (anyone), an attacker who may call
///         everything a stolen keeper key could (invented payouts, a proof for A paid to B, a V0 leaf on the KYC
///         router, replays), a treasurer re-setting roots, pauses, fee switches and time warps. Ghost books:
///         what each recipient was planned, what was paid.
contract PayoutRoutersHandler is Test {
    uint256 internal constant NRECIP = 6;
    uint256 internal constant SIGNER_KEY = 0xC0FFEE;

    MockTronUSDT public immutable usdt;
    PayoutRouterV0 public immutable v0;
    PayoutRouterKYC public immutable kyc;
    address public immutable admin;
    address public immutable treasurer;
    address public immutable attacker;

    address[NRECIP] public recipients;
    uint32[] public periods;
    mapping(uint32 => bytes32[]) internal planLeaves;
    mapping(uint32 => address[]) internal planRouter;
    mapping(uint32 => uint256[]) internal planAmount;
    mapping(uint32 => uint256) public planTotal;

    mapping(address => uint256) public ghostPlannedPaid; // sum of planned amounts paid to a recipient
    uint256 public funded;
    uint256 public withdrawn;
    uint256 public violations;
    uint256 public payouts;
    uint64[] public days_;
    mapping(uint64 => bool) internal dayKnown;

    constructor(MockTronUSDT u, PayoutRouterV0 a, PayoutRouterKYC b, address admin_, address treasurer_) {
        usdt = u;
        v0 = a;
        kyc = b;
        admin = admin_;
        treasurer = treasurer_;
        attacker = makeAddr("attacker");
        for (uint256 i = 0; i < NRECIP; i++) {
            recipients[i] = makeAddr(string.concat("recipient", vm.toString(i)));
        }
    }

    function periodsLength() external view returns (uint256) {
        return periods.length;
    }

    function daysLength() external view returns (uint256) {
        return days_.length;
    }

    function _noteDay() internal {
        uint64 d = uint64(block.timestamp / 1 days);
        if (!dayKnown[d]) {
            dayKnown[d] = true;
            days_.push(d);
        }
    }

    function _leaf(address router, uint32 period, address to, uint256 amount)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(router, period, to, amount))));
    }

    /// The treasury plans a new period: one leaf per recipient, router and amount random.
    function planPeriod(uint256 seed) external {
        if (periods.length >= 6) return;
        uint32 period = uint32(24_300 + periods.length);
        for (uint256 i = 0; i < NRECIP; i++) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            address router = r % 2 == 0 ? address(v0) : address(kyc);
            uint256 amount = 10e6 + (r >> 8) % 1_200e6; // some above V0's 1,000 USDT maximum
            planRouter[period].push(router);
            planAmount[period].push(amount);
            planLeaves[period].push(_leaf(router, period, recipients[i], amount));
            planTotal[period] += amount;
        }
        bytes32 root = MerkleBuilder.root(planLeaves[period]);
        vm.startPrank(treasurer);
        v0.setPeriodRoot(period, root, planTotal[period]);
        kyc.setPeriodRoot(period, root, planTotal[period]);
        vm.stopPrank();
        periods.push(period);
    }

    function _pay(uint32 period, uint256 i) internal returns (bool ok) {
        address to = recipients[i];
        uint256 amount = planAmount[period][i];
        bytes32[] memory proof = MerkleBuilder.proof(planLeaves[period], i);
        uint256 before = usdt.balanceOf(to);
        if (planRouter[period][i] == address(v0)) {
            try v0.disburse(period, to, amount, proof) {
                ok = true;
            } catch {}
        } else {
            bytes32 kycHash = keccak256(abi.encode("kyc", to));
            uint64 expiry = uint64(block.timestamp + 30 days);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_KEY, kyc.attestationDigest(to, kycHash, expiry));
            try kyc.disburseKYC(period, to, amount, proof, kycHash, expiry, abi.encodePacked(r, s, v)) {
                ok = true;
            } catch {}
        }
        if (ok) {
            payouts++;
            _noteDay();
            if (usdt.balanceOf(to) != before + amount) violations++;
            ghostPlannedPaid[to] += amount;
        }
    }

    /// Anyone executes a planned payout.
    function executePlanned(uint256 p, uint256 i) external {
        if (periods.length == 0) return;
        _pay(periods[p % periods.length], i % NRECIP);
    }

    /// Anyone executes a batch of the V0 payouts of a period (repeats and already paid ones included).
    function executeBatch(uint256 p, uint256 mask) external {
        if (periods.length == 0) return;
        uint32 period = periods[p % periods.length];
        uint256 n;
        for (uint256 i = 0; i < NRECIP + 2; i++) {
            if ((mask >> i) & 1 == 1 && planRouter[period][i % NRECIP] == address(v0)) n++;
        }
        if (n == 0) return;
        address[] memory tos = new address[](n);
        uint256[] memory am = new uint256[](n);
        bytes32[][] memory pp = new bytes32[][](n);
        uint256[] memory before = new uint256[](NRECIP);
        for (uint256 i = 0; i < NRECIP; i++) {
            before[i] = usdt.balanceOf(recipients[i]);
        }
        uint256 k;
        for (uint256 i = 0; i < NRECIP + 2; i++) {
            uint256 j = i % NRECIP;
            if ((mask >> i) & 1 == 1 && planRouter[period][j] == address(v0)) {
                (tos[k], am[k], pp[k]) =
                (recipients[j], planAmount[period][j], MerkleBuilder.proof(planLeaves[period], j));
                k++;
            }
        }
        try v0.disburseBatch(period, tos, am, pp) {
            _noteDay();
            for (uint256 i = 0; i < NRECIP; i++) {
                uint256 got = usdt.balanceOf(recipients[i]) - before[i];
                if (got != 0) {
                    if (got != planAmount[period][i]) violations++;
                    ghostPlannedPaid[recipients[i]] += got;
                    payouts++;
                }
            }
        } catch {}
    }

    /// The attacker: invented payouts, A's proof to B, a V0 leaf on KYC (and back), tampered amounts.
    function attack(uint256 p, uint256 i, uint256 kind, uint256 amount) external {
        if (periods.length == 0) return;
        uint32 period = periods[p % periods.length];
        i %= NRECIP;
        bytes32[] memory proof = MerkleBuilder.proof(planLeaves[period], i);
        address to = recipients[i];
        uint256 planned = planAmount[period][i];
        kind %= 4;
        if (kind == 0) to = attacker; // A's leaf for B
        if (kind == 1) planned = bound(amount, 10e6, 5_000e6); // tampered amount
        bool wrongRouter = kind == 2;
        bool viaKyc = (planRouter[period][i] == address(kyc)) != wrongRouter;
        uint256 before = usdt.balanceOf(to);
        bool ok = _attackCall(period, to, planned, proof, viaKyc);
        if (ok) {
            // only the exact planned payout (kind 3, or a tampered amount equal to the plan) may go through
            bool legit = to == recipients[i] && planned == planAmount[period][i] && !wrongRouter;
            if (!legit) violations++;
            _noteDay();
            payouts++;
            ghostPlannedPaid[to] += usdt.balanceOf(to) - before;
        }
    }

    function _attackCall(uint32 period, address to, uint256 amount, bytes32[] memory proof, bool viaKyc)
        internal
        returns (bool ok)
    {
        vm.startPrank(attacker);
        if (viaKyc) {
            bytes32 kycHash = keccak256(abi.encode("kyc", to));
            uint64 expiry = uint64(block.timestamp + 30 days);
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(SIGNER_KEY, kyc.attestationDigest(to, kycHash, expiry));
            try kyc.disburseKYC(period, to, amount, proof, kycHash, expiry, abi.encodePacked(r, s, v)) {
                ok = true;
            } catch {}
        } else {
            try v0.disburse(period, to, amount, proof) {
                ok = true;
            } catch {}
        }
        vm.stopPrank();
    }

    /// The treasurer tries to replace a period's root (allowed only while nothing of it is paid on that router).
    function replaceRoot(uint256 p, bool onKyc) external {
        if (periods.length == 0) return;
        uint32 period = periods[p % periods.length];
        PayoutRouterV0 r = onKyc ? PayoutRouterV0(address(kyc)) : v0;
        bool paidSome = r.periodPaid(period) != 0;
        bytes32 root = r.periodRoot(period);
        vm.prank(treasurer);
        try r.setPeriodRoot(period, root, planTotal[period]) {
            if (paidSome) violations++;
        } catch {
            if (!paidSome) violations++;
        }
    }

    function fund(uint256 amount) external {
        amount = bound(amount, 1, 50_000e6);
        address router = amount % 2 == 0 ? address(v0) : address(kyc);
        vm.prank(admin);
        usdt.mint(router, amount);
        funded += amount;
    }

    function withdraw(uint256 amount, bool fromKyc) external {
        PayoutRouterV0 r = fromKyc ? PayoutRouterV0(address(kyc)) : v0;
        uint256 bal = usdt.balanceOf(address(r));
        if (bal == 0) return;
        amount = bound(amount, 1, bal);
        vm.prank(admin);
        r.withdraw(admin, amount); // must work, fee or not (it checks the router's own balance)
        withdrawn += amount;
    }

    function toggleFee(uint256 bps) external {
        uint256 next = usdt.feeBps() == 0 ? 1 + bps % 50 : 0;
        vm.prank(admin);
        usdt.setFeeBps(next);
    }

    function togglePause(bool onKyc) external {
        PayoutRouterV0 r = onKyc ? PayoutRouterV0(address(kyc)) : v0;
        bool paused = r.paused();
        vm.prank(admin);
        if (paused) r.unpause();
        else r.pause();
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + secs % 2 days);
    }

    function planned(uint32 period, uint256 i) external view returns (address router, uint256 amount) {
        return (planRouter[period][i], planAmount[period][i]);
    }
}

contract PayoutRoutersInvariantTest is Test {
    MockTronUSDT internal usdt;
    PayoutRouterV0 internal v0;
    PayoutRouterKYC internal kyc;
    PayoutRoutersHandler internal handler;
    address internal admin = makeAddr("admin");
    address internal treasurer = makeAddr("treasurer");

    function setUp() public {
        vm.warp(1_767_225_600);
        vm.prank(admin);
        usdt = new MockTronUSDT();
        v0 = new PayoutRouterV0(admin, IERC20(address(usdt)));
        kyc = new PayoutRouterKYC(admin, IERC20(address(usdt)));
        vm.startPrank(admin);
        v0.grantRole(v0.TREASURER_ROLE(), treasurer);
        kyc.grantRole(kyc.TREASURER_ROLE(), treasurer);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), vm.addr(0xC0FFEE));
        usdt.mint(address(v0), 100_000e6);
        usdt.mint(address(kyc), 100_000e6);
        vm.stopPrank();
        handler = new PayoutRoutersHandler(usdt, v0, kyc, admin, treasurer);
        handler.planPeriod(1);
        targetContract(address(handler));
    }

    /// What is paid under a period never exceeds its total, on either router, nor in sum.
    function invariant_periodTotalsHold() public view {
        uint256 n = handler.periodsLength();
        for (uint256 i = 0; i < n; i++) {
            uint32 p = handler.periods(i);
            assertLe(v0.periodPaid(p), v0.periodTotal(p));
            assertLe(kyc.periodPaid(p), kyc.periodTotal(p));
            assertLe(v0.periodPaid(p) + kyc.periodPaid(p), handler.planTotal(p));
        }
    }

    /// Only planned payouts are made: each id at most once, only on its planned router, for its planned amount;
    /// recipients hold exactly what was paid to them; the attacker holds nothing.
    function invariant_onlyPlannedPayoutsOnce() public view {
        uint256 n = handler.periodsLength();
        for (uint256 r = 0; r < 6; r++) {
            address to = handler.recipients(r);
            uint256 expected;
            for (uint256 i = 0; i < n; i++) {
                uint32 p = handler.periods(i);
                bytes32 id = v0.payoutId(p, to);
                (address router, uint256 amount) = handler.planned(p, r);
                assertFalse(v0.paid(id) && kyc.paid(id), "paid on both routers");
                if (router == address(v0)) assertFalse(kyc.paid(id), "V0 payout paid by KYC");
                else assertFalse(v0.paid(id), "KYC payout paid by V0");
                if (v0.paid(id) || kyc.paid(id)) expected += amount;
            }
            assertEq(handler.ghostPlannedPaid(to), expected);
            assertEq(usdt.balanceOf(to), expected);
        }
        assertEq(usdt.balanceOf(handler.attacker()), 0);
    }

    /// Every token is accounted for: router balances + everything paid + withdrawn (fees included) = funded.
    function invariant_tokenConservation() public view {
        uint256 held = usdt.balanceOf(address(v0)) + usdt.balanceOf(address(kyc));
        assertEq(held + v0.totalPaid() + kyc.totalPaid() + handler.withdrawn(), 200_000e6 + handler.funded());
    }

    /// Daily limits held every day on both routers; the KYC per-recipient limit per kycHash.
    function invariant_dailyLimitsHold() public view {
        uint256 nd = handler.daysLength();
        for (uint256 i = 0; i < nd; i++) {
            uint64 d = handler.days_(i);
            assertLe(v0.spentOnDay(d), v0.dailyLimit());
            assertLe(kyc.spentOnDay(d), kyc.dailyLimit());
            for (uint256 r = 0; r < 6; r++) {
                bytes32 kycHash = keccak256(abi.encode("kyc", handler.recipients(r)));
                assertLe(kyc.recipientSpentOnDay(kycHash, d), kyc.recipientDailyLimit());
            }
        }
    }

    function invariant_noViolation() public view {
        assertEq(handler.violations(), 0);
    }
}
