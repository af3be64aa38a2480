//! SQL for custom field definitions. `choices` is stored as a JSON array; every query is scoped
//! to one tenant.

use super::model::{CreateRequest, CustomField, ReplaceRequest};
use crate::domain::custom_fields::{Choice, Definition, Entity, FieldType};
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "id, entity, name, label, type, choices, required, created_at, updated_at";

/// Sortable fields of the list and their columns.
const ORDER: &[(&str, &str)] = &[
    ("name", "name"),
    ("label", "label"),
    ("createdAt", "created_at"),
];

/// The raw row; `choices` is decoded outside the row closure so that a corrupt value becomes a
/// logged 500 instead of silently reading as "no choices".
type RawField = (CustomField, String);

fn raw(r: &Row) -> rusqlite::Result<RawField> {
    Ok((
        CustomField {
            id: r.get(0)?,
            entity: r.get(1)?,
            name: r.get(2)?,
            label: r.get(3)?,
            field_type: r.get(4)?,
            choices: Vec::new(),
            required: r.get(6)?,
            created_at: r.get(7)?,
            updated_at: r.get(8)?,
        },
        r.get(5)?,
    ))
}

fn decode((mut field, choices): RawField) -> ApiResult<CustomField> {
    field.choices = serde_json::from_str(&choices)?;
    Ok(field)
}

/// One page of the tenant's definitions, optionally filtered by `entity`.
pub fn list(
    conn: &Connection,
    tenant: &str,
    query: &Query,
    page: &Page,
) -> ApiResult<(Vec<CustomField>, i64)> {
    let mut filter = Filter::for_tenant("tenant_id", tenant);
    filter.eq_enum(query, "entity", "entity", Entity::NAMES)?;
    let order = order_by(query, ORDER, "created_at, id")?;
    let (rows, total) = filter.fetch_page(conn, "custom_fields", COLUMNS, &order, page, raw)?;
    let items = rows.into_iter().map(decode).collect::<ApiResult<_>>()?;
    Ok((items, total))
}

/// One definition of the tenant; 404 when there is none with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<CustomField> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM custom_fields WHERE tenant_id = :tenant AND id = :id"
        ))?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(row) => decode(row),
        None => Err(ApiError::not_found("Custom field")),
    }
}

pub fn name_taken(conn: &Connection, tenant: &str, entity: Entity, name: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM custom_fields
             WHERE tenant_id = :tenant AND entity = :entity AND name = :name)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":entity": entity.as_str(), ":name": name},
            |r| r.get(0),
        )?)
}

pub fn create(conn: &Connection, tenant: &str, req: &CreateRequest) -> ApiResult<CustomField> {
    let id = new_id();
    let now = time::now();
    conn.prepare_cached(
        "INSERT INTO custom_fields
            (id, tenant_id, entity, name, label, type, choices, required, created_at, updated_at)
         VALUES (:id, :tenant, :entity, :name, :label, :type, :choices, :required, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":entity": req.entity.as_str(), ":name": req.name,
        ":label": req.label, ":type": req.field_type.as_str(),
        ":choices": serde_json::to_string(&req.choices)?, ":required": req.required, ":now": now,
    })?;
    get(conn, tenant, &id)
}

pub fn replace(
    conn: &Connection,
    tenant: &str,
    id: &str,
    req: &ReplaceRequest,
) -> ApiResult<CustomField> {
    let n = conn
        .prepare_cached(
            "UPDATE custom_fields SET label = :label, choices = :choices, required = :required,
                 updated_at = :now
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .execute(named_params! {
            ":label": req.label, ":choices": serde_json::to_string(&req.choices)?,
            ":required": req.required, ":now": time::now(), ":tenant": tenant, ":id": id,
        })?;
    if n == 0 {
        return Err(ApiError::not_found("Custom field"));
    }
    get(conn, tenant, id)
}

/// Deletes a definition; values stored under its name stay in their owners' rows.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let n = conn
        .prepare_cached("DELETE FROM custom_fields WHERE tenant_id = :tenant AND id = :id")?
        .execute(named_params! {":tenant": tenant, ":id": id})?;
    if n == 0 {
        return Err(ApiError::not_found("Custom field"));
    }
    Ok(())
}

/// Every definition of one entity, for validating and filtering `customFields` maps.
pub fn definitions(conn: &Connection, tenant: &str, entity: Entity) -> ApiResult<Vec<Definition>> {
    let rows = conn
        .prepare_cached(
            "SELECT name, type, choices, required FROM custom_fields
             WHERE tenant_id = :tenant AND entity = :entity ORDER BY name",
        )?
        .query_map(
            named_params! {":tenant": tenant, ":entity": entity.as_str()},
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(name, field_type, choices, required)| {
            // The CHECK constraint allows only known types; anything else is a corrupt row.
            let field_type = FieldType::parse(&field_type).ok_or_else(|| {
                ApiError::Internal(format!(
                    "custom field '{name}' has unknown type '{field_type}'"
                ))
            })?;
            let choices: Vec<Choice> = serde_json::from_str(&choices)?;
            Ok(Definition {
                name,
                field_type,
                choices,
                required,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::input::Input;

    fn create_json(conn: &Connection, tenant: &str, body: &str) -> CustomField {
        let input = Input::parse(body.as_bytes()).unwrap();
        let req = CreateRequest::from_input(input, &|e, n| name_taken(conn, tenant, e, n)).unwrap();
        create(conn, tenant, &req).unwrap()
    }

    #[test]
    fn definitions_are_per_tenant_and_entity() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "A", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "B", "b@example.com").unwrap();
        let f = create_json(
            &conn,
            &a,
            r#"{"entity":"customer","name":"tier","label":"Tier","type":"single_select","choices":["gold"],"required":true}"#,
        );
        assert_eq!(f.choices[0].value, "gold");
        assert!(name_taken(&conn, &a, Entity::Customer, "tier").unwrap());
        assert!(!name_taken(&conn, &a, Entity::Product, "tier").unwrap());
        assert!(!name_taken(&conn, &b, Entity::Customer, "tier").unwrap());
        let defs = definitions(&conn, &a, Entity::Customer).unwrap();
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].field_type, FieldType::SingleSelect);
        assert!(defs[0].required);
        assert!(definitions(&conn, &b, Entity::Customer).unwrap().is_empty());
        assert!(matches!(get(&conn, &b, &f.id), Err(ApiError::NotFound(_))));
        assert!(matches!(
            delete(&conn, &b, &f.id),
            Err(ApiError::NotFound(_))
        ));
        delete(&conn, &a, &f.id).unwrap();
        assert!(definitions(&conn, &a, Entity::Customer).unwrap().is_empty());
    }
}
