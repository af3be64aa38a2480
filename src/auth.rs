//! Bearer tokens -> `Principal { tenant, user, permissions }`, and the per-route scope check.

use crate::domain::ids::hash_secret;
use crate::error::{ApiError, ApiResult};
use crate::http::Access;
use rusqlite::types::Type;
use rusqlite::{named_params, Connection, OptionalExtension};
use std::cell::RefCell;
use std::sync::Arc;

/// Who is calling: a member of one tenant, acting through one API token.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    pub tenant_id: String,
    pub user_id: String,
    pub account_id: String,
    pub token_id: String,
    /// Effective scopes: the role's scopes at the time of this request (shared with other
    /// requests of the same role, see `permissions`).
    pub permissions: Arc<[String]>,
}

impl Principal {
    /// The caller of a public route.
    pub fn anonymous() -> Principal {
        Principal::default()
    }

    pub fn has(&self, scope: &str) -> bool {
        self.permissions.iter().any(|p| p == scope)
    }

    /// 403 naming the scope when the route needs one the caller lacks.
    pub fn authorize(&self, access: Access) -> ApiResult<()> {
        match access {
            Access::Public | Access::User => Ok(()),
            Access::Scope(scope) if self.has(scope) => Ok(()),
            Access::Scope(scope) => Err(ApiError::Forbidden(format!(
                "This token lacks the permission '{scope}'."
            ))),
        }
    }
}

const UNAUTHORIZED: &str = "A valid bearer token is required.";

/// Resolves `Authorization: Bearer <token>`; every failure is the same 401, so a caller cannot
/// tell an unknown token from an expired or revoked one.
pub fn authenticate(conn: &Connection, header: Option<&str>) -> ApiResult<Principal> {
    let token = header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized(UNAUTHORIZED.into()))?;
    let row = conn
        .prepare_cached(
            "SELECT t.id, t.tenant_id, t.user_id, t.expires_at, a.id, a.deactivated, r.id,
                 r.permissions
             FROM api_tokens t
             JOIN accounts a ON a.tenant_id = t.tenant_id AND a.user_id = t.user_id
             JOIN roles r ON r.tenant_id = a.tenant_id AND r.id = a.role_id
             WHERE t.token_hash = :hash",
        )?
        .query_row(named_params! {":hash": hash_secret(token)}, |r| {
            let tenant_id: String = r.get(1)?;
            // Borrowed from the row: the text is only compared with the cached copy.
            let stored = r
                .get_ref(7)?
                .as_str()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(7, Type::Text, e.into()))?;
            let permissions = permissions(&tenant_id, r.get_ref(6)?.as_str().unwrap_or(""), stored);
            Ok((
                r.get::<_, String>(0)?,
                tenant_id,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                permissions,
            ))
        })
        .optional()?;
    let Some((token_id, tenant_id, user_id, expires_at, account_id, deactivated, permissions)) =
        row
    else {
        return Err(ApiError::Unauthorized(UNAUTHORIZED.into()));
    };
    // Stored timestamps share one UTC format, so text comparison is time comparison.
    let expired = expires_at.is_some_and(|e| e <= crate::domain::time::now());
    if expired || deactivated {
        return Err(ApiError::Unauthorized(UNAUTHORIZED.into()));
    }
    Ok(Principal {
        tenant_id,
        user_id,
        account_id,
        token_id,
        permissions,
    })
}

/// Roles a thread keeps parsed; more are rare (a few roles per tenant), and then it starts over.
const CACHED_ROLES: usize = 64;

/// A role's scopes as parsed from its stored JSON text.
struct CachedRole {
    tenant: String,
    role: String,
    stored: String,
    parsed: Arc<[String]>,
}

thread_local! {
    /// Parsing a role's JSON array of scopes on every request was half the cost of
    /// authenticating. A thread sees a handful of roles, so a list beats a map (no hashing).
    static ROLES: RefCell<Vec<CachedRole>> = const { RefCell::new(Vec::new()) };
}

/// The scopes of the stored JSON array `stored` of a role. The cached copy is used only while
/// the stored text is the same, so an edited role takes effect on the very next request.
fn permissions(tenant: &str, role: &str, stored: &str) -> Arc<[String]> {
    ROLES.with_borrow_mut(|roles| {
        let found = roles
            .iter()
            .position(|c| c.role == role && c.tenant == tenant);
        if let Some(c) = found.map(|i| &roles[i]).filter(|c| c.stored == stored) {
            return c.parsed.clone();
        }
        let parsed: Arc<[String]> = serde_json::from_str::<Vec<String>>(stored)
            .unwrap_or_default()
            .into();
        let entry = CachedRole {
            tenant: tenant.to_string(),
            role: role.to_string(),
            stored: stored.to_string(),
            parsed: parsed.clone(),
        };
        match found {
            Some(i) => roles[i] = entry,
            None if roles.len() < CACHED_ROLES => roles.push(entry),
            None => *roles = vec![entry],
        }
        parsed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_permissions_follow_the_stored_text() {
        let a = permissions("t", "r", r#"["customer:read"]"#);
        assert!(Arc::ptr_eq(
            &a,
            &permissions("t", "r", r#"["customer:read"]"#)
        ));
        let b = permissions("t", "r", r#"["customer:read","customer:write"]"#);
        assert_eq!(&*b, ["customer:read", "customer:write"]);
        assert_eq!(&*permissions("u", "r", "not json"), [] as [&str; 0]);
        assert_eq!(&*permissions("t", "r", r#"["x"]"#), ["x"]);
    }
}
