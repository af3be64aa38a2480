//! SQL for price plans and their tiers. Amounts are decimal TEXT, read back strictly; every
//! query is scoped to one tenant, so another tenant's plan is simply not found.

use super::model::{PricePlan, Terms};
use super::write::{Lookup, PlanRequest, ProductRef};
use crate::domain::ids::new_id;
use crate::domain::money::Currency;
use crate::domain::period::Interval;
use crate::domain::pricing::{Model, Tier};
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{Filter, Page};
use crate::http::query::Query;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Whether a plan is in use, as an SQL expression over `p` (= `price_plans`). Today the sticky
/// `in_use` flag, set by [`mark_in_use`]; the subscriptions slice may widen this one place
/// (e.g. `OR EXISTS (SELECT 1 FROM subscription_items WHERE price_plan_id = p.id)`).
const IN_USE_SQL: &str = "p.in_use";

const COLUMNS: &str = "p.id, p.tenant_id, p.product_id, p.customer_id, p.internal_name, p.type,
    p.status, p.currency_code, p.billing_interval, p.amount, p.percentage, p.pay_in_advance,
    p.pro_rata, p.free_units, p.apply_trial, p.trial_days, p.show_price_per_interval,
    p.sales_channel, p.charge_id, p.product_set_option_id, p.created_at, p.updated_at";

/// A row as stored, before the decimals and enums are decoded (outside the row closure, so a
/// corrupt value becomes a logged 500 instead of a silently wrong price).
struct Raw {
    id: String,
    tenant_id: String,
    product: String,
    customer: Option<String>,
    internal_name: Option<String>,
    kind: String,
    status: String,
    currency: String,
    billing_interval: Option<String>,
    amount: Option<String>,
    percentage: Option<String>,
    pay_in_advance: bool,
    pro_rata: bool,
    free_units: i64,
    apply_trial: bool,
    trial_days: i64,
    show_price_per_interval: Option<String>,
    sales_channel: Option<String>,
    charge: Option<String>,
    product_set_option: Option<String>,
    created_at: String,
    updated_at: String,
    in_use: bool,
}

fn raw(r: &Row) -> rusqlite::Result<Raw> {
    Ok(Raw {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        product: r.get(2)?,
        customer: r.get(3)?,
        internal_name: r.get(4)?,
        kind: r.get(5)?,
        status: r.get(6)?,
        currency: r.get(7)?,
        billing_interval: r.get(8)?,
        amount: r.get(9)?,
        percentage: r.get(10)?,
        pay_in_advance: r.get(11)?,
        pro_rata: r.get(12)?,
        free_units: r.get(13)?,
        apply_trial: r.get(14)?,
        trial_days: r.get(15)?,
        show_price_per_interval: r.get(16)?,
        sales_channel: r.get(17)?,
        charge: r.get(18)?,
        product_set_option: r.get(19)?,
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
        in_use: r.get(22)?,
    })
}

fn corrupt(what: &str, id: &str) -> ApiError {
    ApiError::Internal(format!("price plan {id}: corrupt {what}"))
}

fn decimal(s: Option<&str>, what: &str, id: &str) -> ApiResult<Decimal> {
    s.and_then(|s| Decimal::from_str(s).ok())
        .ok_or_else(|| corrupt(what, id))
}

fn interval(s: Option<String>, what: &str, id: &str) -> ApiResult<Option<Interval>> {
    s.map(|s| Interval::parse(&s).ok_or_else(|| corrupt(what, id)))
        .transpose()
}

fn tiers(conn: &Connection, id: &str) -> ApiResult<Vec<Tier>> {
    let rows = conn
        .prepare_cached(
            "SELECT from_quantity, to_quantity, unit_price, flat_amount FROM price_plan_tiers
             WHERE price_plan_id = :id ORDER BY position",
        )?
        .query_map(named_params! {":id": id}, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(from, to, unit, flat)| {
            Ok(Tier {
                from: u64::try_from(from).map_err(|_| corrupt("tier", id))?,
                to: to
                    .map(|t| u64::try_from(t).map_err(|_| corrupt("tier", id)))
                    .transpose()?,
                unit_price: decimal(Some(&unit), "tier unit price", id)?,
                flat_amount: decimal(Some(&flat), "tier flat amount", id)?,
            })
        })
        .collect()
}

