// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "./interfaces/ILucidAnchors.sol";
import {LucidHashes} from "./libraries/LucidHashes.sol";

/// @title LucidAnchors — single-use session anchors, one storage slot per session (SPEC §3).
/// @notice Keepers holding `ANCHORER_ROLE` anchor batches of finished sessions per slot of 120 s; the first
///         submitter of a slot owns it. Each session stores only `keccak256(abi.encode(SessionAnchor))`;
///         everything else is in the `SessionRegistered` event. Storage nodes prove chunks with
///         {verifyChunk} against the full struct plus a Merkle proof (SPEC §2).
/// @dev Gas per anchored session is a product figure, so the per-session loop of {anchorBatch} is written
///      in assembly. `contracts/test/utils/LucidAnchorsReference.sol` is the plain-Solidity version it is
///      fuzzed against (same storage, same events, same reverts).
///      No upgradeability. The admin role may be renounced once roles are set up.
contract LucidAnchors is ILucidAnchors, AccessControl {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @inheritdoc ILucidAnchors
    uint64 public constant SLOT_DURATION = 120;

    /// @inheritdoc ILucidAnchors
    uint64 public immutable GENESIS_TIME;

    // keccak256("SessionRegistered(bytes32,address,uint64,bytes32,bytes32,uint64,uint32)")
    uint256 internal constant _SESSION_REGISTERED_SIG =
        0x030ec4a7bfe969051cf4192635627ebe6b54e856021d3175921ae6647ba3a76f;
    // Error selectors used from assembly (test_assemblyConstants_matchSelectors checks them).
    uint256 internal constant _ERR_ZERO_SESSION_ID = 0x1431024b; // ZeroSessionId()
    uint256 internal constant _ERR_ZERO_MERKLE_ROOT = 0x0322dee0; // ZeroMerkleRoot(bytes32)
    uint256 internal constant _ERR_ZERO_OWNER = 0xdbdb9bd0; // ZeroOwner(bytes32)
    uint256 internal constant _ERR_ZERO_CHUNK_COUNT = 0x31e13fea; // ZeroChunkCount(bytes32)
    uint256 internal constant _ERR_SESSION_ALREADY_ANCHORED = 0x6de2763d; // SessionAlreadyAnchored(bytes32)

    /// @dev sessionId => keccak256(abi.encode(SessionAnchor)); 0 = not anchored. Set once, never changed.
    ///      Written only by the assembly loop of {_anchorSessions} (`sstore` at `keccak256(id ‖ _digests.slot)`),
    ///      which slither cannot see: its uninitialized-state finding here is a false positive.
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 sessionId => bytes32 digest) internal _digests;
    /// @dev slot => address of the first batch submitted for it.
    mapping(uint64 slot => address submitter) internal _slotSubmitters;

    /// @param admin gets `DEFAULT_ADMIN_ROLE` (grants `ANCHORER_ROLE`); must not be zero.
    /// @param genesisTime start of slot 0 (unix seconds); must not be after the deployment block, so
    ///        {currentSlot} is always defined.
    constructor(address admin, uint64 genesisTime) {
        if (admin == address(0)) revert ZeroAdmin();
        // forge-lint: disable-next-line(block-timestamp)
        if (genesisTime > block.timestamp) revert GenesisInFuture(genesisTime);
        GENESIS_TIME = genesisTime;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ILucidAnchors
    function currentSlot() public view returns (uint64) {
        // GENESIS_TIME <= deployment time <= block.timestamp: no underflow.
        return uint64((block.timestamp - GENESIS_TIME) / SLOT_DURATION);
    }

    /// @notice Anchors `sessions` for `slot`. The first submitter of a slot owns it; the owner may add more
    ///         batches to it (one `SlotAnchored` per batch).
    /// @dev Reverts (in this order): missing role; `EmptyBatch`; `SlotInFuture`; `SlotTaken`; then per
    ///      session in array order: non-canonical ABI encoding (empty revert data, as Solidity's decoder),
    ///      `ZeroSessionId`, `ZeroMerkleRoot`, `ZeroOwner`, `ZeroChunkCount`, `SessionAlreadyAnchored`
    ///      (also for a sessionId repeated inside the batch).
    ///      Events: one `SessionRegistered` per session in array order, then `SlotAnchored`.
    function anchorBatch(uint64 slot, SessionAnchor[] calldata sessions) external onlyRole(ANCHORER_ROLE) {
        uint256 n = sessions.length;
        if (n == 0) revert EmptyBatch();
        uint64 cur = currentSlot();
        if (slot > cur) revert SlotInFuture(slot, cur);
        address slotOwner = _slotSubmitters[slot];
        if (slotOwner == address(0)) {
            _slotSubmitters[slot] = msg.sender;
        } else if (slotOwner != msg.sender) {
            revert SlotTaken(slot, slotOwner);
        }

        uint256 src;
        assembly {
            src := sessions.offset
        }
        _anchorSessions(slot, src, src + n * 0xc0);

        // casting to 'uint32' is safe because n <= calldata size / 192, far below 2^32 for any gas limit.
        // forge-lint: disable-next-line(unsafe-typecast)
        emit SlotAnchored(slot, msg.sender, uint32(n));
    }

    /// @dev The per-session part of {anchorBatch} for the structs at calldata [src, end) (192 bytes each,
    ///      bounds checked by the ABI decoder). Requires src < end (at least one struct: the loop is a
    ///      do-while); {anchorBatch} guarantees it with `EmptyBatch`. A separate function keeps the stack
    ///      shallow enough for the unoptimised build that `forge coverage` uses.
    function _anchorSessions(uint64 slot, uint256 src, uint256 end) private {
        // Hot loop. For each 192-byte struct in calldata (its bounds were checked by the ABI decoder): copy it
        // to memory [0x00, 0xc0), check it, hash it, sload/sstore its digest slot, log SessionRegistered.
        // Using fixed addresses saves the pointer arithmetic; the words this overwrites (scratch space, the
        // free memory pointer, the zero slot and the two words at 0x80/0xa0) are restored after the loop, so
        // Solidity code around it sees its memory unchanged. On a revert nothing needs restoring.
        // Deliberately NOT annotated "memory-safe": it writes below the free memory pointer, where via-IR's
        // stack-to-memory mover could place spilled variables. (Irrelevant for the legacy pipeline used
        // here; under via-IR the missing annotation only disables that mover, it cannot corrupt anything.)
        assembly {
            let fmp := mload(0x40)
            let saved80 := mload(0x80)
            let savedA0 := mload(0xa0)
            // do-while: anchorBatch guarantees at least one struct (EmptyBatch).
            for {} 1 {} {
                // 0x00 sessionId | 0x20 manifestHash | 0x40 merkleRoot | 0x60 owner | 0x80 startedAt | 0xa0 chunkCount
                calldatacopy(0x00, src, 0xc0)
                let id := mload(0x00)
                let owner := mload(0x60)
                let startedAt := mload(0x80)
                let count := mload(0xa0)
                // One branch for both failure classes on the hot path; the slow path finds out which.
                //  - Canonical ABI encoding: address, uint64 and uint32 must have clean high bits (as Solidity's
                //    calldata validation; otherwise digest(s) could not be reproduced off-chain).
                //  - Zero sessionId, merkleRoot, owner or chunkCount. With clean bits owner < 2^160 and
                //    count < 2^32, so mul(owner, count) cannot overflow: it is zero iff one of them is zero.
                if or(
                    or(shr(160, owner), or(shr(64, startedAt), shr(32, count))),
                    or(or(iszero(id), iszero(mload(0x40))), iszero(mul(owner, count)))
                ) {
                    if or(shr(160, owner), or(shr(64, startedAt), shr(32, count))) { revert(0, 0) }
                    if iszero(id) {
                        mstore(0x00, shl(224, _ERR_ZERO_SESSION_ID))
                        revert(0x00, 0x04)
                    }
                    let sel := _ERR_ZERO_CHUNK_COUNT
                    if iszero(owner) { sel := _ERR_ZERO_OWNER }
                    if iszero(mload(0x40)) { sel := _ERR_ZERO_MERKLE_ROOT }
                    mstore(0x00, shl(224, sel))
                    mstore(0x04, id)
                    revert(0x00, 0x24)
                }
                let digest := keccak256(0x00, 0xc0)
                // Event data [0x20, 0xa0): manifestHash, merkleRoot (in place), startedAt, chunkCount. The log
                // goes out before the duplicate check below so the struct need not be copied again; if that
                // check reverts, the whole transaction and its logs are discarded, so the outcome is the same.
                mstore(0x60, startedAt)
                mstore(0x80, count)
                log4(0x20, 0x80, _SESSION_REGISTERED_SIG, id, owner, slot)
                // _digests[id]: key = keccak256(id ‖ slot of _digests); id is still at 0x00.
                mstore(0x20, _digests.slot)
                let key := keccak256(0x00, 0x40)
                if sload(key) {
                    mstore(0x00, shl(224, _ERR_SESSION_ALREADY_ANCHORED))
                    mstore(0x04, id)
                    revert(0x00, 0x24)
                }
                sstore(key, digest)
                src := add(src, 0xc0)
                if iszero(lt(src, end)) { break }
            }
            mstore(0x40, fmp)
            mstore(0x60, 0)
            mstore(0x80, saved80)
            mstore(0xa0, savedA0)
        }
    }

    /// @notice Announces chunk hashes of a live (still recording) session: events only, no storage.
    ///         Emits `ChunkAnchored(sessionId, firstIndex + i, chunkHashes[i])` for each hash.
    /// @dev The session need not be anchored yet (it usually is not: it is still being recorded).
    function anchorChunks(bytes32 sessionId, uint32 firstIndex, bytes32[] calldata chunkHashes)
        external
        onlyRole(ANCHORER_ROLE)
    {
        if (sessionId == bytes32(0)) revert ZeroSessionId();
        uint256 n = chunkHashes.length;
        if (n == 0) revert NoChunks();
        // Last index firstIndex + n - 1 must fit in uint32.
        if (n - 1 > type(uint32).max - firstIndex) revert ChunkIndexOverflow(firstIndex, n);
        for (uint256 i; i < n; ++i) {
            // casting to 'uint32' is safe because firstIndex + n - 1 <= type(uint32).max (checked above).
            // forge-lint: disable-next-line(unsafe-typecast)
            emit ChunkAnchored(sessionId, uint32(firstIndex + i), chunkHashes[i]);
        }
    }

    /// @inheritdoc ILucidAnchors
    function anchorDigest(bytes32 sessionId) external view returns (bytes32) {
        return _digests[sessionId];
    }

    /// @inheritdoc ILucidAnchors
    function slotSubmitter(uint64 slot) external view returns (address) {
        return _slotSubmitters[slot];
    }

    /// @notice True iff `s` is the anchored struct of `s.sessionId` (stored digest, nonzero, equals
    ///         `digest(s)`) and `proof` proves `leaf(s.sessionId, index, chunkHash, size)` against
    ///         `s.merkleRoot` (OpenZeppelin `MerkleProof`, commutative keccak pairs; SPEC §2).
    /// @dev Range checks on `index`/`size` are the caller's business (LucidChunkStore does them).
    function verifyChunk(
        SessionAnchor calldata s,
        uint32 index,
        bytes32 chunkHash,
        uint64 size,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 stored = _digests[s.sessionId];
        if (stored == bytes32(0) || stored != LucidHashes.digestCalldata(s)) return false;
        return MerkleProof.verifyCalldata(
            proof, s.merkleRoot, LucidHashes.leaf(s.sessionId, index, chunkHash, size)
        );
    }
}
