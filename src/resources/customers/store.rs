//! SQL for customers: the row, the read model (one customer in one statement while its child
//! lists are unchanged, three otherwise; a page of customers in four), status changes, and the
//! uniqueness checks behind the 422s.

use super::children;
use super::model::{ContactPerson, Customer, CustomerRow};
use crate::domain::custom_fields::{self, Entity};
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::resources::{customer_addresses, customer_emails};
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The row plus its contact person (`map` reads them): `SELECT {COLUMNS} {FROM} ...`. The join
/// is on primary keys.
pub(super) const COLUMNS: &str = "c.id, c.customer_number, c.email, c.first_name,
    c.last_name, c.company_name, c.currency_code, c.datev_id, c.language, c.time_zone, c.gender,
    c.phone, c.vat_id, c.is_vat_id_valid, c.commercial_register_name,
    c.commercial_register_number, c.customer_group_id, c.contact_person_id, c.custom_fields,
    c.tax_exempt, c.status, c.default_payment_method_id, c.total_turnover_rank, c.created_at,
    a.id, u.first_name, u.last_name, u.email";
pub(super) const FROM: &str = "FROM customers c
    LEFT JOIN accounts a ON a.id = c.contact_person_id AND a.tenant_id = c.tenant_id
    LEFT JOIN users u ON u.id = a.user_id";

/// One customer's row and contact person, and, when it stores custom fields, the names of the
/// defined ones (a JSON array; NULL otherwise): hiding the values of deleted definitions then
/// costs no statement of its own. Last the stamp of its child lists (see `children`).
static READ: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {COLUMNS}, CASE WHEN c.custom_fields = '{{}}' THEN NULL ELSE {names} END,
             c.children_stamp
         {FROM} WHERE c.id = :id AND c.tenant_id = :tenant",
        names = custom_fields::NAMES_JSON,
    )
});

pub(super) fn map(r: &Row) -> rusqlite::Result<(CustomerRow, Option<ContactPerson>)> {
    // Borrowed: most customers have none ('{}'), and then there is nothing to parse.
    let custom_fields = r.get_ref(18)?.as_str().unwrap_or("{}");
    let row = CustomerRow {
        id: r.get(0)?,
        customer_number: r.get(1)?,
        email: r.get(2)?,
        first_name: r.get(3)?,
        last_name: r.get(4)?,
        company_name: r.get(5)?,
        currency_code: r.get(6)?,
        datev_id: r.get(7)?,
        language: r.get(8)?,
        time_zone: r.get(9)?,
        gender: r.get(10)?,
        phone: r.get(11)?,
        vat_id: r.get(12)?,
        is_vat_id_valid: r.get(13)?,
        commercial_register_name: r.get(14)?,
        commercial_register_number: r.get(15)?,
        customer_group_id: r.get(16)?,
        contact_person_id: r.get(17)?,
        // Written only by this store as a JSON object; a damaged value reads as empty rather
        // than failing every read of the customer.
        custom_fields: match custom_fields {
            "{}" => Map::new(),
            text => serde_json::from_str::<Map<String, Value>>(text).unwrap_or_default(),
        },
        tax_exempt: r.get(19)?,
        status: r.get(20)?,
        default_payment_method_id: r.get(21)?,
        total_turnover_rank: r.get(22)?,
        created_at: r.get(23)?,
    };
    let contact = match r.get::<_, Option<String>>(24)? {
        Some(id) => Some(ContactPerson {
            id,
            first_name: r.get::<_, Option<String>>(25)?.unwrap_or_default(),
            last_name: r.get::<_, Option<String>>(26)?.unwrap_or_default(),
            email: r.get::<_, Option<String>>(27)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok((row, contact))
}

fn load(
    conn: &Connection,
    tenant: &str,
    id: &str,
) -> ApiResult<(CustomerRow, Option<ContactPerson>)> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM} WHERE c.id = :id AND c.tenant_id = :tenant"
    ))?
    .query_row(named_params! {":id": id, ":tenant": tenant}, map)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Customer"))
}

/// The stored row of one of the tenant's customers; 404 for a missing or foreign id.
pub fn row(conn: &Connection, tenant: &str, id: &str) -> ApiResult<CustomerRow> {
    Ok(load(conn, tenant, id)?.0)
}

/// The read model of one customer: its row, and its addresses and e-mail addresses as this
/// thread last read them unless they changed since (`children`); 404 for a missing or foreign
/// id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Customer> {
    let params = named_params! {
        ":id": id, ":tenant": tenant, ":entity": Entity::Customer.as_str(),
    };
    let (mut row, contact, names, stamp) = conn
        .prepare_cached(&READ)?
        .query_row(params, |r| {
            let (row, contact) = map(r)?;
            let stamp: Option<i64> = r.get(29)?;
            Ok((row, contact, r.get::<_, Option<String>>(28)?, stamp))
        })
        .optional()?
        .ok_or_else(|| ApiError::not_found("Customer"))?;
    // Values of deleted definitions stay stored but are hidden (reference 03 §7.4).
    if let Some(names) = names {
        let stored = std::mem::take(&mut row.custom_fields);
        row.custom_fields = custom_fields::visible_among(stored, &names)?;
    }
    let children = children::of(conn, &row.id, stamp)?;
    Ok(Customer::assemble_shown(row, contact, children))
}

