//! SQL for invoice positions: the tree rows of one invoice, inserts with sibling order, the
//! amounts written back by the calculation, and copies for correction documents. Decimals are
//! TEXT and decoded strictly outside the row closure, so a corrupt value is a logged 500.

use super::input::Lookup;
use super::model::{PositionData, PositionRow};
use crate::billing::invoice_calc::{treatment_name, LineAmounts, TaxKey};
use crate::db::bind::ExecuteNamed;
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use std::str::FromStr;

const COLUMNS: &str = "id, invoice_id, parent_id, sort_order, type, group_name, name,
    description, quantity, unit_id, unit_price, discount_amount, discount_percentage, product_id,
    subscription_item_id, tax_group_id, tax_rate, tax_treatment, tax_note, tax_country,
    net_before_discount, discount_fixed, net_amount, tax_amount, unit_price_interval,
    service_date_from, service_date_to, credited_quantity, original_position_id, created_at,
    updated_at";

/// The decimal columns as stored, decoded by `decode`.
struct Raw {
    row: PositionRow,
    quantity: String,
    unit_price: Option<String>,
    discount_amount: Option<String>,
    discount_percentage: Option<String>,
    tax_rate: Option<String>,
    credited_quantity: String,
}

fn raw(r: &Row) -> rusqlite::Result<Raw> {
    Ok(Raw {
        row: PositionRow {
            id: r.get(0)?,
            invoice_id: r.get(1)?,
            parent_id: r.get(2)?,
            sort_order: r.get(3)?,
            kind: r.get(4)?,
            group_name: r.get(5)?,
            name: r.get(6)?,
            description: r.get(7)?,
            quantity: Decimal::ZERO,
            unit_id: r.get(9)?,
            unit_price: None,
            discount_amount: None,
            discount_percentage: None,
            product_id: r.get(13)?,
            subscription_item_id: r.get(14)?,
            tax_group_id: r.get(15)?,
            tax_rate: None,
            tax_treatment: r.get(17)?,
            tax_note: r.get(18)?,
            tax_country: r.get(19)?,
            net_before_discount: r.get(20)?,
            discount_fixed: r.get(21)?,
            net_amount: r.get(22)?,
            tax_amount: r.get(23)?,
            unit_price_interval: r.get(24)?,
            service_date_from: r.get(25)?,
            service_date_to: r.get(26)?,
            credited_quantity: Decimal::ZERO,
            original_position_id: r.get(28)?,
            created_at: r.get(29)?,
            updated_at: r.get(30)?,
        },
        quantity: r.get(8)?,
        unit_price: r.get(10)?,
        discount_amount: r.get(11)?,
        discount_percentage: r.get(12)?,
        tax_rate: r.get(16)?,
        credited_quantity: r.get(27)?,
    })
}

fn decode(raw: Raw) -> ApiResult<PositionRow> {
    let id = raw.row.id.clone();
    let dec = |s: &str| {
        Decimal::from_str(s).map_err(|_| {
            ApiError::Internal(format!("invoice position {id}: corrupt decimal '{s}'"))
        })
    };
    let opt = |s: Option<String>| s.as_deref().map(dec).transpose();
    Ok(PositionRow {
        quantity: dec(&raw.quantity)?,
        unit_price: opt(raw.unit_price)?,
        discount_amount: opt(raw.discount_amount)?,
        discount_percentage: opt(raw.discount_percentage)?,
        tax_rate: opt(raw.tax_rate)?,
        credited_quantity: dec(&raw.credited_quantity)?,
        ..raw.row
    })
}

/// Every position of an invoice, parents and children alike, in sibling order.
pub fn for_invoice(conn: &Connection, invoice_id: &str) -> ApiResult<Vec<PositionRow>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM invoice_positions WHERE invoice_id = :invoice
             ORDER BY sort_order, created_at, id"
        ))?
        .query_map(named_params! {":invoice": invoice_id}, raw)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode).collect()
}

