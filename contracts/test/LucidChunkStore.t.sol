// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {ILucidChunkStore} from "../src/interfaces/ILucidChunkStore.sol";
import {LucidChunkStore} from "../src/LucidChunkStore.sol";
import {MerkleBuilder} from "./utils/MerkleBuilder.sol";
import {AnchorsFixture} from "./utils/AnchorsFixture.sol";

contract LucidChunkStoreTest is AnchorsFixture {
    event ChunkStored(
        bytes32 indexed sessionId,
        uint32 indexed index,
        address indexed storer,
        bytes32 chunkHash,
        uint64 size
    );

    ILucidAnchors.SessionAnchor internal s;
    MerkleBuilder.Chunk[] internal c;
    bytes32[] internal lv;

    function setUp() public override {
        super.setUp();
        (ILucidAnchors.SessionAnchor memory s_, MerkleBuilder.Chunk[] memory c_, bytes32[] memory lv_) =
            _session(42, 8);
        s = s_;
        for (uint256 i = 0; i < c_.length; i++) {
            c.push(c_[i]);
        }
        lv = lv_;
        _anchor(s_);
    }

    function _register(address who, uint256 i) internal {
        vm.prank(who);
        store.registerChunk(s, c[i].index, c[i].chunkHash, c[i].size, MerkleBuilder.proof(lv, i));
    }

    function _expectRevertRegister(bytes memory err, uint32 index, bytes32 h, uint64 size, bytes32[] memory p)
        internal
    {
        vm.expectRevert(err);
        vm.prank(storer);
        store.registerChunk(s, index, h, size, p);
    }

    // ------------------------------------------------------------------ constructor, views

    function test_constructor_setsAnchorsAndAdmin() public view {
        assertEq(address(store.ANCHORS()), address(anchors));
        assertEq(store.STORER_ROLE(), keccak256("STORER_ROLE"));
        assertEq(store.MAX_CHUNK_SIZE(), 16 * 1024 * 1024);
        assertTrue(store.hasRole(store.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(store.hasRole(store.STORER_ROLE(), storer));
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(ILucidChunkStore.ZeroAddress.selector);
        new LucidChunkStore(address(0), anchors);
    }

    function test_RevertWhen_constructorZeroAnchors() public {
        vm.expectRevert(ILucidChunkStore.ZeroAddress.selector);
        new LucidChunkStore(admin, ILucidAnchors(address(0)));
    }

    function test_RevertWhen_grantRoleByNonAdmin() public {
        bytes32 role = store.STORER_ROLE();
        bytes32 adminRole = store.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, storer, adminRole
            )
        );
        vm.prank(storer);
        store.grantRole(role, stranger);
    }

    function test_replicas_zeroInitially() public view {
        assertEq(store.replicas(s.sessionId, 0), 0);
        assertFalse(store.isStored(s.sessionId, 0, storer));
    }

    // ------------------------------------------------------------------ registerChunk

    function test_registerChunk_recordsAndEmits() public {
        vm.expectEmit(true, true, true, true, address(store));
        emit ChunkStored(s.sessionId, 3, storer, c[3].chunkHash, c[3].size);
        _register(storer, 3);
        assertEq(store.replicas(s.sessionId, 3), 1);
        assertTrue(store.isStored(s.sessionId, 3, storer));
        assertFalse(store.isStored(s.sessionId, 3, storer2));
        assertEq(store.replicas(s.sessionId, 2), 0);
    }

    function test_registerChunk_secondStorerIncrementsReplicas() public {
        _register(storer, 0);
        vm.expectEmit(true, true, true, true, address(store));
        emit ChunkStored(s.sessionId, 0, storer2, c[0].chunkHash, c[0].size);
        _register(storer2, 0);
        assertEq(store.replicas(s.sessionId, 0), 2);
    }

    function test_registerChunk_allChunksAndSizeBounds() public {
        for (uint256 i = 0; i < c.length; i++) {
            _register(storer, i);
            assertEq(store.replicas(s.sessionId, uint32(i)), 1);
        }
        // size 1 and 16 MiB exactly are accepted
        for (uint256 k = 0; k < 2; k++) {
            uint64 size = k == 0 ? 1 : 16 * 1024 * 1024;
            MerkleBuilder.Chunk[] memory cc = new MerkleBuilder.Chunk[](1);
            cc[0] = MerkleBuilder.Chunk(0, keccak256("x"), size);
            bytes32 id = _sessionId(1000 + k);
            bytes32[] memory l = MerkleBuilder.leaves(id, cc);
            ILucidAnchors.SessionAnchor memory t =
                ILucidAnchors.SessionAnchor(id, keccak256("m"), l[0], address(9), 1, 1);
            _anchor(t);
            vm.prank(storer);
            store.registerChunk(t, 0, keccak256("x"), size, new bytes32[](0));
            assertEq(store.replicas(id, 0), 1);
        }
    }

    /// @dev replicas saturates at type(uint16).max; the registration itself is still recorded and emitted.
    function test_registerChunk_replicasSaturateAtMax() public {
        bytes32 inner = keccak256(abi.encode(s.sessionId, uint256(1))); // _replicas at slot 1
        bytes32 slot = keccak256(abi.encode(uint256(5), inner));
        vm.store(address(store), slot, bytes32(uint256(type(uint16).max - 1)));
        assertEq(store.replicas(s.sessionId, 5), type(uint16).max - 1);
        _register(storer, 5);
        assertEq(store.replicas(s.sessionId, 5), type(uint16).max);
        vm.expectEmit(true, true, true, true, address(store));
        emit ChunkStored(s.sessionId, 5, storer2, c[5].chunkHash, c[5].size);
        _register(storer2, 5);
        assertEq(store.replicas(s.sessionId, 5), type(uint16).max);
        assertTrue(store.isStored(s.sessionId, 5, storer2));
    }

    function test_RevertWhen_registerChunkWithoutRole() public {
        bytes32 role = store.STORER_ROLE();
        bytes32[] memory p = MerkleBuilder.proof(lv, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        store.registerChunk(s, 0, c[0].chunkHash, c[0].size, p);
    }

    function test_RevertWhen_registerChunkSizeZero() public {
        _expectRevertRegister(
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkSize.selector, uint64(0)),
            0,
            c[0].chunkHash,
            0,
            MerkleBuilder.proof(lv, 0)
        );
    }

    function test_RevertWhen_registerChunkSizeOver16MiB() public {
        uint64 size = 16 * 1024 * 1024 + 1;
        _expectRevertRegister(
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkSize.selector, size),
            0,
            c[0].chunkHash,
            size,
            MerkleBuilder.proof(lv, 0)
        );
    }

    function test_RevertWhen_registerChunkIndexOutOfRange() public {
        _expectRevertRegister(
            abi.encodeWithSelector(
                ILucidChunkStore.IndexOutOfRange.selector, s.sessionId, uint32(8), uint32(8)
            ),
            8,
            c[0].chunkHash,
            c[0].size,
            MerkleBuilder.proof(lv, 0)
        );
    }

    function test_RevertWhen_registerChunkAlreadyStored() public {
        _register(storer, 1);
        _expectRevertRegister(
            abi.encodeWithSelector(ILucidChunkStore.AlreadyStored.selector, s.sessionId, uint32(1), storer),
            1,
            c[1].chunkHash,
            c[1].size,
            MerkleBuilder.proof(lv, 1)
        );
    }

    function test_RevertWhen_registerChunkBadProof() public {
        bytes32[] memory p = MerkleBuilder.proof(lv, 1);
        p[1] = bytes32(uint256(p[1]) ^ 1);
        _expectRevertRegister(
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkProof.selector, s.sessionId, uint32(1)),
            1,
            c[1].chunkHash,
            c[1].size,
            p
        );
    }

    function test_RevertWhen_registerChunkWrongHashOrSize() public {
        bytes memory err =
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkProof.selector, s.sessionId, uint32(1));
        _expectRevertRegister(err, 1, c[2].chunkHash, c[1].size, MerkleBuilder.proof(lv, 1));
        _expectRevertRegister(err, 1, c[1].chunkHash, c[1].size + 1, MerkleBuilder.proof(lv, 1));
    }

    function test_RevertWhen_registerChunkSessionNotAnchored() public {
        (ILucidAnchors.SessionAnchor memory t, MerkleBuilder.Chunk[] memory cc, bytes32[] memory l) =
            _session(43, 2);
        bytes32[] memory p = MerkleBuilder.proof(l, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkProof.selector, t.sessionId, uint32(0))
        );
        vm.prank(storer);
        store.registerChunk(t, 0, cc[0].chunkHash, cc[0].size, p);
    }

    function test_RevertWhen_registerChunkStructTampered() public {
        ILucidAnchors.SessionAnchor memory t = s;
        t.owner = stranger;
        bytes32[] memory p = MerkleBuilder.proof(lv, 0);
        vm.expectRevert(
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkProof.selector, s.sessionId, uint32(0))
        );
        vm.prank(storer);
        store.registerChunk(t, 0, c[0].chunkHash, c[0].size, p);
    }

    function testFuzz_registerChunk_sizeBounds(uint64 size) public {
        bool ok = size >= 1 && size <= 16 * 1024 * 1024;
        bytes32[] memory p = MerkleBuilder.proof(lv, 0);
        // a valid size still fails the proof unless it is the chunk's own size
        if (!ok) {
            vm.expectRevert(abi.encodeWithSelector(ILucidChunkStore.InvalidChunkSize.selector, size));
        } else if (size != c[0].size) {
            vm.expectRevert(
                abi.encodeWithSelector(ILucidChunkStore.InvalidChunkProof.selector, s.sessionId, uint32(0))
            );
        }
        vm.prank(storer);
        store.registerChunk(s, 0, c[0].chunkHash, size, p);
    }
}
