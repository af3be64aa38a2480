//! SQL for coupons, their product restriction and redemptions. Deleted coupons (deleted_at set)
//! are invisible to every read here; every query is scoped to one tenant.

use super::model::{Coupon, CouponWrite, FREQUENCIES, TYPES};
use crate::domain::discount::Usage;
use crate::domain::ids::new_id;
use crate::domain::money::{Currency, Money};
use crate::domain::tax::parse_rate;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;

const COLUMNS: &str = "c.id, c.code, c.name, c.type, c.percentage, c.fixed_amount,
    c.currency_code, c.frequency, c.frequency_interval, c.expires_at, c.max_redemptions,
    c.max_redemptions_per_customer, c.enabled, c.created_at, c.updated_at,
    (SELECT count(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id)";

/// The row as stored; decimals are decoded outside the row closure so that a corrupt value
/// becomes a logged 500 instead of a wrong discount.
struct Raw {
    coupon: Coupon,
    percentage: Option<String>,
    fixed_amount: Option<String>,
}

fn raw(r: &Row) -> rusqlite::Result<Raw> {
    Ok(Raw {
        coupon: Coupon {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            kind: r.get(3)?,
            percentage: None,
            fixed_amount: None,
            currency_code: r.get(6)?,
            frequency: r.get(7)?,
            frequency_interval: r.get(8)?,
            expires_at: r.get(9)?,
            max_redemptions: r.get(10)?,
            max_redemptions_per_customer: r.get(11)?,
            products: vec![],
            enabled: r.get(12)?,
            times_redeemed: r.get(15)?,
            created_at: r.get(13)?,
            updated_at: r.get(14)?,
        },
        percentage: r.get(4)?,
        fixed_amount: r.get(5)?,
    })
}

fn decode(conn: &Connection, tenant: &str, raw: Raw) -> ApiResult<Coupon> {
    let mut c = raw.coupon;
    let corrupt = |what: &str| ApiError::Internal(format!("coupon {}: stored {what}", c.id));
    if let Some(p) = raw.percentage {
        c.percentage = Some(parse_rate(&p).ok_or_else(|| corrupt("percentage"))?);
    }
    if let Some(a) = raw.fixed_amount {
        let value: Decimal = a.parse().map_err(|_| corrupt("fixed amount"))?;
        let currency = c
            .currency_code
            .as_deref()
            .and_then(Currency::parse)
            .ok_or_else(|| corrupt("currency"))?;
        let money = Money::unit_price(value, currency).ok_or_else(|| corrupt("fixed amount"))?;
        c.fixed_amount = Some(money);
    }
    c.products = conn
        .prepare_cached(
            "SELECT product_id FROM coupon_products
             WHERE coupon_id = :id AND tenant_id = :tenant ORDER BY position",
        )?
        .query_map(named_params! {":id": c.id, ":tenant": tenant}, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(c)
}

/// A page of live coupons; filters `code` (any case), `type`, `frequency`, `enabled`; sorting
/// `order[createdAt|code|name]`, oldest first by default.
pub fn list(
    conn: &Connection,
    tenant: &str,
    q: &Query,
    page: &Page,
) -> ApiResult<(Vec<Coupon>, i64)> {
    let mut filter = Filter::for_tenant("c.tenant_id", tenant);
    filter.raw("c.deleted_at IS NULL");
    filter.eq(q, "code", "c.code");
    filter.eq_enum(q, "type", "c.type", TYPES)?;
    filter.eq_enum(q, "frequency", "c.frequency", FREQUENCIES)?;
    if let Some(enabled) = q.flag("enabled")? {
        filter.push("c.enabled = {}", i64::from(enabled));
    }
    let order = order_by(
        q,
        &[
            ("createdAt", "c.created_at"),
            ("code", "c.code"),
            ("name", "c.name"),
        ],
        "c.created_at, c.id",
    )?;
    let (rows, total) = filter.fetch_page(conn, "coupons c", COLUMNS, &order, page, raw)?;
    let items = rows
        .into_iter()
        .map(|r| decode(conn, tenant, r))
        .collect::<ApiResult<_>>()?;
    Ok((items, total))
}

/// One live coupon of the tenant; 404 when there is none (or it was deleted).
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Coupon> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM coupons c
             WHERE c.tenant_id = :tenant AND c.id = :id AND c.deleted_at IS NULL"
        ))?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(row) => decode(conn, tenant, row),
        None => Err(ApiError::not_found("Coupon")),
    }
}

