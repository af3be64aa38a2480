//! SQL for units. Translations are stored as one JSON object; every query is scoped to a tenant.
//! Also the tenant-locale lookup that measurements and products share.

use super::model::{Locale, Translations, Unit, UnitRef};
use crate::domain::ids::new_id;
use crate::domain::{settings, time};
use crate::error::{ApiError, ApiResult};
use crate::http::list::Page;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

/// The tenant's locale (`organization.locale`, default `de`) with the client's choice on top.
pub fn locale(conn: &Connection, tenant: &str, requested: Option<&str>) -> ApiResult<Locale> {
    let value = settings::get(conn, tenant, "organization", "locale")?;
    Ok(Locale::new(requested, value.as_str().unwrap_or("de")))
}

type RawUnit = (String, String, String, String);

fn raw(r: &Row) -> rusqlite::Result<RawUnit> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

/// Decoded outside the row closure so a corrupt JSON column is a logged 500, not an empty map.
fn decode((id, translations, created_at, updated_at): RawUnit, locale: &Locale) -> ApiResult<Unit> {
    let translations: Translations = serde_json::from_str(&translations)?;
    Ok(Unit {
        id,
        name: locale.pick(&translations),
        translations,
        created_at,
        updated_at,
    })
}

/// Units of the tenant, oldest first (the seeded unit leads).
pub fn list(
    conn: &Connection,
    tenant: &str,
    page: &Page,
    locale: &Locale,
) -> ApiResult<(Vec<Unit>, i64)> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM units WHERE tenant_id = :tenant")?
        .query_row(named_params! {":tenant": tenant}, |r| r.get(0))?;
    let rows = conn
        .prepare_cached(
            "SELECT id, translations, created_at, updated_at FROM units WHERE tenant_id = :tenant
             ORDER BY created_at, id LIMIT :limit OFFSET :offset",
        )?
        .query_map(
            named_params! {":tenant": tenant, ":limit": page.limit, ":offset": page.offset()},
            raw,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let items = rows
        .into_iter()
        .map(|row| decode(row, locale))
        .collect::<ApiResult<_>>()?;
    Ok((items, total))
}

/// One unit of the tenant; 404 when the tenant has none with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str, locale: &Locale) -> ApiResult<Unit> {
    let row = conn
        .prepare_cached(
            "SELECT id, translations, created_at, updated_at FROM units
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(row) => decode(row, locale),
        None => Err(ApiError::not_found("Unit")),
    }
}

/// The `{id, name}` embed used by measurements.
pub fn summary(conn: &Connection, tenant: &str, id: &str, locale: &Locale) -> ApiResult<UnitRef> {
    let unit = get(conn, tenant, id, locale)?;
    Ok(UnitRef {
        id: unit.id,
        name: unit.name,
    })
}

/// Whether the tenant has a unit with this id (for references in bodies: 422, not 404).
pub fn exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM units WHERE tenant_id = :tenant AND id = :id)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

pub fn create(
    conn: &Connection,
    tenant: &str,
    translations: &Translations,
    locale: &Locale,
) -> ApiResult<Unit> {
    let id = new_id();
    let now = time::now();
    conn.prepare_cached(
        "INSERT INTO units (id, tenant_id, translations, created_at, updated_at)
         VALUES (:id, :tenant, :translations, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant,
        ":translations": serde_json::to_string(translations)?, ":now": now,
    })?;
    get(conn, tenant, &id, locale)
}

/// Replaces the translations; 404 when the tenant has no such unit.
pub fn replace(
    conn: &Connection,
    tenant: &str,
    id: &str,
    translations: &Translations,
    locale: &Locale,
) -> ApiResult<Unit> {
    let n = conn
        .prepare_cached(
            "UPDATE units SET translations = :translations, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .execute(named_params! {
            ":tenant": tenant, ":id": id,
            ":translations": serde_json::to_string(translations)?, ":now": time::now(),
        })?;
    if n == 0 {
        return Err(ApiError::not_found("Unit"));
    }
    get(conn, tenant, id, locale)
}

/// Deletes a unit; 404 when missing. A reference the caller did not check (a table added by a
/// later slice) still trips the foreign key, and that is a 409, never a 500.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let result = conn
        .prepare_cached("DELETE FROM units WHERE tenant_id = :tenant AND id = :id")?
        .execute(named_params! {":tenant": tenant, ":id": id});
    match result {
        Ok(0) => Err(ApiError::not_found("Unit")),
        Ok(_) => Ok(()),
        Err(e) if is_foreign_key_error(&e) => Err(ApiError::Conflict(
            "The unit is still in use and cannot be deleted.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// SQLite's "FOREIGN KEY constraint failed" (extended code SQLITE_CONSTRAINT_FOREIGNKEY).
pub fn is_foreign_key_error(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
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

    fn tr(de: &str) -> Translations {
        [("de".to_string(), de.to_string())].into_iter().collect()
    }

    #[test]
    fn seeded_unit_and_tenant_scoping() {
        let (conn, a, b) = setup();
        let de = locale(&conn, &a, None).unwrap();
        assert_eq!(de.tenant, "de");
        let (items, total) = list(&conn, &a, &Page { page: 1, limit: 30 }, &de).unwrap();
        assert_eq!((total, items[0].name.as_str()), (1, "Stück"));
        let en = locale(&conn, &a, Some("en")).unwrap();
        assert_eq!(get(&conn, &a, &items[0].id, &en).unwrap().name, "Piece");

        let hour = create(&conn, &a, &tr("Stunde"), &de).unwrap();
        assert!(exists(&conn, &a, &hour.id).unwrap());
        assert!(!exists(&conn, &b, &hour.id).unwrap());
        assert!(matches!(
            get(&conn, &b, &hour.id, &de),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            replace(&conn, &b, &hour.id, &tr("X"), &de),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            delete(&conn, &b, &hour.id),
            Err(ApiError::NotFound(_))
        ));
        let renamed = replace(&conn, &a, &hour.id, &tr("Std."), &de).unwrap();
        assert_eq!(renamed.name, "Std.");
        delete(&conn, &a, &hour.id).unwrap();
        assert!(!exists(&conn, &a, &hour.id).unwrap());
    }

    #[test]
    fn a_referenced_unit_is_a_conflict_not_a_500() {
        let (conn, a, _) = setup();
        let de = locale(&conn, &a, None).unwrap();
        let (items, _) = list(&conn, &a, &Page { page: 1, limit: 30 }, &de).unwrap();
        // The seeded `quantity` measurement uses the seeded unit.
        assert!(matches!(
            delete(&conn, &a, &items[0].id),
            Err(ApiError::Conflict(_))
        ));
    }
}
