//! Protocol parameters (SPEC §1), loaded from environment variables or any key/value source.
//!
//! Every value is validated against its allowed range; an unparsable or out-of-range value is an
//! error naming the variable and the range, never a silent clamp.

use std::fmt;

/// Slots per epoch (SPEC §1: `SLOTS_PER_EPOCH`, 720 only).
pub const SLOTS_PER_EPOCH: u64 = 720;
/// Slot duration in seconds (SPEC §1: `SLOT_DURATION_SEC`, 120 only).
pub const SLOT_DURATION_SEC: u64 = 120;
/// 2^20 bytes.
pub const MIB: u64 = 1 << 20;

/// An invalid parameter value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// The value could not be parsed.
    #[error("{var}: cannot parse {value:?} (allowed: {allowed})")]
    Unparsable {
        /// Environment variable name.
        var: &'static str,
        /// The raw value.
        value: String,
        /// Human-readable allowed range.
        allowed: &'static str,
    },
    /// The value parsed but lies outside its allowed range.
    #[error("{var}: {value} is out of range (allowed: {allowed})")]
    OutOfRange {
        /// Environment variable name.
        var: &'static str,
        /// The raw value.
        value: String,
        /// Human-readable allowed range.
        allowed: &'static str,
    },
}

/// Arithmetic on slots, epochs or times that does not fit in a `u64` (e.g. the start time of an
/// absurdly large slot number taken from untrusted input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what} of {arg} overflows u64")]
pub struct Overflow {
    /// The quantity being computed (`"slot start"`, `"epoch start slot"`, …).
    pub what: &'static str,
    /// The argument it was computed for.
    pub arg: u64,
}

/// The largest `GENESIS_TIME` accepted: 2^53 − 1, so that it is exact as a JSON number (the
/// `params_hash` object, SPEC §6) and `start(s)` of every realistic slot fits in a `u64`.
pub const MAX_GENESIS_TIME: u64 = (1 << 53) - 1;

/// Unvalidated parameter values (e.g. from a config file or a test): turn them into [`Params`] with
/// [`ParamValues::build`], which applies the SPEC §1 ranges. `Default` is the SPEC defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamValues {
    /// `SLOT_DURATION_SEC` (120 only).
    pub slot_duration_sec: u64,
    /// `SLOT_TIMEOUT_MS` (1000–10000).
    pub slot_timeout_ms: u64,
    /// `COOLDOWN_SLOTS` (8–64).
    pub cooldown_slots: u64,
    /// `LEADER_WINDOW_DAYS` (3–14).
    pub leader_window_days: u64,
    /// `D_MIN` in parts per million: `round(D_MIN × 1_000_000)` (100_000–500_000).
    pub d_min_ppm: u64,
    /// `BASE_MB_PER_SESSION` (1–50), in MiB.
    pub base_mb_per_session: u64,
    /// `MAX_FALLBACKS` (1–8).
    pub max_fallbacks: u64,
    /// `GENESIS_TIME`: unix time of the start of slot 0 (0 … 2^53 − 1).
    pub genesis_time: u64,
    /// `SLOTS_PER_EPOCH` (720 only).
    pub slots_per_epoch: u64,
}

impl Default for ParamValues {
    fn default() -> Self {
        Self {
            slot_duration_sec: SLOT_DURATION_SEC,
            slot_timeout_ms: 5000,
            cooldown_slots: 16,
            leader_window_days: 7,
            d_min_ppm: 200_000,
            base_mb_per_session: 5,
            max_fallbacks: 3,
            genesis_time: 1_704_067_200,
            slots_per_epoch: SLOTS_PER_EPOCH,
        }
    }
}

/// One range rule: variable, lowest, highest, human-readable range.
struct Rule {
    var: &'static str,
    lo: u64,
    hi: u64,
    allowed: &'static str,
}

