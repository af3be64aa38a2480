//! The facts that computing, sealing and showing invoices read (tax settings, time zone, the
//! seller as printed, tax groups, what positions embed), each read at most once per `Facts`: a request makes one for
//! its document, a billing run one for all the invoices it issues, so a run of 100,000 invoices
//! does not read the same settings 100,000 times. A run therefore uses the facts as they stood
//! when it started, as it uses the catalogue. The customer and invoice address of a draft are
//! kept for that one document: computing, sealing and showing it read them once. A run's facts
//! also hold the customer settings it reads (`for_run`), as they stood when it started.

use super::model::InvoiceRow;
use super::party::{self, TenantTax};
use crate::domain::settings;
use crate::domain::tax::{load_group, TaxGroup, TaxParty};
use crate::error::{ApiError, ApiResult};
use crate::resources::customers::{self, model::Customer};
use crate::resources::invoice_positions::view::EmbedCache;
use crate::resources::tenants;
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::hash_map::{Entry, HashMap};

/// Lazily read tenant facts; see the module docs for their lifetime.
#[derive(Default)]
pub struct Facts {
    tax: Option<TenantTax>,
    zone: Option<chrono_tz::Tz>,
    /// The seller as printed: its JSON text (what documents store) and value (what views show).
    seller: Option<(String, Value)>,
    groups: HashMap<String, TaxGroup>,
    /// The draft whose party was read last: its id, customer and invoice address.
    party: Option<(String, Customer, Option<Value>)>,
    /// What shown positions embed (`view::read_with`; one locale per `Facts`).
    pub embeds: EmbedCache,
    /// Customer settings of a billing run (`for_run`): per key, what applies to customers
    /// without their own value, and every customer's own value.
    customer_settings: Option<HashMap<CustomerKey, CustomerSetting>>,
    /// What a billing run read ahead about the customer it bills (`read_ahead`); its parts
    /// are taken as its document uses them.
    ahead: Option<(String, ReadAhead)>,
}

/// A customer and what its documents derive from it, read and derived on another thread
/// (`billing::prefetch`).
pub struct ReadAhead {
    pub customer: Option<Customer>,
    /// `tax::load_party` with the tenant's country.
    pub tax: TaxParty,
    /// `view::customer_embed`.
    pub embed: Option<Value>,
    /// `party::default_address`.
    pub default_address: Option<Option<Value>>,
}

type CustomerKey = (&'static str, &'static str);

struct CustomerSetting {
    fallback: Value,
    own: HashMap<String, Value>,
}

impl Facts {
    /// Facts for a billing run, which reads each customer setting for every customer it bills:
    /// once per key for all of them (two queries per key and invoice were 5 % of a run).
    pub fn for_run() -> Facts {
        Facts {
            customer_settings: Some(HashMap::new()),
            ..Facts::default()
        }
    }

