//! Creating and updating a customer: the database checks behind its 422s, number ranges, and
//! the default address and default e-mail address that travel with the customer's flat fields.

use super::model::{Customer, CustomerRow, CustomerWrite, DEFAULT_COUNTRY};
use super::store;
use crate::domain::custom_fields::{self, Entity};
use crate::domain::{ids::new_id, numbering, settings, time};
use crate::error::{ApiError, ApiResult, Violation};
use crate::resources::customer_addresses::{model::Address, store as addresses};
use crate::resources::customer_emails::{model::EmailAddress, store as emails};
use rusqlite::Connection;
use serde_json::{Map, Value};

const CUSTOMER_RANGE: &str = "customer";
const DATEV_RANGE: &str = "datev_debtor";

/// Every violation that needs the database, for a create (`current` None) or an update.
/// Checked before anything is written, so a 422 names these alongside the format errors.
pub fn conflicts(
    conn: &Connection,
    tenant: &str,
    current: Option<&CustomerRow>,
    req: &CustomerWrite,
) -> ApiResult<Vec<Violation>> {
    let mut out = Vec::new();
    let id = current.map(|c| c.id.as_str());
    if let Some(email) = req.email.as_deref().filter(|e| !e.is_empty()) {
        if store::email_taken(conn, tenant, email, id)? {
            out.push(Violation::new(
                "email",
                "This e-mail address is already used by another customer.",
                "not_unique",
            ));
        } else if let Some(id) = id {
            // Another (non-default) address of this customer: make that one the default instead.
            let default = current.map(|c| c.email.as_str()).unwrap_or("");
            if !default.eq_ignore_ascii_case(email) && emails::customer_has(conn, id, email, None)?
            {
                out.push(Violation::new(
                    "email",
                    "This customer already has this e-mail address; make it the default instead.",
                    "not_unique",
                ));
            }
        }
    }
    let unchanged = |new: &str, old: Option<&str>| old == Some(new);
    if let Some(number) = req.customer_number.as_deref().filter(|n| !n.is_empty()) {
        if !unchanged(number, current.map(|c| c.customer_number.as_str()))
            && store::number_issued(conn, tenant, CUSTOMER_RANGE, number)?
        {
            out.push(Violation::new(
                "customerNumber",
                "This customer number has already been issued.",
                "not_unique",
            ));
        }
    }
    if let Some(Some(datev)) = &req.datev_id {
        if !unchanged(datev, current.and_then(|c| c.datev_id.as_deref()))
            && store::number_issued(conn, tenant, DATEV_RANGE, datev)?
        {
            out.push(Violation::new(
                "datevId",
                "This DATEV account has already been issued.",
                "not_unique",
            ));
        }
    }
    // A create stores the whole map (empty without the key), so required fields are checked;
    // a PUT without `customFields` keeps the stored map and has nothing to check.
    let custom_fields = match (&req.custom_fields, current) {
        (Some(map), _) => Some(map.clone()),
        (None, None) => Some(Map::new()),
        (None, Some(_)) => None,
    };
    if let Some(map) = custom_fields {
        out.extend(custom_fields::validate(
            conn,
            tenant,
            Entity::Customer,
            &map,
        )?);
    }
    if let Some(Some(person)) = &req.contact_person {
        if !store::account_exists(conn, tenant, person)? {
            out.push(Violation::new(
                "contactPerson",
                "This contact person is not a member of the tenant.",
                "not_found",
            ));
        }
    }
    Ok(out)
}

/// Creates the customer with its default address and default e-mail address, and answers its
/// read model. `conflicts` must have passed; a number taken in between would still be refused
/// by `numbering::reserve`.
///
/// The read model is built from the rows as written rather than read back: a new customer has
/// no other addresses, and `conflicts` refused every custom field without a definition, so
/// nothing is hidden (the create API tests compare it with a later GET).
pub fn create(conn: &Connection, tenant: &str, req: &CustomerWrite) -> ApiResult<Customer> {
    let mut row = CustomerRow::new(new_id(), time::now());
    req.apply(&mut row);
    row.email = req.email.clone().unwrap_or_default();
    let [default_currency, zone, debitor_accounts] = settings::values(
        conn,
        tenant,
        [
            ("organization", "defaultCurrency"),
            ("organization", "timeZone"),
            ("accounting", "useDebitorAccounts"),
        ],
    )?;
    // As in `currency`: empty means the tenant's default, fixed now.
    row.currency_code = match req.currency_code.as_deref().unwrap_or("") {
        "" => settings::currency_of(&default_currency),
        code => code.to_string(),
    };
    let today = settings::today_in(settings::time_zone_of(&zone));
    row.customer_number = match req.customer_number.as_deref().filter(|n| !n.is_empty()) {
        Some(given) => reserve(conn, tenant, CUSTOMER_RANGE, given, "customerNumber")?,
        None => numbering::next(conn, tenant, CUSTOMER_RANGE, today, None)?,
    };
    row.datev_id = match &req.datev_id {
        Some(Some(given)) => Some(reserve(conn, tenant, DATEV_RANGE, given, "datevId")?),
        _ if debitor_accounts.as_bool().unwrap_or(false) => {
            Some(numbering::next(conn, tenant, DATEV_RANGE, today, None)?)
        }
        _ => None,
    };
    store::insert(conn, tenant, &row)?;

    let mut address = Address::blank("TYPE_DEFAULT", DEFAULT_COUNTRY, "");
    address.customer_id = row.id.clone();
    address.default = true;
    req.default_address_patch()
        .apply(&mut address, DEFAULT_COUNTRY);
    addresses::insert_for_new_customer(conn, tenant, &mut address)?;

    // The login e-mail is the default address (customers.email was inserted with it), and
    // `invoiceEmail` flags the one address that receives invoices (see `set_invoice_email`).
    let mut login = EmailAddress::new(&row.email);
    login.customer_id = row.id.clone();
    login.default = true;
    let mut invoice = None;
    if let Some(given) = &req.invoice_email {
        let target = if given.is_empty() { &row.email } else { given };
        if login.email.eq_ignore_ascii_case(target) {
            login.is_invoice_email = true;
        } else {
            let mut e = EmailAddress::new(target);
            e.customer_id = row.id.clone();
            e.is_invoice_email = true;
            invoice = Some(e);
        }
    }
    emails::insert_for_new_customer(conn, tenant, &mut login)?;
    let mut email_addresses = vec![login];
    if let Some(mut e) = invoice {
        emails::insert_for_new_customer(conn, tenant, &mut e)?;
        email_addresses.push(e);
    }
    let contact = match &row.contact_person_id {
        Some(id) => store::contact_person(conn, tenant, id)?,
        None => None,
    };
    Ok(Customer::assemble(
        row,
        contact,
        vec![address],
        email_addresses,
    ))
}

