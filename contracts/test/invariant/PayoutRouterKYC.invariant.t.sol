// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {PayoutRouterKYC} from "../../src/PayoutRouterKYC.sol";
import {MockUSDT} from "../mocks/MockUSDT.sol";
import {MockERC1271Wallet} from "../mocks/MockERC1271Wallet.sol";

/// @notice Drives PayoutRouterKYC with attestations that are valid or not in every way (wrong signer, contract
///         signer with or without the role, wrong recipient, expired, revoked, role taken away), and keeps its
///         own model of validity. A payout that succeeds although the model says the attestation was invalid is
///         counted in `unauthorizedPayouts`.
contract KycHandler is CommonBase, StdCheats, StdUtils {
    PayoutRouterKYC public immutable router;
    MockUSDT public immutable usdt;
    address public immutable admin;
    address public immutable keeper;

    // signers: 0, 1 = EOA compliance signers (1 may lose the role); 2 = EOA never a signer;
    //          3 = ERC-1271 wallet with the role; 4 = ERC-1271 wallet without it
    uint256[3] internal eoaKeys = [uint256(0xA1), uint256(0xA2), uint256(0xA3)];
    uint256 internal constant WALLET_OWNER_KEY = 0xB1;
    MockERC1271Wallet public immutable walletSigner;
    MockERC1271Wallet public immutable walletOutsider;
    mapping(address => bool) public ghostIsSigner;
    bool internal _initialised;

    bytes32[] public ids;
    address[] public recipients;
    bytes32[] public kycHashes;
    mapping(bytes32 => bool) public ghostRevoked;

    uint64[] public daysSeen;
    mapping(uint64 => bool) internal _daySeen;
    mapping(bytes32 => uint256) public payCount;
    mapping(uint64 => uint256) public ghostSpentOnDay;
    mapping(address => mapping(uint64 => uint256)) public ghostRecipientSpent;
    uint256 public ghostFunded;
    uint256 public ghostPaid;
    uint256 public successfulPayouts;
    uint256 public unauthorizedPayouts;

    constructor(PayoutRouterKYC router_, MockUSDT usdt_, address admin_, address keeper_) {
        router = router_;
        usdt = usdt_;
        admin = admin_;
        keeper = keeper_;
        walletSigner = new MockERC1271Wallet(vm.addr(WALLET_OWNER_KEY), address(0));
        walletOutsider = new MockERC1271Wallet(vm.addr(WALLET_OWNER_KEY), address(0));
        for (uint256 i; i < 24; ++i) {
            ids.push(keccak256(abi.encode("inv-kyc-id", i)));
        }
        for (uint256 i; i < 4; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            recipients.push(address(uint160(0xB0B0 + i)));
            kycHashes.push(keccak256(abi.encode("kyc", i)));
        }
    }

    /// @dev Called once by the test after it granted the roles.
    function initSigners() external {
        require(!_initialised, "once");
        _initialised = true;
        ghostIsSigner[vm.addr(eoaKeys[0])] = true;
        ghostIsSigner[vm.addr(eoaKeys[1])] = true;
        ghostIsSigner[address(walletSigner)] = true;
    }

    function signerAddresses() external view returns (address[5] memory a) {
        a = [
            vm.addr(eoaKeys[0]),
            vm.addr(eoaKeys[1]),
            vm.addr(eoaKeys[2]),
            address(walletSigner),
            address(walletOutsider)
        ];
    }

    function counts() external view returns (uint256 nIds, uint256 nRecipients, uint256 nDays) {
        return (ids.length, recipients.length, daysSeen.length);
    }

    function fund(uint256 amount) public {
        amount = bound(amount, 1, 60_000e6);
        usdt.approve(address(router), amount);
        router.fund(amount);
        ghostFunded += amount;
    }

    struct Attempt {
        bytes32 id;
        address to;
        address signedTo;
        bytes32 kycHash;
        uint64 expiry;
        uint256 amount;
        uint256 who;
        bytes sig;
    }

    function disburseKYC(uint256 seed, uint256 amount, int256 expiryOffset) external {
        Attempt memory a;
        a.id = ids[seed % ids.length];
        a.to = recipients[(seed >> 8) % recipients.length];
        // one attempt in four carries an attestation for another recipient
        a.signedTo = (seed >> 16) % 4 == 0 ? recipients[(seed >> 24) % recipients.length] : a.to;
        a.kycHash = kycHashes[(seed >> 32) % kycHashes.length];
        a.expiry = uint64(uint256(int256(block.timestamp) + bound(expiryOffset, -2 days, 60 days)));
        a.amount = bound(amount, 10e6, 5_000e6);
        a.who = (seed >> 40) % 5;
        bytes32 digest = router.attestationDigest(a.signedTo, a.kycHash, a.expiry);
        address claimed;
        if (a.who < 3) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(eoaKeys[a.who], digest);
            a.sig = abi.encodePacked(r, s, v);
            claimed = vm.addr(eoaKeys[a.who]);
        } else {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(WALLET_OWNER_KEY, digest);
            claimed = a.who == 3 ? address(walletSigner) : address(walletOutsider);
            a.sig = abi.encode(claimed, abi.encodePacked(r, s, v));
        }
        // forge-lint: disable-next-line(block-timestamp)
        bool modelValid = ghostIsSigner[claimed] && a.signedTo == a.to && a.expiry > block.timestamp
            && !ghostRevoked[a.kycHash];

        vm.prank(keeper);
        try router.disburseKYC(a.id, a.to, a.amount, a.kycHash, a.expiry, a.sig) {
            if (!modelValid) ++unauthorizedPayouts;
            uint64 day = uint64(block.timestamp / 1 days);
            if (!_daySeen[day]) {
                _daySeen[day] = true;
                daysSeen.push(day);
            }
            ++payCount[a.id];
            ghostSpentOnDay[day] += a.amount;
            ghostRecipientSpent[a.to][day] += a.amount;
            ghostPaid += a.amount;
            ++successfulPayouts;
        } catch {}
    }

    function revokeKyc(uint256 seed) external {
        if (seed % 8 != 0) return; // rare
        bytes32 h = kycHashes[(seed >> 8) % kycHashes.length];
        vm.prank(vm.addr(eoaKeys[0]));
        try router.revokeKyc(h) {
            ghostRevoked[h] = true;
        } catch {}
    }

    function toggleSecondSigner(uint256 seed) external {
        if (seed % 6 != 0) return;
        address s = vm.addr(eoaKeys[1]);
        bytes32 role = router.COMPLIANCE_SIGNER_ROLE();
        vm.startPrank(admin);
        if (ghostIsSigner[s]) router.revokeRole(role, s);
        else router.grantRole(role, s);
        vm.stopPrank();
        ghostIsSigner[s] = !ghostIsSigner[s];
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 0, 1 days));
    }
}

