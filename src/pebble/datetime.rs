//! Dates as Kestra's date filters see them (`AbstractDate`): an input (epoch seconds, or an
//! ISO-8601 string, or a string in an `existingFormat`) becomes an instant, shown in a time zone
//! (`timeZone` argument, else the host's) through a Java `DateTimeFormatter` pattern
//! (`yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX`) or one of Kestra's named formats (`iso`, `sql`, ...).
//! English names only (Java's default locale on a Kestra server).

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::{OffsetName, Tz};
use std::fmt::Write as _;
use std::str::FromStr;

/// A time zone: a region (`Europe/Paris`, `UTC`) or a fixed offset (`+02:00`).
#[derive(Debug, Clone, Copy)]
pub enum Zone {
    Region(Tz),
    Fixed(FixedOffset),
}

/// Java's `ZoneId.of`.
pub fn zone(id: &str) -> Result<Zone, String> {
    if id == "Z" {
        return Ok(Zone::Fixed(
            FixedOffset::east_opt(0).unwrap_or_else(|| Utc.fix()),
        ));
    }
    if let Some(off) = parse_offset(id) {
        return Ok(Zone::Fixed(off));
    }
    for prefix in ["UTC", "GMT", "UT"] {
        if let Some(rest) = id.strip_prefix(prefix)
            && let Some(off) = parse_offset(rest)
        {
            return Ok(Zone::Fixed(off));
        }
    }
    Tz::from_str(id)
        .map(Zone::Region)
        .map_err(|_| format!("unknown time zone `{id}`"))
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m, sec): (i32, i32, i32) = match digits.len() {
        1 | 2 => (digits.parse().ok()?, 0, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?, 0),
        6 => (
            digits[..2].parse().ok()?,
            digits[2..4].parse().ok()?,
            digits[4..].parse().ok()?,
        ),
        _ => return None,
    };
    let total: i32 = h * 3600 + m * 60 + sec;
    if h > 18 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * total)
}

/// An instant seen in a zone: what a formatter prints.
#[derive(Debug, Clone)]
pub struct Zoned {
    pub instant: DateTime<Utc>,
    pub local: NaiveDateTime,
    pub offset: i32,
    pub zone_id: String,
    pub zone_abbr: String,
    pub zone: Zone,
}

pub fn at(instant: DateTime<Utc>, zone: Zone) -> Zoned {
    match zone {
        Zone::Region(tz) => {
            let dt = instant.with_timezone(&tz);
            let off = dt.offset();
            Zoned {
                instant,
                local: dt.naive_local(),
                offset: off.fix().local_minus_utc(),
                zone_id: tz.name().to_string(),
                zone_abbr: off.abbreviation().unwrap_or(tz.name()).to_string(),
                zone,
            }
        }
        Zone::Fixed(f) => {
            let dt = instant.with_timezone(&f);
            let id = offset_text(f.local_minus_utc(), true, true, true);
            Zoned {
                instant,
                local: dt.naive_local(),
                offset: f.local_minus_utc(),
                zone_abbr: id.clone(),
                zone_id: id,
                zone,
            }
        }
    }
}

