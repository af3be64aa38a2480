//! The create / update body of an invoice draft (reference 06 §1.5–1.6), positions included,
//! validated so that one 422 names every invalid field of the whole body.

use super::model::InvoiceRow;
use crate::domain::money::Currency;
use crate::domain::settings;
use crate::error::{ApiError, ApiResult};
use crate::http::input::{Field, Input};
use crate::resources::customer_addresses;
use crate::resources::customers::{self, fields};
use crate::resources::invoice_positions::input::Reader;
use crate::resources::invoice_positions::model::PositionData;
use crate::resources::invoice_positions::store::DbLookup;
use rusqlite::Connection;
use serde_json::{Map, Value};

const WRITABLE: &[&str] = &[
    "customer",
    "currencyCode",
    "title",
    "introduction",
    "closing",
    "invoiceAddress",
    "paymentMethod",
    "internalNote",
    "customFields",
    "positions",
];

/// Keys of the read shape a client may send back (read-modify-write); ignored on write.
const READ_ONLY: &[&str] = &[
    "id",
    "type",
    "status",
    "number",
    "referencedInvoice",
    "creationDate",
    "finalizationDate",
    "dueDate",
    "payDate",
    "lastReminderDate",
    "lastSentAt",
    "dunningLevel",
    "dunningStatus",
    "vatId",
    "netAmount",
    "grossAmount",
    "taxAmount",
    "discountAmount",
    "unpaidAmount",
    "paidAmount",
    "taxBreakdown",
    "servicePeriodFrom",
    "servicePeriodTo",
    "organization",
    "file",
    "xmlFile",
    "createdAt",
    "updatedAt",
];

const MAX_TEXT: usize = 10_000;
const MAX_CUSTOM_FIELDS: usize = 100;

/// A validated draft body. Other slices build one directly for correction documents.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceWrite {
    pub customer: String,
    pub currency: Currency,
    pub title: String,
    pub introduction: String,
    pub closing: String,
    pub internal_note: String,
    pub custom_fields: Map<String, Value>,
    /// The chosen customer address; `None` follows the customer's default invoice address.
    pub address_id: Option<String>,
    /// A copy of the chosen address (kept if the address is deleted before finalization).
    pub address_copy: Option<Value>,
    pub payment_method: Option<String>,
    /// `None`: not sent (an update keeps the positions).
    pub positions: Option<Vec<PositionData>>,
}

/// Reads `POST /invoices` (`current` = None) or `PUT /invoices/{id}` (absent keys keep the
/// draft's values).
pub fn read(
    conn: &Connection,
    tenant: &str,
    mut input: Input,
    current: Option<&InvoiceRow>,
) -> ApiResult<InvoiceWrite> {
    let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
    input.reject_unknown(&allowed);

    let customer = customer(conn, tenant, &mut input, current)?;
    let currency = currency(conn, tenant, &mut input, current, customer.as_ref())?;
    let keep = |f: fn(&InvoiceRow) -> &String| current.map(|c| f(c).clone()).unwrap_or_default();
    let title = fields::text(&mut input, "title", 0, 255).unwrap_or_else(|| keep(|c| &c.title));
    let introduction = fields::text(&mut input, "introduction", 0, MAX_TEXT)
        .unwrap_or_else(|| keep(|c| &c.introduction));
    let closing =
        fields::text(&mut input, "closing", 0, MAX_TEXT).unwrap_or_else(|| keep(|c| &c.closing));
    let internal_note = fields::text(&mut input, "internalNote", 0, MAX_TEXT)
        .unwrap_or_else(|| keep(|c| &c.internal_note));
    let custom_fields = match fields::object(&mut input, "customFields") {
        Some(map) => check_custom_fields(&mut input, map),
        None => current.map(|c| c.custom_fields.clone()).unwrap_or_default(),
    };
    let customer_id = customer.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let (address_id, address_copy) = match fields::reference(&mut input, "invoiceAddress") {
        Some(Some(id)) => match address_of(
            conn,
            tenant,
            &customer_id,
            &mut input,
            "invoiceAddress",
            &id,
        )? {
            Some((id, copy)) => (Some(id), Some(copy)),
            None => (None, None),
        },
        Some(None) => (None, None),
        None => current
            .map(|c| (c.invoice_address_id.clone(), c.invoice_address.clone()))
            .unwrap_or_default(),
    };
    let payment_method = match fields::reference(&mut input, "paymentMethod") {
        Some(pm) => pm,
        None => match (current, &customer) {
            (Some(c), _) => c.payment_method_id.clone(),
            (None, Some(cu)) => cu.default_payment_method_id.clone(),
            (None, None) => None,
        },
    };
    let positions = match input.array("positions") {
        Field::Value(values) => {
            let lookup = DbLookup {
                replacing: current.map(|c| c.id.as_str()),
                ..DbLookup::new(conn, tenant)
            };
            let mut reader = Reader::new(currency, &lookup);
            let items = reader.items(&mut input, "positions", values, 1)?;
            for (i, item) in items.iter().enumerate() {
                if item.parent.is_some() {
                    input.violation(
                        &format!("positions[{i}].parent"),
                        "Nest positions with children here; parent only applies when adding to an existing invoice.",
                        "not_allowed",
                    );
                }
            }
            Some(items)
        }
        Field::Null => Some(vec![]),
        Field::Absent => None,
    };
    input.finish()?;
    Ok(InvoiceWrite {
        customer: customer_id,
        currency,
        title,
        introduction,
        closing,
        internal_note,
        custom_fields,
        address_id,
        address_copy,
        payment_method,
        positions,
    })
}