/// The live coupon a customer's code names, in any case (checkout, portal, `couponCode`).
pub fn find_by_code(conn: &Connection, tenant: &str, code: &str) -> ApiResult<Option<Coupon>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM coupons c
             WHERE c.tenant_id = :tenant AND c.code = :code AND c.deleted_at IS NULL"
        ))?
        .query_row(named_params! {":tenant": tenant, ":code": code}, raw)
        .optional()?;
    row.map(|r| decode(conn, tenant, r)).transpose()
}

/// Whether another live coupon (not `except`) already uses `code`, in any case.
pub fn code_taken(
    conn: &Connection,
    tenant: &str,
    code: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM coupons WHERE tenant_id = :tenant AND code = :code
                AND deleted_at IS NULL AND id IS NOT :except)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":code": code, ":except": except},
            |r| r.get(0),
        )?)
}

pub fn product_exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM products WHERE tenant_id = :tenant AND id = :id)",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?)
}

fn write_products(conn: &Connection, tenant: &str, id: &str, products: &[String]) -> ApiResult<()> {
    conn.prepare_cached(
        "DELETE FROM coupon_products WHERE coupon_id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {":id": id, ":tenant": tenant})?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO coupon_products (coupon_id, product_id, tenant_id, position)
         VALUES (:id, :product, :tenant, :position)",
    )?;
    for (position, product) in products.iter().enumerate() {
        stmt.execute(named_params! {
            ":id": id, ":product": product, ":tenant": tenant, ":position": position as i64,
        })?;
    }
    Ok(())
}

pub fn create(conn: &Connection, tenant: &str, w: &CouponWrite) -> ApiResult<Coupon> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO coupons (id, tenant_id, code, name, type, percentage, fixed_amount,
             currency_code, frequency, frequency_interval, expires_at, max_redemptions,
             max_redemptions_per_customer, enabled, created_at, updated_at)
         VALUES (:id, :tenant, :code, :name, :type, :percentage, :fixed, :currency, :frequency,
             :interval, :expires, :max, :max_customer, :enabled, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":code": w.code, ":name": w.name, ":type": w.kind,
        ":percentage": w.percentage.map(|p| p.normalize().to_string()),
        ":fixed": w.fixed_amount.map(|a| a.to_string()), ":currency": w.currency_code,
        ":frequency": w.frequency, ":interval": w.frequency_interval, ":expires": w.expires_at,
        ":max": w.max_redemptions, ":max_customer": w.max_redemptions_per_customer,
        ":enabled": w.enabled.unwrap_or(true), ":now": time::now(),
    })?;
    write_products(conn, tenant, &id, &w.products)?;
    get(conn, tenant, &id)
}

/// Replaces every writable field of a live coupon; `enabled` only when sent.
pub fn replace(
    conn: &Connection,
    tenant: &str,
    current: &Coupon,
    w: &CouponWrite,
) -> ApiResult<Coupon> {
    conn.prepare_cached(
        "UPDATE coupons SET code = :code, name = :name, type = :type, percentage = :percentage,
             fixed_amount = :fixed, currency_code = :currency, frequency = :frequency,
             frequency_interval = :interval, expires_at = :expires, max_redemptions = :max,
             max_redemptions_per_customer = :max_customer, enabled = :enabled, updated_at = :now
         WHERE tenant_id = :tenant AND id = :id AND deleted_at IS NULL",
    )?
    .execute(named_params! {
        ":id": current.id, ":tenant": tenant, ":code": w.code, ":name": w.name, ":type": w.kind,
        ":percentage": w.percentage.map(|p| p.normalize().to_string()),
        ":fixed": w.fixed_amount.map(|a| a.to_string()), ":currency": w.currency_code,
        ":frequency": w.frequency, ":interval": w.frequency_interval, ":expires": w.expires_at,
        ":max": w.max_redemptions, ":max_customer": w.max_redemptions_per_customer,
        ":enabled": w.enabled.unwrap_or(current.enabled), ":now": time::now(),
    })?;
    write_products(conn, tenant, &current.id, &w.products)?;
    get(conn, tenant, &current.id)
}

/// Flips `enabled` and answers the coupon as it is now.
pub fn toggle(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Coupon> {
    let changed = conn
        .prepare_cached(
            "UPDATE coupons SET enabled = 1 - enabled, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id AND deleted_at IS NULL",
        )?
        .execute(named_params! {":tenant": tenant, ":id": id, ":now": time::now()})?;
    if changed == 0 {
        return Err(ApiError::not_found("Coupon"));
    }
    get(conn, tenant, id)
}

/// Marks a coupon deleted: it stops being listed and redeemed, its code is free again, and
/// discounts already applied keep their reference.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE coupons SET deleted_at = :now, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id AND deleted_at IS NULL",
        )?
        .execute(named_params! {":tenant": tenant, ":id": id, ":now": time::now()})?;
    if changed == 0 {
        return Err(ApiError::not_found("Coupon"));
    }
    Ok(())
}

