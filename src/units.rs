//! Parsing and formatting of the unit-bearing values found in task properties:
//! byte sizes (memory limits, shared memory, ...) and ISO-8601 durations
//! (timeouts, intervals).
//!
//! Sizes accept both the Kestra spelling (`512MB`, `1GB`, `10B`, a bare number of
//! bytes) and the Docker CLI spelling (`512m`, `1g`, `100k`), plus the IEC
//! spelling (`512MiB`). Every unit is 1024-based, as in Kestra and Docker, and
//! units are case-insensitive, as in Docker. [`format_size_docker`] gives the
//! value back in the form `docker run --memory` expects.
//!
//! Durations follow `java.time.Duration.parse`, which is what Kestra uses:
//! `PT5M`, `PT1H30M`, `PT0.5S`, `P1DT2H`, case-insensitive. Negative durations,
//! weeks, months and years are rejected. [`format_duration_iso`] prints the
//! canonical form that `java.time.Duration.toString` would print.
//!
//! This module does no I/O. Errors are complete lowercase messages; the caller
//! prefixes them with the location and the property name.

use std::fmt::Write as _;
use std::time::Duration;

const KIB: u64 = 1024;
const MIB: u64 = KIB * 1024;
const GIB: u64 = MIB * 1024;
const TIB: u64 = GIB * 1024;

const SIZE_UNITS_HINT: &str = "use B, KB, MB, GB, TB, or Docker's b, k, m, g";
const SIZE_EXAMPLE: &str = "expected a number with an optional unit, such as 512MB, 1GB or 512m";

/// The multiplier of a size unit, compared case-insensitively; `None` when unknown.
fn size_unit_multiplier(unit: &str) -> Option<u64> {
    match unit.to_ascii_lowercase().as_str() {
        "" | "b" => Some(1),
        "k" | "kb" | "kib" => Some(KIB),
        "m" | "mb" | "mib" => Some(MIB),
        "g" | "gb" | "gib" => Some(GIB),
        "t" | "tb" | "tib" => Some(TIB),
        _ => None,
    }
}

/// Parses a size into bytes.
///
/// Accepted: an unsigned decimal number (`1048576`, `1.5`), optionally followed
/// (with or without spaces in between) by a unit: `B`, `KB`/`K`/`KiB`,
/// `MB`/`M`/`MiB`, `GB`/`G`/`GiB` or `TB`/`T`/`TiB`, in any letter case, all
/// 1024-based. A bare number is a count of bytes. Fractions are rounded down
/// to whole bytes. Surrounding whitespace is ignored.
///
/// A size of zero bytes is accepted only when written as a bare `0`: `0MB`, or
/// `0.1B` which rounds down to nothing, are rejected as likely mistakes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let input = s.trim();
    if input.is_empty() {
        return Err(format!("invalid size: the value is empty ({SIZE_EXAMPLE})"));
    }
    let err = |why: &str| format!("invalid size `{input}`: {why}");

    if input.starts_with('-') {
        return Err(err("a size cannot be negative"));
    }
    let number_end = input
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(input.len());
    let (number, rest) = input.split_at(number_end);
    let unit = rest.trim_start();

    if number.is_empty() {
        return Err(match size_unit_multiplier(unit) {
            Some(_) => err(&format!("missing number before `{unit}` (e.g. 512{unit})")),
            None => err(SIZE_EXAMPLE),
        });
    }
    let Some(multiplier) = size_unit_multiplier(unit) else {
        return Err(err(&format!("unknown unit `{unit}` ({SIZE_UNITS_HINT})")));
    };

    let (int_digits, frac_digits) = match number.split_once('.') {
        None => (number, None),
        Some((_, frac)) if frac.contains('.') => {
            return Err(err("the number has more than one decimal point"));
        }
        Some(("", _)) => {
            return Err(err("a decimal needs a digit before the point (e.g. 0.5GB)"));
        }
        Some((_, "")) => {
            return Err(err(
                "a decimal point must be followed by digits (e.g. 1.5GB)",
            ));
        }
        Some((int, frac)) => (int, Some(frac)),
    };

    let too_large = || err(&format!("too large (the maximum is {} bytes)", u64::MAX));
    let mut whole: u64 = 0;
    for d in int_digits.bytes() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(u64::from(d - b'0')))
            .ok_or_else(too_large)?;
    }
    let mut bytes = whole.checked_mul(multiplier).ok_or_else(too_large)?;
    if let Some(frac) = frac_digits {
        bytes = bytes
            .checked_add(floor_fraction_times(frac, multiplier))
            .ok_or_else(too_large)?;
    }

    if bytes == 0 && (frac_digits.is_some() || !unit.is_empty()) {
        let exactly_zero = number.bytes().all(|b| b == b'0' || b == b'.');
        return Err(if exactly_zero {
            err("a zero size must be written as a bare `0`")
        } else {
            err("rounds down to 0 bytes")
        });
    }
    Ok(bytes)
}