/// 404 unless the tenant has a customer with this id.
pub fn exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let found: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM customers WHERE id = :id AND tenant_id = :tenant)",
        )?
        .query_row(named_params! {":id": id, ":tenant": tenant}, |r| r.get(0))?;
    if found {
        Ok(())
    } else {
        Err(ApiError::not_found("Customer"))
    }
}

pub fn insert(conn: &Connection, tenant: &str, c: &CustomerRow) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO customers (id, tenant_id, customer_number, email, first_name, last_name,
             company_name, currency_code, datev_id, language, time_zone, gender, phone, vat_id,
             is_vat_id_valid, commercial_register_name, commercial_register_number,
             customer_group_id, contact_person_id, custom_fields, tax_exempt, status,
             default_payment_method_id, total_turnover_rank, created_at, updated_at,
             children_stamp)
         VALUES (:id, :tenant, :number, :email, :first, :last, :company, :currency, :datev,
             :language, :tz, :gender, :phone, :vat, :vat_valid, :reg_name, :reg_number, :group,
             :contact, :custom, :tax_exempt, :status, :payment, :rank, :created, :created,
             random())",
    )?
    .execute(named_params! {
        ":id": c.id, ":tenant": tenant, ":number": c.customer_number, ":email": c.email,
        ":first": c.first_name, ":last": c.last_name, ":company": c.company_name,
        ":currency": c.currency_code, ":datev": c.datev_id, ":language": c.language,
        ":tz": c.time_zone, ":gender": c.gender, ":phone": c.phone, ":vat": c.vat_id,
        ":vat_valid": c.is_vat_id_valid, ":reg_name": c.commercial_register_name,
        ":reg_number": c.commercial_register_number, ":group": c.customer_group_id,
        ":contact": c.contact_person_id, ":custom": Value::Object(c.custom_fields.clone()).to_string(),
        ":tax_exempt": c.tax_exempt, ":status": c.status,
        ":payment": c.default_payment_method_id, ":rank": c.total_turnover_rank,
        ":created": c.created_at,
    })?;
    Ok(())
}

/// Writes every writable column back (status and payment method have their own setters).
pub fn update(conn: &Connection, tenant: &str, c: &CustomerRow) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customers SET customer_number = :number, email = :email, first_name = :first,
             last_name = :last, company_name = :company, currency_code = :currency,
             datev_id = :datev, language = :language, time_zone = :tz, gender = :gender,
             phone = :phone, vat_id = :vat, is_vat_id_valid = :vat_valid,
             commercial_register_name = :reg_name, commercial_register_number = :reg_number,
             customer_group_id = :group, contact_person_id = :contact, custom_fields = :custom,
             tax_exempt = :tax_exempt, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": c.id, ":tenant": tenant, ":number": c.customer_number, ":email": c.email,
        ":first": c.first_name, ":last": c.last_name, ":company": c.company_name,
        ":currency": c.currency_code, ":datev": c.datev_id, ":language": c.language,
        ":tz": c.time_zone, ":gender": c.gender, ":phone": c.phone, ":vat": c.vat_id,
        ":vat_valid": c.is_vat_id_valid, ":reg_name": c.commercial_register_name,
        ":reg_number": c.commercial_register_number, ":group": c.customer_group_id,
        ":contact": c.contact_person_id, ":custom": Value::Object(c.custom_fields.clone()).to_string(),
        ":tax_exempt": c.tax_exempt, ":now": time::now(),
    })?;
    Ok(())
}

pub fn set_status(conn: &Connection, tenant: &str, id: &str, status: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customers SET status = :status, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(
        named_params! {":id": id, ":tenant": tenant, ":status": status, ":now": time::now()},
    )?;
    Ok(())
}

pub fn set_payment_method(
    conn: &Connection,
    tenant: &str,
    id: &str,
    payment_method: Option<&str>,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE customers SET default_payment_method_id = :pm, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":pm": payment_method, ":now": time::now(),
    })?;
    Ok(())
}

/// Deletes the customer; addresses, e-mail addresses and settings go with it (ON DELETE
/// CASCADE). Its customer number and DATEV id stay in `issued_numbers`, so neither is reissued.
/// A row elsewhere that still references the customer without cascading (e.g. a
/// customer-specific price plan) makes SQLite refuse the delete: that is a 409, not a 500.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    let result = conn
        .prepare_cached("DELETE FROM customers WHERE id = :id AND tenant_id = :tenant")?
        .execute(named_params! {":id": id, ":tenant": tenant});
    match result {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            Err(ApiError::Conflict(
                "The customer is still referenced by other records; archive it instead.".into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// True when another customer of the tenant has `email` as its login e-mail (ignoring case).
pub fn email_taken(
    conn: &Connection,
    tenant: &str,
    email: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM customers
             WHERE tenant_id = :tenant AND email = :email AND id IS NOT :except)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":email": email, ":except": except},
            |r| r.get(0),
        )?)
}

