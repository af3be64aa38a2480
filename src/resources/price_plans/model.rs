//! Price plan shapes (reference 10 §5.2): the stored plan, its money-relevant `Terms`, and the
//! read shape with Money objects at unit-price precision (README §11).

use crate::domain::money::{Currency, Money};
use crate::domain::period::Interval;
use crate::domain::pricing::{Model, Pricing, Tier};
use crate::error::{ApiError, ApiResult};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

/// Everything of a plan except its name: what a subscription bills by. When the plan is in
/// use, none of it may change (409); comparing two `Terms` decides that.
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    pub product: String,
    pub customer: Option<String>,
    pub currency: Currency,
    pub model: Model,
    /// `None` for one-time charges.
    pub billing_interval: Option<Interval>,
    pub pay_in_advance: bool,
    pub pro_rata: bool,
    /// Whole units (kontor): `freeUnits` is a JSON number in the reference, and an integer
    /// keeps it exact on the wire without a float.
    pub free_units: u64,
    pub apply_trial: bool,
    pub trial_days: u32,
    pub show_price_per_interval: Option<Interval>,
    pub sales_channel: Option<Value>,
    pub charge: Option<String>,
    pub product_set_option: Option<String>,
}

impl Terms {
    /// What the pricing engine needs.
    pub fn pricing(&self) -> Pricing {
        Pricing {
            model: self.model.clone(),
            free_units: Decimal::from(self.free_units),
            currency: self.currency,
        }
    }
}

/// A stored price plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PricePlan {
    pub id: String,
    pub tenant_id: String,
    pub internal_name: Option<String>,
    pub terms: Terms,
    /// `active` or `archived`.
    pub status: String,
    pub in_use: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl PricePlan {
    pub fn is_archived(&self) -> bool {
        self.status == "archived"
    }
}

/// The read shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricePlanView {
    pub id: String,
    pub product: String,
    pub internal_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: String,
    pub currency_code: &'static str,
    pub billing_interval: Option<String>,
    pub price: Option<PriceView>,
    pub tiers: Vec<TierView>,
    pub pay_in_advance: bool,
    pub pro_rata: bool,
    pub free_units: u64,
    pub apply_trial: bool,
    pub trial_days: u32,
    pub show_price_per_interval: Option<String>,
    pub sales_channel: Option<Value>,
    pub customer: Option<String>,
    pub custom: bool,
    pub charge: Option<String>,
    pub product_set_option: Option<String>,
    pub in_use: bool,
    /// Filled once checkout links exist; always present so clients can rely on the key.
    pub checkout_link_ids: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `price`: `{amount}` (flat fee, per unit) or `{percentage}`, plus Fynn's bookkeeping keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// A decimal string, e.g. `"2.5"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentage: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub tenant_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TierView {
    pub from: u64,
    pub to: Option<u64>,
    pub unit_price: Money,
    pub flat_amount: Money,
}

/// A unit price as Money; validation guarantees it fits, so a failure is a corrupt row (500).
pub fn unit_money(value: Decimal, currency: Currency) -> ApiResult<Money> {
    Money::unit_price(value, currency)
        .ok_or_else(|| ApiError::Internal(format!("unit price {value} does not fit a Money")))
}

impl PricePlan {
    pub fn view(&self) -> ApiResult<PricePlanView> {
        let t = &self.terms;
        let bookkeeping = |amount, percentage| PriceView {
            amount,
            percentage,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            tenant_id: self.tenant_id.clone(),
        };
        let price = match &t.model {
            Model::FlatFee { price } | Model::PerUnit { price } => {
                Some(bookkeeping(Some(unit_money(*price, t.currency)?), None))
            }
            Model::Percentage { percent } => Some(bookkeeping(None, Some(percent.to_string()))),
            _ => None,
        };
        let tiers = t
            .model
            .tiers()
            .iter()
            .map(|tier: &Tier| {
                Ok(TierView {
                    from: tier.from,
                    to: tier.to,
                    unit_price: unit_money(tier.unit_price, t.currency)?,
                    flat_amount: unit_money(tier.flat_amount, t.currency)?,
                })
            })
            .collect::<ApiResult<_>>()?;
        Ok(PricePlanView {
            id: self.id.clone(),
            product: t.product.clone(),
            internal_name: self.internal_name.clone(),
            kind: t.model.type_name(),
            status: self.status.clone(),
            currency_code: t.currency.code,
            billing_interval: t.billing_interval.map(|i| i.to_string()),
            price,
            tiers,
            pay_in_advance: t.pay_in_advance,
            pro_rata: t.pro_rata,
            free_units: t.free_units,
            apply_trial: t.apply_trial,
            trial_days: t.trial_days,
            show_price_per_interval: t.show_price_per_interval.map(|i| i.to_string()),
            sales_channel: t.sales_channel.clone(),
            customer: t.customer.clone(),
            custom: t.customer.is_some(),
            charge: t.charge.clone(),
            product_set_option: t.product_set_option.clone(),
            in_use: self.in_use,
            checkout_link_ids: Vec::new(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        })
    }
}
