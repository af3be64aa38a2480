//! Bearer tokens -> `Principal { tenant, user, permissions }`, and the per-route scope check.

use crate::domain::ids::hash_secret;
use crate::error::{ApiError, ApiResult};
use crate::http::Access;
use rusqlite::{named_params, Connection, OptionalExtension};

/// Who is calling: a member of one tenant, acting through one API token.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    pub tenant_id: String,
    pub user_id: String,
    pub account_id: String,
    pub token_id: String,
    /// Effective scopes: the role's scopes at the time of this request.
    pub permissions: Vec<String>,
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
            "SELECT t.id, t.tenant_id, t.user_id, t.expires_at, a.id, a.deactivated, r.permissions
             FROM api_tokens t
             JOIN accounts a ON a.tenant_id = t.tenant_id AND a.user_id = t.user_id
             JOIN roles r ON r.tenant_id = a.tenant_id AND r.id = a.role_id
             WHERE t.token_hash = :hash",
        )?
        .query_row(named_params! {":hash": hash_secret(token)}, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .optional()?;
    let Some((token_id, tenant_id, user_id, expires_at, account_id, deactivated, perms)) = row
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
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
    })
}
