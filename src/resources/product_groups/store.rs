//! SQL for product groups, their memberships, item assignments and applied changes, scoped to
//! one tenant (another tenant's rows read as missing: 404).

use super::model::{GroupInput, Membership, MembershipInput, ProductGroup};
use crate::domain::{ids::new_id, time};
use crate::error::{ApiError, ApiResult};
use rusqlite::{named_params, Connection, OptionalExtension, Row};

const MEMBERSHIP_COLUMNS: &str = "id, position, product_id, price_plans,
    quantity_change_allowed, change_timing, credit_type, product_group_id";

fn membership_row(r: &Row) -> rusqlite::Result<Membership> {
    let plans: String = r.get(3)?;
    Ok(Membership {
        id: r.get(0)?,
        position: r.get(1)?,
        product: r.get(2)?,
        // Written by this module only; a corrupt value is a logged 500, never an empty tier.
        price_plans: serde_json::from_str(&plans).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
        })?,
        quantity_change_allowed: r.get(4)?,
        change_timing: r.get(5)?,
        credit_type: r.get(6)?,
        product_group: r.get(7)?,
    })
}

/// One group with its memberships; 404 when not in the tenant.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<ProductGroup> {
    let head = conn
        .prepare_cached(
            "SELECT id, name, same_billing_interval_only, created_at, updated_at
             FROM product_groups WHERE tenant_id = :tenant AND id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok(ProductGroup {
                id: r.get(0)?,
                name: r.get(1)?,
                same_billing_interval_only: r.get(2)?,
                memberships: vec![],
                created_at: r.get(3)?,
                updated_at: r.get(4)?,
            })
        })
        .optional()?;
    let mut group = head.ok_or_else(|| ApiError::not_found("Product group"))?;
    group.memberships = conn
        .prepare_cached(&format!(
            "SELECT {MEMBERSHIP_COLUMNS} FROM product_group_memberships
             WHERE tenant_id = :tenant AND product_group_id = :id ORDER BY position"
        ))?
        .query_map(named_params! {":tenant": tenant, ":id": id}, membership_row)?
        .collect::<Result<_, _>>()?;
    Ok(group)
}

/// One membership; 404 when not in the tenant.
pub fn membership(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Membership> {
    conn.prepare_cached(&format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM product_group_memberships
         WHERE tenant_id = :tenant AND id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, membership_row)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Product group membership"))
}

/// Creates a group from a checked body; returns its id.
pub fn insert(conn: &Connection, tenant: &str, g: &GroupInput) -> ApiResult<String> {
    let (id, now) = (new_id(), time::now());
    conn.prepare_cached(
        "INSERT INTO product_groups (id, tenant_id, name, same_billing_interval_only,
             created_at, updated_at) VALUES (:id, :tenant, :name, :same, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":name": g.name.clone().unwrap_or_default(),
        ":same": g.same_billing_interval_only.unwrap_or(false), ":now": now,
    })?;
    replace_memberships(conn, tenant, &id, g.memberships.as_deref().unwrap_or(&[]))?;
    Ok(id)
}

/// Applies an update body (keys sent only).
pub fn update(conn: &Connection, tenant: &str, id: &str, g: &GroupInput) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE product_groups SET name = COALESCE(:name, name),
             same_billing_interval_only = COALESCE(:same, same_billing_interval_only),
             updated_at = :now WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":name": g.name, ":same": g.same_billing_interval_only,
        ":now": time::now(),
    })?;
    if let Some(m) = &g.memberships {
        replace_memberships(conn, tenant, id, m)?;
    }
    Ok(())
}

