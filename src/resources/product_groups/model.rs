//! Product group shapes (reference 08 §5.2): the stored group and its tiers ("memberships"),
//! the request body read field by field, and the read shape.

use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;
use serde_json::Value;

pub const TIMINGS: &[&str] = &["immediately", "end_of_period"];
pub const CREDIT_TYPES: &[&str] = &["pro_rata", "full", "last_invoiced", "none"];

/// One tier of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub id: String,
    pub position: i64,
    pub product: String,
    /// Price plan ids of the tier, in the order given.
    pub price_plans: Vec<String>,
    pub quantity_change_allowed: bool,
    pub change_timing: String,
    pub credit_type: String,
    /// The group the tier belongs to.
    pub product_group: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductGroup {
    pub id: String,
    pub name: String,
    pub same_billing_interval_only: bool,
    /// Ordered by `position`, lowest tier first.
    pub memberships: Vec<Membership>,
    pub created_at: String,
    pub updated_at: String,
}

/// A membership as sent (create / replace); ids are checked against the tenant by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipInput {
    pub position: i64,
    pub product: String,
    pub price_plans: Vec<String>,
    pub quantity_change_allowed: bool,
    pub change_timing: String,
    pub credit_type: String,
}

/// A group body: `name`, `sameBillingIntervalOnly`, `memberships`. On update (`partial`) every
/// key is optional and `memberships`, when sent, replaces the whole list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupInput {
    pub name: Option<String>,
    pub same_billing_interval_only: Option<bool>,
    pub memberships: Option<Vec<MembershipInput>>,
}

fn strings(input: &mut Input, key: &str) -> Vec<String> {
    match input.array(key) {
        Field::Value(items) => {
            let ids: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if ids.len() != items.len() || ids.is_empty() {
                input.violation(
                    key,
                    "This value should be a non-empty list of ids.",
                    "invalid_type",
                );
            }
            ids
        }
        _ => {
            input.violation(key, "This value should not be blank.", "not_blank");
            vec![]
        }
    }
}

fn membership(input: &mut Input) -> Option<MembershipInput> {
    input.reject_unknown(&[
        "position",
        "product",
        "pricePlans",
        "quantityChangeAllowed",
        "changeTiming",
        "creditType",
    ]);
    let position = input.int("position").value();
    if position.is_none() {
        input.violation("position", "This value should not be blank.", "not_blank");
    }
    let product = input.required_string("product");
    let price_plans = strings(input, "pricePlans");
    let quantity_change_allowed = input.bool("quantityChangeAllowed").value().unwrap_or(false);
    let change_timing = input
        .string("changeTiming")
        .value()
        .unwrap_or_else(|| "immediately".into());
    input.check_one_of("changeTiming", &change_timing, TIMINGS);
    let credit_type = input
        .string("creditType")
        .value()
        .unwrap_or_else(|| "pro_rata".into());
    input.check_one_of("creditType", &credit_type, CREDIT_TYPES);
    Some(MembershipInput {
        position: position?,
        product: product?,
        price_plans,
        quantity_change_allowed,
        change_timing,
        credit_type,
    })
}

impl GroupInput {
    /// Reads a body; 422 naming every invalid field (paths like `memberships[1].creditType`).
    pub fn read(mut input: Input, partial: bool) -> ApiResult<GroupInput> {
        input.reject_unknown(&["name", "sameBillingIntervalOnly", "memberships"]);
        let name = match input.string("name") {
            Field::Value(n) => input.check_len("name", &n, 1, 255).then_some(n),
            _ if partial && !input.has("name") => None,
            _ => {
                input.violation("name", "This value should not be blank.", "not_blank");
                None
            }
        };
        let same = input.bool("sameBillingIntervalOnly").value();
        let memberships = match input.array("memberships") {
            Field::Value(items) => {
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    let path = format!("memberships[{i}]");
                    let Value::Object(map) = item else {
                        input.violation(
                            &path,
                            "This value should be of type object.",
                            "invalid_type",
                        );
                        continue;
                    };
                    let mut nested = Input::nested(map, &path);
                    let m = membership(&mut nested);
                    input.absorb(nested);
                    out.extend(m);
                }
                let mut positions: Vec<i64> = out.iter().map(|m| m.position).collect();
                positions.sort_unstable();
                positions.dedup();
                if positions.len() != out.len() {
                    input.violation(
                        "memberships",
                        "Positions must be unique.",
                        "duplicate_position",
                    );
                }
                Some(out)
            }
            _ if partial => None,
            _ => Some(vec![]),
        };
        input.finish()?;
        Ok(GroupInput {
            name,
            same_billing_interval_only: same,
            memberships,
        })
    }
}
