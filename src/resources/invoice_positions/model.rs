//! Invoice position shapes (reference 06 §2): the stored row and the validated write data.

use crate::billing::invoice_calc::{parse_treatment, Discount, Line, TaxKey};
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
