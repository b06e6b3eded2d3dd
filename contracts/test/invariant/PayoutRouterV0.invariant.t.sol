// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterV0} from "../../src/PayoutRouterV0.sol";
import {MockUSDT} from "../mocks/MockUSDT.sol";

/// @notice Drives PayoutRouterV0 with random fundings, payouts (valid and invalid, single and batched, with
///         repeated ids), withdrawals, pauses and time jumps, and keeps ghost books of what succeeded.
contract V0Handler is CommonBase, StdCheats, StdUtils {
    PayoutRouterV0 public immutable router;
    MockUSDT public immutable usdt;
    address public immutable admin;
    address public immutable keeper;

    bytes32[] public ids;
    address[] public recipients;
    uint64[] public daysSeen;
    mapping(uint64 => bool) internal _daySeen;

    mapping(bytes32 => uint256) public payCount;
    mapping(uint64 => uint256) public ghostSpentOnDay;
    uint256 public ghostFunded;
    uint256 public ghostWithdrawn;
    uint256 public ghostPaid;
    uint256 public successfulPayouts;

    constructor(PayoutRouterV0 router_, MockUSDT usdt_, address admin_, address keeper_) {
        router = router_;
        usdt = usdt_;
        admin = admin_;
        keeper = keeper_;
        for (uint256 i; i < 24; ++i) {
            ids.push(keccak256(abi.encode("inv-id", i)));
        }
        for (uint256 i; i < 5; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            recipients.push(address(uint160(0xA11CE0 + i)));
        }
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function recipientCount() external view returns (uint256) {
        return recipients.length;
    }

    function dayCount() external view returns (uint256) {
        return daysSeen.length;
    }

    function _record(bytes32 id, uint256 amount) internal {
        uint64 day = uint64(block.timestamp / 1 days);
        if (!_daySeen[day]) {
            _daySeen[day] = true;
            daysSeen.push(day);
        }
        ++payCount[id];
        ghostSpentOnDay[day] += amount;
        ghostPaid += amount;
        ++successfulPayouts;
    }

    function fund(uint256 amount) external {
        amount = bound(amount, 1, 20_000e6);
        usdt.approve(address(router), amount);
        router.fund(amount);
        ghostFunded += amount;
    }

    function disburse(uint256 idSeed, uint256 toSeed, uint256 amount) external {
        bytes32 id = ids[idSeed % ids.length];
        address to = recipients[toSeed % recipients.length];
        amount = bound(amount, 5e6, 1_100e6); // includes below-minimum and above-maximum amounts
        vm.prank(keeper);
        try router.disburse(id, to, amount) {
            _record(id, amount);
        } catch {}
    }

    function disburseBatch(uint256 seed, uint8 n) external {
        n = uint8(bound(n, 1, 4));
        bytes32[] memory bIds = new bytes32[](n);
        address[] memory bTo = new address[](n);
        uint256[] memory bAmounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 s = uint256(keccak256(abi.encode(seed, i)));
            bIds[i] = ids[s % ids.length];
            bTo[i] = recipients[(s >> 64) % recipients.length];
            bAmounts[i] = bound(s >> 128, 10e6, 1_000e6);
        }
        vm.prank(keeper);
        try router.disburseBatch(bIds, bTo, bAmounts) {
            for (uint256 i; i < n; ++i) {
                _record(bIds[i], bAmounts[i]);
            }
        } catch {}
    }

    function withdraw(uint256 amount) external {
        uint256 bal = usdt.balanceOf(address(router));
        if (bal == 0) return;
        amount = bound(amount, 1, bal / 4 + 1);
        vm.prank(admin);
        router.withdraw(admin, amount);
        ghostWithdrawn += amount;
    }

    function togglePause(uint256 seed) external {
        if (seed % 4 != 0) return; // mostly unpaused
        vm.startPrank(admin);
        if (router.paused()) router.unpause();
        else router.pause();
        vm.stopPrank();
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 2 days));
    }
}

contract PayoutRouterV0InvariantTest is Test {
    PayoutRouterV0 internal router;
    MockUSDT internal usdt;
    V0Handler internal handler;
    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");

    function setUp() public {
        vm.warp(1_767_225_600);
        usdt = new MockUSDT();
        router = new PayoutRouterV0(admin, IERC20(address(usdt)));
        handler = new V0Handler(router, usdt, admin, keeper);
        vm.startPrank(admin);
        router.grantRole(router.DISBURSER_ROLE(), keeper);
        vm.stopPrank();
        usdt.mint(address(handler), 1_000_000_000e6); // MockUSDT mints only for its deployer (this test)
        handler.fund(20_000e6);
        handler.fund(20_000e6);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = V0Handler.fund.selector;
        selectors[1] = V0Handler.disburse.selector;
        selectors[2] = V0Handler.disburseBatch.selector;
        selectors[3] = V0Handler.withdraw.selector;
        selectors[4] = V0Handler.togglePause.selector;
        selectors[5] = V0Handler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev Sanity: the random walk does pay (the invariants are not vacuous).
    function afterInvariant() public view {
        console.log("V0 successful payouts:", handler.successfulPayouts());
    }

    /// @dev Total paid never exceeds total funded, and the router's balance is exactly funded − withdrawn − paid.
    function invariant_totalPaidLeTotalFunded() public view {
        assertLe(router.totalPaid(), handler.ghostFunded());
        assertEq(router.totalPaid(), handler.ghostPaid());
        assertEq(
            usdt.balanceOf(address(router)),
            handler.ghostFunded() - handler.ghostWithdrawn() - handler.ghostPaid()
        );
        uint256 received;
        for (uint256 i; i < handler.recipientCount(); ++i) {
            received += usdt.balanceOf(handler.recipients(i));
        }
        assertEq(received, handler.ghostPaid());
    }

    /// @dev Every payoutId paid at most once, and `paid` says so exactly for the paid ones.
    function invariant_eachPayoutIdPaysOnce() public view {
        for (uint256 i; i < handler.idCount(); ++i) {
            bytes32 id = handler.ids(i);
            uint256 c = handler.payCount(id);
            assertLe(c, 1);
            assertEq(router.paid(id), c == 1);
        }
    }

    /// @dev The payouts of every UTC day add up to at most the daily limit.
    function invariant_dailyLimitHolds() public view {
        for (uint256 i; i < handler.dayCount(); ++i) {
            uint64 day = handler.daysSeen(i);
            assertLe(router.spentOnDay(day), router.dailyLimit());
            assertEq(router.spentOnDay(day), handler.ghostSpentOnDay(day));
        }
    }
}
