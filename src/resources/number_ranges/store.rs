//! SQL for number ranges: one row per tenant and type, seeded with the tenant.

use super::model::{NumberRange, Update};
use crate::domain::{numbering, time};
use crate::error::{ApiError, ApiResult};
use crate::http::list::{Filter, Page};
use crate::http::query::Query;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

fn from_row(r: &Row) -> rusqlite::Result<NumberRange> {
    Ok(NumberRange {
        range_type: r.get(0)?,
        format: r.get(1)?,
        next_number: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

/// One page of the tenant's ranges, optionally filtered by `type` / `type[]`.
pub fn list(
    conn: &Connection,
    tenant: &str,
    q: &Query,
    page: &Page,
) -> ApiResult<(Vec<NumberRange>, i64)> {
    let types: Vec<&str> = numbering::RANGES.iter().map(|(t, _, _)| *t).collect();
    let mut filter = Filter::for_tenant("tenant_id", tenant);
    filter.eq_enum(q, "type", "type", &types)?;
    let (items, total) = filter.fetch_page(
        conn,
        "number_ranges",
        "type, format, next_number, updated_at",
        "ORDER BY type",
        page,
        from_row,
    )?;
    Ok((items, total))
}

/// One range; 404 for a type kontor does not know (or a tenant without that range).
pub fn get(conn: &Connection, tenant: &str, range_type: &str) -> ApiResult<NumberRange> {
    conn.prepare_cached(
        "SELECT type, format, next_number, updated_at FROM number_ranges
         WHERE tenant_id = :tenant AND type = :type",
    )?
    .query_row(
        named_params! {":tenant": tenant, ":type": range_type},
        from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(&format!("Number range '{range_type}'")))
}

/// Applies a validated change. `max()` keeps the counter from shrinking even if a caller
/// skipped validation: a lower counter could only lead back to issued numbers.
pub fn update(
    conn: &Connection,
    tenant: &str,
    current: &NumberRange,
    change: &Update,
) -> ApiResult<NumberRange> {
    if change.is_empty() {
        return Ok(current.clone());
    }
    conn.prepare_cached(
        "UPDATE number_ranges
         SET format = coalesce(:format, format),
             next_number = max(next_number, coalesce(:next, next_number)),
             updated_at = :now
         WHERE tenant_id = :tenant AND type = :type
         RETURNING type, format, next_number, updated_at",
    )?
    .query_row(
        named_params! {
            ":format": change.format, ":next": change.next_number, ":now": time::now(),
            ":tenant": tenant, ":type": current.range_type,
        },
        from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(&format!("Number range '{}'", current.range_type)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn changed_format_never_reissues_a_number() {
        let conn = crate::db::memory();
        let (t, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let set = |format: &str, next: Option<i64>| {
            let current = get(&conn, &t, "invoice").unwrap();
            let change = Update {
                format: Some(format.into()),
                next_number: next,
            };
            update(&conn, &t, &current, &change).unwrap()
        };
        set("RE-1{number}", None);
        let first: Vec<String> = (0..3)
            .map(|_| numbering::next(&conn, &t, "invoice", day, None).unwrap())
            .collect();
        assert_eq!(first, ["RE-11", "RE-12", "RE-13"]);
        // With this format, counters 12 and 13 would render RE-12 and RE-13 again.
        let r = set("RE-{number}", Some(12));
        assert_eq!(r.next_number, 12);
        assert_eq!(
            numbering::next(&conn, &t, "invoice", day, None).unwrap(),
            "RE-14"
        );
        assert_eq!(get(&conn, &t, "invoice").unwrap().next_number, 15);
    }

    #[test]
    fn counter_never_shrinks_and_unknown_type_is_404() {
        let conn = crate::db::memory();
        let (t, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let current = get(&conn, &t, "offer").unwrap();
        let up = Update {
            format: None,
            next_number: Some(50),
        };
        assert_eq!(update(&conn, &t, &current, &up).unwrap().next_number, 50);
        let down = Update {
            format: None,
            next_number: Some(2),
        };
        assert_eq!(update(&conn, &t, &current, &down).unwrap().next_number, 50);
        assert!(matches!(get(&conn, &t, "nope"), Err(ApiError::NotFound(_))));
        let page = Page { page: 1, limit: 30 };
        let (all, total) = list(&conn, &t, &Query::parse(""), &page).unwrap();
        assert_eq!((all.len(), total), (10, 10));
    }
}
