// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockERC1271Wallet — test-only contract signer (stands in for a multisig).
/// @notice `isValidSignature(hash, sig)` returns the ERC-1271 magic value when `sig` is an ECDSA signature of
///         `hash` by `owner` (two owners' signatures concatenated when `threshold` is 2). `setMode` makes it
///         reject everything, return a wrong value, or revert.
contract MockERC1271Wallet is IERC1271 {
    enum Mode {
        Normal,
        RejectAll,
        WrongMagic,
        Revert
    }

    address public immutable owner1;
    address public immutable owner2; // zero: single-owner wallet
    Mode public mode;

    error WalletReverted();

    constructor(address owner1_, address owner2_) {
        owner1 = owner1_;
        owner2 = owner2_;
    }

    function setMode(Mode m) external {
        mode = m;
    }

    function isValidSignature(bytes32 hash, bytes calldata sig) external view returns (bytes4) {
        if (mode == Mode.Revert) revert WalletReverted();
        if (mode == Mode.WrongMagic) return 0xdeadbeef;
        if (mode == Mode.RejectAll) return 0xffffffff;
        bool ok;
        if (owner2 == address(0)) {
            ok = _signedBy(hash, sig, owner1);
        } else {
            ok = sig.length == 130 && _signedBy(hash, sig[0:65], owner1)
                && _signedBy(hash, sig[65:130], owner2);
        }
        return ok ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    function _signedBy(bytes32 hash, bytes calldata sig, address who) internal pure returns (bool) {
        (address rec, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, sig);
        return err == ECDSA.RecoverError.NoError && rec == who;
    }
}