/// A local date-time placed in a zone (the earlier instant at a DST overlap, as Java does).
pub fn from_local(local: NaiveDateTime, zone: Zone) -> Result<DateTime<Utc>, String> {
    let r = match zone {
        Zone::Region(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .map(|d| d.to_utc()),
        Zone::Fixed(f) => f.from_local_datetime(&local).earliest().map(|d| d.to_utc()),
    };
    // In a DST gap Java moves forward by the gap's length.
    r.or_else(|| match zone {
        Zone::Region(tz) => tz
            .from_local_datetime(&(local + Duration::hours(1)))
            .earliest()
            .map(|d| d.to_utc()),
        Zone::Fixed(_) => None,
    })
    .ok_or_else(|| format!("{local} does not exist in that time zone"))
}

/// `+01:00`, or `Z` for zero when `z` is set.
fn offset_text(secs: i32, colon: bool, z: bool, minutes: bool) -> String {
    if secs == 0 && z {
        return "Z".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    let mut out = format!("{sign}{h:02}");
    if minutes || m != 0 || s != 0 {
        if colon {
            out.push(':');
        }
        let _ = write!(out, "{m:02}");
    }
    if s != 0 {
        if colon {
            out.push(':');
        }
        let _ = write!(out, "{s:02}");
    }
    out
}

/// Parses the input of a date filter: epoch seconds (integer), or a string, ISO-8601 unless
/// `existing` (a Java pattern or a named format) says otherwise.
pub fn parse_input(
    text: &str,
    existing: Option<&str>,
    zone: Zone,
) -> Result<DateTime<Utc>, String> {
    if existing == Some("rfc_1123_date_time") {
        return DateTime::parse_from_rfc2822(text.trim())
            .map(|d| d.to_utc())
            .map_err(|e| format!("`{text}` is not an RFC 1123 date: {e}"));
    }
    if let Some(fmt) = existing {
        let pattern = named_pattern(fmt).unwrap_or(fmt);
        return parse_with(text, pattern, zone);
    }
    let t = text.trim();
    // `2024-01-01T10:00:00+01:00[Europe/Paris]`: the offset fixes the instant.
    let (t, bracket_zone) = match t.find('[') {
        Some(i) if t.ends_with(']') => (&t[..i], Some(&t[i + 1..t.len() - 1])),
        _ => (t, None),
    };
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.to_utc());
    }
    for f in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Ok(d.to_utc());
        }
    }
    if let Some(zs) = t.strip_suffix('Z') {
        for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(n) = NaiveDateTime::parse_from_str(zs, f) {
                return Ok(n.and_utc());
            }
        }
    }
    let zone = match bracket_zone {
        Some(z) => self::zone(z)?,
        None => zone,
    };
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return from_local(n, zone);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return from_local(d.and_hms_opt(0, 0, 0).unwrap_or_default(), zone);
    }
    Err(format!(
        "`{text}` is not an ISO-8601 date (give `existingFormat` for other forms)"
    ))
}

