//! SQL for customer addresses: rows, and the one-default-per-type rule (the partial UNIQUE index
//! in schema.sql backs it; the store clears the old default before setting a new one).

use super::model::Address;
use crate::domain::{ids::new_id, time};
use crate::error::{ApiError, ApiResult};
use crate::resources::customers;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use std::sync::LazyLock;

const COLUMNS: &str = "id, customer_id, type, company_name, first_name, last_name, salutation,
    street, house_number, zip, city, addition, cost_centre, country_code, vat_id, is_default, status";

/// A customer's rows, oldest first: read with every customer, so its text is built once.
static FOR_CUSTOMER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM customer_addresses WHERE customer_id = :customer
         ORDER BY created_at, id"
    )
});

fn map(r: &Row) -> rusqlite::Result<Address> {
    Ok(Address {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        kind: r.get(2)?,
        company_name: r.get(3)?,
        first_name: r.get(4)?,
        last_name: r.get(5)?,
        salutation: r.get(6)?,
        street: r.get(7)?,
        house_number: r.get(8)?,
        zip: r.get(9)?,
        city: r.get(10)?,
        addition: r.get(11)?,
        cost_centre: r.get(12)?,
        country_code: r.get(13)?,
        vat_id: r.get(14)?,
        default: r.get(15)?,
        status: r.get(16)?,
    })
}

/// The addresses of one customer, oldest first.
pub fn for_customer(conn: &Connection, customer: &str) -> ApiResult<Vec<Address>> {
    let mut stmt = conn.prepare_cached(&FOR_CUSTOMER)?;
    let rows = stmt.query_map(named_params! {":customer": customer}, map)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The addresses of several customers (`ids` is a JSON array), for one page of a list.
pub fn for_customers(conn: &Connection, ids_json: &str) -> ApiResult<Vec<Address>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customer_addresses
         WHERE customer_id IN (SELECT value FROM json_each(:ids))
         ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map(named_params! {":ids": ids_json}, map)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One address of the tenant; another tenant's id is a 404 like a missing one.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Address> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customer_addresses WHERE id = :id AND tenant_id = :tenant"
    ))?
    .query_row(named_params! {":id": id, ":tenant": tenant}, map)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Customer address"))
}

/// The customer's default address of `kind`, if any.
pub fn default_of(conn: &Connection, customer: &str, kind: &str) -> ApiResult<Option<Address>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM customer_addresses
             WHERE customer_id = :customer AND type = :type AND is_default = 1"
        ))?
        .query_row(named_params! {":customer": customer, ":type": kind}, map)
        .optional()?)
}

/// Inserts `a` for `a.customer_id` (sets `a.id`); with `a.default` it replaces the old default.
pub fn insert(conn: &Connection, tenant: &str, a: &mut Address) -> ApiResult<()> {
    a.id = new_id();
    let now = time::now();
    if a.default {
        clear_default(conn, &a.customer_id, &a.kind, &now)?;
    }
    insert_row(conn, tenant, a, &now)?;
    customers::children::restamp(conn, &a.customer_id)
}

/// Inserts an address of a customer created in this request (sets `a.id`): there is no old
/// default to clear, so the default flag is written as it is, and no read can have kept the
/// customer's lists, so there is no stamp to renew.
pub fn insert_for_new_customer(conn: &Connection, tenant: &str, a: &mut Address) -> ApiResult<()> {
    a.id = new_id();
    insert_row(conn, tenant, a, &time::now())
}

fn insert_row(conn: &Connection, tenant: &str, a: &Address, now: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO customer_addresses (id, tenant_id, customer_id, type, is_default, status,
             company_name, first_name, last_name, salutation, street, house_number, zip, city,
             addition, cost_centre, country_code, vat_id, created_at, updated_at)
         VALUES (:id, :tenant, :customer, :type, :default, :status, :company, :first, :last,
             :salutation, :street, :house, :zip, :city, :addition, :cost_centre, :country, :vat,
             :now, :now)",
    )?
    .execute(named_params! {
        ":id": a.id, ":tenant": tenant, ":customer": a.customer_id, ":type": a.kind,
        ":default": a.default, ":status": a.status, ":company": a.company_name,
        ":first": a.first_name, ":last": a.last_name, ":salutation": a.salutation,
        ":street": a.street, ":house": a.house_number, ":zip": a.zip, ":city": a.city,
        ":addition": a.addition, ":cost_centre": a.cost_centre, ":country": a.country_code,
        ":vat": a.vat_id, ":now": now,
    })?;
    Ok(())
}

/// Writes every editable column of `a` back (not the default flag or status).
pub fn update(conn: &Connection, tenant: &str, a: &Address) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customer_addresses SET type = :type, company_name = :company,
             first_name = :first, last_name = :last, salutation = :salutation, street = :street,
             house_number = :house, zip = :zip, city = :city, addition = :addition,
             cost_centre = :cost_centre, country_code = :country, vat_id = :vat, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": a.id, ":tenant": tenant, ":type": a.kind, ":company": a.company_name,
        ":first": a.first_name, ":last": a.last_name, ":salutation": a.salutation,
        ":street": a.street, ":house": a.house_number, ":zip": a.zip, ":city": a.city,
        ":addition": a.addition, ":cost_centre": a.cost_centre, ":country": a.country_code,
        ":vat": a.vat_id, ":now": time::now(),
    })?;
    Ok(())
}

fn clear_default(conn: &Connection, customer: &str, kind: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customer_addresses SET is_default = 0, updated_at = :now
         WHERE customer_id = :customer AND type = :type AND is_default = 1",
    )?
    .execute(named_params! {":customer": customer, ":type": kind, ":now": now})?;
    Ok(())
}

/// Makes `a` the default of its type, replacing the previous default.
pub fn make_default(conn: &Connection, tenant: &str, a: &Address) -> ApiResult<()> {
    let now = time::now();
    // Clear first: the partial UNIQUE index allows one default per type at any moment.
    clear_default(conn, &a.customer_id, &a.kind, &now)?;
    set_flags(conn, tenant, &a.id, true, &a.status, &now)
}

/// Writes the default flag and status of one address.
pub fn set_flags(
    conn: &Connection,
    tenant: &str,
    id: &str,
    default: bool,
    status: &str,
    now: &str,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customer_addresses SET is_default = :default, status = :status, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":default": default, ":status": status, ":now": now,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_default_per_type() {
        let conn = crate::db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let customer = new_id();
        conn.execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
             VALUES (?1, ?2, 'KD-1', 'c@example.com', 'x', 'x')",
            [&customer, &tenant],
        )
        .unwrap();
        let add = |kind: &str| {
            let mut a = Address::blank(kind, "DE", "");
            a.customer_id = customer.clone();
            a.default = true;
            insert(&conn, &tenant, &mut a).unwrap();
            a
        };
        let first = add("TYPE_DEFAULT");
        let invoice = add("TYPE_INVOICE");
        let second = add("TYPE_DEFAULT");
        let defaults: Vec<_> = for_customer(&conn, &customer)
            .unwrap()
            .into_iter()
            .filter(|a| a.default)
            .map(|a| a.id)
            .collect();
        assert_eq!(defaults, vec![invoice.id.clone(), second.id.clone()]);
        make_default(&conn, &tenant, &first).unwrap();
        let d = default_of(&conn, &customer, "TYPE_DEFAULT")
            .unwrap()
            .unwrap();
        assert_eq!(d.id, first.id);
        assert!(matches!(
            get(&conn, "other-tenant", &first.id),
            Err(ApiError::NotFound(_))
        ));
    }
}
