//! A UTC instant in milliseconds, and the date formats the two outside systems use.
//!
//! Workfront writes two shapes: REST answers use a colon before the milliseconds
//! (`2017-03-24T17:00:00:000+0400`) and event payloads a dot (`2017-10-06T13:48:07.776-0600`).
//! Frame.io writes RFC 3339 (`2026-01-02T03:04:05.123456Z`). One parser reads all of them: it
//! checks their shape and hands jiff an RFC 3339 text (the calendar is jiff's).

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
        // As a civil date-time in UTC (jiff's civil range is years -9999 to 9999 whole; its
        // instants stop a day short of that). Beyond it a time is clamped to its end: no date
        // either service writes is out there.
        let epoch = jiff::civil::date(1970, 1, 1).at(0, 0, 0, 0);
        let civil = epoch
            .checked_add(jiff::SignedDuration::from_millis(self.0))
            .unwrap_or(if self.0 < 0 {
                jiff::civil::DateTime::MIN
            } else {
                jiff::civil::DateTime::MAX
            });
        civil.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
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

/// Checks the shape the module documentation names (jiff is more lenient: seconds, the offset's
/// minutes and the offset itself are optional in ISO 8601), makes Workfront's REST fraction
/// (`:000`) a dot and a missing offset `Z`, then lets jiff read it.
fn parse(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    let digits = |from: usize, len: usize| {
        b.get(from..from + len)
            .is_some_and(|p| p.iter().all(u8::is_ascii_digit))
    };
    let shaped = b.len() >= 19
        && digits(0, 4)
        && b[4] == b'-'
        && digits(5, 2)
        && b[7] == b'-'
        && digits(8, 2)
        && matches!(b[10], b'T' | b' ')
        && digits(11, 2)
        && b[13] == b':'
        && digits(14, 2)
        && b[16] == b':'
        && digits(17, 2);
    if !shaped || !s.is_ascii() {
        return None;
    }
    let mut text = String::with_capacity(s.len() + 1);
    text.push_str(&s[..19]);
    let mut rest = &s[19..];
    if let Some(fraction) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('.')) {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        text.push('.');
        // jiff reads nanoseconds at most; further digits change nothing at millisecond precision.
        text.push_str(&fraction[..n.min(9)]);
        rest = &fraction[n..];
    }
    match rest {
        "" | "Z" | "z" => text.push('Z'),
        offset => {
            let sign = matches!(offset.as_bytes()[0], b'+' | b'-');
            let hhmm: String = offset[1..].chars().filter(|c| *c != ':').collect();
            if !sign || hhmm.len() != 4 || !hhmm.bytes().all(|c| c.is_ascii_digit()) || offset[1..].len() > 5 {
                return None;
            }
            text.push_str(offset);
        }
    }
    let instant: jiff::Timestamp = text.parse().ok()?;
    // Whole milliseconds, rounded down (before 1970 as after).
    i64::try_from(instant.as_nanosecond().div_euclid(1_000_000))
        .ok()
        .map(Timestamp)
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
        check("1969-12-31T23:59:59.9995Z", "1969-12-31T23:59:59.999Z");
        check("2017-03-24 17:00:00:000+0000", "2017-03-24T17:00:00.000Z");
        check("2017-03-24T17:00:00", "2017-03-24T17:00:00.000Z");
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "yesterday",
            "2017-13-01T00:00:00Z",
            "2017-03-24T17:00:00:000+04",
            "2017-03-24T17:00",
            "2017-02-30T00:00:00Z",
            "2017-03-24T17:00:00.Z",
            "2017-03-24T17:00:00+05:3:0",
            "2017-03-24T17:00:00Z[Europe/Paris]",
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
