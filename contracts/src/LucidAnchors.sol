// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILucidAnchors} from "./interfaces/ILucidAnchors.sol";
import {LucidHashes} from "./libraries/LucidHashes.sol";

/// @title LucidAnchors — owner-signed, single-use session anchors, one storage slot per session (SPEC §3 v1.1).
/// @notice Keepers holding `ANCHORER_ROLE` anchor batches of finished sessions for the current slot of 120 s or
///         the one before; the first submitter of a slot owns it. Every session carries its owner's EIP-712
///         signature (EIP-2098 compact, low s), so a keeper can anchor a session only exactly as its owner
///         signed it. Each session stores only `keccak256(abi.encode(SessionAnchor))`; everything else is in
///         the `SessionRegistered` event. Storage nodes prove chunks with {verifyChunk} against the full struct
///         plus a Merkle proof (SPEC §2).
/// @dev Gas per anchored session is a product figure, so the per-session loop of {anchorBatch} is written in
///      assembly. `contracts/test/utils/LucidAnchorsReference.sol` is the plain-Solidity version it is fuzzed
///      against (same storage, same events, same reverts). No upgradeability. The admin is transferred in two
///      steps with a delay of {ADMIN_DELAY} (OpenZeppelin `AccessControlDefaultAdminRules`).
contract LucidAnchors is ILucidAnchors, AccessControlDefaultAdminRules, EIP712 {
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @inheritdoc ILucidAnchors
    bytes32 public constant SESSION_ANCHOR_TYPEHASH = keccak256(
        "SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)"
    );

    /// @notice Delay of a default-admin transfer (`beginDefaultAdminTransfer` → `acceptDefaultAdminTransfer`).
    uint48 public constant ADMIN_DELAY = 3 days;

    /// @inheritdoc ILucidAnchors
    uint64 public constant SLOT_DURATION = 120;

    /// @inheritdoc ILucidAnchors
    uint64 public immutable GENESIS_TIME;

    // keccak256("SessionRegistered(bytes32,address,uint64,bytes32,bytes32,uint64,uint32)")
    uint256 internal constant _SESSION_REGISTERED_SIG =
        0x030ec4a7bfe969051cf4192635627ebe6b54e856021d3175921ae6647ba3a76f;
    // SESSION_ANCHOR_TYPEHASH as a literal for assembly (test_assemblyConstants_matchSelectors checks it).
    uint256 internal constant _SESSION_ANCHOR_TYPEHASH_WORD =
        0x359a9aa888ffef709ebee02d81150975173fe2362b84af7f2339908fdd88a12a;
    // secp256k1 n / 2: a larger s is the malleable twin of a valid signature (EIP-2, EIP-2098).
    uint256 internal constant _HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    // Error selectors used from assembly (test_assemblyConstants_matchSelectors checks them).
    uint256 internal constant _ERR_ZERO_SESSION_ID = 0x1431024b; // ZeroSessionId()
    uint256 internal constant _ERR_ZERO_MERKLE_ROOT = 0x0322dee0; // ZeroMerkleRoot(bytes32)
    uint256 internal constant _ERR_ZERO_OWNER = 0xdbdb9bd0; // ZeroOwner(bytes32)
    uint256 internal constant _ERR_ZERO_CHUNK_COUNT = 0x31e13fea; // ZeroChunkCount(bytes32)
    uint256 internal constant _ERR_SESSION_ALREADY_ANCHORED = 0x6de2763d; // SessionAlreadyAnchored(bytes32)
    uint256 internal constant _ERR_INVALID_OWNER_SIGNATURE = 0x3012cf6d; // InvalidOwnerSignature(bytes32)

    /// @dev sessionId => keccak256(abi.encode(SessionAnchor)); 0 = not anchored. Set once, never changed.
    ///      Written only by the assembly loop of {_anchorSessions} (`sstore` at `keccak256(id ‖ _digests.slot)`),
    ///      which slither cannot see: its uninitialized-state finding here is a false positive.
    // slither-disable-next-line uninitialized-state
    mapping(bytes32 sessionId => bytes32 digest) internal _digests;
    /// @dev slot => address of the first batch submitted for it.
    mapping(uint64 slot => address submitter) internal _slotSubmitters;

    /// @param admin gets `DEFAULT_ADMIN_ROLE` (grants `ANCHORER_ROLE`); zero reverts
    ///        `AccessControlInvalidDefaultAdmin(0)` (OpenZeppelin).
    /// @param genesisTime start of slot 0 (unix seconds); must not be after the deployment block, so
    ///        {currentSlot} is always defined.
    constructor(address admin, uint64 genesisTime)
        AccessControlDefaultAdminRules(ADMIN_DELAY, admin)
        EIP712("LucidAnchors", "1")
    {
        // forge-lint: disable-next-line(block-timestamp)
        if (genesisTime > block.timestamp) revert GenesisInFuture(genesisTime);
        GENESIS_TIME = genesisTime;
    }

    /// @inheritdoc ILucidAnchors
    function currentSlot() public view returns (uint64) {
        // GENESIS_TIME <= deployment time <= block.timestamp: no underflow.
        return uint64((block.timestamp - GENESIS_TIME) / SLOT_DURATION);
    }

    /// @notice Anchors `sessions` for `slot` (the current slot or the one before), each with its owner's
    ///         signature `ownerSigs[i]`. The first submitter of a slot owns it; the owner may add more batches to
    ///         it (one `SlotAnchored` per batch).
    /// @dev Reverts (in this order): missing role; `EmptyBatch`; `LengthMismatch`; `SlotInFuture`; `SlotTooOld`;
    ///      `SlotTaken`; then per session in array order: non-canonical ABI encoding (empty revert data, as
    ///      Solidity's decoder), `ZeroSessionId`, `ZeroMerkleRoot`, `ZeroOwner`, `ZeroChunkCount`; a session
    ///      whose stored digest equals its digest is skipped (no signature check, no event, not counted);
    ///      `SessionAlreadyAnchored` (another digest stored); `InvalidOwnerSignature` (no recovery of `owner`,
    ///      or high s). Events: one `SessionRegistered` per newly anchored session in array order, then
    ///      `SlotAnchored(slot, sender, newly anchored count)`.
    function anchorBatch(uint64 slot, SessionAnchor[] calldata sessions, bytes32[2][] calldata ownerSigs)
        external
        onlyRole(ANCHORER_ROLE)
    {
        uint256 n = sessions.length;
        if (n == 0) revert EmptyBatch();
        if (ownerSigs.length != n) revert LengthMismatch();
        uint64 cur = currentSlot();
        if (slot > cur) revert SlotInFuture(slot, cur);
        // slot <= cur here, so slot + 1 cannot overflow in 256 bits; at slot 0 nothing is too old.
        if (uint256(slot) + 1 < cur) revert SlotTooOld(slot, cur);
        address slotOwner = _slotSubmitters[slot];
        if (slotOwner == address(0)) {
            _slotSubmitters[slot] = msg.sender;
        } else if (slotOwner != msg.sender) {
            revert SlotTaken(slot, slotOwner);
        }

        uint256 src;
        uint256 sigs;
        assembly {
            src := sessions.offset
            sigs := ownerSigs.offset
        }
        uint256 count = _anchorSessions(slot, src, src + n * 0xc0, sigs, _domainSeparatorV4());

        // casting to 'uint32' is safe because count <= n <= calldata size / 256, far below 2^32.
        // forge-lint: disable-next-line(unsafe-typecast)
        emit SlotAnchored(slot, msg.sender, uint32(count));
    }

    /// @dev The per-session part of {anchorBatch} for the structs at calldata [src, end) (192 bytes each) and
    ///      their signatures from calldata `sigs` on (64 bytes each; bounds of both checked by the ABI decoder).
    ///      Requires src < end (the loop is a do-while); {anchorBatch} guarantees it with `EmptyBatch`.
    ///      Returns the number of sessions newly anchored. A separate function keeps the stack shallow enough
    ///      for the unoptimised build that `forge coverage` uses.
    function _anchorSessions(uint64 slot, uint256 src, uint256 end, uint256 sigs, bytes32 domainSep)
        private
        returns (uint256 count)
    {
        // Hot loop, at fixed memory addresses (a PUSH instead of DUP+PUSH+ADD per access):
        //   0x00 sessionId, 0x20 _digests.slot          → mapping key = keccak256(0x00, 0x40)
        //   0x40 SESSION_ANCHOR_TYPEHASH, 0x60..0x120 the struct (sessionId, manifestHash, merkleRoot, owner,
        //        startedAt, chunkCount)              → digest = keccak256(0x60, 0xc0),
        //                                              structHash = keccak256(0x40, 0xe0) (no copy)
        //   0x120 "\x19\x01" ‖ domainSeparator ‖ structHash (0x42 bytes) → EIP-712 hash
        //   0x180 ecrecover input (hash, v, r, s); its output goes to 0x00
        // This overwrites the free memory pointer, the zero slot and [0x80, 0x200). [0x80, 0x200) is saved with
        // MCOPY to free memory (at max(fmp, 0x200)) and copied back after the loop, together with the pointer
        // and the zero slot, so Solidity code around it sees its memory unchanged. On a revert nothing needs
        // restoring. Deliberately NOT annotated "memory-safe": it writes below the free memory pointer, where
        // via-IR's stack-to-memory mover could place spilled variables (irrelevant for the legacy pipeline used
        // here; under via-IR the missing annotation only disables that mover).
        // Stack depth: the unoptimised build that `forge coverage` uses allows ~16 slots, so short-lived values
        // live in inner blocks or are re-read from memory.
        assembly {
            let fmp := mload(0x40)
            {
                let save := fmp
                if lt(save, 0x200) { save := 0x200 }
                mcopy(save, 0x80, 0x180)
            }
            mstore(0x20, _digests.slot)
            mstore(0x40, _SESSION_ANCHOR_TYPEHASH_WORD)
            mstore(0x120, shl(240, 0x1901))
            mstore(0x122, domainSep)
            for {} 1 {} {
                // 0x60 sessionId | 0x80 manifestHash | 0xa0 merkleRoot | 0xc0 owner | 0xe0 startedAt | 0x100 chunkCount
                calldatacopy(0x60, src, 0xc0)
                let id := mload(0x60)
                let own := mload(0xc0)
                {
                    let startedAt := mload(0xe0)
                    let cnt := mload(0x100)
                    // One branch for both failure classes on the hot path; the slow path finds out which.
                    //  - Canonical ABI encoding: address, uint64 and uint32 must have clean high bits (as
                    //    Solidity's calldata validation; otherwise digest(s) could not be reproduced off-chain).
                    //  - Zero sessionId, merkleRoot, owner or chunkCount. With clean bits own < 2^160 and
                    //    cnt < 2^32, so mul(own, cnt) cannot overflow: it is zero iff one of them is zero.
                    if or(
                        or(shr(160, own), or(shr(64, startedAt), shr(32, cnt))),
                        or(or(iszero(id), iszero(mload(0xa0))), iszero(mul(own, cnt)))
                    ) {
                        if or(shr(160, own), or(shr(64, startedAt), shr(32, cnt))) { revert(0, 0) }
                        if iszero(id) {
                            mstore(0x00, shl(224, _ERR_ZERO_SESSION_ID))
                            revert(0x00, 0x04)
                        }
                        let sel := _ERR_ZERO_CHUNK_COUNT
                        if iszero(own) { sel := _ERR_ZERO_OWNER }
                        if iszero(mload(0xa0)) { sel := _ERR_ZERO_MERKLE_ROOT }
                        mstore(0x00, shl(224, sel))
                        mstore(0x04, id)
                        revert(0x00, 0x24)
                    }
                }
                let digest := keccak256(0x60, 0xc0)
                mstore(0x00, id)
                let key := keccak256(0x00, 0x40)
                let stored := sload(key)
                // Identical re-anchoring (another batch got there first, or the id repeats in this batch with
                // the same content): skipped, no signature check, no event, not counted.
                if iszero(eq(stored, digest)) {
                    if stored {
                        mstore(0x00, shl(224, _ERR_SESSION_ALREADY_ANCHORED))
                        mstore(0x04, id)
                        revert(0x00, 0x24)
                    }
                    mstore(0x142, keccak256(0x40, 0xe0))
                    mstore(0x180, keccak256(0x120, 0x42))
                    {
                        // EIP-2098: vs = (yParity << 255) | s.
                        let vs := calldataload(add(sigs, 0x20))
                        mstore(0x1a0, add(27, shr(255, vs)))
                        mstore(0x1e0, shr(1, shl(1, vs)))
                    }
                    mstore(0x1c0, calldataload(sigs))
                    // ecrecover returns no data for an invalid signature (then 0x00 still holds the id, hence
                    // the returndatasize check; a failed call returns none either). own != 0 here, so a match is
                    // a real recovery. A high s (the malleable twin) is refused.
                    pop(staticcall(gas(), 0x01, 0x180, 0x80, 0x00, 0x20))
                    if iszero(
                        and(
                            and(eq(returndatasize(), 0x20), eq(mload(0x00), own)),
                            iszero(gt(mload(0x1e0), _HALF_N))
                        )
                    ) {
                        mstore(0x00, shl(224, _ERR_INVALID_OWNER_SIGNATURE))
                        mstore(0x04, id)
                        revert(0x00, 0x24)
                    }
                    sstore(key, digest)
                    // Event data [0x80, 0x100): manifestHash, merkleRoot (in place), startedAt, chunkCount.
                    mstore(0xc0, mload(0xe0))
                    mstore(0xe0, mload(0x100))
                    log4(0x80, 0x80, _SESSION_REGISTERED_SIG, id, own, slot)
                    count := add(count, 1)
                }
                src := add(src, 0xc0)
                sigs := add(sigs, 0x40)
                if iszero(lt(src, end)) { break }
            }
            {
                let save := fmp
                if lt(save, 0x200) { save := 0x200 }
                mcopy(0x80, save, 0x180)
            }
            mstore(0x40, fmp)
            mstore(0x60, 0)
        }
    }

    /// @notice Announces chunk hashes of a live (still recording) session: events only, no storage.
    ///         Emits `ChunkAnchored(sessionId, firstIndex + i, msg.sender, chunkHashes[i])` for each hash.
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
            emit ChunkAnchored(sessionId, uint32(firstIndex + i), msg.sender, chunkHashes[i]);
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

    /// @inheritdoc ILucidAnchors
    function sessionDigest(SessionAnchor calldata s) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(SESSION_ANCHOR_TYPEHASH, s)));
    }

    /// @inheritdoc ILucidAnchors
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
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
