//! Creating tenants with their administrator and first API token (CLI `init`, `serve`, `tenant create`).

use crate::domain::ids::new_id;
use crate::domain::{numbering, permissions, time};
use crate::resources::api_tokens::store as tokens;
use rusqlite::{named_params, Connection, OptionalExtension};

/// True when the database holds at least one tenant.
pub fn has_tenant(conn: &Connection) -> Result<bool, String> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM tenants)", [], |r| r.get(0))
        .map_err(|e| e.to_string())
}

/// A URL-safe handle from a display name: `ACME GmbH` -> `acme-gmbh`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "tenant".into()
    } else {
        out
    }
}

/// Seeds the four predefined roles of a new tenant.
pub fn seed_roles(conn: &Connection, tenant: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "INSERT INTO roles (tenant_id, id, name, permissions, predefined, created_at)
         VALUES (:tenant, :id, :name, :permissions, 1, :now)",
    )?;
    for (id, name, scopes) in permissions::predefined_roles() {
        let perms = serde_json::to_string(&scopes).unwrap_or_else(|_| "[]".into());
        stmt.execute(named_params! {
            ":tenant": tenant, ":id": id, ":name": name, ":permissions": perms, ":now": time::now(),
        })?;
    }
    Ok(())
}

/// Seeds what every tenant's catalogue starts with: the unit "Stück", the default `quantity`
/// measurement (reference 10 §2.3) and the tax groups Standard, Reduced and Zero (03 §3.3).
pub fn seed_catalogue(conn: &Connection, tenant: &str) -> rusqlite::Result<()> {
    let now = time::now();
    let unit = new_id();
    conn.execute(
        "INSERT INTO units (id, tenant_id, translations, created_at, updated_at)
         VALUES (:id, :tenant, '{\"de\":\"Stück\",\"en\":\"Piece\"}', :now, :now)",
        named_params! {":id": unit, ":tenant": tenant, ":now": now},
    )?;
    conn.execute(
        "INSERT INTO measurements (id, tenant_id, code, description, unit_id, aggregation_type,
                                   fair_billing, is_default, created_at, updated_at)
         VALUES (:id, :tenant, 'quantity', 'Quantity', :unit, 'last_value', 1, 1, :now, :now)",
        named_params! {":id": new_id(), ":tenant": tenant, ":unit": unit, ":now": now},
    )?;
    for (name, kind, country, rate, description) in [
        ("Standard", "standard", "DE", "19", "19% MwSt."),
        ("Reduced", "reduced", "DE", "7", "7% MwSt."),
        ("Zero", "zero", "*", "0", "0%"),
    ] {
        let group = new_id();
        conn.execute(
            "INSERT INTO tax_groups (id, tenant_id, name, type, created_at, updated_at)
             VALUES (:id, :tenant, :name, :type, :now, :now)",
            named_params! {":id": group, ":tenant": tenant, ":name": name, ":type": kind, ":now": now},
        )?;
        conn.execute(
            "INSERT INTO tax_group_rates (tax_group_id, tenant_id, country_code, rate, description)
             VALUES (:group, :tenant, :country, :rate, :description)",
            named_params! {":group": group, ":tenant": tenant, ":country": country, ":rate": rate,
            ":description": description},
        )?;
    }
    Ok(())
}

