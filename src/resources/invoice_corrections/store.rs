//! Database side of corrections: the original invoice with its positions as calculation lines,
//! and the creation of a finalized correction document (a draft with copied positions and the
//! correction's amounts, sealed with its number in the same transaction). Built on the
//! invoices slice's store, position copies and `finalize::seal`.

use super::rules::Creditable;
use crate::billing::invoice_calc::{calculate, Line, LineAmounts, TaxKey, Totals};
use crate::error::{ApiError, ApiResult};
use crate::resources::invoice_positions::model::PositionRow;
use crate::resources::invoice_positions::store as positions;
use crate::resources::invoices::finalize::{self, Settlement};
use crate::resources::invoices::input::InvoiceWrite;
use crate::resources::invoices::model::InvoiceRow;
use crate::resources::invoices::store as invoices;
use chrono::NaiveDate;
use rusqlite::{named_params, Connection};
use rust_decimal::Decimal;

/// A finalized invoice with its positions (parents and children, in sibling order), each with
/// the tax it was billed with and its calculation line.
pub struct Original {
    pub row: InvoiceRow,
    pub positions: Vec<PositionRow>,
    pub taxes: Vec<Option<TaxKey>>,
    pub lines: Vec<Line>,
}

impl Original {
    /// Loads the invoice and checks that its stored totals are what the calculation gives for
    /// its stored positions: corrections are computed from the positions, so a mismatch would
    /// make them disagree with the document they correct (then: logged 500, nothing written).
    pub fn load(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Original> {
        let row = invoices::get(conn, tenant, id)?;
        let positions = positions::for_invoice(conn, &row.id)?;
        let taxes = positions
            .iter()
            .map(PositionRow::stored_tax)
            .collect::<ApiResult<Vec<_>>>()?;
        let lines: Vec<Line> = positions
            .iter()
            .zip(&taxes)
            .map(|(p, t)| p.line(t.clone()))
            .collect();
        let (_, totals) = calculate(row.currency, &lines)
            .map_err(|_| ApiError::Internal(format!("invoice {id}: amounts overflow")))?;
        if (totals.net, totals.tax, totals.gross)
            != (row.net_amount, row.tax_amount, row.gross_amount)
        {
            return Err(ApiError::Internal(format!(
                "invoice {id}: stored totals {}/{}/{} differ from its positions {}/{}/{}",
                row.net_amount,
                row.tax_amount,
                row.gross_amount,
                totals.net,
                totals.tax,
                totals.gross
            )));
        }
        Ok(Original {
            row,
            positions,
            taxes,
            lines,
        })
    }

    /// The positions as the credit rules see them (credited quantities as magnitudes).
    pub fn creditables(&self) -> Vec<Creditable> {
        self.positions
            .iter()
            .map(|p| Creditable {
                id: p.id.clone(),
                name: p.name.clone(),
                quantity: p.quantity,
                credited: p.credited_quantity,
                heading: p.unit_price.is_none(),
            })
            .collect()
    }
}

/// A correction document to create for `original`.
pub struct NewCorrection<'a> {
    pub kind: &'a str,
    pub title: String,
    pub introduction: String,
    pub closing: String,
    pub payment_method: Option<String>,
    /// Per position of the original: the document's (signed) quantity; 0 leaves it out.
    pub quantities: &'a [Decimal],
    /// Per position of the original: the document's line amounts.
    pub amounts: &'a [LineAmounts],
    pub totals: &'a Totals,
    pub reason: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub settlement: Settlement,
    pub user: &'a str,
}

/// Which positions a correction document carries: those with a quantity, plus headings whose
/// children are carried (so the children stay grouped). Children of a priced parent that is
/// not carried itself become top-level positions of the document.
fn carried(o: &Original, quantities: &[Decimal]) -> Vec<bool> {
    let own: Vec<bool> = quantities.iter().map(|q| !q.is_zero()).collect();
    o.positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            own[i]
                || (p.unit_price.is_none()
                    && o.positions
                        .iter()
                        .zip(&own)
                        .any(|(c, o)| *o && c.parent_id.as_deref() == Some(p.id.as_str())))
        })
        .collect()
}

