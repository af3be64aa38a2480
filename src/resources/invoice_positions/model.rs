//! Invoice position shapes (reference 06 §2): the stored row and the validated write data.

use crate::billing::invoice_calc::{
    parse_treatment, treatment_name, Discount, Line, LineAmounts, TaxKey,
};
use crate::domain::ids::new_id;
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// `type` of a position (06 §2.3).
pub const TYPES: &[&str] = &["product", "discount", "setup", "dunning_fee", "invoice"];

/// Positions nest at most this deep: a top-level position and its children (06 §2.4).
pub const MAX_DEPTH: usize = 2;

/// One `invoice_positions` row with its decimals decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRow {
    pub id: String,
    pub invoice_id: String,
    pub parent_id: Option<String>,
    pub sort_order: i64,
    pub kind: Option<String>,
    pub group_name: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_id: Option<String>,
    /// `None` for a heading: a parent without its own price.
    pub unit_price: Option<Decimal>,
    pub discount_amount: Option<Decimal>,
    pub discount_percentage: Option<Decimal>,
    pub product_id: Option<String>,
    pub subscription_item_id: Option<String>,
    pub tax_group_id: Option<String>,
    pub tax_rate: Option<Decimal>,
    pub tax_treatment: Option<String>,
    pub tax_note: Option<String>,
    pub tax_country: Option<String>,
    pub net_before_discount: i64,
    pub discount_fixed: i64,
    pub net_amount: i64,
    pub tax_amount: i64,
    pub unit_price_interval: Option<String>,
    pub service_date_from: Option<String>,
    pub service_date_to: Option<String>,
    pub credited_quantity: Decimal,
    pub original_position_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl PositionRow {
    /// The discount the calculation applies; a zero amount is no discount.
    pub fn discount(&self) -> Discount {
        match (self.discount_amount, self.discount_percentage) {
            (_, Some(p)) => Discount::Percentage(p),
            (Some(d), None) if !d.is_zero() => Discount::PerUnit(d),
            _ => Discount::None,
        }
    }

    /// The tax stored by the last calculation (what a finalized document carries).
    pub fn stored_tax(&self) -> ApiResult<Option<TaxKey>> {
        if self.unit_price.is_none() {
            return Ok(None);
        }
        let corrupt = || ApiError::Internal(format!("invoice position {}: no stored tax", self.id));
        let rate = self.tax_rate.ok_or_else(corrupt)?;
        let treatment = self
            .tax_treatment
            .as_deref()
            .and_then(parse_treatment)
            .ok_or_else(corrupt)?;
        Ok(Some(TaxKey {
            rate,
            treatment,
            note: self.tax_note.clone(),
        }))
    }

    /// The line for the calculation, with the given tax.
    pub fn line(&self, tax: Option<TaxKey>) -> Line {
        Line {
            quantity: self.quantity,
            unit_price: self.unit_price,
            discount: self.discount(),
            tax,
        }
    }

    /// What `store::set_amounts` writes, set in memory.
    pub fn set_amounts(&mut self, a: &LineAmounts, tax: Option<&TaxKey>, country: Option<&str>) {
        self.net_before_discount = a.net_before_discount;
        self.discount_fixed = a.discount;
        self.net_amount = a.net;
        self.tax_amount = a.tax;
        self.tax_rate = tax.map(|t| t.rate.normalize());
        self.tax_treatment = tax.map(|t| treatment_name(t.treatment).to_string());
        self.tax_note = tax.and_then(|t| t.note.clone());
        self.tax_country = tax.and(country).map(str::to_string);
    }

    /// The rows `store::insert_tree` would write for `items` of `invoice_id` (amounts 0 until
    /// computed), in the order `store::for_invoice` reads them back (sort order, then id);
    /// stored decimals are normalized, so these are too.
    pub fn from_tree(invoice_id: &str, items: &[PositionData], now: &str) -> Vec<PositionRow> {
        let mut out = Vec::with_capacity(items.len());
        Self::push_tree(invoice_id, items, None, now, &mut out);
        out.sort_by(|a, b| (a.sort_order, &a.id).cmp(&(b.sort_order, &b.id)));
        out
    }

    fn push_tree(
        invoice_id: &str,
        items: &[PositionData],
        parent: Option<&str>,
        now: &str,
        out: &mut Vec<PositionRow>,
    ) {
        let mut last = 0;
        for d in items {
            // As `insert_tree`: an unnumbered position goes after its siblings so far.
            let order = d.position.unwrap_or(last + 1);
            last = last.max(order);
            let id = d.id.clone().unwrap_or_else(new_id);
            out.push(PositionRow {
                id: id.clone(),
                invoice_id: invoice_id.to_string(),
                parent_id: parent.map(str::to_string),
                sort_order: order,
                kind: d.kind.clone(),
                group_name: d.group.clone(),
                name: d.name.clone(),
                description: d.description.clone(),
                quantity: d.quantity.normalize(),
                unit_id: d.unit_id.clone(),
                unit_price: d.unit_price.map(|x| x.normalize()),
                discount_amount: d.discount_amount.map(|x| x.normalize()),
                discount_percentage: d.discount_percentage.map(|x| x.normalize()),
                product_id: d.product.clone(),
                subscription_item_id: d.subscription_item.clone(),
                tax_group_id: d.tax_group_id.clone(),
                tax_rate: None,
                tax_treatment: None,
                tax_note: None,
                tax_country: None,
                net_before_discount: 0,
                discount_fixed: 0,
                net_amount: 0,
                tax_amount: 0,
                unit_price_interval: d.unit_price_interval.clone(),
                service_date_from: d.service_date_from.map(|x| x.to_string()),
                service_date_to: d.service_date_to.map(|x| x.to_string()),
                credited_quantity: Decimal::ZERO,
                original_position_id: None,
                created_at: now.to_string(),
                updated_at: now.to_string(),
            });
            if let Some(children) = &d.children {
                Self::push_tree(invoice_id, children, Some(&id), now, out);
            }
        }
    }

    /// Quantity not yet credited by credit notes: `|quantity| − credited_quantity` (the credited
    /// quantity is a magnitude, kept by the corrections slice); 0 for headings.
    pub fn creditable_quantity(&self) -> Decimal {
        if self.unit_price.is_none() {
            return Decimal::ZERO;
        }
        self.quantity.abs() - self.credited_quantity
    }
}

/// A validated position of a write body (one node of the tree).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PositionData {
    /// Client-chosen id (a UUID); generated when absent.
    pub id: Option<String>,
    /// Sort order among its siblings; `None` (or 0) appends.
    pub position: Option<i64>,
    pub kind: Option<String>,
    pub group: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_id: Option<String>,
    pub unit_price: Option<Decimal>,
    pub discount_amount: Option<Decimal>,
    pub discount_percentage: Option<Decimal>,
    pub tax_group_id: Option<String>,
    pub service_date_from: Option<NaiveDate>,
    pub service_date_to: Option<NaiveDate>,
    pub unit_price_interval: Option<String>,
    pub subscription_item: Option<String>,
    pub product: Option<String>,
    /// An existing top-level position to add this one under (adding only).
    pub parent: Option<String>,
    /// `None`: not sent (an update keeps the current children).
    pub children: Option<Vec<PositionData>>,
}
