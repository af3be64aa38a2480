//! SQL for products and their family memberships, scoped to one tenant, plus the small lookups
//! other slices (price plans, coupons, measurements, families, tax groups) call.

use super::embed::{assemble, family_refs, raw, Embeds, RawProduct, COLUMNS};
use super::model::{Product, ProductData};
use crate::domain::custom_fields::{self, Entity};
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult, Violation};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use crate::resources::measurements::store as measurements;
use crate::resources::product_families::store as families;
use crate::resources::units::model::Locale;
use rusqlite::{named_params, Connection, OptionalExtension};
use serde_json::{Map, Value};

/// Products of the tenant for `GET /catalogue/products`: never `plan` products (plan-internal),
/// archived ones only with `showArchived=true`; filter `type` (`product` | `charge`), sortable
/// by `name` and `createdAt`.
pub fn list(
    conn: &Connection,
    tenant: &str,
    query: &Query,
    page: &Page,
    locale: &Locale,
) -> ApiResult<(Vec<Product>, i64)> {
    let mut filter = Filter::for_tenant("tenant_id", tenant);
    filter.raw("type <> 'plan'");
    if !query.flag("showArchived")?.unwrap_or(false) {
        filter.raw("is_archived = 0");
    }
    filter.eq_enum(query, "type", "type", &["product", "charge"])?;
    let order = order_by(
        query,
        &[("name", "name"), ("createdAt", "created_at")],
        "created_at, id",
    )?;
    let (rows, total) = filter.fetch_page(conn, "products", COLUMNS, &order, page, raw)?;
    let mut embeds = Embeds::default();
    let items = rows
        .into_iter()
        .map(|p| assemble(conn, tenant, p, locale, &mut embeds))
        .collect::<ApiResult<_>>()?;
    Ok((items, total))
}

fn row(conn: &Connection, tenant: &str, id: &str) -> ApiResult<RawProduct> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM products WHERE tenant_id = :tenant AND id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Product"))
}

/// One product of the tenant in its read shape (archived and `plan` products included); 404
/// when the tenant has none with this id. Other slices embed products with this.
pub fn get(conn: &Connection, tenant: &str, id: &str, locale: &Locale) -> ApiResult<Product> {
    let p = row(conn, tenant, id)?;
    assemble(conn, tenant, p, locale, &mut Embeds::default())
}

/// The writable fields as stored, for an update to merge into; 404 like `get`.
pub fn data(conn: &Connection, tenant: &str, id: &str) -> ApiResult<ProductData> {
    let p = row(conn, tenant, id)?;
    let family_ids = family_refs(conn, &p.id)?
        .into_iter()
        .map(|f| f.id)
        .collect();
    Ok(ProductData {
        kind: p.kind,
        name: p.name,
        description: p.description,
        internal_name: p.internal_name,
        number: p.number,
        measurement_id: p.measurement_id,
        family_ids,
        tax_group_id: p.tax_group_id,
        invoice_visibility: p.invoice_visibility,
        cost_centre_id: p.cost_centre_id,
        custom_fields: serde_json::from_str(&p.custom_fields)?,
    })
}

fn set_families(conn: &Connection, tenant: &str, id: &str, family_ids: &[String]) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM product_family_products WHERE product_id = :id")?
        .execute(named_params! {":id": id})?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO product_family_products (product_id, family_id, tenant_id)
         VALUES (:product, :family, :tenant)",
    )?;
    for family in family_ids {
        insert.execute(named_params! {":product": id, ":family": family, ":tenant": tenant})?;
    }
    Ok(())
}

/// Inserts a checked product with its families; returns its id.
pub fn create(conn: &Connection, tenant: &str, data: &ProductData) -> ApiResult<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO products (id, tenant_id, type, name, description, internal_name, number,
                               measurement_id, tax_group_id, invoice_visibility, cost_centre_id,
                               custom_fields, created_at, updated_at)
         VALUES (:id, :tenant, :type, :name, :description, :internal_name, :number,
                 :measurement, :tax_group, :visibility, :cost_centre, :custom_fields, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":type": data.kind, ":name": data.name,
        ":description": data.description, ":internal_name": data.internal_name,
        ":number": data.number, ":measurement": data.measurement_id,
        ":tax_group": data.tax_group_id, ":visibility": data.invoice_visibility,
        ":cost_centre": data.cost_centre_id,
        ":custom_fields": serde_json::to_string(&data.custom_fields)?, ":now": time::now(),
    })?;
    set_families(conn, tenant, &id, &data.family_ids)?;
    Ok(id)
}

