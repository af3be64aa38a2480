//! The invoice read shape (reference 06 §1.3): the customer (live on drafts, the snapshot
//! taken at finalization afterwards), the invoice address, Money totals at the currency's
//! minor digits, the tax breakdown per rate, and (in the detail view) the position tree.

use super::facts::Facts;
use super::model::InvoiceRow;
use super::{party, store};
use crate::domain::money::Money;
use crate::domain::tax::serialize_rate;
use crate::error::{ApiError, ApiResult};
use crate::resources::customers;
use crate::resources::customers::model::Customer;
use crate::resources::invoice_positions::model::PositionRow;
use crate::resources::invoice_positions::store as positions;
use crate::resources::invoice_positions::view::{EmbedCache, Embeds, PositionView, Ref};
use crate::resources::units::model::Locale;
use rusqlite::{named_params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::str::FromStr;

/// The customer as an invoice shows it (06 §1.3), also the snapshot stored at finalization.
pub fn customer_embed(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "customerNumber": c.customer_number,
        "timeZone": c.time_zone,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "currencyCode": c.currency_code,
        "countryCode": c.country_code,
        "companyName": c.company_name,
        "vatId": c.vat_id,
        "isVatIdValid": c.is_vat_id_valid,
        "taxExempt": c.tax_exempt,
        "datevId": c.datev_id,
        "commercialRegisterName": c.commercial_register_name,
        "commercialRegisterNumber": c.commercial_register_number,
        "status": c.status,
        "gender": c.gender,
        "phone": c.phone,
        "language": c.language,
        "defaultPaymentMethod": c.default_payment_method,
    })
}

