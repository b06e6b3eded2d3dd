// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MockTronUSDT — test-only stand-in for USDT on TRON (TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t).
/// @notice Its `transfer` moves the tokens but returns `false` (the real contract's StandardTokenWithFees
///         override has no `return`), `transferFrom` returns `true`. An optional fee (basis points, paid to the
///         deployer) mimics Tether's dormant fee switch. `mint` and `setFeeBps` are deployer-only.
contract MockTronUSDT {
    string public constant name = "Tether USD";
    string public constant symbol = "USDT";
    uint8 public constant decimals = 6;

    address public immutable owner;
    uint256 public feeBps;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error NotOwner(address caller);
    error InsufficientTokenBalance(address from, uint256 balance, uint256 needed);
    error InsufficientTokenAllowance(address spender, uint256 allowance, uint256 needed);

    constructor() {
        owner = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function setFeeBps(uint256 bps) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        feeBps = bps;
    }

    /// @dev Returns false even on success, like TRON's USDT.
    function transfer(address to, uint256 value) external returns (bool) {
        uint256 fee = value * feeBps / 10_000;
        _move(msg.sender, to, value - fee);
        if (fee > 0) _move(msg.sender, owner, fee);
        return false;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < value) revert InsufficientTokenAllowance(msg.sender, allowed, value);
        allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function _move(address from, address to, uint256 value) internal {
        uint256 bal = balanceOf[from];
        if (bal < value) revert InsufficientTokenBalance(from, bal, value);
        unchecked {
            balanceOf[from] = bal - value;
        }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