/// Applies the keys sent to `current` (already loaded, so 404 was decided) and answers the
/// new read model. Address keys change the default address; `email` changes the default
/// e-mail address and with it the login e-mail.
pub fn update(
    conn: &Connection,
    tenant: &str,
    mut row: CustomerRow,
    req: &CustomerWrite,
) -> ApiResult<Customer> {
    // Values of deleted definitions are hidden, not dropped (reference 03 §7.4): a new map
    // replaces only the visible ones.
    let hidden: Map<String, Value> = match &req.custom_fields {
        Some(_) => {
            let visible =
                custom_fields::visible(conn, tenant, Entity::Customer, &row.custom_fields)?;
            row.custom_fields
                .iter()
                .filter(|(k, _)| !visible.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        None => Map::new(),
    };
    req.apply(&mut row);
    row.custom_fields.extend(hidden);
    if let Some(code) = req.currency_code.as_deref() {
        row.currency_code = currency(conn, tenant, code)?;
    }
    if let Some(number) = req.customer_number.as_deref() {
        // Empty keeps the number: a customer is numbered once, and numbers are never reissued.
        if !number.is_empty() && number != row.customer_number {
            row.customer_number = reserve(conn, tenant, CUSTOMER_RANGE, number, "customerNumber")?;
        }
    }
    match &req.datev_id {
        Some(Some(datev)) if row.datev_id.as_deref() != Some(datev) => {
            row.datev_id = Some(reserve(conn, tenant, DATEV_RANGE, datev, "datevId")?);
        }
        Some(None) => row.datev_id = None,
        _ => {}
    }
    if let Some(email) = req.email.as_deref().filter(|e| *e != row.email) {
        let mut login = default_email(conn, tenant, &row.id, &row.email)?;
        login.email = email.to_string();
        emails::update(conn, tenant, &login)?;
        row.email = email.to_string();
    }
    store::update(conn, tenant, &row)?;
    if let Some(invoice) = &req.invoice_email {
        set_invoice_email(conn, tenant, &row, invoice)?;
    }
    let patch = req.default_address_patch();
    if !patch.is_empty() {
        if let Some(mut address) = addresses::default_of(conn, &row.id, "TYPE_DEFAULT")? {
            patch.apply(&mut address, DEFAULT_COUNTRY);
            addresses::update(conn, tenant, &address)?;
        }
    }
    store::get(conn, tenant, &row.id)
}

/// `currencyCode`: empty means the tenant's default currency, fixed at write time so that a
/// later change of the tenant default does not switch the currency of a running customer.
fn currency(conn: &Connection, tenant: &str, code: &str) -> ApiResult<String> {
    if code.is_empty() {
        settings::default_currency(conn, tenant)
    } else {
        Ok(code.to_string())
    }
}

/// Records a hand-given number so the range never issues it; 422 on `field` when taken.
fn reserve(
    conn: &Connection,
    tenant: &str,
    range: &str,
    number: &str,
    field: &str,
) -> ApiResult<String> {
    if numbering::reserve(conn, tenant, range, number)? {
        Ok(number.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            "This number has already been issued.",
            "not_unique",
        ))
    }
}

/// The customer's default e-mail address. Every customer gets one at creation and it cannot be
/// deleted; should it be missing anyway, it is recreated from the login e-mail.
fn default_email(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    login: &str,
) -> ApiResult<EmailAddress> {
    if let Some(e) = emails::for_customer(conn, customer)?
        .into_iter()
        .find(|e| e.default)
    {
        return Ok(e);
    }
    let mut e = EmailAddress::new(login);
    e.customer_id = customer.to_string();
    emails::insert(conn, tenant, &mut e)?;
    emails::make_default(conn, tenant, &e)?;
    e.default = true;
    Ok(e)
}

/// `invoiceEmail` names the one address that receives invoices: the default address when it
/// is empty or equals the login e-mail, else the customer's address with that e-mail (added
/// when missing). Without `invoiceEmail` no address is flagged and billing falls back to the
/// default address (reference 05 §3.3).
fn set_invoice_email(
    conn: &Connection,
    tenant: &str,
    row: &CustomerRow,
    invoice: &str,
) -> ApiResult<()> {
    let target = if invoice.is_empty() {
        &row.email
    } else {
        invoice
    };
    let existing = emails::for_customer(conn, &row.id)?
        .into_iter()
        .find(|e| e.email.eq_ignore_ascii_case(target));
    let id = match existing {
        Some(e) => e.id,
        None => {
            let mut e = EmailAddress::new(target);
            e.customer_id = row.id.clone();
            emails::insert(conn, tenant, &mut e)?;
            e.id
        }
    };
    emails::make_sole_invoice_email(conn, &row.id, &id)
}
