//! The money state of one invoice (status, paid, credited, unpaid, pay date, payment method)
//! as payments and corrections read and move it. The columns belong to `invoices`
//! (src/resources/invoices); the schema's triggers let exactly these change after
//! finalization.

use crate::domain::money::Currency;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use crate::resources::invoices::model::{STATUS_PAID, STATUS_UNPAID, TYPE_INVOICE};
use rusqlite::{named_params, Connection, OptionalExtension};

/// An invoice as far as money goes. Amounts are minor units of `currency`.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceState {
    pub id: String,
    pub customer_id: String,
    pub customer_number: String,
    pub kind: String,
    pub status: String,
    pub number: Option<String>,
    pub currency: Currency,
    pub gross: i64,
    /// Succeeded payments minus refunds that did not fail.
    pub paid: i64,
    /// What credit notes took back (positive for a positive invoice).
    pub credited: i64,
    pub unpaid: i64,
    pub pay_date: Option<String>,
    pub payment_method_id: Option<String>,
}

impl InvoiceState {
    /// 06 §1.16 without dunning fees (none exist yet): gross − paid − credited.
    pub fn amount_due(&self) -> i64 {
        self.gross - self.paid - self.credited
    }

    /// Checks that the stored amount due of a finalized, open or paid invoice is what its
    /// ledger says. A mismatch means corrupt money data: refuse (logged 500) instead of
    /// booking on top of it.
    pub fn check(&self) -> ApiResult<()> {
        let open = matches!(self.status.as_str(), STATUS_UNPAID | STATUS_PAID);
        if self.kind == TYPE_INVOICE && open && self.unpaid != self.amount_due() {
            return Err(ApiError::Internal(format!(
                "invoice {}: unpaid {} != gross {} - paid {} - credited {}",
                self.id, self.unpaid, self.gross, self.paid, self.credited
            )));
        }
        Ok(())
    }
}

/// The invoice `id` of `tenant`; 404 for unknown ids and for other tenants' invoices alike;
/// 500 when its money state does not add up (`InvoiceState::check`).
pub fn load(conn: &Connection, tenant: &str, id: &str) -> ApiResult<InvoiceState> {
    let row = conn
        .prepare_cached(
            "SELECT i.id, i.customer_id, c.customer_number, i.type, i.status, i.number,
                    i.currency_code, i.gross_amount, i.paid_amount, i.credited_amount,
                    i.unpaid_amount, i.pay_date, i.payment_method_id
             FROM invoices i JOIN customers c ON c.id = i.customer_id
             WHERE i.tenant_id = :tenant AND i.id = :id",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ),
                r.get::<_, String>(6)?,
                (
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, i64>(10)?,
                ),
                r.get::<_, Option<String>>(11)?,
                r.get::<_, Option<String>>(12)?,
            ))
        })
        .optional()?;
    let Some((
        (id, customer_id, customer_number, kind, status, number),
        code,
        amounts,
        pay_date,
        pm,
    )) = row
    else {
        return Err(ApiError::not_found("Invoice"));
    };
    let currency = Currency::parse(&code)
        .ok_or_else(|| ApiError::Internal(format!("invoice {id}: stored currency {code}")))?;
    let (gross, paid, credited, unpaid) = amounts;
    let state = InvoiceState {
        id,
        customer_id,
        customer_number,
        kind,
        status,
        number,
        currency,
        gross,
        paid,
        credited,
        unpaid,
        pay_date,
        payment_method_id: pm,
    };
    state.check()?;
    Ok(state)
}

/// Writes the money columns of `state` back. The caller has decided the new values.
pub fn save(conn: &Connection, tenant: &str, state: &InvoiceState) -> ApiResult<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE invoices SET status = :status, paid_amount = :paid,
                 credited_amount = :credited, unpaid_amount = :unpaid, pay_date = :pay_date,
                 payment_method_id = :pm, updated_at = :now
             WHERE tenant_id = :tenant AND id = :id",
        )?
        .execute(named_params! {
            ":status": state.status, ":paid": state.paid, ":credited": state.credited,
            ":unpaid": state.unpaid, ":pay_date": state.pay_date,
            ":pm": state.payment_method_id, ":now": time::now(),
            ":tenant": tenant, ":id": state.id,
        })?;
    if changed != 1 {
        return Err(ApiError::Internal(format!(
            "invoice {} vanished during the request",
            state.id
        )));
    }
    Ok(())
}
