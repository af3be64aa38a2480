//! Billing group shapes (reference 08 §4.2): the read model and the create body, every
//! violation collected at once.

use super::align::Rule;
use crate::error::ApiResult;
use crate::http::input::Input;
use serde::Serialize;

pub const TYPES: &[&str] = &[
    "start_of_month",
    "end_of_month",
    "start_of_year",
    "end_of_year",
    "custom",
];

/// A billing group as the API shows it. `customer` is write-only in the reference; kontor
/// shows it too (kontor), since the group is meaningless without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingGroup {
    pub id: String,
    pub customer: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub custom_day: Option<u32>,
    pub custom_month: Option<u32>,
    pub subscriptions: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl BillingGroup {
    /// The alignment rule; `None` only for a row the schema's CHECKs should have refused.
    pub fn rule(&self) -> Option<Rule> {
        Rule::of(&self.kind, self.custom_day, self.custom_month)
    }
}

/// A checked create body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingGroupData {
    pub customer_id: String,
    pub name: String,
    pub kind: String,
    pub custom_day: Option<u32>,
    pub custom_month: Option<u32>,
}

/// Read-only keys of the read model; sent back, they are ignored.
const READ_ONLY: &[&str] = &["id", "subscriptions", "createdAt", "updatedAt"];
const WRITABLE: &[&str] = &["customer", "name", "type", "customDay", "customMonth"];

/// An integer field within `range`; a violation names the key otherwise.
fn bounded(input: &mut Input, key: &str, min: i64, max: i64) -> Option<u32> {
    let v = input.int(key).value()?;
    match u32::try_from(v) {
        Ok(n) if (min..=max).contains(&v) => Some(n),
        _ => {
            input.violation(
                key,
                &format!("This value should be between {min} and {max}."),
                "not_in_range",
            );
            None
        }
    }
}

impl BillingGroupData {
    /// Checks a create body; `customer_exists` says whether the id is one of the tenant's
    /// customers (an unknown one is a 422 on `customer`, README §9).
    pub fn create(
        mut input: Input,
        customer_exists: &dyn Fn(&str) -> ApiResult<bool>,
    ) -> ApiResult<BillingGroupData> {
        let allowed: Vec<&str> = WRITABLE.iter().chain(READ_ONLY).copied().collect();
        input.reject_unknown(&allowed);
        let customer = input
            .raw("customer")
            .and_then(crate::resources::measurements::model::reference);
        match (&customer, input.raw("customer")) {
            (None, None) | (None, Some(serde_json::Value::Null)) => {
                input.violation("customer", "This value should not be blank.", "not_blank")
            }
            (None, Some(_)) => input.violation(
                "customer",
                "This value should be a customer id.",
                "invalid_type",
            ),
            (Some(id), _) => {
                if !customer_exists(id)? {
                    input.violation("customer", "This customer does not exist.", "not_found");
                }
            }
        }
        let name = input.required_string("name");
        if let Some(n) = &name {
            input.check_len("name", n, 1, 255);
        }
        let kind = input.required_string("type");
        let kind_ok = kind
            .as_deref()
            .is_some_and(|k| input.check_one_of("type", k, TYPES));
        let custom_day = bounded(&mut input, "customDay", 1, 31);
        let custom_month = bounded(&mut input, "customMonth", 1, 12);
        let custom = kind_ok && kind.as_deref() == Some("custom");
        if custom
            && custom_day.is_none()
            && matches!(input.raw("customDay"), None | Some(serde_json::Value::Null))
        {
            input.violation(
                "customDay",
                "This value should not be blank for a custom billing group.",
                "not_blank",
            );
        }
        if kind_ok && !custom {
            // Only a custom group has a day of its own; a value here would be silently
            // meaningless, so it is refused (kontor). `null` (a read model sent back) is fine.
            for key in ["customDay", "customMonth"] {
                if matches!(input.raw(key), Some(v) if !v.is_null()) {
                    input.violation(
                        key,
                        "This value may only be set for a custom billing group.",
                        "not_allowed",
                    );
                }
            }
        }
        input.finish()?;
        Ok(BillingGroupData {
            customer_id: customer.unwrap_or_default(),
            name: name.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            custom_day: if custom { custom_day } else { None },
            custom_month: if custom { custom_month } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn check(body: &str) -> Result<BillingGroupData, Vec<String>> {
        let exists = |id: &str| Ok(id == "c1");
        BillingGroupData::create(Input::parse(body.as_bytes()).unwrap(), &exists).map_err(|e| {
            match e {
                ApiError::Validation(v) => v.into_iter().map(|v| v.property_path).collect(),
                other => vec![other.to_string()],
            }
        })
    }

    #[test]
    fn valid_bodies() {
        let g = check(r#"{"customer":"c1","name":"Monthly","type":"end_of_month"}"#).unwrap();
        assert_eq!((g.kind.as_str(), g.custom_day), ("end_of_month", None));
        let g = check(r#"{"customer":"/customers/c1","name":"15th","type":"custom","customDay":15,"customMonth":null}"#).unwrap();
        assert_eq!(
            (g.customer_id.as_str(), g.custom_day, g.custom_month),
            ("c1", Some(15), None)
        );
    }

    #[test]
    fn every_violation_at_once() {
        assert_eq!(
            check(r#"{"customer":"nope","name":"","type":"weekly","customDay":0,"customMonth":13,"x":1}"#)
                .unwrap_err(),
            vec!["x", "customer", "name", "type", "customDay", "customMonth"]
        );
        assert_eq!(check("{}").unwrap_err(), vec!["customer", "name", "type"]);
        assert_eq!(
            check(r#"{"customer":"c1","name":"a","type":"custom"}"#).unwrap_err(),
            vec!["customDay"]
        );
        assert_eq!(
            check(r#"{"customer":"c1","name":"a","type":"start_of_month","customDay":3}"#)
                .unwrap_err(),
            vec!["customDay"]
        );
    }
}