/// `floor(0.<digits> * multiplier)`, computed exactly.
///
/// Horner's scheme from the last digit: `floor((a + y) / 10) == floor((a + floor(y)) / 10)`
/// for an integer `a` and a real `y >= 0`, so truncating at every step is exact.
/// The accumulator always stays below `multiplier`.
fn floor_fraction_times(digits: &str, multiplier: u64) -> u64 {
    let multiplier = u128::from(multiplier);
    let mut acc: u128 = 0;
    for d in digits.bytes().rev() {
        acc = (u128::from(d - b'0') * multiplier + acc) / 10;
    }
    // acc < multiplier <= u64::MAX, so this never truncates.
    u64::try_from(acc).unwrap_or(u64::MAX)
}

/// Formats a byte count in the shortest exact form the Docker CLI accepts:
/// `1g`, `512m`, `100k`, or the plain number of bytes (`123`). Zero is `0`.
pub fn format_size_docker(bytes: u64) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    for (multiplier, suffix) in [(GIB, "g"), (MIB, "m"), (KIB, "k")] {
        if bytes.is_multiple_of(multiplier) {
            return format!("{}{suffix}", bytes / multiplier);
        }
    }
    bytes.to_string()
}

const DURATION_EXAMPLE: &str = "expected ISO-8601 such as PT30S, PT5M or PT1H30M";

/// One `<number><unit>` piece of a duration, as written.
struct Component<'a> {
    /// The whole-number digits, without any leading `+`.
    int: &'a str,
    /// The digits after `.` or `,`, when a decimal separator was written.
    frac: Option<&'a str>,
    /// The unit letter as written.
    unit: char,
}

/// Splits `s` into `<number><unit>` components. Numbers are `[+]digits[(.|,)digits]`.
fn duration_components(s: &str) -> Result<Vec<Component<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let body = rest.strip_prefix('+').unwrap_or(rest);
        let int_len = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let int = &body[..int_len];
        let mut after = &body[int_len..];
        let mut frac = None;
        if let Some(f) = after.strip_prefix(['.', ',']) {
            let frac_len = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
            frac = Some(&f[..frac_len]);
            after = &f[frac_len..];
        }
        let Some(unit) = after.chars().next() else {
            return Err(format!(
                "the number `{rest}` has no unit (use D, H, M or S)"
            ));
        };
        if int.is_empty() {
            return Err(if frac.is_some() {
                "a decimal needs a digit before the point (e.g. PT0.5S)".to_string()
            } else if unit.is_ascii_alphabetic() {
                format!("missing number before `{unit}`")
            } else {
                format!("unexpected character `{unit}`")
            });
        }
        out.push(Component { int, frac, unit });
        rest = &after[unit.len_utf8()..];
    }
    Ok(out)
}

/// Rewrites a Go/Docker style duration such as `5m`, `1h30m` or `2d` into
/// ISO-8601, for a "did you mean" hint. `None` when it does not look like one.
fn suggest_iso_duration(s: &str) -> Option<String> {
    let components = duration_components(s).ok()?;
    if components.is_empty() {
        return None;
    }
    let mut date = String::new();
    let mut time = String::new();
    let mut last_rank = 0;
    for c in &components {
        let unit = c.unit.to_ascii_uppercase();
        let rank = match unit {
            'D' => 1,
            'H' => 2,
            'M' => 3,
            'S' => 4,
            _ => return None,
        };
        if rank <= last_rank || (c.frac.is_some() && unit != 'S') {
            return None;
        }
        last_rank = rank;
        let target = if unit == 'D' { &mut date } else { &mut time };
        target.push_str(c.int);
        if let Some(frac) = c.frac {
            target.push('.');
            target.push_str(frac);
        }
        target.push(unit);
    }
    Some(if time.is_empty() {
        format!("P{date}")
    } else {
        format!("P{date}T{time}")
    })
}

