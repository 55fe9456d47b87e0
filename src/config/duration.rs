//! Durations as admins write them in the config: `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"1d"`, `"1h30m"`.

use std::time::Duration;

/// A text that is not a duration (or too long a one); its `Display` says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration; write e.g. \"500ms\", \"30s\", \"5m\", \"2h\" or \"1h30m\"")]
pub struct NotADuration(String);

/// Parses a human duration.
pub fn parse_duration(text: &str) -> Result<Duration, NotADuration> {
    let text = text.trim();
    let expected = || NotADuration(text.to_owned());
    if text.is_empty() {
        return Err(expected());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(expected());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| expected())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(1),
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            "d" => Duration::from_secs(86_400),
            _ => return Err(expected()),
        };
        rest = &rest[unit_len..];
        total = unit
            .checked_mul(u32::try_from(value).map_err(|_| expected())?)
            .and_then(|d| total.checked_add(d))
            .ok_or_else(expected)?;
    }
    Ok(total)
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
    }

    #[test]
    fn refuses_the_rest_with_an_example() {
        for bad in ["", "30", "s", "30 s", "-1s", "1.5s", "30sec", "99999999999h"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.to_string().contains("e.g."), "{bad}: {err}");
        }
    }
}
