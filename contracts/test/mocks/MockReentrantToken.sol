// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockReentrantToken — test-only token that calls back into a target (the router) from inside
///        `transfer`/`transferFrom`, before moving the tokens.
/// @notice Arm it with `arm(target, data, bubble)`. With `bubble` the callback's revert is re-thrown (so the
///         outer call reverts with the router's error); without it the outcome is recorded in
///         `lastCallSucceeded` / `lastReturnData` and the transfer goes on.
contract MockReentrantToken is ERC20 {
    address public target;
    bytes public callData;
    bool public bubble;
    bool public armed;
    uint256 public reentryAttempts;
    bool public lastCallSucceeded;
    bytes public lastReturnData;

    constructor() ERC20("Reentrant", "REENT") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata data, bool bubble_) external {
        target = target_;
        callData = data;
        bubble = bubble_;
        armed = true;
    }

    function disarm() external {
        armed = false;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _reenter();
        return super.transferFrom(from, to, value);
    }

    function _reenter() internal {
        if (!armed) return;
        armed = false; // one attempt per arming
        ++reentryAttempts;
        (bool ok, bytes memory ret) = target.call(callData);
        lastCallSucceeded = ok;
        lastReturnData = ret;
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
