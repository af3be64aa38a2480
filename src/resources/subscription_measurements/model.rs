//! Measurement value shapes (reference 08 §3.2, §3.4): the read model and one checked entry of
//! a single or batch body. Checks that need no database happen here; references are resolved
//! in `resolve::Resolver`.

use super::parse::{Field, RawEntry};
use crate::domain::money::parse_decimal;
use crate::error::Violation;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// A stored value as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeasurementValue {
    pub id: String,
    pub subscription_item: String,
    pub measurement: String,
    /// An exact JSON number.
    pub quantity: Value,
    pub measured_at: String,
    pub tenant_id: String,
    /// The event id sent with the value (`count_unique`), or null (kontor).
    pub event_id: Option<String>,
}

/// What a value refers to; strings borrowed from the request body where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    /// `subscriptionItem`, with the optional `measurementCode` / `subscription` it must match.
    Item {
        item: Cow<'a, str>,
        code: Option<Cow<'a, str>>,
        subscription: Option<Cow<'a, str>>,
    },
    /// `measurementCode` with `subscription` (id or number): every item using the code.
    Code {
        code: Cow<'a, str>,
        subscription: Cow<'a, str>,
    },
}

/// One value entry that passed the checks without the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Position in `values` (for violation paths); `None`: a single value's body.
    pub index: Option<usize>,
    pub quantity: Decimal,
    /// Unix milliseconds UTC; `None`: now.
    pub measured_at: Option<i64>,
    pub event_id: Option<Cow<'a, str>>,
    pub target: Target<'a>,
}

/// The violation path of `key` in entry `index` (`values[3].quantity`, or `quantity`). Paths
/// are only built for violations, never per good value.
pub fn path(index: Option<usize>, key: &str) -> String {
    match index {
        Some(i) => format!("values[{i}].{key}"),
        None => key.to_string(),
    }
}

/// Checks one parsed entry; violations are pushed with its path. Hand-rolled over the typed
/// parse (`parse::RawEntry`) rather than through `Input`, so the batch path copies nothing
/// per good value but what it stores.
pub fn check<'a>(
    raw: RawEntry<'a>,
    index: Option<usize>,
    out: &mut Vec<Violation>,
) -> Option<Entry<'a>> {
    let before = out.len();
    let mut bad = |key: &str, message: &str, code: &str| {
        out.push(Violation::new(path(index, key), message, code));
    };
    for key in &raw.unknown {
        bad(key, "This field is not allowed.", "unknown_field");
    }
    let quantity = match &raw.quantity {
        None | Some(Field::Null) => {
            bad("quantity", "This value should not be blank.", "not_blank");
            None
        }
        Some(Field::Other) => {
            bad("quantity", "This value should be a number.", "invalid_type");
            None
        }
        Some(Field::Number(text) | Field::Str(text)) => match parse_decimal(text) {
            Err(e) => {
                bad("quantity", &e.message(), e.code());
                None
            }
            Ok(q) if q.is_sign_negative() && !q.is_zero() => {
                bad(
                    "quantity",
                    "This value should be greater than or equal to 0.",
                    "not_in_range",
                );
                None
            }
            Ok(q) => Some(q),
        },
    };
    let measured_at = match &raw.measured_at {
        None | Some(Field::Null) => None,
        Some(Field::Str(s)) => match crate::domain::time::parse(s) {
            Some(t) => Some(t.timestamp_millis()),
            None => {
                bad(
                    "measuredAt",
                    "This value is not a valid RFC 3339 date-time.",
                    "invalid_datetime",
                );
                None
            }
        },
        Some(_) => {
            bad(
                "measuredAt",
                "This value should be of type string.",
                "invalid_type",
            );
            None
        }
    };
    let mut text = |key: &str, field: Option<Field<'a>>, max: usize| -> Option<Cow<'a, str>> {
        match field {
            None | Some(Field::Null) => None,
            Some(Field::Str(s)) if !s.trim().is_empty() && s.chars().count() <= max => Some(s),
            Some(Field::Str(_)) => {
                bad(
                    key,
                    &format!("This value should have 1 to {max} characters."),
                    "invalid_length",
                );
                None
            }
            Some(_) => {
                bad(key, "This value should be of type string.", "invalid_type");
                None
            }
        }
    };
    let has_subscription = raw.subscription.is_some();
    let has_item_or_code = raw.subscription_item.is_some() || raw.measurement_code.is_some();
    let event_id = text("id", raw.id, 255);
    let item = text("subscriptionItem", raw.subscription_item, 255);
    let code = text("measurementCode", raw.measurement_code, 255);
    let subscription = text("subscription", raw.subscription, 255);
    let target = match (item, code, subscription) {
        (Some(item), code, subscription) => Some(Target::Item {
            item,
            code,
            subscription,
        }),
        (None, Some(code), Some(subscription)) => Some(Target::Code { code, subscription }),
        (None, Some(_), None) => {
            if !has_subscription {
                bad(
                    "subscription",
                    "A subscription id or number is required with measurementCode.",
                    "not_blank",
                );
            }
            None
        }
        (None, None, _) => {
            if !has_item_or_code {
                bad(
                    "subscriptionItem",
                    "Either subscriptionItem or measurementCode (with subscription) is required.",
                    "not_blank",
                );
            }
            None
        }
    };
    if out.len() > before {
        return None;
    }
    Some(Entry {
        index,
        quantity: quantity?,
        measured_at,
        event_id,
        target: target?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<Entry<'_>, Vec<String>> {
        let raw = super::super::parse::body(body.as_bytes()).unwrap().unwrap();
        let mut out = vec![];
        super::check(raw, Some(2), &mut out)
            .ok_or_else(|| out.into_iter().map(|v| v.property_path).collect())
    }

    #[test]
    fn valid_entries() {
        let e = check(r#"{"quantity":"10.239","subscriptionItem":"i1","id":"ev"}"#).unwrap();
        assert_eq!(e.quantity, Decimal::new(10239, 3));
        assert_eq!(e.event_id.as_deref(), Some("ev"));
        let e = check(
            r#"{"quantity":0.1,"measuredAt":"2026-01-31T10:00:00+01:00","measurementCode":"cpu","subscription":"S-1"}"#,
        )
        .unwrap();
        assert_eq!(e.quantity, Decimal::new(1, 1));
        assert_eq!(e.measured_at, Some(1_769_850_000_000));
        assert_eq!(
            e.target,
            Target::Code {
                code: "cpu".into(),
                subscription: "S-1".into()
            }
        );
    }

    #[test]
    fn every_violation_with_its_path() {
        assert_eq!(
            check(r#"{"quantity":-1,"measuredAt":"yesterday","x":1}"#).unwrap_err(),
            vec![
                "values[2].x",
                "values[2].quantity",
                "values[2].measuredAt",
                "values[2].subscriptionItem"
            ]
        );
        assert_eq!(
            check(r#"{"quantity":1e3,"measurementCode":"cpu"}"#).unwrap_err(),
            vec!["values[2].quantity", "values[2].subscription"]
        );
        assert_eq!(
            check(r#"{"quantity":true,"subscriptionItem":""}"#).unwrap_err(),
            vec!["values[2].quantity", "values[2].subscriptionItem"]
        );
        assert!(check(r#"{"quantity":"-0","subscriptionItem":"i"}"#).is_ok());
    }
}
