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

mod value;

use crate::error::{ApiResult, Violation};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use value::check_value;
pub use value::{is_date, parse_number, Problem, MAX_ITEM_CHARS, MAX_LIST_ITEMS, MAX_TEXT_CHARS};

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

/// The names of the tenant's definitions for `entity` as a JSON array, for a subquery of an
/// owner's read (`:tenant` and `:entity` are its parameters); `visible_among` uses the answer.
pub const NAMES_JSON: &str = "(SELECT json_group_array(name) FROM custom_fields
    WHERE tenant_id = :tenant AND entity = :entity)";

/// `visible`, with the defined names already fetched as the text of `NAMES_JSON`.
pub fn visible_among(fields: Map<String, Value>, names: &str) -> ApiResult<Map<String, Value>> {
    if fields.is_empty() {
        return Ok(fields);
    }
    let names: Vec<String> = serde_json::from_str(names)?;
    Ok(fields
        .into_iter()
        .filter(|(k, _)| names.contains(k))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(name: &str, field_type: FieldType, required: bool) -> Definition {
        let choices = if field_type.has_choices() {
            vec![Choice {
                value: "gold".into(),
                label: "Gold".into(),
            }]
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

    #[test]
    fn every_key_is_checked_against_its_definition() {
        let defs = [def("tier", FieldType::SingleSelect, false)];
        let ok = json!({"tier": "gold"});
        assert!(check(&defs, ok.as_object().unwrap()).is_empty());
        let bad = json!({"tier": "Gold"});
        let v = check(&defs, bad.as_object().unwrap());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].property_path, "customFields.tier");
        assert_eq!(v[0].code, "invalid_choice");
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
    fn visible_among_keeps_defined_names_only() {
        let map = json!({"tier": "gold", "gone": 1})
            .as_object()
            .unwrap()
            .clone();
        let kept = visible_among(map, r#"["note","tier"]"#).unwrap();
        assert_eq!(Value::Object(kept), json!({"tier": "gold"}));
        assert!(visible_among(Map::new(), "not json").unwrap().is_empty());
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