/// One position of the tenant; 404 for a missing or foreign id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<PositionRow> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM invoice_positions WHERE id = :id AND tenant_id = :tenant"
        ))?
        .query_row(named_params! {":id": id, ":tenant": tenant}, raw)
        .optional()?;
    match row {
        Some(r) => decode(r),
        None => Err(ApiError::not_found("Invoice position item")),
    }
}

/// Whether `id` is a top-level position of `invoice_id` (the only kind that may have children).
pub fn is_top_level_of(conn: &Connection, invoice_id: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM invoice_positions
                            WHERE id = :id AND invoice_id = :invoice AND parent_id IS NULL)",
        )?
        .query_row(named_params! {":id": id, ":invoice": invoice_id}, |r| {
            r.get(0)
        })?)
}

pub fn has_children(conn: &Connection, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM invoice_positions WHERE parent_id = :id)")?
        .query_row(named_params! {":id": id}, |r| r.get(0))?)
}

fn next_sort_order(conn: &Connection, invoice_id: &str, parent: Option<&str>) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(MAX(sort_order), 0) + 1 FROM invoice_positions
             WHERE invoice_id = :invoice AND parent_id IS :parent",
        )?
        .query_row(
            named_params! {":invoice": invoice_id, ":parent": parent},
            |r| r.get(0),
        )?)
}

fn text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.normalize().to_string())
}

