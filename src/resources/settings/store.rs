//! SQL for tenant settings: one row per stored key; absent rows read as defaults.

use super::model::Change;
use crate::domain::settings;
use crate::error::{ApiError, ApiResult};
use rusqlite::Connection;
use serde_json::{Map, Value};

fn known(context: &str) -> ApiResult<()> {
    if settings::CONTEXTS.contains(&context) {
        Ok(())
    } else {
        Err(ApiError::not_found(&format!(
            "Settings context '{context}'"
        )))
    }
}

/// The context as the API shows it: defaults filled in, secrets masked.
pub fn read(conn: &Connection, tenant: &str, context: &str) -> ApiResult<Map<String, Value>> {
    known(context)?;
    settings::context(conn, tenant, context)
}

/// The effective values of a context, secrets included (never answered to a client).
pub fn effective(conn: &Connection, tenant: &str, context: &str) -> ApiResult<Map<String, Value>> {
    known(context)?;
    let mut out = Map::new();
    for k in settings::TENANT_KEYS
        .iter()
        .filter(|k| k.context == context)
    {
        out.insert(
            k.key.to_string(),
            settings::get(conn, tenant, context, k.key)?,
        );
    }
    Ok(out)
}

/// Applies validated changes in the request's transaction.
pub fn apply(conn: &Connection, tenant: &str, context: &str, changes: &[Change]) -> ApiResult<()> {
    known(context)?;
    for change in changes {
        match change {
            Change::Set(key, value) => settings::put(conn, tenant, context, key, value)?,
            Change::Reset(key) => settings::remove(conn, tenant, context, key)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_reset_and_mask() {
        let conn = crate::db::memory();
        let (t, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        assert!(matches!(
            read(&conn, &t, "nope"),
            Err(ApiError::NotFound(_))
        ));
        assert_eq!(
            read(&conn, &t, "mail").unwrap()["smtpPassword"],
            Value::Null
        );
        apply(
            &conn,
            &t,
            "mail",
            &[
                Change::Set("smtpPassword", json!("s3cret")),
                Change::Set("smtpPort", json!(465)),
            ],
        )
        .unwrap();
        let mail = read(&conn, &t, "mail").unwrap();
        assert_eq!(mail["smtpPassword"], json!(settings::SECRET_MASK));
        assert_eq!(mail["smtpPort"], json!(465));
        assert_eq!(
            effective(&conn, &t, "mail").unwrap()["smtpPassword"],
            json!("s3cret")
        );
        apply(&conn, &t, "mail", &[Change::Reset("smtpPort")]).unwrap();
        assert_eq!(read(&conn, &t, "mail").unwrap()["smtpPort"], json!(587));
    }
}
