//! Database reads behind tax resolution: a tax group's rates, the customer's tax facts, and the
//! tenant settings, combined by `resolve_for_customer`.

use super::{parse_rate, resolve, GroupRate, GroupType, TaxDecision, TaxInput, TaxParty};
use crate::domain::settings;
use crate::error::{ApiError, ApiResult};
use rusqlite::{named_params, Connection, OptionalExtension};

/// A tax group as billing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxGroup {
    pub id: String,
    pub name: String,
    pub group_type: GroupType,
    pub rates: Vec<GroupRate>,
}

/// One tax group of the tenant; 404 when there is none with this id.
pub fn load_group(conn: &Connection, tenant: &str, id: &str) -> ApiResult<TaxGroup> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT name, type FROM tax_groups WHERE tenant_id = :tenant AND id = :id")?
        .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((name, kind)) = row else {
        return Err(ApiError::not_found("Tax group"));
    };
    let group_type = GroupType::parse(&kind)
        .ok_or_else(|| ApiError::Internal(format!("tax group {id}: unknown type {kind}")))?;
    let raw = conn
        .prepare_cached(
            "SELECT country_code, rate FROM tax_group_rates
             WHERE tax_group_id = :id AND tenant_id = :tenant ORDER BY rowid",
        )?
        .query_map(named_params! {":tenant": tenant, ":id": id}, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let rates = raw
        .into_iter()
        .map(|(country, rate)| match parse_rate(&rate) {
            Some(rate) => Ok(GroupRate { country, rate }),
            // A corrupt stored rate must never bill as 0 %: fail loudly instead.
            None => Err(ApiError::Internal(format!(
                "tax group {id}: stored rate '{rate}' is not a decimal"
            ))),
        })
        .collect::<ApiResult<_>>()?;
    Ok(TaxGroup {
        id: id.to_string(),
        name,
        group_type,
        rates,
    })
}

/// The customer's tax facts; `None` when the tenant has no such customer.
///
/// The country is the invoice address's, else the default address's (05 §1.5). A customer with
/// neither is treated as domestic: charging the tenant's own VAT is the safe side when the
/// place of supply is unknown. A company name on the customer or on that address makes it a
/// business (03 §3.4 rule 1); reverse charge needs the customer's own VAT id, since
/// `isVatIdValid` is the result of checking exactly that id.
pub fn load_party(
    conn: &Connection,
    tenant: &str,
    customer_id: &str,
    tenant_country: &str,
) -> ApiResult<Option<TaxParty>> {
    conn.prepare_cached(
        "SELECT c.vat_id, c.is_vat_id_valid, c.tax_exempt,
                COALESCE(c.company_name, ''), a.country_code, COALESCE(a.company_name, '')
         FROM customers c
         LEFT JOIN customer_addresses a ON a.id = (
             SELECT id FROM customer_addresses
             WHERE customer_id = c.id AND tenant_id = c.tenant_id AND is_default = 1
             -- The default invoice address, else the default address: the only two types,
             -- and 'TYPE_INVOICE' sorts last, so the index's order serves without a sort.
             ORDER BY type DESC LIMIT 1)
         WHERE c.tenant_id = :tenant AND c.id = :id",
    )?
    .query_row(named_params! {":tenant": tenant, ":id": customer_id}, |r| {
        let company: String = r.get(3)?;
        let address_company: String = r.get(5)?;
        Ok(TaxParty {
            vat_id: r.get(0)?,
            vat_id_valid: r.get(1)?,
            exempt: r.get::<_, String>(2)? == "exempt",
            country: r
                .get::<_, Option<String>>(4)?
                .unwrap_or_else(|| tenant_country.to_string()),
            has_company_name: !company.trim().is_empty() || !address_company.trim().is_empty(),
        })
    })
    .optional()
    .map_err(ApiError::from)
}

/// The tax decision for a position of `tax_group_id` billed to `customer_id`: 404 for an
/// unknown group, 422 on `customer` for an unknown customer, 409 when neither the group nor
/// the EU table has a rate for the country that applies.
pub fn resolve_for_customer(
    conn: &Connection,
    tenant: &str,
    tax_group_id: &str,
    customer_id: &str,
) -> ApiResult<TaxDecision> {
    let group = load_group(conn, tenant, tax_group_id)?;
    let tenant_country = settings::get(conn, tenant, "organization", "countryCode")?
        .as_str()
        .unwrap_or("DE")
        .to_string();
    let small_business = settings::get(conn, tenant, "billing", "smallBusiness")?
        .as_bool()
        .unwrap_or(false);
    // No OSS setting exists yet; an unknown key reads as null, so this turns on by itself once
    // `billing.oss` is added to the settings table.
    let oss = settings::get(conn, tenant, "billing", "oss")?
        .as_bool()
        .unwrap_or(false);
    let Some(party) = load_party(conn, tenant, customer_id, &tenant_country)? else {
        return Err(ApiError::invalid(
            "customer",
            "This customer does not exist.",
            "not_found",
        ));
    };
    let input = TaxInput {
        tenant_country: &tenant_country,
        small_business,
        oss,
        group_type: group.group_type,
        rates: &group.rates,
        customer: &party,
    };
    resolve(&input).map_err(|missing| {
        ApiError::Conflict(format!(
            "The tax group '{}' has no rate for country '{}'; add one (or an 'EU_*' or '*' rate).",
            group.name, missing.country
        ))
    })
}