    /// The value of `context.key` that applies to `customer` (`settings::customer_effective`).
    pub fn customer_setting(
        &mut self,
        conn: &Connection,
        tenant: &str,
        customer: &str,
        (context, key): CustomerKey,
    ) -> ApiResult<Value> {
        let Some(known) = &mut self.customer_settings else {
            return Ok(settings::customer_effective(conn, tenant, customer, context, key)?.0);
        };
        let setting = match known.entry((context, key)) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(CustomerSetting {
                fallback: settings::customer_fallback(conn, tenant, context, key)?.0,
                own: settings::customer_values(conn, tenant, context, key)?,
            }),
        };
        Ok(setting
            .own
            .get(customer)
            .unwrap_or(&setting.fallback)
            .clone())
    }

    /// What tax resolution reads about the tenant.
    pub fn tax(&mut self, conn: &Connection, tenant: &str) -> ApiResult<&TenantTax> {
        Ok(match self.tax {
            Some(ref t) => t,
            None => self.tax.insert(party::tenant_tax(conn, tenant)?),
        })
    }

    /// The tenant's time zone (calendar dates of documents).
    pub fn zone(&mut self, conn: &Connection, tenant: &str) -> ApiResult<chrono_tz::Tz> {
        if let Some(z) = self.zone {
            return Ok(z);
        }
        let z = settings::time_zone(conn, tenant)?;
        self.zone = Some(z);
        Ok(z)
    }

    /// The seller as printed (organization settings, the tenant's names, the VAT mode), as the
    /// JSON text frozen into each finalized document.
    pub fn seller(&mut self, conn: &Connection, tenant: &str) -> ApiResult<&str> {
        Ok(&self.seller_both(conn, tenant)?.0)
    }

    /// `seller` as the value a sealed document's read shape shows (`organization`).
    pub fn seller_json(&mut self, conn: &Connection, tenant: &str) -> ApiResult<&Value> {
        Ok(&self.seller_both(conn, tenant)?.1)
    }

    fn seller_both(&mut self, conn: &Connection, tenant: &str) -> ApiResult<&(String, Value)> {
        if self.seller.is_none() {
            let t = tenants::store::get(conn, tenant, tenant)?;
            let mut org = settings::context(conn, tenant, "organization")?;
            org.insert("name".into(), json!(t.name));
            org.insert("legalCompanyName".into(), json!(t.legal_company_name));
            org.insert(
                "smallBusiness".into(),
                settings::get(conn, tenant, "billing", "smallBusiness")?,
            );
            let value = Value::Object(org);
            self.seller = Some((value.to_string(), value));
        }
        self.seller
            .as_ref()
            .ok_or_else(|| ApiError::Internal("seller not read".into()))
    }

    /// The customer of the draft `inv` and the invoice address that applies to it
    /// (`party::effective_address`), read once per document.
    pub fn party(
        &mut self,
        conn: &Connection,
        tenant: &str,
        inv: &InvoiceRow,
    ) -> ApiResult<(&Customer, Option<&Value>)> {
        let known =
            matches!(&self.party, Some((id, c, _)) if *id == inv.id && c.id == inv.customer_id);
        if !known {
            let (customer, default) = match self.ahead_for(&inv.customer_id) {
                Some(a) => (a.customer.take(), a.default_address.take()),
                None => (None, None),
            };
            let customer = match customer {
                Some(c) => c,
                None => customers::store::get(conn, tenant, &inv.customer_id)?,
            };
            let address = party::effective_address_or(conn, tenant, inv, || match default {
                Some(known) => Ok(known),
                None => party::default_address(&customer),
            })?;
            self.party = Some((inv.id.clone(), customer, address));
        }
        match &self.party {
            Some((_, c, a)) => Ok((c, a.as_ref())),
            None => Err(ApiError::Internal("invoice party not read".into())),
        }
    }

    /// The tax facts of the draft `inv`'s customer with `address` applied
    /// (`party::tax_party_at`).
    pub fn tax_party(
        &mut self,
        conn: &Connection,
        tenant: &str,
        inv: &InvoiceRow,
        tenant_country: &str,
        address: Option<&Value>,
    ) -> ApiResult<TaxParty> {
        match self.ahead_for(&inv.customer_id) {
            Some(a) => Ok(party::with_address(a.tax.clone(), address)),
            None => party::tax_party_at(conn, tenant, inv, tenant_country, address),
        }
    }

    /// The customer `customer` as its document embeds it (`view::customer_embed`), if it was
    /// read ahead (then once).
    pub fn take_customer_embed(&mut self, customer: &str) -> Option<Value> {
        self.ahead_for(customer).and_then(|a| a.embed.take())
    }

    /// Uses `ahead` for the next document of its customer instead of reading and deriving it
    /// again, or (`None`) reads again. A billing run reads ahead on another thread
    /// (`billing::prefetch`); what it read is valid as long as no other connection committed.
    pub fn read_ahead(&mut self, ahead: Option<ReadAhead>) {
        self.ahead = ahead.and_then(|a| Some((a.customer.as_ref()?.id.clone(), a)));
    }

    fn ahead_for(&mut self, customer: &str) -> Option<&mut ReadAhead> {
        match &mut self.ahead {
            Some((id, a)) if id == customer => Some(a),
            _ => None,
        }
    }

    /// A tax group with its rates; 404 when the tenant has none with this id.
    pub fn group(&mut self, conn: &Connection, tenant: &str, id: &str) -> ApiResult<&TaxGroup> {
        if !self.groups.contains_key(id) {
            let g = load_group(conn, tenant, id)?;
            self.groups.insert(id.to_string(), g);
        }
        Ok(&self.groups[id])
    }
}