/// Writes the checked fields back; `type` is fixed at creation and therefore never written.
/// 404 when the tenant has no such product.
pub fn update(conn: &Connection, tenant: &str, id: &str, data: &ProductData) -> ApiResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE products SET name = :name, description = :description,
                internal_name = :internal_name, number = :number, measurement_id = :measurement,
                tax_group_id = :tax_group, invoice_visibility = :visibility,
                cost_centre_id = :cost_centre, custom_fields = :custom_fields, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .execute(named_params! {
            ":id": id, ":tenant": tenant, ":name": data.name,
            ":description": data.description, ":internal_name": data.internal_name,
            ":number": data.number, ":measurement": data.measurement_id,
            ":tax_group": data.tax_group_id, ":visibility": data.invoice_visibility,
            ":cost_centre": data.cost_centre_id,
            ":custom_fields": serde_json::to_string(&data.custom_fields)?, ":now": time::now(),
        })?;
    if n == 0 {
        return Err(ApiError::not_found("Product"));
    }
    set_families(conn, tenant, id, &data.family_ids)
}

/// Archives a product. `Ok(false)` when it was archived already (nothing changed); 404 when
/// the tenant has no such product.
pub fn archive(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE products SET is_archived = 1, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id AND is_archived = 0",
        )?
        .execute(named_params! {":tenant": tenant, ":id": id, ":now": time::now()})?;
    if n == 0 {
        row(conn, tenant, id)?;
    }
    Ok(n > 0)
}

// ---- Lookups for other slices -------------------------------------------------------------

/// Whether the tenant has this product, archived or not.
pub fn exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM products WHERE tenant_id = :tenant AND id = :id)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

/// Whether the tenant has this product and it is not archived: what new price plans,
/// subscriptions, coupons and checkout links may refer to (reference 10 §3.4). The product
/// `type` is not judged here; callers that refuse `plan` products read it from `refs`.
pub fn exists_active(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM products
                            WHERE tenant_id = :tenant AND id = :id AND is_archived = 0)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

/// The references billing needs from a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRefs {
    /// `product`, `charge` or `plan`.
    pub kind: String,
    /// The tax group that decides the product's VAT rate.
    pub tax_group_id: String,
    /// The measurement that yields the billed quantity.
    pub measurement_id: String,
    pub is_archived: bool,
}

/// Type, tax group id, measurement id and archive flag of one product; `None` when the tenant
/// has no product with this id.
pub fn refs(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Option<ProductRefs>> {
    Ok(conn
        .prepare_cached(
            "SELECT type, tax_group_id, measurement_id, is_archived FROM products
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok(ProductRefs {
                kind: r.get(0)?,
                tax_group_id: r.get(1)?,
                measurement_id: r.get(2)?,
                is_archived: r.get(3)?,
            })
        })
        .optional()?)
}

/// How many products (archived included) use the measurement.
pub fn using_measurement(conn: &Connection, tenant: &str, measurement_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM products WHERE tenant_id = :tenant AND measurement_id = :m",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":m": measurement_id},
            |r| r.get(0),
        )?)
}

/// How many products (archived included) use the tax group; a group in use must not be deleted.
pub fn using_tax_group(conn: &Connection, tenant: &str, tax_group_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM products WHERE tenant_id = :tenant AND tax_group_id = :g",
        )?
        .query_row(named_params! {":tenant": tenant, ":g": tax_group_id}, |r| {
            r.get(0)
        })?)
}

/// How many products (archived included) are in the family.
pub fn in_family(conn: &Connection, tenant: &str, family_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM product_family_products
             WHERE tenant_id = :tenant AND family_id = :f",
        )?
        .query_row(named_params! {":tenant": tenant, ":f": family_id}, |r| {
            r.get(0)
        })?)
}

/// The checks' view of the database: one tenant inside the request's transaction.
pub struct Lookup<'a> {
    pub conn: &'a Connection,
    pub tenant: &'a str,
}

