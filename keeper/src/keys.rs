//! The node key: from `LUCID_NODE_KEY` (hex) or an Ethereum keystore v3 file (password from
//! `LUCID_NODE_KEY_PASSWORD` or a prompt on a TTY). The key is never logged, printed or returned
//! by the API: only its address is.

use std::path::Path;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};

/// Where the node key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A hex private key (with or without `0x`).
    Hex,
    /// A keystore v3 file.
    Keystore(std::path::PathBuf),
}

/// Loads the signer. `hex_key` is `LUCID_NODE_KEY`, `password` is `LUCID_NODE_KEY_PASSWORD`.
pub fn load(
    keystore: Option<&Path>,
    hex_key: Option<&str>,
    password: Option<&str>,
) -> anyhow::Result<PrivateKeySigner> {
    match (keystore, hex_key) {
        (Some(_), Some(_)) => {
            bail!("give the node key either as LUCID_NODE_KEY or with --keystore, not both")
        }
        (None, None) => bail!("no node key: set LUCID_NODE_KEY (hex) or pass --keystore FILE"),
        (None, Some(h)) => parse_hex(h),
        (Some(path), None) => {
            let pw = match password {
                Some(p) => p.to_owned(),
                None => {
                    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                        bail!(
                            "keystore {} needs a password: set LUCID_NODE_KEY_PASSWORD (no TTY to prompt on)",
                            path.display()
                        );
                    }
                    rpassword::prompt_password(format!("password for {}: ", path.display()))
                        .context("reading the keystore password")?
                }
            };
            PrivateKeySigner::decrypt_keystore(path, pw)
                // The error text of a wrong password names no secret; keep it short anyway.
                .map_err(|e| anyhow::anyhow!("cannot decrypt keystore {}: {e}", path.display()))
        }
    }
}

/// A hex private key; the error never echoes the input.
pub fn parse_hex(h: &str) -> anyhow::Result<PrivateKeySigner> {
    let t = h.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("LUCID_NODE_KEY must be 32 bytes of hex (64 digits, optional 0x)");
    }
    t.parse::<PrivateKeySigner>()
        .map_err(|_| anyhow::anyhow!("LUCID_NODE_KEY is not a valid secp256k1 private key"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const K: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    #[test]
    fn hex_key_gives_address_and_bad_keys_do_not_echo() {
        let s = parse_hex(K).unwrap();
        assert_eq!(
            s.address().to_string(),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        );
        for bad in ["", "0x12", &"zz".repeat(32), &"00".repeat(32)] {
            let e = parse_hex(bad).unwrap_err().to_string();
            assert!(e.contains("LUCID_NODE_KEY"), "{e}");
            assert!(bad.is_empty() || !e.contains(bad), "{e}");
        }
        assert!(load(None, None, None).is_err());
        assert!(load(Some(Path::new("x")), Some(K), None).is_err());
    }

    #[test]
    fn keystore_roundtrip_and_wrong_password() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = rand08::thread_rng();
        let (s, name) =
            PrivateKeySigner::encrypt_keystore(dir.path(), &mut rng, [7u8; 32], "pw", None)
                .unwrap();
        let path = dir.path().join(name);
        let back = load(Some(&path), None, Some("pw")).unwrap();
        assert_eq!(back.address(), s.address());
        assert!(load(Some(&path), None, Some("wrong")).is_err());
    }
}
