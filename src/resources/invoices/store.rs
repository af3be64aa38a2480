//! SQL for invoice rows: read, draft insert/update/delete, totals, and the filtered list. Every
//! query is scoped to one tenant, so another tenant's invoice is simply not found. JSON and
//! currency columns are decoded outside the row closure: corrupt data is a logged 500.

use super::input::InvoiceWrite;
use super::model::{InvoiceRow, DUNNING_STATUSES, STATUSES, TYPES};
use crate::billing::invoice_calc::Totals;
use crate::db::bind::ExecuteNamed;
use crate::domain::ids::new_id;
use crate::domain::money::Currency;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::http::list::{order_by, Filter, Page};
use crate::http::query::Query;
use rusqlite::{named_params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

const COLUMNS: &str = "i.id, i.customer_id, i.type, i.status, i.number, i.original_invoice_id,
    i.currency_code, i.net_amount, i.tax_amount, i.gross_amount, i.discount_amount,
    i.paid_amount, i.credited_amount, i.unpaid_amount, i.title, i.introduction, i.closing,
    i.internal_note, i.custom_fields, i.invoice_address_id, i.invoice_address, i.customer_vat_id,
    i.customer_name, i.customer_snapshot, i.tenant_snapshot, i.payment_method_id,
    i.finalization_date, i.finalized_at, i.due_date, i.pay_date, i.service_period_from,
    i.service_period_to, i.dunning_level, i.dunning_status, i.last_reminder_date, i.last_sent_at,
    i.correction_reason, i.correction_comment, i.created_by, i.created_at, i.updated_at";

/// The text columns `decode` parses.
struct Raw {
    row: InvoiceRow,
    currency: String,
    custom_fields: String,
    invoice_address: Option<String>,
    customer_snapshot: Option<String>,
    tenant_snapshot: Option<String>,
}

fn raw(r: &Row) -> rusqlite::Result<Raw> {
    Ok(Raw {
        row: InvoiceRow {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            kind: r.get(2)?,
            status: r.get(3)?,
            number: r.get(4)?,
            original_invoice_id: r.get(5)?,
            currency: Currency {
                code: "",
                minor_digits: 0,
            },
            net_amount: r.get(7)?,
            tax_amount: r.get(8)?,
            gross_amount: r.get(9)?,
            discount_amount: r.get(10)?,
            paid_amount: r.get(11)?,
            credited_amount: r.get(12)?,
            unpaid_amount: r.get(13)?,
            title: r.get(14)?,
            introduction: r.get(15)?,
            closing: r.get(16)?,
            internal_note: r.get(17)?,
            custom_fields: Map::new(),
            invoice_address_id: r.get(19)?,
            invoice_address: None,
            customer_vat_id: r.get(21)?,
            customer_name: r.get(22)?,
            customer_snapshot: None,
            tenant_snapshot: None,
            payment_method_id: r.get(25)?,
            finalization_date: r.get(26)?,
            finalized_at: r.get(27)?,
            due_date: r.get(28)?,
            pay_date: r.get(29)?,
            service_period_from: r.get(30)?,
            service_period_to: r.get(31)?,
            dunning_level: r.get(32)?,
            dunning_status: r.get(33)?,
            last_reminder_date: r.get(34)?,
            last_sent_at: r.get(35)?,
            correction_reason: r.get(36)?,
            correction_comment: r.get(37)?,
            created_by: r.get(38)?,
            created_at: r.get(39)?,
            updated_at: r.get(40)?,
        },
        currency: r.get(6)?,
        custom_fields: r.get(18)?,
        invoice_address: r.get(20)?,
        customer_snapshot: r.get(23)?,
        tenant_snapshot: r.get(24)?,
    })
}

fn json(s: Option<String>) -> ApiResult<Option<Value>> {
    Ok(s.as_deref().map(serde_json::from_str).transpose()?)
}

fn decode(raw: Raw) -> ApiResult<InvoiceRow> {
    let currency = Currency::parse(&raw.currency).ok_or_else(|| {
        ApiError::Internal(format!(
            "invoice {}: unknown currency {}",
            raw.row.id, raw.currency
        ))
    })?;
    Ok(InvoiceRow {
        currency,
        custom_fields: serde_json::from_str(&raw.custom_fields)?,
        invoice_address: json(raw.invoice_address)?,
        customer_snapshot: json(raw.customer_snapshot)?,
        tenant_snapshot: json(raw.tenant_snapshot)?,
        ..raw.row
    })
}

/// One invoice row of the tenant; 404 for a missing or foreign id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<InvoiceRow> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM invoices i WHERE i.id = :id AND i.tenant_id = :tenant"
        ))?
        .query_row(named_params! {":id": id, ":tenant": tenant}, raw)
        .optional()?;
    match row {
        Some(r) => decode(r),
        None => Err(ApiError::not_found("Invoice")),
    }
}