/// Replaces the tiers. A tier that changes keep its id when its position stays, so pending
/// changes (which reference the membership) survive an edit; tiers no longer listed are
/// removed unless a change references them (then 409).
fn replace_memberships(
    conn: &Connection,
    tenant: &str,
    group: &str,
    tiers: &[MembershipInput],
) -> ApiResult<()> {
    let positions: Vec<i64> = tiers.iter().map(|t| t.position).collect();
    let old = get(conn, tenant, group)?.memberships;
    for m in old.iter().filter(|m| !positions.contains(&m.position)) {
        let used: bool = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM product_group_changes WHERE membership_id = :id)",
            )?
            .query_row(named_params! {":id": m.id}, |r| r.get(0))?;
        if used {
            return Err(ApiError::Conflict(format!(
                "The membership at position {} was applied to an item and cannot be removed.",
                m.position
            )));
        }
        conn.prepare_cached("DELETE FROM product_group_memberships WHERE id = :id")?
            .execute(named_params! {":id": m.id})?;
    }
    for t in tiers {
        let plans = serde_json::to_string(&t.price_plans)?;
        conn.prepare_cached(
            "INSERT INTO product_group_memberships (id, tenant_id, product_group_id, position,
                 product_id, price_plans, quantity_change_allowed, change_timing, credit_type)
             VALUES (:id, :tenant, :group, :position, :product, :plans, :qty, :timing, :credit)
             ON CONFLICT (product_group_id, position) DO UPDATE SET product_id = :product,
                 price_plans = :plans, quantity_change_allowed = :qty, change_timing = :timing,
                 credit_type = :credit",
        )?
        .execute(named_params! {
            ":id": new_id(), ":tenant": tenant, ":group": group, ":position": t.position,
            ":product": t.product, ":plans": plans, ":qty": t.quantity_change_allowed,
            ":timing": t.change_timing, ":credit": t.credit_type,
        })?;
    }
    Ok(())
}

/// Assigns (or re-assigns) the group an item changes within.
pub fn assign(conn: &Connection, tenant: &str, item: &str, group: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO subscription_item_product_groups (subscription_item_id, tenant_id,
             product_group_id) VALUES (:item, :tenant, :group)
         ON CONFLICT (subscription_item_id) DO UPDATE SET product_group_id = :group",
    )?
    .execute(named_params! {":item": item, ":tenant": tenant, ":group": group})?;
    Ok(())
}

/// The group assigned to an item, if any.
pub fn group_of(conn: &Connection, tenant: &str, item: &str) -> ApiResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT product_group_id FROM subscription_item_product_groups
             WHERE tenant_id = :tenant AND subscription_item_id = :item",
        )?
        .query_row(named_params! {":tenant": tenant, ":item": item}, |r| {
            r.get(0)
        })
        .optional()?)
}

/// An applied change, as recorded.
pub struct ChangeRecord<'a> {
    pub subscription: &'a str,
    pub from_item: &'a str,
    pub to_item: &'a str,
    pub membership: &'a str,
    pub timing: &'a str,
    pub credit_type: &'a str,
    pub effective_date: &'a str,
    pub charge_invoice: Option<&'a str>,
    pub credit_note: Option<&'a str>,
}

pub fn record_change(conn: &Connection, tenant: &str, c: &ChangeRecord) -> ApiResult<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO product_group_changes (id, tenant_id, subscription_id, from_item_id,
             to_item_id, membership_id, change_timing, credit_type, effective_date,
             charge_invoice_id, credit_note_id, created_at)
         VALUES (:id, :tenant, :sub, :from, :to, :m, :timing, :credit, :eff, :charge, :note, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":sub": c.subscription, ":from": c.from_item,
        ":to": c.to_item, ":m": c.membership, ":timing": c.timing, ":credit": c.credit_type,
        ":eff": c.effective_date, ":charge": c.charge_invoice, ":note": c.credit_note,
        ":now": time::now(),
    })?;
    Ok(id)
}

/// Whether the item was already changed (it is replaced; a scheduled change still pending
/// counts too): no further change is allowed from it (08 §5.3).
pub fn was_changed(conn: &Connection, tenant: &str, item: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM product_group_changes
                 WHERE tenant_id = :tenant AND from_item_id = :item)",
        )?
        .query_row(named_params! {":tenant": tenant, ":item": item}, |r| {
            r.get(0)
        })?)
}

/// Whether the item is the target of a change that has not taken effect by `today`.
pub fn pending_into(conn: &Connection, tenant: &str, item: &str, today: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM product_group_changes
                 WHERE tenant_id = :tenant AND to_item_id = :item AND effective_date > :today)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":item": item, ":today": today},
            |r| r.get(0),
        )?)
}
