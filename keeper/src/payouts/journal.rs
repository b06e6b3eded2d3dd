//! The payout journal: every signed transaction is appended (and fsynced) together with the
//! payouts it pays BEFORE it is broadcast, and those payouts are marked `submitted` in the store.
//! After a crash, attempts that are neither done nor dead are driven to their end first
//! (re-broadcast while valid; a new transaction only after the solidified chain passed the old
//! one's expiration): nothing can be paid twice.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use alloy_primitives::B256;
use anyhow::Context;
use async_trait::async_trait;
use lucid_payout::plan::RouterKind;
use lucid_payout::{Confirmed, Journal, PayoutCall, SendError, Sender, SignedTx, TronAddress};
use serde::{Deserialize, Serialize};

use super::db::PayoutDb;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line {
    Attempt {
        router: RouterKind,
        contract: String,
        data: String,
        ids: Vec<B256>,
        tx: SignedTx,
    },
    Dead {
        txid: String,
        why: String,
    },
    Done {
        txid: String,
    },
}

/// One live attempt found in the journal.
#[derive(Debug, Clone)]
pub struct Pending {
    pub call: PayoutCall,
    pub ids: Vec<B256>,
    pub tx: SignedTx,
}

pub struct FileJournal<'a> {
    path: PathBuf,
    lines: Vec<Line>,
    db: &'a dyn PayoutDb,
    // The call being sent (for record_attempt).
    cur: Option<(RouterKind, PayoutCall, Vec<B256>)>,
}

impl<'a> FileJournal<'a> {
    pub fn open(path: &Path, db: &'a dyn PayoutDb) -> anyhow::Result<Self> {
        let mut lines = Vec::new();
        if path.exists() {
            let f = File::open(path).with_context(|| format!("journal {}", path.display()))?;
            for (i, l) in BufReader::new(f).lines().enumerate() {
                let l = l?;
                if l.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Line>(&l) {
                    Ok(x) => lines.push(x),
                    // A torn last line (crash mid-write): that attempt was never broadcast.
                    Err(e) => {
                        tracing::warn!(line = i + 1, error = %e, "ignoring a torn journal line")
                    }
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            lines,
            db,
            cur: None,
        })
    }

    fn append(&mut self, l: Line) -> Result<(), String> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        let mut s = serde_json::to_string(&l).map_err(|e| e.to_string())?;
        s.push('\n');
        f.write_all(s.as_bytes()).map_err(|e| e.to_string())?;
        f.sync_all().map_err(|e| e.to_string())?;
        self.lines.push(l);
        Ok(())
    }

    /// Attempts neither done nor dead, with their router.
    pub fn pending(&self) -> Vec<(Pending, RouterKind)> {
        let closed: BTreeSet<&str> = self
            .lines
            .iter()
            .filter_map(|l| match l {
                Line::Dead { txid, .. } | Line::Done { txid } => Some(txid.as_str()),
                Line::Attempt { .. } => None,
            })
            .collect();
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Attempt {
                    router,
                    contract,
                    data,
                    ids,
                    tx,
                } if !closed.contains(tx.txid_hex().as_str()) => {
                    let contract = TronAddress::decode(contract).ok()?;
                    let data = hex::decode(data).ok()?;
                    Some((
                        Pending {
                            call: PayoutCall {
                                contract,
                                data,
                                expected_logs: Vec::new(),
                            },
                            ids: ids.clone(),
                            tx: tx.clone(),
                        },
                        *router,
                    ))
                }
                _ => None,
            })
            .collect()
    }

    /// Sends `call` (paying `ids`) through `sender`, journalled.
    pub async fn send(
        &mut self,
        sender: &Sender<'_>,
        call: &PayoutCall,
        ids: Vec<B256>,
        router: RouterKind,
    ) -> Result<Confirmed, SendError> {
        self.cur = Some((router, call.clone(), ids));
        let r = sender.send(call, self, None).await;
        self.finish(&r);
        r
    }

    /// Drives a journalled attempt to its end.
    pub async fn resume(
        &mut self,
        sender: &Sender<'_>,
        p: Pending,
        router: RouterKind,
    ) -> Result<Confirmed, SendError> {
        self.cur = Some((router, p.call.clone(), p.ids));
        let r = sender.send(&p.call, self, Some(p.tx.clone())).await;
        self.finish(&r);
        r
    }

    fn finish(&mut self, r: &Result<Confirmed, SendError>) {
        match r {
            Ok(c) => {
                let _ = self.append(Line::Done {
                    txid: c.tx.txid_hex(),
                });
            }
            // Transport, journal or build errors leave the attempt possibly live: it stays open
            // and is resumed by the next run.
            Err(SendError::Api(_) | SendError::Journal(_) | SendError::Tx(_)) => {}
            Err(e) => {
                // Every attempt of this call that is still open has ended.
                let open: Vec<String> = self
                    .pending()
                    .into_iter()
                    .filter(|(p, _)| {
                        self.cur
                            .as_ref()
                            .is_some_and(|(_, c, _)| c.data == p.call.data)
                    })
                    .map(|(p, _)| p.tx.txid_hex())
                    .collect();
                for txid in open {
                    let _ = self.append(Line::Dead {
                        txid,
                        why: e.to_string(),
                    });
                }
            }
        }
        self.cur = None;
    }
}

#[async_trait]
impl Journal for FileJournal<'_> {
    async fn record_attempt(&mut self, attempt: &SignedTx) -> Result<(), String> {
        let (router, call, ids) = self.cur.clone().ok_or("no call in progress")?;
        self.append(Line::Attempt {
            router,
            contract: call.contract.encode(),
            data: hex::encode(&call.data),
            ids: ids.clone(),
            tx: attempt.clone(),
        })?;
        let txid = B256::from(attempt.txid);
        for id in &ids {
            self.db
                .mark_submitted(id, &txid)
                .await
                .map_err(|e| format!("marking {id:#x} submitted: {e:#}"))?;
        }
        Ok(())
    }

    async fn attempt_dead(&mut self, attempt: &SignedTx, why: &str) -> Result<(), String> {
        self.append(Line::Dead {
            txid: attempt.txid_hex(),
            why: why.to_string(),
        })
    }
}
