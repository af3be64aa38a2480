//! Tenant settings by context (reference 03 §1) and customer overrides (05 §4): keys, types,
//! defaults, value checks, and the effective values the rest of kontor reads.

mod checks;

pub use checks::{check, is_bic, is_creditor_id, is_iban, normalize, violation};

use crate::error::ApiResult;
use chrono::{NaiveDate, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The type of a setting's value; `check` says what is wrong with a candidate.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text {
        max: usize,
    },
    /// A string or null.
    NullableText {
        max: usize,
    },
    Integer {
        min: i64,
        max: i64,
    },
    Bool,
    Choice(&'static [&'static str]),
    Country,
    Currency,
    TimeZone,
    /// `HH:MM`, 24 h.
    Clock,
    /// An object with exactly these optional string keys.
    Object(&'static [&'static str]),
    /// Write-only: read back as a mask.
    Secret,
    /// An e-mail address, or "" for not set.
    Email {
        max: usize,
    },
    /// A SEPA creditor identifier (Gläubiger-ID), or "" for not set.
    CreditorId,
}

pub struct Key {
    pub context: &'static str,
    pub key: &'static str,
    pub kind: Kind,
    /// The system default as JSON text.
    pub default: &'static str,
}

const fn k(context: &'static str, key: &'static str, kind: Kind, default: &'static str) -> Key {
    Key {
        context,
        key,
        kind,
        default,
    }
}

const BANK: &[&str] = &["iban", "bic", "bankName", "accountHolder"];
const SEPA_BANK: &[&str] = &["iban", "bic", "accountHolder"];
const T255: Kind = Kind::Text { max: 255 };
const EMAIL: Kind = Kind::Email { max: 255 };

