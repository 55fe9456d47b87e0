//! A UTC instant in milliseconds, and the date formats the two outside systems use.
//!
//! Workfront writes two shapes: REST answers use a colon before the milliseconds
//! (`2017-03-24T17:00:00:000+0400`) and event payloads a dot (`2017-10-06T13:48:07.776-0600`).
//! Frame.io writes RFC 3339 (`2026-01-02T03:04:05.123456Z`). One lenient parser reads all of them;
//! the calendar arithmetic is Howard Hinnant's `days_from_civil`, so no date crate is needed.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable date {value:?}: expected e.g. 2017-03-24T17:00:00:000+0400 or 2017-10-06T13:48:07.776-0600")]
pub struct DateError {
    value: String,
}

impl Timestamp {
    pub fn now() -> Self {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Self(since.as_millis() as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.as_millis() as i64))
    }

    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_millis() as i64))
    }

    /// Time from `self` until `later`, zero when `later` is not later.
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0).max(0) as u64)
    }

    /// Parses any of the date shapes named in the module documentation.
    pub fn parse(value: &str) -> Result<Self, DateError> {
        parse(value.trim()).ok_or_else(|| DateError {
            value: value.chars().take(64).collect(),
        })
    }

    /// `2020-05-13T18:18:37.255Z`: the form Workfront's own sync guide uses in a
    /// `lastUpdateDate_Mod=gte` filter.
    pub fn to_iso_utc(self) -> String {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (y, m, d) = civil_from_days(days);
        let (h, min, s, ms) = (
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        );
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso_utc())
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_iso_utc())
    }
}

fn parse(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    // Fraction: Workfront REST uses ':', everyone else '.'; Frame.io may send microseconds.
    if i < b.len() && matches!(b[i], b'.' | b':') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() {
            return None;
        }
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = first3.parse().ok()?;
    }
    let offset_minutes = match &s[i..] {
        "" | "Z" | "z" => 0,
        rest => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let hh: i64 = digits[..2].parse().ok()?;
            let mm: i64 = digits[2..].parse().ok()?;
            sign * (hh * 60 + mm)
        }
    };
    let days = days_from_civil(year, month, day);
    let local = ((days * 24 + hour) * 60 + minute) * 60 + second;
    Some(Timestamp((local - offset_minutes * 60) * 1000 + millis))
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected_utc: &str) {
        let ts = Timestamp::parse(input).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ts.to_iso_utc(), expected_utc, "input {input}");
    }

    #[test]
    fn reads_both_workfront_shapes_and_rfc3339() {
        check("2017-03-24T17:00:00:000+0400", "2017-03-24T13:00:00.000Z");
        check("2017-10-06T13:48:07.776-0600", "2017-10-06T19:48:07.776Z");
        check("2020-05-13T18:18:37.255Z", "2020-05-13T18:18:37.255Z");
        check("2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123Z");
        check("2026-01-02T03:04:05+05:30", "2026-01-01T21:34:05.000Z");
        check("2024-02-29T23:59:59:999-0000", "2024-02-29T23:59:59.999Z");
        check("1969-12-31T23:59:59.000Z", "1969-12-31T23:59:59.000Z");
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "2017-13-01T00:00:00Z",
            "2017-03-24T17:00:00:000+04",
            "2017-03-24T17:00",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for ms in [0i64, 1_700_000_000_123, 951_782_400_000, -1] {
            let ts = Timestamp(ms);
            assert_eq!(Timestamp::parse(&ts.to_iso_utc()).unwrap(), ts);
            // Workfront's REST shape: "YYYY-MM-DDTHH:MM:SS:mmm+0000".
            let iso = ts.to_iso_utc();
            let rest = format!("{}:{}+0000", &iso[..19], &iso[20..23]);
            assert_eq!(Timestamp::parse(&rest).unwrap(), ts);
        }
    }
}
