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

/// The SPEC §1 parameters. Construct with [`Params::default`], [`Params::from_env`] or
/// [`Params::from_lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// `SLOT_DURATION_SEC` (always 120).
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
    pub max_fallbacks: usize,
    /// `GENESIS_TIME`: unix time of the start of slot 0.
    pub genesis_time: u64,
    /// `SLOTS_PER_EPOCH` (always 720).
    pub slots_per_epoch: u64,
}

impl Default for Params {
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
    var: &'static str,
    default: u64,
    lo: u64,
    hi: u64,
    allowed: &'static str,
) -> Result<u64, ParamError> {
    let Some(raw) = lookup(var) else {
        return Ok(default);
    };
    let t = raw.trim();
    let v: u64 = t.parse().map_err(|_| ParamError::Unparsable {
        var,
        value: raw.clone(),
        allowed,
    })?;
    if v < lo || v > hi {
        return Err(ParamError::OutOfRange {
            var,
            value: raw,
            allowed,
        });
    }
    Ok(v)
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
        let d = Self::default();
        let l = &mut lookup;
        let slot_duration_sec = int(l, "SLOT_DURATION_SEC", 120, 120, 120, "120 only")?;
        let slot_timeout_ms = int(
            l,
            "SLOT_TIMEOUT_MS",
            d.slot_timeout_ms,
            1000,
            10_000,
            "1000-10000",
        )?;
        let cooldown_slots = int(l, "COOLDOWN_SLOTS", d.cooldown_slots, 8, 64, "8-64")?;
        let leader_window_days = int(l, "LEADER_WINDOW_DAYS", d.leader_window_days, 3, 14, "3-14")?;
        let d_min_ppm = match l("D_MIN") {
            None => d.d_min_ppm,
            Some(raw) => {
                const ALLOWED: &str = "0.1-0.5";
                let v = parse_decimal_ppm(&raw).ok_or_else(|| ParamError::Unparsable {
                    var: "D_MIN",
                    value: raw.clone(),
                    allowed: ALLOWED,
                })?;
                if !(100_000..=500_000).contains(&v) {
                    return Err(ParamError::OutOfRange {
                        var: "D_MIN",
                        value: raw,
                        allowed: ALLOWED,
                    });
                }
                v
            }
        };
        let base_mb_per_session = int(
            l,
            "BASE_MB_PER_SESSION",
            d.base_mb_per_session,
            1,
            50,
            "1-50",
        )?;
        let max_fallbacks = int(l, "MAX_FALLBACKS", 3, 1, 8, "1-8")? as usize;
        let genesis_time = int(
            l,
            "GENESIS_TIME",
            d.genesis_time,
            0,
            u64::MAX,
            "any unix time",
        )?;
        let slots_per_epoch = int(l, "SLOTS_PER_EPOCH", 720, 720, 720, "720 only")?;
        Ok(Self {
            slot_duration_sec,
            slot_timeout_ms,
            cooldown_slots,
            leader_window_days,
            d_min_ppm,
            base_mb_per_session,
            max_fallbacks,
            genesis_time,
            slots_per_epoch,
        })
    }

    /// `WINDOW = LEADER_WINDOW_DAYS × 720` slots.
    pub fn window_slots(&self) -> u64 {
        self.leader_window_days * self.slots_per_epoch
    }

    /// Bytes of relayed data worth one session: `BASE_MB_PER_SESSION × 2^20`.
    pub fn bytes_per_session(&self) -> u64 {
        self.base_mb_per_session * MIB
    }

    /// `slot(t) = floor((t − GENESIS_TIME) / SLOT_DURATION_SEC)`; `None` before genesis.
    pub fn slot_at(&self, unix_time: u64) -> Option<u64> {
        unix_time
            .checked_sub(self.genesis_time)
            .map(|d| d / self.slot_duration_sec)
    }

    /// Unix time at which slot `s` starts.
    pub fn slot_start(&self, slot: u64) -> u64 {
        self.genesis_time + slot * self.slot_duration_sec
    }

    /// `epoch(s) = floor(s / 720)`.
    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.slots_per_epoch
    }

    /// First slot of epoch `e`.
    pub fn epoch_start_slot(&self, epoch: u64) -> u64 {
        epoch * self.slots_per_epoch
    }

    /// The credit window of epoch `e`: slots `[720E − WINDOW, 720E)`, clipped at slot 0.
    pub fn window(&self, epoch: u64) -> std::ops::Range<u64> {
        let end = self.epoch_start_slot(epoch);
        end.saturating_sub(self.window_slots())..end
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

    /// The slots of epoch `e`.
    pub fn epoch_slots(&self, epoch: u64) -> std::ops::Range<u64> {
        let s = self.epoch_start_slot(epoch);
        s..s + self.slots_per_epoch
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SLOT_DURATION_SEC={} SLOT_TIMEOUT_MS={} COOLDOWN_SLOTS={} LEADER_WINDOW_DAYS={} D_MIN_PPM={} BASE_MB_PER_SESSION={} MAX_FALLBACKS={} GENESIS_TIME={} SLOTS_PER_EPOCH={}",
            self.slot_duration_sec,
            self.slot_timeout_ms,
            self.cooldown_slots,
            self.leader_window_days,
            self.d_min_ppm,
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
        assert_eq!(p.d_min_ppm, 200_000);
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
        assert_eq!(p.cooldown_slots, 8);
        assert_eq!(p.max_fallbacks, 8);
        assert_eq!(p.d_min_ppm, 500_000);
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
        assert_eq!(p.window(0), 0..0);
        assert_eq!(p.window(3), 0..2160);
        assert_eq!(p.window(10), 7200 - 5040..7200);
        // January 2024: 31 days × 720 slots.
        assert_eq!(p.slots_starting_in(1_704_067_200, 1_706_745_600), 0..22_320);
        assert_eq!(p.slots_starting_in(1_704_067_201, 1_704_067_441), 1..3);
        assert_eq!(p.slots_starting_in(10, 5), 0..0);
    }
}
