//! TRON base58check addresses (SPEC §4): `base58(0x41 ‖ 20 bytes ‖ checksum)`, where the checksum
//! is the first 4 bytes of `sha256(sha256(0x41 ‖ 20 bytes))`. The 20 bytes are the EVM address
//! used on the TVM.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// TRON mainnet/testnet address prefix byte.
pub const PREFIX: u8 = 0x41;

/// Why a string is not a TRON address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TronAddressError {
    /// Not base58 (Bitcoin alphabet).
    #[error("not base58: {0}")]
    NotBase58(String),
    /// Decoded to the wrong number of bytes (25 for `T…`, 21 for the `41…` hex form).
    #[error(
        "decoded to {0} bytes, expected 25 for base58check (0x41 + 20 bytes + 4-byte checksum) or 21 for hex (0x41 + 20 bytes)"
    )]
    BadLength(usize),
    /// First byte is not 0x41.
    #[error("prefix byte is 0x{0:02x}, expected 0x41")]
    BadPrefix(u8),
    /// A hex form (`41…`) that is not hex.
    #[error("not hex: {0}")]
    NotHex(String),
    /// The checksum does not match.
    #[error("checksum mismatch: expected {expected}, found {found}")]
    BadChecksum {
        /// Computed checksum (hex).
        expected: String,
        /// Checksum in the string (hex).
        found: String,
    },
}

/// A TRON address: the 20-byte EVM address behind a `T…` base58check string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TronAddress(pub [u8; 20]);

fn checksum(payload: &[u8; 21]) -> [u8; 4] {
    let h = Sha256::digest(Sha256::digest(payload));
    [h[0], h[1], h[2], h[3]]
}

fn hex4(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TronAddress {
    /// From the 20-byte EVM address.
    pub fn from_evm(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// The 20-byte EVM address.
    pub fn evm_bytes(&self) -> [u8; 20] {
        self.0
    }

    /// `0x`-prefixed lower-case hex of the EVM address.
    pub fn evm_hex(&self) -> String {
        format!("0x{}", hex4(&self.0))
    }

    /// `0x41 ‖ 20 bytes`: the form inside TRON's protobuf messages.
    pub fn to_bytes21(&self) -> [u8; 21] {
        let mut out = [0u8; 21];
        out[0] = PREFIX;
        out[1..].copy_from_slice(&self.0);
        out
    }

    /// `41…` (42 lower-case hex digits): java-tron's JSON form with `visible: false`.
    pub fn to_hex41(&self) -> String {
        format!("41{}", hex4(&self.0))
    }

    /// Parses the `41…` hex form (21 bytes, first byte 0x41; an optional `0x` is tolerated).
    pub fn from_hex41(s: &str) -> Result<Self, TronAddressError> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TronAddressError::NotHex(s.chars().take(64).collect()));
        }
        let raw: Vec<u8> = (0..s.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect();
        if raw.len() != 21 {
            return Err(TronAddressError::BadLength(raw.len()));
        }
        if raw[0] != PREFIX {
            return Err(TronAddressError::BadPrefix(raw[0]));
        }
        let mut a = [0u8; 20];
        a.copy_from_slice(&raw[1..]);
        Ok(Self(a))
    }

    /// The `T…` base58check string.
    pub fn encode(&self) -> String {
        let mut payload = [0u8; 21];
        payload[0] = PREFIX;
        payload[1..].copy_from_slice(&self.0);
        let mut full = [0u8; 25];
        full[..21].copy_from_slice(&payload);
        full[21..].copy_from_slice(&checksum(&payload));
        bs58::encode(full).into_string()
    }

    /// Decodes and validates a `T…` base58check string.
    pub fn decode(s: &str) -> Result<Self, TronAddressError> {
        let raw = bs58::decode(s)
            .into_vec()
            .map_err(|e| TronAddressError::NotBase58(e.to_string()))?;
        if raw.len() != 25 {
            return Err(TronAddressError::BadLength(raw.len()));
        }
        if raw[0] != PREFIX {
            return Err(TronAddressError::BadPrefix(raw[0]));
        }
        let mut payload = [0u8; 21];
        payload.copy_from_slice(&raw[..21]);
        let expected = checksum(&payload);
        if expected[..] != raw[21..] {
            return Err(TronAddressError::BadChecksum {
                expected: hex4(&expected),
                found: hex4(&raw[21..]),
            });
        }
        let mut a = [0u8; 20];
        a.copy_from_slice(&payload[1..]);
        Ok(Self(a))
    }

    /// True iff `s` is a valid TRON base58check address.
    pub fn is_valid(s: &str) -> bool {
        Self::decode(s).is_ok()
    }
}

impl FromStr for TronAddress {
    type Err = TronAddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::decode(s)
    }
}

impl fmt::Display for TronAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl fmt::Debug for TronAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TronAddress({} = {})", self.encode(), self.evm_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evm(s: &str) -> [u8; 20] {
        let s = s.trim_start_matches("0x");
        let mut out = [0u8; 20];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
        }
        out
    }

    #[test]
    fn known_address() {
        // USDT on TRON mainnet: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t = 0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c.
        let a = TronAddress::decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").expect("valid");
        assert_eq!(a.evm_hex(), "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c");
        assert_eq!(a.encode(), "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
        assert_eq!(
            TronAddress::from_evm(evm("a614f803b6fd780986a42c78ec9c7f77e6ded13c")).to_string(),
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            TronAddress::decode("T0OIl"),
            Err(TronAddressError::NotBase58(_))
        ));
        assert!(matches!(
            TronAddress::decode("TR7NHqjeKQxG"),
            Err(TronAddressError::BadLength(_))
        ));
        // Bitcoin address (prefix 0x00, 25 bytes).
        assert_eq!(
            TronAddress::decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            Err(TronAddressError::BadPrefix(0))
        );
        // One character changed: checksum mismatch.
        assert!(matches!(
            TronAddress::decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u"),
            Err(TronAddressError::BadChecksum { .. })
        ));
        assert!(!TronAddress::is_valid(""));
    }

    #[test]
    fn roundtrip_many() {
        for i in 0..=255u8 {
            let mut b = [i; 20];
            b[0] = i.wrapping_mul(7);
            let a = TronAddress::from_evm(b);
            let s = a.encode();
            assert!(s.starts_with('T'), "{s}");
            assert_eq!(s.len(), 34);
            assert_eq!(TronAddress::decode(&s), Ok(a));
        }
    }

    #[test]
    fn shared_vectors() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/payout_ids.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).expect("vectors")).expect("json");
        let ids = v["payoutIds"].as_array().expect("array");
        assert!(!ids.is_empty());
        for e in ids {
            let to = e["to"].as_str().expect("to");
            let tron = e["toTron"].as_str().expect("toTron");
            let a = TronAddress::decode(tron).expect("valid");
            assert_eq!(a.evm_hex(), to);
            assert_eq!(TronAddress::from_evm(evm(to)).encode(), tron);
        }
    }
}