fn parse_with(text: &str, pattern: &str, zone: Zone) -> Result<DateTime<Utc>, String> {
    let fmt = java_to_strftime(pattern)?;
    if let Ok(d) = DateTime::parse_from_str(text, &fmt) {
        return Ok(d.to_utc());
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(text, &fmt) {
        return from_local(n, zone);
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, &fmt) {
        return from_local(d.and_hms_opt(0, 0, 0).unwrap_or_default(), zone);
    }
    Err(format!(
        "`{text}` does not match the date format `{pattern}`"
    ))
}

/// Translates a Java pattern into chrono's strftime syntax, for parsing.
fn java_to_strftime(p: &str) -> Result<String, String> {
    let mut out = String::new();
    for item in pattern_items(p)? {
        match item {
            Item::Lit(s) => out.push_str(&s.replace('%', "%%")),
            Item::Field(c, n) => out.push_str(match (c, n) {
                ('y' | 'u', 2) => "%y",
                ('y' | 'u', _) => "%Y",
                ('M' | 'L', 1 | 2) => "%m",
                ('M' | 'L', 3) => "%b",
                ('M' | 'L', _) => "%B",
                ('d', _) => "%d",
                ('D', _) => "%j",
                ('H', _) | ('k', _) => "%H",
                ('h', _) | ('K', _) => "%I",
                ('m', _) => "%M",
                ('s', _) => "%S",
                ('S', 3) => "%3f",
                ('S', 6) => "%6f",
                ('S', 9) => "%9f",
                ('S', _) | ('n', _) => "%f",
                ('a', _) => "%p",
                ('E', 1..=3) => "%a",
                ('E', _) => "%A",
                ('X' | 'x', 3) | ('Z', 5) | ('X' | 'x', 5) => "%:z",
                ('X' | 'x' | 'Z', _) => "%z",
                (c, _) => {
                    return Err(format!(
                        "pattern letter `{c}` cannot be used to parse a date"
                    ));
                }
            }),
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Item {
    Lit(String),
    Field(char, usize),
}

fn pattern_items(p: &str) -> Result<Vec<Item>, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; 'text' is literal text.
            if chars.get(i + 1) == Some(&'\'') {
                out.push(Item::Lit("'".into()));
                i += 2;
                continue;
            }
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated quote in date pattern `{p}`")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        lit.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Item::Lit(lit));
        } else if c.is_ascii_alphabetic() {
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            if !"GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZ".contains(c) {
                return Err(format!(
                    "unknown pattern letter `{c}` in date pattern `{p}`"
                ));
            }
            out.push(Item::Field(c, n));
            i += n;
        } else if c == '[' || c == ']' {
            // Optional sections: every field is available when formatting.
            i += 1;
        } else if c == '{' || c == '}' || c == '#' {
            return Err(format!("reserved character `{c}` in date pattern `{p}`"));
        } else {
            out.push(Item::Lit(c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Kestra's named formats, as Java patterns.
fn named_pattern(name: &str) -> Option<&'static str> {
    Some(match name {
        "iso" => "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
        "iso_sec" => "yyyy-MM-dd'T'HH:mm:ssXXX",
        "sql" => "yyyy-MM-dd HH:mm:ss.SSSSSS",
        "sql_seq" => "yyyy-MM-dd HH:mm:ss",
        "iso_local_date" => "yyyy-MM-dd",
        "iso_ordinal_date" => "yyyy-DDDXXX",
        "iso_week_date" => "YYYY-'W'ww-eXXX",
        "rfc_1123_date_time" => "EEE, d MMM yyyy HH:mm:ss 'GMT'",
        _ => return None,
    })
}

/// Formats `z` with a Java pattern or one of Kestra's named formats.
pub fn format(z: &Zoned, format: &str) -> Result<String, String> {
    let iso_time = |z: &Zoned| {
        let mut s = format!(
            "{:02}:{:02}:{:02}",
            z.local.hour(),
            z.local.minute(),
            z.local.second()
        );
        let nanos = z.local.nanosecond() % 1_000_000_000;
        if nanos != 0 {
            let f = format!("{nanos:09}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s
    };
    let date = |z: &Zoned| {
        format!(
            "{:04}-{:02}-{:02}",
            z.local.year(),
            z.local.month(),
            z.local.day()
        )
    };
    let off = |z: &Zoned| offset_text(z.offset, true, true, true);
    Ok(match format {
        "iso_local_time" => iso_time(z),
        "iso_local_date_time" => format!("{}T{}", date(z), iso_time(z)),
        "iso_offset_date_time" => format!("{}T{}{}", date(z), iso_time(z), off(z)),
        "iso_offset_time" | "iso_time" => format!("{}{}", iso_time(z), off(z)),
        "iso_date" | "iso_offset_date" => format!("{}{}", date(z), off(z)),
        "iso_zoned_date_time" | "iso_date_time" => {
            let mut s = format!("{}T{}{}", date(z), iso_time(z), off(z));
            if matches!(z.zone, Zone::Region(_)) {
                let _ = write!(s, "[{}]", z.zone_id);
            }
            s
        }
        "iso_instant" => {
            let u = z.instant.naive_utc();
            let mut s = format!(
                "{}T{:02}:{:02}:{:02}",
                u.date().format("%Y-%m-%d"),
                u.hour(),
                u.minute(),
                u.second()
            );
            let n = u.nanosecond() % 1_000_000_000;
            if n != 0 {
                let f = format!("{n:09}");
                let keep = if n.is_multiple_of(1_000_000) {
                    3
                } else if n.is_multiple_of(1000) {
                    6
                } else {
                    9
                };
                s.push('.');
                s.push_str(&f[..keep]);
            }
            s.push('Z');
            s
        }
        "full" | "long" | "medium" | "short" => {
            return Err(format!(
                "localized date style `{format}` is not implemented by dockhand; give a pattern"
            ));
        }
        _ => {
            let pattern = named_pattern(format).unwrap_or(format);
            format_pattern(z, pattern)?
        }
    })
}

fn pad(out: &mut String, v: i64, n: usize) {
    if v < 0 {
        let _ = write!(out, "-{:0n$}", -v, n = n);
    } else {
        let _ = write!(out, "{v:0n$}");
    }
}

fn format_pattern(z: &Zoned, pattern: &str) -> Result<String, String> {
    let mut out = String::new();
    let l = &z.local;
    for item in pattern_items(pattern)? {
        let (c, n) = match item {
            Item::Lit(s) => {
                out.push_str(&s);
                continue;
            }
            Item::Field(c, n) => (c, n),
        };
        match c {
            'G' => out.push_str(if n == 4 {
                "Anno Domini"
            } else if n == 5 {
                "A"
            } else {
                "AD"
            }),
            'u' | 'y' | 'Y' => {
                let year = if c == 'Y' {
                    l.iso_week().year()
                } else {
                    l.year()
                } as i64;
                if n == 2 {
                    pad(&mut out, year.rem_euclid(100), 2);
                } else {
                    pad(&mut out, year, n);
                }
            }
            'D' => pad(&mut out, l.ordinal() as i64, n),
            'M' | 'L' => match n {
                1 | 2 => pad(&mut out, l.month() as i64, n),
                3 => out.push_str(&MONTHS[l.month0() as usize][..3]),
                4 => out.push_str(MONTHS[l.month0() as usize]),
                _ => out.push_str(&MONTHS[l.month0() as usize][..1]),
            },
            'd' => pad(&mut out, l.day() as i64, n),
            'Q' | 'q' => {
                let q = l.month0() / 3 + 1;
                match n {
                    1 | 2 => pad(&mut out, q as i64, n),
                    3 => {
                        let _ = write!(out, "Q{q}");
                    }
                    _ => out.push_str(
                        ["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"]
                            [q as usize - 1],
                    ),
                }
            }
            'w' => pad(&mut out, l.iso_week().week() as i64, n),
            'W' => {
                let first = l
                    .with_day(1)
                    .map(|f| f.weekday().num_days_from_monday())
                    .unwrap_or(0);
                pad(&mut out, ((l.day() - 1 + first) / 7 + 1) as i64, n)
            }
            'E' | 'e' | 'c' => {
                let wd = l.weekday().num_days_from_monday() as usize;
                if (c == 'e' || c == 'c') && n <= 2 {
                    pad(&mut out, (wd + 1) as i64, n);
                } else {
                    match n {
                        1..=3 => out.push_str(&DAYS[wd][..3]),
                        4 => out.push_str(DAYS[wd]),
                        _ => out.push_str(&DAYS[wd][..1]),
                    }
                }
            }
            'F' => pad(&mut out, ((l.day() - 1) / 7 + 1) as i64, n),
            'a' => out.push_str(if l.hour() < 12 { "AM" } else { "PM" }),
            'B' => out.push_str(match l.hour() {
                6..=11 => "in the morning",
                12..=17 => "in the afternoon",
                18..=20 => "in the evening",
                _ => "at night",
            }),
            'h' => pad(&mut out, ((l.hour() + 11) % 12 + 1) as i64, n),
            'K' => pad(&mut out, (l.hour() % 12) as i64, n),
            'k' => pad(
                &mut out,
                (if l.hour() == 0 { 24 } else { l.hour() }) as i64,
                n,
            ),
            'H' => pad(&mut out, l.hour() as i64, n),
            'm' => pad(&mut out, l.minute() as i64, n),
            's' => pad(&mut out, l.second() as i64, n),
            'S' => {
                let f = format!("{:09}", l.nanosecond() % 1_000_000_000);
                if n <= 9 {
                    out.push_str(&f[..n]);
                } else {
                    out.push_str(&f);
                    out.push_str(&"0".repeat(n - 9));
                }
            }
            'A' => pad(
                &mut out,
                (l.num_seconds_from_midnight() as i64) * 1000 + (l.nanosecond() / 1_000_000) as i64,
                n,
            ),
            'n' => pad(&mut out, (l.nanosecond() % 1_000_000_000) as i64, n),
            'N' => pad(
                &mut out,
                l.num_seconds_from_midnight() as i64 * 1_000_000_000
                    + (l.nanosecond() % 1_000_000_000) as i64,
                n,
            ),
            'V' => out.push_str(&z.zone_id),
            'v' | 'z' => out.push_str(&z.zone_abbr),
            'O' => {
                if z.offset == 0 {
                    out.push_str("GMT");
                } else if n == 4 {
                    let _ = write!(out, "GMT{}", offset_text(z.offset, true, false, true));
                } else {
                    let sign = if z.offset < 0 { '-' } else { '+' };
                    let a = z.offset.abs();
                    let _ = write!(out, "GMT{sign}{}", a / 3600);
                    if a % 3600 != 0 {
                        let _ = write!(out, ":{:02}", a / 60 % 60);
                    }
                }
            }
            'X' | 'x' => {
                let zflag = c == 'X';
                out.push_str(&match n {
                    1 => offset_text(z.offset, false, zflag, false),
                    2 | 4 => offset_text(z.offset, false, zflag, true),
                    _ => offset_text(z.offset, true, zflag, true),
                });
            }
            'Z' => out.push_str(&match n {
                1..=3 => offset_text(z.offset, false, false, true),
                4 => {
                    if z.offset == 0 {
                        "GMT".into()
                    } else {
                        format!("GMT{}", offset_text(z.offset, true, false, true))
                    }
                }
                _ => offset_text(z.offset, true, true, true),
            }),
            other => return Err(format!("unknown pattern letter `{other}`")),
        }
    }
    Ok(out)
}

/// Java's `ChronoUnit` names, as `dateAdd` takes them.
pub fn add(
    instant: DateTime<Utc>,
    zone: Zone,
    amount: i64,
    unit: &str,
) -> Result<DateTime<Utc>, String> {
    let overflow = || format!("date out of range after adding {amount} {unit}");
    let by = |d: Option<Duration>| -> Result<DateTime<Utc>, String> {
        d.and_then(|d| instant.checked_add_signed(d))
            .ok_or_else(overflow)
    };
    let local_months = |months: i64| -> Result<DateTime<Utc>, String> {
        let z = at(instant, zone);
        let m = i32::try_from(months).map_err(|_| overflow())?;
        let l = if m >= 0 {
            z.local.checked_add_months(chrono::Months::new(m as u32))
        } else {
            z.local
                .checked_sub_months(chrono::Months::new(m.unsigned_abs()))
        };
        from_local(l.ok_or_else(overflow)?, zone)
    };
    let local_days = |days: i64| -> Result<DateTime<Utc>, String> {
        let z = at(instant, zone);
        let l = Duration::try_days(days)
            .and_then(|d| z.local.checked_add_signed(d))
            .ok_or_else(overflow)?;
        from_local(l, zone)
    };
    match unit.to_ascii_uppercase().as_str() {
        "NANOS" => by(Some(Duration::nanoseconds(amount))),
        "MICROS" => by(Some(Duration::microseconds(amount))),
        "MILLIS" => by(Duration::try_milliseconds(amount)),
        "SECONDS" => by(Duration::try_seconds(amount)),
        "MINUTES" => by(Duration::try_minutes(amount)),
        "HOURS" => by(Duration::try_hours(amount)),
        "HALF_DAYS" => by(amount.checked_mul(12).and_then(Duration::try_hours)),
        "DAYS" => local_days(amount),
        "WEEKS" => local_days(amount.checked_mul(7).ok_or_else(overflow)?),
        "MONTHS" => local_months(amount),
        "YEARS" => local_months(amount.checked_mul(12).ok_or_else(overflow)?),
        "DECADES" => local_months(amount.checked_mul(120).ok_or_else(overflow)?),
        "CENTURIES" => local_months(amount.checked_mul(1200).ok_or_else(overflow)?),
        "MILLENNIA" => local_months(amount.checked_mul(12000).ok_or_else(overflow)?),
        _ => Err(format!(
            "unknown time unit `{unit}` (NANOS, MICROS, MILLIS, SECONDS, MINUTES, HOURS, HALF_DAYS, DAYS, WEEKS, MONTHS, YEARS, DECADES, CENTURIES)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(s: &str, zone_id: &str) -> Zoned {
        at(
            DateTime::parse_from_rfc3339(s).unwrap().to_utc(),
            zone(zone_id).unwrap(),
        )
    }

    #[test]
    fn java_patterns() {
        let d = z("2013-09-08T16:19:12.123456Z", "Europe/Paris");
        assert_eq!(
            format(&d, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap(),
            "2013-09-08T18:19:12.123+02:00"
        );
        assert_eq!(
            format(&d, "EEE, d MMM yyyy h:mm a z").unwrap(),
            "Sun, 8 Sep 2013 6:19 PM CEST"
        );
        assert_eq!(
            format(&d, "iso").unwrap(),
            "2013-09-08T18:19:12.123456+02:00"
        );
        assert_eq!(
            format(&z("2013-09-08T16:19:12Z", "UTC"), "iso_sec").unwrap(),
            "2013-09-08T16:19:12Z"
        );
    }

    #[test]
    fn add_units() {
        let t = DateTime::parse_from_rfc3339("2024-01-31T10:00:00Z")
            .unwrap()
            .to_utc();
        let u = zone("UTC").unwrap();
        assert_eq!(
            add(t, u, 1, "MONTHS").unwrap().to_rfc3339(),
            "2024-02-29T10:00:00+00:00"
        );
        assert_eq!(
            add(t, u, -2, "HOURS").unwrap().to_rfc3339(),
            "2024-01-31T08:00:00+00:00"
        );
        assert!(add(t, u, 1, "FORTNIGHTS").is_err());
    }
}
