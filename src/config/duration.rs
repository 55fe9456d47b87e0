//! Durations as admins write them in the config: `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"1d"`,
//! `"1h30m"` (humantime's forms; `"30sec"` and `"2h 30min"` too).

use std::time::Duration;

/// A text that is not a duration (or too long a one); its `Display` says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration; write e.g. \"500ms\", \"30s\", \"5m\", \"2h\" or \"1h30m\"")]
pub struct NotADuration(String);

/// The longest duration any key takes: beyond it a value is a typo (and `Instant` arithmetic
/// could overflow).
const LONGEST: Duration = Duration::from_secs(10 * 365 * 86_400);

/// A duration field of the raw config, read by humantime: `#[serde(deserialize_with = ...)]`.
/// The error names the text and gives examples; the TOML layer names the key (`toml_error`).
pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// [`deserialize`] for an optional key.
pub(super) fn deserialize_option<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    deserialize(deserializer).map(Some)
}

/// Parses a human duration.
pub fn parse_duration(text: &str) -> Result<Duration, NotADuration> {
    let text = text.trim();
    humantime::parse_duration(text)
        .ok()
        .filter(|d| *d <= LONGEST)
        .ok_or_else(|| NotADuration(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_forms() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration(" 2h 30min "), Ok(Duration::from_secs(9000)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn refuses_the_rest_with_an_example() {
        for bad in ["", "30", "s", "-1s", "soon", "99999999999h"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.to_string().contains("e.g."), "{bad}: {err}");
        }
    }
}
