//! Issuing a billing run's invoice in one write: the draft, its positions, their amounts and
//! (unless manual approval holds it) its seal are decided in memory with the same functions a
//! draft edited over HTTP goes through (`totals::compute`, `finalize::decide`), and each row
//! is then inserted once in its final state, the invoice last (its positions' key to it is
//! checked at commit; schema `invoice_positions`). Writing a draft, reading it back, updating
//! its amounts and updating it again with its snapshots was most of a run's database work; the
//! last update, of status and number after the positions, was 9 % of a run's CPU.

use super::facts::Facts;
use super::finalize::{self, Sealed, Settlement};
use super::input::InvoiceWrite;
use super::model::{InvoiceRow, TYPE_INVOICE};
use super::store;
use super::totals::{self, TaxSource};
use super::view::{self, InvoiceView};
use crate::billing::invoice_calc::Totals;
use crate::domain::{ids::new_id, time};
use crate::error::ApiResult;
use crate::resources::invoice_positions::model::{PositionData, PositionRow};
use crate::resources::invoice_positions::store as positions;
use crate::resources::units::model::Locale;
use rusqlite::Connection;

/// The computed invoice and, unless it was a zero invoice left out, what was written.
pub struct Issued {
    pub totals: Totals,
    pub written: Option<Written>,
}

/// An invoice a run wrote.
pub struct Written {
    pub id: String,
    /// `None`: left a draft for manual approval.
    pub sealed: Option<Sealed>,
    /// What its read shape as committed (what `GET /invoices/{id}` answers) is made of.
    pub shown: Shown,
}

/// The read shape of a written invoice, or what it is made of.
pub enum Shown {
    /// A draft's, made here (it shows the customer `Facts` read for it).
    View(InvoiceView),
    /// A sealed document's rows as written: its shape is made from them alone
    /// (`view::show_written`), so a run leaves that to its event serializer thread.
    Sealed {
        inv: InvoiceRow,
        rows: Vec<PositionRow>,
        breakdown: Vec<store::BreakdownRow>,
    },
}

/// What `issue` does with the computed invoice.
pub struct Issue<'a> {
    /// Seal it (else it stays a draft for manual approval).
    pub seal: bool,
    /// Write it even when its total is zero (`billing.generateZeroInvoices`).
    pub keep_zero: bool,
    pub locale: &'a Locale,
}

/// Computes the invoice of `write` with positions `tree` and writes it, unless its total is
/// zero and zero invoices are not kept (then nothing is written and no number drawn).
pub fn issue(
    conn: &Connection,
    tenant: &str,
    write: &InvoiceWrite,
    tree: &[PositionData],
    how: Issue,
    facts: &mut Facts,
) -> ApiResult<Issued> {
    let now = time::now();
    let mut inv = InvoiceRow::draft(new_id(), write, TYPE_INVOICE, now.clone());
    let mut rows = PositionRow::from_tree(&inv.id, tree, &now);
    let computed = totals::compute(conn, tenant, &inv, &rows, TaxSource::Resolve, facts)?;
    if computed.totals.gross == 0 && !how.keep_zero {
        return Ok(Issued {
            totals: computed.totals,
            written: None,
        });
    }
    totals::apply(&computed, &mut inv, &mut rows);
    let sealed = if how.seal {
        let settlement = Settlement::for_invoice(computed.totals.gross);
        let sealing = finalize::decide(conn, tenant, &inv, None, settlement, facts)?;
        let seller = facts.seller_json(conn, tenant)?.clone();
        Some(sealing.apply(&mut inv, seller))
    } else {
        None
    };
    // The frozen triggers let positions in while their invoice does not exist yet.
    positions::insert_rows(conn, tenant, &rows)?;
    store::insert_breakdown(conn, tenant, &inv.id, &computed.totals)?;
    let seller = match sealed {
        Some(_) => Some(facts.seller(conn, tenant)?),
        None => None,
    };
    store::insert(conn, tenant, &inv, seller)?;
    let breakdown = store::breakdown_rows(&computed.totals);
    let id = inv.id.clone();
    let shown = if sealed.is_some() {
        Shown::Sealed {
            inv,
            rows,
            breakdown,
        }
    } else {
        Shown::View(view::show_with(
            conn,
            tenant,
            &inv,
            &rows,
            breakdown,
            how.locale.clone(),
            facts,
        )?)
    };
    Ok(Issued {
        totals: computed.totals,
        written: Some(Written { id, sealed, shown }),
    })
}
