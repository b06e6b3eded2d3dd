// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MockUSDT — a test-only stand-in for Tether USD (6 decimals) as deployed on Ethereum / TRON.
/// @notice Like mainnet USDT, `transfer`, `transferFrom` and `approve` return NOTHING, so a caller that expects
///         a `bool` (plain IERC20) fails to decode the result; SafeERC20 handles it. Failures revert with custom
///         errors. `mint` is restricted to the deployer. Not for production.
contract MockUSDT {
    string public constant name = "Tether USD";
    string public constant symbol = "USDT";
    uint8 public constant decimals = 6;

    address public immutable minter;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error NotMinter(address caller);
    error InsufficientTokenBalance(address from, uint256 balance, uint256 needed);
    error InsufficientTokenAllowance(address spender, uint256 allowance, uint256 needed);
    error TransferToZero();

    constructor() {
        minter = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        if (to == address(0)) revert TransferToZero();
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 value) external {
        _move(msg.sender, to, value);
    }

    function transferFrom(address from, address to, uint256 value) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert InsufficientTokenAllowance(msg.sender, allowed, value);
            allowance[from][msg.sender] = allowed - value;
        }
        _move(from, to, value);
    }

    function approve(address spender, uint256 value) external {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
    }

    function _move(address from, address to, uint256 value) internal {
        if (to == address(0)) revert TransferToZero();
        uint256 bal = balanceOf[from];
        if (bal < value) revert InsufficientTokenBalance(from, bal, value);
        unchecked {
            balanceOf[from] = bal - value;
        }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