pub const TENANT_KEYS: &[Key] = &[
    k("organization", "companyName", T255, r#""""#),
    k("organization", "street", T255, r#""""#),
    k("organization", "houseNumber", T255, r#""""#),
    k("organization", "zip", T255, r#""""#),
    k("organization", "city", T255, r#""""#),
    k("organization", "countryCode", Kind::Country, r#""DE""#),
    k("organization", "taxNumber", T255, r#""""#),
    k("organization", "vatId", T255, r#""""#),
    k("organization", "email", EMAIL, r#""""#),
    k("organization", "phone", T255, r#""""#),
    k(
        "organization",
        "logo",
        Kind::NullableText { max: 64 },
        "null",
    ),
    k(
        "organization",
        "bankAccount",
        Kind::Object(BANK),
        r#"{"iban":"","bic":"","bankName":"","accountHolder":""}"#,
    ),
    k(
        "organization",
        "timeZone",
        Kind::TimeZone,
        r#""Europe/Berlin""#,
    ),
    k(
        "organization",
        "defaultCurrency",
        Kind::Currency,
        r#""EUR""#,
    ),
    k(
        "organization",
        "locale",
        Kind::Choice(&["de", "en"]),
        r#""de""#,
    ),
    k(
        "billing",
        "defaultDueDays",
        Kind::Integer { min: 0, max: 365 },
        "14",
    ),
    k("billing", "manualApproval", Kind::Bool, "false"),
    k("billing", "generateZeroInvoices", Kind::Bool, "false"),
    k("billing", "giroCode", Kind::Bool, "true"),
    k("billing", "smallBusiness", Kind::Bool, "false"),
    k(
        "billing",
        "einvoiceFormat",
        Kind::Choice(&["zugferd", "xrechnung"]),
        r#""zugferd""#,
    ),
    k("billing", "billingTime", Kind::Clock, r#""06:00""#),
    k("sepa", "creditorIdentifier", Kind::CreditorId, r#""""#),
    k(
        "sepa",
        "bankAccount",
        Kind::Object(SEPA_BANK),
        r#"{"iban":"","bic":"","accountHolder":""}"#,
    ),
    k("sepa", "batchBooking", Kind::Bool, "true"),
    k("sepa", "splitPayments", Kind::Bool, "false"),
    k(
        "sepa",
        "remittanceTemplate",
        Kind::Text { max: 140 },
        r#""{{ invoice.documentId }}""#,
    ),
    k("sepa", "leadDays", Kind::Integer { min: 0, max: 30 }, "1"),
    k("dunning", "enabled", Kind::Bool, "true"),
    k("accounting", "useDebitorAccounts", Kind::Bool, "false"),
    k(
        "accounting",
        "datevConsultantNumber",
        Kind::Text { max: 7 },
        r#""""#,
    ),
    k(
        "accounting",
        "datevClientNumber",
        Kind::Text { max: 5 },
        r#""""#,
    ),
    k(
        "accounting",
        "chart",
        Kind::Choice(&["SKR03", "SKR04"]),
        r#""SKR03""#,
    ),
    k("mail", "smtpHost", T255, r#""""#),
    k(
        "mail",
        "smtpPort",
        Kind::Integer { min: 1, max: 65535 },
        "587",
    ),
    k("mail", "smtpUser", T255, r#""""#),
    k("mail", "smtpPassword", Kind::Secret, "null"),
    k("mail", "senderName", T255, r#""""#),
    k("mail", "senderAddress", EMAIL, r#""""#),
];

pub const CONTEXTS: &[&str] = &[
    "organization",
    "billing",
    "sepa",
    "dunning",
    "accounting",
    "mail",
];

/// A customer-level key: `inherits` names the tenant key it falls back to.
pub struct CustomerKey {
    pub context: &'static str,
    pub key: &'static str,
    pub kind: Kind,
    pub inherits: bool,
    /// Used when the key does not inherit.
    pub default: &'static str,
}

const fn ck(
    context: &'static str,
    key: &'static str,
    kind: Kind,
    inherits: bool,
    default: &'static str,
) -> CustomerKey {
    CustomerKey {
        context,
        key,
        kind,
        inherits,
        default,
    }
}

pub const CUSTOMER_KEYS: &[CustomerKey] = &[
    ck(
        "billing",
        "defaultDueDays",
        Kind::Integer { min: 0, max: 365 },
        true,
        "14",
    ),
    ck(
        "billing",
        "einvoiceFormat",
        Kind::Choice(&["zugferd", "xrechnung"]),
        true,
        r#""zugferd""#,
    ),
    ck(
        "billing",
        "leitwegId",
        Kind::NullableText { max: 46 },
        false,
        "null",
    ),
    ck("billing", "manualApproval", Kind::Bool, true, "false"),
    ck("dunning", "enabled", Kind::Bool, true, "true"),
    ck("dunning", "feesEnabled", Kind::Bool, false, "true"),
];

pub const CUSTOMER_CONTEXTS: &[&str] = &["billing", "dunning"];

pub const SECRET_MASK: &str = "**********";

pub fn tenant_key(context: &str, key: &str) -> Option<&'static Key> {
    TENANT_KEYS
        .iter()
        .find(|k| k.context == context && k.key == key)
}

pub fn default_value(json_text: &str) -> Value {
    serde_json::from_str(json_text).unwrap_or(Value::Null)
}

/// The tenant's stored value of one key, if it set one.
pub fn stored(
    conn: &Connection,
    tenant: &str,
    context: &str,
    key: &str,
) -> ApiResult<Option<Value>> {
    let text: Option<String> = conn
        .prepare_cached(
            "SELECT value FROM settings WHERE tenant_id = :t AND context = :c AND key = :k",
        )?
        .query_row(
            named_params! {":t": tenant, ":c": context, ":k": key},
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
}

/// The effective tenant value of one key (stored or default).
pub fn get(conn: &Connection, tenant: &str, context: &str, key: &str) -> ApiResult<Value> {
    if let Some(v) = stored(conn, tenant, context, key)? {
        return Ok(v);
    }
    Ok(tenant_key(context, key)
        .map(|k| default_value(k.default))
        .unwrap_or(Value::Null))
}

/// The effective tenant values of several keys (stored or default), in the order asked, in one
/// statement: a customer create needs three of them, and a statement per key costs more than
/// the lookups themselves. The SQL text is the same for any list, so it is prepared once.
pub fn values<const N: usize>(
    conn: &Connection,
    tenant: &str,
    keys: [(&str, &str); N],
) -> ApiResult<[Value; N]> {
    let mut found: [Option<Value>; N] = std::array::from_fn(|_| None);
    let mut stmt = conn.prepare_cached(
        "SELECT k.key, s.value FROM json_each(:keys) k
         JOIN settings s ON s.tenant_id = :t AND s.context = k.value ->> 0 AND s.key = k.value ->> 1",
    )?;
    let wanted = serde_json::to_string(keys.as_slice())?;
    let mut rows = stmt.query(named_params! {":keys": wanted, ":t": tenant})?;
    while let Some(r) = rows.next()? {
        let (i, text): (i64, String) = (r.get(0)?, r.get(1)?);
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| found.get_mut(i)) {
            *slot = Some(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
    }
    Ok(std::array::from_fn(|i| {
        found[i].take().unwrap_or_else(|| {
            let (context, key) = keys[i];
            tenant_key(context, key)
                .map(|k| default_value(k.default))
                .unwrap_or(Value::Null)
        })
    }))
}

/// Every key of a context with defaults filled in; secrets masked.
pub fn context(conn: &Connection, tenant: &str, context: &str) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    for k in TENANT_KEYS.iter().filter(|k| k.context == context) {
        let mut v = get(conn, tenant, context, k.key)?;
        if matches!(k.kind, Kind::Secret) {
            v = if v.is_null() {
                Value::Null
            } else {
                json!(SECRET_MASK)
            };
        }
        out.insert(k.key.to_string(), v);
    }
    Ok(out)
}

/// Stores one tenant value (already checked).
pub fn put(
    conn: &Connection,
    tenant: &str,
    context: &str,
    key: &str,
    value: &Value,
) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO settings (tenant_id, context, key, value) VALUES (:t, :c, :k, :v)
         ON CONFLICT (tenant_id, context, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(named_params! {":t": tenant, ":c": context, ":k": key, ":v": value.to_string()})?;
    Ok(())
}

/// Deletes the tenant's value of one key, so the key reads as its system default again.
pub fn remove(conn: &Connection, tenant: &str, context: &str, key: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM settings WHERE tenant_id = :t AND context = :c AND key = :k")?
        .execute(named_params! {":t": tenant, ":c": context, ":k": key})?;
    Ok(())
}

/// Where an effective customer setting comes from (05 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Set on the customer itself; no longer follows the organisation.
    Customer,
    /// The tenant stored a value for the inherited key.
    Organization,
    /// Nobody set it: the system default.
    Default,
}

pub fn customer_key(context: &str, key: &str) -> Option<&'static CustomerKey> {
    CUSTOMER_KEYS
        .iter()
        .find(|k| k.context == context && k.key == key)
}

/// The customer's own value of one key, if it has one.
pub fn customer_stored(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    context: &str,
    key: &str,
) -> ApiResult<Option<Value>> {
    let text: Option<String> = conn
        .prepare_cached(
            "SELECT value FROM customer_settings
             WHERE tenant_id = :t AND customer_id = :cu AND context = :c AND key = :k",
        )?
        .query_row(
            named_params! {":t": tenant, ":cu": customer, ":c": context, ":k": key},
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
}

/// Every customer's own value of one key (a billing run reads the key for all of them).
pub fn customer_values(
    conn: &Connection,
    tenant: &str,
    context: &str,
    key: &str,
) -> ApiResult<HashMap<String, Value>> {
    let rows = conn
        .prepare_cached(
            "SELECT customer_id, value FROM customer_settings
             WHERE tenant_id = :t AND context = :c AND key = :k",
        )?
        .query_map(
            named_params! {":t": tenant, ":c": context, ":k": key},
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?
        .map(|row| {
            let (customer, text) = row?;
            Ok((customer, serde_json::from_str(&text).unwrap_or(Value::Null)))
        })
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(rows)
}

/// The value that applies to one customer, and where it comes from: the customer's own value,
/// else (for inherited keys) the tenant's stored value, else the default. Billing code reads
/// customer-level settings (due days, e-invoice format, dunning) through this.
pub fn customer_effective(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    context: &str,
    key: &str,
) -> ApiResult<(Value, Source)> {
    if let Some(v) = customer_stored(conn, tenant, customer, context, key)? {
        return Ok((v, Source::Customer));
    }
    customer_fallback(conn, tenant, context, key)
}

/// What applies to a customer without a value of its own (`customer_effective`).
pub fn customer_fallback(
    conn: &Connection,
    tenant: &str,
    context: &str,
    key: &str,
) -> ApiResult<(Value, Source)> {
    let Some(ck) = customer_key(context, key) else {
        return Ok((Value::Null, Source::Default));
    };
    if !ck.inherits {
        return Ok((default_value(ck.default), Source::Default));
    }
    if let Some(v) = stored(conn, tenant, context, key)? {
        return Ok((v, Source::Organization));
    }
    // The tenant key's default is the one its own GET shows; both tables agree (tested below).
    let default = tenant_key(context, key).map_or(ck.default, |k| k.default);
    Ok((default_value(default), Source::Default))
}

/// The tenant's time zone (`organization.timeZone`).
pub fn time_zone(conn: &Connection, tenant: &str) -> ApiResult<chrono_tz::Tz> {
    Ok(time_zone_of(&get(
        conn,
        tenant,
        "organization",
        "timeZone",
    )?))
}

/// The zone a stored `organization.timeZone` value names (Europe/Berlin if it names none).
pub fn time_zone_of(value: &Value) -> chrono_tz::Tz {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(chrono_tz::Europe::Berlin)
}

/// Today's calendar date in the tenant's time zone.
pub fn today(conn: &Connection, tenant: &str) -> ApiResult<NaiveDate> {
    Ok(today_in(time_zone(conn, tenant)?))
}

/// Today's calendar date in `zone`.
pub fn today_in(zone: chrono_tz::Tz) -> NaiveDate {
    Utc::now().with_timezone(&zone).date_naive()
}

/// The tenant's default currency (`organization.defaultCurrency`).
pub fn default_currency(conn: &Connection, tenant: &str) -> ApiResult<String> {
    Ok(currency_of(&get(
        conn,
        tenant,
        "organization",
        "defaultCurrency",
    )?))
}

/// The currency a stored `organization.defaultCurrency` value names (EUR if it names none).
pub fn currency_of(value: &Value) -> String {
    value.as_str().unwrap_or("EUR").to_string()
}

#[cfg(test)]
mod tests;
