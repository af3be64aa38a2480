//! SQL for accounts (tenant memberships) and the users behind them, plus the count of active
//! managers that guards the tenant against locking itself out.

use super::model::{Account, AccountUser, InviteRequest, Me, TenantRef};
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{Filter, Page};
use crate::http::query::Query;
use crate::resources::roles::store as roles;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

/// The scope that lets a member manage the tenant, its members and roles.
pub const MANAGER: &str = "tenant:manager";

const COLUMNS: &str = "a.id, a.role_id, a.created_at, a.deactivated,
        u.id, u.first_name, u.last_name, u.email";
const FROM: &str = "accounts a JOIN users u ON u.id = a.user_id";

fn row(r: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        role: r.get(1)?,
        created_at: r.get(2)?,
        deactivated: r.get(3)?,
        user: AccountUser {
            id: r.get(4)?,
            first_name: r.get(5)?,
            last_name: r.get(6)?,
            email: r.get(7)?,
        },
    })
}

/// Members of the tenant, oldest first; filters `role` and `deactivated`.
pub fn list(
    conn: &Connection,
    tenant: &str,
    query: &Query,
    page: &Page,
) -> ApiResult<(Vec<Account>, i64)> {
    let mut filter = Filter::for_tenant("a.tenant_id", tenant);
    filter.eq(query, "role", "a.role_id");
    if let Some(deactivated) = query.flag("deactivated")? {
        filter.push("a.deactivated = {}", i64::from(deactivated));
    }
    let order = crate::http::list::order_by(
        query,
        &[("createdAt", "a.created_at"), ("email", "u.email")],
        "a.created_at, a.id",
    )?;
    let (items, total) = filter.fetch_page(conn, FROM, COLUMNS, &order, page, row)?;
    Ok((items, total))
}

/// One member of the tenant; 404 for an unknown id or another tenant's account.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Account> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE a.tenant_id = :tenant AND a.id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, row)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Account"))
}

/// Creates the membership, and the user when the e-mail is new. A known user keeps their names
/// (they are shared by every tenant the user belongs to); only blank names are filled in.
/// 409 when the user already is a member of this tenant, deactivated or not.
pub fn invite(conn: &Connection, tenant: &str, req: &InviteRequest) -> ApiResult<Account> {
    // users.email is COLLATE NOCASE, so `Ann@x.test` finds `ann@x.test`.
    let existing: Option<String> = conn
        .prepare_cached("SELECT id FROM users WHERE email = :email")?
        .query_row(named_params! {":email": req.email}, |r| r.get(0))
        .optional()?;
    let now = time::now();
    let user = match existing {
        Some(user) => {
            let member: Option<String> = conn
                .prepare_cached(
                    "SELECT id FROM accounts WHERE tenant_id = :tenant AND user_id = :user",
                )?
                .query_row(named_params! {":tenant": tenant, ":user": user}, |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(account) = member {
                return Err(ApiError::Conflict(format!(
                    "'{}' is already a member of this tenant (account {account}); a deactivated \
                     member is unlocked with PUT /tenant/accounts/{account}/activate.",
                    req.email
                )));
            }
            conn.prepare_cached(
                "UPDATE users SET
                    first_name = CASE WHEN first_name = '' THEN :first ELSE first_name END,
                    last_name = CASE WHEN last_name = '' THEN :last ELSE last_name END
                 WHERE id = :id",
            )?
            .execute(
                named_params! {":id": user, ":first": req.first_name, ":last": req.last_name},
            )?;
            user
        }
        None => {
            let user = new_id();
            conn.prepare_cached(
                "INSERT INTO users (id, email, first_name, last_name, created_at)
                 VALUES (:id, :email, :first, :last, :now)",
            )?
            .execute(named_params! {
                ":id": user, ":email": req.email, ":first": req.first_name,
                ":last": req.last_name, ":now": now,
            })?;
            user
        }
    };
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO accounts (id, tenant_id, user_id, role_id, created_at)
         VALUES (:id, :tenant, :user, :role, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":user": user, ":role": req.role, ":now": now,
    })?;
    get(conn, tenant, &id)
}

