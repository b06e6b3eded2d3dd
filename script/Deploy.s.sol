// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {LucidAnchors} from "../contracts/src/LucidAnchors.sol";
import {LucidChunkStore} from "../contracts/src/LucidChunkStore.sol";
import {PayoutRouterV0} from "../contracts/src/PayoutRouterV0.sol";
import {PayoutRouterKYC} from "../contracts/src/PayoutRouterKYC.sol";
import {MockUSDT} from "../contracts/test/mocks/MockUSDT.sol";

/// @notice Deploys one of Lucid's two contract sets and records it in deployments/<chainId>.json.
///
///   forge script script/Deploy.s.sol:Deploy --rpc-url <url> --broadcast
///
/// Environment:
///   PRIVATE_KEY        deployer; holds DEFAULT_ADMIN_ROLE on everything it deploys until ADMIN accepts it
///   ADMIN              optional: the admin (a multisig). The deployer grants the roles below, then begins the
///                      two-step DEFAULT_ADMIN_ROLE transfer to ADMIN (AccessControlDefaultAdminRules; ADMIN calls
///                      acceptDefaultAdminTransfer() once ADMIN_DELAY = 3 days have passed) and, on the routers,
///                      hands PAUSER_ROLE to ADMIN. Without it the deployer stays the admin.
///   KEEPER_ADDRESS     gets ANCHORER_ROLE + STORER_ROLE (onsystem; required). Payment: no role (executing a
///                      planned payout needs none); accepted and ignored.
///   TREASURER          gets TREASURER_ROLE on both routers (payment; sets the period roots). Required unless
///                      TRON_NETWORK=local, where it defaults to the deployer.
///   COMPLIANCE_SIGNER  gets COMPLIANCE_SIGNER_ROLE on PayoutRouterKYC (payment)
///   DEPLOY_CHAIN       onsystem | payment
///   TRON_NETWORK       local | shasta | mainnet (payment; `local` = an EVM node standing in for the TVM,
///                      and also deploys a USDT-like token and mints 1,000,000 USDT to the deployer)
///   USDT_ADDRESS       the USDT token (payment, required unless TRON_NETWORK=local)
///   GENESIS_TIME       start of slot 0 (onsystem; default 1704067200 as in SPEC §1)
///   FORCE_REDEPLOY     1 to deploy again although deployments/<chainId>.json names live contracts
contract Deploy is Script {
    uint256 internal constant LOCAL_USDT_MINT = 1_000_000e6;

    error UnknownDeployChain(string value);
    error UnknownTronNetwork(string value);
    error AlreadyDeployed(string file, address existing);
    error MissingUsdtAddress();
    error ZeroAddressInEnv(string name);
    error MissingTreasurer();

    function run() external {
        uint256 pk = vm.envUint("PRIVATE_KEY");
        address deployer = vm.addr(pk);
        string memory which = vm.envString("DEPLOY_CHAIN");
        string memory file =
            string.concat(vm.projectRoot(), "/deployments/", vm.toString(block.chainid), ".json");
        _refuseDoubleDeploy(file);

        uint256 startBlock = block.number;
        string memory out = "deployment";
        vm.serializeUint(out, "chainId", block.chainid);
        vm.serializeString(out, "deployChain", which);
        vm.serializeAddress(out, "deployer", deployer);
        string memory json;

        if (_eq(which, "onsystem")) {
            json = _deployOnsystem(pk, deployer, out);
        } else if (_eq(which, "payment")) {
            json = _deployPayment(pk, deployer, out);
        } else {
            revert UnknownDeployChain(which);
        }
        // startBlock last so every file has it; the indexer starts following the chain there.
        json = vm.serializeUint(out, "startBlock", startBlock);
        vm.writeJson(json, file);
        console.log("wrote", file);
    }

    function _deployOnsystem(uint256 pk, address deployer, string memory out)
        internal
        returns (string memory)
    {
        address keeper = _envAddress("KEEPER_ADDRESS");
        uint64 genesis = uint64(vm.envOr("GENESIS_TIME", uint256(1_704_067_200)));
        address admin = vm.envOr("ADMIN", address(0));
        vm.startBroadcast(pk);
        LucidAnchors anchors = new LucidAnchors(deployer, genesis);
        LucidChunkStore store = new LucidChunkStore(deployer, anchors);
        anchors.grantRole(anchors.ANCHORER_ROLE(), keeper);
        store.grantRole(store.STORER_ROLE(), keeper);
        if (admin != address(0) && admin != deployer) {
            anchors.beginDefaultAdminTransfer(admin);
            store.beginDefaultAdminTransfer(admin);
        }
        vm.stopBroadcast();
        console.log("LucidAnchors    ", address(anchors));
        console.log("LucidChunkStore ", address(store));
        vm.serializeUint(out, "genesisTime", genesis);
        vm.serializeAddress(out, "admin", admin == address(0) ? deployer : admin);
        vm.serializeAddress(out, "LucidAnchors", address(anchors));
        return vm.serializeAddress(out, "LucidChunkStore", address(store));
    }

    struct PaymentConfig {
        address signer;
        string network;
        bool local;
        address usdt;
        address treasurer;
        address admin;
    }

    function _paymentConfig(address deployer) internal view returns (PaymentConfig memory c) {
        c.signer = _envAddress("COMPLIANCE_SIGNER");
        c.network = vm.envOr("TRON_NETWORK", string("local"));
        c.local = _eq(c.network, "local");
        if (!c.local && !_eq(c.network, "shasta") && !_eq(c.network, "mainnet")) {
            revert UnknownTronNetwork(c.network);
        }
        c.usdt = vm.envOr("USDT_ADDRESS", address(0));
        if (!c.local && c.usdt == address(0)) revert MissingUsdtAddress();
        c.treasurer = vm.envOr("TREASURER", c.local ? deployer : address(0));
        if (c.treasurer == address(0)) revert MissingTreasurer();
        c.admin = vm.envOr("ADMIN", address(0));
    }

    function _deployPayment(uint256 pk, address deployer, string memory out)
        internal
        returns (string memory)
    {
        PaymentConfig memory c = _paymentConfig(deployer);
        vm.startBroadcast(pk);
        if (c.local) {
            MockUSDT token = new MockUSDT();
            token.mint(deployer, LOCAL_USDT_MINT);
            c.usdt = address(token);
        }
        PayoutRouterV0 v0 = new PayoutRouterV0(deployer, IERC20(c.usdt));
        PayoutRouterKYC kyc = new PayoutRouterKYC(deployer, IERC20(c.usdt));
        v0.grantRole(v0.TREASURER_ROLE(), c.treasurer);
        kyc.grantRole(kyc.TREASURER_ROLE(), c.treasurer);
        kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), c.signer);
        if (c.admin != address(0) && c.admin != deployer) {
            _handOverRouter(address(v0), c.admin, deployer);
            _handOverRouter(address(kyc), c.admin, deployer);
        }
        vm.stopBroadcast();
        console.log("USDT            ", c.usdt);
        console.log("PayoutRouterV0  ", address(v0));
        console.log("PayoutRouterKYC ", address(kyc));
        vm.serializeString(out, "tronNetwork", c.network);
        vm.serializeAddress(out, "treasurer", c.treasurer);
        vm.serializeAddress(out, "complianceSigner", c.signer);
        vm.serializeAddress(out, "admin", c.admin == address(0) ? deployer : c.admin);
        vm.serializeAddress(out, "USDT", c.usdt);
        vm.serializeAddress(out, "PayoutRouterV0", address(v0));
        return vm.serializeAddress(out, "PayoutRouterKYC", address(kyc));
    }

    /// @dev PAUSER_ROLE to the new admin at once, DEFAULT_ADMIN_ROLE by the two-step transfer (accepted by
    ///      `admin` after the delay). The deployer keeps no pauser role.
    function _handOverRouter(address router, address admin, address deployer) internal {
        PayoutRouterV0 r = PayoutRouterV0(router); // same role API on both routers
        r.grantRole(r.PAUSER_ROLE(), admin);
        r.renounceRole(r.PAUSER_ROLE(), deployer);
        r.beginDefaultAdminTransfer(admin);
    }

    /// @dev A deployment file whose first contract still has code means this chain is already set up.
    ///      A file left over from a chain that was reset (no code at the address) is overwritten.
    function _refuseDoubleDeploy(string memory file) internal view {
        if (!vm.exists(file) || vm.envOr("FORCE_REDEPLOY", false)) return;
        string memory existing = vm.readFile(file);
        string[2] memory keys = [".LucidAnchors", ".PayoutRouterV0"];
        for (uint256 i; i < keys.length; ++i) {
            if (!vm.keyExistsJson(existing, keys[i])) continue;
            address a = vm.parseJsonAddress(existing, keys[i]);
            if (a.code.length != 0) {
                console.log(
                    "already deployed on this chain (see the file; FORCE_REDEPLOY=1 to deploy again):"
                );
                console.log(file);
                revert AlreadyDeployed(file, a);
            }
        }
        console.log("stale deployment file (no code at its addresses), overwriting:", file);
    }

    function _envAddress(string memory name) internal view returns (address a) {
        a = vm.envAddress(name);
        if (a == address(0)) revert ZeroAddressInEnv(name);
    }

    function _eq(string memory a, string memory b) internal pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }
}
