// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {ILucidAnchors} from "../../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../../src/LucidAnchors.sol";
import {LucidChunkStore} from "../../src/LucidChunkStore.sol";
import {LucidHashes} from "../../src/libraries/LucidHashes.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";

/// @notice Shared set-up and helpers for the LucidAnchors / LucidChunkStore tests.
abstract contract AnchorsFixture is Test {
    uint64 internal constant GENESIS = 1_704_067_200; // SPEC §1 default
    uint256 internal constant START = GENESIS + 1_000 * 120 + 7; // slot 1000, 7 s in

    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");
    address internal keeper2 = makeAddr("keeper2");
    address internal storer = makeAddr("storer");
    address internal storer2 = makeAddr("storer2");
    address internal stranger = makeAddr("stranger");

    LucidAnchors internal anchors;
    LucidChunkStore internal store;

    function setUp() public virtual {
        vm.warp(START);
        anchors = new LucidAnchors(admin, GENESIS);
        store = new LucidChunkStore(admin, anchors);
        vm.startPrank(admin);
        anchors.grantRole(anchors.ANCHORER_ROLE(), keeper);
        anchors.grantRole(anchors.ANCHORER_ROLE(), keeper2);
        store.grantRole(store.STORER_ROLE(), storer);
        store.grantRole(store.STORER_ROLE(), storer2);
        vm.stopPrank();
    }

    /// @dev A UUID-like sessionId: 16 random bytes followed by 16 zero bytes (SPEC §2).
    function _sessionId(uint256 seed) internal pure returns (bytes32) {
        bytes32 id = keccak256(abi.encode("sid", seed)) & bytes32(~uint256(type(uint128).max));
        return id == bytes32(0) ? bytes32(uint256(1) << 128) : id;
    }

    function _chunks(uint256 seed, uint256 n) internal pure returns (MerkleBuilder.Chunk[] memory c) {
        c = new MerkleBuilder.Chunk[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 r = uint256(keccak256(abi.encode("chunk", seed, i)));
            c[i] = MerkleBuilder.Chunk({
                index: uint32(i),
                chunkHash: keccak256(abi.encode(r)),
                size: uint64(1 + (r % (16 * 1024 * 1024)))
            });
        }
    }

    /// @dev A well-formed anchor for `n` chunks plus its chunks and leaves.
    function _session(uint256 seed, uint256 n)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor memory s, MerkleBuilder.Chunk[] memory c, bytes32[] memory lv)
    {
        bytes32 id = _sessionId(seed);
        c = _chunks(seed, n);
        lv = MerkleBuilder.leaves(id, c);
        s = ILucidAnchors.SessionAnchor({
            sessionId: id,
            manifestHash: keccak256(abi.encode("manifest", seed)),
            merkleRoot: MerkleBuilder.root(lv),
            owner: address(uint160(uint256(keccak256(abi.encode("owner", seed))))),
            startedAt: uint64(1_760_000_000 + (seed % 10_000_000)),
            chunkCount: uint32(n)
        });
    }

    /// @dev Cheap anchors (random root, no tree) for gas and batch tests.
    function _batch(uint256 seed, uint256 count, uint32 chunkCount)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor[] memory b)
    {
        b = new ILucidAnchors.SessionAnchor[](count);
        for (uint256 i = 0; i < count; i++) {
            uint256 k = uint256(keccak256(abi.encode(seed, i)));
            b[i] = ILucidAnchors.SessionAnchor({
                sessionId: _sessionId(k),
                manifestHash: keccak256(abi.encode("manifest", k)),
                merkleRoot: keccak256(abi.encode("root", k)),
                owner: address(uint160(uint256(keccak256(abi.encode("owner", k))))),
                startedAt: uint64(1_760_000_000 + (k % 10_000_000)),
                chunkCount: chunkCount
            });
        }
    }

    function _one(ILucidAnchors.SessionAnchor memory s)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor[] memory b)
    {
        b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = s;
    }

    function _anchor(ILucidAnchors.SessionAnchor memory s) internal {
        uint64 slot = anchors.currentSlot();
        vm.prank(keeper);
        anchors.anchorBatch(slot, _one(s));
    }
}
