//! Subscription and item rows as stored, their read shapes (reference 08 §1.3, §2.2, §2.5), and
//! the date helpers every handler of the slice shares.

use super::terms::Terms;
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

/// Subscription statuses, spelled exactly as the reference (`cancelled`).
pub const STATUSES: &[&str] = &[
    "draft",
    "offer",
    "active",
    "paused",
    "cancelled",
    "terminated",
];
/// Item statuses, spelled exactly as the reference (`canceled`).
pub const ITEM_STATUSES: &[&str] = &["pending", "active", "canceled", "terminated"];

/// A subscription row. Dates are `YYYY-MM-DD` in the tenant time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct SubRow {
    pub id: String,
    pub customer_id: String,
    pub number: String,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub status: String,
    pub billing_group_id: Option<String>,
    pub currency_code: String,
    pub contract_start: String,
    pub billing_start: String,
    /// Last covered day (inclusive).
    pub contract_end: Option<String>,
    pub contract_end_before_cancel: Option<String>,
    /// First billable day after the trial; `None` = no trial.
    pub trial_ends_on: Option<String>,
    pub terms: Terms,
    pub payment_method_id: Option<String>,
    pub invoice_address_id: Option<String>,
    pub po_number: Option<String>,
    pub custom_fields: String,
    pub activated_at: Option<String>,
    pub activation_date: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancellation_date_type: Option<String>,
    pub cancellation_reason: Option<String>,
    pub terminated_at: Option<String>,
    pub paused_at: Option<String>,
    pub resumed_at: Option<String>,
    pub resume_mode: Option<String>,
    pub resume_next_billing_date: Option<String>,
    pub next_billing_date: Option<String>,
    pub last_billing_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A subscription item row, with what billing needs from its price plan and subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub id: String,
    pub subscription_id: String,
    pub customer_id: String,
    pub parent_id: Option<String>,
    pub kind: String,
    pub product_id: String,
    pub product_name: String,
    pub price_plan_id: String,
    /// The plan's `<n><unit>` interval; `None` for one-time charges.
    pub billing_interval: Option<String>,
    pub pay_in_advance: bool,
    pub name: Option<String>,
    pub description: Option<String>,
    pub further_information: Option<String>,
    /// Exact decimal text, ≥ 0.
    pub quantity: String,
    pub status: String,
    pub start_date: String,
    pub billing_start: String,
    pub trial_ends_on: Option<String>,
    /// Periods are `billing_anchor + k × interval`.
    pub billing_anchor: String,
    /// Start of the first period not billed yet; `None` = nothing (more) to bill.
    pub next_period_start: Option<String>,
    /// When that period falls due; `None` = not scheduled (draft) or nothing left.
    pub next_billing_date: Option<String>,
    pub last_billed_from: Option<String>,
    pub last_billed_to: Option<String>,
    pub last_billed_at: Option<String>,
    /// Last covered day (inclusive); `None` = open-ended.
    pub end_date: Option<String>,
    pub end_date_before_cancel: Option<String>,
    /// Own contract terms as JSON; `None` = inherited from the subscription.
    pub periods: Option<String>,
    pub activated_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub terminated_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ItemRow {
    /// The item's own terms, or `None` when it inherits the subscription's.
    pub fn own_terms(&self) -> ApiResult<Option<Terms>> {
        self.periods
            .as_deref()
            .map(|p| {
                serde_json::from_str(p)
                    .map_err(|_| ApiError::Internal(format!("item {}: stored periods", self.id)))
            })
            .transpose()
    }
}

/// `YYYY-MM-DD` as stored or sent.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    crate::domain::time::parse_date(s)
}

/// A stored date; a corrupt one is a logged 500, never a guess.
pub fn day(s: &str) -> ApiResult<NaiveDate> {
    parse_day(s).ok_or_else(|| ApiError::Internal(format!("stored date '{s}'")))
}

/// A date sent as `YYYY-MM-DD`, or as an RFC 3339 date-time (the reference types some of these
/// fields as datetime), which becomes its calendar date in the tenant time zone.
pub fn parse_date_or_datetime(s: &str, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    parse_day(s)
        .or_else(|| crate::domain::time::parse(s).map(|t| t.with_timezone(&tz).date_naive()))
}

pub fn fmt_day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSummary {
    pub id: String,
    pub customer_number: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize)]
pub struct IdRef {
    pub id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractDetails {
    pub contract_start: String,
    pub contract_end: Option<String>,
    pub billing_start: String,
}

/// Cancellation state (kontor): what the cancel action recorded.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancellationView {
    pub cancelled_at: Option<String>,
    pub cancellation_date_type: Option<String>,
    pub reason: Option<String>,
}

/// Pause state (kontor): the latest pause and how it was resumed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseView {
    pub paused_at: Option<String>,
    pub resumed_at: Option<String>,
    pub resume_mode: Option<String>,
    pub next_billing_date: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub external_id: Option<String>,
    pub number: String,
    pub name: Option<String>,
    pub status: String,
    pub customer: CustomerSummary,
    pub plan: Option<Value>,
    pub items: Vec<Item>,
    pub periods: Vec<Terms>,
    pub payment_method: Option<IdRef>,
    pub invoice_address: Option<crate::resources::customer_addresses::model::Address>,
    pub billing_group: Option<IdRef>,
    pub contract_details: ContractDetails,
    pub currency_code: String,
    pub trial_ends_on: Option<String>,
    pub activated_at: Option<String>,
    pub terminated_at: Option<String>,
    pub cancellation: CancellationView,
    pub pause: PauseView,
    pub po_number: Option<String>,
    pub custom_fields: Map<String, Value>,
    pub next_billing_date: Option<String>,
    pub last_billing_at: Option<String>,
    pub partner: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingView {
    pub last_billed_at: Option<String>,
    pub last_billed_from: Option<String>,
    pub last_billed_to: Option<String>,
    pub next_billing_at: Option<String>,
    pub billing_interval: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    pub subscription: String,
    pub parent: Option<IdRef>,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub name: String,
    pub description: Option<String>,
    pub further_information: Option<String>,
    pub plan: Option<Value>,
    pub price_plan: crate::resources::price_plans::model::PricePlanView,
    pub product: ProductRef,
    /// Exact decimal as a JSON number (serde_json keeps its text).
    pub quantity: Value,
    pub measurement_values: Vec<Value>,
    pub current_measurement_value: Option<Value>,
    pub billing: BillingView,
    pub periods: Vec<Terms>,
    pub inherited_period: bool,
    pub applied_discounts: Vec<AppliedDiscount>,
    pub activated_at: Option<String>,
    pub start_date: String,
    pub billing_start: String,
    pub end_date: Option<String>,
    pub trial_ends_on: Option<String>,
    pub cancelled_at: Option<String>,
    pub terminated_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCoupon {
    pub id: String,
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub percentage: Option<Value>,
    pub fixed_amount: Option<crate::domain::money::Money>,
    pub currency_code: Option<String>,
    pub frequency: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedDiscount {
    pub id: String,
    pub coupon: AppliedCoupon,
    pub subscription_item: String,
    pub remaining_periods: Option<i64>,
    pub created_at: String,
}

/// A decimal text as an exact JSON number (no float on the way).
pub fn exact_number(text: &str) -> ApiResult<Value> {
    text.parse::<serde_json::Number>()
        .map(Value::Number)
        .map_err(|_| ApiError::Internal(format!("stored decimal '{text}'")))
}
