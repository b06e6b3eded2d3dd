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
///   PRIVATE_KEY        deployer; holds DEFAULT_ADMIN_ROLE on everything it deploys
///   KEEPER_ADDRESS     gets ANCHORER_ROLE + STORER_ROLE (onsystem) or DISBURSER_ROLE (payment)
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
            address keeper = _envAddress("KEEPER_ADDRESS");
            uint64 genesis = uint64(vm.envOr("GENESIS_TIME", uint256(1_704_067_200)));
            vm.startBroadcast(pk);
            LucidAnchors anchors = new LucidAnchors(deployer, genesis);
            LucidChunkStore store = new LucidChunkStore(deployer, anchors);
            anchors.grantRole(anchors.ANCHORER_ROLE(), keeper);
            store.grantRole(store.STORER_ROLE(), keeper);
            vm.stopBroadcast();
            console.log("LucidAnchors    ", address(anchors));
            console.log("LucidChunkStore ", address(store));
            vm.serializeUint(out, "genesisTime", genesis);
            vm.serializeAddress(out, "LucidAnchors", address(anchors));
            json = vm.serializeAddress(out, "LucidChunkStore", address(store));
        } else if (_eq(which, "payment")) {
            address keeper = _envAddress("KEEPER_ADDRESS");
            address signer = _envAddress("COMPLIANCE_SIGNER");
            string memory network = vm.envOr("TRON_NETWORK", string("local"));
            bool local = _eq(network, "local");
            if (!local && !_eq(network, "shasta") && !_eq(network, "mainnet")) {
                revert UnknownTronNetwork(network);
            }
            address usdt = vm.envOr("USDT_ADDRESS", address(0));
            if (!local && usdt == address(0)) revert MissingUsdtAddress();

            vm.startBroadcast(pk);
            if (local) {
                MockUSDT token = new MockUSDT();
                token.mint(deployer, LOCAL_USDT_MINT);
                usdt = address(token);
            }
            PayoutRouterV0 v0 = new PayoutRouterV0(deployer, IERC20(usdt));
            PayoutRouterKYC kyc = new PayoutRouterKYC(deployer, IERC20(usdt));
            v0.grantRole(v0.DISBURSER_ROLE(), keeper);
            kyc.grantRole(kyc.DISBURSER_ROLE(), keeper);
            kyc.grantRole(kyc.COMPLIANCE_SIGNER_ROLE(), signer);
            vm.stopBroadcast();
            console.log("USDT            ", usdt);
            console.log("PayoutRouterV0  ", address(v0));
            console.log("PayoutRouterKYC ", address(kyc));
            vm.serializeString(out, "tronNetwork", network);
            vm.serializeAddress(out, "USDT", usdt);
            vm.serializeAddress(out, "PayoutRouterV0", address(v0));
            json = vm.serializeAddress(out, "PayoutRouterKYC", address(kyc));
        } else {
            revert UnknownDeployChain(which);
        }
        // startBlock last so every file has it; the indexer starts following the chain there.
        json = vm.serializeUint(out, "startBlock", startBlock);
        vm.writeJson(json, file);
        console.log("wrote", file);
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
