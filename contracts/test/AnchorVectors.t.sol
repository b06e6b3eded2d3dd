// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";
import {ILucidAnchors} from "../src/interfaces/ILucidAnchors.sol";
import {LucidAnchors} from "../src/LucidAnchors.sol";
import {LucidHashes} from "../src/libraries/LucidHashes.sol";

/// @notice Cross-language vectors of owner signatures: tests/vectors/anchors.json (tools/gen-vectors.mjs, noble
///         curves; the Rust side checks the same file) against a LucidAnchors deployed at the vector's
///         verifyingContract under its chain id (SPEC §3 v1.1).
contract AnchorVectorsTest is Test {
    string internal json;
    LucidAnchors internal anchors;
    address internal admin = makeAddr("admin");
    address internal keeper = makeAddr("keeper");

    function setUp() public {
        json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/anchors.json"));
        vm.chainId(vm.parseJsonUint(json, ".chainId"));
        vm.warp(1_704_067_200 + 1_000 * 120);
        address at = vm.parseJsonAddress(json, ".verifyingContract");
        deployCodeTo("LucidAnchors.sol:LucidAnchors", abi.encode(admin, uint64(1_704_067_200)), at);
        anchors = LucidAnchors(at);
        bytes32 role = anchors.ANCHORER_ROLE();
        vm.prank(admin);
        anchors.grantRole(role, keeper);
    }

    function _p(uint256 i, string memory tail) internal pure returns (string memory) {
        return string.concat(".sessions[", vm.toString(i), "]", tail);
    }

    function _anchorAt(string memory base) internal view returns (ILucidAnchors.SessionAnchor memory a) {
        a.sessionId = vm.parseJsonBytes32(json, string.concat(base, ".sessionId"));
        a.manifestHash = vm.parseJsonBytes32(json, string.concat(base, ".manifestHash"));
        a.merkleRoot = vm.parseJsonBytes32(json, string.concat(base, ".merkleRoot"));
        a.owner = vm.parseJsonAddress(json, string.concat(base, ".owner"));
        a.startedAt = uint64(vm.parseJsonUint(json, string.concat(base, ".startedAt")));
        a.chunkCount = uint32(vm.parseJsonUint(json, string.concat(base, ".chunkCount")));
    }

    function _sigOf(string memory hexSig) internal pure returns (bytes32[2] memory w) {
        bytes memory b = vm.parseBytes(hexSig);
        assertEq(b.length, 64, "compact signature is 64 bytes");
        bytes32 r;
        bytes32 vs;
        assembly {
            r := mload(add(b, 0x20))
            vs := mload(add(b, 0x40))
        }
        w = [r, vs];
    }

    function test_vectors_typeHashAndDomain() public view {
        assertEq(anchors.SESSION_ANCHOR_TYPEHASH(), vm.parseJsonBytes32(json, ".typeHash"));
        assertEq(keccak256(bytes(vm.parseJsonString(json, ".anchorType"))), anchors.SESSION_ANCHOR_TYPEHASH());
        assertEq(anchors.domainSeparator(), vm.parseJsonBytes32(json, ".domainSeparator"));
    }

    function test_vectors_hashesAndSignatures() public view {
        uint256 n = vm.parseJsonUint(json, ".count");
        assertGt(n, 0);
        for (uint256 i = 0; i < n; i++) {
            ILucidAnchors.SessionAnchor memory a = _anchorAt(_p(i, ".anchor"));
            assertEq(vm.addr(vm.parseJsonUint(json, _p(i, ".privateKey"))), a.owner, "owner key");
            assertEq(LucidHashes.digest(a), vm.parseJsonBytes32(json, _p(i, ".digest")), "digest");
            assertEq(
                keccak256(abi.encode(anchors.SESSION_ANCHOR_TYPEHASH(), a)),
                vm.parseJsonBytes32(json, _p(i, ".structHash")),
                "structHash"
            );
            bytes32 h = anchors.sessionDigest(a);
            assertEq(h, vm.parseJsonBytes32(json, _p(i, ".signingHash")), "signingHash");
            bytes32[2] memory w = _sigOf(vm.parseJsonString(json, _p(i, ".ownerSig")));
            bytes32[] memory words = vm.parseJsonBytes32Array(json, _p(i, ".ownerSigWords"));
            assertEq(w[0], words[0]);
            assertEq(w[1], words[1]);
            uint8 v = uint8(27 + (uint256(w[1]) >> 255));
            bytes32 s = bytes32(uint256(w[1]) & ((1 << 255) - 1));
            assertEq(ecrecover(h, v, w[0], s), a.owner, "compact signature recovers the owner");
        }
    }

    function test_vectors_anchorAllInOneBatch() public {
        uint256 n = vm.parseJsonUint(json, ".count");
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](n);
        bytes32[2][] memory sigs = new bytes32[2][](n);
        for (uint256 i = 0; i < n; i++) {
            b[i] = _anchorAt(_p(i, ".anchor"));
            sigs[i] = _sigOf(vm.parseJsonString(json, _p(i, ".ownerSig")));
        }
        uint64 slot = anchors.currentSlot();
        vm.prank(keeper);
        anchors.anchorBatch(slot, b, sigs);
        for (uint256 i = 0; i < n; i++) {
            assertEq(anchors.anchorDigest(b[i].sessionId), vm.parseJsonBytes32(json, _p(i, ".digest")));
        }
    }

    function test_RevertWhen_vectorHighSTwin() public {
        ILucidAnchors.SessionAnchor memory a = _anchorAt(_p(0, ".anchor"));
        bytes32 r = vm.parseJsonBytes32(json, _p(0, ".highS.r"));
        bytes32 s = vm.parseJsonBytes32(json, _p(0, ".highS.s"));
        uint8 v = uint8(vm.parseJsonUint(json, _p(0, ".highS.v")));
        assertEq(ecrecover(anchors.sessionDigest(a), v, r, s), a.owner, "ecrecover accepts the twin");
        // its compact form cannot even carry s >= 2^255; the nearest encoding is refused
        bytes32[2][] memory sigs = new bytes32[2][](1);
        sigs[0] = [r, bytes32((uint256(s) & ((1 << 255) - 1)) | (uint256(v - 27) << 255))];
        ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
        b[0] = a;
        uint64 slot = anchors.currentSlot();
        vm.expectRevert(abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, a.sessionId));
        vm.prank(keeper);
        anchors.anchorBatch(slot, b, sigs);
    }

    function test_RevertWhen_vectorInvalidSignatures() public {
        uint256 n = vm.parseJsonUint(json, ".invalidCount");
        assertGt(n, 0);
        uint64 slot = anchors.currentSlot();
        for (uint256 i = 0; i < n; i++) {
            string memory base = string.concat(".invalid[", vm.toString(i), "]");
            ILucidAnchors.SessionAnchor[] memory b = new ILucidAnchors.SessionAnchor[](1);
            b[0] = _anchorAt(string.concat(base, ".anchor"));
            bytes32[2][] memory sigs = new bytes32[2][](1);
            sigs[0] = _sigOf(vm.parseJsonString(json, string.concat(base, ".ownerSig")));
            vm.expectRevert(
                abi.encodeWithSelector(ILucidAnchors.InvalidOwnerSignature.selector, b[0].sessionId)
            );
            vm.prank(keeper);
            anchors.anchorBatch(slot, b, sigs);
        }
    }
}