impl super::model::Lookup for Lookup<'_> {
    fn measurement_exists(&self, id: &str) -> ApiResult<bool> {
        measurements::exists(self.conn, self.tenant, id)
    }

    fn default_measurement(&self) -> ApiResult<Option<String>> {
        measurements::default_id(self.conn, self.tenant)
    }

    fn tax_group_exists(&self, id: &str) -> ApiResult<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM tax_groups WHERE tenant_id = :tenant AND id = :id)",
            )?
            .query_row(named_params! {":tenant": self.tenant, ":id": id}, |r| {
                r.get(0)
            })?)
    }

    fn default_tax_group(&self) -> ApiResult<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM tax_groups WHERE tenant_id = :tenant AND type = 'standard'
                 ORDER BY created_at, id LIMIT 1",
            )?
            .query_row(named_params! {":tenant": self.tenant}, |r| r.get(0))
            .optional()?)
    }

    fn family_exists(&self, id: &str) -> ApiResult<bool> {
        families::exists(self.conn, self.tenant, id)
    }

    fn custom_fields(&self, fields: &Map<String, Value>) -> ApiResult<Vec<Violation>> {
        custom_fields::validate(self.conn, self.tenant, Entity::Product, fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::product_families::store as families;
    use crate::resources::products::model::Lookup as _;
    use crate::resources::units::store as units;

    fn setup() -> (Connection, String, String, Locale) {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "Other", "b@example.com").unwrap();
        let locale = units::locale(&conn, &a, None).unwrap();
        (conn, a, b, locale)
    }

    fn basic(conn: &Connection, tenant: &str, family: &str) -> ProductData {
        let lookup = Lookup { conn, tenant };
        ProductData {
            kind: "product".into(),
            name: "Basic".into(),
            description: None,
            internal_name: None,
            number: Some("M-1".into()),
            measurement_id: lookup.default_measurement().unwrap().unwrap(),
            family_ids: vec![family.to_string()],
            tax_group_id: lookup.default_tax_group().unwrap().unwrap(),
            invoice_visibility: "always".into(),
            cost_centre_id: None,
            custom_fields: Map::new(),
        }
    }

    #[test]
    fn lookups_for_other_slices() {
        let (conn, a, b, locale) = setup();
        let family = families::create(&conn, &a, "Teams").unwrap();
        let data = basic(&conn, &a, &family.id);
        let id = create(&conn, &a, &data).unwrap();
        assert!(exists(&conn, &a, &id).unwrap() && exists_active(&conn, &a, &id).unwrap());
        assert!(!exists(&conn, &b, &id).unwrap() && !exists_active(&conn, &b, &id).unwrap());
        let found = refs(&conn, &a, &id).unwrap().unwrap();
        assert_eq!(
            found,
            ProductRefs {
                kind: "product".into(),
                tax_group_id: data.tax_group_id.clone(),
                measurement_id: data.measurement_id.clone(),
                is_archived: false,
            }
        );
        assert_eq!(refs(&conn, &b, &id).unwrap(), None);
        assert_eq!(
            using_measurement(&conn, &a, &data.measurement_id).unwrap(),
            1
        );
        assert_eq!(using_tax_group(&conn, &a, &data.tax_group_id).unwrap(), 1);
        assert_eq!(in_family(&conn, &a, &family.id).unwrap(), 1);
        assert_eq!(in_family(&conn, &b, &family.id).unwrap(), 0);

        assert!(archive(&conn, &a, &id).unwrap());
        assert!(
            !archive(&conn, &a, &id).unwrap(),
            "second archive changes nothing"
        );
        assert!(matches!(
            archive(&conn, &b, &id),
            Err(ApiError::NotFound(_))
        ));
        assert!(exists(&conn, &a, &id).unwrap() && !exists_active(&conn, &a, &id).unwrap());
        assert!(refs(&conn, &a, &id).unwrap().unwrap().is_archived);
        assert!(get(&conn, &a, &id, &locale).unwrap().is_archived);
    }

    #[test]
    fn update_rewrites_fields_and_families_but_not_the_type() {
        let (conn, a, b, locale) = setup();
        let teams = families::create(&conn, &a, "Teams").unwrap();
        let addons = families::create(&conn, &a, "Add-ons").unwrap();
        let id = create(&conn, &a, &basic(&conn, &a, &teams.id)).unwrap();
        let mut changed = data(&conn, &a, &id).unwrap();
        changed.kind = "charge".into();
        changed.name = "Pro".into();
        changed.family_ids = vec![addons.id.clone()];
        assert!(matches!(
            update(&conn, &b, &id, &changed),
            Err(ApiError::NotFound(_))
        ));
        update(&conn, &a, &id, &changed).unwrap();
        let p = get(&conn, &a, &id, &locale).unwrap();
        assert_eq!((p.kind.as_str(), p.name.as_str()), ("product", "Pro"));
        assert_eq!(p.product_families.len(), 1);
        assert_eq!(p.product_families[0].name, "Add-ons");
        assert_eq!(in_family(&conn, &a, &teams.id).unwrap(), 0);
        assert!(matches!(data(&conn, &b, &id), Err(ApiError::NotFound(_))));
        assert!(matches!(
            get(&conn, &b, &id, &locale),
            Err(ApiError::NotFound(_))
        ));
    }
}
