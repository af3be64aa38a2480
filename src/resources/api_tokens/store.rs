//! SQL for API tokens. Secrets are generated here and only their SHA-256 reaches the table.

use super::model::{ApiToken, CreatedToken, MASK};
use crate::domain::ids::{hash_secret, new_id, new_secret};
use crate::domain::time;
use crate::error::ApiResult;
use crate::http::list::Page;
use rusqlite::{named_params, Connection};

/// Prefix that makes a leaked kontor token recognisable to secret scanners.
pub const TOKEN_PREFIX: &str = "kontor_";

pub fn create(
    conn: &Connection,
    tenant: &str,
    user: &str,
    description: Option<&str>,
    expires_at: Option<&str>,
) -> ApiResult<CreatedToken> {
    let id = new_id();
    let secret = new_secret(TOKEN_PREFIX);
    let now = time::now();
    conn.prepare_cached(
        "INSERT INTO api_tokens (id, tenant_id, user_id, token_hash, description, expires_at, created_at, updated_at)
         VALUES (:id, :tenant, :user, :hash, :description, :expires_at, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":user": user, ":hash": hash_secret(&secret),
        ":description": description, ":expires_at": expires_at, ":now": now,
    })?;
    Ok(CreatedToken {
        id,
        token: secret,
        description: description.map(str::to_string),
        expires_at: expires_at.map(str::to_string),
    })
}

pub fn list(
    conn: &Connection,
    tenant: &str,
    user: &str,
    page: &Page,
) -> ApiResult<(Vec<ApiToken>, i64)> {
    let total: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM api_tokens WHERE tenant_id = :tenant AND user_id = :user",
        )?
        .query_row(named_params! {":tenant": tenant, ":user": user}, |r| {
            r.get(0)
        })?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, description, expires_at, created_at, updated_at FROM api_tokens
         WHERE tenant_id = :tenant AND user_id = :user
         ORDER BY created_at, id LIMIT :limit OFFSET :offset",
    )?;
    let items = stmt
        .query_map(
            named_params! {":tenant": tenant, ":user": user, ":limit": page.limit, ":offset": page.offset()},
            |r| {
                Ok(ApiToken {
                    id: r.get(0)?,
                    description: r.get(1)?,
                    expires_at: r.get(2)?,
                    created_at: r.get(3)?,
                    updated_at: r.get(4)?,
                    api_token: MASK,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((items, total))
}

/// Deletes one of the user's own tokens; `false` when there is none with this id.
pub fn delete(conn: &Connection, tenant: &str, user: &str, id: &str) -> ApiResult<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM api_tokens WHERE id = :id AND tenant_id = :tenant AND user_id = :user",
        )?
        .execute(named_params! {":id": id, ":tenant": tenant, ":user": user})?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_only_the_hash() {
        let conn = crate::db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let user: String = conn
            .query_row("SELECT id FROM users", [], |r| r.get(0))
            .unwrap();
        let created = create(&conn, &tenant, &user, Some("ci"), None).unwrap();
        assert!(created.token.starts_with(TOKEN_PREFIX) && created.token.len() == 7 + 64);
        let stored: String = conn
            .query_row(
                "SELECT token_hash FROM api_tokens WHERE id = ?1",
                [&created.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, hash_secret(&created.token));
        assert!(delete(&conn, &tenant, &user, &created.id).unwrap());
        assert!(!delete(&conn, &tenant, &user, &created.id).unwrap());
    }
}
