//! `GET /customers`: the filters of reference 05 §1.2 (plus kontor's `status` and sorting)
//! turned into one WHERE clause with named parameters, and one page of read models.

use super::model::{Customer, STATUSES};
use super::store::{assemble_page, map, COLUMNS, FROM};
use crate::error::ApiResult;
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use rusqlite::Connection;
use serde_json::Value;

/// Exact-match filters: query key -> column.
const EXACT: &[(&str, &str)] = &[
    ("companyName", "c.company_name"),
    ("customerNumber", "c.customer_number"),
    ("datevId", "c.datev_id"),
    ("firstName", "c.first_name"),
    ("lastName", "c.last_name"),
    ("vatId", "c.vat_id"),
];

/// `createdAt` has second precision; appending the (time-ordered, UUID v7) id keeps customers
/// created in the same second in creation order in both directions.
const SORTABLE: &[(&str, &str)] = &[
    ("createdAt", "c.created_at || c.id"),
    ("customerNumber", "c.customer_number"),
];

/// The WHERE clause for a query; unknown enum values and malformed flags are 400s.
pub fn filter(q: &Query, tenant: &str) -> ApiResult<Filter> {
    let mut f = Filter::for_tenant("c.tenant_id", tenant);
    for (key, column) in EXACT {
        f.eq(q, key, column);
    }
    f.eq_enum(q, "status", "c.status", STATUSES)?;
    if let Some(valid) = q.flag("isVatIdValid")? {
        f.push("c.is_vat_id_valid = {}", i64::from(valid));
    }
    let emails = q.all("emailAddresses.email");
    if !emails.is_empty() {
        // One JSON-array parameter serves one value or many (`emailAddresses.email[]=`).
        f.push(
            "EXISTS (SELECT 1 FROM customer_email_addresses e WHERE e.customer_id = c.id
                AND e.email COLLATE NOCASE IN (SELECT value FROM json_each({})))",
            Value::from(emails).to_string(),
        );
    }
    // kontor has no customer groups and no partners yet, so no customer can match a filter
    // on them; answering an empty page is truthful where ignoring the filter would not be.
    if !q.all("customerGroup.name").is_empty() || !q.all("partner").is_empty() {
        f.raw("0");
    }
    if let Some(text) = q.get("search").map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", escape_like(text));
        f.push(
            r"(c.customer_number LIKE {} ESCAPE '\' OR c.first_name LIKE {} ESCAPE '\'
              OR c.last_name LIKE {} ESCAPE '\'
              OR (c.first_name || ' ' || c.last_name) LIKE {} ESCAPE '\'
              OR c.company_name LIKE {} ESCAPE '\'
              OR EXISTS (SELECT 1 FROM customer_email_addresses e
                         WHERE e.customer_id = c.id AND e.email LIKE {} ESCAPE '\'))",
            pattern,
        );
    }
    Ok(f)
}

/// `%`, `_` and `\` in a search term match themselves.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// One page of customers and the total count for the query.
pub fn list(
    conn: &Connection,
    tenant: &str,
    q: &Query,
    page: &Page,
) -> ApiResult<(Vec<Customer>, i64)> {
    let f = filter(q, tenant)?;
    let order = order_by(q, SORTABLE, "c.created_at ASC, c.id ASC")?;
    let where_sql = f.where_sql();
    let params = f.params();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM customers c {where_sql}"))?
        .query_row(params.as_slice(), |r| r.get(0))?;
    if page.limit == 0 || total <= page.offset() {
        return Ok((Vec::new(), total));
    }
    let limit = i64::from(page.limit);
    let offset = page.offset();
    let mut all = params.clone();
    all.push((":limit", &limit));
    all.push((":offset", &offset));
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} {FROM} {where_sql} {order} LIMIT :limit OFFSET :offset"
        ))?
        .query_map(all.as_slice(), map)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((assemble_page(conn, tenant, rows)?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn unknown_status_is_a_bad_request() {
        assert!(filter(&Query::parse("status=STATUS_GONE"), "t").is_err());
        assert!(filter(&Query::parse("isVatIdValid=maybe"), "t").is_err());
        let f = filter(&Query::parse("status[]=STATUS_ACTIVE&search=x"), "t").unwrap();
        assert!(f.where_sql().contains("c.status = :p1"));
    }
}