/// Inserts a draft of `kind` (`original` for cancellations and credit notes) and returns its
/// id. Positions are inserted separately; totals start at 0 until recomputed.
pub fn insert_draft(
    conn: &Connection,
    tenant: &str,
    w: &InvoiceWrite,
    kind: &str,
    original: Option<&str>,
    user: Option<&str>,
) -> ApiResult<String> {
    let id = new_id();
    let now = time::now();
    conn.prepare_cached(
        "INSERT INTO invoices (id, tenant_id, customer_id, type, status, original_invoice_id,
             currency_code, title, introduction, closing, internal_note, custom_fields,
             invoice_address_id, invoice_address, payment_method_id, created_by, created_at,
             updated_at)
         VALUES (:id, :tenant, :customer, :type, 'STATUS_DRAFT', :original, :currency, :title,
             :introduction, :closing, :note, :custom_fields, :address_id, :address, :pm, :user,
             :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":customer": w.customer, ":type": kind,
        ":original": original, ":currency": w.currency.code, ":title": w.title,
        ":introduction": w.introduction, ":closing": w.closing, ":note": w.internal_note,
        ":custom_fields": Value::Object(w.custom_fields.clone()).to_string(),
        ":address_id": w.address_id, ":address": w.address_copy.as_ref().map(Value::to_string),
        ":pm": w.payment_method, ":user": user, ":now": now,
    })?;
    Ok(id)
}

/// Writes the editable fields of a draft (`PUT /invoices/{id}`).
pub fn update_draft(conn: &Connection, tenant: &str, id: &str, w: &InvoiceWrite) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE invoices SET currency_code = :currency, title = :title,
             introduction = :introduction, closing = :closing, internal_note = :note,
             custom_fields = :custom_fields, invoice_address_id = :address_id,
             invoice_address = :address, payment_method_id = :pm, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant AND status = 'STATUS_DRAFT'",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":currency": w.currency.code, ":title": w.title,
        ":introduction": w.introduction, ":closing": w.closing, ":note": w.internal_note,
        ":custom_fields": Value::Object(w.custom_fields.clone()).to_string(),
        ":address_id": w.address_id, ":address": w.address_copy.as_ref().map(Value::to_string),
        ":pm": w.payment_method, ":now": time::now(),
    })?;
    Ok(())
}

/// Points a draft at a customer address and keeps a copy of it (`customer-address`).
pub fn set_address(
    conn: &Connection,
    tenant: &str,
    id: &str,
    address_id: &str,
    copy: &Value,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE invoices SET invoice_address_id = :address_id, invoice_address = :copy,
             updated_at = :now
         WHERE id = :id AND tenant_id = :tenant AND status = 'STATUS_DRAFT'",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":address_id": address_id, ":copy": copy.to_string(),
        ":now": time::now(),
    })?;
    Ok(())
}

/// Deletes a draft with its positions and tax breakdown (its history stays).
pub fn delete_draft(conn: &Connection, tenant: &str, id: &str) -> ApiResult<()> {
    crate::resources::invoice_positions::store::delete_all(conn, id)?;
    conn.prepare_cached("DELETE FROM invoice_tax_breakdown WHERE invoice_id = :id")?
        .execute(named_params! {":id": id})?;
    conn.prepare_cached(
        "DELETE FROM invoices WHERE id = :id AND tenant_id = :tenant AND status = 'STATUS_DRAFT'",
    )?
    .execute(named_params! {":id": id, ":tenant": tenant})?;
    Ok(())
}

