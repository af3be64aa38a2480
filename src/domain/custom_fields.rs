//! Custom field types and the validation of `customFields` maps against the tenant's
//! definitions (reference 03 §7). The definitions are stored by `resources/custom_fields`;
//! `validate` is the one check every owner (customers, products, subscriptions) calls.
//!
//! kontor decisions (the reference is silent on them):
//! - `text` values have at most `MAX_TEXT_CHARS` characters; `list` values at most
//!   `MAX_LIST_ITEMS` strings of at most `MAX_ITEM_CHARS` characters each.
//! - `number` accepts a JSON number or a decimal string (`"12.50"`, dot, up to 10 fractional
//!   digits, as for money). Both are read as exact decimals; a JSON number is taken in its
//!   shortest round-trip notation, so clients that need more than 15 significant digits send
//!   a string.
//! - `multi_select` values must not repeat a choice.
//! - `null` means "no value": allowed for optional fields, refused for required ones.
//! - `required` fields must be present (non-null) in the map: owners pass the complete map a
//!   create or replace would store (an empty map when the body has no `customFields`).

use crate::domain::money::{parse_decimal, DecimalError, MAX_FRACTION_DIGITS};
use crate::error::{ApiResult, Violation};
use rusqlite::Connection;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::str::FromStr;

pub const MAX_TEXT_CHARS: usize = 1000;
pub const MAX_LIST_ITEMS: usize = 100;
pub const MAX_ITEM_CHARS: usize = 255;

/// The kinds of objects that carry custom fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Customer,
    Product,
    Subscription,
}

impl Entity {
    /// The literals of the API's `entity` field.
    pub const NAMES: &'static [&'static str] = &["customer", "product", "subscription"];

    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "customer" => Some(Entity::Customer),
            "product" => Some(Entity::Product),
            "subscription" => Some(Entity::Subscription),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Customer => "customer",
            Entity::Product => "product",
            Entity::Subscription => "subscription",
        }
    }
}

/// The value type of a definition (Fynn's types; the literals are kontor's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    Date,
    SingleSelect,
    MultiSelect,
    List,
    Checkbox,
}

impl FieldType {
    pub const NAMES: &'static [&'static str] = &[
        "text",
        "number",
        "date",
        "single_select",
        "multi_select",
        "list",
        "checkbox",
    ];

    pub fn parse(s: &str) -> Option<FieldType> {
        match s {
            "text" => Some(FieldType::Text),
            "number" => Some(FieldType::Number),
            "date" => Some(FieldType::Date),
            "single_select" => Some(FieldType::SingleSelect),
            "multi_select" => Some(FieldType::MultiSelect),
            "list" => Some(FieldType::List),
            "checkbox" => Some(FieldType::Checkbox),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::SingleSelect => "single_select",
            FieldType::MultiSelect => "multi_select",
            FieldType::List => "list",
            FieldType::Checkbox => "checkbox",
        }
    }

    /// Only the selection types have (and need) `choices`.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldType::SingleSelect | FieldType::MultiSelect)
    }
}

/// One option of a selection: `value` is what `customFields` stores, `label` what users see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// What validation needs to know about a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub field_type: FieldType,
    pub choices: Vec<Choice>,
    pub required: bool,
}

/// Violations (propertyPath `customFields.<key>`) for every key of `fields` that has no
/// definition for `entity` or whose value does not fit it, and for every required field
/// missing from `fields`.
pub fn validate(
    conn: &Connection,
    tenant: &str,
    entity: Entity,
    fields: &Map<String, Value>,
) -> ApiResult<Vec<Violation>> {
    let definitions = crate::resources::custom_fields::store::definitions(conn, tenant, entity)?;
    Ok(check(&definitions, fields))
}

