// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockERC20ReturnsFalse — test-only token whose `transfer` returns false (and moves nothing)
///        instead of reverting. `transferFrom` works, so a router can be funded with it.
contract MockERC20ReturnsFalse is ERC20 {
    constructor() ERC20("Returns False", "RFALSE") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transfer(address, uint256) public pure override returns (bool) {
        return false;
    }
}
