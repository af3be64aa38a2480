//! SQL for roles. `permissions` is stored as a JSON array; every query is scoped to one tenant.

use super::model::{CreateRequest, Role};
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

/// The raw row; the JSON column is decoded outside the row closure so that a corrupt value
/// becomes a logged 500 instead of silently reading as "no permissions".
type RawRole = (String, String, String, bool);

fn raw(r: &Row) -> rusqlite::Result<RawRole> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn decode((id, name, permissions, predefined): RawRole) -> ApiResult<Role> {
    Ok(Role {
        id,
        name,
        permissions: serde_json::from_str(&permissions)?,
        predefined,
    })
}

/// Roles of the tenant: the predefined ones first, from most to fewest rights, then custom roles
/// in creation order.
pub fn list(conn: &Connection, tenant: &str, page: &Page) -> ApiResult<(Vec<Role>, i64)> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM roles WHERE tenant_id = :tenant")?
        .query_row(named_params! {":tenant": tenant}, |r| r.get(0))?;
    let rows = conn
        .prepare_cached(
            "SELECT id, name, permissions, predefined FROM roles WHERE tenant_id = :tenant
             ORDER BY predefined DESC,
                CASE id WHEN 'administrator' THEN 0 WHEN 'accounting' THEN 1
                        WHEN 'user' THEN 2 WHEN 'read-only' THEN 3 ELSE 4 END,
                created_at, id
             LIMIT :limit OFFSET :offset",
        )?
        .query_map(
            named_params! {":tenant": tenant, ":limit": page.limit, ":offset": page.offset()},
            raw,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let items = rows.into_iter().map(decode).collect::<ApiResult<_>>()?;
    Ok((items, total))
}

/// One role of the tenant; 404 when the tenant has no role with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Role> {
    let row = conn
        .prepare_cached(
            "SELECT id, name, permissions, predefined FROM roles
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(row) => decode(row),
        None => Err(ApiError::not_found("Role")),
    }
}

pub fn exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM roles WHERE tenant_id = :tenant AND id = :id)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

pub fn create(conn: &Connection, tenant: &str, req: &CreateRequest) -> ApiResult<Role> {
    conn.prepare_cached(
        "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
         VALUES (:tenant, :id, :name, :permissions, 0, :now)",
    )?
    .execute(named_params! {
        ":tenant": tenant, ":id": req.id, ":name": req.name,
        ":permissions": serde_json::to_string(&req.permissions)?, ":now": time::now(),
    })?;
    get(conn, tenant, &req.id)
}

/// Replaces name and permissions of a custom role. Predefined roles are never touched here:
/// the condition is repeated in SQL so a caller that forgot the 409 check still cannot edit one.
pub fn replace(
    conn: &Connection,
    tenant: &str,
    id: &str,
    name: &str,
    permissions: &[String],
) -> ApiResult<Role> {
    let n = conn
        .prepare_cached(
            "UPDATE roles SET name = :name, permissions = :permissions
             WHERE tenant_id = :tenant AND id = :id AND predefined = 0",
        )?
        .execute(named_params! {
            ":tenant": tenant, ":id": id, ":name": name,
            ":permissions": serde_json::to_string(permissions)?,
        })?;
    if n == 0 {
        return Err(ApiError::not_found("Role"));
    }
    get(conn, tenant, id)
}

/// How many accounts (active or not) hold the role; the foreign key forbids deleting it then.
pub fn assigned(conn: &Connection, tenant: &str, id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM accounts WHERE tenant_id = :tenant AND role_id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

/// Deletes a custom role; 404 when there is no custom role with this id.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let n = conn
        .prepare_cached(
            "DELETE FROM roles WHERE tenant_id = :tenant AND id = :id AND predefined = 0",
        )?
        .execute(named_params! {":tenant": tenant, ":id": id})?;
    if n == 0 {
        return Err(ApiError::not_found("Role"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Connection, String, String) {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "b@example.com").unwrap();
        (conn, a, b)
    }

    fn support() -> CreateRequest {
        CreateRequest {
            id: "support".into(),
            name: "Support".into(),
            permissions: vec!["customer:read".into()],
        }
    }

    #[test]
    fn lists_predefined_first_and_scopes_by_tenant() {
        let (conn, a, b) = setup();
        create(&conn, &a, &support()).unwrap();
        let (items, total) = list(&conn, &a, &Page { page: 1, limit: 30 }).unwrap();
        assert_eq!(total, 5);
        let ids: Vec<_> = items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "administrator",
                "accounting",
                "user",
                "read-only",
                "support"
            ]
        );
        assert!(items[..4].iter().all(|r| r.predefined));
        assert_eq!(items[4].id, "support");
        assert_eq!(list(&conn, &b, &Page { page: 1, limit: 30 }).unwrap().1, 4);
        assert!(exists(&conn, &a, "support").unwrap());
        assert!(!exists(&conn, &b, "support").unwrap());
        assert!(matches!(
            get(&conn, &b, "support"),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn predefined_roles_are_never_replaced_or_deleted() {
        let (conn, a, _) = setup();
        assert!(replace(&conn, &a, "administrator", "X", &[]).is_err());
        assert!(delete(&conn, &a, "read-only").is_err());
        assert!(get(&conn, &a, "administrator")
            .unwrap()
            .has("tenant:manager"));
        create(&conn, &a, &support()).unwrap();
        let r = replace(&conn, &a, "support", "Help desk", &[]).unwrap();
        assert_eq!((r.name.as_str(), r.permissions.len()), ("Help desk", 0));
        assert_eq!(assigned(&conn, &a, "support").unwrap(), 0);
        assert_eq!(assigned(&conn, &a, "administrator").unwrap(), 1);
        delete(&conn, &a, "support").unwrap();
        assert!(!exists(&conn, &a, "support").unwrap());
    }
}
