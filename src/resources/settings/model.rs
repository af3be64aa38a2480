//! Tenant settings patch: every key of the body checked against its kind, all violations at once.

use crate::domain::settings::{self, Kind, SECRET_MASK};
use crate::error::ApiResult;
use crate::http::input::Input;
use serde_json::{Map, Value};

/// One validated change of a merge patch.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Store this (checked, normalised) value.
    Set(&'static str, Value),
    /// Forget the stored value: the key reads as its default again.
    Reset(&'static str),
}

/// Reads a merge patch for `context`. `current` holds the effective, unmasked values of the
/// context; partial objects are merged onto them.
pub fn parse_patch(
    mut input: Input,
    context: &str,
    current: &Map<String, Value>,
) -> ApiResult<Vec<Change>> {
    let sent: Vec<(String, Value)> = input
        .keys()
        .map(|k| (k.clone(), input.raw(k).cloned().unwrap_or(Value::Null)))
        .collect();
    let mut changes = Vec::new();
    for (name, raw) in sent {
        let Some(key) = settings::tenant_key(context, &name) else {
            input.violation(
                &name,
                &format!("Unknown setting '{name}' in context '{context}'."),
                "unknown_field",
            );
            continue;
        };
        let value = match (key.kind, raw) {
            (_, Value::Null) => {
                changes.push(Change::Reset(key.key));
                continue;
            }
            // The mask is what GET shows: sending it back means "unchanged".
            (Kind::Secret, Value::String(s)) if s == SECRET_MASK => continue,
            (Kind::Object(_), Value::Object(patch)) => {
                merge_object(key.default, current.get(key.key), patch)
            }
            (_, v) => v,
        };
        let value = settings::normalize(key.kind, value);
        match settings::violation(key.kind, &value) {
            Some((code, message)) => input.violation(&name, &message, code),
            None => changes.push(Change::Set(key.key, value)),
        }
    }
    input.finish()?;
    Ok(changes)
}

/// Default object, overlaid with the current value, overlaid with the patch; a sub-key sent as
/// `null` goes back to its default. Unknown sub-keys are kept so the check can name them.
fn merge_object(default: &str, current: Option<&Value>, patch: Map<String, Value>) -> Value {
    let default = settings::default_value(default);
    let mut merged = default.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(cur)) = current {
        for (k, v) in cur {
            merged.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in patch {
        let v = if v.is_null() {
            default.get(&k).cloned().unwrap_or(Value::Null)
        } else {
            v
        };
        merged.insert(k, v);
    }
    Value::Object(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use serde_json::json;

    fn parse(body: Value, context: &str, current: Value) -> ApiResult<Vec<Change>> {
        let Value::Object(map) = body else {
            panic!("object")
        };
        let Value::Object(cur) = current else {
            panic!("object")
        };
        parse_patch(Input::from_map(map), context, &cur)
    }

    #[test]
    fn null_resets_and_mask_is_ignored() {
        let changes = parse(
            json!({"smtpPort": null, "smtpPassword": "**********", "smtpHost": "mx"}),
            "mail",
            json!({}),
        )
        .unwrap();
        assert_eq!(
            changes,
            vec![
                Change::Set("smtpHost", json!("mx")),
                Change::Reset("smtpPort")
            ]
        );
    }

    #[test]
    fn objects_merge_onto_the_current_value() {
        let current = json!({"bankAccount": {"iban": "DE89370400440532013000", "bic": "COBADEFF",
            "bankName": "Commerzbank", "accountHolder": "Acme"}});
        let changes = parse(
            json!({"bankAccount": {"bankName": "Other Bank", "bic": null}}),
            "organization",
            current,
        )
        .unwrap();
        assert_eq!(
            changes,
            vec![Change::Set(
                "bankAccount",
                json!({"iban": "DE89370400440532013000", "bic": "", "bankName": "Other Bank",
                    "accountHolder": "Acme"})
            )]
        );
    }

    #[test]
    fn names_every_bad_key() {
        let err = parse(
            json!({"defaultDueDays": -1, "giroCode": "yes", "nope": 1, "billingTime": "06:00"}),
            "billing",
            json!({}),
        )
        .unwrap_err();
        let ApiError::Validation(v) = err else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(paths, vec!["defaultDueDays", "giroCode", "nope"]);
    }
}
