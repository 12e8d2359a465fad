//! The time of a journal record (`"at"`): Unix seconds with a millisecond fraction
//! (`"at": 1764583443.127`), so that a report places the bars of tasks that last a few
//! milliseconds where they ran. Journals written before held whole seconds (`"at": 1764583443`);
//! they still read, as that second's first millisecond.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time to the millisecond, journaled as seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Stamp(u64);

impl Stamp {
    /// Now, to the millisecond.
    pub fn now() -> Stamp {
        Stamp(crate::exec::journal::now_ms())
    }

    pub fn from_ms(ms: u64) -> Stamp {
        Stamp(ms)
    }

    pub fn from_secs(s: u64) -> Stamp {
        Stamp(s.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub fn ms(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> u64 {
        self.0 / 1000
    }

    /// As Kestra prints an `Instant` (`Instant.toString`, Jackson's `ISO_INSTANT`): UTC, with
    /// the milliseconds only when not zero (`2026-12-01T17:50:56.127Z`).
    pub fn instant_text(self) -> String {
        let at = chrono::DateTime::from_timestamp_millis(self.0 as i64).unwrap_or_default();
        let ms = self.0 % 1000;
        let fraction = if ms == 0 {
            String::new()
        } else {
            format!(".{ms:03}")
        };
        format!("{}{fraction}Z", at.format("%Y-%m-%dT%H:%M:%S"))
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1000) {
            // A whole second stays an integer, as journals have always had it.
            s.serialize_u64(self.0 / 1000)
        } else {
            // An f64 holds 15 significant digits: seconds to the millisecond until year 33658.
            s.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Secs {
            Whole(u64),
            Fraction(f64),
        }
        Ok(match Secs::deserialize(d)? {
            Secs::Whole(s) => Stamp::from_secs(s),
            Secs::Fraction(f) if f.is_finite() && f >= 0.0 => Stamp((f * 1000.0).round() as u64),
            Secs::Fraction(f) => {
                return Err(serde::de::Error::custom(format!("`at` is not a time: {f}")));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_journaled_and_read_back() {
        let cases: &[(u64, &str)] = &[
            (1_764_583_443_127, "1764583443.127"),
            (1_764_583_443_001, "1764583443.001"),
            (1_764_583_443_999, "1764583443.999"),
            (1_764_583_443_000, "1764583443"),
            (0, "0"),
            (5, "0.005"),
        ];
        for (ms, text) in cases {
            let s = Stamp::from_ms(*ms);
            assert_eq!(serde_json::to_string(&s).unwrap(), *text, "{ms}");
            assert_eq!(serde_json::from_str::<Stamp>(text).unwrap(), s, "{text}");
        }
    }

    #[test]
    fn instants_print_as_kestras() {
        let cases: &[(u64, &str)] = &[
            (1_764_583_443_127, "2025-12-01T10:04:03.127Z"),
            (1_764_583_443_000, "2025-12-01T10:04:03Z"),
            (1_764_583_443_010, "2025-12-01T10:04:03.010Z"),
            (0, "1970-01-01T00:00:00Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(Stamp::from_ms(*ms).instant_text(), *text, "{ms}");
        }
    }

    #[test]
    fn old_journals_in_whole_seconds_still_read() {
        let s: Stamp = serde_json::from_str("1764583443").unwrap();
        assert_eq!((s.secs(), s.ms()), (1_764_583_443, 1_764_583_443_000));
        assert!(serde_json::from_str::<Stamp>("-1.5").is_err());
        assert!(serde_json::from_str::<Stamp>("\"x\"").is_err());
    }
}
