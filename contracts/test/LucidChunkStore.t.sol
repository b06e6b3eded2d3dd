// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {ILucidChunkStore} from "../src/interfaces/ILucidChunkStore.sol";
import {LucidChunkStore} from "../src/LucidChunkStore.sol";
import {LucidHashes} from "../src/libraries/LucidHashes.sol";
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
        _anchor(s_, _ownerKey(42));
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

    /// @dev Arrays for registerChunks of chunks `idx` of the fixture session.
    function _many(uint256[] memory idx)
        internal
        view
        returns (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp)
    {
        uint256 n = idx.length;
        ii = new uint32[](n);
        hh = new bytes32[](n);
        ss = new uint64[](n);
        pp = new bytes32[][](n);
        for (uint256 k = 0; k < n; k++) {
            ii[k] = c[idx[k]].index;
            hh[k] = c[idx[k]].chunkHash;
            ss[k] = c[idx[k]].size;
            pp[k] = MerkleBuilder.proof(lv, idx[k]);
        }
    }

    function _range(uint256 from, uint256 to) internal pure returns (uint256[] memory r) {
        r = new uint256[](to - from);
        for (uint256 i = from; i < to; i++) {
            r[i - from] = i;
        }
    }

    // ------------------------------------------------------------------ constructor, views

    function test_constructor_setsAnchorsAndAdmin() public view {
        assertEq(address(store.ANCHORS()), address(anchors));
        assertEq(store.STORER_ROLE(), keccak256("STORER_ROLE"));
        assertEq(store.MAX_CHUNK_SIZE(), 16 * 1024 * 1024);
        assertTrue(store.hasRole(store.DEFAULT_ADMIN_ROLE(), admin));
        assertEq(store.defaultAdminDelay(), 3 days);
        assertTrue(store.hasRole(store.STORER_ROLE(), storer));
    }

    function test_RevertWhen_constructorZeroAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlInvalidDefaultAdmin.selector, address(0)
            )
        );
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
        (bytes32 h, uint64 size) = store.chunkOf(s.sessionId, 0);
        assertEq(h, bytes32(0));
        assertEq(size, 0);
    }

    // ------------------------------------------------------------------ registerChunk

    function test_registerChunk_recordsAndEmits() public {
        vm.expectEmit(true, true, true, true, address(store));
        emit ChunkStored(s.sessionId, 3, storer, c[3].chunkHash, c[3].size);
        _register(storer, 3);
        assertEq(store.replicas(s.sessionId, 3), 1);
        assertTrue(store.isStored(s.sessionId, 3, storer));
        (bytes32 h, uint64 size) = store.chunkOf(s.sessionId, 3);
        assertEq(h, c[3].chunkHash);
        assertEq(size, c[3].size);
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
            bytes32 id = _sessionId(1000 + k);
            bytes32 l = LucidHashes.leaf(id, 0, keccak256("x"), size);
            uint256 key = _ownerKey(1000 + k);
            ILucidAnchors.SessionAnchor memory t =
                ILucidAnchors.SessionAnchor(id, keccak256("m"), l, vm.addr(key), 1, 1);
            _anchor(t, key);
            vm.prank(storer);
            store.registerChunk(t, 0, keccak256("x"), size, new bytes32[](0));
            assertEq(store.replicas(id, 0), 1);
        }
    }

    /// @dev replicas saturates at type(uint16).max; the registration itself is still recorded and emitted.
    function test_registerChunk_replicasSaturateAtMax() public {
        _register(storer, 5);
        // _chunks at slot 2 (after AccessControlDefaultAdminRules' storage? computed via stdstore-free probing)
        bytes32 slotWord = _chunkWordSlot(s.sessionId, 5);
        bytes32 w = vm.load(address(store), slotWord);
        // word 1 of Chunk: size (uint64, low) | replicas (uint16, next)
        uint256 size = uint256(w) & type(uint64).max;
        assertEq(size, c[5].size, "probe found the Chunk struct");
        vm.store(address(store), slotWord, bytes32(size | (uint256(type(uint16).max - 1) << 64)));
        assertEq(store.replicas(s.sessionId, 5), type(uint16).max - 1);
        _register(storer2, 5);
        assertEq(store.replicas(s.sessionId, 5), type(uint16).max);
        address storer3 = makeAddr("storer3");
        bytes32 role = store.STORER_ROLE();
        vm.prank(admin);
        store.grantRole(role, storer3);
        vm.expectEmit(true, true, true, true, address(store));
        emit ChunkStored(s.sessionId, 5, storer3, c[5].chunkHash, c[5].size);
        _register(storer3, 5);
        assertEq(store.replicas(s.sessionId, 5), type(uint16).max);
        assertTrue(store.isStored(s.sessionId, 5, storer3));
    }

    /// @dev Finds the storage word holding (size, replicas) of chunk `index`: mapping slot p, so the struct is at
    ///      keccak256(index, keccak256(id, p)) and its second word one further.
    function _chunkWordSlot(bytes32 id, uint32 index) internal view returns (bytes32) {
        for (uint256 p = 0; p < 10; p++) {
            bytes32 base = keccak256(abi.encode(uint256(index), keccak256(abi.encode(id, p))));
            if (vm.load(address(store), base) == c[index].chunkHash) return bytes32(uint256(base) + 1);
        }
        revert("Chunk struct not found");
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
        vm.expectRevert(abi.encodeWithSelector(ILucidChunkStore.SessionNotAnchored.selector, t.sessionId));
        vm.prank(storer);
        store.registerChunk(t, 0, cc[0].chunkHash, cc[0].size, p);
    }

    function test_RevertWhen_registerChunkStructTampered() public {
        ILucidAnchors.SessionAnchor memory t = s;
        t.owner = stranger;
        bytes32[] memory p = MerkleBuilder.proof(lv, 0);
        vm.expectRevert(abi.encodeWithSelector(ILucidChunkStore.SessionNotAnchored.selector, s.sessionId));
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

    // ------------------------------------------------------------------ registerChunks

    function test_registerChunks_registersAllAndEmitsInOrder() public {
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) =
            _many(_range(0, 8));
        for (uint256 k = 0; k < 8; k++) {
            vm.expectEmit(true, true, true, true, address(store));
            emit ChunkStored(s.sessionId, ii[k], storer, hh[k], ss[k]);
        }
        vm.prank(storer);
        store.registerChunks(s, ii, hh, ss, pp);
        for (uint32 k = 0; k < 8; k++) {
            assertEq(store.replicas(s.sessionId, k), 1);
            assertTrue(store.isStored(s.sessionId, k, storer));
        }
    }

    function test_RevertWhen_registerChunksEmpty() public {
        vm.expectRevert(ILucidChunkStore.EmptyBatch.selector);
        vm.prank(storer);
        store.registerChunks(s, new uint32[](0), new bytes32[](0), new uint64[](0), new bytes32[][](0));
    }

    function test_RevertWhen_registerChunksLengthMismatch() public {
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) =
            _many(_range(0, 2));
        vm.startPrank(storer);
        vm.expectRevert(ILucidChunkStore.LengthMismatch.selector);
        store.registerChunks(s, ii, new bytes32[](1), ss, pp);
        vm.expectRevert(ILucidChunkStore.LengthMismatch.selector);
        store.registerChunks(s, ii, hh, new uint64[](3), pp);
        vm.expectRevert(ILucidChunkStore.LengthMismatch.selector);
        store.registerChunks(s, ii, hh, ss, new bytes32[][](1));
        vm.stopPrank();
    }

    function test_RevertWhen_registerChunksSessionNotAnchored() public {
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) =
            _many(_range(0, 2));
        ILucidAnchors.SessionAnchor memory t = s;
        t.startedAt += 1;
        vm.expectRevert(abi.encodeWithSelector(ILucidChunkStore.SessionNotAnchored.selector, s.sessionId));
        vm.prank(storer);
        store.registerChunks(t, ii, hh, ss, pp);
    }

    function test_RevertWhen_registerChunksWithoutRole() public {
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) =
            _many(_range(0, 2));
        bytes32 role = store.STORER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        store.registerChunks(s, ii, hh, ss, pp);
    }

    /// @dev One bad item reverts the whole call: nothing of it is stored.
    function test_RevertWhen_registerChunksOneBadProof_nothingStored() public {
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) =
            _many(_range(0, 4));
        pp[2][0] ^= bytes32(uint256(1));
        vm.expectRevert(
            abi.encodeWithSelector(ILucidChunkStore.InvalidChunkProof.selector, s.sessionId, uint32(2))
        );
        vm.prank(storer);
        store.registerChunks(s, ii, hh, ss, pp);
        assertEq(store.replicas(s.sessionId, 0), 0);
    }

    function test_RevertWhen_registerChunksRepeatedIndex() public {
        uint256[] memory idx = new uint256[](3);
        idx[0] = 1;
        idx[1] = 2;
        idx[2] = 1;
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) = _many(idx);
        vm.expectRevert(
            abi.encodeWithSelector(ILucidChunkStore.AlreadyStored.selector, s.sessionId, uint32(1), storer)
        );
        vm.prank(storer);
        store.registerChunks(s, ii, hh, ss, pp);
    }

    function testFuzz_registerChunks_subsetMatchesSingles(uint8 mask) public {
        vm.assume(mask != 0);
        uint256 n;
        for (uint256 i = 0; i < 8; i++) {
            if (mask & (1 << i) != 0) n++;
        }
        uint256[] memory idx = new uint256[](n);
        uint256 k;
        for (uint256 i = 0; i < 8; i++) {
            if (mask & (1 << i) != 0) idx[k++] = i;
        }
        (uint32[] memory ii, bytes32[] memory hh, uint64[] memory ss, bytes32[][] memory pp) = _many(idx);
        vm.prank(storer);
        store.registerChunks(s, ii, hh, ss, pp);
        for (uint256 i = 0; i < 8; i++) {
            _register(storer2, i);
            assertEq(store.replicas(s.sessionId, uint32(i)), mask & (1 << i) != 0 ? 2 : 1);
        }
    }
}
