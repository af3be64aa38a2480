//! The value check of one custom field: does a JSON value fit its definition's type?

use super::{Definition, FieldType};
use crate::domain::money::{parse_decimal, DecimalError, MAX_FRACTION_DIGITS};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

pub const MAX_TEXT_CHARS: usize = 1000;
pub const MAX_LIST_ITEMS: usize = 100;
pub const MAX_ITEM_CHARS: usize = 255;

/// Why a value does not fit: (message, violation code).
pub type Problem = (String, &'static str);

fn wrong_type(kind: &str) -> Problem {
    (
        format!("This value should be of type {kind}."),
        "invalid_type",
    )
}

/// Whether one value fits its definition; the error is (message, code).
pub(super) fn check_value(def: &Definition, value: &Value) -> Result<(), Problem> {
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
    use super::super::Choice;
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
        check_value(&def("f", field_type, false), &value)
            .err()
            .map(|(_, code)| code.to_string())
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
}
