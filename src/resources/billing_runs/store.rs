//! Reading billing runs and the run behind an invoice (reference 06 §3.3, §3.4).

use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{json, Value};

/// A run as the API shows it (06 §3.3), plus `customersFailed` (kontor).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub id: String,
    pub status: String,
    pub date: String,
    pub dry_run: bool,
    pub subscriptions_billed: i64,
    pub invoices_created: i64,
    pub customers_failed: i64,
    pub started_at: String,
    pub completed_at: Option<String>,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, status, date, dry_run, subscriptions_billed, invoices_created,
    customers_failed, started_at, completed_at, error";

fn row(r: &Row) -> rusqlite::Result<RunView> {
    Ok(RunView {
        id: r.get(0)?,
        status: r.get(1)?,
        date: r.get(2)?,
        dry_run: r.get(3)?,
        subscriptions_billed: r.get(4)?,
        invoices_created: r.get(5)?,
        customers_failed: r.get(6)?,
        started_at: r.get(7)?,
        completed_at: r.get(8)?,
        error: r.get(9)?,
    })
}

/// One run of the tenant; 404 otherwise.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<RunView> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM billing_runs WHERE id = :id AND tenant_id = :tenant"
    ))?
    .query_row(named_params! {":id": id, ":tenant": tenant}, row)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Billing run"))
}

/// A page of the tenant's runs, newest first.
pub fn list(conn: &Connection, tenant: &str, page: &Page) -> ApiResult<(Vec<RunView>, i64)> {
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM billing_runs WHERE tenant_id = :tenant",
        named_params! {":tenant": tenant},
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM billing_runs WHERE tenant_id = :tenant
         ORDER BY started_at DESC, id DESC LIMIT :limit OFFSET :offset"
    ))?;
    let items = stmt
        .query_map(
            named_params! {":tenant": tenant, ":limit": page.limit, ":offset": page.offset()},
            row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((items, total))
}

/// `BillingRun-BillingRunDetails` of an invoice; 404 for manual invoices (06 §3.4).
pub fn for_invoice(conn: &Connection, tenant: &str, invoice: &str) -> ApiResult<Value> {
    let found = conn
        .prepare_cached(
            "SELECT billing_run_id, range_from, range_to, billed_at FROM billing_run_invoices
             WHERE invoice_id = :invoice AND tenant_id = :tenant",
        )?
        .query_row(
            named_params! {":invoice": invoice, ":tenant": tenant},
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((run, from, to, billed_at)) = found else {
        return Err(ApiError::not_found("Billing run"));
    };
    let mut stmt = conn.prepare_cached(
        "SELECT subscription_id, subscription_item_id, period_start, period_end, amount, discount
         FROM billed_periods WHERE invoice_id = :invoice ORDER BY id",
    )?;
    let mut subscriptions: Vec<Value> = Vec::new();
    let mut items = Vec::new();
    let rows = stmt.query_map(named_params! {":invoice": invoice}, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    for r in rows {
        let (sub, item, start, end, amount, discount) = r?;
        if !subscriptions.iter().any(|s| s["id"] == sub.as_str()) {
            subscriptions.push(json!({"id": sub}));
        }
        items.push(json!({"id": item, "subscription": sub, "periodFrom": start,
            "periodTo": end, "amount": amount, "discount": discount}));
    }
    Ok(json!({
        "id": run, "invoice": invoice, "subscriptions": subscriptions,
        "subscriptionItems": items, "billedAt": billed_at,
        // Calendar dates of the tenant, at the start of the first and the end of the last day.
        "dateRangeFrom": format!("{from}T00:00:00"), "dateRangeTo": format!("{to}T23:59:59"),
        "usageBreakdownUrl": null,
    }))
}
