//! SQL for customer e-mail addresses, and the one place that keeps `customers.email` (the unique
//! login e-mail) equal to the customer's default e-mail address.
//!
//! Sync rule (kontor): `customers.email` is a copy of the default address's `email`, written in
//! the same statement sequence whenever the default changes (`make_default`) or the default's
//! e-mail is edited (`update`, and `PUT /customers/{id}` with `email`). The UNIQUE (tenant, email)
//! index on `customers` therefore makes the default address unique per tenant, while non-default
//! addresses (e.g. a shared accounting inbox) may repeat across customers. Callers check
//! `customers::store::email_taken` first so a clash is a 422/409 and never a constraint error.

use super::model::EmailAddress;
use crate::domain::{ids::new_id, time};
use crate::error::{ApiError, ApiResult};
use crate::resources::customers;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use std::sync::LazyLock;

const COLUMNS: &str =
    "id, customer_id, email, receiver_name, is_invoice_email, is_dunning_email, is_default";

/// A customer's rows, oldest first: read with every customer, so its text is built once.
static FOR_CUSTOMER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS} FROM customer_email_addresses WHERE customer_id = :customer
         ORDER BY created_at, id"
    )
});

fn map(r: &Row) -> rusqlite::Result<EmailAddress> {
    Ok(EmailAddress {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        email: r.get(2)?,
        receiver_name: r.get(3)?,
        is_invoice_email: r.get(4)?,
        is_dunning_email: r.get(5)?,
        default: r.get(6)?,
    })
}

/// The addresses of one customer, oldest first.
pub fn for_customer(conn: &Connection, customer: &str) -> ApiResult<Vec<EmailAddress>> {
    let mut stmt = conn.prepare_cached(&FOR_CUSTOMER)?;
    let rows = stmt.query_map(named_params! {":customer": customer}, map)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The addresses of several customers (`ids` is a JSON array), for one page of a list.
pub fn for_customers(conn: &Connection, ids_json: &str) -> ApiResult<Vec<EmailAddress>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customer_email_addresses
         WHERE customer_id IN (SELECT value FROM json_each(:ids))
         ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map(named_params! {":ids": ids_json}, map)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One address of the tenant; another tenant's id is a 404 like a missing one.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<EmailAddress> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customer_email_addresses WHERE id = :id AND tenant_id = :tenant"
    ))?
    .query_row(named_params! {":id": id, ":tenant": tenant}, map)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Customer e-mail address"))
}

/// True when the customer already has `email` (ignoring case) on another address than `except`.
pub fn customer_has(
    conn: &Connection,
    customer: &str,
    email: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM customer_email_addresses
             WHERE customer_id = :customer AND email = :email COLLATE NOCASE
               AND id IS NOT :except)",
        )?
        .query_row(
            named_params! {":customer": customer, ":email": email, ":except": except},
            |r| r.get(0),
        )?)
}

/// Inserts a new, non-default address for `e.customer_id`; sets `e.id`.
pub fn insert(conn: &Connection, tenant: &str, e: &mut EmailAddress) -> ApiResult<()> {
    e.default = false;
    insert_row(conn, tenant, e)?;
    customers::children::restamp(conn, &e.customer_id)
}

/// Inserts an address of a customer created in this request, default flag as it is (sets
/// `e.id`): there is no old default to clear, and no read can have kept the customer's lists
/// (no stamp to renew). A default address must carry the e-mail the customer row was inserted
/// with (the sync rule above).
pub fn insert_for_new_customer(
    conn: &Connection,
    tenant: &str,
    e: &mut EmailAddress,
) -> ApiResult<()> {
    insert_row(conn, tenant, e)
}

fn insert_row(conn: &Connection, tenant: &str, e: &mut EmailAddress) -> ApiResult<()> {
    e.id = new_id();
    conn.prepare_cached(
        "INSERT INTO customer_email_addresses (id, tenant_id, customer_id, email, receiver_name,
             is_invoice_email, is_dunning_email, is_default, created_at, updated_at)
         VALUES (:id, :tenant, :customer, :email, :receiver, :invoice, :dunning, :default,
             :now, :now)",
    )?
    .execute(named_params! {
        ":id": e.id, ":tenant": tenant, ":customer": e.customer_id, ":email": e.email,
        ":receiver": e.receiver_name, ":invoice": e.is_invoice_email,
        ":dunning": e.is_dunning_email, ":default": e.default, ":now": time::now(),
    })?;
    Ok(())
}

