//! The read shape of stored products: the row, and its embeds (measurement with unit, tax
//! group, families) looked up once per request.

use super::model::{CostCentreRef, Product, TaxGroupRef};
use crate::error::{ApiError, ApiResult};
use crate::resources::measurements::model::Measurement;
use crate::resources::measurements::store as measurements;
use crate::resources::product_families::model::FamilyRef;
use crate::resources::units::model::Locale;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use std::collections::HashMap;

/// The `products` columns in the order `raw` reads them.
pub const COLUMNS: &str = "id, type, name, description, internal_name, number, measurement_id,
                       tax_group_id, invoice_visibility, cost_centre_id, is_archived,
                       custom_fields, created_at, updated_at";

/// One `products` row as stored (custom fields still JSON text).
pub struct RawProduct {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub internal_name: Option<String>,
    pub number: Option<String>,
    pub measurement_id: String,
    pub tax_group_id: String,
    pub invoice_visibility: String,
    pub cost_centre_id: Option<String>,
    pub is_archived: bool,
    pub custom_fields: String,
    pub created_at: String,
    pub updated_at: String,
}

pub fn raw(r: &Row) -> rusqlite::Result<RawProduct> {
    Ok(RawProduct {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        internal_name: r.get(4)?,
        number: r.get(5)?,
        measurement_id: r.get(6)?,
        tax_group_id: r.get(7)?,
        invoice_visibility: r.get(8)?,
        cost_centre_id: r.get(9)?,
        is_archived: r.get(10)?,
        custom_fields: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

/// Embeds looked up once per list page: most products share a few measurements and groups.
#[derive(Default)]
pub struct Embeds {
    measurements: HashMap<String, Measurement>,
    tax_groups: HashMap<String, TaxGroupRef>,
}

fn tax_group_ref(conn: &Connection, tenant: &str, id: &str) -> ApiResult<TaxGroupRef> {
    conn.prepare_cached(
        "SELECT id, name, type FROM tax_groups WHERE tenant_id = :tenant AND id = :id",
    )?
    .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
        Ok(TaxGroupRef {
            id: r.get(0)?,
            internal_description: r.get(1)?,
            reverse_charge_type: None,
            kind: r.get(2)?,
        })
    })
    .optional()?
    // The foreign key makes this unreachable unless the data is corrupt: a 500, logged.
    .ok_or_else(|| ApiError::Internal(format!("product tax group {id} is missing")))
}

pub fn family_refs(conn: &Connection, product_id: &str) -> ApiResult<Vec<FamilyRef>> {
    Ok(conn
        .prepare_cached(
            "SELECT f.id, f.name FROM product_family_products pf
             JOIN product_families f ON f.id = pf.family_id
             WHERE pf.product_id = :product ORDER BY f.name, f.id",
        )?
        .query_map(named_params! {":product": product_id}, |r| {
            Ok(FamilyRef {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?)
}

/// The read shape of one row; `embeds` carries lookups over from earlier rows of the page.
pub fn assemble(
    conn: &Connection,
    tenant: &str,
    p: RawProduct,
    locale: &Locale,
    embeds: &mut Embeds,
) -> ApiResult<Product> {
    let measurement = match embeds.measurements.get(&p.measurement_id) {
        Some(m) => m.clone(),
        None => {
            let m = measurements::get(conn, tenant, &p.measurement_id, locale)?;
            embeds
                .measurements
                .insert(p.measurement_id.clone(), m.clone());
            m
        }
    };
    let tax_group = match embeds.tax_groups.get(&p.tax_group_id) {
        Some(t) => t.clone(),
        None => {
            let t = tax_group_ref(conn, tenant, &p.tax_group_id)?;
            embeds.tax_groups.insert(p.tax_group_id.clone(), t.clone());
            t
        }
    };
    // Values of deleted definitions stay stored but are not shown (as for customers).
    let stored: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&p.custom_fields)?;
    Ok(Product {
        product_families: family_refs(conn, &p.id)?,
        custom_fields: crate::domain::custom_fields::visible(
            conn,
            tenant,
            crate::domain::custom_fields::Entity::Product,
            &stored,
        )?,
        id: p.id,
        kind: p.kind,
        name: p.name,
        description: p.description,
        internal_name: p.internal_name,
        number: p.number,
        measurement,
        tax_group,
        invoice_visibility: p.invoice_visibility,
        cost_centre: p.cost_centre_id.map(|id| CostCentreRef { id }),
        is_archived: p.is_archived,
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
}
