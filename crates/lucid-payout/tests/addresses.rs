//! TRON address parsing: malformed `T…` strings and `41…` hex forms are refused with the reason.
#![allow(clippy::unwrap_used)]

use lucid_payout::{TronAddress, TronAddressError};
use sha2::{Digest, Sha256};

/// base58check of arbitrary bytes (a correct checksum over whatever payload).
fn b58check(payload: &[u8]) -> String {
    let h = Sha256::digest(Sha256::digest(payload));
    let mut full = payload.to_vec();
    full.extend_from_slice(&h[..4]);
    bs58::encode(full).into_string()
}

#[test]
fn base58_bad_inputs() {
    use TronAddressError::*;
    let good = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    assert!(TronAddress::is_valid(good));
    // Not base58: 0, O, I, l, spaces, non-ASCII, a 0x hex address.
    for s in [
        "T0OIl",
        " TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t ",
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6é",
        "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c",
    ] {
        assert!(matches!(TronAddress::decode(s), Err(NotBase58(_))), "{s}");
    }
    // Wrong length: empty, truncated, extended, overlong.
    assert_eq!(TronAddress::decode(""), Err(BadLength(0)));
    assert!(matches!(
        TronAddress::decode(&good[..30]),
        Err(BadLength(_))
    ));
    assert!(matches!(
        TronAddress::decode(&format!("{good}1")),
        Err(BadLength(_))
    ));
    assert!(matches!(
        TronAddress::decode(&"T".repeat(5000)),
        Err(BadLength(_))
    ));
    // A correct checksum over 21 or 26 bytes is still the wrong length.
    let mut p = vec![0x41];
    p.extend([7u8; 19]);
    assert_eq!(TronAddress::decode(&b58check(&p)), Err(BadLength(24)));
    // A correct checksum with another prefix byte (0xa0, 0x00, 0x42).
    for prefix in [0xa0u8, 0x00, 0x42] {
        let mut p = vec![prefix];
        p.extend([7u8; 20]);
        assert_eq!(
            TronAddress::decode(&b58check(&p)),
            Err(BadPrefix(prefix)),
            "{prefix:#x}"
        );
    }
    // Every single-character substitution of a valid address is refused.
    let alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut refused = 0;
    for i in 0..good.len() {
        for c in alphabet
            .chars()
            .filter(|c| *c != good.as_bytes()[i] as char)
            .take(5)
        {
            let mut s = good.to_string();
            s.replace_range(i..=i, &c.to_string());
            assert!(TronAddress::decode(&s).is_err(), "{s}");
            refused += 1;
        }
    }
    assert_eq!(refused, 34 * 5);
    // Errors explain themselves.
    let e = TronAddress::decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u").unwrap_err();
    assert!(e.to_string().starts_with("checksum mismatch"), "{e}");
}

#[test]
fn hex41_form() {
    use TronAddressError::*;
    let a = TronAddress::decode("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").unwrap();
    assert_eq!(a.to_hex41(), "41a614f803b6fd780986a42c78ec9c7f77e6ded13c");
    assert_eq!(TronAddress::from_hex41(&a.to_hex41()), Ok(a));
    assert_eq!(
        TronAddress::from_hex41("0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c"),
        Ok(a)
    );
    assert_eq!(
        TronAddress::from_hex41("41A614F803B6FD780986A42C78EC9C7F77E6DED13C"),
        Ok(a)
    );
    assert_eq!(a.to_bytes21()[0], 0x41);
    assert_eq!(
        TronAddress::from_hex41("a614f803b6fd780986a42c78ec9c7f77e6ded13c"),
        Err(BadLength(20))
    );
    assert_eq!(
        TronAddress::from_hex41("42a614f803b6fd780986a42c78ec9c7f77e6ded13c"),
        Err(BadPrefix(0x42))
    );
    assert!(matches!(TronAddress::from_hex41("41zz"), Err(NotHex(_))));
    assert!(matches!(TronAddress::from_hex41("41a"), Err(NotHex(_))));
    assert!(matches!(TronAddress::from_hex41("４１"), Err(NotHex(_))));
    assert_eq!(TronAddress::from_hex41(""), Err(BadLength(0)));
}
