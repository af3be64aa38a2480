//! Measurement value shapes (reference 08 §3.2, §3.4): the read model and one checked entry of
//! a single or batch body. Checks that need no database happen here; references are resolved
//! in `store::Resolver`.

use crate::domain::money::parse_decimal;
use crate::error::Violation;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

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

/// What a value refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `subscriptionItem`, with the optional `measurementCode` / `subscription` it must match.
    Item {
        item: String,
        code: Option<String>,
        subscription: Option<String>,
    },
    /// `measurementCode` with `subscription` (id or number): every item using the code.
    Code { code: String, subscription: String },
}

/// One value entry that passed the checks without the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub quantity: Decimal,
    /// Unix milliseconds UTC; `None`: now.
    pub measured_at: Option<i64>,
    pub event_id: Option<String>,
    pub target: Target,
}

const KEYS: &[&str] = &[
    "quantity",
    "measuredAt",
    "subscription",
    "subscriptionItem",
    "measurementCode",
    "id",
];

/// Reads one entry; violations are pushed with `prefix` (`""` or `"values[3]."`). Hand-rolled
/// rather than through `Input` so the batch path does not copy each object (250k values/s).
pub fn entry(map: &Map<String, Value>, prefix: &str, out: &mut Vec<Violation>) -> Option<Entry> {
    let before = out.len();
    let mut bad = |key: &str, message: &str, code: &str| {
        out.push(Violation::new(format!("{prefix}{key}"), message, code));
    };
    for key in map.keys() {
        if !KEYS.contains(&key.as_str()) {
            bad(key, "This field is not allowed.", "unknown_field");
        }
    }
    let quantity = match map.get("quantity") {
        None | Some(Value::Null) => {
            bad("quantity", "This value should not be blank.", "not_blank");
            None
        }
        Some(v) => {
            let text = match v {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            };
            match text.map(|t| parse_decimal(&t)) {
                None => {
                    bad("quantity", "This value should be a number.", "invalid_type");
                    None
                }
                Some(Err(e)) => {
                    bad("quantity", &e.message(), e.code());
                    None
                }
                Some(Ok(q)) if q.is_sign_negative() && !q.is_zero() => {
                    bad(
                        "quantity",
                        "This value should be greater than or equal to 0.",
                        "not_in_range",
                    );
                    None
                }
                Some(Ok(q)) => Some(q),
            }
        }
    };
    let measured_at = match map.get("measuredAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match crate::domain::time::parse(s) {
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
    let mut text = |key: &str, max: usize| -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => {
                Some(s.clone())
            }
            Some(Value::String(_)) => {
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
    let event_id = text("id", 255);
    let item = text("subscriptionItem", 255);
    let code = text("measurementCode", 255);
    let subscription = text("subscription", 255);
    let target = match (item, code, subscription) {
        (Some(item), code, subscription) => Some(Target::Item {
            item,
            code,
            subscription,
        }),
        (None, Some(code), Some(subscription)) => Some(Target::Code { code, subscription }),
        (None, Some(_), None) => {
            if !map.contains_key("subscription") {
                bad(
                    "subscription",
                    "A subscription id or number is required with measurementCode.",
                    "not_blank",
                );
            }
            None
        }
        (None, None, _) => {
            if !map.contains_key("subscriptionItem") && !map.contains_key("measurementCode") {
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
        quantity: quantity?,
        measured_at,
        event_id,
        target: target?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> Result<Entry, Vec<String>> {
        let Value::Object(map) = serde_json::from_str(body).unwrap() else {
            panic!("object")
        };
        let mut out = vec![];
        entry(&map, "values[2].", &mut out)
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
