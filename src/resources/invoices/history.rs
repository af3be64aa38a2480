//! The append-only history of an invoice (kontor extension, issue #4 item 6): who did what and
//! when, written in the transaction of the change itself. The schema refuses updates and
//! deletes of these rows; a deleted draft's history stays.

use crate::db::bind::ExecuteNamed;
use crate::domain::time;
use crate::error::ApiResult;
use crate::http::list::{Filter, Page};
use rusqlite::{named_params, Connection};
use serde::Serialize;
use serde_json::Value;

/// One entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: i64,
    pub action: String,
    /// The acting user; `null` for system actions (billing runs, workers).
    pub user_id: Option<String>,
    pub created_at: String,
    pub details: Value,
}

/// Appends one entry. `action` is a short verb such as `created`, `updated`, `finalized`,
/// `position.added`, `cancelled`; `details` what changed (JSON object).
pub fn append(
    conn: &Connection,
    tenant: &str,
    invoice_id: &str,
    user_id: Option<&str>,
    action: &str,
    details: &Value,
) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO invoice_history (tenant_id, invoice_id, at, user_id, action, details)
         VALUES (:tenant, :invoice, :at, :user, :action, :details)",
    )?
    .execute_named(named_params! {
        ":tenant": tenant, ":invoice": invoice_id, ":at": time::now(),
        ":user": user_id.filter(|u| !u.is_empty()), ":action": action,
        // serde_json's writer: `Value`'s `Display` formats token by token, slower.
        ":details": serde_json::to_string(details)?,
    })?;
    Ok(())
}

/// A page of an invoice's history, oldest first.
pub fn list(
    conn: &Connection,
    tenant: &str,
    invoice_id: &str,
    page: &Page,
) -> ApiResult<(Vec<Entry>, i64)> {
    let mut f = Filter::for_tenant("tenant_id", tenant);
    f.push("invoice_id = {}", invoice_id.to_string());
    let (rows, total) = f.fetch_page(
        conn,
        "invoice_history",
        "id, action, user_id, at, details",
        "ORDER BY id",
        page,
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )?;
    let entries = rows
        .into_iter()
        .map(|(id, action, user_id, created_at, details)| {
            Ok(Entry {
                id,
                action,
                user_id,
                created_at,
                details: serde_json::from_str(&details)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((entries, total))
}
