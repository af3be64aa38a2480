//! Who an invoice is addressed to: the address that applies (chosen, copied or the customer's
//! default), the VAT id printed, and the customer's tax facts for that address.

use super::model::InvoiceRow;
use crate::domain::settings;
use crate::domain::tax::{self, TaxParty};
use crate::error::{ApiError, ApiResult};
use crate::resources::customer_addresses::model::Address;
use crate::resources::customer_addresses::store as addresses;
use crate::resources::customers::model::Customer;
use rusqlite::Connection;
use serde_json::Value;

fn active(a: Option<Address>) -> Option<Address> {
    a.filter(|a| !a.is_archived())
}

/// Which invoice address applies to a document, before the customer's defaults are read.
enum Applies {
    /// Frozen on a finalized document, or chosen (or its copy) on a draft.
    Known(Option<Value>),
    /// A draft without a chosen address follows the customer's default invoice address.
    CustomerDefault,
}

fn chosen(conn: &Connection, tenant: &str, inv: &InvoiceRow) -> ApiResult<Applies> {
    if !inv.is_draft() {
        return Ok(Applies::Known(inv.invoice_address.clone()));
    }
    if let Some(id) = &inv.invoice_address_id {
        match addresses::get(conn, tenant, id) {
            Ok(a) => return Ok(Applies::Known(Some(serde_json::to_value(&a)?))),
            Err(ApiError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(match &inv.invoice_address {
        Some(copy) => Applies::Known(Some(copy.clone())),
        None => Applies::CustomerDefault,
    })
}

/// The invoice address: frozen on a finalized document; on a draft the chosen address as it
/// is now (its copy if it was deleted since), else the customer's default invoice address,
/// else its default address (05 §1.5). `None` when the customer has no address at all.
pub fn effective_address(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
) -> ApiResult<Option<Value>> {
    if let Applies::Known(address) = chosen(conn, tenant, inv)? {
        return Ok(address);
    }
    let default = match active(addresses::default_of(
        conn,
        &inv.customer_id,
        "TYPE_INVOICE",
    )?) {
        Some(a) => Some(a),
        None => active(addresses::default_of(
            conn,
            &inv.customer_id,
            "TYPE_DEFAULT",
        )?),
    };
    Ok(default.map(|a| serde_json::to_value(&a)).transpose()?)
}

/// `effective_address` of a document whose customer was just read: `default` gives that
/// customer's `default_address`, so the defaults are not read a second time.
pub fn effective_address_or(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    default: impl FnOnce() -> ApiResult<Option<Value>>,
) -> ApiResult<Option<Value>> {
    Ok(match chosen(conn, tenant, inv)? {
        Applies::Known(address) => address,
        Applies::CustomerDefault => default()?,
    })
}

/// The address a draft of `customer` without a chosen address shows: its read model carries
/// it (`Customer::default_invoice_address`: the default invoice address, else the default
/// address, archived ones skipped).
pub fn default_address(customer: &Customer) -> ApiResult<Option<Value>> {
    Ok(customer
        .default_invoice_address
        .as_deref()
        .map(serde_json::to_value)
        .transpose()?)
}

fn text<'v>(address: Option<&'v Value>, key: &str) -> &'v str {
    address
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
}

/// The VAT id printed on the invoice: the address's, else the customer's (06 §1.15).
pub fn vat_id(address: Option<&Value>, customer_vat_id: &str) -> String {
    match text(address, "vatId") {
        "" => customer_vat_id.to_string(),
        v => v.to_string(),
    }
}

/// The customer's tax facts with the invoice address applied: its country decides the place of
/// supply, and a VAT id other than the customer's checked one is not known to be valid.
pub fn tax_party(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    tenant_country: &str,
) -> ApiResult<TaxParty> {
    let address = effective_address(conn, tenant, inv)?;
    tax_party_at(conn, tenant, inv, tenant_country, address.as_ref())
}

/// `tax_party` with the invoice's effective address already at hand.
pub fn tax_party_at(
    conn: &Connection,
    tenant: &str,
    inv: &InvoiceRow,
    tenant_country: &str,
    address: Option<&Value>,
) -> ApiResult<TaxParty> {
    let party = tax::load_party(conn, tenant, &inv.customer_id, tenant_country)?
        .ok_or_else(|| ApiError::Internal(format!("invoice {}: customer missing", inv.id)))?;
    Ok(with_address(party, address))
}

/// The customer's tax facts `party` (`tax::load_party`) with the invoice address applied.
pub fn with_address(mut party: TaxParty, address: Option<&Value>) -> TaxParty {
    let country = text(address, "countryCode");
    if !country.is_empty() {
        party.country = country.to_string();
    }
    if !text(address, "companyName").is_empty() {
        party.has_company_name = true;
    }
    let printed = vat_id(address, &party.vat_id);
    if printed != party.vat_id {
        party.vat_id = printed;
        party.vat_id_valid = false;
    }
    party
}

/// The tenant facts tax resolution reads, exactly as `tax::resolve_for_customer` reads them.
pub struct TenantTax {
    pub country: String,
    pub small_business: bool,
    pub oss: bool,
}

pub fn tenant_tax(conn: &Connection, tenant: &str) -> ApiResult<TenantTax> {
    let flag = |key| -> ApiResult<bool> {
        Ok(settings::get(conn, tenant, "billing", key)?
            .as_bool()
            .unwrap_or(false))
    };
    Ok(TenantTax {
        country: settings::get(conn, tenant, "organization", "countryCode")?
            .as_str()
            .unwrap_or("DE")
            .to_string(),
        small_business: flag("smallBusiness")?,
        oss: flag("oss")?,
    })
}