/// The invoice's customer: required on create, unchangeable on update (sending it back is fine).
fn customer(
    conn: &Connection,
    tenant: &str,
    input: &mut Input,
    current: Option<&InvoiceRow>,
) -> ApiResult<Option<customers::model::CustomerRow>> {
    let sent = fields::reference(input, "customer");
    let id = match (sent, current) {
        (Some(Some(id)), Some(c)) if id != c.customer_id => {
            input.violation(
                "customer",
                "The customer of an invoice cannot change; create a new invoice instead.",
                "immutable",
            );
            c.customer_id.clone()
        }
        (_, Some(c)) => c.customer_id.clone(),
        (Some(Some(id)), None) => id,
        (_, None) => {
            input.violation("customer", "This value should not be blank.", "not_blank");
            return Ok(None);
        }
    };
    match customers::store::row(conn, tenant, &id) {
        Ok(row) => Ok(Some(row)),
        Err(ApiError::NotFound(_)) => {
            input.violation("customer", "This customer does not exist.", "not_found");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// `currencyCode`, defaulting to the customer's currency, then the tenant's (README §11).
fn currency(
    conn: &Connection,
    tenant: &str,
    input: &mut Input,
    current: Option<&InvoiceRow>,
    customer: Option<&customers::model::CustomerRow>,
) -> ApiResult<Currency> {
    if let Field::Value(code) = input.string("currencyCode") {
        if !code.is_empty() {
            if let Some(c) = Currency::parse(&code) {
                return Ok(c);
            }
            input.violation(
                "currencyCode",
                "This value is not a valid ISO 4217 currency code.",
                "invalid_currency",
            );
        }
    }
    if let Some(c) = current {
        return Ok(c.currency);
    }
    if let Some(c) = customer.and_then(|c| Currency::parse(&c.currency_code)) {
        return Ok(c);
    }
    let code = settings::default_currency(conn, tenant)?;
    Currency::parse(&code).ok_or_else(|| {
        ApiError::Internal(format!("tenant {tenant}: unknown default currency {code}"))
    })
}

/// `customFields` of an invoice: a flat map of strings (06 §1.3).
fn check_custom_fields(input: &mut Input, map: Map<String, Value>) -> Map<String, Value> {
    if map.len() > MAX_CUSTOM_FIELDS {
        input.violation(
            "customFields",
            &format!("At most {MAX_CUSTOM_FIELDS} custom fields are allowed."),
            "too_many",
        );
    }
    for (key, value) in &map {
        let path = format!("customFields.{key}");
        if key.is_empty() || key.chars().count() > 255 {
            input.violation(&path, "Keys must have 1 to 255 characters.", "invalid_key");
        }
        match value {
            Value::String(s) if s.chars().count() <= MAX_TEXT => {}
            Value::String(_) => input.violation(&path, "This value is too long.", "too_long"),
            _ => input.violation(
                &path,
                "This value should be of type string.",
                "invalid_type",
            ),
        }
    }
    map
}

/// A customer address for the invoice: `(id, copy)` when it exists, belongs to `customer` and
/// is active; otherwise a violation on `key` and `None`.
pub fn address_of(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    input: &mut Input,
    key: &str,
    id: &str,
) -> ApiResult<Option<(String, Value)>> {
    let address = match customer_addresses::store::get(conn, tenant, id) {
        Ok(a) => a,
        Err(ApiError::NotFound(_)) => {
            input.violation(key, "This address does not exist.", "not_found");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if address.customer_id != customer {
        input.violation(
            key,
            "This address belongs to another customer.",
            "wrong_customer",
        );
        return Ok(None);
    }
    if address.is_archived() {
        input.violation(key, "This address is archived.", "archived");
        return Ok(None);
    }
    Ok(Some((address.id.clone(), serde_json::to_value(&address)?)))
}
