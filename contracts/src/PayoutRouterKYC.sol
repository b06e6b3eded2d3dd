// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {PayoutRouterBase} from "./PayoutRouterBase.sol";
import {IPayoutRouterKYC} from "./interfaces/IPayoutRouterKYC.sol";

/// @title PayoutRouterKYC — treasury-approved USDT payouts to node workers holding a compliance attestation
///        (SPEC §3, §4). Anyone may execute a planned payout with a valid attestation.
/// @notice Defaults at deployment: minimum 10 USDT, at most 5,000 USDT per payout, 50,000 USDT per UTC day in
///         total and 10,000 USDT per `kycHash` per UTC day.
///
///         The plan (a leaf under the period's root, set by the treasury) authorises the amount and the
///         recipient; the EIP-712 `KycAttestation(address to,bytes32 kycHash,uint64 expiry)` signed by a
///         COMPLIANCE_SIGNER_ROLE holder says the recipient is verified. Domain: name "LucidPayoutKYC",
///         version "1", `block.chainid`, this router's address.
///
///         Expiry: an attestation is valid while `block.timestamp < expiry`. Revocation: `revokeKyc(kycHash)`
///         (a compliance signer or the admin) permanently invalidates every attestation carrying that `kycHash`.
///
///         Signature formats (`sig`):
///         - exactly 65 bytes `r ‖ s ‖ v`: an ECDSA signature of the EIP-712 digest by an EOA; the recovered
///           address must hold COMPLIANCE_SIGNER_ROLE (OpenZeppelin ECDSA: high-s signatures are rejected);
///         - anything else must be `abi.encode(address signer, bytes innerSig)` (signer word, offset 0x40,
///           length, data): `signer` is a contract holding COMPLIANCE_SIGNER_ROLE (e.g. a multisig) and
///           `signer.isValidSignature(digest, innerSig)` must return the ERC-1271 magic value. The role is
///           checked first, so no other contract is ever called.
contract PayoutRouterKYC is PayoutRouterBase, EIP712, IPayoutRouterKYC {
    bytes32 public constant COMPLIANCE_SIGNER_ROLE = keccak256("COMPLIANCE_SIGNER_ROLE");
    bytes32 public constant KYC_ATTESTATION_TYPEHASH =
        keccak256("KycAttestation(address to,bytes32 kycHash,uint64 expiry)");

    uint256 public constant DEFAULT_MAX_PER_PAYOUT = 5_000e6;
    uint256 public constant DEFAULT_DAILY_LIMIT = 50_000e6;
    uint256 public constant DEFAULT_RECIPIENT_DAILY_LIMIT = 10_000e6;

    mapping(bytes32 kycHash => bool) public revoked;
    mapping(bytes32 kycHash => mapping(uint64 day => uint256)) public recipientSpentOnDay;
    uint256 public recipientDailyLimit;

    constructor(address admin, IERC20 usdt)
        PayoutRouterBase(admin, usdt, DEFAULT_MIN_PAYOUT, DEFAULT_MAX_PER_PAYOUT, DEFAULT_DAILY_LIMIT)
        EIP712("LucidPayoutKYC", "1")
    {
        _setRecipientDailyLimit(DEFAULT_RECIPIENT_DAILY_LIMIT);
    }

    /// @inheritdoc IPayoutRouterKYC
    /// @notice Pays the planned payout `(period, to, amount)` given a valid, unexpired, unrevoked attestation for
    ///         `to`. Anyone, not while paused.
    /// @dev Reverts (in this order): `EnforcedPause`; `ZeroKycHash`; `ZeroRecipient`; `NoRoot`; `InvalidProof`;
    ///      `AlreadyPaid` (before the signature, so a retry wastes little gas); `AttestationExpired`;
    ///      `KycRevokedError`; `InvalidAttestation`; `BelowMinimum`; `AboveMaximum`; `DailyLimitExceeded`;
    ///      `PeriodTotalExceeded`; `RecipientDailyLimitExceeded`; `InsufficientBalance`; a token revert;
    ///      `TransferAmountMismatch`.
    function disburseKYC(
        uint32 period,
        address to,
        uint256 amount,
        bytes32[] calldata proof,
        bytes32 kycHash,
        uint64 expiry,
        bytes calldata sig
    ) external whenNotPaused nonReentrant {
        if (kycHash == bytes32(0)) revert ZeroKycHash();
        bytes32 id = _checkPlanned(period, to, amount, proof);
        if (paid[id]) revert AlreadyPaid(id);
        // Attestations live for months; a validator's few seconds of timestamp leeway do not matter.
        // forge-lint: disable-next-line(block-timestamp)
        if (expiry <= block.timestamp) revert AttestationExpired(expiry, block.timestamp);
        if (revoked[kycHash]) revert KycRevokedError(kycHash);
        if (!_validSignature(attestationDigest(to, kycHash, expiry), sig)) revert InvalidAttestation();

        uint64 day = currentDay();
        _checkLimits(period, amount, day);
        uint256 spent = recipientSpentOnDay[kycHash][day];
        uint256 limit = recipientDailyLimit;
        if (spent + amount > limit) {
            revert RecipientDailyLimitExceeded(kycHash, day, amount, spent >= limit ? 0 : limit - spent);
        }
        _requireBalance(amount);
        recipientSpentOnDay[kycHash][day] = spent + amount;
        _settle(id, period, to, amount, day);
        emit PaidKYC(id, to, amount, period, kycHash);
    }

    /// @inheritdoc IPayoutRouterKYC
    /// @notice Permanently revokes `kycHash`. COMPLIANCE_SIGNER_ROLE or DEFAULT_ADMIN_ROLE. Works while paused.
    function revokeKyc(bytes32 kycHash) external {
        if (!hasRole(COMPLIANCE_SIGNER_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, COMPLIANCE_SIGNER_ROLE);
        }
        if (kycHash == bytes32(0)) revert ZeroKycHash();
        if (revoked[kycHash]) revert KycRevokedError(kycHash);
        revoked[kycHash] = true;
        emit KycRevoked(kycHash, msg.sender);
    }

    /// @inheritdoc IPayoutRouterKYC
    /// @notice Admin only; any nonzero value (it is not cross-checked against the other limits).
    function setRecipientDailyLimit(uint256 limit) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRecipientDailyLimit(limit);
    }

    /// @inheritdoc IPayoutRouterKYC
    function attestationDigest(address to, bytes32 kycHash, uint64 expiry) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(KYC_ATTESTATION_TYPEHASH, to, kycHash, expiry)));
    }

    /// @inheritdoc IPayoutRouterKYC
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IPayoutRouterKYC
    /// @notice Whether `disburseKYC` would accept this attestation now (signature by a compliance signer,
    ///         not expired, not revoked, nonzero `kycHash` and `to`). Lets the keeper filter before sending.
    function isAttestationValid(address to, bytes32 kycHash, uint64 expiry, bytes calldata sig)
        external
        view
        returns (bool)
    {
        // forge-lint: disable-next-line(block-timestamp)
        return to != address(0) && kycHash != bytes32(0) && expiry > block.timestamp && !revoked[kycHash]
            && _validSignature(attestationDigest(to, kycHash, expiry), sig);
    }

    // ---------------------------------------------------------------------------------------------------
    // internals

    function _setRecipientDailyLimit(uint256 limit) internal {
        if (limit == 0) revert InvalidRecipientDailyLimit(limit);
        recipientDailyLimit = limit;
        emit RecipientDailyLimitUpdated(limit);
    }

    /// @dev See the contract NatSpec for the two signature formats.
    function _validSignature(bytes32 digest, bytes calldata sig) internal view returns (bool) {
        if (sig.length == 65) {
            // The third value (the error's argument) only details *why* recovery failed; `err` suffices.
            // slither-disable-next-line unused-return
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, sig);
            return err == ECDSA.RecoverError.NoError && hasRole(COMPLIANCE_SIGNER_ROLE, recovered);
        }
        (bool ok, address signer, bytes calldata inner) = _decodeContractSig(sig);
        return ok && hasRole(COMPLIANCE_SIGNER_ROLE, signer)
            && SignatureChecker.isValidERC1271SignatureNow(signer, digest, inner);
    }

    /// @dev Decodes `abi.encode(address signer, bytes innerSig)` without reverting on malformed input.
    function _decodeContractSig(bytes calldata sig)
        internal
        pure
        returns (bool ok, address signer, bytes calldata inner)
    {
        inner = sig[0:0];
        if (sig.length < 96) return (false, address(0), inner);
        uint256 word = uint256(bytes32(sig[0:32]));
        if (word >> 160 != 0) return (false, address(0), inner);
        if (uint256(bytes32(sig[32:64])) != 0x40) return (false, address(0), inner);
        uint256 len = uint256(bytes32(sig[64:96]));
        if (len > sig.length - 96) return (false, address(0), inner);
        // casting to 'uint160' is safe because the upper 96 bits of `word` were checked to be zero above
        // forge-lint: disable-next-line(unsafe-typecast)
        return (true, address(uint160(word)), sig[96:96 + len]);
    }
}
