//! Custom field definition shapes (reference 03 §7.2): the read shape and the create/replace
//! requests with their validation.

use crate::domain::custom_fields::{Choice, Entity, FieldType};
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;
use serde_json::Value;

/// Longest `name` (the key in `customFields`).
pub const MAX_NAME_CHARS: usize = 64;
/// Most choices a selection may offer.
pub const MAX_CHOICES: usize = 100;

/// A definition as the API shows it; `choices` is `[]` for the types without choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomField {
    pub id: String,
    pub entity: String,
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: String,
    pub choices: Vec<Choice>,
    pub required: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /custom-fields`.
#[derive(Debug)]
pub struct CreateRequest {
    pub entity: Entity,
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub choices: Vec<Choice>,
    pub required: bool,
}

/// `PUT /custom-fields/{id}`: replaces label, choices and the required flag.
#[derive(Debug)]
pub struct ReplaceRequest {
    pub label: String,
    pub choices: Vec<Choice>,
    pub required: bool,
}

/// The keys a GET answers; a PUT may echo them back.
const READ_KEYS: &[&str] = &[
    "id",
    "entity",
    "name",
    "label",
    "type",
    "choices",
    "required",
    "createdAt",
    "updatedAt",
];

/// A key of `customFields`: a letter, then letters, digits, `_` or `-`; no dots, so that
/// `customFields.<name>` stays an unambiguous property path.
pub fn is_field_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    s.len() <= MAX_NAME_CHARS
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl CreateRequest {
    /// Validates every field at once; `name_taken` asks the store whether the tenant already
    /// has a definition with this name for the entity.
    pub fn from_input(
        mut input: Input,
        name_taken: &dyn Fn(Entity, &str) -> ApiResult<bool>,
    ) -> ApiResult<CreateRequest> {
        input.reject_unknown(&["entity", "name", "label", "type", "choices", "required"]);
        let entity = input.required_string("entity").and_then(|s| {
            input
                .check_one_of("entity", &s, Entity::NAMES)
                .then(|| Entity::parse(&s))
                .flatten()
        });
        let name = match input.required_string("name") {
            Some(n) if !is_field_name(&n) => {
                input.violation(
                    "name",
                    &format!(
                        "This value should start with a letter and contain only letters, digits, \
                         '_' and '-', at most {MAX_NAME_CHARS} characters."
                    ),
                    "invalid_format",
                );
                None
            }
            Some(n) => match entity {
                Some(e) if name_taken(e, &n)? => {
                    input.violation(
                        "name",
                        &format!("A custom field '{n}' already exists for {}.", e.as_str()),
                        "not_unique",
                    );
                    None
                }
                _ => Some(n),
            },
            None => None,
        };
        let label = label(&mut input);
        let field_type = input.required_string("type").and_then(|s| {
            input
                .check_one_of("type", &s, FieldType::NAMES)
                .then(|| FieldType::parse(&s))
                .flatten()
        });
        let choices = field_type.and_then(|t| choices(&mut input, t));
        let required = required(&mut input);
        input.finish()?;
        Ok(CreateRequest {
            entity: entity.unwrap_or(Entity::Customer),
            name: name.unwrap_or_default(),
            label: label.unwrap_or_default(),
            field_type: field_type.unwrap_or(FieldType::Text),
            choices: choices.unwrap_or_default(),
            required,
        })
    }
}

impl ReplaceRequest {
    /// `entity`, `name` and `type` are immutable (stored values depend on them): they may be
    /// echoed back from a GET but must not differ. `id` and the timestamps are ignored.
    pub fn from_input(mut input: Input, current: &CustomField) -> ApiResult<ReplaceRequest> {
        input.reject_unknown(READ_KEYS);
        for (key, stored) in [
            ("entity", &current.entity),
            ("name", &current.name),
            ("type", &current.field_type),
        ] {
            match input.raw(key) {
                None => {}
                Some(Value::String(s)) if s == stored => {}
                Some(_) => input.violation(
                    key,
                    &format!("This value cannot be changed; it is '{stored}'."),
                    "read_only",
                ),
            }
        }
        let label = label(&mut input);
        let field_type = FieldType::parse(&current.field_type).unwrap_or(FieldType::Text);
        let choices = choices(&mut input, field_type);
        let required = required(&mut input);
        input.finish()?;
        Ok(ReplaceRequest {
            label: label.unwrap_or_default(),
            choices: choices.unwrap_or_default(),
            required,
        })
    }
}

fn label(input: &mut Input) -> Option<String> {
    let label = input.required_string("label")?;
    input.check_len("label", &label, 1, 255).then_some(label)
}

fn required(input: &mut Input) -> bool {
    match input.bool("required") {
        Field::Value(b) => b,
        Field::Null | Field::Absent => false,
    }
}

/// The choices of a selection type (at least one, values unique); other types take none.
/// An entry is `{value, label}`; either key alone doubles as the other, and a plain string
/// is both (reference: without choices, the display name doubles as the stored value).
fn choices(input: &mut Input, field_type: FieldType) -> Option<Vec<Choice>> {
    let items = match input.array("choices") {
        Field::Value(items) => items,
        Field::Null | Field::Absent => Vec::new(),
    };
    if !field_type.has_choices() {
        if !items.is_empty() {
            input.violation(
                "choices",
                &format!(
                    "Only single_select and multi_select fields have choices, not {}.",
                    field_type.as_str()
                ),
                "not_allowed",
            );
        }
        return Some(Vec::new());
    }
    if items.is_empty() {
        input.violation(
            "choices",
            "A selection needs at least one choice.",
            "not_blank",
        );
        return None;
    }
    if items.len() > MAX_CHOICES {
        input.violation(
            "choices",
            &format!("A selection may have at most {MAX_CHOICES} choices."),
            "too_many",
        );
        return None;
    }
    let mut out: Vec<Choice> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let Some(choice) = choice(input, i, item) else {
            continue;
        };
        if out.iter().any(|c| c.value == choice.value) {
            input.violation(
                &format!("choices[{i}].value"),
                &format!("The value '{}' is already a choice.", choice.value),
                "not_unique",
            );
            continue;
        }
        out.push(choice);
    }
    Some(out)
}

fn choice(input: &mut Input, i: usize, item: &Value) -> Option<Choice> {
    let (value, label) = match item {
        Value::String(s) => (Some(s.clone()), None),
        Value::Object(map) => {
            let mut text = |key: &str| match map.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    input.violation(
                        &format!("choices[{i}].{key}"),
                        "This value should be of type string.",
                        "invalid_type",
                    );
                    None
                }
            };
            let (value, label) = (text("value"), text("label"));
            for key in map.keys().filter(|k| *k != "value" && *k != "label") {
                input.violation(
                    &format!("choices[{i}].{key}"),
                    "This field is not allowed.",
                    "unknown_field",
                );
            }
            (value, label)
        }
        _ => {
            input.violation(
                &format!("choices[{i}]"),
                "A choice is an object {value, label} or a string.",
                "invalid_type",
            );
            return None;
        }
    };
    let mut fits = |key: &str, s: &str| input.check_len(&format!("choices[{i}].{key}"), s, 1, 255);
    // A missing key doubles as the other; only keys that were sent are reported.
    match (value, label) {
        (Some(value), Some(label)) => {
            let (value_ok, label_ok) = (fits("value", &value), fits("label", &label));
            (value_ok && label_ok).then_some(Choice { value, label })
        }
        (Some(value), None) => fits("value", &value).then(|| Choice {
            label: value.clone(),
            value,
        }),
        (None, Some(label)) => fits("label", &label).then(|| Choice {
            value: label.clone(),
            label,
        }),
        (None, None) => {
            input.violation(
                &format!("choices[{i}].value"),
                "This value should not be blank.",
                "not_blank",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn paths(err: ApiError) -> Vec<String> {
        let ApiError::Validation(v) = err else {
            panic!("expected 422")
        };
        v.into_iter().map(|v| v.property_path).collect()
    }

    #[test]
    fn field_names() {
        for ok in ["a", "costCentre", "cost_centre-2", &"x".repeat(64)] {
            assert!(is_field_name(ok), "{ok}");
        }
        for bad in ["", "1a", "_a", "a.b", "a b", "ä", &"x".repeat(65)] {
            assert!(!is_field_name(bad), "{bad}");
        }
    }

    #[test]
    fn choices_normalize_and_stay_unique() {
        let input = Input::parse(
            br#"{"entity":"product","name":"size","label":"Size","type":"single_select",
                "choices":["S",{"value":"m","label":"Medium"},{"label":"L"},{"value":"xl"}]}"#,
        )
        .unwrap();
        let r = CreateRequest::from_input(input, &|_, _| Ok(false)).unwrap();
        let pairs: Vec<_> = r
            .choices
            .iter()
            .map(|c| (c.value.as_str(), c.label.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![("S", "S"), ("m", "Medium"), ("L", "L"), ("xl", "xl")]
        );
        let input = Input::parse(
            br#"{"entity":"product","name":"size","label":"Size","type":"multi_select",
                "choices":["S",{"value":"S"},5,{"x":1}]}"#,
        )
        .unwrap();
        let err = CreateRequest::from_input(input, &|_, _| Ok(false)).unwrap_err();
        assert_eq!(
            paths(err),
            vec![
                "choices[1].value",
                "choices[2]",
                "choices[3].x",
                "choices[3].value"
            ]
        );
    }

    #[test]
    fn every_violation_at_once() {
        let input = Input::parse(
            br#"{"entity":"invoice","name":"a.b","label":"","type":"text","choices":["x"],"x":1}"#,
        )
        .unwrap();
        let err = CreateRequest::from_input(input, &|_, _| Ok(false)).unwrap_err();
        assert_eq!(paths(err), vec!["x", "entity", "name", "label", "choices"]);
        let input =
            Input::parse(br#"{"entity":"customer","name":"n","label":"N","type":"single_select"}"#)
                .unwrap();
        let err = CreateRequest::from_input(input, &|_, _| Ok(true)).unwrap_err();
        assert_eq!(paths(err), vec!["name", "choices"]);
    }
}
