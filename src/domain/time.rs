//! Timestamps: RFC 3339 UTC text in storage and responses; accepts any offset or `Z` on input.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub fn now() -> String {
    format(Utc::now())
}

/// Parses `2026-01-31T10:00:00+01:00` or `...Z`; `None` when it is not RFC 3339.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_offset_form() {
        let t = parse("2026-01-31T11:00:00+01:00").unwrap();
        assert_eq!(format(t), "2026-01-31T10:00:00+00:00");
        assert_eq!(
            format(parse("2026-01-31T10:00:00Z").unwrap()),
            "2026-01-31T10:00:00+00:00"
        );
        assert!(parse("2026-01-31").is_none());
    }
}