/// `fields` without the keys whose definition was deleted: their values stay stored but are
/// hidden from responses (reference 03 §7.4). Owners call this on their read path.
pub fn visible(
    conn: &Connection,
    tenant: &str,
    entity: Entity,
    fields: &Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    if fields.is_empty() {
        return Ok(Map::new());
    }
    let definitions = crate::resources::custom_fields::store::definitions(conn, tenant, entity)?;
    Ok(fields
        .iter()
        .filter(|(k, _)| definitions.iter().any(|d| &d.name == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

/// The pure part of `validate`: checks `fields` against already loaded definitions.
pub fn check(definitions: &[Definition], fields: &Map<String, Value>) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (key, value) in fields {
        let path = format!("customFields.{key}");
        let Some(def) = definitions.iter().find(|d| &d.name == key) else {
            violations.push(Violation::new(
                path,
                format!(
                    "'{key}' is not a defined custom field; define it under /custom-fields first."
                ),
                "unknown_field",
            ));
            continue;
        };
        if let Err((message, code)) = check_value(def, value) {
            violations.push(Violation::new(path, message, code));
        }
    }
    for def in definitions.iter().filter(|d| d.required) {
        if !fields.contains_key(&def.name) {
            violations.push(Violation::new(
                format!("customFields.{}", def.name),
                "This value should not be blank.",
                "not_blank",
            ));
        }
    }
    violations
}

type Problem = (String, &'static str);

fn wrong_type(kind: &str) -> Problem {
    (
        format!("This value should be of type {kind}."),
        "invalid_type",
    )
}

/// Whether one value fits its definition; the error is (message, code).
fn check_value(def: &Definition, value: &Value) -> Result<(), Problem> {
    if value.is_null() {
        return if def.required {
            Err(("This value should not be blank.".into(), "not_blank"))
        } else {
            Ok(())
        };
    }
    match def.field_type {
        FieldType::Text => {
            let s = value.as_str().ok_or_else(|| wrong_type("string"))?;
            check_chars(s, MAX_TEXT_CHARS)
        }
        FieldType::Number => parse_number(value).map(|_| ()),
        FieldType::Date => {
            let s = value.as_str().ok_or_else(|| wrong_type("string"))?;
            if is_date(s) {
                Ok(())
            } else {
                Err((
                    "This value is not a valid date (YYYY-MM-DD).".into(),
                    "invalid_date",
                ))
            }
        }
        FieldType::SingleSelect => {
            let s = value.as_str().ok_or_else(|| wrong_type("string"))?;
            check_choice(def, s)
        }
        FieldType::MultiSelect => {
            let items = value.as_array().ok_or_else(|| wrong_type("array"))?;
            let mut seen: Vec<&str> = Vec::with_capacity(items.len());
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| wrong_type("array of strings"))?;
                check_choice(def, s)?;
                if seen.contains(&s) {
                    return Err((format!("The choice '{s}' is selected twice."), "duplicate"));
                }
                seen.push(s);
            }
            Ok(())
        }
        FieldType::List => {
            let items = value.as_array().ok_or_else(|| wrong_type("array"))?;
            if items.len() > MAX_LIST_ITEMS {
                return Err((
                    format!("This list may have at most {MAX_LIST_ITEMS} entries."),
                    "too_many",
                ));
            }
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| wrong_type("array of strings"))?;
                check_chars(s, MAX_ITEM_CHARS)?;
            }
            Ok(())
        }
        FieldType::Checkbox => value
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| wrong_type("boolean")),
    }
}

fn check_chars(s: &str, max: usize) -> Result<(), Problem> {
    if s.chars().count() > max {
        return Err((
            format!("This value is too long. It should have {max} characters or less."),
            "too_long",
        ));
    }
    Ok(())
}

fn check_choice(def: &Definition, s: &str) -> Result<(), Problem> {
    if def.choices.iter().any(|c| c.value == s) {
        return Ok(());
    }
    let values: Vec<&str> = def.choices.iter().map(|c| c.value.as_str()).collect();
    Err((
        format!(
            "The value '{s}' is not a valid choice. Choose one of: {}.",
            values.join(", ")
        ),
        "invalid_choice",
    ))
}

