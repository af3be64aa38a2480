//! SQL for tax groups and their rates. Rates are stored as exact decimal text in the order sent
//! (rowid order); every query is scoped to one tenant.

use super::model::{Rate, TaxGroup, TaxGroupWrite};
use crate::domain::ids::new_id;
use crate::domain::tax::parse_rate;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use rusqlite::{named_params, Connection, OptionalExtension};

type Head = (String, String, String, String, String);

fn rates(conn: &Connection, tenant: &str, group: &str) -> ApiResult<Vec<Rate>> {
    let raw = conn
        .prepare_cached(
            "SELECT rate, description, country_code FROM tax_group_rates
             WHERE tenant_id = :tenant AND tax_group_id = :group ORDER BY rowid",
        )?
        .query_map(named_params! {":tenant": tenant, ":group": group}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter()
        .map(|(rate, description, country_code)| {
            let rate = parse_rate(&rate).ok_or_else(|| {
                ApiError::Internal(format!("tax group {group}: stored rate '{rate}'"))
            })?;
            Ok(Rate {
                rate,
                description,
                country_code,
            })
        })
        .collect()
}

fn assemble(conn: &Connection, tenant: &str, head: Head) -> ApiResult<TaxGroup> {
    let (id, name, kind, created_at, updated_at) = head;
    let rates = rates(conn, tenant, &id)?;
    Ok(TaxGroup {
        id,
        name,
        kind,
        rates,
        created_at,
        updated_at,
    })
}

/// A page of the tenant's groups, oldest first (the seeded Standard, Reduced, Zero lead);
/// `type` filters, `order[name|createdAt]` sorts.
pub fn list(
    conn: &Connection,
    tenant: &str,
    q: &Query,
    page: &Page,
) -> ApiResult<(Vec<TaxGroup>, i64)> {
    let mut filter = Filter::for_tenant("tenant_id", tenant);
    filter.eq_enum(q, "type", "type", crate::domain::tax::GroupType::ALL)?;
    let order = order_by(
        q,
        &[("name", "name"), ("createdAt", "created_at")],
        "created_at, id",
    )?;
    let (heads, total) = filter.fetch_page(
        conn,
        "tax_groups",
        "id, name, type, created_at, updated_at",
        &order,
        page,
        |r| -> rusqlite::Result<Head> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        },
    )?;
    let items = heads
        .into_iter()
        .map(|h| assemble(conn, tenant, h))
        .collect::<ApiResult<_>>()?;
    Ok((items, total))
}

/// One group of the tenant; 404 when the tenant has none with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<TaxGroup> {
    let head = conn
        .prepare_cached(
            "SELECT id, name, type, created_at, updated_at FROM tax_groups
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    match head {
        Some(head) => assemble(conn, tenant, head),
        None => Err(ApiError::not_found("Tax group")),
    }
}

fn insert_rates(conn: &Connection, tenant: &str, id: &str, rates: &[Rate]) -> ApiResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO tax_group_rates (tax_group_id, tenant_id, country_code, rate, description)
         VALUES (:group, :tenant, :country, :rate, :description)",
    )?;
    for r in rates {
        stmt.execute(named_params! {
            ":group": id, ":tenant": tenant, ":country": r.country_code,
            ":rate": r.rate.normalize().to_string(), ":description": r.description,
        })?;
    }
    Ok(())
}

pub fn create(conn: &Connection, tenant: &str, w: &TaxGroupWrite) -> ApiResult<TaxGroup> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO tax_groups (id, tenant_id, name, type, created_at, updated_at)
         VALUES (:id, :tenant, :name, :type, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":name": w.name, ":type": w.kind.as_str(),
        ":now": time::now(),
    })?;
    insert_rates(conn, tenant, &id, &w.rates)?;
    get(conn, tenant, &id)
}

/// Replaces name, type and the whole rate table of an existing group (404 decided by `get`).
pub fn replace(
    conn: &Connection,
    tenant: &str,
    id: &str,
    w: &TaxGroupWrite,
) -> ApiResult<TaxGroup> {
    let current = get(conn, tenant, id)?;
    conn.prepare_cached(
        "UPDATE tax_groups SET name = :name, type = :type, updated_at = :now
         WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {
        ":id": current.id, ":tenant": tenant, ":name": w.name, ":type": w.kind.as_str(),
        ":now": time::now(),
    })?;
    conn.prepare_cached(
        "DELETE FROM tax_group_rates WHERE tenant_id = :tenant AND tax_group_id = :id",
    )?
    .execute(named_params! {":tenant": tenant, ":id": current.id})?;
    insert_rates(conn, tenant, &current.id, &w.rates)?;
    get(conn, tenant, &current.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tax::GroupType;
    use rust_decimal_macros::dec;

    #[test]
    fn create_replace_and_tenant_scope() {
        let conn = crate::db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "T", "t@example.test").unwrap();
        let (other, _) = crate::bootstrap::create_tenant(&conn, "O", "o@example.test").unwrap();
        let rate = |rate, country: &str| Rate {
            rate,
            description: String::new(),
            country_code: country.into(),
        };
        let w = TaxGroupWrite {
            name: "Swiss".into(),
            kind: GroupType::Standard,
            rates: vec![rate(dec!(8.10), "CH"), rate(dec!(0), "*")],
        };
        let g = create(&conn, &tenant, &w).unwrap();
        assert_eq!(g.rates[0].rate, dec!(8.1));
        let stored: String = conn
            .query_row(
                "SELECT rate FROM tax_group_rates WHERE tax_group_id = ?1 AND country_code = 'CH'",
                [&g.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, "8.1");
        assert!(matches!(
            get(&conn, &other, &g.id),
            Err(ApiError::NotFound(_))
        ));
        let w2 = TaxGroupWrite {
            name: "Swiss reduced".into(),
            kind: GroupType::Reduced,
            rates: vec![rate(dec!(2.6), "CH")],
        };
        assert!(matches!(
            replace(&conn, &other, &g.id, &w2),
            Err(ApiError::NotFound(_))
        ));
        let g2 = replace(&conn, &tenant, &g.id, &w2).unwrap();
        assert_eq!(
            (g2.name.as_str(), g2.kind.as_str()),
            ("Swiss reduced", "reduced")
        );
        assert_eq!(g2.rates, vec![rate(dec!(2.6), "CH")]);
        let page = Page { page: 1, limit: 30 };
        let (items, total) = list(&conn, &tenant, &Query::parse(""), &page).unwrap();
        assert_eq!(total, 4);
        let names: Vec<_> = items.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Standard", "Reduced", "Zero", "Swiss reduced"]);
    }
}
