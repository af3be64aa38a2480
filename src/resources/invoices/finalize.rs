//! Sealing a draft into a numbered, immutable document (reference 06 §1.7, DESIGN §6): dates,
//! the number from the document type's range, and snapshots of the customer, the invoice
//! address and the seller, in one UPDATE in the caller's transaction. If anything later in the
//! request fails, the savepoint rolls back and the number was never issued.

use super::facts::Facts;
use super::model::{range_for, InvoiceRow, STATUS_PAID, STATUS_UNPAID};
use super::{party, view};
use crate::domain::{numbering, settings, time};
use crate::error::{ApiError, ApiResult};
use chrono::{Days, NaiveDate};
use rusqlite::{named_params, Connection};
use serde_json::Value;

/// The payment state a document starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub status: &'static str,
    /// Minor units still due.
    pub unpaid_amount: i64,
    /// Sets `payDate` to now.
    pub paid: bool,
}

impl Settlement {
    /// An invoice is due in full; a zero total is paid at once (06 §1.7).
    pub fn for_invoice(gross: i64) -> Settlement {
        if gross == 0 {
            Settlement {
                status: STATUS_PAID,
                unpaid_amount: 0,
                paid: true,
            }
        } else {
            Settlement {
                status: STATUS_UNPAID,
                unpaid_amount: gross,
                paid: false,
            }
        }
    }
}

/// The customer's `billing.defaultDueDays` (its own, else the tenant's, else 14).
fn default_due_days(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    facts: &mut Facts,
) -> ApiResult<u64> {
    let v = facts.customer_setting(conn, tenant, customer, ("billing", "defaultDueDays"))?;
    Ok(v.as_u64().unwrap_or(14))
}

/// Numbers and freezes the draft `inv` (amounts must be current: recompute first). Dates are
/// calendar dates in the tenant's time zone; `due_date` defaults to the finalization date plus
/// the customer's due days and may not lie before it (422 on `dueDate`). Returns the number.
pub fn seal(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    due_date: Option<NaiveDate>,
    settlement: Settlement,
) -> ApiResult<String> {
    Ok(seal_with(
        conn,
        tenant,
        inv,
        due_date,
        settlement,
        &mut Facts::default(),
    )?
    .number)
}

/// What `seal` wrote: the read shape of a document sealed just now is its draft shape with
/// these values (`view::InvoiceView::sealed`).
#[derive(Debug, Clone)]
pub struct Sealed {
    pub number: String,
    pub date: NaiveDate,
    pub due: NaiveDate,
    pub settlement: Settlement,
    /// The time stamp of the change (`finalizedAt`, `updatedAt`, `payDate` if paid).
    pub at: String,
}

/// What sealing sets on a draft besides `Sealed`: the frozen facts of the document.
pub struct Sealing {
    pub sealed: Sealed,
    pub address: Option<Value>,
    pub vat_id: String,
    pub customer_name: String,
    pub customer: Value,
}

impl Sealing {
    /// Sets on `inv` in memory what `seal_with` writes (`seller`: the tenant's
    /// `Facts::seller_json`), for a document written once after it is sealed (`issue`).
    pub fn apply(self, inv: &mut InvoiceRow, seller: Value) -> Sealed {
        let s = self.sealed;
        inv.status = s.settlement.status.to_string();
        inv.number = Some(s.number.clone());
        inv.finalization_date = Some(s.date.to_string());
        inv.finalized_at = Some(s.at.clone());
        inv.due_date = Some(s.due.to_string());
        inv.pay_date = s.settlement.paid.then(|| s.at.clone());
        inv.unpaid_amount = s.settlement.unpaid_amount;
        inv.invoice_address = self.address;
        inv.customer_vat_id = Some(self.vat_id);
        inv.customer_name = Some(self.customer_name);
        inv.customer_snapshot = Some(self.customer);
        inv.tenant_snapshot = Some(seller);
        inv.updated_at = s.at.clone();
        s
    }
}

/// Decides how the draft `inv` is sealed: its dates and number (drawn now from the range, in
/// the caller's transaction) and the snapshots; writes nothing else.
pub fn decide(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    due_date: Option<NaiveDate>,
    settlement: Settlement,
    facts: &mut Facts,
) -> ApiResult<Sealing> {
    inv.ensure_draft()?;
    let today = settings::today_in(facts.zone(conn, tenant)?);
    let due = match due_date {
        Some(d) if d < today => {
            return Err(ApiError::invalid(
                "dueDate",
                &format!("The due date must not be before the finalization date {today}."),
                "before_finalization",
            ))
        }
        Some(d) => d,
        None => {
            let days = default_due_days(conn, tenant, &inv.customer_id, facts)?;
            today
                .checked_add_days(Days::new(days))
                .ok_or_else(|| ApiError::Internal("due date out of range".into()))?
        }
    };
    // Taken first: the customer below is borrowed from `facts`.
    let embed = facts.take_customer_embed(&inv.customer_id);
    let (customer, address) = facts.party(conn, tenant, inv)?;
    let number = numbering::next(
        conn,
        tenant,
        range_for(&inv.kind),
        today,
        Some(&customer.customer_number),
    )?;
    Ok(Sealing {
        sealed: Sealed {
            number,
            date: today,
            due,
            settlement,
            at: time::now(),
        },
        vat_id: party::vat_id(address, &customer.vat_id),
        address: address.cloned(),
        customer_name: view::customer_name(customer),
        customer: embed.unwrap_or_else(|| view::customer_embed(customer)),
    })
}

/// `seal` reading tenant facts through `facts`.
pub fn seal_with(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    due_date: Option<NaiveDate>,
    settlement: Settlement,
    facts: &mut Facts,
) -> ApiResult<Sealed> {
    let Sealing {
        sealed,
        address,
        vat_id,
        customer_name,
        customer,
    } = decide(conn, tenant, inv, due_date, settlement, facts)?;
    let changed = conn
        .prepare_cached(
            "UPDATE invoices SET status = :status, number = :number,
                 finalization_date = :date, finalized_at = :now, due_date = :due,
                 pay_date = :pay_date, unpaid_amount = :unpaid, invoice_address = :address,
                 customer_vat_id = :vat_id, customer_name = :name,
                 customer_snapshot = :customer, tenant_snapshot = :seller, updated_at = :now
             WHERE id = :id AND tenant_id = :tenant AND status = 'STATUS_DRAFT'",
        )?
        .execute(named_params! {
            ":id": inv.id, ":tenant": tenant, ":status": settlement.status,
            ":number": sealed.number, ":date": sealed.date.to_string(), ":now": sealed.at,
            ":due": sealed.due.to_string(),
            ":pay_date": settlement.paid.then(|| sealed.at.clone()),
            ":unpaid": settlement.unpaid_amount,
            ":address": address.as_ref().map(Value::to_string), ":vat_id": vat_id,
            ":name": customer_name, ":customer": customer.to_string(),
            ":seller": facts.seller(conn, tenant)?,
        })?;
    if changed != 1 {
        return Err(ApiError::Internal(format!(
            "invoice {}: seal changed {changed} rows",
            inv.id
        )));
    }
    Ok(sealed)
}