const R_SLOT_DURATION: Rule = Rule {
    var: "SLOT_DURATION_SEC",
    lo: 120,
    hi: 120,
    allowed: "120 only",
};
const R_SLOT_TIMEOUT: Rule = Rule {
    var: "SLOT_TIMEOUT_MS",
    lo: 1000,
    hi: 10_000,
    allowed: "1000-10000",
};
const R_COOLDOWN: Rule = Rule {
    var: "COOLDOWN_SLOTS",
    lo: 8,
    hi: 64,
    allowed: "8-64",
};
const R_WINDOW_DAYS: Rule = Rule {
    var: "LEADER_WINDOW_DAYS",
    lo: 3,
    hi: 14,
    allowed: "3-14",
};
const R_D_MIN: Rule = Rule {
    var: "D_MIN",
    lo: 100_000,
    hi: 500_000,
    allowed: "0.1-0.5",
};
const R_BASE_MB: Rule = Rule {
    var: "BASE_MB_PER_SESSION",
    lo: 1,
    hi: 50,
    allowed: "1-50",
};
const R_FALLBACKS: Rule = Rule {
    var: "MAX_FALLBACKS",
    lo: 1,
    hi: 8,
    allowed: "1-8",
};
const R_GENESIS: Rule = Rule {
    var: "GENESIS_TIME",
    lo: 0,
    hi: MAX_GENESIS_TIME,
    allowed: "any unix time up to 2^53-1",
};
const R_SLOTS_PER_EPOCH: Rule = Rule {
    var: "SLOTS_PER_EPOCH",
    lo: 720,
    hi: 720,
    allowed: "720 only",
};

impl Rule {
    fn check(&self, v: u64, raw: impl FnOnce() -> String) -> Result<u64, ParamError> {
        if v < self.lo || v > self.hi {
            return Err(ParamError::OutOfRange {
                var: self.var,
                value: raw(),
                allowed: self.allowed,
            });
        }
        Ok(v)
    }
}

impl ParamValues {
    /// Validates every value against its SPEC §1 range.
    pub fn build(self) -> Result<Params, ParamError> {
        let n = |v: u64| move || v.to_string();
        Ok(Params {
            slot_duration_sec: R_SLOT_DURATION
                .check(self.slot_duration_sec, n(self.slot_duration_sec))?,
            slot_timeout_ms: R_SLOT_TIMEOUT.check(self.slot_timeout_ms, n(self.slot_timeout_ms))?,
            cooldown_slots: R_COOLDOWN.check(self.cooldown_slots, n(self.cooldown_slots))?,
            leader_window_days: R_WINDOW_DAYS
                .check(self.leader_window_days, n(self.leader_window_days))?,
            d_min_ppm: R_D_MIN.check(self.d_min_ppm, || ppm_to_decimal(self.d_min_ppm))?,
            base_mb_per_session: R_BASE_MB
                .check(self.base_mb_per_session, n(self.base_mb_per_session))?,
            max_fallbacks: R_FALLBACKS.check(self.max_fallbacks, n(self.max_fallbacks))?,
            genesis_time: R_GENESIS.check(self.genesis_time, n(self.genesis_time))?,
            slots_per_epoch: R_SLOTS_PER_EPOCH
                .check(self.slots_per_epoch, n(self.slots_per_epoch))?,
        })
    }
}