/// The printed name of a customer: the company, else the person.
pub fn customer_name(c: &Customer) -> String {
    match c.company_name.as_deref().map(str::trim) {
        Some(company) if !company.is_empty() => company.to_string(),
        _ => format!("{} {}", c.first_name, c.last_name)
            .trim()
            .to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceRef {
    pub id: String,
    pub number: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One row of the tax breakdown (kontor).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakdownView {
    #[serde(serialize_with = "serialize_rate")]
    pub rate: Decimal,
    pub treatment: String,
    pub note: Option<String>,
    pub net_amount: Money,
    pub tax_amount: Money,
}

/// `Invoice` as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    pub id: String,
    pub customer: Value,
    pub payment_method: Option<Ref>,
    pub referenced_invoice: Option<InvoiceRef>,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub currency_code: &'static str,
    pub number: Option<String>,
    pub creation_date: String,
    pub finalization_date: Option<String>,
    pub due_date: Option<String>,
    pub pay_date: Option<String>,
    pub last_reminder_date: Option<String>,
    pub last_sent_at: Option<String>,
    pub dunning_level: i64,
    pub dunning_status: String,
    pub invoice_address: Option<Value>,
    /// The VAT id printed on the document (kontor).
    pub vat_id: String,
    pub internal_note: String,
    pub title: String,
    pub introduction: String,
    pub closing: String,
    pub net_amount: Money,
    pub gross_amount: Money,
    pub tax_amount: Money,
    pub discount_amount: Money,
    pub unpaid_amount: Money,
    /// Succeeded payments minus refunds (kontor).
    pub paid_amount: Money,
    pub tax_breakdown: Vec<BreakdownView>,
    pub service_period_from: Option<String>,
    pub service_period_to: Option<String>,
    /// The seller's details as printed, frozen at finalization (kontor); `null` on drafts.
    pub organization: Option<Value>,
    pub file: Option<Value>,
    pub xml_file: Option<Value>,
    pub custom_fields: Map<String, Value>,
    /// The position tree; only in the detail view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positions: Option<Vec<PositionView>>,
    pub created_at: String,
    pub updated_at: String,
}

/// Builds read shapes; customers are read once per id (a list page shares them).
pub struct Viewer<'a> {
    conn: &'a Connection,
    tenant: &'a str,
    locale: Locale,
    customers: HashMap<String, Customer>,
    /// A draft's invoice address known beforehand: (invoice id, address).
    address: Option<(String, Option<Value>)>,
    /// Units, tax groups and product names the positions embed.
    embeds: EmbedCache,
}

impl<'a> Viewer<'a> {
    pub fn new(conn: &'a Connection, tenant: &'a str, locale: Locale) -> Viewer<'a> {
        Viewer {
            conn,
            tenant,
            locale,
            customers: HashMap::new(),
            address: None,
            embeds: EmbedCache::default(),
        }
    }

    fn customer(&mut self, id: &str) -> ApiResult<&Customer> {
        if !self.customers.contains_key(id) {
            let c = customers::store::get(self.conn, self.tenant, id)?;
            self.customers.insert(id.to_string(), c);
        }
        self.customers
            .get(id)
            .ok_or_else(|| ApiError::Internal(format!("customer {id} vanished")))
    }

    /// The read shape of `inv`; `detail` adds the positions.
    pub fn view(&mut self, inv: &InvoiceRow, detail: bool) -> ApiResult<InvoiceView> {
        let breakdown = store::breakdown(self.conn, &inv.id)?;
        let rows = match detail {
            true => Some(positions::for_invoice(self.conn, &inv.id)?),
            false => None,
        };
        self.assemble(inv, breakdown, rows.as_deref())
    }

    /// The read shape of `inv` with its tax breakdown and (detail) positions as given.
    fn assemble(
        &mut self,
        inv: &InvoiceRow,
        breakdown: Vec<store::BreakdownRow>,
        rows: Option<&[PositionRow]>,
    ) -> ApiResult<InvoiceView> {
        let (conn, tenant) = (self.conn, self.tenant);
        let address = match &self.address {
            Some((id, known)) if *id == inv.id => known.clone(),
            _ => party::effective_address(conn, tenant, inv)?,
        };
        let (customer, vat_id) = match (&inv.customer_snapshot, inv.is_draft()) {
            (Some(snapshot), false) => (
                snapshot.clone(),
                inv.customer_vat_id.clone().unwrap_or_default(),
            ),
            _ => {
                let c = self.customer(&inv.customer_id)?;
                (
                    customer_embed(c),
                    party::vat_id(address.as_ref(), &c.vat_id),
                )
            }
        };
        let money = |minor| Money::from_minor(minor, inv.currency);
        let mut tax_breakdown = breakdown
            .into_iter()
            .map(|b| {
                let rate = Decimal::from_str(&b.rate).map_err(|_| {
                    ApiError::Internal(format!("invoice {}: corrupt rate {}", inv.id, b.rate))
                })?;
                Ok(BreakdownView {
                    rate,
                    treatment: b.treatment,
                    note: b.note,
                    net_amount: money(b.net_amount),
                    tax_amount: money(b.tax_amount),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        // Highest rate first, as printed; equal rates by treatment.
        tax_breakdown.sort_by(|a, b| {
            b.rate
                .cmp(&a.rate)
                .then_with(|| a.treatment.cmp(&b.treatment))
        });
        let positions = match rows {
            Some(rows) => {
                let cache = std::mem::take(&mut self.embeds);
                let mut embeds = Embeds::with_cache(conn, tenant, self.locale.clone(), cache);
                let tree = embeds.tree(inv, rows);
                self.embeds = embeds.into_cache();
                Some(tree?)
            }
            None => None,
        };
        Ok(InvoiceView {
            id: inv.id.clone(),
            customer,
            payment_method: inv.payment_method_id.clone().map(|id| Ref { id }),
            referenced_invoice: referenced(conn, tenant, inv.original_invoice_id.as_deref())?,
            kind: inv.kind.clone(),
            status: inv.status.clone(),
            currency_code: inv.currency.code,
            number: inv.number.clone(),
            creation_date: inv.created_at.clone(),
            finalization_date: inv.finalization_date.clone(),
            due_date: inv.due_date.clone(),
            pay_date: inv.pay_date.clone(),
            last_reminder_date: inv.last_reminder_date.clone(),
            last_sent_at: inv.last_sent_at.clone(),
            dunning_level: inv.dunning_level,
            dunning_status: inv.dunning_status.clone(),
            invoice_address: address,
            vat_id,
            internal_note: inv.internal_note.clone(),
            title: inv.title.clone(),
            introduction: inv.introduction.clone(),
            closing: inv.closing.clone(),
            net_amount: money(inv.net_amount),
            gross_amount: money(inv.gross_amount),
            tax_amount: money(inv.tax_amount),
            discount_amount: money(inv.discount_amount),
            unpaid_amount: money(inv.unpaid_amount),
            paid_amount: money(inv.paid_amount),
            tax_breakdown,
            service_period_from: inv.service_period_from.clone(),
            service_period_to: inv.service_period_to.clone(),
            organization: inv.tenant_snapshot.clone(),
            file: None,
            xml_file: None,
            custom_fields: inv.custom_fields.clone(),
            positions,
            created_at: inv.created_at.clone(),
            updated_at: inv.updated_at.clone(),
        })
    }
}

fn referenced(conn: &Connection, tenant: &str, id: Option<&str>) -> ApiResult<Option<InvoiceRef>> {
    let Some(id) = id else { return Ok(None) };
    Ok(conn
        .prepare_cached(
            "SELECT id, number, type FROM invoices WHERE id = :id AND tenant_id = :tenant",
        )?
        .query_row(named_params! {":id": id, ":tenant": tenant}, |r| {
            Ok(InvoiceRef {
                id: r.get(0)?,
                number: r.get(1)?,
                kind: r.get(2)?,
            })
        })
        .optional()?)
}

/// The detail read shape of one invoice, in the tenant's locale: what handlers answer and what
/// outbox events carry.
pub fn read(conn: &Connection, tenant: &str, id: &str) -> ApiResult<InvoiceView> {
    let inv = store::get(conn, tenant, id)?;
    let locale = crate::resources::units::store::locale(conn, tenant, None)?;
    Viewer::new(conn, tenant, locale).view(&inv, true)
}

/// `read` in a locale the caller already has, taking a draft's customer and invoice address
/// from `facts` (a billing run computes, seals and shows each invoice with one read of them).
pub fn read_with(
    conn: &Connection,
    tenant: &str,
    id: &str,
    locale: Locale,
    facts: &mut Facts,
) -> ApiResult<InvoiceView> {
    let inv = store::get(conn, tenant, id)?;
    let mut viewer = Viewer::with_facts(conn, tenant, locale, &inv, facts)?;
    let view = viewer.view(&inv, true);
    facts.embeds = viewer.embeds;
    view
}

/// The detail read shape of `inv` with `rows` and `breakdown`, computed in memory and just
/// written (a billing run's invoice, `issue`): what `read_with` would read back.
pub fn show_with(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    rows: &[PositionRow],
    breakdown: Vec<store::BreakdownRow>,
    locale: Locale,
    facts: &mut Facts,
) -> ApiResult<InvoiceView> {
    let mut viewer = Viewer::with_facts(conn, tenant, locale, inv, facts)?;
    let view = viewer.assemble(inv, breakdown, Some(rows));
    facts.embeds = viewer.embeds;
    view
}

/// The read shape of a sealed document that was just written from `inv`, `rows` and
/// `breakdown` in memory (a billing run's invoice for its events), with the embeds of `embeds`
/// (filled as needed and handed back). A sealed document reads nothing else.
pub fn show_written(
    conn: &Connection,
    tenant: &str,
    (inv, rows, breakdown): (&InvoiceRow, &[PositionRow], Vec<store::BreakdownRow>),
    locale: Locale,
    embeds: &mut EmbedCache,
) -> ApiResult<InvoiceView> {
    let mut viewer = Viewer::new(conn, tenant, locale);
    viewer.embeds = std::mem::take(embeds);
    let view = viewer.assemble(inv, breakdown, Some(rows));
    *embeds = viewer.embeds;
    view
}

impl<'a> Viewer<'a> {
    /// A viewer taking a draft's customer and invoice address from `facts`, and the embeds
    /// `facts` has cached (the caller hands them back).
    fn with_facts(
        conn: &'a Connection,
        tenant: &'a str,
        locale: Locale,
        inv: &InvoiceRow,
        facts: &mut Facts,
    ) -> ApiResult<Viewer<'a>> {
        let mut viewer = Viewer::new(conn, tenant, locale);
        if inv.is_draft() {
            let (customer, address) = facts.party(conn, tenant, inv)?;
            viewer
                .customers
                .insert(customer.id.clone(), customer.clone());
            viewer.address = Some((inv.id.clone(), address.cloned()));
        }
        viewer.embeds = std::mem::take(&mut facts.embeds);
        Ok(viewer)
    }
}
