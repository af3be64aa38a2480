//! SQL for tenants. A member sees only tenants they belong to; a token only its own tenant.

use super::model::{Tenant, TenantPatch};
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

fn row(r: &Row) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: r.get(0)?,
        name: r.get(1)?,
        username: r.get(2)?,
        legal_company_name: r.get(3)?,
    })
}

/// Tenants where the user has an active membership, oldest first; `only` narrows the list to
/// one tenant (an API token is bound to the tenant it was created in).
pub fn list_for_user(
    conn: &Connection,
    user: &str,
    only: Option<&str>,
    page: &Page,
) -> ApiResult<(Vec<Tenant>, i64)> {
    const FROM: &str = "FROM tenants t JOIN accounts a ON a.tenant_id = t.id
        WHERE a.user_id = :user AND a.deactivated = 0 AND (:only IS NULL OR t.id = :only)";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) {FROM}"))?
        .query_row(named_params! {":user": user, ":only": only}, |r| r.get(0))?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT t.id, t.name, t.username, t.legal_company_name {FROM}
             ORDER BY t.created_at, t.id LIMIT :limit OFFSET :offset"
        ))?
        .query_map(
            named_params! {":user": user, ":only": only, ":limit": page.limit, ":offset": page.offset()},
            row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((items, total))
}

/// The tenant `id` as seen by a caller of tenant `visible`: any other id is 404, so another
/// tenant cannot be told apart from a missing one.
pub fn get(conn: &Connection, visible: &str, id: &str) -> ApiResult<Tenant> {
    conn.prepare_cached(
        "SELECT id, name, username, legal_company_name FROM tenants
         WHERE id = :id AND id = :visible",
    )?
    .query_row(named_params! {":id": id, ":visible": visible}, row)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Tenant"))
}

/// Whether a tenant other than `except` uses the handle (handles are unique installation-wide).
pub fn username_taken(conn: &Connection, username: &str, except: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE username = :username AND id != :except)",
        )?
        .query_row(
            named_params! {":username": username, ":except": except},
            |r| r.get(0),
        )?)
}

/// Applies a merge patch: `coalesce` keeps every column whose key was not sent.
pub fn update(
    conn: &Connection,
    visible: &str,
    id: &str,
    patch: &TenantPatch,
) -> ApiResult<Tenant> {
    let n = conn
        .prepare_cached(
            "UPDATE tenants SET
                name = coalesce(:name, name),
                legal_company_name = coalesce(:legal, legal_company_name),
                username = coalesce(:username, username),
                updated_at = :now
             WHERE id = :id AND id = :visible",
        )?
        .execute(named_params! {
            ":id": id, ":visible": visible, ":name": patch.name,
            ":legal": patch.legal_company_name, ":username": patch.username, ":now": time::now(),
        })?;
    if n == 0 {
        return Err(ApiError::not_found("Tenant"));
    }
    get(conn, visible, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_unsent_fields_and_stays_in_its_tenant() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "x@a.test").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "y@b.test").unwrap();
        let patch = TenantPatch {
            legal_company_name: Some("Acme Inc.".into()),
            ..TenantPatch::default()
        };
        let t = update(&conn, &a, &a, &patch).unwrap();
        assert_eq!(
            (
                t.name.as_str(),
                t.username.as_str(),
                t.legal_company_name.as_str()
            ),
            ("Acme", "acme", "Acme Inc.")
        );
        assert!(matches!(
            update(&conn, &b, &a, &patch),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(get(&conn, &b, &a), Err(ApiError::NotFound(_))));
        assert!(username_taken(&conn, "other", &a).unwrap());
        assert!(!username_taken(&conn, "acme", &a).unwrap());
    }

    #[test]
    fn lists_active_memberships_only() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "x@a.test").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "x@a.test").unwrap();
        let user: String = conn
            .query_row("SELECT id FROM users", [], |r| r.get(0))
            .unwrap();
        let page = Page { page: 1, limit: 30 };
        assert_eq!(list_for_user(&conn, &user, None, &page).unwrap().1, 2);
        let (only, total) = list_for_user(&conn, &user, Some(&b), &page).unwrap();
        assert_eq!((total, only[0].id.as_str()), (1, b.as_str()));
        conn.execute(
            "UPDATE accounts SET deactivated = 1 WHERE tenant_id = ?1",
            [&a],
        )
        .unwrap();
        assert_eq!(list_for_user(&conn, &user, None, &page).unwrap().1, 1);
    }
}