contract PayoutRouterKYCInvariantTest is Test {
    PayoutRouterKYC internal router;
    MockUSDT internal usdt;
    KycHandler internal handler;
    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");

    function setUp() public {
        vm.warp(1_767_225_600);
        usdt = new MockUSDT();
        router = new PayoutRouterKYC(admin, IERC20(address(usdt)));
        handler = new KycHandler(router, usdt, admin, keeper);
        address[5] memory s = handler.signerAddresses();
        bytes32 role = router.COMPLIANCE_SIGNER_ROLE();
        vm.startPrank(admin);
        router.grantRole(router.DISBURSER_ROLE(), keeper);
        router.grantRole(role, s[0]);
        router.grantRole(role, s[1]);
        router.grantRole(role, s[3]);
        vm.stopPrank();
        handler.initSigners();
        usdt.mint(address(handler), 1_000_000_000e6);
        handler.fund(60_000e6);
        handler.fund(60_000e6);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](5);
        selectors[0] = KycHandler.fund.selector;
        selectors[1] = KycHandler.disburseKYC.selector;
        selectors[2] = KycHandler.revokeKyc.selector;
        selectors[3] = KycHandler.toggleSecondSigner.selector;
        selectors[4] = KycHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    function afterInvariant() public view {
        console.log("KYC successful payouts:", handler.successfulPayouts());
    }

    /// @dev Never a payout without a valid, unexpired, unrevoked attestation for that recipient by a current
    ///      compliance signer (per the handler's own model).
    function invariant_neverPaysWithoutValidAttestation() public view {
        assertEq(handler.unauthorizedPayouts(), 0);
    }

    function invariant_totalPaidLeTotalFunded() public view {
        assertLe(router.totalPaid(), handler.ghostFunded());
        assertEq(router.totalPaid(), handler.ghostPaid());
        assertEq(usdt.balanceOf(address(router)), handler.ghostFunded() - handler.ghostPaid());
    }

    function invariant_eachPayoutIdPaysOnce() public view {
        (uint256 nIds,,) = handler.counts();
        for (uint256 i; i < nIds; ++i) {
            bytes32 id = handler.ids(i);
            uint256 c = handler.payCount(id);
            assertLe(c, 1);
            assertEq(router.paid(id), c == 1);
        }
    }

    /// @dev Daily total and per-recipient daily limits hold on every UTC day.
    function invariant_dailyAndRecipientLimitsHold() public view {
        (, uint256 nRecipients, uint256 nDays) = handler.counts();
        for (uint256 d; d < nDays; ++d) {
            uint64 day = handler.daysSeen(d);
            assertLe(router.spentOnDay(day), router.dailyLimit());
            assertEq(router.spentOnDay(day), handler.ghostSpentOnDay(day));
            for (uint256 r; r < nRecipients; ++r) {
                address to = handler.recipients(r);
                assertLe(router.recipientSpentOnDay(to, day), router.recipientDailyLimit());
                assertEq(router.recipientSpentOnDay(to, day), handler.ghostRecipientSpent(to, day));
            }
        }
    }
}
