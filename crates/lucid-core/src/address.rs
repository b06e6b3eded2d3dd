//! EVM addresses: parsing with EIP-55 checksum validation, and lower-case hex formatting.

use alloy_primitives::{Address, hex};

/// A malformed address string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Missing `0x` prefix.
    #[error("address must start with 0x")]
    MissingPrefix,
    /// Not 40 hex digits.
    #[error("address must be 40 hex digits after 0x, got {0} characters")]
    BadLength(usize),
    /// A non-hex character.
    #[error("address contains a non-hex character")]
    BadHex,
    /// Mixed case that is not the EIP-55 checksum.
    #[error("address has mixed case but an invalid EIP-55 checksum")]
    BadChecksum,
}

/// Parses `0x` + 40 hex digits. All-lower-case or all-upper-case input is accepted as is;
/// mixed case must be a valid EIP-55 checksum.
pub fn parse_address(s: &str) -> Result<Address, AddressError> {
    let body = s.strip_prefix("0x").ok_or(AddressError::MissingPrefix)?;
    if body.len() != 40 {
        return Err(AddressError::BadLength(body.len()));
    }
    let mut out = [0u8; 20];
    hex::decode_to_slice(body, &mut out).map_err(|_| AddressError::BadHex)?;
    let addr = Address::from(out);
    let has_lower = body.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = body.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper && !is_valid_eip55(s) {
        return Err(AddressError::BadChecksum);
    }
    Ok(addr)
}

/// True iff `s` is exactly the EIP-55 checksummed form of its address.
pub fn is_valid_eip55(s: &str) -> bool {
    let Some(body) = s.strip_prefix("0x") else {
        return false;
    };
    let mut out = [0u8; 20];
    if body.len() != 40 || hex::decode_to_slice(body, &mut out).is_err() {
        return false;
    }
    to_checksum(&Address::from(out)) == s
}

/// EIP-55 checksummed form.
pub fn to_checksum(a: &Address) -> String {
    a.to_checksum(None)
}

/// Lower-case `0x` hex form (the form used in JSON and stored documents).
pub fn to_lower_hex(a: &Address) -> String {
    format!("{a:#x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_vectors() {
        // From EIP-55.
        for s in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert!(is_valid_eip55(s), "{s}");
            let a = parse_address(s).expect("valid");
            assert_eq!(to_checksum(&a), s);
            assert!(parse_address(&s.to_lowercase()).is_ok());
        }
        assert!(!is_valid_eip55(
            "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        ));
        assert_eq!(
            parse_address("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Err(AddressError::BadChecksum)
        );
        assert_eq!(
            parse_address("5aaeb6053f"),
            Err(AddressError::MissingPrefix)
        );
        assert_eq!(parse_address("0x5aae"), Err(AddressError::BadLength(4)));
        assert_eq!(
            parse_address("0xzaaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            Err(AddressError::BadHex)
        );
        let a = parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").expect("ok");
        assert_eq!(
            to_lower_hex(&a),
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
        );
    }
}

/// Serde helpers: addresses as lower-case hex in JSON (SPEC conventions); input may be
/// lower-case or EIP-55.
pub mod serde_lower {
    use super::{parse_address, to_lower_hex};
    use alloy_primitives::Address;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// One address.
    pub fn serialize<S: Serializer>(a: &Address, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_lower_hex(a))
    }

    /// One address.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_address(&s).map_err(D::Error::custom)
    }

    /// `Option<Address>` (null when `None`).
    pub mod option {
        use super::*;
        /// Serialize.
        pub fn serialize<S: Serializer>(a: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
            match a {
                Some(a) => s.serialize_str(&to_lower_hex(a)),
                None => s.serialize_none(),
            }
        }
        /// Deserialize.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
            let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
            s.map(|s| parse_address(&s).map_err(D::Error::custom))
                .transpose()
        }
    }

    /// `Vec<Address>`.
    pub mod vec {
        use super::*;
        use serde::ser::SerializeSeq;
        /// Serialize.
        pub fn serialize<S: Serializer>(v: &[Address], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for a in v {
                seq.serialize_element(&to_lower_hex(a))?;
            }
            seq.end()
        }
        /// Deserialize.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Address>, D::Error> {
            let v = <Vec<String>>::deserialize(d)?;
            v.iter()
                .map(|s| parse_address(s).map_err(D::Error::custom))
                .collect()
        }
    }
}
