// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MockTokenModes — test-only ERC-20 whose `transfer` misbehaves on demand (returns `true` always).
/// @notice Modes: Normal; Fee (`feeBps` of every transfer goes to the deployer: the recipient gets less);
///         Noop (returns true, moves nothing); and a per-address blacklist (transfers to it revert, as USDT's
///         `isBlackListed`). `mint`, `setMode`, `setFeeBps`, `setBlacklisted` are open (test-only).
contract MockTokenModes {
    enum Mode {
        Normal,
        Fee,
        Noop
    }

    uint8 public constant decimals = 6;
    address public immutable collector;
    Mode public mode;
    uint256 public feeBps;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(address => bool) public blacklisted;

    event Transfer(address indexed from, address indexed to, uint256 value);

    error Blacklisted(address who);
    error InsufficientTokenBalance(address from, uint256 balance, uint256 needed);

    constructor() {
        collector = msg.sender;
    }

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function setMode(Mode m, uint256 bps) external {
        mode = m;
        feeBps = bps;
    }

    function setBlacklisted(address who, bool on) external {
        blacklisted[who] = on;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        return true;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        if (blacklisted[to]) revert Blacklisted(to);
        if (mode == Mode.Noop) return true;
        uint256 fee = mode == Mode.Fee ? value * feeBps / 10_000 : 0;
        _move(msg.sender, to, value - fee);
        if (fee > 0) _move(msg.sender, collector, fee);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        allowance[from][msg.sender] -= value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) internal {
        uint256 bal = balanceOf[from];
        if (bal < value) revert InsufficientTokenBalance(from, bal, value);
        balanceOf[from] = bal - value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