/// Creates the correction document as a draft, copies the carried positions with their
/// amounts, stores the totals and seals it (number from the type's range, dated today, due
/// today). Returns the new document's id.
pub fn create(
    conn: &Connection,
    tenant: &str,
    o: &Original,
    c: &NewCorrection,
    today: NaiveDate,
) -> ApiResult<String> {
    let write = InvoiceWrite {
        customer: o.row.customer_id.clone(),
        currency: o.row.currency,
        title: c.title.clone(),
        introduction: c.introduction.clone(),
        closing: c.closing.clone(),
        internal_note: String::new(),
        custom_fields: o.row.custom_fields.clone(),
        // Only the copy: a correction goes to the recipient printed on the original, even
        // if the customer's address changed since (a chosen address id would be read fresh).
        address_id: None,
        address_copy: o.row.invoice_address.clone(),
        payment_method: c.payment_method.clone(),
        positions: None,
    };
    let id = invoices::insert_draft(conn, tenant, &write, c.kind, Some(&o.row.id), Some(c.user))?;
    let carry = carried(o, c.quantities);
    let mut copies: Vec<Option<String>> = vec![None; o.positions.len()];
    // Parents before children: top-level positions first, then the rest.
    for top_level in [true, false] {
        for (i, p) in o.positions.iter().enumerate() {
            if !carry[i] || p.parent_id.is_none() != top_level {
                continue;
            }
            let parent = p
                .parent_id
                .as_deref()
                .and_then(|pid| o.positions.iter().position(|x| x.id == pid))
                .and_then(|at| copies[at].clone());
            let quantity = if c.quantities[i].is_zero() {
                // A heading carried for its children: its own quantity, mirrored.
                -p.quantity
            } else {
                c.quantities[i]
            };
            let copy = positions::insert_copy(conn, tenant, &id, p, quantity, parent.as_deref())?;
            positions::set_amounts(
                conn,
                &copy,
                &c.amounts[i],
                o.taxes[i].as_ref(),
                p.tax_country.as_deref(),
            )?;
            copies[i] = Some(copy);
        }
    }
    let kept = || o.positions.iter().zip(&carry).filter(|(_, k)| **k);
    let from = kept()
        .filter_map(|(p, _)| p.service_date_from.clone())
        .min();
    let to = kept().filter_map(|(p, _)| p.service_date_to.clone()).max();
    invoices::set_totals(conn, tenant, &id, c.totals, (from, to))?;
    conn.prepare_cached(
        "UPDATE invoices SET correction_reason = :reason, correction_comment = :comment
         WHERE id = :id AND tenant_id = :tenant AND status = 'STATUS_DRAFT'",
    )?
    .execute(named_params! {
        ":reason": c.reason, ":comment": c.comment, ":id": id, ":tenant": tenant,
    })?;
    let draft = invoices::get(conn, tenant, &id)?;
    finalize::seal(conn, tenant, &draft, Some(today), c.settlement)?;
    Ok(id)
}

/// Moves the original's credited quantities by what a credit note took (magnitudes, as
/// `creditableQuantity = |quantity| − credited` reads them).
pub fn add_credited(o: &Original, magnitudes: &[Decimal], conn: &Connection) -> ApiResult<()> {
    for (p, m) in o.positions.iter().zip(magnitudes) {
        if !m.is_zero() {
            positions::add_credited_quantity(conn, p, *m)?;
        }
    }
    Ok(())
}

/// How many credit notes reference the invoice.
pub fn credit_notes(conn: &Connection, tenant: &str, id: &str) -> ApiResult<usize> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM invoices
             WHERE tenant_id = :tenant AND original_invoice_id = :id AND type = 'TYPE_CREDIT'",
        )?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The language correction titles are printed in: the customer's.
pub fn language(conn: &Connection, tenant: &str, customer: &str) -> ApiResult<String> {
    Ok(conn
        .prepare_cached("SELECT language FROM customers WHERE tenant_id = :tenant AND id = :id")?
        .query_row(named_params! {":tenant": tenant, ":id": customer}, |r| {
            r.get(0)
        })?)
}
