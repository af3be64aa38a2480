//! SQL for customer settings: the customer's own values; effective values are resolved by
//! `domain::settings::customer_effective` (customer, else organisation, else default).

use super::model::{Change, Effective};
use crate::domain::settings;
use crate::error::{ApiError, ApiResult};
use rusqlite::{named_params, Connection};
use std::collections::BTreeMap;

/// 404 unless the customer belongs to the tenant and the context has customer settings.
pub fn ensure(conn: &Connection, tenant: &str, customer: &str, context: &str) -> ApiResult<()> {
    let exists: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM customers WHERE id = :id AND tenant_id = :tenant)",
        )?
        .query_row(named_params! {":id": customer, ":tenant": tenant}, |r| {
            r.get(0)
        })?;
    if !exists {
        return Err(ApiError::not_found("Customer"));
    }
    if !settings::CUSTOMER_CONTEXTS.contains(&context) {
        return Err(ApiError::not_found(&format!(
            "Customer settings context '{context}'"
        )));
    }
    Ok(())
}

/// Every key of the context with its effective value and source.
pub fn read(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    context: &str,
) -> ApiResult<BTreeMap<&'static str, Effective>> {
    ensure(conn, tenant, customer, context)?;
    let mut out = BTreeMap::new();
    for k in settings::CUSTOMER_KEYS
        .iter()
        .filter(|k| k.context == context)
    {
        let (value, source) = settings::customer_effective(conn, tenant, customer, context, k.key)?;
        out.insert(k.key, Effective { value, source });
    }
    Ok(out)
}

/// Applies validated changes in the request's transaction.
pub fn apply(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    context: &str,
    changes: &[Change],
) -> ApiResult<()> {
    for change in changes {
        match change {
            Change::Set(key, value) => {
                conn.prepare_cached(
                    "INSERT INTO customer_settings (tenant_id, customer_id, context, key, value)
                     VALUES (:tenant, :customer, :context, :key, :value)
                     ON CONFLICT (customer_id, context, key) DO UPDATE SET value = excluded.value",
                )?
                .execute(named_params! {
                    ":tenant": tenant, ":customer": customer, ":context": context,
                    ":key": key, ":value": value.to_string(),
                })?;
            }
            Change::Remove(key) => {
                conn.prepare_cached(
                    "DELETE FROM customer_settings WHERE tenant_id = :tenant
                     AND customer_id = :customer AND context = :context AND key = :key",
                )?
                .execute(named_params! {
                    ":tenant": tenant, ":customer": customer, ":context": context, ":key": key,
                })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::Source;
    use serde_json::json;

    fn customer(conn: &Connection, tenant: &str, id: &str) {
        conn.execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
             VALUES (?1, ?2, ?1, ?1 || '@example.com', '2026-01-01T00:00:00+00:00',
                     '2026-01-01T00:00:00+00:00')",
            [id, tenant],
        )
        .unwrap();
    }

    #[test]
    fn set_remove_and_tenant_scope() {
        let conn = crate::db::memory();
        let (t, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let (u, _) = crate::bootstrap::create_tenant(&conn, "Other", "o@example.com").unwrap();
        customer(&conn, &t, "c1");
        customer(&conn, &u, "c2");
        assert!(matches!(
            read(&conn, &t, "c2", "billing"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            read(&conn, &t, "c1", "mail"),
            Err(ApiError::NotFound(_))
        ));
        apply(
            &conn,
            &t,
            "c1",
            "dunning",
            &[Change::Set("feesEnabled", json!(false))],
        )
        .unwrap();
        let d = read(&conn, &t, "c1", "dunning").unwrap();
        assert_eq!(
            d["feesEnabled"],
            Effective {
                value: json!(false),
                source: Source::Customer
            }
        );
        assert_eq!(d["enabled"].source, Source::Default);
        apply(&conn, &t, "c1", "dunning", &[Change::Remove("feesEnabled")]).unwrap();
        let d = read(&conn, &t, "c1", "dunning").unwrap();
        assert_eq!(d["feesEnabled"].value, json!(true));
        assert_eq!(d["feesEnabled"].source, Source::Default);
    }
}