/// Inserts positions (and their children) under `parent`; returns the new top-level ids.
/// Amounts start at 0: the caller recomputes the invoice afterwards.
pub fn insert_tree(
    conn: &Connection,
    tenant: &str,
    invoice_id: &str,
    items: &[PositionData],
    parent: Option<&str>,
) -> ApiResult<Vec<String>> {
    let mut ids = Vec::with_capacity(items.len());
    for d in items {
        let id = d.id.clone().unwrap_or_else(new_id);
        let order = match d.position {
            Some(n) => n,
            None => next_sort_order(conn, invoice_id, parent)?,
        };
        let now = time::now();
        conn.prepare_cached(
            "INSERT INTO invoice_positions (id, tenant_id, invoice_id, parent_id, sort_order, type,
                 group_name, name, description, quantity, unit_id, unit_price, discount_amount,
                 discount_percentage, product_id, subscription_item_id, tax_group_id,
                 unit_price_interval, service_date_from, service_date_to, created_at, updated_at)
             VALUES (:id, :tenant, :invoice, :parent, :order, :type, :group, :name, :description,
                 :quantity, :unit, :price, :discount, :percentage, :product, :subscription_item,
                 :tax_group, :interval, :from, :to, :now, :now)",
        )?
        .execute(named_params! {
            ":id": id, ":tenant": tenant, ":invoice": invoice_id, ":parent": parent,
            ":order": order, ":type": d.kind, ":group": d.group, ":name": d.name,
            ":description": d.description, ":quantity": d.quantity.normalize().to_string(),
            ":unit": d.unit_id, ":price": text(d.unit_price), ":discount": text(d.discount_amount),
            ":percentage": text(d.discount_percentage), ":product": d.product,
            ":subscription_item": d.subscription_item, ":tax_group": d.tax_group_id,
            ":interval": d.unit_price_interval,
            ":from": d.service_date_from.map(|x| x.to_string()),
            ":to": d.service_date_to.map(|x| x.to_string()), ":now": now,
        })?;
        if let Some(children) = &d.children {
            insert_tree(conn, tenant, invoice_id, children, Some(&id))?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Inserts computed rows as they are, amounts and tax included (`PositionRow::from_tree`, a
/// billing run's invoice written once).
pub fn insert_rows(conn: &Connection, tenant: &str, rows: &[PositionRow]) -> ApiResult<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO invoice_positions (id, tenant_id, invoice_id, parent_id, sort_order, type,
             group_name, name, description, quantity, unit_id, unit_price, discount_amount,
             discount_percentage, product_id, subscription_item_id, tax_group_id, tax_rate,
             tax_treatment, tax_note, tax_country, net_before_discount, discount_fixed,
             net_amount, tax_amount, unit_price_interval, service_date_from, service_date_to,
             created_at, updated_at)
         VALUES (:id, :tenant, :invoice, :parent, :order, :type, :group, :name, :description,
             :quantity, :unit, :price, :discount, :percentage, :product, :subscription_item,
             :tax_group, :rate, :treatment, :note, :country, :before, :discount_fixed, :net,
             :tax, :interval, :from, :to, :created, :updated)",
    )?;
    for p in rows {
        insert.execute_named(named_params! {
            ":id": p.id, ":tenant": tenant, ":invoice": p.invoice_id, ":parent": p.parent_id,
            ":order": p.sort_order, ":type": p.kind, ":group": p.group_name, ":name": p.name,
            ":description": p.description, ":quantity": p.quantity.to_string(),
            ":unit": p.unit_id, ":price": text(p.unit_price), ":discount": text(p.discount_amount),
            ":percentage": text(p.discount_percentage), ":product": p.product_id,
            ":subscription_item": p.subscription_item_id, ":tax_group": p.tax_group_id,
            ":rate": text(p.tax_rate), ":treatment": p.tax_treatment, ":note": p.tax_note,
            ":country": p.tax_country, ":before": p.net_before_discount,
            ":discount_fixed": p.discount_fixed, ":net": p.net_amount, ":tax": p.tax_amount,
            ":interval": p.unit_price_interval, ":from": p.service_date_from,
            ":to": p.service_date_to, ":created": p.created_at, ":updated": p.updated_at,
        })?;
    }
    Ok(())
}

/// Replaces a position's data (`PUT`); sent children replace the current ones.
pub fn replace(
    conn: &Connection,
    tenant: &str,
    current: &PositionRow,
    d: &PositionData,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE invoice_positions SET sort_order = :order, type = :type, group_name = :group,
             name = :name, description = :description, quantity = :quantity, unit_id = :unit,
             unit_price = :price, discount_amount = :discount, discount_percentage = :percentage,
             product_id = :product, subscription_item_id = :subscription_item,
             tax_group_id = :tax_group, unit_price_interval = :interval,
             service_date_from = :from, service_date_to = :to, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": current.id, ":tenant": tenant, ":order": d.position.unwrap_or(current.sort_order),
        ":type": d.kind, ":group": d.group, ":name": d.name, ":description": d.description,
        ":quantity": d.quantity.normalize().to_string(), ":unit": d.unit_id,
        ":price": text(d.unit_price), ":discount": text(d.discount_amount),
        ":percentage": text(d.discount_percentage), ":product": d.product,
        ":subscription_item": d.subscription_item, ":tax_group": d.tax_group_id,
        ":interval": d.unit_price_interval,
        ":from": d.service_date_from.map(|x| x.to_string()),
        ":to": d.service_date_to.map(|x| x.to_string()), ":now": time::now(),
    })?;
    if let Some(children) = &d.children {
        conn.prepare_cached("DELETE FROM invoice_positions WHERE parent_id = :id")?
            .execute(named_params! {":id": current.id})?;
        insert_tree(
            conn,
            tenant,
            &current.invoice_id,
            children,
            Some(&current.id),
        )?;
    }
    Ok(())
}

/// Deletes a position; its children go with it (ON DELETE CASCADE).
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM invoice_positions WHERE id = :id AND tenant_id = :tenant")?
        .execute(named_params! {":id": id, ":tenant": tenant})?;
    Ok(())
}

/// Deletes every position of an invoice (children first, so no cascade order matters).
pub fn delete_all(conn: &Connection, invoice_id: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "DELETE FROM invoice_positions WHERE invoice_id = :invoice AND parent_id IS NOT NULL",
    )?
    .execute(named_params! {":invoice": invoice_id})?;
    conn.prepare_cached("DELETE FROM invoice_positions WHERE invoice_id = :invoice")?
        .execute(named_params! {":invoice": invoice_id})?;
    Ok(())
}

