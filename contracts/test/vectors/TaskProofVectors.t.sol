// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

/// @notice Checks tests/vectors/task_proofs.json (SPEC §4) against Solidity's own EIP-712 encoding and
///         ecrecover, so the off-chain proof format is pinned by a second language. The vectors come
///         from tools/gen-vectors.mjs; the Rust keeper checks the same file.
contract TaskProofVectorsTest is Test {
    bytes32 internal constant TASK_PROOF_TYPEHASH = keccak256(
        "TaskProof(address nodeId,uint64 slot,uint8 kind,bytes32 sessionId,uint64 amount,uint32 chunkIndex,bytes32 digest)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId)");

    string internal json;

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/task_proofs.json"));
    }

    function _domainSeparator(uint256 chainId) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("LucidPoOT"), keccak256("1"), chainId));
    }

    function test_typeHash_matchesVector() public view {
        assertEq(vm.parseJsonBytes32(json, ".typeHash"), TASK_PROOF_TYPEHASH);
    }

    function test_domainSeparator_matchesVector() public view {
        uint256 chainId = vm.parseJsonUint(json, ".chainId");
        assertEq(vm.parseJsonBytes32(json, ".domainSeparator"), _domainSeparator(chainId));
    }

    function test_proofs_hashAndRecover() public view {
        uint256 n = vm.parseJsonUint(json, ".count");
        assertGt(n, 0);
        bytes32 domain = _domainSeparator(vm.parseJsonUint(json, ".chainId"));
        for (uint256 i; i < n; ++i) {
            string memory p = string.concat(".proofs[", vm.toString(i), "]");
            address nodeId = vm.parseJsonAddress(json, string.concat(p, ".nodeId"));
            bytes32 structHash = keccak256(
                abi.encode(
                    TASK_PROOF_TYPEHASH,
                    nodeId,
                    uint64(vm.parseJsonUint(json, string.concat(p, ".slot"))),
                    uint8(vm.parseJsonUint(json, string.concat(p, ".kind"))),
                    vm.parseJsonBytes32(json, string.concat(p, ".sessionIdBytes32")),
                    uint64(vm.parseJsonUint(json, string.concat(p, ".amount"))),
                    uint32(vm.parseJsonUint(json, string.concat(p, ".chunkIndex"))),
                    vm.parseJsonBytes32(json, string.concat(p, ".digest"))
                )
            );
            assertEq(structHash, vm.parseJsonBytes32(json, string.concat(p, ".structHash")), "structHash");
            bytes32 signingHash = keccak256(abi.encodePacked(hex"1901", domain, structHash));
            assertEq(signingHash, vm.parseJsonBytes32(json, string.concat(p, ".signingHash")), "signingHash");

            bytes memory sig = vm.parseJsonBytes(json, string.concat(p, ".sig"));
            assertEq(sig.length, 65);
            (bytes32 r, bytes32 s, uint8 v) = _split(sig);
            assertEq(ecrecover(signingHash, v, r, s), nodeId, "recovered signer");
            // The private key in the vector really is the node's key.
            assertEq(vm.addr(vm.parseJsonUint(json, string.concat(p, ".privateKey"))), nodeId);
        }
    }

    function test_invalid_tamperedSignatureDoesNotRecoverNode() public view {
        // The first invalid vector is a proof whose amount was changed after signing.
        string memory p = ".invalid[0].json";
        assertEq(vm.parseJsonString(json, ".invalid[0].reason"), "signature_mismatch");
        address nodeId = vm.parseJsonAddress(json, string.concat(p, ".nodeId"));
        bytes32 structHash = keccak256(
            abi.encode(
                TASK_PROOF_TYPEHASH,
                nodeId,
                uint64(vm.parseJsonUint(json, string.concat(p, ".slot"))),
                uint8(0),
                _uuidToBytes32(vm.parseJsonString(json, string.concat(p, ".sessionId"))),
                uint64(vm.parseJsonUint(json, string.concat(p, ".amount"))),
                uint32(0),
                bytes32(0)
            )
        );
        bytes32 signingHash = keccak256(
            abi.encodePacked(hex"1901", _domainSeparator(vm.parseJsonUint(json, ".chainId")), structHash)
        );
        (bytes32 r, bytes32 s, uint8 v) = _split(vm.parseJsonBytes(json, string.concat(p, ".sig")));
        assertTrue(ecrecover(signingHash, v, r, s) != nodeId);
    }

    function _split(bytes memory sig) internal pure returns (bytes32 r, bytes32 s, uint8 v) {
        assembly ("memory-safe") {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
    }

    /// @dev SPEC §2: the 16 UUID bytes followed by 16 zero bytes.
    function _uuidToBytes32(string memory uuid) internal pure returns (bytes32 out) {
        bytes memory b = bytes(uuid);
        uint256 acc;
        uint256 nibbles;
        for (uint256 i; i < b.length; ++i) {
            uint8 c = uint8(b[i]);
            if (c == 0x2d) continue; // '-'
            uint8 v = c >= 0x61 ? c - 0x57 : c - 0x30;
            acc = (acc << 4) | v;
            ++nibbles;
        }
        require(nibbles == 32, "uuid");
        out = bytes32(acc << 128);
    }
}