fn decode(conn: &Connection, r: Raw) -> ApiResult<PricePlan> {
    let id = r.id.as_str();
    let model = match r.kind.as_str() {
        "flat_fee" => Model::FlatFee {
            price: decimal(r.amount.as_deref(), "amount", id)?,
        },
        "per_unit" => Model::PerUnit {
            price: decimal(r.amount.as_deref(), "amount", id)?,
        },
        "percentage" => Model::Percentage {
            percent: decimal(r.percentage.as_deref(), "percentage", id)?,
        },
        "tiered" => Model::Tiered {
            tiers: tiers(conn, id)?,
        },
        "volume" => Model::Volume {
            tiers: tiers(conn, id)?,
        },
        "stair_step" => Model::StairStep {
            tiers: tiers(conn, id)?,
        },
        _ => return Err(corrupt("type", id)),
    };
    let sales_channel = r
        .sales_channel
        .as_deref()
        .map(serde_json::from_str)
        .transpose()?;
    Ok(PricePlan {
        terms: Terms {
            product: r.product,
            customer: r.customer,
            currency: Currency::parse(&r.currency).ok_or_else(|| corrupt("currency", id))?,
            model,
            billing_interval: interval(r.billing_interval, "billing interval", id)?,
            pay_in_advance: r.pay_in_advance,
            pro_rata: r.pro_rata,
            free_units: u64::try_from(r.free_units).map_err(|_| corrupt("free units", id))?,
            apply_trial: r.apply_trial,
            trial_days: u32::try_from(r.trial_days).map_err(|_| corrupt("trial days", id))?,
            show_price_per_interval: interval(r.show_price_per_interval, "interval", id)?,
            sales_channel,
            charge: r.charge,
            product_set_option: r.product_set_option,
        },
        id: r.id,
        tenant_id: r.tenant_id,
        internal_name: r.internal_name,
        status: r.status,
        in_use: r.in_use,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// One plan of the tenant; 404 otherwise.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<PricePlan> {
    let sql = format!(
        "SELECT {COLUMNS}, {IN_USE_SQL} FROM price_plans p WHERE p.tenant_id = :tenant AND p.id = :id"
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(r) => decode(conn, r),
        None => Err(ApiError::not_found("Price plan")),
    }
}

/// A page of the tenant's plans, oldest first. Filters: `product`, `customer`, `type`
/// (one value or `key[]` lists); archived plans only with `showArchived=true`.
pub fn list(conn: &Connection, tenant: &str, q: &Query) -> ApiResult<(Vec<PricePlan>, i64, Page)> {
    let page = Page::from_query(q)?;
    let mut filter = Filter::for_tenant("p.tenant_id", tenant);
    filter.eq(q, "product", "p.product_id");
    filter.eq(q, "customer", "p.customer_id");
    filter.eq_enum(q, "type", "p.type", crate::domain::pricing::TYPES)?;
    if !q.flag("showArchived")?.unwrap_or(false) {
        filter.raw("p.status = 'active'");
    }
    let order = order(q)?;
    let (rows, total) = filter.fetch_page(
        conn,
        "price_plans p",
        &format!("{COLUMNS}, {IN_USE_SQL}"),
        &order,
        &page,
        raw,
    )?;
    let items = rows
        .into_iter()
        .map(|r| decode(conn, r))
        .collect::<ApiResult<_>>()?;
    Ok((items, total, page))
}

/// `ORDER BY` from `order[createdAt|updatedAt]`, default oldest first. Timestamps have whole
/// seconds, so ties are common; they are broken by the id (UUID v7, creation ordered) in the
/// direction of the last key, so `desc` really lists the newest first.
fn order(q: &Query) -> ApiResult<String> {
    let mut parts = Vec::new();
    let mut direction = "ASC";
    for (field, asc) in q.order(&["createdAt", "updatedAt"])? {
        direction = if asc { "ASC" } else { "DESC" };
        let column = if field == "updatedAt" {
            "p.updated_at"
        } else {
            "p.created_at"
        };
        parts.push(format!("{column} {direction}"));
    }
    if parts.is_empty() {
        parts.push("p.created_at ASC".into());
    }
    parts.push(format!("p.id {direction}"));
    Ok(format!("ORDER BY {}", parts.join(", ")))
}

pub fn create(conn: &Connection, tenant: &str, req: &PlanRequest) -> ApiResult<PricePlan> {
    let id = new_id();
    let now = time::now();
    let (amount, percentage) = price_text(&req.terms.model);
    // Insert the identity (with the price columns the CHECKs require), then write every field
    // through the one UPDATE that replace uses: create and update cannot store a field
    // differently.
    conn.prepare_cached(
        "INSERT INTO price_plans (id, tenant_id, product_id, type, currency_code, amount,
                                  percentage, created_at, updated_at)
         VALUES (:id, :tenant, :product, :type, :currency, :amount, :percentage, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":product": req.terms.product,
        ":type": req.terms.model.type_name(), ":currency": req.terms.currency.code,
        ":amount": amount, ":percentage": percentage, ":now": now,
    })?;
    write(conn, tenant, &id, req, &now)?;
    get(conn, tenant, &id)
}

/// Replaces every writable field (PUT). The caller has checked the in-use rule.
pub fn replace(
    conn: &Connection,
    tenant: &str,
    id: &str,
    req: &PlanRequest,
) -> ApiResult<PricePlan> {
    write(conn, tenant, id, req, &time::now())?;
    get(conn, tenant, id)
}

/// `(amount, percentage)` as decimal TEXT; the other is NULL (the table CHECKs enforce it).
fn price_text(model: &Model) -> (Option<String>, Option<String>) {
    match model {
        Model::FlatFee { price } | Model::PerUnit { price } => (Some(price.to_string()), None),
        Model::Percentage { percent } => (None, Some(percent.to_string())),
        _ => (None, None),
    }
}

fn write(conn: &Connection, tenant: &str, id: &str, req: &PlanRequest, now: &str) -> ApiResult<()> {
    let t = &req.terms;
    let (amount, percentage) = price_text(&t.model);
    let sales_channel = t
        .sales_channel
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    conn.prepare_cached(
        "UPDATE price_plans SET product_id = :product, customer_id = :customer,
            internal_name = :internal_name, type = :type, currency_code = :currency,
            billing_interval = :interval, amount = :amount, percentage = :percentage,
            pay_in_advance = :advance, pro_rata = :pro_rata, free_units = :free_units,
            apply_trial = :apply_trial, trial_days = :trial_days,
            show_price_per_interval = :show_interval, sales_channel = :sales_channel,
            charge_id = :charge, product_set_option_id = :option, updated_at = :now
         WHERE tenant_id = :tenant AND id = :id",
    )?
    .execute(named_params! {
        ":product": t.product, ":customer": t.customer, ":internal_name": req.internal_name,
        ":type": t.model.type_name(), ":currency": t.currency.code,
        ":interval": t.billing_interval.map(|i| i.to_string()), ":amount": amount,
        ":percentage": percentage, ":advance": t.pay_in_advance, ":pro_rata": t.pro_rata,
        ":free_units": t.free_units as i64, ":apply_trial": t.apply_trial,
        ":trial_days": t.trial_days, ":show_interval": t.show_price_per_interval.map(|i| i.to_string()),
        ":sales_channel": sales_channel, ":charge": t.charge, ":option": t.product_set_option,
        ":now": now, ":tenant": tenant, ":id": id,
    })?;
    conn.prepare_cached("DELETE FROM price_plan_tiers WHERE price_plan_id = :id")?
        .execute(named_params! {":id": id})?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO price_plan_tiers (price_plan_id, position, from_quantity, to_quantity,
                                       unit_price, flat_amount)
         VALUES (:id, :position, :from, :to, :unit_price, :flat_amount)",
    )?;
    for (position, tier) in t.model.tiers().iter().enumerate() {
        insert.execute(named_params! {
            ":id": id, ":position": position as i64, ":from": tier.from as i64,
            ":to": tier.to.map(|t| t as i64), ":unit_price": tier.unit_price.to_string(),
            ":flat_amount": tier.flat_amount.to_string(),
        })?;
    }
    Ok(())
}

