//! Recomputing a draft's amounts: each position's tax from `domain::tax` (or as stored), the
//! arithmetic from `billing::invoice_calc`, and the results written back to the positions,
//! the tax breakdown and the invoice totals, all in the caller's transaction.

use super::facts::Facts;
use super::model::InvoiceRow;
use super::store;
use crate::billing::invoice_calc::{self, LineAmounts, TaxKey, Totals};
use crate::domain::tax::{self, TaxInput};
use crate::error::{ApiError, ApiResult};
use crate::resources::invoice_positions::model::PositionRow;
use crate::resources::invoice_positions::store as positions;
use rusqlite::Connection;
use std::collections::HashMap;

/// Where each position's tax comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxSource {
    /// Decide it now from the tax group, the tenant and the customer (manual drafts; again at
    /// finalization, so a document carries the tax facts of its date).
    Resolve,
    /// Keep the rate, treatment and note stored on each position (correction documents copy
    /// the original's tax with `invoice_positions::store::insert_copy`).
    Stored,
}

/// Every position's tax key and the country it was decided for.
fn resolve(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    rows: &[PositionRow],
    facts: &mut Facts,
) -> ApiResult<Vec<(Option<TaxKey>, Option<String>)>> {
    let t = facts.tax(conn, tenant)?;
    let (country, small_business, oss) = (t.country.clone(), t.small_business, t.oss);
    let (_, address) = facts.party(conn, tenant, inv)?;
    let address = address.cloned();
    let party = facts.tax_party(conn, tenant, inv, &country, address.as_ref())?;
    let mut decided: HashMap<String, TaxKey> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        let (Some(group_id), Some(_)) = (&p.tax_group_id, p.unit_price) else {
            out.push((None, None));
            continue;
        };
        if !decided.contains_key(group_id) {
            let group = facts.group(conn, tenant, group_id)?;
            let input = TaxInput {
                tenant_country: &country,
                small_business,
                oss,
                group_type: group.group_type,
                rates: &group.rates,
                customer: &party,
            };
            let d = tax::resolve(&input).map_err(|missing| {
                ApiError::Conflict(format!(
                    "The tax group '{}' has no rate for country '{}'; add one (or an 'EU_*' or '*' rate).",
                    group.name, missing.country
                ))
            })?;
            decided.insert(
                group_id.clone(),
                TaxKey {
                    rate: d.rate,
                    treatment: d.treatment,
                    note: d.note.map(str::to_string),
                },
            );
        }
        out.push((decided.get(group_id).cloned(), Some(party.country.clone())));
    }
    Ok(out)
}

/// Recomputes and stores a draft's amounts; returns the totals. 422 when they do not fit.
pub fn recompute(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    source: TaxSource,
) -> ApiResult<Totals> {
    recompute_with(conn, tenant, inv, source, &mut Facts::default())
}

/// A draft's amounts as computed from its positions, before anything is written.
pub struct Computed {
    /// Per position, in the order of the rows computed from.
    pub amounts: Vec<LineAmounts>,
    /// Per position: its tax key and the country it was decided for.
    pub taxes: Vec<(Option<TaxKey>, Option<String>)>,
    pub totals: Totals,
    /// The document's service period: the span of its positions' service dates.
    pub service_period: (Option<String>, Option<String>),
}

/// Computes the amounts of the draft `inv` with positions `rows`. 422 when they do not fit.
pub fn compute(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    rows: &[PositionRow],
    source: TaxSource,
    facts: &mut Facts,
) -> ApiResult<Computed> {
    inv.ensure_draft()?;
    let taxes = match source {
        TaxSource::Resolve => resolve(conn, tenant, inv, rows, facts)?,
        TaxSource::Stored => rows
            .iter()
            .map(|p| Ok((p.stored_tax()?, p.tax_country.clone())))
            .collect::<ApiResult<Vec<_>>>()?,
    };
    let lines: Vec<_> = rows
        .iter()
        .zip(&taxes)
        .map(|(p, (k, _))| p.line(k.clone()))
        .collect();
    let (amounts, totals) = invoice_calc::calculate(inv.currency, &lines).map_err(|_| {
        ApiError::invalid(
            "positions",
            "The invoice amounts are too large to be represented exactly.",
            "too_large",
        )
    })?;
    // ISO dates, so text order is date order.
    let from = rows
        .iter()
        .filter_map(|p| p.service_date_from.clone())
        .min();
    let to = rows.iter().filter_map(|p| p.service_date_to.clone()).max();
    Ok(Computed {
        amounts,
        taxes,
        totals,
        service_period: (from, to),
    })
}

/// `recompute` reading tenant facts through `facts`.
pub fn recompute_with(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    source: TaxSource,
    facts: &mut Facts,
) -> ApiResult<Totals> {
    inv.ensure_draft()?;
    let rows = positions::for_invoice(conn, &inv.id)?;
    let c = compute(conn, tenant, inv, &rows, source, facts)?;
    for ((p, a), (key, country)) in rows.iter().zip(&c.amounts).zip(&c.taxes) {
        positions::set_amounts(conn, &p.id, a, key.as_ref(), country.as_deref())?;
    }
    store::set_totals(conn, tenant, &inv.id, &c.totals, c.service_period)?;
    Ok(c.totals)
}

/// Sets on the draft `inv` and its positions `rows` in memory what `recompute_with` writes
/// (a billing run writes the computed invoice once: `issue`).
pub fn apply(c: &Computed, inv: &mut InvoiceRow, rows: &mut [PositionRow]) {
    for ((p, a), (key, country)) in rows.iter_mut().zip(&c.amounts).zip(&c.taxes) {
        p.set_amounts(a, key.as_ref(), country.as_deref());
    }
    let t = &c.totals;
    inv.net_amount = t.net;
    inv.tax_amount = t.tax;
    inv.gross_amount = t.gross;
    inv.discount_amount = t.discount;
    inv.service_period_from = c.service_period.0.clone();
    inv.service_period_to = c.service_period.1.clone();
}