/// Stores a draft's totals and tax breakdown, replacing the previous ones.
pub fn set_totals(
    conn: &Connection,
    tenant: &str,
    id: &str,
    t: &Totals,
    service_period: (Option<String>, Option<String>),
) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM invoice_tax_breakdown WHERE invoice_id = :id")?
        .execute(named_params! {":id": id})?;
    insert_breakdown(conn, tenant, id, t)?;
    conn.prepare_cached(
        "UPDATE invoices SET net_amount = :net, tax_amount = :tax, gross_amount = :gross,
             discount_amount = :discount, service_period_from = :from,
             service_period_to = :to, updated_at = :now
         WHERE id = :id AND tenant_id = :tenant",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":net": t.net, ":tax": t.tax, ":gross": t.gross,
        ":discount": t.discount, ":from": service_period.0, ":to": service_period.1,
        ":now": time::now(),
    })?;
    Ok(())
}

/// Writes the tax breakdown of `t` for the invoice `id` (which has none yet).
pub fn insert_breakdown(conn: &Connection, tenant: &str, id: &str, t: &Totals) -> ApiResult<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO invoice_tax_breakdown (invoice_id, tenant_id, rate, treatment, note,
             net_amount, tax_amount)
         VALUES (:id, :tenant, :rate, :treatment, :note, :net, :tax)",
    )?;
    for row in breakdown_rows(t) {
        insert.execute_named(named_params! {
            ":id": id, ":tenant": tenant, ":rate": row.rate, ":treatment": row.treatment,
            ":note": row.note, ":net": row.net_amount, ":tax": row.tax_amount,
        })?;
    }
    Ok(())
}

/// The breakdown rows of `t` as stored (and as `breakdown` reads them back).
pub fn breakdown_rows(t: &Totals) -> Vec<BreakdownRow> {
    t.breakdown
        .iter()
        .map(|row| BreakdownRow {
            rate: row.rate.normalize().to_string(),
            treatment: crate::billing::invoice_calc::treatment_name(row.treatment).to_string(),
            note: row.note.clone(),
            net_amount: row.net,
            tax_amount: row.tax,
        })
        .collect()
}

/// Inserts a document computed (and possibly sealed) in memory, as it stands (a billing run's
/// invoice: `issue`). A sealed one goes in after its positions and tax breakdown, whose
/// invoice keys are checked at commit (schema: `invoice_positions`). `seller`: the JSON text
/// of its `tenant_snapshot` when the caller has it (a run's seller is one for all invoices).
pub fn insert(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    seller: Option<&str>,
) -> ApiResult<()> {
    // serde_json's writer, not `Value`'s `Display`: formatting goes through `fmt` per token,
    // several times slower for the kilobyte snapshots.
    let json = |v: &Option<Value>| v.as_ref().map(serde_json::to_string).transpose();
    conn.prepare_cached(
        "INSERT INTO invoices (id, tenant_id, customer_id, type, status, number,
             original_invoice_id, currency_code, net_amount, tax_amount, gross_amount,
             discount_amount, paid_amount, credited_amount, unpaid_amount, title, introduction,
             closing, internal_note, custom_fields, invoice_address_id, invoice_address,
             customer_vat_id, customer_name, customer_snapshot, tenant_snapshot,
             payment_method_id, finalization_date, finalized_at, due_date, pay_date,
             service_period_from, service_period_to, dunning_level, dunning_status,
             created_by, created_at, updated_at)
         VALUES (:id, :tenant, :customer, :type, :status, :number, :original, :currency, :net,
             :tax, :gross, :discount, :paid, :credited, :unpaid, :title, :introduction,
             :closing, :note, :custom_fields, :address_id, :address, :vat_id, :name,
             :customer_snapshot, :seller, :pm, :finalization_date, :finalized_at, :due,
             :pay_date, :from, :to, :dunning_level, :dunning_status, :user, :created, :updated)",
    )?
    .execute_named(named_params! {
        ":id": inv.id, ":tenant": tenant, ":customer": inv.customer_id, ":type": inv.kind,
        ":status": inv.status, ":number": inv.number, ":original": inv.original_invoice_id,
        ":currency": inv.currency.code, ":net": inv.net_amount, ":tax": inv.tax_amount,
        ":gross": inv.gross_amount, ":discount": inv.discount_amount, ":paid": inv.paid_amount,
        ":credited": inv.credited_amount, ":unpaid": inv.unpaid_amount, ":title": inv.title,
        ":introduction": inv.introduction, ":closing": inv.closing, ":note": inv.internal_note,
        ":custom_fields": serde_json::to_string(&inv.custom_fields)?,
        ":address_id": inv.invoice_address_id, ":address": json(&inv.invoice_address)?,
        ":vat_id": inv.customer_vat_id, ":name": inv.customer_name,
        ":customer_snapshot": json(&inv.customer_snapshot)?,
        ":seller": match seller {
            Some(text) => Some(text.to_string()),
            None => json(&inv.tenant_snapshot)?,
        },
        ":pm": inv.payment_method_id, ":finalization_date": inv.finalization_date,
        ":finalized_at": inv.finalized_at, ":due": inv.due_date, ":pay_date": inv.pay_date,
        ":from": inv.service_period_from, ":to": inv.service_period_to,
        ":dunning_level": inv.dunning_level, ":dunning_status": inv.dunning_status,
        ":user": inv.created_by, ":created": inv.created_at, ":updated": inv.updated_at,
    })?;
    Ok(())
}

