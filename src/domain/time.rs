//! Timestamps: RFC 3339 UTC text in storage and responses; accepts any offset or `Z` on input.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

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

/// A calendar date written exactly `YYYY-MM-DD` (chrono alone would also take `2026-1-5`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
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

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-1-5"), None);
        assert_eq!(parse_date("2026-01-05T00:00:00Z"), None);
    }
}
