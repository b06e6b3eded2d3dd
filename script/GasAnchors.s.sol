// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";
import {ILucidAnchors} from "../contracts/src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../contracts/src/LucidAnchors.sol";

/// @notice Gas benchmark of `anchorBatch` as real transactions (run by `tools/gas-anchors.sh`, which reads
///         the receipts). Anchors batches of 1, 10 and 100 owner-signed sessions of 8 chunks each. Only the
///         current slot and the one before are accepted (SPEC §3 v1.1), so each batch goes to its own freshly
///         deployed LucidAnchors and claims a new slot there, as in production (every batch pays for its slot).
///         Env: PRIVATE_KEY (default: anvil's first key), GAS_SEED (default 1).
contract GasAnchors is Script {
    uint256 internal constant SECP256K1_N =
        0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;

    function _batch(LucidAnchors anchors, uint256 seed, uint256 count)
        internal
        view
        returns (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs)
    {
        b = new ILucidAnchors.SessionAnchor[](count);
        sigs = new bytes32[2][](count);
        for (uint256 i = 0; i < count; i++) {
            uint256 k = uint256(keccak256(abi.encode(seed, i)));
            uint256 ownerPk = uint256(keccak256(abi.encode("owner", k))) % (SECP256K1_N - 1) + 1;
            b[i] = ILucidAnchors.SessionAnchor({
                // UUID v4 form: 16 random bytes then 16 zero bytes (SPEC §2)
                sessionId: keccak256(abi.encode("sid", k)) & bytes32(~uint256(type(uint128).max)),
                manifestHash: keccak256(abi.encode("manifest", k)),
                merkleRoot: keccak256(abi.encode("root", k)),
                owner: vm.addr(ownerPk),
                startedAt: uint64(1_760_000_000 + (k % 10_000_000)),
                chunkCount: 8
            });
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(ownerPk, anchors.sessionDigest(b[i]));
            sigs[i] = [r, bytes32(uint256(s) | (uint256(v - 27) << 255))];
        }
    }

    function _anchorOne(address me, uint256 seed, uint256 count) internal {
        LucidAnchors anchors = new LucidAnchors(me, uint64(block.timestamp - 120 * 1000));
        anchors.grantRole(anchors.ANCHORER_ROLE(), me);
        (ILucidAnchors.SessionAnchor[] memory b, bytes32[2][] memory sigs) = _batch(anchors, seed, count);
        anchors.anchorBatch(anchors.currentSlot(), b, sigs);
        console.log("LucidAnchors", address(anchors), count);
    }

    function run() external {
        uint256 pk = vm.envOr(
            "PRIVATE_KEY", uint256(0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80)
        );
        uint256 seed = vm.envOr("GAS_SEED", uint256(1));
        address me = vm.addr(pk);
        vm.startBroadcast(pk);
        _anchorOne(me, seed, 1);
        _anchorOne(me, seed + 1, 10);
        _anchorOne(me, seed + 2, 100);
        vm.stopBroadcast();
    }
}