/// A stored tax breakdown row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownRow {
    pub rate: String,
    pub treatment: String,
    pub note: Option<String>,
    pub net_amount: i64,
    pub tax_amount: i64,
}

/// The invoice's tax breakdown rows (the read shape orders them by rate).
pub fn breakdown(conn: &Connection, id: &str) -> ApiResult<Vec<BreakdownRow>> {
    let rows = conn
        .prepare_cached(
            "SELECT rate, treatment, note, net_amount, tax_amount FROM invoice_tax_breakdown
             WHERE invoice_id = :id",
        )?
        .query_map(named_params! {":id": id}, |r| {
            Ok(BreakdownRow {
                rate: r.get(0)?,
                treatment: r.get(1)?,
                note: r.get(2)?,
                net_amount: r.get(3)?,
                tax_amount: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Sortable fields of the list (06 §1.2) and their columns.
const ORDER: &[(&str, &str)] = &[
    ("finalizationDate", "i.finalization_date"),
    ("dueDate", "i.due_date"),
    ("createdAt", "i.created_at"),
    ("number", "i.number"),
];

/// A date-range bound `key` (`finalizationDate[after]`): inclusive; not a date is a 400.
fn date_bound(f: &mut Filter, q: &Query, key: &str, clause: &str) -> ApiResult<()> {
    if let Some(v) = q.get(key) {
        if crate::domain::time::parse_date(v).is_none() {
            return Err(ApiError::BadRequest(format!(
                "Query parameter '{key}' must be a date (YYYY-MM-DD), got '{v}'."
            )));
        }
        f.push(clause, v.to_string());
    }
    Ok(())
}

/// A page of the tenant's invoices, oldest first unless `order[...]` says otherwise.
pub fn list(
    conn: &Connection,
    tenant: &str,
    q: &Query,
    page: &Page,
) -> ApiResult<(Vec<InvoiceRow>, i64)> {
    let mut f = Filter::for_tenant("i.tenant_id", tenant);
    f.eq(q, "customer", "i.customer_id");
    f.eq_enum(q, "status", "i.status", STATUSES)?;
    f.eq_enum(q, "type", "i.type", TYPES)?;
    f.eq(q, "number", "i.number");
    f.eq_enum(q, "dunningStatus", "i.dunning_status", DUNNING_STATUSES)?;
    date_bound(
        &mut f,
        q,
        "finalizationDate[after]",
        "i.finalization_date >= {}",
    )?;
    date_bound(
        &mut f,
        q,
        "finalizationDate[before]",
        "i.finalization_date <= {}",
    )?;
    date_bound(&mut f, q, "dueDate[after]", "i.due_date >= {}")?;
    date_bound(&mut f, q, "dueDate[before]", "i.due_date <= {}")?;
    let order = order_by(q, ORDER, "i.created_at, i.id")?;
    let (rows, total) = f.fetch_page(conn, "invoices i", COLUMNS, &order, page, raw)?;
    let rows = rows
        .into_iter()
        .map(decode)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((rows, total))
}