/// Gives the member another role. 409 when that would take `tenant:manager` from the last
/// active member holding it. The role must exist (validated before).
pub fn change_role(
    conn: &Connection,
    tenant: &str,
    account: &Account,
    role: &str,
) -> ApiResult<Account> {
    let loses_manager = !account.deactivated
        && roles::get(conn, tenant, &account.role)?.has(MANAGER)
        && !roles::get(conn, tenant, role)?.has(MANAGER);
    if loses_manager && active_managers(conn, tenant, Some(&account.id), None)? == 0 {
        return Err(ApiError::Conflict(format!(
            "'{}' is the last active member holding '{MANAGER}'; give it to someone else first.",
            account.user.email
        )));
    }
    conn.prepare_cached(
        "UPDATE accounts SET role_id = :role WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {":tenant": tenant, ":id": account.id, ":role": role})?;
    get(conn, tenant, &account.id)
}

/// Locks the member out of the tenant (their tokens answer 401 from the next request on).
/// 409 for the last active member holding `tenant:manager`. Idempotent.
pub fn deactivate(conn: &Connection, tenant: &str, account: &Account) -> ApiResult<Account> {
    let is_manager = !account.deactivated && roles::get(conn, tenant, &account.role)?.has(MANAGER);
    if is_manager && active_managers(conn, tenant, Some(&account.id), None)? == 0 {
        return Err(ApiError::Conflict(format!(
            "'{}' is the last active member holding '{MANAGER}' and cannot be deactivated.",
            account.user.email
        )));
    }
    set_deactivated(conn, tenant, &account.id, true)
}

/// Unlocks the member. Idempotent.
pub fn activate(conn: &Connection, tenant: &str, account: &Account) -> ApiResult<Account> {
    set_deactivated(conn, tenant, &account.id, false)
}

fn set_deactivated(
    conn: &Connection,
    tenant: &str,
    id: &str,
    deactivated: bool,
) -> ApiResult<Account> {
    conn.prepare_cached(
        "UPDATE accounts SET deactivated = :deactivated WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {":tenant": tenant, ":id": id, ":deactivated": deactivated})?;
    get(conn, tenant, id)
}

/// Active accounts whose role holds `tenant:manager`, leaving out one account and/or every
/// holder of one role (to ask "who would be left after this change?").
pub fn active_managers(
    conn: &Connection,
    tenant: &str,
    except_account: Option<&str>,
    except_role: Option<&str>,
) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM accounts a
             JOIN roles r ON r.tenant_id = a.tenant_id AND r.id = a.role_id
             WHERE a.tenant_id = :tenant AND a.deactivated = 0
               AND (:account IS NULL OR a.id != :account)
               AND (:role IS NULL OR a.role_id != :role)
               AND EXISTS (SELECT 1 FROM json_each(r.permissions) WHERE value = :scope)",
        )?
        .query_row(
            named_params! {
                ":tenant": tenant, ":account": except_account, ":role": except_role, ":scope": MANAGER,
            },
            |r| r.get(0),
        )?)
}

/// The calling member as `GET /user/me` shows it; `permissions` are the token's effective scopes.
pub fn me(conn: &Connection, tenant: &str, account: &str, permissions: &[String]) -> ApiResult<Me> {
    conn.prepare_cached(
        "SELECT u.id, u.first_name, u.last_name, u.email, t.id, t.name, a.role_id
         FROM accounts a JOIN users u ON u.id = a.user_id JOIN tenants t ON t.id = a.tenant_id
         WHERE a.id = :account AND a.tenant_id = :tenant",
    )?
    .query_row(
        named_params! {":tenant": tenant, ":account": account},
        |r| {
            Ok(Me {
                id: r.get(0)?,
                first_name: r.get(1)?,
                last_name: r.get(2)?,
                email: r.get(3)?,
                tenant: TenantRef {
                    id: r.get(4)?,
                    name: r.get(5)?,
                },
                role: r.get(6)?,
                permissions: permissions.to_vec(),
            })
        },
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found("Account"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite_req(email: &str, role: &str) -> InviteRequest {
        InviteRequest {
            email: email.into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            role: role.into(),
        }
    }

    #[test]
    fn invite_reuses_users_and_refuses_members() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "boss@a.test").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "boss@b.test").unwrap();
        let ann = invite(&conn, &a, &invite_req("ann@x.test", "user")).unwrap();
        assert_eq!(ann.user.first_name, "Ann");
        // The same person joins tenant b: one user, two memberships; e-mail case is ignored.
        let again = invite(&conn, &b, &invite_req("ANN@x.test", "read-only")).unwrap();
        assert_eq!(again.user.id, ann.user.id);
        assert!(matches!(
            invite(&conn, &a, &invite_req("ann@x.test", "user")),
            Err(ApiError::Conflict(_))
        ));
        // The bootstrap administrator had no names: an invitation fills them in.
        let boss = invite(&conn, &b, &invite_req("boss@a.test", "user")).unwrap();
        assert_eq!(boss.user.last_name, "Lee");
        assert!(matches!(
            get(&conn, &b, &ann.id),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn the_last_active_manager_stays() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "boss@a.test").unwrap();
        let boss_id: String = conn
            .query_row("SELECT id FROM accounts", [], |r| r.get(0))
            .unwrap();
        let boss = get(&conn, &a, &boss_id).unwrap();
        assert_eq!(active_managers(&conn, &a, None, None).unwrap(), 1);
        assert_eq!(active_managers(&conn, &a, Some(&boss.id), None).unwrap(), 0);
        assert_eq!(
            active_managers(&conn, &a, None, Some("administrator")).unwrap(),
            0
        );
        let conflict = |r: ApiResult<Account>| matches!(r, Err(ApiError::Conflict(_)));
        assert!(conflict(deactivate(&conn, &a, &boss)));
        assert!(conflict(change_role(&conn, &a, &boss, "accounting")));
        // Keeping the scope is fine even for the last manager.
        assert_eq!(
            change_role(&conn, &a, &boss, "administrator").unwrap().role,
            "administrator"
        );

        // A deactivated second administrator does not count ...
        let two = invite(&conn, &a, &invite_req("two@a.test", "administrator")).unwrap();
        let two = deactivate(&conn, &a, &two).unwrap();
        assert!(two.deactivated);
        assert!(conflict(deactivate(&conn, &a, &boss)));
        // ... an active one does.
        activate(&conn, &a, &two).unwrap();
        assert_eq!(
            change_role(&conn, &a, &boss, "read-only").unwrap().role,
            "read-only"
        );
        let two = get(&conn, &a, &two.id).unwrap();
        assert!(conflict(deactivate(&conn, &a, &two)));
        // A member without the scope can always be deactivated.
        let boss = get(&conn, &a, &boss.id).unwrap();
        assert!(deactivate(&conn, &a, &boss).unwrap().deactivated);
    }
}
