//! Dates as the two APIs write them, with the `time` crate: the sandbox keeps its own
//! implementation rather than the daemon's `timestamp.rs`, so a mistake in the daemon's reading of
//! a date shape is not repeated here where it would go unnoticed.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

pub use time::OffsetDateTime as Date;

/// Workfront's REST shape: `2017-03-24T17:00:00:000+0000`.
const WORKFRONT_REST: &[time::format_description::BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second]:[subsecond digits:3][offset_hour sign:mandatory][offset_minute]"
);

/// Now, in UTC.
pub fn now() -> Date {
    OffsetDateTime::now_utc()
}

/// `at` in Workfront's REST shape, in UTC.
pub fn workfront_rest(at: Date) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(WORKFRONT_REST)
        .expect("a date within years 0..=9999 formats")
}

/// `at` as Frame.io writes it: RFC 3339 in UTC, with milliseconds.
pub fn frameio(at: Date) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    let at = at.replace_nanosecond(at.millisecond() as u32 * 1_000_000).unwrap_or(at);
    at.format(&Rfc3339).expect("a date within years 0..=9999 formats")
}

/// A date a client sent in a `lastUpdateDate` filter: RFC 3339 (what the daemon sends) or
/// Workfront's REST shape.
pub fn parse(text: &str) -> Option<Date> {
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, WORKFRONT_REST))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_round_trip() {
        let at = parse("2026-11-23T10:00:00:123+0000").unwrap();
        assert_eq!(workfront_rest(at), "2026-11-23T10:00:00:123+0000");
        assert_eq!(frameio(at), "2026-11-23T10:00:00.123Z");
        assert_eq!(parse("2026-11-23T10:00:00.123Z"), Some(at));
        assert_eq!(parse("2026-11-23T11:00:00:123+0100"), Some(at));
        assert_eq!(parse("yesterday"), None);
    }
}
