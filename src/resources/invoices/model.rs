//! Invoice shapes (reference 06 §1.3–1.4): the stored row, the enums, and which number range
//! each document type draws from.

use super::input::InvoiceWrite;
use crate::domain::money::Currency;
use crate::error::{ApiError, ApiResult};
use serde_json::{Map, Value};

pub const TYPE_INVOICE: &str = "TYPE_INVOICE";
pub const TYPE_CANCELLATION: &str = "TYPE_CANCELLATION";
pub const TYPE_CREDIT: &str = "TYPE_CREDIT";
pub const TYPES: &[&str] = &[TYPE_INVOICE, TYPE_CANCELLATION, TYPE_CREDIT];

pub const STATUS_DRAFT: &str = "STATUS_DRAFT";
pub const STATUS_FINALIZING: &str = "STATUS_FINALIZING";
pub const STATUS_UNPAID: &str = "STATUS_UNPAID";
pub const STATUS_PAID: &str = "STATUS_PAID";
pub const STATUS_CANCELLED: &str = "STATUS_CANCELLED";
pub const STATUSES: &[&str] = &[
    STATUS_DRAFT,
    STATUS_FINALIZING,
    STATUS_UNPAID,
    STATUS_PAID,
    STATUS_CANCELLED,
];

pub const DUNNING_STATUSES: &[&str] = &["none", "reminded", "dunning", "suspended"];

/// The number range a document type draws from (reference 06 §4).
pub fn range_for(kind: &str) -> &'static str {
    match kind {
        TYPE_CANCELLATION => "cancellation",
        TYPE_CREDIT => "credit_note",
        _ => "invoice",
    }
}

/// One `invoices` row with its currency and JSON columns decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRow {
    pub id: String,
    pub customer_id: String,
    pub kind: String,
    pub status: String,
    pub number: Option<String>,
    pub original_invoice_id: Option<String>,
    pub currency: Currency,
    /// Totals in minor units of `currency`.
    pub net_amount: i64,
    pub tax_amount: i64,
    pub gross_amount: i64,
    pub discount_amount: i64,
    pub paid_amount: i64,
    pub credited_amount: i64,
    pub unpaid_amount: i64,
    pub title: String,
    pub introduction: String,
    pub closing: String,
    pub internal_note: String,
    pub custom_fields: Map<String, Value>,
    pub invoice_address_id: Option<String>,
    /// The copied address: chosen for a draft, frozen at finalization.
    pub invoice_address: Option<Value>,
    pub customer_vat_id: Option<String>,
    pub customer_name: Option<String>,
    pub customer_snapshot: Option<Value>,
    pub tenant_snapshot: Option<Value>,
    pub payment_method_id: Option<String>,
    pub finalization_date: Option<String>,
    pub finalized_at: Option<String>,
    pub due_date: Option<String>,
    pub pay_date: Option<String>,
    pub service_period_from: Option<String>,
    pub service_period_to: Option<String>,
    pub dunning_level: i64,
    pub dunning_status: String,
    pub last_reminder_date: Option<String>,
    pub last_sent_at: Option<String>,
    pub correction_reason: Option<String>,
    pub correction_comment: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl InvoiceRow {
    /// A draft of `kind` as `store::insert_draft` writes it, in memory (a billing run computes
    /// and seals its invoice before writing it once: `issue`).
    pub fn draft(id: String, w: &InvoiceWrite, kind: &str, now: String) -> InvoiceRow {
        InvoiceRow {
            id,
            customer_id: w.customer.clone(),
            kind: kind.to_string(),
            status: STATUS_DRAFT.to_string(),
            number: None,
            original_invoice_id: None,
            currency: w.currency,
            net_amount: 0,
            tax_amount: 0,
            gross_amount: 0,
            discount_amount: 0,
            paid_amount: 0,
            credited_amount: 0,
            unpaid_amount: 0,
            title: w.title.clone(),
            introduction: w.introduction.clone(),
            closing: w.closing.clone(),
            internal_note: w.internal_note.clone(),
            custom_fields: w.custom_fields.clone(),
            invoice_address_id: w.address_id.clone(),
            invoice_address: w.address_copy.clone(),
            customer_vat_id: None,
            customer_name: None,
            customer_snapshot: None,
            tenant_snapshot: None,
            payment_method_id: w.payment_method.clone(),
            finalization_date: None,
            finalized_at: None,
            due_date: None,
            pay_date: None,
            service_period_from: None,
            service_period_to: None,
            dunning_level: 0,
            dunning_status: "none".to_string(),
            last_reminder_date: None,
            last_sent_at: None,
            correction_reason: None,
            correction_comment: None,
            created_by: None,
            created_at: now.clone(),
            updated_at: now,
        }
    }

    pub fn is_draft(&self) -> bool {
        self.status == STATUS_DRAFT
    }

    /// 409 unless the document is still a draft: finalized documents never change (GoBD);
    /// they are corrected by cancellation or credit note.
    pub fn ensure_draft(&self) -> ApiResult<()> {
        if self.is_draft() {
            return Ok(());
        }
        Err(ApiError::Conflict(format!(
            "Invoice {} is {} and can no longer be changed; correct it with a cancellation or a credit note.",
            self.number.as_deref().unwrap_or(&self.id),
            self.status
        )))
    }
}
