// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPayoutRouter} from "./IPayoutRouter.sol";

/// @title IPayoutRouterKYC — treasury-approved USDT payouts gated by EIP-712 compliance attestations (SPEC §3, v1.1).
/// @notice Domain: name "LucidPayoutKYC", version "1", chainid, this router.
///         Type: KycAttestation(address to,bytes32 kycHash,uint64 expiry). Anyone executes.
interface IPayoutRouterKYC is IPayoutRouter {
    event PaidKYC(
        bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period, bytes32 kycHash
    );
    event KycRevoked(bytes32 indexed kycHash, address indexed by);
    event RecipientDailyLimitUpdated(uint256 recipientDailyLimit);

    error AttestationExpired(uint64 expiry, uint256 nowTs);
    error KycRevokedError(bytes32 kycHash);
    error InvalidAttestation();
    error ZeroKycHash();
    error RecipientDailyLimitExceeded(bytes32 kycHash, uint64 day, uint256 requested, uint256 remaining);
    error InvalidRecipientDailyLimit(uint256 limit);

    function disburseKYC(
        uint32 period,
        address to,
        uint256 amount,
        bytes32[] calldata proof,
        bytes32 kycHash,
        uint64 expiry,
        bytes calldata sig
    ) external;
    function revokeKyc(bytes32 kycHash) external;
    function revoked(bytes32 kycHash) external view returns (bool);
    function recipientDailyLimit() external view returns (uint256);
    function setRecipientDailyLimit(uint256 limit) external;
    function recipientSpentOnDay(bytes32 kycHash, uint64 day) external view returns (uint256);
    function attestationDigest(address to, bytes32 kycHash, uint64 expiry) external view returns (bytes32);
    function KYC_ATTESTATION_TYPEHASH() external view returns (bytes32);
    function COMPLIANCE_SIGNER_ROLE() external view returns (bytes32);
    function domainSeparator() external view returns (bytes32);
    function isAttestationValid(address to, bytes32 kycHash, uint64 expiry, bytes calldata sig)
        external
        view
        returns (bool);
}
