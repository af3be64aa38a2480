//! Field readers shared by the customer, address and e-mail slices: each reads one body key,
//! records its violations on the `Input`, and says whether the key was sent.
//!
//! Return convention: `None` = the key was absent (create: use the default; update: keep the
//! stored value); `Some(..)` = the key was sent and, if it had no violation, holds its value.

use crate::http::input::{Field, Input};
use serde_json::{Map, Value};

/// A plain text field whose "not set" is the empty string. `null` reads as `""`, because
/// Fynn's clients send `null` for blank address lines. Non-empty values must be `min..=max`.
pub fn text(input: &mut Input, key: &str, min: usize, max: usize) -> Option<String> {
    match input.string(key) {
        Field::Value(s) => {
            input.check_len_or_empty(key, &s, min, max);
            Some(s)
        }
        Field::Null => Some(String::new()),
        // A type error was recorded by `string`; report the key as sent so nothing defaults.
        Field::Absent if input.has(key) => Some(String::new()),
        Field::Absent => None,
    }
}

/// A nullable text field: `null` and `""` both clear it. Non-empty values must be `min..=max`.
pub fn nullable_text(
    input: &mut Input,
    key: &str,
    min: usize,
    max: usize,
) -> Option<Option<String>> {
    match input.string(key) {
        Field::Value(s) if s.is_empty() => Some(None),
        Field::Value(s) => {
            input.check_len(key, &s, min, max);
            Some(Some(s))
        }
        Field::Null => Some(None),
        Field::Absent if input.has(key) => Some(None),
        Field::Absent => None,
    }
}

/// A required e-mail address (format and <= 255 characters).
pub fn required_email(input: &mut Input, key: &str) -> Option<String> {
    let value = input.required_string(key)?;
    input.check_email(key, &value);
    Some(value)
}

/// An optional e-mail address: absent = `None`; when sent it must not be blank.
pub fn email(input: &mut Input, key: &str) -> Option<String> {
    if !input.has(key) {
        return None;
    }
    required_email(input, key).or(Some(String::new()))
}

/// An enum field that may not be null.
pub fn choice(input: &mut Input, key: &str, allowed: &[&str]) -> Option<String> {
    match input.string(key) {
        Field::Value(s) => {
            input.check_one_of(key, &s, allowed);
            Some(s)
        }
        Field::Null => {
            input.violation(key, "This value should not be null.", "not_null");
            Some(String::new())
        }
        Field::Absent if input.has(key) => Some(String::new()),
        Field::Absent => None,
    }
}

/// A nullable enum field.
pub fn nullable_choice(input: &mut Input, key: &str, allowed: &[&str]) -> Option<Option<String>> {
    match input.string(key) {
        Field::Value(s) => {
            input.check_one_of(key, &s, allowed);
            Some(Some(s))
        }
        Field::Null => Some(None),
        Field::Absent if input.has(key) => Some(None),
        Field::Absent => None,
    }
}

/// An ISO 3166-1 alpha-2 code; lower case is accepted and stored upper case. `""` and `null`
/// read as `""`, which callers treat as "use the default country".
pub fn country(input: &mut Input, key: &str) -> Option<String> {
    let value = text(input, key, 0, 255)?.to_ascii_uppercase();
    if !value.is_empty() {
        input.check_country(key, &value);
    }
    Some(value)
}

/// A boolean flag that may not be null.
pub fn flag(input: &mut Input, key: &str) -> Option<bool> {
    match input.bool(key) {
        Field::Value(b) => Some(b),
        Field::Null => {
            input.violation(key, "This value should not be null.", "not_null");
            Some(false)
        }
        Field::Absent => None,
    }
}

/// A reference to another resource: a plain id, an IRI (`/customer-groups/<id>`, last segment
/// taken) or an object with an `id` (so a read model can be sent back). `null` clears it.
pub fn reference(input: &mut Input, key: &str) -> Option<Option<String>> {
    let id = match input.raw(key)? {
        Value::Null => return Some(None),
        Value::String(s) => s.rsplit('/').next().unwrap_or("").to_string(),
        Value::Object(o) => match o.get("id") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    if id.is_empty() {
        input.violation(
            key,
            "This value should be an id, an IRI or null.",
            "invalid_reference",
        );
        return Some(None);
    }
    Some(Some(id))
}

/// A JSON object (e.g. `customFields`); `null` reads as `{}`.
pub fn object(input: &mut Input, key: &str) -> Option<Map<String, Value>> {
    match input.object(key) {
        Field::Value(m) => Some(m),
        Field::Null => Some(Map::new()),
        Field::Absent if input.has(key) => Some(Map::new()),
        Field::Absent => None,
    }
}

/// Ids are UUIDs; anything else can never match a stored row.
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_null_and_values() {
        let mut input = Input::parse(
            br#"{"a":null,"b":"x","c":5,"d":"","e":{"id":"42"},"f":"/customer-groups/7","g":"de"}"#,
        )
        .unwrap();
        assert_eq!(text(&mut input, "a", 2, 255), Some(String::new()));
        assert_eq!(text(&mut input, "zz", 2, 255), None);
        assert_eq!(nullable_text(&mut input, "d", 2, 255), Some(None));
        assert_eq!(reference(&mut input, "e"), Some(Some("42".into())));
        assert_eq!(reference(&mut input, "f"), Some(Some("7".into())));
        assert_eq!(country(&mut input, "g"), Some("DE".into()));
        assert!(input.is_valid());
        // "x" is too short, 5 is not a string.
        text(&mut input, "b", 2, 255);
        text(&mut input, "c", 2, 255);
        assert!(!input.is_valid());
    }
}
