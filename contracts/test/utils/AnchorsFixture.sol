// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {ILucidAnchors} from "../../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../../src/LucidAnchors.sol";
import {LucidChunkStore} from "../../src/LucidChunkStore.sol";
import {MerkleBuilder} from "./MerkleBuilder.sol";

/// @notice Shared set-up and helpers for the LucidAnchors / LucidChunkStore tests. Owners are real keys
///         (`_ownerKey(seed)`), and `_sig` signs the SPEC §3 EIP-712 hash computed here independently of the
///         contract (domain and type strings spelled out).
abstract contract AnchorsFixture is Test {
    uint64 internal constant GENESIS = 1_704_067_200; // SPEC §1 default
    uint256 internal constant START = GENESIS + 1_000 * 120 + 7; // slot 1000, 7 s in
    uint256 internal constant SECP256K1_N =
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant ANCHOR_TYPEHASH = keccak256(
        "SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)"
    );

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

    function _ownerKey(uint256 seed) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("owner", seed))) % (SECP256K1_N - 1) + 1;
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

    /// @dev A well-formed anchor for `n` chunks plus its chunks and leaves; owner = vm.addr(_ownerKey(seed)).
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
            owner: vm.addr(_ownerKey(seed)),
            startedAt: uint64(1_760_000_000 + (seed % 10_000_000)),
            chunkCount: uint32(n)
        });
    }

    /// @dev Cheap anchors (random root, no tree) for gas and batch tests; owner of item i = key _ownerKey(k_i).
    function _batch(uint256 seed, uint256 count, uint32 chunkCount)
        internal
        pure
        returns (ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys)
    {
        b = new ILucidAnchors.SessionAnchor[](count);
        keys = new uint256[](count);
        for (uint256 i = 0; i < count; i++) {
            uint256 k = uint256(keccak256(abi.encode(seed, i)));
            keys[i] = _ownerKey(k);
            b[i] = ILucidAnchors.SessionAnchor({
                sessionId: _sessionId(k),
                manifestHash: keccak256(abi.encode("manifest", k)),
                merkleRoot: keccak256(abi.encode("root", k)),
                owner: vm.addr(keys[i]),
                startedAt: uint64(1_760_000_000 + (k % 10_000_000)),
                chunkCount: chunkCount
            });
        }
    }

    /// @dev The EIP-712 hash of `s` for the LucidAnchors at `verifying` (SPEC §3, computed here).
    function _typedHash(address verifying, ILucidAnchors.SessionAnchor memory s)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("LucidAnchors"), keccak256("1"), block.chainid, verifying)
        );
        bytes32 structHash = keccak256(abi.encode(ANCHOR_TYPEHASH, s));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev EIP-2098 compact [r, vs] of `key` over `digest`.
    function _compact(uint256 key, bytes32 digest) internal pure returns (bytes32[2] memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return [r, bytes32(uint256(s) | (uint256(v - 27) << 255))];
    }

    function _sig(uint256 key, ILucidAnchors.SessionAnchor memory s)
        internal
        view
        returns (bytes32[2] memory)
    {
        return _compact(key, _typedHash(address(anchors), s));
    }

    function _sigs(ILucidAnchors.SessionAnchor[] memory b, uint256[] memory keys)
        internal
        view
        returns (bytes32[2][] memory out)
    {
        out = new bytes32[2][](b.length);
        for (uint256 i = 0; i < b.length; i++) {
            out[i] = _sig(keys[i], b[i]);
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

    function _oneSig(bytes32[2] memory sig) internal pure returns (bytes32[2][] memory b) {
        b = new bytes32[2][](1);
        b[0] = sig;
    }

    /// @dev Anchors session `s` whose owner key is `key`, in the current slot, as `keeper`.
    function _anchor(ILucidAnchors.SessionAnchor memory s, uint256 key) internal {
        uint64 slot = anchors.currentSlot();
        vm.prank(keeper);
        anchors.anchorBatch(slot, _one(s), _oneSig(_sig(key, s)));
    }
}
