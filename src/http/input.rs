//! Request bodies: JSON objects read field by field, collecting every violation before failing.

use crate::error::{ApiError, ApiResult, Violation};
use serde_json::{Map, Value};

/// A key of a JSON merge patch or create body: missing, explicitly `null`, or a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Field<T> {
    /// `Some` for a value, `None` for absent or null.
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// For a patch: `None` when absent (keep), `Some(None)` when null (clear), `Some(Some(v))`.
    pub fn patch(self) -> Option<Option<T>> {
        match self {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Value(v) => Some(Some(v)),
        }
    }
}

/// A JSON object body being validated; `finish` answers 422 with all violations at once.
#[derive(Debug, Default)]
pub struct Input {
    map: Map<String, Value>,
    prefix: String,
    violations: Vec<Violation>,
}

impl Input {
    /// Parses a body; an empty body reads as `{}`. Malformed JSON or a non-object: 400.
    pub fn parse(body: &[u8]) -> ApiResult<Input> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Input::from_map(map)),
            Ok(_) => Err(ApiError::BadRequest(
                "The request body must be a JSON object.".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!("Malformed JSON body: {e}."))),
        }
    }

    pub fn from_map(map: Map<String, Value>) -> Input {
        Input {
            map,
            prefix: String::new(),
            violations: Vec::new(),
        }
    }

    /// A nested object validated with paths like `rates[0].rate`; merge back with `absorb`.
    pub fn nested(map: Map<String, Value>, prefix: &str) -> Input {
        Input {
            map,
            prefix: format!("{prefix}."),
            violations: Vec::new(),
        }
    }

    /// Takes over the violations of a nested input.
    pub fn absorb(&mut self, other: Input) {
        self.violations.extend(other.violations);
    }

    pub fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn violation(&mut self, key: &str, message: &str, code: &str) {
        let path = self.path(key);
        self.violations.push(Violation::new(path, message, code));
    }

    /// 422 naming every keys that is not one of `allowed`.
    pub fn reject_unknown(&mut self, allowed: &[&str]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .cloned()
            .collect();
        for key in unknown {
            self.violation(&key, "This field is not allowed.", "unknown_field");
        }
    }

    fn typed<T>(&mut self, key: &str, kind: &str, get: impl Fn(&Value) -> Option<T>) -> Field<T> {
        match self.map.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(v) => match get(v) {
                Some(t) => Field::Value(t),
                None => {
                    self.violation(
                        key,
                        &format!("This value should be of type {kind}."),
                        "invalid_type",
                    );
                    Field::Absent
                }
            },
        }
    }

    pub fn string(&mut self, key: &str) -> Field<String> {
        self.typed(key, "string", |v| v.as_str().map(str::to_string))
    }

    pub fn bool(&mut self, key: &str) -> Field<bool> {
        self.typed(key, "boolean", Value::as_bool)
    }

    pub fn int(&mut self, key: &str) -> Field<i64> {
        self.typed(key, "integer", Value::as_i64)
    }

    pub fn object(&mut self, key: &str) -> Field<Map<String, Value>> {
        self.typed(key, "object", |v| v.as_object().cloned())
    }

    pub fn array(&mut self, key: &str) -> Field<Vec<Value>> {
        self.typed(key, "array", |v| v.as_array().cloned())
    }

    /// A decimal written as a string (`"9.99"`, up to 10 fractional digits); a bad value is a
    /// violation naming the key, never a float.
    pub fn decimal(&mut self, key: &str) -> Field<rust_decimal::Decimal> {
        match self.string(key) {
            Field::Value(s) => match crate::domain::money::parse_decimal(&s) {
                Ok(d) => Field::Value(d),
                Err(e) => {
                    self.violation(key, &e.message(), e.code());
                    Field::Absent
                }
            },
            Field::Null => Field::Null,
            Field::Absent => Field::Absent,
        }
    }

    /// A decimal given as a JSON number (`12.34`, where the reference defines a number) or as a
    /// decimal string. serde_json keeps numbers as their original text (`arbitrary_precision`),
    /// so no float is ever involved; exponents are refused like any other non-plain decimal.
    pub fn decimal_number(&mut self, key: &str) -> Field<rust_decimal::Decimal> {
        let text = match self.map.get(key) {
            None => return Field::Absent,
            Some(Value::Null) => return Field::Null,
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                self.violation(key, "This value should be a number.", "invalid_type");
                return Field::Absent;
            }
        };
        match crate::domain::money::parse_decimal(&text) {
            Ok(d) => Field::Value(d),
            Err(e) => {
                self.violation(key, &e.message(), e.code());
                Field::Absent
            }
        }
    }

    /// A calendar date `YYYY-MM-DD`: `Some(Some(date))`, `Some(None)` when absent or null,
    /// `None` when invalid (and reported as a violation).
    pub fn date(&mut self, key: &str) -> Option<Option<chrono::NaiveDate>> {
        match self.string(key) {
            Field::Value(s) => match crate::domain::time::parse_date(&s) {
                Some(d) => Some(Some(d)),
                None => {
                    self.violation(
                        key,
                        "This value should be a date YYYY-MM-DD.",
                        "invalid_date",
                    );
                    None
                }
            },
            Field::Absent if self.has(key) => None,
            _ => Some(None),
        }
    }

    /// A string that must be present and non-empty.
    pub fn required_string(&mut self, key: &str) -> Option<String> {
        match self.string(key) {
            Field::Value(s) if !s.trim().is_empty() => Some(s),
            Field::Value(_) | Field::Null => {
                self.violation(key, "This value should not be blank.", "not_blank");
                None
            }
            Field::Absent => {
                if !self.has(key) {
                    self.violation(key, "This value should not be blank.", "not_blank");
                }
                None
            }
        }
    }

    /// Checks the character count of a value, `min..=max`.
    pub fn check_len(&mut self, key: &str, value: &str, min: usize, max: usize) -> bool {
        let n = value.chars().count();
        if n < min {
            self.violation(
                key,
                &format!("This value is too short. It should have {min} characters or more."),
                "too_short",
            );
            false
        } else if n > max {
            self.violation(
                key,
                &format!("This value is too long. It should have {max} characters or less."),
                "too_long",
            );
            false
        } else {
            true
        }
    }

    /// Like `check_len`, but an empty string is allowed (it means "not set").
    pub fn check_len_or_empty(&mut self, key: &str, value: &str, min: usize, max: usize) -> bool {
        value.is_empty() || self.check_len(key, value, min, max)
    }

    pub fn check_one_of(&mut self, key: &str, value: &str, allowed: &[&str]) -> bool {
        if allowed.contains(&value) {
            return true;
        }
        self.violation(
            key,
            &format!(
                "The value you selected is not a valid choice. Choose one of: {}.",
                allowed.join(", ")
            ),
            "invalid_choice",
        );
        false
    }

    pub fn check_email(&mut self, key: &str, value: &str) -> bool {
        if crate::domain::validate::is_email(value) && value.len() <= 255 {
            return true;
        }
        self.violation(
            key,
            "This value is not a valid email address.",
            "invalid_email",
        );
        false
    }

    pub fn check_country(&mut self, key: &str, value: &str) -> bool {
        if crate::domain::validate::is_country_code(value) {
            return true;
        }
        self.violation(
            key,
            "This value is not a valid ISO 3166-1 alpha-2 country code.",
            "invalid_country",
        );
        false
    }

    pub fn check_currency(&mut self, key: &str, value: &str) -> bool {
        if crate::domain::validate::is_currency_code(value) {
            return true;
        }
        self.violation(
            key,
            "This value is not a valid ISO 4217 currency code.",
            "invalid_currency",
        );
        false
    }

    pub fn check_time_zone(&mut self, key: &str, value: &str) -> bool {
        if value.parse::<chrono_tz::Tz>().is_ok() {
            return true;
        }
        self.violation(
            key,
            "This value is not a valid IANA time zone.",
            "invalid_timezone",
        );
        false
    }

    /// 422 with every collected violation, or Ok when there is none.
    pub fn finish(self) -> ApiResult<()> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.violations))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_violation() {
        let mut input = Input::parse(br#"{"email":"nope","age":"x","name":""}"#).unwrap();
        let email = input.required_string("email").unwrap();
        input.check_email("email", &email);
        assert_eq!(input.int("age"), Field::Absent);
        assert_eq!(input.required_string("name"), None);
        assert_eq!(input.required_string("missing"), None);
        let err = input.finish().unwrap_err();
        let ApiError::Validation(v) = err else {
            panic!("expected 422")
        };
        let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
        assert_eq!(paths, vec!["email", "age", "name", "missing"]);
    }

    #[test]
    fn decimals_are_strings_with_limited_digits() {
        let mut input =
            Input::parse(br#"{"a":"9.99","b":9.99,"c":"0.00000000001","d":null}"#).unwrap();
        assert_eq!(
            input.decimal("a"),
            Field::Value(rust_decimal::Decimal::new(999, 2))
        );
        assert_eq!(input.decimal("b"), Field::Absent);
        assert_eq!(input.decimal("c"), Field::Absent);
        assert_eq!(input.decimal("d"), Field::Null);
        let Err(ApiError::Validation(v)) = input.finish() else {
            panic!("expected 422")
        };
        let codes: Vec<_> = v.iter().map(|v| v.code.as_str()).collect();
        assert_eq!(codes, vec!["invalid_type", "too_many_decimals"]);
    }

    #[test]
    fn json_numbers_are_read_exactly() {
        // 0.1 + 0.2 style values and long fractions survive: no f64 in between.
        let mut input = Input::parse(
            br#"{"a":12.34,"b":"0.3","c":0.1000000000,"d":1e3,"e":true,"f":123456789012345678.25}"#,
        )
        .unwrap();
        assert_eq!(
            input.decimal_number("a"),
            Field::Value(rust_decimal::Decimal::new(1234, 2))
        );
        assert_eq!(
            input.decimal_number("b"),
            Field::Value(rust_decimal::Decimal::new(3, 1))
        );
        assert_eq!(
            input.decimal_number("c"),
            Field::Value(rust_decimal::Decimal::new(1000000000, 10))
        );
        assert_eq!(input.decimal_number("d"), Field::Absent);
        assert_eq!(input.decimal_number("e"), Field::Absent);
        assert_eq!(
            input.decimal_number("f"),
            Field::Value("123456789012345678.25".parse().unwrap())
        );
        assert!(input.finish().is_err());
    }

    #[test]
    fn malformed_and_non_object_bodies_are_400() {
        assert!(matches!(Input::parse(b"{"), Err(ApiError::BadRequest(_))));
        assert!(matches!(Input::parse(b"[1]"), Err(ApiError::BadRequest(_))));
        assert!(Input::parse(b"  ").is_ok());
    }
}
