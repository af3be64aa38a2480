//! SQL for payment transactions (04 §2): insert (numbered from the `payment` range), read and
//! list, always scoped to one tenant. Rows are never updated except for their status.

use super::model::{Transaction, STATUSES, TYPES};
use crate::domain::ids::new_id;
use crate::domain::money::{Currency, Money};
use crate::domain::numbering;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use chrono::NaiveDate;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "t.id, t.number, t.type, t.status, t.amount, t.fee, t.currency_code,
    t.invoice_id, t.correction_id, t.customer_id, t.payment_method_id, t.gateway, t.reference,
    t.description, t.payment_date, t.created_at";

/// A transaction to record; amounts in minor units of `currency`, `amount` > 0.
#[derive(Debug, Clone)]
pub struct NewTransaction<'a> {
    pub kind: &'a str,
    pub status: &'a str,
    pub amount: i64,
    pub fee: Option<i64>,
    pub currency: Currency,
    pub invoice_id: Option<&'a str>,
    pub correction_id: Option<&'a str>,
    pub customer_id: &'a str,
    pub customer_number: &'a str,
    pub payment_method_id: Option<&'a str>,
    pub gateway: &'a str,
    pub description: Option<&'a str>,
    /// `None` until the money moved (a pending refund).
    pub payment_date: Option<NaiveDate>,
    pub created_by: &'a str,
}

/// The row with the currency code still as text; `decode` turns it into Money.
struct Raw {
    t: Transaction,
    amount: i64,
    fee: Option<i64>,
    currency: String,
}

fn raw(r: &Row) -> rusqlite::Result<Raw> {
    // The real currency is set by `decode`, outside the row closure, so that a corrupt code
    // becomes a logged 500 instead of a wrong amount.
    let placeholder = Money::from_minor(0, PLACEHOLDER);
    Ok(Raw {
        t: Transaction {
            id: r.get(0)?,
            number: r.get(1)?,
            kind: r.get(2)?,
            status: r.get(3)?,
            amount: placeholder,
            fee: None,
            invoice: r.get(7)?,
            credit_note: r.get(8)?,
            customer: r.get(9)?,
            payment_method: r.get(10)?,
            gateway: r.get(11)?,
            reference: r.get(12)?,
            description: r.get(13)?,
            payment_date: r.get(14)?,
            created_at: r.get(15)?,
        },
        amount: r.get(4)?,
        fee: r.get(5)?,
        currency: r.get(6)?,
    })
}

const PLACEHOLDER: Currency = Currency {
    code: "EUR",
    minor_digits: 2,
};

fn decode(raw: Raw) -> ApiResult<Transaction> {
    let mut t = raw.t;
    let currency = Currency::parse(&raw.currency).ok_or_else(|| {
        ApiError::Internal(format!(
            "transaction {}: stored currency {}",
            t.id, raw.currency
        ))
    })?;
    t.amount = Money::from_minor(raw.amount, currency);
    t.fee = raw.fee.map(|f| Money::from_minor(f, currency));
    Ok(t)
}

/// Records a transaction with the next number of the `payment` range, in the caller's
/// transaction (a rolled-back request consumes no number).
pub fn insert(
    conn: &Connection,
    tenant: &str,
    n: &NewTransaction,
    today: NaiveDate,
) -> ApiResult<Transaction> {
    let id = new_id();
    let number = numbering::next(conn, tenant, "payment", today, Some(n.customer_number))?;
    let now = time::now();
    conn.prepare_cached(
        "INSERT INTO payment_transactions (id, tenant_id, number, type, status, amount, fee,
             currency_code, invoice_id, correction_id, customer_id, payment_method_id, gateway,
             description, payment_date, created_by, created_at, updated_at)
         VALUES (:id, :tenant, :number, :type, :status, :amount, :fee, :currency, :invoice,
             :correction, :customer, :pm, :gateway, :description, :date, :by, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":number": number, ":type": n.kind, ":status": n.status,
        ":amount": n.amount, ":fee": n.fee, ":currency": n.currency.code,
        ":invoice": n.invoice_id, ":correction": n.correction_id, ":customer": n.customer_id,
        ":pm": n.payment_method_id, ":gateway": n.gateway, ":description": n.description,
        ":date": n.payment_date.map(|d| d.format("%Y-%m-%d").to_string()),
        ":by": (!n.created_by.is_empty()).then_some(n.created_by), ":now": now,
    })?;
    get(conn, tenant, &id)
}

/// One transaction of the tenant; 404 otherwise.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Transaction> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM payment_transactions t
             WHERE t.tenant_id = :tenant AND t.id = :id"
        ))?
        .query_row(named_params! {":tenant": tenant, ":id": id}, raw)
        .optional()?;
    match row {
        Some(r) => decode(r),
        None => Err(ApiError::not_found("Transaction")),
    }
}

/// A page of transactions; filters `invoice`, `customer`, `status`, `type` (each also as
/// `[]`); `invoice` matches the invoice a transaction belongs to or, for refunds, the credit
/// note it pays out. Sorting `order[createdAt|paymentDate]`, oldest first by default.
pub fn list(
    conn: &Connection,
    tenant: &str,
    q: &Query,
    page: &Page,
) -> ApiResult<(Vec<Transaction>, i64)> {
    let mut filter = Filter::for_tenant("t.tenant_id", tenant);
    let invoices = q.all("invoice");
    if !invoices.is_empty() {
        // One JSON array parameter covers any number of values and both columns.
        filter.push(
            "EXISTS (SELECT 1 FROM json_each({}) j WHERE j.value IN (t.invoice_id, t.correction_id))",
            serde_json::to_string(&invoices)?,
        );
    }
    filter.eq(q, "customer", "t.customer_id");
    filter.eq_enum(q, "status", "t.status", STATUSES)?;
    filter.eq_enum(q, "type", "t.type", TYPES)?;
    let order = order_by(
        q,
        &[
            ("createdAt", "t.created_at"),
            ("paymentDate", "t.payment_date"),
        ],
        "t.created_at, t.id",
    )?;
    let (rows, total) =
        filter.fetch_page(conn, "payment_transactions t", COLUMNS, &order, page, raw)?;
    let items = rows.into_iter().map(decode).collect::<ApiResult<_>>()?;
    Ok((items, total))
}