/// Finds the user with this e-mail or creates one.
fn user_for(conn: &Connection, email: &str) -> rusqlite::Result<String> {
    let existing: Option<String> = conn
        .query_row("SELECT id FROM users WHERE email = ?1", [email], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = new_id();
    conn.execute(
        "INSERT INTO users (id, email, created_at) VALUES (:id, :email, :now)",
        named_params! {":id": id, ":email": email, ":now": time::now()},
    )?;
    Ok(id)
}

/// Creates a tenant, its roles and number ranges, an administrator account for `email`, and an
/// API token for it, all in one transaction. Returns `(tenant id, token secret)`.
pub fn create_tenant(
    conn: &Connection,
    name: &str,
    email: &str,
) -> Result<(String, String), String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err("the tenant name must have 1 to 255 characters".into());
    }
    if !crate::domain::validate::is_email(email) {
        return Err(format!("'{email}' is not a valid e-mail address"));
    }
    let run = || -> Result<(String, String), String> {
        let e = |e: rusqlite::Error| e.to_string();
        let tenant = new_id();
        let base = slug(name);
        let mut username = base.clone();
        let mut n = 1;
        while conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM tenants WHERE username = ?1)",
                [&username],
                |r| r.get::<_, bool>(0),
            )
            .map_err(e)?
        {
            n += 1;
            username = format!("{base}-{n}");
        }
        let now = time::now();
        conn.execute(
            "INSERT INTO tenants (id, name, username, legal_company_name, created_at, updated_at)
             VALUES (:id, :name, :username, :name, :now, :now)",
            named_params! {":id": tenant, ":name": name, ":username": username, ":now": now},
        )
        .map_err(e)?;
        seed_roles(conn, &tenant).map_err(e)?;
        numbering::seed(conn, &tenant).map_err(e)?;
        seed_catalogue(conn, &tenant).map_err(e)?;
        let user = user_for(conn, email).map_err(e)?;
        conn.execute(
            "INSERT INTO accounts (id, tenant_id, user_id, role_id, created_at)
             VALUES (:id, :tenant, :user, 'administrator', :now)",
            named_params! {":id": new_id(), ":tenant": tenant, ":user": user, ":now": now},
        )
        .map_err(e)?;
        let token = tokens::create(conn, &tenant, &user, Some("created by kontor CLI"), None)
            .map_err(|e| e.to_string())?;
        Ok((tenant, token.token))
    };
    conn.execute_batch("SAVEPOINT create_tenant")
        .map_err(|e| e.to_string())?;
    match run() {
        Ok(v) => {
            conn.execute_batch("RELEASE create_tenant")
                .map_err(|e| e.to_string())?;
            Ok(v)
        }
        Err(msg) => {
            let _ = conn.execute_batch("ROLLBACK TO create_tenant; RELEASE create_tenant");
            Err(msg)
        }
    }
}

/// A new API token for an existing member. Without `tenant`, the user's only tenant is used.
pub fn create_token(
    conn: &Connection,
    email: &str,
    tenant: Option<&str>,
    description: Option<&str>,
    expires_at: Option<&str>,
) -> Result<String, String> {
    let expires_at = match expires_at {
        None => None,
        Some(s) => match time::parse(s) {
            Some(t) if t > chrono::Utc::now() => Some(time::format(t)),
            _ => {
                return Err(format!(
                    "--expires-at '{s}' must be an RFC 3339 date-time in the future"
                ))
            }
        },
    };
    let mut stmt = conn
        .prepare(
            "SELECT a.tenant_id, u.id FROM accounts a JOIN users u ON u.id = a.user_id
             WHERE u.email = :email AND a.deactivated = 0 AND (:tenant IS NULL OR a.tenant_id = :tenant)",
        )
        .map_err(|e| e.to_string())?;
    let memberships = stmt
        .query_map(named_params! {":email": email, ":tenant": tenant}, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| e.to_string())?;
    let (tenant, user) = match memberships.as_slice() {
        [] => {
            return Err(format!(
                "no active member with e-mail '{email}' in that tenant"
            ))
        }
        [one] => one.clone(),
        _ => {
            return Err(format!(
                "'{email}' belongs to several tenants; choose one with --tenant"
            ))
        }
    };
    let token = tokens::create(conn, &tenant, &user, description, expires_at.as_deref())
        .map_err(|e| e.to_string())?;
    Ok(token.token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("ACME GmbH & Co. KG"), "acme-gmbh-co-kg");
        assert_eq!(slug("!!!"), "tenant");
    }

    #[test]
    fn second_tenant_for_same_user_needs_tenant_choice() {
        let conn = crate::db::memory();
        let (t1, _) = create_tenant(&conn, "Acme", "a@example.com").unwrap();
        create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let usernames: Vec<String> = conn
            .prepare("SELECT username FROM tenants ORDER BY username")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(usernames, vec!["acme", "acme-2"]);
        assert!(create_token(&conn, "a@example.com", None, None, None).is_err());
        assert!(create_token(&conn, "a@example.com", Some(&t1), None, None).is_ok());
        assert!(create_token(&conn, "nobody@example.com", None, None, None).is_err());
    }
}
