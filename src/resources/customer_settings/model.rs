//! Customer settings shapes: `{key: {value, source}}` for reads, validated changes for PATCH.

use crate::domain::settings::{self, Source};
use crate::error::ApiResult;
use crate::http::input::Input;
use serde::Serialize;
use serde_json::Value;

/// One key as 05 §4.3 shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effective {
    pub value: Value,
    pub source: Source,
}

/// One validated change of a merge patch.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Set(&'static str, Value),
    /// Drop the customer's own value: the key inherits again.
    Remove(&'static str),
}

/// Reads a merge patch for a customer context, collecting every violation.
pub fn parse_patch(mut input: Input, context: &str) -> ApiResult<Vec<Change>> {
    let sent: Vec<(String, Value)> = input
        .keys()
        .map(|k| (k.clone(), input.raw(k).cloned().unwrap_or(Value::Null)))
        .collect();
    let mut changes = Vec::new();
    for (name, value) in sent {
        let Some(key) = settings::customer_key(context, &name) else {
            input.violation(
                &name,
                &format!("Unknown customer setting '{name}' in context '{context}'."),
                "unknown_field",
            );
            continue;
        };
        if value.is_null() {
            changes.push(Change::Remove(key.key));
            continue;
        }
        match settings::violation(key.kind, &value) {
            Some((code, message)) => input.violation(&name, &message, code),
            None => changes.push(Change::Set(key.key, value)),
        }
    }
    input.finish()?;
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use serde_json::json;

    fn parse(body: Value, context: &str) -> ApiResult<Vec<Change>> {
        let Value::Object(map) = body else {
            panic!("object")
        };
        parse_patch(Input::from_map(map), context)
    }

    #[test]
    fn sets_and_removes() {
        let changes = parse(json!({"defaultDueDays": 30, "leitwegId": null}), "billing").unwrap();
        assert_eq!(
            changes,
            vec![
                Change::Set("defaultDueDays", json!(30)),
                Change::Remove("leitwegId")
            ]
        );
    }

    #[test]
    fn names_every_bad_key() {
        let err = parse(
            json!({"enabled": 1, "feesEnabled": "no", "defaultDueDays": 3}),
            "dunning",
        )
        .unwrap_err();
        let ApiError::Validation(v) = err else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(paths, vec!["defaultDueDays", "enabled", "feesEnabled"]);
    }
}
