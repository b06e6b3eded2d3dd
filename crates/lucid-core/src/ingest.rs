//! Streaming ingestion of JSON Lines task proofs into a [`Tally`]: bounded line reading, parse,
//! skip proofs outside the tally's scope *before* the expensive signature recovery, validate, tally.
//!
//! Every input line gets an outcome; a bad line (not UTF-8, longer than [`MAX_LINE_BYTES`], not a
//! valid proof) is reported with its reason and the run goes on.

use std::io::BufRead;

use crate::poot::{Scope, Tally};
use crate::proof::{ProofCodec, ProofError, SignedProof, TaskProof};

/// The longest accepted line, newline excluded: 64 KiB. A SPEC §4 proof is about 400 bytes; a
/// longer line is reported `malformed` (and skipped without being held in memory).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line read by [`LineReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A line (without its `\n`) is in the buffer.
    Line,
    /// The line had `len` bytes, more than the limit; the buffer is empty.
    TooLong {
        /// Bytes in the line (newline excluded).
        len: u64,
    },
}

/// Reads `\n`-terminated lines of at most `max` bytes from a [`BufRead`], never buffering more
/// than `max` bytes of one line: longer lines are consumed and reported as [`LineRead::TooLong`].
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of at most `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        Self { inner, max }
    }

    /// Reads the next line into `buf` (cleared first; the `\n` and a trailing `\r` are removed).
    /// `Ok(None)` at end of input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Option<LineRead>> {
        buf.clear();
        let mut len: u64 = 0;
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, done) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            len += part.len() as u64;
            if !too_long {
                if buf.len() + part.len() > self.max {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(part);
                }
            }
            let consumed = done.unwrap_or(part.len());
            self.inner.consume(consumed);
            if done.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if too_long {
            return Ok(Some(LineRead::TooLong { len }));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(LineRead::Line))
    }
}

/// What happened to one input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineOutcome {
    /// A valid proof, added to the tally.
    Counted,
    /// Well-formed, but its slot is outside the tally's range: ignored without verification.
    OutOfRange,
    /// Well-formed, but its node is not a member: ignored without verification (it counts for
    /// nothing, SPEC §4 membership).
    NonMember,
    /// An empty line.
    Blank,
}

/// The verdict on one line that does not need the tally (so it can run on any thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// A valid proof in scope.
    Valid(TaskProof),
    /// Outside the slot range.
    OutOfRange,
    /// Not a member.
    NonMember,
    /// Blank line.
    Blank,
}

/// Counters of an ingestion run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Lines read (blank lines included).
    pub lines: u64,
    /// Valid proofs tallied.
    pub valid: u64,
    /// Invalid lines skipped (malformed, too long, not UTF-8, bad proofs).
    pub invalid: u64,
    /// Proofs outside the range, ignored.
    pub out_of_range: u64,
    /// Proofs of non-members, ignored.
    pub non_member: u64,
}

/// The `malformed` error of a line longer than [`MAX_LINE_BYTES`].
pub fn too_long_error(len: u64, max: usize) -> ProofError {
    ProofError::Malformed(format!("line of {len} bytes is longer than {max} bytes"))
}

/// Checks one line without touching any state (thread-safe).
pub fn check_line(
    codec: &ProofCodec,
    current_slot: u64,
    scope: &Scope,
    line: &[u8],
) -> Result<Checked, ProofError> {
    let line = std::str::from_utf8(line)
        .map_err(|e| ProofError::Malformed(format!("not UTF-8 (at byte {})", e.valid_up_to())))?;
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() {
        return Ok(Checked::Blank);
    }
    if quick_slot(line).is_some_and(|s| !scope.covers(s)) {
        return Ok(Checked::OutOfRange);
    }
    let sp = SignedProof::from_json(line)?;
    if !scope.covers(sp.proof.slot) {
        return Ok(Checked::OutOfRange);
    }
    if !scope.is_member(&sp.proof.node_id) {
        return Ok(Checked::NonMember);
    }
    codec.validate(&sp, current_slot)?;
    Ok(Checked::Valid(sp.proof))
}

/// Fast pre-filter: the value of the line's top-level `"slot"` key without parsing the JSON, when
/// that is unambiguous: no backslash anywhere in the line (so every `"` delimits a string and no
/// key is written with escapes), exactly one `"slot"`, preceded by `{` or `,`, followed by `:` and
/// digits. Then that `"slot"` is a key, and, being the only one, the top-level key of any valid
/// proof. `None` means "parse it fully".
pub fn quick_slot(line: &str) -> Option<u64> {
    const KEY: &str = "\"slot\"";
    if line.as_bytes().contains(&b'\\') {
        return None;
    }
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

    /// The tally's scope.
    pub fn scope(&self) -> &Scope {
        self.tally.scope()
    }

    /// Ingests one line (a SPEC §4 JSON proof). An `Err` is an invalid line (already counted).
    pub fn line(&mut self, line: &[u8]) -> Result<LineOutcome, ProofError> {
        let r = check_line(&self.codec, self.current_slot, self.tally.scope(), line);
        self.record(r)
    }

    /// Records the result of [`check_line`] computed elsewhere (e.g. on another thread), or an
    /// error found while reading (e.g. [`too_long_error`]).
    pub fn record(&mut self, r: Result<Checked, ProofError>) -> Result<LineOutcome, ProofError> {
        self.stats.lines += 1;
        match r {
            Ok(Checked::Valid(p)) => {
                self.tally.add(&p);
                self.stats.valid += 1;
                Ok(LineOutcome::Counted)
            }
            Ok(Checked::Blank) => Ok(LineOutcome::Blank),
            Ok(Checked::OutOfRange) => {
                self.stats.out_of_range += 1;
                Ok(LineOutcome::OutOfRange)
            }
            Ok(Checked::NonMember) => {
                self.stats.non_member += 1;
                Ok(LineOutcome::NonMember)
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
    use crate::address::to_lower_hex;
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
        // An escaped top-level key with a literal "slot" elsewhere: must not be trusted.
        assert_eq!(quick_slot(r#"{"x":{"slot":9},"\u0073lot":2}"#), None);
    }

    fn lines(input: &[u8], max: usize) -> Vec<Result<Vec<u8>, u64>> {
        let mut r = LineReader::new(std::io::BufReader::with_capacity(7, input), max);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(l) = r.next_line(&mut buf).expect("read") {
            out.push(match l {
                LineRead::Line => Ok(buf.clone()),
                LineRead::TooLong { len } => Err(len),
            });
        }
        out
    }

    #[test]
    fn line_reader_bounds_lines() {
        let got = lines(b"ab\r\n0123456789abc\n\nxyz", 10);
        assert_eq!(
            got,
            vec![Ok(b"ab".to_vec()), Err(13), Ok(vec![]), Ok(b"xyz".to_vec())]
        );
        assert_eq!(lines(b"", 10), vec![]);
        assert_eq!(lines(b"\n", 10), vec![Ok(vec![])]);
        assert_eq!(lines(b"0123456789", 10), vec![Ok(b"0123456789".to_vec())]);
        assert_eq!(lines(b"0123456789x", 10), vec![Err(11)]);
    }

    fn setup() -> (Params, ProofCodec, SigningKey, std::ops::Range<u64>) {
        let p = Params::default();
        let c = ProofCodec::new(31337);
        let k = SigningKey::from_slice(&[7u8; 32]).expect("key");
        let w = p.window(10).expect("window");
        (p, c, k, w)
    }

    #[test]
    fn ingest_counts_and_skips() {
        let (p, c, k, w) = setup();
        let node = address_of(&k);
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
        assert_eq!(ing.line(good.as_bytes()), Ok(LineOutcome::Counted));
        assert_eq!(ing.line(good.as_bytes()), Ok(LineOutcome::Counted));
        assert_eq!(ing.line(outside.as_bytes()), Ok(LineOutcome::OutOfRange));
        assert_eq!(ing.line(b""), Ok(LineOutcome::Blank));
        assert_eq!(
            ing.line(bad.to_json().as_bytes()).map_err(|e| e.code()),
            Err("signature_mismatch")
        );
        assert_eq!(
            ing.line(b"not json").map_err(|e| e.code()),
            Err("malformed")
        );
        let (t, s) = ing.finish();
        assert_eq!(
            s,
            IngestStats {
                lines: 6,
                valid: 2,
                invalid: 2,
                out_of_range: 1,
                non_member: 0,
            }
        );
        assert_eq!(t.totals(&p)[0].beacon_slots, 1);
    }

    /// A line that is not UTF-8 used to abort the whole run (`read_line` fails): now it is
    /// `malformed` and the next line is still counted.
    #[test]
    fn non_utf8_line_is_malformed_and_run_goes_on() {
        let (_, c, k, w) = setup();
        let node = address_of(&k);
        let good = c
            .sign(TaskProof::beacon(node, w.start), &k)
            .expect("sign")
            .to_json();
        let mut bad = good.clone().into_bytes();
        bad[2] = 0xff;
        let mut ing = Ingest::new(c, w.end, Tally::new(w));
        let e = ing.line(&bad).expect_err("not utf-8");
        assert_eq!(e.code(), "malformed");
        assert!(e.to_string().contains("UTF-8"), "{e}");
        assert_eq!(ing.line(good.as_bytes()), Ok(LineOutcome::Counted));
    }

    /// JSON escapes are legal JSON: a proof whose strings use them is accepted, and an escaped
    /// top-level `slot` key must not let a literal `"slot"` elsewhere drop it as out of range.
    #[test]
    fn escapes_are_accepted_and_do_not_fool_the_prefilter() {
        let (_, c, k, w) = setup();
        let node = address_of(&k);
        let sp = c
            .sign(TaskProof::beacon(node, w.start + 3), &k)
            .expect("sign");
        let escaped_type = sp.to_json().replace("uptime_beacon", "uptime\\u005fbeacon");
        assert!(escaped_type.contains("\\u005f"));
        let escaped_key = format!(
            "{{\"x\":{{\"slot\":{}}},\"nodeId\":\"{}\",\"\\u0073lot\":{},\"type\":\"uptime_beacon\",\"sig\":\"{}\"}}",
            w.end + 5,
            to_lower_hex(&node),
            w.start + 3,
            alloy_primitives::hex::encode_prefixed(sp.sig)
        );
        let mut ing = Ingest::new(c, w.end, Tally::new(w.clone()));
        assert_eq!(ing.line(escaped_type.as_bytes()), Ok(LineOutcome::Counted));
        assert_eq!(ing.line(escaped_key.as_bytes()), Ok(LineOutcome::Counted));
        assert_eq!(ing.tally().totals(&Params::default())[0].beacon_slots, 1);
    }

    /// Escaping the keys (any subset of their characters, as `\u00XX`) and adding an unknown field
    /// that holds a literal `"slot"` never changes the verdict on a proof.
    #[test]
    fn prefilter_agrees_with_full_parse() {
        use proptest::prelude::*;
        let (_, c, k, w) = setup();
        let node = address_of(&k);
        let sp = c
            .sign(TaskProof::beacon(node, w.start + 9), &k)
            .expect("sign");
        let base: serde_json::Value = serde_json::from_str(&sp.to_json()).expect("json");
        let scope = Scope::new(w.clone());
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 128,
            ..ProptestConfig::default()
        });
        runner
            .run(
                &(any::<u64>(), any::<u64>(), any::<bool>()),
                |(mask, decoy, decoy_first)| {
                    let mut fields: Vec<String> = Vec::new();
                    for (i, (key, v)) in base.as_object().expect("object").iter().enumerate() {
                        let ek: String = key
                            .chars()
                            .enumerate()
                            .map(|(j, ch)| {
                                if (mask >> ((i * 7 + j) % 64)) & 1 == 1 {
                                    format!("\\u{:04x}", ch as u32)
                                } else {
                                    ch.to_string()
                                }
                            })
                            .collect();
                        fields.push(format!("\"{ek}\":{v}"));
                    }
                    let d = format!("\"x\":{{\"slot\":{decoy}}}");
                    if decoy_first {
                        fields.insert(0, d);
                    } else {
                        fields.push(d);
                    }
                    let line = format!("{{{}}}", fields.join(","));
                    let got = check_line(&c, w.end, &scope, line.as_bytes());
                    prop_assert_eq!(got, Ok(Checked::Valid(sp.proof)), "{}", line);
                    Ok(())
                },
            )
            .expect("property");
    }

    #[test]
    fn non_members_are_skipped_unverified() {
        let (p, c, k, w) = setup();
        let node = address_of(&k);
        let other = address_of(&SigningKey::from_slice(&[8u8; 32]).expect("key"));
        let good = c
            .sign(TaskProof::beacon(node, w.start), &k)
            .expect("sign")
            .to_json();
        let scope = Scope::new(w.clone()).with_members([other]);
        let mut ing = Ingest::new(c.clone(), w.end, Tally::with_scope(scope));
        assert_eq!(ing.line(good.as_bytes()), Ok(LineOutcome::NonMember));
        assert_eq!(ing.stats().non_member, 1);
        assert_eq!(ing.tally().node_count(), 0);
        let scope = Scope::new(w.clone()).with_members([other, node]);
        let mut ing = Ingest::new(c, w.end, Tally::with_scope(scope));
        assert_eq!(ing.line(good.as_bytes()), Ok(LineOutcome::Counted));
        assert_eq!(ing.tally().totals(&p)[0].node, node);
    }
}
