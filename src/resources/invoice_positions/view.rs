//! The position read shape (reference 06 §2.3) and the tree of an invoice's positions. Units,
//! tax groups and products are looked up once per distinct id.

use super::model::PositionRow;
use crate::domain::money::{Currency, Money};
use crate::domain::tax::{serialize_rate, REVERSE_CHARGE};
use crate::error::{ApiError, ApiResult};
use crate::resources::invoices::model::{InvoiceRow, STATUS_PAID, STATUS_UNPAID, TYPE_INVOICE};
use crate::resources::tax_groups::model::TaxGroupEmbed;
use crate::resources::units::model::{Locale, Unit};
use crate::resources::{tax_groups, units};
use rusqlite::{named_params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// A decimal as an exact JSON number (serde_json keeps the digits: `arbitrary_precision`).
pub fn number(d: Decimal) -> Value {
    let text = d.normalize().to_string();
    match text.parse::<serde_json::Number>() {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ref {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub name: String,
}

/// The computed tax of a position (kontor keys, 06 §2.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxView {
    #[serde(serialize_with = "serialize_rate")]
    pub rate: Decimal,
    pub country_code: Option<String>,
    pub reverse_charge: bool,
    pub treatment: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditableQuantity {
    pub quantity: Value,
}

/// `InvoicePositionItem` as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionView {
    pub id: String,
    pub position: i64,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub quantity: Value,
    pub unit: Option<Unit>,
    /// `null` for a heading.
    pub unit_price: Option<Money>,
    pub unit_price_interval: Option<String>,
    /// Before discount: round(quantity × unitPrice).
    pub net_amount: Money,
    /// After discount: the line net that enters the invoice totals (kontor).
    pub discounted_net_amount: Money,
    pub tax_amount: Money,
    pub gross_amount: Money,
    pub discount_amount: Option<Money>,
    pub discount_fixed: Money,
    pub discount_percentage: Option<String>,
    pub tax_group: Option<TaxGroupEmbed>,
    pub tax: Option<TaxView>,
    pub service_date_from: Option<String>,
    pub service_date_to: Option<String>,
    pub parent: Option<Ref>,
    pub group: Option<Group>,
    pub product: Option<Named>,
    pub subscription_item: Option<Ref>,
    /// The position of the original invoice this one corrects (kontor).
    pub referenced_position_item: Option<Ref>,
    pub is_creditable: bool,
    pub is_fully_credited: bool,
    pub creditable_quantity: CreditableQuantity,
    pub created_at: String,
    pub updated_at: String,
    pub children: Vec<PositionView>,
}

/// Whether positions of a document of `kind` in `status` can be credited: those of a
/// finalized invoice (not of drafts, cancelled invoices or correction documents).
pub fn creditable_invoice(kind: &str, status: &str) -> bool {
    kind == TYPE_INVOICE && (status == STATUS_UNPAID || status == STATUS_PAID)
}

/// What positions embed (units in one locale, tax groups, product names), each read once: for
/// one response, or kept by a billing run for all the invoices it shows (`Facts`).
#[derive(Default)]
pub struct EmbedCache {
    units: HashMap<String, Unit>,
    groups: HashMap<String, tax_groups::model::TaxGroup>,
    products: HashMap<String, String>,
}

/// Lookups shared by all positions of one response.
pub struct Embeds<'a> {
    conn: &'a Connection,
    tenant: &'a str,
    locale: Locale,
    units: HashMap<String, Unit>,
    groups: HashMap<String, tax_groups::model::TaxGroup>,
    products: HashMap<String, String>,
}

impl<'a> Embeds<'a> {
    pub fn new(conn: &'a Connection, tenant: &'a str, locale: Locale) -> Embeds<'a> {
        Embeds::with_cache(conn, tenant, locale, EmbedCache::default())
    }

    /// Starts from what `cache` read before (units must be in `locale`).
    pub fn with_cache(
        conn: &'a Connection,
        tenant: &'a str,
        locale: Locale,
        cache: EmbedCache,
    ) -> Embeds<'a> {
        Embeds {
            conn,
            tenant,
            locale,
            units: cache.units,
            groups: cache.groups,
            products: cache.products,
        }
    }

    /// What this read, to start the next `Embeds` from.
    pub fn into_cache(self) -> EmbedCache {
        EmbedCache {
            units: self.units,
            groups: self.groups,
            products: self.products,
        }
    }

    fn unit(&mut self, id: &str) -> ApiResult<Unit> {
        if let Some(u) = self.units.get(id) {
            return Ok(u.clone());
        }
        let u = units::store::get(self.conn, self.tenant, id, &self.locale)?;
        self.units.insert(id.to_string(), u.clone());
        Ok(u)
    }

    fn group(&mut self, id: &str, reverse_charge: bool) -> ApiResult<TaxGroupEmbed> {
        if !self.groups.contains_key(id) {
            let g = tax_groups::store::get(self.conn, self.tenant, id)?;
            self.groups.insert(id.to_string(), g);
        }
        let g = self
            .groups
            .get(id)
            .ok_or_else(|| ApiError::Internal(format!("tax group {id} vanished")))?;
        Ok(g.embed(reverse_charge.then_some(REVERSE_CHARGE)))
    }

    fn product(&mut self, id: &str) -> ApiResult<Named> {
        if !self.products.contains_key(id) {
            let name: Option<String> = self
                .conn
                .prepare_cached("SELECT name FROM products WHERE tenant_id = :tenant AND id = :id")?
                .query_row(named_params! {":tenant": self.tenant, ":id": id}, |r| {
                    r.get(0)
                })
                .optional()?;
            // The foreign key keeps the product; a missing one is corrupt data (500).
            let name =
                name.ok_or_else(|| ApiError::Internal(format!("product {id} is missing")))?;
            self.products.insert(id.to_string(), name);
        }
        Ok(Named {
            id: id.to_string(),
            name: self.products.get(id).cloned().unwrap_or_default(),
        })
    }

    /// One position with its children (`all` holds every position of the invoice).
    pub fn view(
        &mut self,
        invoice: &InvoiceRow,
        p: &PositionRow,
        all: &[PositionRow],
    ) -> ApiResult<PositionView> {
        let c: Currency = invoice.currency;
        let money = |minor: i64| Money::from_minor(minor, c);
        let price = |d: Decimal| {
            Money::unit_price(d, c).ok_or_else(|| {
                ApiError::Internal(format!("invoice position {}: price out of range", p.id))
            })
        };
        let reverse_charge = p.tax_treatment.as_deref() == Some("reverse_charge");
        let finalized_invoice = creditable_invoice(&invoice.kind, &invoice.status);
        let creditable = p.creditable_quantity();
        let children = all
            .iter()
            .filter(|x| x.parent_id.as_deref() == Some(p.id.as_str()))
            .map(|x| self.view(invoice, x, all))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(PositionView {
            id: p.id.clone(),
            position: p.sort_order,
            kind: p.kind.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            quantity: number(p.quantity),
            unit: p.unit_id.as_deref().map(|id| self.unit(id)).transpose()?,
            unit_price: p.unit_price.map(price).transpose()?,
            unit_price_interval: p.unit_price_interval.clone(),
            net_amount: money(p.net_before_discount),
            discounted_net_amount: money(p.net_amount),
            tax_amount: money(p.tax_amount),
            gross_amount: money(p.net_amount.saturating_add(p.tax_amount)),
            discount_amount: p.discount_amount.map(price).transpose()?,
            discount_fixed: money(p.discount_fixed),
            discount_percentage: p.discount_percentage.map(|d| d.normalize().to_string()),
            tax_group: p
                .tax_group_id
                .as_deref()
                .map(|id| self.group(id, reverse_charge))
                .transpose()?,
            tax: p.tax_rate.map(|rate| TaxView {
                rate,
                country_code: p.tax_country.clone(),
                reverse_charge,
                treatment: p.tax_treatment.clone().unwrap_or_default(),
                note: p.tax_note.clone(),
            }),
            service_date_from: p.service_date_from.clone(),
            service_date_to: p.service_date_to.clone(),
            parent: p.parent_id.clone().map(|id| Ref { id }),
            group: p.group_name.clone().map(|name| Group { name }),
            product: p
                .product_id
                .as_deref()
                .map(|id| self.product(id))
                .transpose()?,
            subscription_item: p.subscription_item_id.clone().map(|id| Ref { id }),
            referenced_position_item: p.original_position_id.clone().map(|id| Ref { id }),
            is_creditable: finalized_invoice && creditable > Decimal::ZERO,
            // (`finalized` below derives the same from the view; keep the two in step.)
            // Headings have nothing to credit, so they are never "fully credited" either.
            is_fully_credited: p.unit_price.is_some() && creditable.is_zero(),
            creditable_quantity: CreditableQuantity {
                quantity: number(creditable),
            },
            created_at: p.created_at.clone(),
            updated_at: p.updated_at.clone(),
            children,
        })
    }

    /// The tree of an invoice: top-level positions in order, each with its children.
    pub fn tree(
        &mut self,
        invoice: &InvoiceRow,
        all: &[PositionRow],
    ) -> ApiResult<Vec<PositionView>> {
        all.iter()
            .filter(|p| p.parent_id.is_none())
            .map(|p| self.view(invoice, p, all))
            .collect()
    }
}
