//! SQL for catalogue measurements, scoped to one tenant, plus the lookups other slices use:
//! the tenant's default `quantity` measurement, existence, and usage of a unit.

use super::model::{Lookup as ModelLookup, Measurement, MeasurementData};
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use crate::resources::units::model::Locale;
use crate::resources::units::store as units;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "id, code, description, unit_id, aggregation_type, fair_billing, type,
                       is_default, created_at, updated_at";

struct RawMeasurement {
    id: String,
    code: String,
    description: String,
    unit_id: String,
    aggregation_type: String,
    fair_billing: bool,
    kind: String,
    is_default: bool,
    created_at: String,
    updated_at: String,
}

fn raw(r: &Row) -> rusqlite::Result<RawMeasurement> {
    Ok(RawMeasurement {
        id: r.get(0)?,
        code: r.get(1)?,
        description: r.get(2)?,
        unit_id: r.get(3)?,
        aggregation_type: r.get(4)?,
        fair_billing: r.get(5)?,
        kind: r.get(6)?,
        is_default: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Adds the `{id, name}` of the unit in the requested locale.
fn decode(
    conn: &Connection,
    tenant: &str,
    m: RawMeasurement,
    locale: &Locale,
) -> ApiResult<Measurement> {
    Ok(Measurement {
        unit: units::summary(conn, tenant, &m.unit_id, locale)?,
        id: m.id,
        code: m.code,
        description: m.description,
        aggregation_type: m.aggregation_type,
        fair_billing: m.fair_billing,
        kind: m.kind,
        created_at: m.created_at,
        updated_at: m.updated_at,
        is_default: m.is_default,
    })
}

/// Measurements of the tenant; filter `code` (also `code[]`), sortable by `code`, `createdAt`.
pub fn list(
    conn: &Connection,
    tenant: &str,
    query: &Query,
    page: &Page,
    locale: &Locale,
) -> ApiResult<(Vec<Measurement>, i64)> {
    let mut filter = Filter::for_tenant("tenant_id", tenant);
    filter.eq(query, "code", "code");
    let order = order_by(
        query,
        &[("code", "code"), ("createdAt", "created_at")],
        "created_at, id",
    )?;
    let (rows, total) = filter.fetch_page(conn, "measurements", COLUMNS, &order, page, raw)?;
    let items = rows
        .into_iter()
        .map(|m| decode(conn, tenant, m, locale))
        .collect::<ApiResult<_>>()?;
    Ok((items, total))
}

/// One measurement of the tenant; 404 when the tenant has none with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str, locale: &Locale) -> ApiResult<Measurement> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM measurements WHERE tenant_id = :tenant AND id = :id"
        ))?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(m) => decode(conn, tenant, m, locale),
        None => Err(ApiError::not_found("Measurement")),
    }
}

/// Whether the tenant has a measurement with this id (for references in bodies).
pub fn exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM measurements WHERE tenant_id = :tenant AND id = :id)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

/// The id of the tenant's default measurement (`quantity`, seeded with the tenant); `None`
/// only for a tenant created without the catalogue seed.
pub fn default_id(conn: &Connection, tenant: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM measurements WHERE tenant_id = :tenant AND is_default = 1
             ORDER BY created_at LIMIT 1",
        )?
        .query_row(named_params! {":tenant": tenant}, |r| r.get(0))
        .optional()?)
}

/// The id of the tenant's measurement with this `code` (usage is reported by code).
pub fn id_by_code(conn: &Connection, tenant: &str, code: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT id FROM measurements WHERE tenant_id = :tenant AND code = :code")?
        .query_row(named_params! {":tenant": tenant, ":code": code}, |r| {
            r.get(0)
        })
        .optional()?)
}

/// How many measurements of the tenant use the unit (a unit in use cannot be deleted).
pub fn using_unit(conn: &Connection, tenant: &str, unit_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM measurements WHERE tenant_id = :tenant AND unit_id = :unit",
        )?
        .query_row(named_params! {":tenant": tenant, ":unit": unit_id}, |r| {
            r.get(0)
        })?)
}

pub fn create(
    conn: &Connection,
    tenant: &str,
    data: &MeasurementData,
    locale: &Locale,
) -> ApiResult<Measurement> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO measurements (id, tenant_id, code, description, unit_id, aggregation_type,
                                   fair_billing, created_at, updated_at)
         VALUES (:id, :tenant, :code, :description, :unit, :aggregation, :fair, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":code": data.code, ":description": data.description,
        ":unit": data.unit_id, ":aggregation": data.aggregation_type,
        ":fair": data.fair_billing, ":now": time::now(),
    })?;
    get(conn, tenant, &id, locale)
}

