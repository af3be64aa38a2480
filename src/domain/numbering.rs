//! Number ranges: formats with placeholders, and atomic assignment that never reissues a number.

use crate::db::bind::ExecuteNamed;
use crate::error::{ApiError, ApiResult};
use chrono::{Datelike, NaiveDate};
use rusqlite::{named_params, Connection};

/// `(type, default format, first number)` of every range a tenant has.
pub const RANGES: &[(&str, &str, i64)] = &[
    ("customer", "KD-{number:6}", 1),
    ("subscription", "S-{number:8}", 1),
    ("invoice", "RE-{number:10}", 1),
    ("credit_note", "GS-{number:10}", 1),
    ("cancellation", "ST-{number:10}", 1),
    ("dunning", "MA-{number:8}", 1),
    ("payment", "PAY-{number:8}", 1),
    ("offer", "AN-{number:8}", 1),
    ("sepa_mandate", "MNDT-{yearLong}-{number:4}", 1),
    // DATEV debtor accounts live in 10000..69999.
    ("datev_debtor", "{number}", 10000),
];

pub fn is_range_type(t: &str) -> bool {
    RANGES.iter().any(|(r, _, _)| *r == t)
}

const MAX_FORMAT_LEN: usize = 100;
const PLACEHOLDERS: &[&str] = &["day", "month", "year", "yearLong", "customerNumber"];

/// Checks a format: known placeholders only, exactly one counter, at most 100 characters.
pub fn validate_format(format: &str) -> Result<(), String> {
    if format.chars().count() > MAX_FORMAT_LEN {
        return Err(format!(
            "The format must have {MAX_FORMAT_LEN} characters or less."
        ));
    }
    let mut counters = 0;
    let mut rest = format;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            return Err("The format has an unclosed '{'.".into());
        };
        let name = &rest[start + 1..start + len];
        if name == "number" {
            counters += 1;
        } else if let Some(width) = name.strip_prefix("number:") {
            match width.parse::<u8>() {
                Ok(1..=20) => counters += 1,
                _ => {
                    return Err(format!(
                        "The counter width in '{{{name}}}' must be 1 to 20."
                    ))
                }
            }
        } else if !PLACEHOLDERS.contains(&name) {
            return Err(format!("Unknown placeholder '{{{name}}}'."));
        }
        rest = &rest[start + len + 1..];
    }
    if counters != 1 {
        return Err("The format must contain {number} or {number:N} exactly once.".into());
    }
    Ok(())
}

/// Ranges whose numbers are not documents of a customer, so `{customerNumber}` would expand to
/// nothing (for `customer` it would even refer to the number being made).
const WITHOUT_CUSTOMER: &[&str] = &["customer", "datev_debtor"];

/// `validate_format` plus the rules of one range type: DATEV debtor numbers are account
/// numbers (digits only), and `{customerNumber}` only exists for documents of a customer.
pub fn validate_format_for(range: &str, format: &str) -> Result<(), String> {
    validate_format(format)?;
    if WITHOUT_CUSTOMER.contains(&range) && format.contains("{customerNumber}") {
        return Err(format!(
            "The placeholder '{{customerNumber}}' is not available for the '{range}' range."
        ));
    }
    if range == "datev_debtor" {
        let literal = render(format, 1, NaiveDate::default(), None);
        if !literal.chars().all(|c| c.is_ascii_digit()) {
            return Err("DATEV debtor numbers must consist of digits only.".into());
        }
    }
    Ok(())
}

/// Expands a (valid) format for one counter value on one document date.
pub fn render(
    format: &str,
    counter: i64,
    date: NaiveDate,
    customer_number: Option<&str>,
) -> String {
    let mut out = String::with_capacity(format.len() + 12);
    let mut rest = format;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            // Unvalidated input: keep the dangling text literally (and only once).
            rest = &rest[start..];
            break;
        };
        let name = &rest[start + 1..start + len];
        match name {
            "number" => out.push_str(&counter.to_string()),
            "day" => out.push_str(&format!("{:02}", date.day())),
            "month" => out.push_str(&format!("{:02}", date.month())),
            "year" => out.push_str(&format!("{:02}", date.year() % 100)),
            "yearLong" => out.push_str(&format!("{:04}", date.year())),
            "customerNumber" => out.push_str(customer_number.unwrap_or("")),
            other => {
                let width = other
                    .strip_prefix("number:")
                    .and_then(|w| w.parse::<usize>().ok())
                    .unwrap_or(1);
                out.push_str(&format!("{counter:0width$}"));
            }
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Records a number as issued; `false` when it was issued before (and so is taken).
pub fn reserve(conn: &Connection, tenant: &str, range: &str, number: &str) -> ApiResult<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO issued_numbers (tenant_id, range_type, number, issued_at)
             VALUES (:tenant, :range, :number, :now)",
        )?
        .execute_named(named_params! {
            ":tenant": tenant, ":range": range, ":number": number,
            ":now": crate::domain::time::now(),
        })?;
    Ok(inserted == 1)
}