/// Parses an ISO-8601 duration the way `java.time.Duration.parse` does:
/// `P[nD][T[nH][nM][n[.fraction]S]]`, case-insensitive, with at most nine
/// fraction digits and only on seconds (`,` is accepted as the decimal
/// separator too). A day is 24 hours. Surrounding whitespace is ignored.
///
/// Rejected: negative values, weeks, months and years (months and years have
/// no fixed length), `P` or `PT` with nothing after them, unknown units, and
/// values above `u64::MAX` seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let input = s.trim();
    if input.is_empty() {
        return Err(format!(
            "invalid duration: the value is empty ({DURATION_EXAMPLE})"
        ));
    }
    let err = |why: &str| format!("invalid duration `{input}`: {why}");

    if input.contains('-') {
        return Err(err("a duration cannot be negative"));
    }
    let unsigned = input.strip_prefix('+').unwrap_or(input);
    let Some(body) = unsigned
        .strip_prefix('P')
        .or_else(|| unsigned.strip_prefix('p'))
    else {
        return Err(match suggest_iso_duration(input) {
            Some(hint) => err(&format!("{DURATION_EXAMPLE} (did you mean `{hint}`?)")),
            None => err(DURATION_EXAMPLE),
        });
    };

    let (date, time) = match body.find(['T', 't']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    match time {
        None if date.is_empty() => {
            return Err(err(&format!("nothing after `P` ({DURATION_EXAMPLE})")));
        }
        Some("") => {
            return Err(err(&format!("nothing after `T` ({DURATION_EXAMPLE})")));
        }
        Some(t) if t.contains(['T', 't']) => return Err(err("`T` appears more than once")),
        _ => {}
    }

    let unsupported = "weeks, months and years are not supported (months and years have no \
                       fixed length); use days, hours, minutes or seconds, e.g. P7D or PT36H";
    let mut total: u64 = 0;
    let mut nanos: u32 = 0;
    let too_large = || err(&format!("too large (the maximum is {} seconds)", u64::MAX));

    for (part, in_time) in [(date, false), (time.unwrap_or(""), true)] {
        let components = duration_components(part).map_err(|why| err(&why))?;
        let mut last_rank = 0;
        for c in components {
            let unit = c.unit.to_ascii_uppercase();
            let (rank, seconds_per_unit) = match (unit, in_time) {
                ('D', false) => (1, 86_400),
                ('H', true) => (2, 3_600),
                ('M', true) => (3, 60),
                ('S', true) => (4, 1),
                ('D', true) => return Err(err("days go before `T`, e.g. P1DT2H")),
                ('M', false) => {
                    return Err(err(&format!(
                        "`M` before `T` means months, which are not supported \
                         (months have no fixed length); for minutes write PT{}M",
                        c.int
                    )));
                }
                ('W' | 'Y', _) => return Err(err(unsupported)),
                ('H' | 'S', false) => {
                    return Err(err(&format!(
                        "hours, minutes and seconds go after `T`, e.g. PT{}{unit}",
                        c.int
                    )));
                }
                _ => {
                    return Err(err(&format!(
                        "unknown unit `{}` (use D, H, M or S, e.g. PT30S, PT5M or PT1H30M)",
                        c.unit
                    )));
                }
            };
            if rank == last_rank {
                return Err(err(&format!("`{unit}` appears more than once")));
            }
            if rank < last_rank {
                return Err(err(
                    "units must be in the order D, H, M, S (e.g. P1DT2H30M10S)",
                ));
            }
            last_rank = rank;

            if let Some(frac) = c.frac {
                if unit != 'S' {
                    return Err(err(
                        "only seconds may have a fraction (e.g. PT1M30S rather than PT1.5M)",
                    ));
                }
                if frac.len() > 9 {
                    return Err(err(
                        "at most 9 digits are allowed after the decimal point (nanoseconds)",
                    ));
                }
                // Right-pad to nine digits: "5" -> 500_000_000 ns.
                nanos = frac
                    .bytes()
                    .chain(std::iter::repeat(b'0'))
                    .take(9)
                    .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'));
            }
            let mut value: u64 = 0;
            for d in c.int.bytes() {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(d - b'0')))
                    .ok_or_else(too_large)?;
            }
            total = value
                .checked_mul(seconds_per_unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(too_large)?;
        }
    }
    Ok(Duration::new(total, nanos))
}