/// Writes the checked fields back. The aggregation type is not written: it is fixed at creation,
/// and repeating that in SQL keeps a caller that skipped the check from changing it.
pub fn update(
    conn: &Connection,
    tenant: &str,
    id: &str,
    data: &MeasurementData,
    locale: &Locale,
) -> ApiResult<Measurement> {
    let n = conn
        .prepare_cached(
            "UPDATE measurements SET code = :code, description = :description, unit_id = :unit,
                fair_billing = :fair, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .execute(named_params! {
            ":tenant": tenant, ":id": id, ":code": data.code, ":description": data.description,
            ":unit": data.unit_id, ":fair": data.fair_billing, ":now": time::now(),
        })?;
    if n == 0 {
        return Err(ApiError::not_found("Measurement"));
    }
    get(conn, tenant, id, locale)
}

/// Deletes a measurement that is not the default; 404 when there is no such (non-default)
/// measurement. A reference left unchecked by the caller trips the foreign key: 409.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let result = conn
        .prepare_cached(
            "DELETE FROM measurements WHERE tenant_id = :tenant AND id = :id AND is_default = 0",
        )?
        .execute(named_params! {":tenant": tenant, ":id": id});
    match result {
        Ok(0) => Err(ApiError::not_found("Measurement")),
        Ok(_) => Ok(()),
        Err(e) if units::is_foreign_key_error(&e) => Err(ApiError::Conflict(
            "The measurement is still in use and cannot be deleted.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The checks' view of the database: one tenant inside the request's transaction.
pub struct Lookup<'a> {
    pub conn: &'a Connection,
    pub tenant: &'a str,
}

impl ModelLookup for Lookup<'_> {
    fn unit_exists(&self, id: &str) -> ApiResult<bool> {
        units::exists(self.conn, self.tenant, id)
    }

    fn code_taken(&self, code: &str, except: Option<&str>) -> ApiResult<bool> {
        Ok(id_by_code(self.conn, self.tenant, code)?.is_some_and(|id| Some(id.as_str()) != except))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Connection, String, String, Locale) {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "b@example.com").unwrap();
        let locale = units::locale(&conn, &a, None).unwrap();
        (conn, a, b, locale)
    }

    fn users(unit_id: &str) -> MeasurementData {
        MeasurementData {
            code: "users".into(),
            description: "Users".into(),
            unit_id: unit_id.into(),
            aggregation_type: "max".into(),
            fair_billing: true,
        }
    }

    #[test]
    fn seeded_default_and_lookups() {
        let (conn, a, b, locale) = setup();
        let quantity = default_id(&conn, &a).unwrap().unwrap();
        let m = get(&conn, &a, &quantity, &locale).unwrap();
        assert_eq!(
            (
                m.code.as_str(),
                m.aggregation_type.as_str(),
                m.fair_billing,
                m.is_default
            ),
            ("quantity", "last_value", true, true)
        );
        assert_eq!(m.unit.name, "Stück");
        assert_eq!(
            id_by_code(&conn, &a, "quantity").unwrap(),
            Some(quantity.clone())
        );
        assert_ne!(default_id(&conn, &b).unwrap(), Some(quantity.clone()));
        assert_eq!(using_unit(&conn, &a, &m.unit.id).unwrap(), 1);
        assert!(matches!(
            delete(&conn, &a, &quantity),
            Err(ApiError::NotFound(_))
        ));
        assert!(exists(&conn, &a, &quantity).unwrap());
        assert!(!exists(&conn, &b, &quantity).unwrap());
    }

    #[test]
    fn create_update_delete_scoped_by_tenant() {
        let (conn, a, b, locale) = setup();
        let unit = get(&conn, &a, &default_id(&conn, &a).unwrap().unwrap(), &locale)
            .unwrap()
            .unit
            .id;
        let m = create(&conn, &a, &users(&unit), &locale).unwrap();
        let lookup = Lookup {
            conn: &conn,
            tenant: &a,
        };
        assert!(lookup.code_taken("users", None).unwrap());
        assert!(!lookup.code_taken("users", Some(&m.id)).unwrap());
        assert!(!Lookup {
            conn: &conn,
            tenant: &b
        }
        .code_taken("users", None)
        .unwrap());

        let mut changed = users(&unit);
        changed.aggregation_type = "sum".into();
        changed.description = "Seats".into();
        let m2 = update(&conn, &a, &m.id, &changed, &locale).unwrap();
        assert_eq!(
            (m2.description.as_str(), m2.aggregation_type.as_str()),
            ("Seats", "max")
        );
        assert!(matches!(
            update(&conn, &b, &m.id, &changed, &locale),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            delete(&conn, &b, &m.id),
            Err(ApiError::NotFound(_))
        ));
        delete(&conn, &a, &m.id).unwrap();
        assert!(!exists(&conn, &a, &m.id).unwrap());
    }
}