/// `ppm / 10^6` as the shortest plain decimal (`200000` → `0.2`, `1000000` → `1`).
pub fn ppm_to_decimal(ppm: u64) -> String {
    let (int, frac) = (ppm / 1_000_000, ppm % 1_000_000);
    if frac == 0 {
        return int.to_string();
    }
    let f = format!("{frac:06}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

/// The SPEC §1 parameters, validated: the only ways to get one are [`Params::default`],
/// [`Params::from_env`], [`Params::from_lookup`] and [`ParamValues::build`], all of which check
/// every range. Fields are private; read them with the accessors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    slot_duration_sec: u64,
    slot_timeout_ms: u64,
    cooldown_slots: u64,
    leader_window_days: u64,
    d_min_ppm: u64,
    base_mb_per_session: u64,
    max_fallbacks: u64,
    genesis_time: u64,
    slots_per_epoch: u64,
}

impl Default for Params {
    fn default() -> Self {
        let d = ParamValues::default();
        Self {
            slot_duration_sec: d.slot_duration_sec,
            slot_timeout_ms: d.slot_timeout_ms,
            cooldown_slots: d.cooldown_slots,
            leader_window_days: d.leader_window_days,
            d_min_ppm: d.d_min_ppm,
            base_mb_per_session: d.base_mb_per_session,
            max_fallbacks: d.max_fallbacks,
            genesis_time: d.genesis_time,
            slots_per_epoch: d.slots_per_epoch,
        }
    }
}

/// Names of all SPEC §1 protocol variables.
pub const VARS: [&str; 9] = [
    "SLOT_DURATION_SEC",
    "SLOT_TIMEOUT_MS",
    "COOLDOWN_SLOTS",
    "LEADER_WINDOW_DAYS",
    "D_MIN",
    "BASE_MB_PER_SESSION",
    "MAX_FALLBACKS",
    "GENESIS_TIME",
    "SLOTS_PER_EPOCH",
];

fn int(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    rule: &Rule,
    default: u64,
) -> Result<u64, ParamError> {
    let Some(raw) = lookup(rule.var) else {
        return Ok(default);
    };
    let v: u64 = raw.trim().parse().map_err(|_| ParamError::Unparsable {
        var: rule.var,
        value: raw.clone(),
        allowed: rule.allowed,
    })?;
    rule.check(v, || raw)
}

/// Parses a plain decimal (`0.2`, `.25`, `0.3333335`) into parts per million, rounding half up,
/// with integer arithmetic only (no float rounding surprises).
pub fn parse_decimal_ppm(s: &str) -> Option<u64> {
    let s = s.trim();
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int_v: u64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut ppm = int_v.checked_mul(1_000_000)?;
    let fb = frac_part.as_bytes();
    let mut frac: u64 = 0;
    for i in 0..6 {
        frac = frac * 10 + fb.get(i).map_or(0, |b| u64::from(b - b'0'));
    }
    ppm = ppm.checked_add(frac)?;
    if fb.get(6).is_some_and(|b| *b >= b'5') {
        ppm = ppm.checked_add(1)?;
    }
    Some(ppm)
}

impl Params {
    /// Reads the SPEC §1 variables from the process environment.
    pub fn from_env() -> Result<Self, ParamError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the parameters from any key/value source (`None` = unset = default).
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Result<Self, ParamError> {
        let d = ParamValues::default();
        let l = &mut lookup;
        let d_min_ppm = match l("D_MIN") {
            None => d.d_min_ppm,
            Some(raw) => {
                let v = parse_decimal_ppm(&raw).ok_or_else(|| ParamError::Unparsable {
                    var: "D_MIN",
                    value: raw.clone(),
                    allowed: R_D_MIN.allowed,
                })?;
                R_D_MIN.check(v, || raw)?
            }
        };
        ParamValues {
            slot_duration_sec: int(l, &R_SLOT_DURATION, d.slot_duration_sec)?,
            slot_timeout_ms: int(l, &R_SLOT_TIMEOUT, d.slot_timeout_ms)?,
            cooldown_slots: int(l, &R_COOLDOWN, d.cooldown_slots)?,
            leader_window_days: int(l, &R_WINDOW_DAYS, d.leader_window_days)?,
            d_min_ppm,
            base_mb_per_session: int(l, &R_BASE_MB, d.base_mb_per_session)?,
            max_fallbacks: int(l, &R_FALLBACKS, d.max_fallbacks)?,
            genesis_time: int(l, &R_GENESIS, d.genesis_time)?,
            slots_per_epoch: int(l, &R_SLOTS_PER_EPOCH, d.slots_per_epoch)?,
        }
        .build()
    }

    /// The values, e.g. to change one and [`ParamValues::build`] again.
    pub fn values(&self) -> ParamValues {
        ParamValues {
            slot_duration_sec: self.slot_duration_sec,
            slot_timeout_ms: self.slot_timeout_ms,
            cooldown_slots: self.cooldown_slots,
            leader_window_days: self.leader_window_days,
            d_min_ppm: self.d_min_ppm,
            base_mb_per_session: self.base_mb_per_session,
            max_fallbacks: self.max_fallbacks,
            genesis_time: self.genesis_time,
            slots_per_epoch: self.slots_per_epoch,
        }
    }

    /// `SLOT_DURATION_SEC` (always 120).
    pub fn slot_duration_sec(&self) -> u64 {
        self.slot_duration_sec
    }
    /// `SLOT_TIMEOUT_MS` (1000–10000).
    pub fn slot_timeout_ms(&self) -> u64 {
        self.slot_timeout_ms
    }
    /// `COOLDOWN_SLOTS` (8–64).
    pub fn cooldown_slots(&self) -> u64 {
        self.cooldown_slots
    }
    /// `LEADER_WINDOW_DAYS` (3–14).
    pub fn leader_window_days(&self) -> u64 {
        self.leader_window_days
    }
    /// `D_MIN_PPM = round(D_MIN × 1_000_000)` (100_000–500_000).
    pub fn d_min_ppm(&self) -> u64 {
        self.d_min_ppm
    }
    /// `BASE_MB_PER_SESSION` (1–50), in MiB.
    pub fn base_mb_per_session(&self) -> u64 {
        self.base_mb_per_session
    }
    /// `MAX_FALLBACKS` (1–8).
    pub fn max_fallbacks(&self) -> usize {
        // 1..=8: always fits.
        self.max_fallbacks as usize
    }
    /// `GENESIS_TIME`: unix time of the start of slot 0.
    pub fn genesis_time(&self) -> u64 {
        self.genesis_time
    }
    /// `SLOTS_PER_EPOCH` (always 720).
    pub fn slots_per_epoch(&self) -> u64 {
        self.slots_per_epoch
    }

    /// `WINDOW = LEADER_WINDOW_DAYS × 720` slots (at most 10,080: cannot overflow).
    pub fn window_slots(&self) -> u64 {
        self.leader_window_days * self.slots_per_epoch
    }

    /// Bytes of relayed data worth one session: `BASE_MB_PER_SESSION × 2^20` (at most 50 MiB).
    pub fn bytes_per_session(&self) -> u64 {
        self.base_mb_per_session * MIB
    }

    /// `slot(t) = floor((t − GENESIS_TIME) / SLOT_DURATION_SEC)`; `None` before genesis.
    pub fn slot_at(&self, unix_time: u64) -> Option<u64> {
        unix_time
            .checked_sub(self.genesis_time)
            .map(|d| d / self.slot_duration_sec)
    }

    /// `start(s) = GENESIS_TIME + 120 × s`: unix time at which slot `s` starts.
    pub fn slot_start(&self, slot: u64) -> Result<u64, Overflow> {
        slot.checked_mul(self.slot_duration_sec)
            .and_then(|d| d.checked_add(self.genesis_time))
            .ok_or(Overflow {
                what: "slot start",
                arg: slot,
            })
    }

    /// The SPEC §4 acting time of fallback `k` (0 = the primary) in **milliseconds**:
    /// `1000 × start(s) + k × SLOT_TIMEOUT_MS`.
    pub fn acting_time_ms(&self, slot: u64, k: u64) -> Result<u64, Overflow> {
        let o = Overflow {
            what: "acting time",
            arg: slot,
        };
        self.slot_start(slot)?
            .checked_mul(1000)
            .and_then(|t| t.checked_add(k.checked_mul(self.slot_timeout_ms)?))
            .ok_or(o)
    }

    /// `epoch(s) = floor(s / 720)`.
    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.slots_per_epoch
    }

    /// First slot of epoch `e`: `720 × e`.
    pub fn epoch_start_slot(&self, epoch: u64) -> Result<u64, Overflow> {
        epoch.checked_mul(self.slots_per_epoch).ok_or(Overflow {
            what: "epoch start slot",
            arg: epoch,
        })
    }

    /// The slots of epoch `e`: `[720e, 720e + 720)`.
    pub fn epoch_slots(&self, epoch: u64) -> Result<std::ops::Range<u64>, Overflow> {
        let s = self.epoch_start_slot(epoch)?;
        let e = s.checked_add(self.slots_per_epoch).ok_or(Overflow {
            what: "epoch end slot",
            arg: epoch,
        })?;
        Ok(s..e)
    }

    /// The credit window of epoch `e`: slots `[720E − WINDOW, 720E)`, clipped at slot 0.
    pub fn window(&self, epoch: u64) -> Result<std::ops::Range<u64>, Overflow> {
        let end = self.epoch_start_slot(epoch)?;
        Ok(end.saturating_sub(self.window_slots())..end)
    }

    /// Slots whose start time lies in `[from_unix, to_unix)`, e.g. the slots of a UTC month for
    /// `credits_month` (month boundaries are whole slots when GENESIS_TIME is midnight-aligned).
    pub fn slots_starting_in(&self, from_unix: u64, to_unix: u64) -> std::ops::Range<u64> {
        let first = |t: u64| {
            t.saturating_sub(self.genesis_time)
                .div_ceil(self.slot_duration_sec)
        };
        let a = first(from_unix);
        a..first(to_unix).max(a)
    }

    /// The RFC 8785 JSON object of the SPEC §1 parameters, names as keys (SPEC §6 `params_hash`):
    /// every value a JSON integer except `D_MIN`, the decimal number `D_MIN_PPM / 10^6` (`0.2`).
    /// See `docs/decisions/core.md`.
    pub fn canonical_json(&self) -> String {
        // Keys in RFC 8785 order (UTF-16 code units; all ASCII here, so byte order).
        format!(
            "{{\"BASE_MB_PER_SESSION\":{},\"COOLDOWN_SLOTS\":{},\"D_MIN\":{},\"GENESIS_TIME\":{},\"LEADER_WINDOW_DAYS\":{},\"MAX_FALLBACKS\":{},\"SLOTS_PER_EPOCH\":{},\"SLOT_DURATION_SEC\":{},\"SLOT_TIMEOUT_MS\":{}}}",
            self.base_mb_per_session,
            self.cooldown_slots,
            ppm_to_decimal(self.d_min_ppm),
            self.genesis_time,
            self.leader_window_days,
            self.max_fallbacks,
            self.slots_per_epoch,
            self.slot_duration_sec,
            self.slot_timeout_ms,
        )
    }

    /// `params_hash` (SPEC §6): keccak256 of [`Params::canonical_json`].
    pub fn params_hash(&self) -> alloy_primitives::B256 {
        alloy_primitives::keccak256(self.canonical_json().as_bytes())
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SLOT_DURATION_SEC={} SLOT_TIMEOUT_MS={} COOLDOWN_SLOTS={} LEADER_WINDOW_DAYS={} D_MIN={} BASE_MB_PER_SESSION={} MAX_FALLBACKS={} GENESIS_TIME={} SLOTS_PER_EPOCH={}",
            self.slot_duration_sec,
            self.slot_timeout_ms,
            self.cooldown_slots,
            self.leader_window_days,
            ppm_to_decimal(self.d_min_ppm),
            self.base_mb_per_session,
            self.max_fallbacks,
            self.genesis_time,
            self.slots_per_epoch
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Params, ParamError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Params::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let p = from(&[]).expect("defaults");
        assert_eq!(p, Params::default());
        assert_eq!(p.window_slots(), 5040);
        assert_eq!(p.d_min_ppm(), 200_000);
        assert_eq!(p.bytes_per_session(), 5 * 1024 * 1024);
    }

    #[test]
    fn overrides_and_bounds() {
        let p = from(&[
            ("COOLDOWN_SLOTS", "8"),
            ("MAX_FALLBACKS", "8"),
            ("D_MIN", "0.5"),
        ])
        .expect("ok");
        assert_eq!(p.cooldown_slots(), 8);
        assert_eq!(p.max_fallbacks(), 8);
        assert_eq!(p.d_min_ppm(), 500_000);
        let e = from(&[("COOLDOWN_SLOTS", "65")]).expect_err("out of range");
        assert!(
            e.to_string().contains("COOLDOWN_SLOTS") && e.to_string().contains("8-64"),
            "{e}"
        );
        let e = from(&[("SLOT_TIMEOUT_MS", "fast")]).expect_err("unparsable");
        assert!(matches!(
            e,
            ParamError::Unparsable {
                var: "SLOT_TIMEOUT_MS",
                ..
            }
        ));
        assert!(from(&[("SLOT_DURATION_SEC", "60")]).is_err());
        assert!(from(&[("SLOTS_PER_EPOCH", "721")]).is_err());
        assert!(from(&[("LEADER_WINDOW_DAYS", "2")]).is_err());
        assert!(from(&[("LEADER_WINDOW_DAYS", "15")]).is_err());
        assert!(from(&[("BASE_MB_PER_SESSION", "0")]).is_err());
        assert!(from(&[("MAX_FALLBACKS", "0")]).is_err());
        assert!(from(&[("GENESIS_TIME", "-1")]).is_err());
        assert!(from(&[("GENESIS_TIME", "9007199254740991")]).is_ok());
        let e = from(&[("GENESIS_TIME", "9007199254740992")]).expect_err("> 2^53 - 1");
        assert!(e.to_string().contains("GENESIS_TIME"), "{e}");
        let e = from(&[("D_MIN", "0.05")]).expect_err("range");
        assert!(e.to_string().contains("D_MIN") && e.to_string().contains("0.1-0.5"));
        assert!(from(&[("D_MIN", "abc")]).is_err());
        assert!(from(&[("D_MIN", "0.5000001")]).is_ok()); // rounds to 500000
        assert!(from(&[("D_MIN", "0.5000005")]).is_err()); // rounds to 500001
    }

    #[test]
    fn decimal_ppm() {
        assert_eq!(parse_decimal_ppm("0.2"), Some(200_000));
        assert_eq!(parse_decimal_ppm(".25"), Some(250_000));
        assert_eq!(parse_decimal_ppm("0.1234565"), Some(123_457));
        assert_eq!(parse_decimal_ppm("0.1234564"), Some(123_456));
        assert_eq!(parse_decimal_ppm("1"), Some(1_000_000));
        assert_eq!(parse_decimal_ppm("."), None);
        assert_eq!(parse_decimal_ppm("1e-1"), None);
        assert_eq!(parse_decimal_ppm("-0.2"), None);
    }

    #[test]
    fn slot_math() {
        let p = Params::default();
        assert_eq!(p.slot_at(1_704_067_200), Some(0));
        assert_eq!(p.slot_at(1_704_067_319), Some(0));
        assert_eq!(p.slot_at(1_704_067_320), Some(1));
        assert_eq!(p.slot_at(1_704_067_199), None);
        assert_eq!(p.epoch_of(719), 0);
        assert_eq!(p.epoch_of(720), 1);
        assert_eq!(p.window(0), Ok(0..0));
        assert_eq!(p.window(3), Ok(0..2160));
        assert_eq!(p.window(10), Ok(7200 - 5040..7200));
        assert_eq!(p.slot_start(1), Ok(1_704_067_320));
        assert_eq!(p.acting_time_ms(1, 2), Ok(1_704_067_320_000 + 10_000));
        // January 2024: 31 days × 720 slots.
        assert_eq!(p.slots_starting_in(1_704_067_200, 1_706_745_600), 0..22_320);
        assert_eq!(p.slots_starting_in(1_704_067_201, 1_704_067_441), 1..3);
        assert_eq!(p.slots_starting_in(10, 5), 0..0);
    }

    /// Unchecked arithmetic used to wrap in release builds (and panic in debug builds) on
    /// slot/epoch numbers from untrusted input; now it is a typed error.
    #[test]
    fn arithmetic_overflow_is_an_error() {
        let p = Params::default();
        let big = u64::MAX / 100;
        assert_eq!(
            p.slot_start(big),
            Err(Overflow {
                what: "slot start",
                arg: big
            })
        );
        assert!(p.slot_start(u64::MAX).is_err());
        assert!(p.acting_time_ms(u64::MAX / 1000 / 120, 1).is_err());
        assert!(p.epoch_start_slot(u64::MAX / 719).is_err());
        assert!(p.epoch_slots(u64::MAX / 720).is_err());
        assert!(p.window(u64::MAX).is_err());
        assert_eq!(
            p.epoch_slots(u64::MAX / 720 - 1).map(|r| r.end - r.start),
            Ok(720)
        );
        // The largest genesis with a large slot still fits or errors, never wraps.
        let g = ParamValues {
            genesis_time: MAX_GENESIS_TIME,
            ..ParamValues::default()
        }
        .build()
        .expect("valid");
        let s = (u64::MAX - MAX_GENESIS_TIME) / 120;
        assert_eq!(g.slot_start(s), Ok(MAX_GENESIS_TIME + 120 * s));
        assert!(g.slot_start(s + 1).is_err());
    }

    /// `Params` cannot be built with an out-of-range value: `ParamValues::build` checks each one.
    #[test]
    fn values_are_validated() {
        let ok = ParamValues::default().build().expect("defaults");
        assert_eq!(ok, Params::default());
        assert_eq!(ok.values().build(), Ok(ok));
        let bad = |v: ParamValues| v.build().expect_err("out of range").to_string();
        let d = ParamValues::default();
        assert!(
            bad(ParamValues {
                cooldown_slots: 0,
                ..d
            })
            .contains("COOLDOWN_SLOTS")
        );
        assert!(
            bad(ParamValues {
                max_fallbacks: 9,
                ..d
            })
            .contains("MAX_FALLBACKS")
        );
        assert!(
            bad(ParamValues {
                slot_timeout_ms: 999,
                ..d
            })
            .contains("SLOT_TIMEOUT_MS")
        );
        assert!(
            bad(ParamValues {
                leader_window_days: 15,
                ..d
            })
            .contains("LEADER_WINDOW_DAYS")
        );
        assert!(
            bad(ParamValues {
                base_mb_per_session: 0,
                ..d
            })
            .contains("BASE_MB_PER_SESSION")
        );
        assert!(
            bad(ParamValues {
                slot_duration_sec: 60,
                ..d
            })
            .contains("SLOT_DURATION_SEC")
        );
        assert!(
            bad(ParamValues {
                slots_per_epoch: 1,
                ..d
            })
            .contains("SLOTS_PER_EPOCH")
        );
        assert!(
            bad(ParamValues {
                genesis_time: u64::MAX,
                ..d
            })
            .contains("GENESIS_TIME")
        );
        let e = bad(ParamValues {
            d_min_ppm: 99_999,
            ..d
        });
        assert!(e.contains("D_MIN") && e.contains("0.099999"), "{e}");
    }

    #[test]
    fn params_hash_is_keccak_of_jcs() {
        let p = Params::default();
        assert_eq!(
            p.canonical_json(),
            r#"{"BASE_MB_PER_SESSION":5,"COOLDOWN_SLOTS":16,"D_MIN":0.2,"GENESIS_TIME":1704067200,"LEADER_WINDOW_DAYS":7,"MAX_FALLBACKS":3,"SLOTS_PER_EPOCH":720,"SLOT_DURATION_SEC":120,"SLOT_TIMEOUT_MS":5000}"#
        );
        // The same as RFC 8785 of the object built from JSON numbers (the D_MIN double included).
        for ppm in [100_000u64, 123_457, 200_000, 333_333, 499_999, 500_000] {
            let q = ParamValues {
                d_min_ppm: ppm,
                genesis_time: MAX_GENESIS_TIME,
                ..p.values()
            }
            .build()
            .expect("valid");
            let v = serde_json::json!({
                "SLOT_DURATION_SEC": 120, "SLOT_TIMEOUT_MS": 5000, "COOLDOWN_SLOTS": 16,
                "LEADER_WINDOW_DAYS": 7, "D_MIN": ppm as f64 / 1e6, "BASE_MB_PER_SESSION": 5,
                "MAX_FALLBACKS": 3, "GENESIS_TIME": MAX_GENESIS_TIME, "SLOTS_PER_EPOCH": 720,
            });
            let jcs = serde_json_canonicalizer::to_string(&v).expect("jcs");
            assert_eq!(q.canonical_json(), jcs, "ppm {ppm}");
            assert_eq!(q.params_hash(), alloy_primitives::keccak256(jcs.as_bytes()));
        }
        assert_ne!(
            p.params_hash(),
            ParamValues {
                cooldown_slots: 17,
                ..p.values()
            }
            .build()
            .expect("valid")
            .params_hash()
        );
        assert_eq!(ppm_to_decimal(1_000_000), "1");
        assert_eq!(ppm_to_decimal(100_001), "0.100001");
    }
}