/// Formats a duration the way `java.time.Duration.toString` does: hours,
/// minutes and seconds only (a day prints as `PT24H`), zero parts left out,
/// fractions of a second without trailing zeros, and `PT0S` for zero.
/// Examples: `PT1H30M`, `PT0.5S`, `PT36H`, `PT0S`.
pub fn format_duration_iso(d: Duration) -> String {
    if d.is_zero() {
        return "PT0S".to_string();
    }
    let secs = d.as_secs();
    let nanos = d.subsec_nanos();
    let (hours, minutes, seconds) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::from("PT");
    if hours > 0 {
        let _ = write!(out, "{hours}H");
    }
    if minutes > 0 {
        let _ = write!(out, "{minutes}M");
    }
    if seconds > 0 || nanos > 0 {
        out.push_str(&seconds.to_string());
        if nanos > 0 {
            let frac = format!("{nanos:09}");
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('S');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn size_err(s: &str) -> String {
        parse_size(s).expect_err(&format!("`{s}` should be rejected"))
    }

    fn dur_err(s: &str) -> String {
        parse_duration(s).expect_err(&format!("`{s}` should be rejected"))
    }

    // ---- parse_size -------------------------------------------------------

    #[test]
    fn size_kestra_units_are_1024_based() {
        assert_eq!(parse_size("10B"), Ok(10));
        assert_eq!(parse_size("100KB"), Ok(100 * 1024));
        assert_eq!(parse_size("512MB"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_size("1GB"), Ok(1 << 30));
        assert_eq!(parse_size("2TB"), Ok(2 << 40));
    }

    #[test]
    fn size_bare_number_is_bytes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size("007"), Ok(7));
    }

    #[test]
    fn size_docker_units() {
        assert_eq!(parse_size("10b"), Ok(10));
        assert_eq!(parse_size("100k"), Ok(100 * 1024));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1t"), Ok(1 << 40));
        assert_eq!(parse_size("100K"), Ok(100 * 1024));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
    }

    #[test]
    fn size_iec_and_mixed_case_units() {
        assert_eq!(parse_size("1KiB"), Ok(1024));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("512mb"), Ok(512 << 20));
        assert_eq!(parse_size("512Mb"), Ok(512 << 20));
        assert_eq!(parse_size("1gib"), Ok(1 << 30));
        assert_eq!(parse_size("3kb"), Ok(3 * 1024));
    }

    #[test]
    fn size_whitespace() {
        assert_eq!(parse_size("  512MB  "), Ok(512 << 20));
        assert_eq!(parse_size("\t1g\n"), Ok(1 << 30));
        assert_eq!(parse_size("512 MB"), Ok(512 << 20));
        assert_eq!(parse_size(" 0 "), Ok(0));
        assert!(size_err("512 M B").contains("unknown unit `M B`"));
    }

    #[test]
    fn size_decimals_round_down() {
        assert_eq!(parse_size("1.5GB"), Ok(3 << 29));
        assert_eq!(parse_size("0.5k"), Ok(512));
        assert_eq!(parse_size("1.5"), Ok(1));
        assert_eq!(parse_size("1.9B"), Ok(1));
        // 0.001 KiB = 1.024 bytes.
        assert_eq!(parse_size("0.001KB"), Ok(1));
        // 0.1 MiB = 104857.6 bytes.
        assert_eq!(parse_size("0.1MB"), Ok(104_857));
        // A long fraction is still exact: 0.333... GiB.
        assert_eq!(
            parse_size("0.3333333333333333333333333333GB"),
            Ok((1u64 << 30) / 3)
        );
        assert_eq!(
            parse_size("0.99999999999999999999999999999999999999999999TB"),
            Ok((1 << 40) - 1)
        );
        assert_eq!(parse_size("2.50m"), Ok(5 << 19));
    }

    #[test]
    fn size_zero_only_as_bare_number() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("000"), Ok(0));
        assert!(size_err("0MB").contains("a zero size must be written as a bare `0`"));
        assert!(size_err("0B").contains("bare `0`"));
        assert!(size_err("0.0").contains("bare `0`"));
        assert!(size_err("0.5").contains("rounds down to 0 bytes"));
        assert!(size_err("0.0001KB").contains("rounds down to 0 bytes"));
    }

    #[test]
    fn size_u64_boundaries() {
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_size("18446744073709551615B"), Ok(u64::MAX));
        assert!(size_err("18446744073709551616").contains("too large"));
        assert!(size_err("99999999999999999999999999").contains("too large"));
        // 2^64 = 16777216 TiB.
        assert_eq!(parse_size("16777215TB"), Ok(16_777_215 << 40));
        assert!(size_err("16777216TB").contains("too large"));
        assert!(size_err("17179869184GB").contains("too large"));
        // Just under 2^64 via a fraction of the last TiB: floor(0.9999999 * 2^40).
        assert_eq!(
            parse_size("16777215.9999999TB"),
            Ok((16_777_215u64 << 40) + 1_099_511_517_824)
        );
        // The fractional part itself pushes it over.
        assert_eq!(parse_size("18446744073709551614.5"), Ok(u64::MAX - 1));
        assert_eq!(
            parse_size("17179869183.9999999999999999999GB"),
            Ok(u64::MAX)
        );
        assert!(size_err("17179869184.0GB").contains("too large"));
    }

    #[test]
    fn size_rejections_and_messages() {
        assert_eq!(
            size_err("12XB"),
            "invalid size `12XB`: unknown unit `XB` (use B, KB, MB, GB, TB, or Docker's b, k, m, g)"
        );
        assert!(size_err("").starts_with("invalid size: the value is empty"));
        assert!(size_err("   ").contains("empty"));
        assert_eq!(
            size_err("-5MB"),
            "invalid size `-5MB`: a size cannot be negative"
        );
        assert_eq!(
            size_err("MB"),
            "invalid size `MB`: missing number before `MB` (e.g. 512MB)"
        );
        assert!(size_err("abc").contains("expected a number with an optional unit"));
        assert!(size_err("+5MB").contains("expected a number"));
        assert!(size_err("1.2.3GB").contains("more than one decimal point"));
        assert!(size_err("1..3GB").contains("more than one decimal point"));
        assert!(size_err(".5GB").contains("digit before the point"));
        assert!(size_err("1.GB").contains("followed by digits"));
        assert!(size_err("1e3").contains("unknown unit `e3`"));
        assert!(size_err("5PB").contains("unknown unit `PB`"));
        assert!(size_err("5 MB extra").contains("unknown unit"));
        assert!(size_err("1,5GB").contains("unknown unit `,5GB`"));
        assert!(size_err("١٢MB").contains("expected a number"));
    }

    // ---- format_size_docker -----------------------------------------------

    #[test]
    fn format_size_docker_picks_shortest_exact_unit() {
        assert_eq!(format_size_docker(0), "0");
        assert_eq!(format_size_docker(1), "1");
        assert_eq!(format_size_docker(123), "123");
        assert_eq!(format_size_docker(1023), "1023");
        assert_eq!(format_size_docker(1024), "1k");
        assert_eq!(format_size_docker(100 * 1024), "100k");
        assert_eq!(format_size_docker(1025), "1025");
        assert_eq!(format_size_docker(1 << 20), "1m");
        assert_eq!(format_size_docker(512 << 20), "512m");
        assert_eq!(format_size_docker(1536 << 20), "1536m");
        assert_eq!(format_size_docker(1 << 30), "1g");
        assert_eq!(format_size_docker(1 << 40), "1024g");
        assert_eq!(format_size_docker(u64::MAX), "18446744073709551615");
        assert_eq!(format_size_docker(u64::MAX - 1023), "18014398509481983k");
    }

    #[test]
    fn format_size_docker_round_trips_examples() {
        for s in ["512MB", "1GB", "100KB", "2TB", "10B", "1048576", "1.5GB"] {
            let bytes = parse_size(s).unwrap();
            assert_eq!(parse_size(&format_size_docker(bytes)), Ok(bytes), "{s}");
        }
    }

    // ---- parse_duration ---------------------------------------------------

    #[test]
    fn duration_common_forms() {
        assert_eq!(parse_duration("PT5M"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("PT1H30M"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("PT0.5S"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("PT10S"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("P1D"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("P1DT2H"), Ok(Duration::from_secs(93_600)));
        assert_eq!(parse_duration("PT0S"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("P0D"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("PT1H"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("PT36H"), Ok(Duration::from_secs(36 * 3600)));
        assert_eq!(parse_duration("PT90M"), Ok(Duration::from_secs(5400)));
        assert_eq!(
            parse_duration("P2DT3H4M5.006S"),
            Ok(Duration::new(2 * 86_400 + 3 * 3600 + 4 * 60 + 5, 6_000_000))
        );
    }

    #[test]
    fn duration_is_case_insensitive_and_trims() {
        assert_eq!(parse_duration("pt5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("Pt1h30M"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("p1dt2h"), Ok(Duration::from_secs(93_600)));
        assert_eq!(parse_duration("  PT10S\n"), Ok(Duration::from_secs(10)));
    }

    #[test]
    fn duration_fractions_like_java() {
        assert_eq!(parse_duration("PT0,5S"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("PT1.000000001S"), Ok(Duration::new(1, 1)));
        assert_eq!(
            parse_duration("PT1.123456789S"),
            Ok(Duration::new(1, 123_456_789))
        );
        assert_eq!(parse_duration("PT1.S"), Ok(Duration::from_secs(1)));
        assert!(dur_err("PT1.1234567891S").contains("at most 9 digits"));
        assert!(dur_err("PT1.5M").contains("only seconds may have a fraction"));
        assert!(dur_err("PT1.5H").contains("only seconds may have a fraction"));
        assert!(dur_err("P1.5D").contains("only seconds may have a fraction"));
        assert!(dur_err("PT.5S").contains("digit before the point"));
    }

    #[test]
    fn duration_plus_signs_are_accepted_like_java() {
        assert_eq!(parse_duration("+PT5S"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("PT+5S"), Ok(Duration::from_secs(5)));
    }

    #[test]
    fn duration_rejections_and_messages() {
        assert_eq!(
            dur_err("5m"),
            "invalid duration `5m`: expected ISO-8601 such as PT30S, PT5M or PT1H30M (did you mean `PT5M`?)"
        );
        assert_eq!(
            dur_err("1h"),
            "invalid duration `1h`: expected ISO-8601 such as PT30S, PT5M or PT1H30M (did you mean `PT1H`?)"
        );
        assert!(dur_err("5M").contains("did you mean `PT5M`?"));
        assert!(dur_err("1h30m").contains("did you mean `PT1H30M`?"));
        assert!(dur_err("2d").contains("did you mean `P2D`?"));
        assert!(dur_err("1d2h").contains("did you mean `P1DT2H`?"));
        assert!(dur_err("0.5s").contains("did you mean `PT0.5S`?"));
        assert_eq!(
            dur_err("soon"),
            "invalid duration `soon`: expected ISO-8601 such as PT30S, PT5M or PT1H30M"
        );
        assert!(!dur_err("5ms").contains("did you mean"));
        assert!(!dur_err("30").contains("did you mean"));
        assert!(dur_err("").starts_with("invalid duration: the value is empty"));
        assert!(dur_err("PT").contains("nothing after `T`"));
        assert!(dur_err("P").contains("nothing after `P`"));
        assert!(dur_err("P1DT").contains("nothing after `T`"));
        assert_eq!(
            dur_err("PT-5S"),
            "invalid duration `PT-5S`: a duration cannot be negative"
        );
        assert!(dur_err("-PT5S").contains("cannot be negative"));
        assert_eq!(
            dur_err("PT5X"),
            "invalid duration `PT5X`: unknown unit `X` (use D, H, M or S, e.g. PT30S, PT5M or PT1H30M)"
        );
        assert!(dur_err("pt5x").contains("unknown unit `x`"));
        assert!(dur_err("PT5").contains("the number `5` has no unit"));
        assert!(dur_err("PTS").contains("missing number before `S`"));
        assert!(dur_err("PT5M5M").contains("`M` appears more than once"));
        assert!(dur_err("PT5S5M").contains("order D, H, M, S"));
        assert!(dur_err("PT1DT").contains("`T` appears more than once"));
        assert!(dur_err("P1DT2HT3M").contains("`T` appears more than once"));
        assert!(dur_err("PT1D").contains("days go before `T`"));
        assert!(dur_err("P1H").contains("go after `T`, e.g. PT1H"));
        assert!(dur_err("P5S").contains("go after `T`, e.g. PT5S"));
        assert!(dur_err("PT 5S").contains("unexpected character ` `"));
    }

    #[test]
    fn duration_weeks_months_years_are_unsupported() {
        assert!(dur_err("P1W").contains("weeks, months and years are not supported"));
        assert!(dur_err("P1Y").contains("weeks, months and years are not supported"));
        assert!(dur_err("P1Y2M").contains("not supported"));
        let months = dur_err("P5M");
        assert!(months.contains("means months"), "{months}");
        assert!(months.contains("PT5M"), "{months}");
    }

    #[test]
    fn duration_overflow() {
        let max = u64::MAX;
        assert_eq!(
            parse_duration(&format!("PT{max}S")),
            Ok(Duration::from_secs(max))
        );
        assert_eq!(
            parse_duration(&format!("PT{max}.999999999S")),
            Ok(Duration::new(max, 999_999_999))
        );
        assert!(dur_err("PT18446744073709551616S").contains("too large"));
        assert!(dur_err(&format!("PT{}H", max / 3600 + 1)).contains("too large"));
        assert!(dur_err(&format!("P{}D", max / 86_400 + 1)).contains("too large"));
        let hours = max / 3600;
        assert_eq!(
            parse_duration(&format!("PT{hours}H{}S", max - hours * 3600)),
            Ok(Duration::from_secs(max))
        );
        assert!(dur_err(&format!("PT1M{max}S")).contains("too large"));
    }

    // ---- format_duration_iso ----------------------------------------------

    #[test]
    fn format_duration_iso_is_canonical() {
        assert_eq!(format_duration_iso(Duration::ZERO), "PT0S");
        assert_eq!(format_duration_iso(Duration::from_secs(5400)), "PT1H30M");
        assert_eq!(format_duration_iso(Duration::from_millis(500)), "PT0.5S");
        assert_eq!(format_duration_iso(Duration::from_secs(10)), "PT10S");
        assert_eq!(format_duration_iso(Duration::from_secs(300)), "PT5M");
        assert_eq!(format_duration_iso(Duration::from_secs(3600)), "PT1H");
        assert_eq!(format_duration_iso(Duration::from_secs(86_400)), "PT24H");
        assert_eq!(format_duration_iso(Duration::from_secs(3661)), "PT1H1M1S");
        assert_eq!(format_duration_iso(Duration::from_secs(3601)), "PT1H1S");
        assert_eq!(
            format_duration_iso(Duration::new(60, 250_000_000)),
            "PT1M0.25S"
        );
        assert_eq!(format_duration_iso(Duration::new(0, 1)), "PT0.000000001S");
        assert_eq!(
            format_duration_iso(Duration::new(1, 120_000_000)),
            "PT1.12S"
        );
        assert_eq!(
            format_duration_iso(Duration::new(u64::MAX, 999_999_999)),
            "PT5124095576030431H15.999999999S"
        );
    }

    proptest! {
        #[test]
        fn prop_size_docker_round_trip(bytes in any::<u64>()) {
            prop_assert_eq!(parse_size(&format_size_docker(bytes)), Ok(bytes));
        }

        #[test]
        fn prop_size_units_scale(n in 1u64..=16_777_215, unit in prop::sample::select(vec![
            ("B", 1u64), ("KB", KIB), ("k", KIB), ("KiB", KIB), ("MB", MIB), ("m", MIB),
            ("M", MIB), ("MiB", MIB), ("GB", GIB), ("g", GIB), ("G", GIB), ("GiB", GIB),
            ("TB", TIB), ("t", TIB), ("TiB", TIB),
        ])) {
            prop_assert_eq!(parse_size(&format!("{n}{}", unit.0)), Ok(n * unit.1));
        }

        #[test]
        fn prop_size_never_panics(s in "\\PC{0,24}") {
            let _ = parse_size(&s);
        }

        #[test]
        fn prop_duration_round_trip(secs in any::<u64>(), nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            prop_assert_eq!(parse_duration(&format_duration_iso(d)), Ok(d));
        }

        #[test]
        fn prop_duration_never_panics(s in "[pPtT0-9.,+dDhHmMsSwWyY -]{0,16}|\\PC{0,16}") {
            let _ = parse_duration(&s);
        }
    }
}