/// Writes the editable columns back; the default's e-mail is copied to the customer too.
pub fn update(conn: &Connection, tenant: &str, e: &EmailAddress) -> ApiResult<()> {
    let now = time::now();
    conn.prepare_cached(
        "UPDATE customer_email_addresses SET email = :email, receiver_name = :receiver,
             is_invoice_email = :invoice, is_dunning_email = :dunning, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": e.id, ":tenant": tenant, ":email": e.email, ":receiver": e.receiver_name,
        ":invoice": e.is_invoice_email, ":dunning": e.is_dunning_email, ":now": now,
    })?;
    if e.default {
        sync_login_email(conn, tenant, &e.customer_id, &e.email, &now)?;
    }
    Ok(())
}

/// Makes `e` the customer's only default address and its login e-mail.
pub fn make_default(conn: &Connection, tenant: &str, e: &EmailAddress) -> ApiResult<()> {
    let now = time::now();
    // Clear first: the partial UNIQUE index allows one default per customer at any moment.
    conn.prepare_cached(
        "UPDATE customer_email_addresses SET is_default = 0, updated_at = :now
         WHERE customer_id = :customer AND is_default = 1 AND id <> :id",
    )?
    .execute(named_params! {":customer": e.customer_id, ":id": e.id, ":now": now})?;
    conn.prepare_cached(
        "UPDATE customer_email_addresses SET is_default = 1, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {":id": e.id, ":tenant": tenant, ":now": now})?;
    sync_login_email(conn, tenant, &e.customer_id, &e.email, &now)
}

fn sync_login_email(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    email: &str,
    now: &str,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customers SET email = :email, updated_at = :now
         WHERE id = :customer AND tenant_id = :tenant",
    )?
    .execute(
        named_params! {":customer": customer, ":tenant": tenant, ":email": email, ":now": now},
    )?;
    Ok(())
}

/// Sets `isInvoiceEmail` on exactly the customer's address `id` (`invoiceEmail` of a customer
/// body names the one address that receives invoices).
pub fn make_sole_invoice_email(conn: &Connection, customer: &str, id: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customer_email_addresses SET is_invoice_email = (id = :id), updated_at = :now
         WHERE customer_id = :customer AND is_invoice_email <> (id = :id)",
    )?
    .execute(named_params! {":customer": customer, ":id": id, ":now": time::now()})?;
    Ok(())
}

/// Deletes a non-default address; the caller has checked that it is not the default.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "DELETE FROM customer_email_addresses WHERE id = :id AND tenant_id = :tenant AND is_default = 0",
    )?
    .execute(named_params! {":id": id, ":tenant": tenant})?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Connection, String, String) {
        let conn = crate::db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "Acme", "a@example.com").unwrap();
        let customer = new_id();
        conn.execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
             VALUES (?1, ?2, 'KD-1', 'old@example.com', 'x', 'x')",
            [&customer, &tenant],
        )
        .unwrap();
        (conn, tenant, customer)
    }

    #[test]
    fn default_switch_keeps_login_email_in_sync() {
        let (conn, tenant, customer) = setup();
        let mut first = EmailAddress::new("old@example.com");
        first.customer_id = customer.clone();
        insert(&conn, &tenant, &mut first).unwrap();
        make_default(&conn, &tenant, &first).unwrap();
        let mut second = EmailAddress::new("new@example.com");
        second.customer_id = customer.clone();
        insert(&conn, &tenant, &mut second).unwrap();
        make_default(&conn, &tenant, &second).unwrap();

        let all = for_customer(&conn, &customer).unwrap();
        let defaults: Vec<_> = all.iter().filter(|e| e.default).map(|e| &e.email).collect();
        assert_eq!(defaults, vec!["new@example.com"]);
        let login: String = conn
            .query_row(
                "SELECT email FROM customers WHERE id = ?1",
                [&customer],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(login, "new@example.com");
        assert!(customer_has(&conn, &customer, "NEW@example.com", None).unwrap());
        assert!(!customer_has(&conn, &customer, "new@example.com", Some(&second.id)).unwrap());

        // The default cannot be deleted through `delete`.
        delete(&conn, &tenant, &second.id).unwrap();
        assert_eq!(for_customer(&conn, &customer).unwrap().len(), 2);
        delete(&conn, &tenant, &first.id).unwrap();
        assert_eq!(for_customer(&conn, &customer).unwrap().len(), 1);
    }

    #[test]
    fn other_tenants_ids_are_not_found() {
        let (conn, tenant, customer) = setup();
        let mut e = EmailAddress::new("x@example.com");
        e.customer_id = customer;
        insert(&conn, &tenant, &mut e).unwrap();
        assert!(get(&conn, &tenant, &e.id).is_ok());
        assert!(matches!(
            get(&conn, "other", &e.id),
            Err(ApiError::NotFound(_))
        ));
    }
}
