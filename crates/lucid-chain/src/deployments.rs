//! `deployments/<chainId>.json`, written by `script/Deploy.s.sol`: which contracts live on a chain and
//! the block to start following it from.

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

/// One deployment file. Keys exactly as `script/Deploy.s.sol` writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    #[serde(rename = "chainId")]
    pub chain_id: u64,
    /// `onsystem` or `payment`.
    #[serde(rename = "deployChain")]
    pub deploy_chain: String,
    pub deployer: Address,
    /// The block the deployment started at: nothing of ours exists before it.
    #[serde(rename = "startBlock")]
    pub start_block: u64,
    #[serde(
        rename = "genesisTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub genesis_time: Option<u64>,
    #[serde(
        rename = "LucidAnchors",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub lucid_anchors: Option<Address>,
    #[serde(
        rename = "LucidChunkStore",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub lucid_chunk_store: Option<Address>,
    #[serde(
        rename = "tronNetwork",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tron_network: Option<String>,
    #[serde(rename = "USDT", default, skip_serializing_if = "Option::is_none")]
    pub usdt: Option<Address>,
    #[serde(
        rename = "PayoutRouterV0",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payout_router_v0: Option<Address>,
    #[serde(
        rename = "PayoutRouterKYC",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub payout_router_kyc: Option<Address>,
    /// Who holds (or is being handed) `DEFAULT_ADMIN_ROLE` (both chains).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<Address>,
    /// `TREASURER_ROLE` holder on the routers (payment chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treasurer: Option<Address>,
    /// `COMPLIANCE_SIGNER_ROLE` holder on the KYC router (payment chain).
    #[serde(
        rename = "complianceSigner",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub compliance_signer: Option<Address>,
}

/// Why a deployment file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a deployment file: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Deployment {
    /// `true` for the on-system chain's file (LucidAnchors + LucidChunkStore).
    pub fn is_onsystem(&self) -> bool {
        self.deploy_chain == "onsystem"
    }

    /// `true` for the payment chain's file (the routers).
    pub fn is_payment(&self) -> bool {
        self.deploy_chain == "payment"
    }

    /// The contracts whose events the indexer follows on this chain.
    pub fn contracts(&self) -> Vec<Address> {
        [
            self.lucid_anchors,
            self.lucid_chunk_store,
            self.payout_router_v0,
            self.payout_router_kyc,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Parses and checks one file.
    pub fn load(path: &Path) -> Result<Self, DeploymentError> {
        let text = std::fs::read_to_string(path).map_err(|source| DeploymentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let d: Deployment =
            serde_json::from_str(&text).map_err(|source| DeploymentError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let invalid = |reason: String| DeploymentError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        match d.deploy_chain.as_str() {
            "onsystem" => {
                if d.lucid_anchors.is_none() || d.lucid_chunk_store.is_none() {
                    return Err(invalid(
                        "an onsystem deployment needs LucidAnchors and LucidChunkStore".into(),
                    ));
                }
            }
            "payment" => {
                if d.payout_router_v0.is_none() || d.payout_router_kyc.is_none() {
                    return Err(invalid(
                        "a payment deployment needs PayoutRouterV0 and PayoutRouterKYC".into(),
                    ));
                }
            }
            other => return Err(invalid(format!("unknown deployChain {other:?}"))),
        }
        if let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            && let Ok(id) = stem.parse::<u64>()
            && id != d.chain_id
        {
            return Err(invalid(format!(
                "file is named for chain {id} but says chainId {}",
                d.chain_id
            )));
        }
        Ok(d)
    }

    /// `DIR/<chainId>.json`.
    pub fn load_chain(dir: &Path, chain_id: u64) -> Result<Self, DeploymentError> {
        Self::load(&dir.join(format!("{chain_id}.json")))
    }

    /// Every `*.json` deployment file of a directory, by chain id.
    pub fn load_dir(dir: &Path) -> Result<Vec<Self>, DeploymentError> {
        let rd = std::fs::read_dir(dir).map_err(|source| DeploymentError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|source| DeploymentError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "json") {
                out.push(Self::load(&p)?);
            }
        }
        out.sort_by_key(|d| d.chain_id);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ONSYSTEM: &str = r#"{"chainId":31337,"deployChain":"onsystem","deployer":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","genesisTime":1704067200,"LucidAnchors":"0x5FbDB2315678afecb367f032d93F642f64180aa3","LucidChunkStore":"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512","startBlock":1}"#;

    #[test]
    fn loads_and_checks_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("31337.json"), ONSYSTEM).unwrap();
        let d = Deployment::load_chain(dir.path(), 31337).unwrap();
        assert!(d.is_onsystem());
        assert_eq!(d.genesis_time, Some(1_704_067_200));
        assert_eq!(d.start_block, 1);
        assert_eq!(d.contracts().len(), 2);
        assert_eq!(Deployment::load_dir(dir.path()).unwrap(), vec![d]);

        // Named for another chain.
        std::fs::write(dir.path().join("5.json"), ONSYSTEM).unwrap();
        assert!(matches!(
            Deployment::load_dir(dir.path()),
            Err(DeploymentError::Invalid { .. })
        ));
        std::fs::remove_file(dir.path().join("5.json")).unwrap();
        // Missing contract, unknown kind, garbage.
        let missing = ONSYSTEM.replace(
            r#""LucidChunkStore":"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512","#,
            "",
        );
        std::fs::write(dir.path().join("31337.json"), missing).unwrap();
        assert!(Deployment::load_chain(dir.path(), 31337).is_err());
        std::fs::write(
            dir.path().join("31337.json"),
            ONSYSTEM.replace("onsystem", "moon"),
        )
        .unwrap();
        assert!(Deployment::load_chain(dir.path(), 31337).is_err());
        std::fs::write(dir.path().join("31337.json"), "{").unwrap();
        assert!(matches!(
            Deployment::load_chain(dir.path(), 31337),
            Err(DeploymentError::Parse { .. })
        ));
        assert!(matches!(
            Deployment::load_chain(dir.path(), 1),
            Err(DeploymentError::Io { .. })
        ));
    }
}
