// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";
import {ILucidAnchors} from "../contracts/src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../contracts/src/LucidAnchors.sol";

/// @notice Gas benchmark of `anchorBatch` as real transactions (run by `script/gas-anchors.sh`, which reads
///         the receipts). Deploys a fresh LucidAnchors, then anchors batches of 1, 10 and 100 sessions of
///         8 chunks each, every batch in a new slot (so each also pays for claiming its slot).
///         Env: PRIVATE_KEY (default: anvil's first key), GAS_SEED (default 1).
contract GasAnchors is Script {
    function _batch(uint256 seed, uint256 count)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor[] memory b)
    {
        b = new ILucidAnchors.SessionAnchor[](count);
        for (uint256 i = 0; i < count; i++) {
            uint256 k = uint256(keccak256(abi.encode(seed, i)));
            b[i] = ILucidAnchors.SessionAnchor({
                // UUID v4 form: 16 random bytes then 16 zero bytes (SPEC §2)
                sessionId: keccak256(abi.encode("sid", k)) & bytes32(~uint256(type(uint128).max)),
                manifestHash: keccak256(abi.encode("manifest", k)),
                merkleRoot: keccak256(abi.encode("root", k)),
                owner: address(uint160(uint256(keccak256(abi.encode("owner", k))))),
                startedAt: uint64(1_760_000_000 + (k % 10_000_000)),
                chunkCount: 8
            });
        }
    }

    function run() external {
        uint256 pk = vm.envOr(
            "PRIVATE_KEY", uint256(0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80)
        );
        uint256 seed = vm.envOr("GAS_SEED", uint256(1));
        address me = vm.addr(pk);
        vm.startBroadcast(pk);
        LucidAnchors anchors = new LucidAnchors(me, uint64(block.timestamp - 120 * 1000));
        anchors.grantRole(anchors.ANCHORER_ROLE(), me);
        uint64 slot = anchors.currentSlot();
        anchors.anchorBatch(slot - 3, _batch(seed, 1));
        anchors.anchorBatch(slot - 2, _batch(seed + 1, 10));
        anchors.anchorBatch(slot - 1, _batch(seed + 2, 100));
        vm.stopBroadcast();
        console.log("LucidAnchors", address(anchors));
    }
}