/// Takes the next number of a range in the caller's transaction. The counter moves past
/// numbers that were issued before (e.g. given by hand), so a number is never handed out twice.
///
/// Read, then write the counter: the caller's write transaction holds the write lock in
/// between, and `UPDATE ... RETURNING` would cost a temporary table on every call.
pub fn next(
    conn: &Connection,
    tenant: &str,
    range: &str,
    date: NaiveDate,
    customer_number: Option<&str>,
) -> ApiResult<String> {
    let (format, first): (String, i64) = conn
        .prepare_cached(
            "SELECT format, next_number FROM number_ranges
             WHERE tenant_id = :tenant AND type = :range",
        )?
        .query_row(named_params! {":tenant": tenant, ":range": range}, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => {
                ApiError::Internal(format!("number range {range} missing for tenant {tenant}"))
            }
            e => e.into(),
        })?;
    // Bounded: a counter can only collide with numbers that were reserved by hand.
    for counter in first..first + 10_000 {
        let number = render(&format, counter, date, customer_number);
        if reserve(conn, tenant, range, &number)? {
            conn.prepare_cached(
                "UPDATE number_ranges SET next_number = :next
                 WHERE tenant_id = :tenant AND type = :range",
            )?
            .execute_named(
                named_params! {":next": counter + 1, ":tenant": tenant, ":range": range},
            )?;
            return Ok(number);
        }
    }
    Err(ApiError::Conflict(format!(
        "The number range '{range}' produces only numbers that were issued before; change its format."
    )))
}

/// Creates a tenant's ranges with their default formats.
pub fn seed(conn: &Connection, tenant: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "INSERT INTO number_ranges (tenant_id, type, format, next_number, updated_at)
         VALUES (:tenant, :type, :format, :next, :now)",
    )?;
    for (t, format, first) in RANGES {
        stmt.execute(named_params! {
            ":tenant": tenant, ":type": t, ":format": format, ":next": first,
            ":now": crate::domain::time::now(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn renders_placeholders() {
        assert_eq!(
            render("RE-{yearLong}-{number:5}", 1, d(2024, 3, 9), None),
            "RE-2024-00001"
        );
        assert_eq!(
            render("{day}.{month}.{year}/{number}", 42, d(2024, 3, 9), None),
            "09.03.24/42"
        );
        assert_eq!(
            render(
                "{customerNumber}-{number:2}",
                7,
                d(2024, 1, 1),
                Some("KD-1")
            ),
            "KD-1-07"
        );
    }

    #[test]
    fn validates_formats() {
        assert!(validate_format("RE-{number:10}").is_ok());
        assert!(validate_format("RE-").is_err());
        assert!(validate_format("{number}{number}").is_err());
        assert!(validate_format("{number:21}").is_err());
        assert!(validate_format("{number}-{foo}").is_err());
        assert!(validate_format("{number").is_err());
    }

    #[test]
    fn renders_dangling_brace_once() {
        assert_eq!(render("A-{number}-{x", 5, d(2024, 1, 1), None), "A-5-{x");
    }

    #[test]
    fn validates_formats_per_range() {
        assert!(validate_format_for("invoice", "{customerNumber}-{number}").is_ok());
        assert!(validate_format_for("customer", "{customerNumber}-{number}").is_err());
        assert!(validate_format_for("datev_debtor", "{number}").is_ok());
        assert!(validate_format_for("datev_debtor", "1{number:4}").is_ok());
        assert!(validate_format_for("datev_debtor", "D-{number}").is_err());
        assert!(validate_format_for("invoice", "RE-").is_err());
    }

    #[test]
    fn format_change_never_reissues() {
        let conn = crate::db::memory();
        conn.execute_batch(
            "INSERT INTO tenants VALUES ('t', 'T', 't', '', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');",
        )
        .unwrap();
        seed(&conn, "t").unwrap();
        conn.execute(
            "UPDATE number_ranges SET format = 'RE-1{number}' WHERE tenant_id = 't' AND type = 'invoice'",
            [],
        )
        .unwrap();
        let day = d(2026, 1, 1);
        let issued: Vec<String> = (0..3)
            .map(|_| next(&conn, "t", "invoice", day, None).unwrap())
            .collect();
        assert_eq!(issued, ["RE-11", "RE-12", "RE-13"]);
        // New format whose counter 12 and 13 would render numbers issued above.
        conn.execute(
            "UPDATE number_ranges SET format = 'RE-{number}', next_number = 12
             WHERE tenant_id = 't' AND type = 'invoice'",
            [],
        )
        .unwrap();
        assert_eq!(next(&conn, "t", "invoice", day, None).unwrap(), "RE-14");
        assert_eq!(next(&conn, "t", "invoice", day, None).unwrap(), "RE-15");
    }

    #[test]
    fn skips_reserved_numbers_and_never_reissues() {
        let conn = crate::db::memory();
        conn.execute_batch(
            "INSERT INTO tenants VALUES ('t', 'T', 't', '', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');",
        )
        .unwrap();
        seed(&conn, "t").unwrap();
        let day = d(2026, 1, 1);
        assert!(reserve(&conn, "t", "customer", "KD-000002").unwrap());
        assert_eq!(
            next(&conn, "t", "customer", day, None).unwrap(),
            "KD-000001"
        );
        // 2 was taken by hand: the counter moves on to 3.
        assert_eq!(
            next(&conn, "t", "customer", day, None).unwrap(),
            "KD-000003"
        );
        assert!(!reserve(&conn, "t", "customer", "KD-000003").unwrap());
    }
}
