//! Streaming ingestion of JSON Lines task proofs into a [`Tally`]: parse, skip proofs outside the
//! tally's slot range *before* the expensive signature recovery, validate, tally.

use std::ops::Range;

use crate::poot::Tally;
use crate::proof::{ProofCodec, ProofError, SignedProof, TaskProof};

/// What happened to one input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    /// A valid proof, added to the tally.
    Counted,
    /// Well-formed, but its slot is outside the tally's range: ignored without verification.
    OutOfRange,
    /// An empty line.
    Blank,
}

/// Counters of an ingestion run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Lines read (blank lines included).
    pub lines: u64,
    /// Valid proofs tallied.
    pub valid: u64,
    /// Invalid proofs skipped.
    pub invalid: u64,
    /// Proofs outside the range, ignored.
    pub out_of_range: u64,
}

/// Checks one line without touching any state (thread-safe): `Ok(None)` for blank lines and
/// proofs outside `range`, `Ok(Some(proof))` for valid proofs in range.
pub fn check_line(
    codec: &ProofCodec,
    current_slot: u64,
    range: &Range<u64>,
    line: &str,
) -> Result<Option<TaskProof>, ProofError> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() {
        return Ok(None);
    }
    if quick_slot(line).is_some_and(|s| !range.contains(&s)) {
        return Ok(None);
    }
    let sp = SignedProof::from_json(line)?;
    if !range.contains(&sp.proof.slot) {
        return Ok(None);
    }
    codec.validate(&sp, current_slot)?;
    Ok(Some(sp.proof))
}

/// Fast pre-filter: the value of the line's top-level `"slot"` key without parsing the JSON, when
/// that is unambiguous (exactly one `"slot"` in the line, preceded by `{` or `,`, followed by
/// `:` and digits). JSON strings cannot contain an unescaped `"`, so such a match is a key; being the
/// only one, it is the top-level key of a well-formed proof. `None` means "parse it fully".
pub fn quick_slot(line: &str) -> Option<u64> {
    const KEY: &str = "\"slot\"";
    let at = line.find(KEY)?;
    let after = &line[at + KEY.len()..];
    if after.contains(KEY) {
        return None;
    }
    let before = line[..at].trim_end();
    if !(before.ends_with('{') || before.ends_with(',')) {
        return None;
    }
    let rest = after.trim_start().strip_prefix(':')?.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let digits = &rest[..end];
    let tail = rest[end..].trim_start();
    if digits.is_empty() || !(tail.starts_with(',') || tail.starts_with('}')) {
        return None;
    }
    digits.parse().ok()
}

/// Incremental ingestion state.
#[derive(Debug, Clone)]
pub struct Ingest {
    codec: ProofCodec,
    current_slot: u64,
    tally: Tally,
    stats: IngestStats,
}

impl Ingest {
    /// Ingests into `tally`, validating with `codec` against `current_slot`.
    pub fn new(codec: ProofCodec, current_slot: u64, tally: Tally) -> Self {
        Self {
            codec,
            current_slot,
            tally,
            stats: IngestStats::default(),
        }
    }

    /// The codec.
    pub fn codec(&self) -> &ProofCodec {
        &self.codec
    }

    /// The current slot used for `slot ≤ current slot`.
    pub fn current_slot(&self) -> u64 {
        self.current_slot
    }

    /// The tally's range.
    pub fn range(&self) -> Range<u64> {
        self.tally.range()
    }

    /// Ingests one line (a SPEC §4 JSON proof). An `Err` is an invalid proof (already counted).
    pub fn line(&mut self, line: &str) -> Result<LineOutcome, ProofError> {
        let range = self.tally.range();
        let r = check_line(&self.codec, self.current_slot, &range, line);
        self.record(line, r)
    }

    /// Records the result of [`check_line`] computed elsewhere (e.g. on another thread).
    pub fn record(
        &mut self,
        line: &str,
        r: Result<Option<TaskProof>, ProofError>,
    ) -> Result<LineOutcome, ProofError> {
        self.stats.lines += 1;
        match r {
            Ok(Some(p)) => {
                self.tally.add(&p);
                self.stats.valid += 1;
                Ok(LineOutcome::Counted)
            }
            Ok(None) if line.trim().is_empty() => Ok(LineOutcome::Blank),
            Ok(None) => {
                self.stats.out_of_range += 1;
                Ok(LineOutcome::OutOfRange)
            }
            Err(e) => {
                self.stats.invalid += 1;
                Err(e)
            }
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> IngestStats {
        self.stats
    }

    /// The tally so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Finishes, returning the tally and the counters.
    pub fn finish(self) -> (Tally, IngestStats) {
        (self.tally, self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;
    use crate::proof::address_of;
    use k256::ecdsa::SigningKey;

    #[test]
    fn quick_slot_prefilter() {
        assert_eq!(
            quick_slot(r#"{"nodeId":"0x1","slot":123,"type":"x"}"#),
            Some(123)
        );
        assert_eq!(quick_slot(r#"{ "slot" : 7 }"#), Some(7));
        assert_eq!(quick_slot(r#"{"a":{"slot":1},"slot":2}"#), None);
        assert_eq!(quick_slot(r#"{"note":"\"slot\":5"}"#), None);
        assert_eq!(quick_slot(r#"{"slot":"5"}"#), None);
        assert_eq!(quick_slot(r#"{"slot":5.5}"#), None);
        assert_eq!(quick_slot(r#"{"slot":-1}"#), None);
        assert_eq!(quick_slot(r#"{"slot":99999999999999999999999}"#), None);
        assert_eq!(quick_slot("no slot here"), None);
    }

    #[test]
    fn ingest_counts_and_skips() {
        let p = Params::default();
        let c = ProofCodec::new(31337);
        let k = SigningKey::from_slice(&[7u8; 32]).expect("key");
        let node = address_of(&k);
        let w = p.window(10);
        let good = c
            .sign(TaskProof::beacon(node, w.start), &k)
            .expect("sign")
            .to_json();
        let outside = c
            .sign(TaskProof::beacon(node, w.end), &k)
            .expect("sign")
            .to_json();
        let mut bad = c
            .sign(TaskProof::beacon(node, w.start + 1), &k)
            .expect("sign");
        bad.proof.slot += 1;
        let mut ing = Ingest::new(c, w.end + 10, Tally::new(w));
        assert_eq!(ing.line(&good), Ok(LineOutcome::Counted));
        assert_eq!(ing.line(&good), Ok(LineOutcome::Counted));
        assert_eq!(ing.line(&outside), Ok(LineOutcome::OutOfRange));
        assert_eq!(ing.line(""), Ok(LineOutcome::Blank));
        assert_eq!(
            ing.line(&bad.to_json()).map_err(|e| e.code()),
            Err("signature_mismatch")
        );
        assert_eq!(ing.line("not json").map_err(|e| e.code()), Err("malformed"));
        let (t, s) = ing.finish();
        assert_eq!(
            s,
            IngestStats {
                lines: 6,
                valid: 2,
                invalid: 2,
                out_of_range: 1
            }
        );
        assert_eq!(t.totals(&p)[0].beacon_slots, 1);
    }
}