/// Redemptions of a coupon so far: in total and by one customer.
pub fn usage(
    conn: &Connection,
    tenant: &str,
    coupon_id: &str,
    customer_id: &str,
) -> ApiResult<Usage> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), COALESCE(sum(customer_id = :customer), 0) FROM coupon_redemptions
             WHERE tenant_id = :tenant AND coupon_id = :coupon",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":coupon": coupon_id, ":customer": customer_id},
            |r| {
                Ok(Usage {
                    total: r.get(0)?,
                    by_customer: r.get(1)?,
                })
            },
        )?)
}

/// Records one redemption (after `discount::check_redemption` passed, in the same transaction).
pub fn record_redemption(
    conn: &Connection,
    tenant: &str,
    coupon_id: &str,
    customer_id: &str,
    subscription_id: Option<&str>,
) -> ApiResult<String> {
    let id = new_id();
    conn.prepare_cached(
        "INSERT INTO coupon_redemptions (id, tenant_id, coupon_id, customer_id, subscription_id,
             created_at)
         VALUES (:id, :tenant, :coupon, :customer, :subscription, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":coupon": coupon_id, ":customer": customer_id,
        ":subscription": subscription_id, ":now": time::now(),
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::discount::{check_redemption, DiscountKind, Frequency, ItemAmount, Refusal};
    use rust_decimal_macros::dec;

    fn write(code: &str) -> CouponWrite {
        CouponWrite {
            code: code.into(),
            name: "Five off".into(),
            kind: "fixed_amount".into(),
            percentage: None,
            fixed_amount: Some(dec!(5.00)),
            currency_code: Some("EUR".into()),
            frequency: "limited".into(),
            frequency_interval: Some(3),
            expires_at: None,
            max_redemptions: Some(2),
            max_redemptions_per_customer: Some(1),
            products: vec![],
            enabled: None,
        }
    }

    #[test]
    fn redemptions_count_towards_the_limits() {
        let conn = crate::db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "T", "t@example.test").unwrap();
        let customer = |id: &str| {
            conn.execute(
                "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
                 VALUES (?1, ?2, ?1, ?1 || '@x.test', 'now', 'now')",
                [id, tenant.as_str()],
            )
            .unwrap();
        };
        customer("a");
        customer("b");
        let coupon = create(&conn, &tenant, &write("FIVE")).unwrap();
        let found = find_by_code(&conn, &tenant, "five").unwrap().unwrap();
        assert_eq!(found, coupon);
        assert!(code_taken(&conn, &tenant, "Five", None).unwrap());
        assert!(!code_taken(&conn, &tenant, "Five", Some(&coupon.id)).unwrap());

        // The stored coupon turns into the terms billing applies: 30.00 - 5.00 = 25.00.
        let terms = coupon.terms().unwrap();
        assert_eq!(
            terms.kind,
            DiscountKind::FixedAmount {
                amount: dec!(5.00),
                currency: "EUR".into()
            }
        );
        assert_eq!(terms.frequency, Frequency::Limited(3));
        let item = ItemAmount {
            product_id: "p",
            amount: dec!(30.00),
            currency: "EUR",
        };
        assert_eq!(terms.discount_for(&item, 0), Ok(Some(dec!(5.00))));

        let now = chrono::Utc::now();
        let check = |customer: &str| {
            let usage = usage(&conn, &tenant, &coupon.id, customer).unwrap();
            check_redemption(&coupon.rules(), &terms, now, usage, Some(&[item]))
        };
        assert_eq!(check("a"), Ok(()));
        record_redemption(&conn, &tenant, &coupon.id, "a", None).unwrap();
        assert_eq!(check("a"), Err(Refusal::ExhaustedForCustomer));
        assert_eq!(check("b"), Ok(()));
        record_redemption(&conn, &tenant, &coupon.id, "b", Some("sub-1")).unwrap();
        assert_eq!(check("b"), Err(Refusal::Exhausted));
        assert_eq!(get(&conn, &tenant, &coupon.id).unwrap().times_redeemed, 2);

        // Deleted: gone for reads, the code is free, the redemptions stay.
        delete(&conn, &tenant, &coupon.id).unwrap();
        assert!(find_by_code(&conn, &tenant, "FIVE").unwrap().is_none());
        assert!(!code_taken(&conn, &tenant, "FIVE", None).unwrap());
        assert_eq!(usage(&conn, &tenant, &coupon.id, "a").unwrap().total, 2);
        assert!(create(&conn, &tenant, &write("FIVE")).is_ok());
    }
}
