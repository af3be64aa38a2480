//! Bearer tokens -> `Principal { tenant, user, permissions }`, and the per-route scope check.

use crate::domain::ids::hash_secret;
use crate::error::{ApiError, ApiResult};
use crate::http::Access;
use rusqlite::types::Type;
use rusqlite::{named_params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
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

/// The token of `Authorization: Bearer <token>`.
fn bearer(header: Option<&str>) -> ApiResult<&str> {
    header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized(UNAUTHORIZED.into()))
}

/// Resolves `Authorization: Bearer <token>`; every failure is the same 401, so a caller cannot
/// tell an unknown token from an expired or revoked one.
pub fn authenticate(conn: &Connection, header: Option<&str>) -> ApiResult<Principal> {
    let token = bearer(header)?;
    let (principal, expires_at) = lookup(conn, &hash_secret(token))?;
    check_expiry(expires_at.as_deref())?;
    Ok(principal)
}

/// The principal of the stored token with this hash and the token's expiry; 401 when there is
/// none or its member is deactivated.
fn lookup(conn: &Connection, hash: &str) -> ApiResult<(Principal, Option<String>)> {
    let row = conn
        .prepare_cached(
            "SELECT t.id, t.tenant_id, t.user_id, t.expires_at, a.id, a.deactivated, r.id,
                 r.permissions
             FROM api_tokens t
             JOIN accounts a ON a.tenant_id = t.tenant_id AND a.user_id = t.user_id
             JOIN roles r ON r.tenant_id = a.tenant_id AND r.id = a.role_id
             WHERE t.token_hash = :hash",
        )?
        .query_row(named_params! {":hash": hash}, |r| {
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
    if deactivated {
        return Err(ApiError::Unauthorized(UNAUTHORIZED.into()));
    }
    let principal = Principal {
        tenant_id,
        user_id,
        account_id,
        token_id,
        permissions,
    };
    Ok((principal, expires_at))
}

fn check_expiry(expires_at: Option<&str>) -> ApiResult<()> {
    // Stored timestamps share one UTC format, so text comparison is time comparison.
    if expires_at.is_some_and(|e| e <= crate::domain::time::now().as_str()) {
        return Err(ApiError::Unauthorized(UNAUTHORIZED.into()));
    }
    Ok(())
}

/// Tokens a cache keeps resolved; a client rarely uses more than a few.
const CACHED_TOKENS: usize = 16;

/// Principals resolved through one connection, valid while the auth stamp is unchanged.
///
/// Every insert, update or delete of a role, account or token sets a new random stamp in the
/// one-row `auth_stamp` table (triggers in `schema.sql`), from any connection or process, in
/// the same transaction as the change. The stamp read inside the request's transaction is thus
/// the one cached under exactly when no row a principal comes from changed since - whoever
/// wrote it, whether it was committed or is the request's own transaction's, and also after a
/// rollback brought an old stamp back (the entries were cached under the newer one). A revoked
/// token or an edited role takes effect on the very next request, while commits of anything
/// else (a stream of customer creates, say) leave the cache alone. Expiry is still checked on
/// every request, since time passes without a commit.
#[derive(Default)]
pub struct Cache {
    stamp: i64,
    entries: Vec<Cached>,
}

struct Cached {
    /// SHA-256 of the token: compared instead of the token, so no secret is compared in a
    /// way whose timing could be measured.
    hash: [u8; 32],
    /// Shared with the requests it answers, which only read it.
    principal: Arc<Principal>,
    expires_at: Option<String>,
}

/// `authenticate` through `cache` (see `Cache`); `conn` must be inside a transaction.
pub fn authenticate_cached(
    conn: &Connection,
    header: Option<&str>,
    cache: &mut Cache,
) -> ApiResult<Arc<Principal>> {
    let token = bearer(header)?;
    let stamp: i64 = conn
        .prepare_cached("SELECT stamp FROM auth_stamp WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    if stamp != cache.stamp {
        cache.entries.clear();
        cache.stamp = stamp;
    }
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Some(c) = cache.entries.iter().find(|c| c.hash == hash) {
        check_expiry(c.expires_at.as_deref())?;
        return Ok(c.principal.clone());
    }
    let (principal, expires_at) = lookup(conn, &hex::encode(hash))?;
    check_expiry(expires_at.as_deref())?;
    let principal = Arc::new(principal);
    if cache.entries.len() >= CACHED_TOKENS {
        cache.entries.remove(0);
    }
    cache.entries.push(Cached {
        hash,
        principal: principal.clone(),
        expires_at,
    });
    Ok(principal)
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

    /// Two connections to one file: `a` authenticates through its cache inside read
    /// transactions, `b` stands for every other writer (the writer thread, the CLI).
    fn two_connections() -> (tempfile::TempDir, Connection, Connection, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.db");
        let a = crate::db::open(&path).unwrap();
        crate::db::migrate(&a).unwrap();
        let (_, token) = crate::bootstrap::create_tenant(&a, "T", "t@example.com").unwrap();
        let b = crate::db::open(&path).unwrap();
        (dir, a, b, format!("Bearer {token}"))
    }

    fn cached(conn: &Connection, header: &str, cache: &mut Cache) -> ApiResult<Arc<Principal>> {
        let tx = crate::db::tx::Tx::begin(conn, false).unwrap();
        let result = authenticate_cached(&tx, Some(header), cache);
        tx.commit().unwrap();
        result
    }

    #[test]
    fn cached_principals_follow_every_commit_of_another_connection() {
        let (_dir, a, b, header) = two_connections();
        let mut cache = Cache::default();
        let first = cached(&a, &header, &mut cache).unwrap();
        assert!(first.has("customer:read"));
        assert_eq!(cache.entries.len(), 1);
        let again = cached(&a, &header, &mut cache).unwrap();
        assert!(Arc::ptr_eq(&first.permissions, &again.permissions));

        // A role edited elsewhere applies to the next request.
        b.execute("UPDATE roles SET permissions = '[\"invoice:read\"]'", [])
            .unwrap();
        let edited = cached(&a, &header, &mut cache).unwrap();
        assert!(!edited.has("customer:read") && edited.has("invoice:read"));

        // So does a deactivated member, and a revoked token.
        b.execute("UPDATE accounts SET deactivated = 1", [])
            .unwrap();
        assert!(cached(&a, &header, &mut cache).is_err());
        b.execute("UPDATE accounts SET deactivated = 0", [])
            .unwrap();
        assert!(cached(&a, &header, &mut cache).is_ok());
        b.execute("DELETE FROM api_tokens", []).unwrap();
        assert!(matches!(
            cached(&a, &header, &mut cache),
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[test]
    fn a_connections_own_changes_empty_its_cache() {
        let (_dir, a, _b, header) = two_connections();
        let mut cache = Cache::default();
        cached(&a, &header, &mut cache).unwrap();
        a.execute("DELETE FROM api_tokens", []).unwrap();
        assert!(cached(&a, &header, &mut cache).is_err());
    }

    #[test]
    fn changes_in_the_same_transaction_and_rolled_back_ones_empty_it_too() {
        let (_dir, a, _b, header) = two_connections();
        let mut cache = Cache::default();
        let tx = crate::db::tx::Tx::begin(&a, true).unwrap();
        authenticate_cached(&tx, Some(&header), &mut cache).unwrap();
        // A request earlier in the writer's group revokes the token: a later one is refused.
        tx.execute("UPDATE roles SET permissions = '[]'", [])
            .unwrap();
        let emptied = authenticate_cached(&tx, Some(&header), &mut cache).unwrap();
        assert!(emptied.permissions.is_empty());
        drop(tx); // rolled back: the role has its scopes again, under the old stamp
        let restored = cached(&a, &header, &mut cache).unwrap();
        assert!(restored.has("customer:read"));
    }

    #[test]
    fn commits_elsewhere_keep_it() {
        let (_dir, a, b, header) = two_connections();
        let mut cache = Cache::default();
        let first = cached(&a, &header, &mut cache).unwrap();
        b.execute("UPDATE tenants SET name = 'Other name'", [])
            .unwrap();
        let again = cached(&a, &header, &mut cache).unwrap();
        assert!(Arc::ptr_eq(&first.permissions, &again.permissions));
        assert_eq!(cache.entries.len(), 1);
    }

    #[test]
    fn a_cached_token_still_expires() {
        let (_dir, a, _b, header) = two_connections();
        let mut cache = Cache::default();
        cached(&a, &header, &mut cache).unwrap();
        cache.entries[0].expires_at = Some("2000-01-01T00:00:00+00:00".into());
        assert!(cached(&a, &header, &mut cache).is_err());
        assert!(cached(&a, "Bearer other", &mut cache).is_err());
        assert!(cached(&a, "Basic x", &mut cache).is_err());
    }
}