/// True when `number` was ever issued in `range` (by the counter or by hand).
pub fn number_issued(
    conn: &Connection,
    tenant: &str,
    range: &str,
    number: &str,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM issued_numbers
             WHERE tenant_id = :tenant AND range_type = :range AND number = :number)",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":range": range, ":number": number},
            |r| r.get(0),
        )?)
}

/// The tenant's member `id` as a customer's contact person, as `SELECT` joins it.
pub fn contact_person(
    conn: &Connection,
    tenant: &str,
    id: &str,
) -> ApiResult<Option<ContactPerson>> {
    Ok(conn
        .prepare_cached(
            "SELECT a.id, u.first_name, u.last_name, u.email
             FROM accounts a LEFT JOIN users u ON u.id = a.user_id
             WHERE a.id = :id AND a.tenant_id = :tenant",
        )?
        .query_row(named_params! {":id": id, ":tenant": tenant}, |r| {
            Ok(ContactPerson {
                id: r.get(0)?,
                first_name: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                last_name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                email: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            })
        })
        .optional()?)
}

/// True when `id` is a member (account) of the tenant.
pub fn account_exists(conn: &Connection, tenant: &str, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = :id AND tenant_id = :tenant)",
        )?
        .query_row(named_params! {":id": id, ":tenant": tenant}, |r| r.get(0))?)
}

/// Read models for the rows of one list page: addresses and e-mails in one query each.
pub(super) fn assemble_page(
    conn: &Connection,
    tenant: &str,
    mut rows: Vec<(CustomerRow, Option<ContactPerson>)>,
) -> ApiResult<Vec<Customer>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // One definitions lookup for the page: ask which of all keys used on it are visible.
    let used: Map<String, Value> = rows
        .iter()
        .flat_map(|(r, _)| r.custom_fields.keys())
        .map(|k| (k.clone(), Value::Null))
        .collect();
    let visible = custom_fields::visible(conn, tenant, Entity::Customer, &used)?;
    for (row, _) in &mut rows {
        row.custom_fields.retain(|k, _| visible.contains_key(k));
    }
    let ids = Value::from(rows.iter().map(|(r, _)| r.id.clone()).collect::<Vec<_>>()).to_string();
    let mut addresses: HashMap<String, Vec<_>> = HashMap::new();
    for a in customer_addresses::store::for_customers(conn, &ids)? {
        addresses.entry(a.customer_id.clone()).or_default().push(a);
    }
    let mut emails: HashMap<String, Vec<_>> = HashMap::new();
    for e in customer_emails::store::for_customers(conn, &ids)? {
        emails.entry(e.customer_id.clone()).or_default().push(e);
    }
    Ok(rows
        .into_iter()
        .map(|(row, contact)| {
            let a = addresses.remove(&row.id).unwrap_or_default();
            let e = emails.remove(&row.id).unwrap_or_default();
            Customer::assemble(row, contact, a, e)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn insert(conn: &Connection, id: &str, gender: Option<&str>, status: &str) -> bool {
        conn.execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, gender, status,
                 created_at, updated_at)
             VALUES (?1, 't', ?1, ?1, ?2, ?3, 'x', 'x')",
            rusqlite::params![id, gender, status],
        )
        .is_ok()
    }

    /// The enum CHECKs are spelled value by value (see schema.sql); they must still refuse
    /// every other value and let NULL through where the column is nullable.
    #[test]
    fn enum_checks_refuse_unknown_values() {
        let conn = crate::db::memory();
        conn.execute_batch(
            "INSERT INTO tenants VALUES ('t', 'T', 't', '', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');",
        )
        .unwrap();
        assert!(insert(&conn, "a", None, "STATUS_ACTIVE"));
        assert!(insert(&conn, "b", Some("diverse"), "STATUS_SUSPENDED"));
        assert!(insert(&conn, "c", Some("female"), "STATUS_ARCHIVED"));
        assert!(!insert(&conn, "d", Some("Male"), "STATUS_ACTIVE"));
        assert!(!insert(&conn, "e", Some(""), "STATUS_ACTIVE"));
        assert!(!insert(&conn, "f", None, "STATUS_GONE"));
        assert!(conn
            .execute("UPDATE customers SET status = 'active' WHERE id = 'a'", [])
            .is_err());
        let address = |salutation: Option<&str>| {
            conn.execute(
                "INSERT INTO customer_addresses (id, tenant_id, customer_id, type, salutation,
                     country_code, created_at, updated_at)
                 VALUES (lower(hex(randomblob(8))), 't', 'a', 'TYPE_INVOICE', ?1, 'DE', 'x', 'x')",
                [salutation],
            )
            .is_ok()
        };
        assert!(address(None) && address(Some("Herr")) && address(Some("Firma")));
        assert!(!address(Some("Dr.")));
    }
}