/// Archives the plan; `false` when it already was (nothing changed, no second event).
pub fn archive(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE price_plans SET status = 'archived', updated_at = :now
             WHERE tenant_id = :tenant AND id = :id AND status <> 'archived'",
        )?
        .execute(named_params! {":now": time::now(), ":tenant": tenant, ":id": id})?;
    Ok(changed == 1)
}

/// The hook for whatever bills by a plan (subscriptions, checkout): from now on its terms are
/// frozen (PUT answers 409 for anything but `internalName`). Sticky on purpose: invoices and
/// credit notes already issued refer to these amounts. `false` when the plan does not exist
/// in the tenant.
pub fn mark_in_use(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE price_plans SET in_use = 1 WHERE tenant_id = :tenant AND id = :id")?
        .execute(named_params! {":tenant": tenant, ":id": id})?;
    Ok(changed == 1)
}

/// Resolves the references of a body in one tenant, straight from the tables (the products
/// slice owns the products table; a plan only needs a product's type and archived flag).
pub struct DbLookup<'a> {
    pub conn: &'a Connection,
    pub tenant: &'a str,
}

impl Lookup for DbLookup<'_> {
    fn product(&self, id: &str) -> ApiResult<Option<ProductRef>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT type, is_archived FROM products WHERE tenant_id = :tenant AND id = :id",
            )?
            .query_row(named_params! {":tenant": self.tenant, ":id": id}, |r| {
                Ok(ProductRef {
                    kind: r.get(0)?,
                    archived: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn customer_exists(&self, id: &str) -> ApiResult<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM customers WHERE tenant_id = :tenant AND id = :id)",
            )?
            .query_row(named_params! {":tenant": self.tenant, ":id": id}, |r| {
                r.get(0)
            })?)
    }
}