/// Writes a position's calculated amounts and the tax they were computed with.
pub fn set_amounts(
    conn: &Connection,
    id: &str,
    a: &LineAmounts,
    tax: Option<&TaxKey>,
    country: Option<&str>,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE invoice_positions SET net_before_discount = :before, discount_fixed = :discount,
             net_amount = :net, tax_amount = :tax, tax_rate = :rate, tax_treatment = :treatment,
             tax_note = :note, tax_country = :country
         WHERE id = :id",
    )?
    .execute(named_params! {
        ":id": id, ":before": a.net_before_discount, ":discount": a.discount, ":net": a.net,
        ":tax": a.tax, ":rate": tax.map(|t| t.rate.normalize().to_string()),
        ":treatment": tax.map(|t| treatment_name(t.treatment)),
        ":note": tax.and_then(|t| t.note.clone()),
        ":country": tax.and(country),
    })?;
    Ok(())
}

/// Copies `source` onto the draft `invoice_id` with another quantity, keeping its prices,
/// discount and the tax it was billed with, and referencing it (`original_position_id`).
/// For cancellation and credit documents: recompute the draft with stored tax afterwards.
pub fn insert_copy(
    conn: &Connection,
    tenant: &str,
    invoice_id: &str,
    source: &PositionRow,
    quantity: Decimal,
    parent: Option<&str>,
) -> ApiResult<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO invoice_positions (id, tenant_id, invoice_id, parent_id, sort_order, type,
             group_name, name, description, quantity, unit_id, unit_price, discount_amount,
             discount_percentage, product_id, subscription_item_id, tax_group_id, tax_rate,
             tax_treatment, tax_note, tax_country, unit_price_interval, service_date_from,
             service_date_to, original_position_id, created_at, updated_at)
         SELECT :id, tenant_id, :invoice, :parent, sort_order, type, group_name, name,
             description, :quantity, unit_id, unit_price, discount_amount, discount_percentage,
             product_id, subscription_item_id, tax_group_id, tax_rate, tax_treatment, tax_note,
             tax_country, unit_price_interval, service_date_from, service_date_to, id, :now, :now
         FROM invoice_positions WHERE id = :source AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": id, ":invoice": invoice_id, ":parent": parent, ":source": source.id,
        ":tenant": tenant, ":quantity": quantity.normalize().to_string(), ":now": time::now(),
    })?;
    Ok(id)
}

/// Moves a finalized position's credited quantity (a magnitude) by `delta` (credit notes). The
/// caller checks that the result stays within `|quantity|`.
pub fn add_credited_quantity(
    conn: &Connection,
    position: &PositionRow,
    delta: Decimal,
) -> ApiResult<()> {
    let credited = position.credited_quantity + delta;
    conn.prepare_cached(
        "UPDATE invoice_positions SET credited_quantity = :credited WHERE id = :id",
    )?
    .execute(named_params! {":id": position.id, ":credited": credited.normalize().to_string()})?;
    Ok(())
}

/// Position references of a body, resolved within one tenant.
pub struct DbLookup<'a> {
    pub conn: &'a Connection,
    pub tenant: &'a str,
    /// The draft whose positions the body replaces (`PUT /invoices/{id}` with `positions`):
    /// its own position ids may be sent again, since they are deleted first.
    pub replacing: Option<&'a str>,
}

impl<'a> DbLookup<'a> {
    pub fn new(conn: &'a Connection, tenant: &'a str) -> DbLookup<'a> {
        DbLookup {
            conn,
            tenant,
            replacing: None,
        }
    }
}

impl Lookup for DbLookup<'_> {
    fn unit_exists(&self, id: &str) -> ApiResult<bool> {
        crate::resources::units::store::exists(self.conn, self.tenant, id)
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

    fn product_tax_group(&self, id: &str) -> ApiResult<Option<String>> {
        Ok(
            crate::resources::products::store::refs(self.conn, self.tenant, id)?
                .map(|p| p.tax_group_id),
        )
    }

    fn position_taken(&self, id: &str) -> ApiResult<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM invoice_positions
                                WHERE id = :id AND invoice_id IS NOT :replacing)",
            )?
            .query_row(
                named_params! {":id": id, ":replacing": self.replacing},
                |r| r.get(0),
            )?)
    }
}
