//! SQL for billing groups, scoped to one tenant, plus the lookups the subscription slice and
//! the billing engine use (a group of a customer, the first period end of an item).

use super::align::Schedule;
use super::model::{BillingGroup, BillingGroupData};
use crate::domain::ids::new_id;
use crate::domain::period::Interval;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{Filter, Page};
use chrono::NaiveDate;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

const COLUMNS: &str =
    "id, customer_id, name, type, custom_day, custom_month, created_at, updated_at";

fn raw(r: &Row) -> rusqlite::Result<BillingGroup> {
    Ok(BillingGroup {
        id: r.get(0)?,
        customer: r.get(1)?,
        name: r.get(2)?,
        kind: r.get(3)?,
        custom_day: r.get(4)?,
        custom_month: r.get(5)?,
        subscriptions: vec![],
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// Fills `subscriptions`: the ids of the tenant's subscriptions in the group, oldest first.
fn with_subscriptions(
    conn: &Connection,
    tenant: &str,
    mut g: BillingGroup,
) -> ApiResult<BillingGroup> {
    g.subscriptions = conn
        .prepare_cached(
            "SELECT id FROM subscriptions WHERE tenant_id = :tenant AND billing_group_id = :id
             ORDER BY created_at, id",
        )?
        .query_map(named_params! {":tenant": tenant, ":id": g.id}, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(g)
}

/// One group of the tenant; 404 for a missing or foreign id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<BillingGroup> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM billing_groups WHERE tenant_id = :tenant AND id = :id"
        ))?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(g) => with_subscriptions(conn, tenant, g),
        None => Err(ApiError::not_found("Billing group")),
    }
}

/// Whether `id` is a billing group of this customer (a subscription may only join a group of
/// its own customer, 08 §1.5).
pub fn belongs_to(conn: &Connection, tenant: &str, id: &str, customer: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM billing_groups
                            WHERE tenant_id = :tenant AND id = :id AND customer_id = :customer)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":id": id, ":customer": customer},
            |r| r.get(0),
        )?)
}

/// A page of the customer's groups, oldest first.
pub fn for_customer(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    page: &Page,
) -> ApiResult<(Vec<BillingGroup>, i64)> {
    let mut filter = Filter::for_tenant("tenant_id", tenant);
    filter.push("customer_id = {}", customer.to_string());
    let (rows, total) = filter.fetch_page(
        conn,
        "billing_groups",
        COLUMNS,
        "ORDER BY created_at, id",
        page,
        raw,
    )?;
    let items = rows
        .into_iter()
        .map(|g| with_subscriptions(conn, tenant, g))
        .collect::<ApiResult<_>>()?;
    Ok((items, total))
}

pub fn create(conn: &Connection, tenant: &str, data: &BillingGroupData) -> ApiResult<BillingGroup> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO billing_groups (id, tenant_id, customer_id, name, type, custom_day,
                                     custom_month, created_at, updated_at)
         VALUES (:id, :tenant, :customer, :name, :type, :day, :month, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":customer": data.customer_id, ":name": data.name,
        ":type": data.kind, ":day": data.custom_day, ":month": data.custom_month,
        ":now": time::now(),
    })?;
    get(conn, tenant, &id)
}

/// For the billing engine (`billing::due::Schedule::first_period_end`): the group date that
/// ends the first, prorated period of an item billed every `interval` from `first_day` in
/// group `group_id`. `None` when the item is not aligned (day/week intervals) or starts on a
/// group date (no partial period). 404 for an unknown group.
pub fn first_period_end(
    conn: &Connection,
    tenant: &str,
    group_id: &str,
    first_day: NaiveDate,
    interval: Interval,
) -> ApiResult<Option<NaiveDate>> {
    let group = get(conn, tenant, group_id)?;
    let rule = group
        .rule()
        .ok_or_else(|| ApiError::Internal(format!("billing group {}: stored rule", group.id)))?;
    Ok(Schedule::new(first_day, interval, rule)
        .and_then(|s| s.first_group_date())
        .filter(|d| *d > first_day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_read_and_align() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "b@example.com").unwrap();
        conn.execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
             VALUES ('c1', ?1, 'K1', 'c@example.com', 'now', 'now')",
            [&a],
        )
        .unwrap();
        let data = BillingGroupData {
            customer_id: "c1".into(),
            name: "Month end".into(),
            kind: "end_of_month".into(),
            custom_day: None,
            custom_month: None,
        };
        let g = create(&conn, &a, &data).unwrap();
        assert_eq!(get(&conn, &a, &g.id).unwrap(), g);
        assert!(matches!(get(&conn, &b, &g.id), Err(ApiError::NotFound(_))));
        assert!(belongs_to(&conn, &a, &g.id, "c1").unwrap());
        assert!(!belongs_to(&conn, &b, &g.id, "c1").unwrap());
        let page = Page { page: 1, limit: 30 };
        assert_eq!(for_customer(&conn, &a, "c1", &page).unwrap().1, 1);
        assert_eq!(for_customer(&conn, &b, "c1", &page).unwrap().1, 0);
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let monthly = Interval::parse("1M").unwrap();
        assert_eq!(
            first_period_end(&conn, &a, &g.id, d("2026-01-17"), monthly).unwrap(),
            Some(d("2026-01-31"))
        );
        assert_eq!(
            first_period_end(&conn, &a, &g.id, d("2026-01-31"), monthly).unwrap(),
            None
        );
        let weekly = Interval::parse("1W").unwrap();
        assert_eq!(
            first_period_end(&conn, &a, &g.id, d("2026-01-17"), weekly).unwrap(),
            None
        );
    }
}