/// A `number` value as an exact decimal: a JSON number or a decimal string, with at most
/// `MAX_FRACTION_DIGITS` fractional digits.
pub fn parse_number(value: &Value) -> Result<Decimal, Problem> {
    let too_precise = || {
        let e = DecimalError::TooPrecise;
        (e.message(), e.code())
    };
    match value {
        Value::String(s) => parse_decimal(s).map_err(|e| (e.message(), e.code())),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(Decimal::from(i));
            }
            if let Some(u) = n.as_u64() {
                return Ok(Decimal::from(u));
            }
            // A fractional or huge number: serde_json prints it in its shortest round-trip
            // form ("0.1", "1e21"), which is parsed as a decimal, never as a float.
            let text = n.to_string();
            let parsed = if text.contains(['e', 'E']) {
                Decimal::from_scientific(&text)
            } else {
                Decimal::from_str(&text)
            };
            let d =
                parsed.map_err(|_| ("This number is too large.".to_string(), "out_of_range"))?;
            if d.normalize().scale() > MAX_FRACTION_DIGITS {
                return Err(too_precise());
            }
            Ok(d.normalize())
        }
        _ => Err(wrong_type("number or decimal string")),
    }
}

/// Exactly `YYYY-MM-DD` naming a real calendar day.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    match (digits(0..4), digits(5..7), digits(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            i32::try_from(y).is_ok_and(|y| chrono::NaiveDate::from_ymd_opt(y, m, d).is_some())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(name: &str, field_type: FieldType, required: bool) -> Definition {
        let choices = if field_type.has_choices() {
            ["red", "green", "blue"]
                .iter()
                .map(|v| Choice {
                    value: v.to_string(),
                    label: v.to_uppercase(),
                })
                .collect()
        } else {
            vec![]
        };
        Definition {
            name: name.into(),
            field_type,
            choices,
            required,
        }
    }

    /// The violation code for one value of one type, or None when it is valid.
    fn code(field_type: FieldType, value: Value) -> Option<String> {
        let defs = [def("f", field_type, false)];
        let mut map = Map::new();
        map.insert("f".into(), value);
        let v = check(&defs, &map);
        assert!(v.len() <= 1);
        v.first().map(|v| {
            assert_eq!(v.property_path, "customFields.f");
            v.code.clone()
        })
    }

    #[test]
    fn text() {
        assert_eq!(code(FieldType::Text, json!("hello")), None);
        assert_eq!(code(FieldType::Text, json!("")), None);
        assert_eq!(code(FieldType::Text, json!("ä".repeat(1000))), None);
        assert_eq!(
            code(FieldType::Text, json!("a".repeat(1001))).as_deref(),
            Some("too_long")
        );
        assert_eq!(
            code(FieldType::Text, json!(5)).as_deref(),
            Some("invalid_type")
        );
        assert_eq!(
            code(FieldType::Text, json!(["a"])).as_deref(),
            Some("invalid_type")
        );
    }

    #[test]
    fn number() {
        for ok in [
            json!(5),
            json!(-3),
            json!(1.5),
            json!("9.99"),
            json!("-0.0000000001"),
            json!(u64::MAX),
        ] {
            assert_eq!(code(FieldType::Number, ok.clone()), None, "{ok}");
        }
        assert_eq!(
            code(FieldType::Number, json!("1,5")).as_deref(),
            Some("invalid_decimal")
        );
        assert_eq!(
            code(FieldType::Number, json!("1e3")).as_deref(),
            Some("invalid_decimal")
        );
        assert_eq!(
            code(FieldType::Number, json!("0.00000000001")).as_deref(),
            Some("too_many_decimals")
        );
        assert_eq!(
            code(FieldType::Number, json!(0.00000000001)).as_deref(),
            Some("too_many_decimals")
        );
        assert_eq!(
            code(FieldType::Number, json!(1e300)).as_deref(),
            Some("out_of_range")
        );
        assert_eq!(
            code(FieldType::Number, json!(true)).as_deref(),
            Some("invalid_type")
        );
        // Exact: 0.1 + 0.2 as decimals is 0.3, which floats would not give.
        let sum = parse_number(&json!(0.1)).unwrap() + parse_number(&json!("0.2")).unwrap();
        assert_eq!(sum, Decimal::new(3, 1));
        assert_eq!(
            parse_number(&json!(1e21)).unwrap(),
            Decimal::from(10u64.pow(18)) * Decimal::from(1000)
        );
    }

    #[test]
    fn date() {
        assert_eq!(code(FieldType::Date, json!("2026-01-31")), None);
        assert_eq!(code(FieldType::Date, json!("2024-02-29")), None);
        for bad in [
            "2025-02-29",
            "2026-1-31",
            "2026-13-01",
            "31.01.2026",
            "2026-01-31T00:00:00Z",
            "+026-01-01",
            "",
        ] {
            assert_eq!(
                code(FieldType::Date, json!(bad)).as_deref(),
                Some("invalid_date"),
                "{bad}"
            );
        }
        assert_eq!(
            code(FieldType::Date, json!(20260131)).as_deref(),
            Some("invalid_type")
        );
    }

    #[test]
    fn single_select() {
        assert_eq!(code(FieldType::SingleSelect, json!("red")), None);
        // The label is not the stored value.
        assert_eq!(
            code(FieldType::SingleSelect, json!("RED")).as_deref(),
            Some("invalid_choice")
        );
        assert_eq!(
            code(FieldType::SingleSelect, json!(["red"])).as_deref(),
            Some("invalid_type")
        );
    }

    #[test]
    fn multi_select() {
        assert_eq!(code(FieldType::MultiSelect, json!(["red", "blue"])), None);
        assert_eq!(code(FieldType::MultiSelect, json!([])), None);
        assert_eq!(
            code(FieldType::MultiSelect, json!(["red", "pink"])).as_deref(),
            Some("invalid_choice")
        );
        assert_eq!(
            code(FieldType::MultiSelect, json!(["red", "red"])).as_deref(),
            Some("duplicate")
        );
        assert_eq!(
            code(FieldType::MultiSelect, json!("red")).as_deref(),
            Some("invalid_type")
        );
        assert_eq!(
            code(FieldType::MultiSelect, json!(["red", 1])).as_deref(),
            Some("invalid_type")
        );
    }

    #[test]
    fn list() {
        assert_eq!(code(FieldType::List, json!(["a", "b", "a"])), None);
        assert_eq!(code(FieldType::List, json!([])), None);
        assert_eq!(
            code(FieldType::List, json!(["a", 2])).as_deref(),
            Some("invalid_type")
        );
        assert_eq!(
            code(FieldType::List, json!("a")).as_deref(),
            Some("invalid_type")
        );
        assert_eq!(
            code(FieldType::List, json!(["x".repeat(256)])).as_deref(),
            Some("too_long")
        );
        let many: Vec<String> = (0..=MAX_LIST_ITEMS).map(|i| i.to_string()).collect();
        assert_eq!(
            code(FieldType::List, json!(many)).as_deref(),
            Some("too_many")
        );
    }

    #[test]
    fn checkbox() {
        assert_eq!(code(FieldType::Checkbox, json!(true)), None);
        assert_eq!(code(FieldType::Checkbox, json!(false)), None);
        assert_eq!(
            code(FieldType::Checkbox, json!("true")).as_deref(),
            Some("invalid_type")
        );
        assert_eq!(
            code(FieldType::Checkbox, json!(1)).as_deref(),
            Some("invalid_type")
        );
    }

    #[test]
    fn unknown_keys_required_fields_and_null() {
        let defs = [
            def("tier", FieldType::SingleSelect, true),
            def("note", FieldType::Text, false),
            def("vip", FieldType::Checkbox, true),
        ];
        let map = json!({"note": null, "nope": 1, "vip": null});
        let v = check(&defs, map.as_object().unwrap());
        let got: Vec<_> = v
            .iter()
            .map(|v| (v.property_path.as_str(), v.code.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("customFields.nope", "unknown_field"),
                ("customFields.vip", "not_blank"),
                ("customFields.tier", "not_blank"),
            ]
        );
        assert!(check(&[], &Map::new()).is_empty());
    }

    #[test]
    fn literals_round_trip() {
        for name in FieldType::NAMES {
            assert_eq!(FieldType::parse(name).map(FieldType::as_str), Some(*name));
        }
        for name in Entity::NAMES {
            assert_eq!(Entity::parse(name).map(Entity::as_str), Some(*name));
        }
        assert_eq!(Entity::parse("invoice"), None);
    }
}
