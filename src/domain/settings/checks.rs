//! Value checks and normalisation for setting kinds, including the bank identifiers (IBAN, BIC,
//! SEPA creditor identifier) whose typos would otherwise surface only when a bank rejects a file.

use super::Kind;
use serde_json::{Map, Value};

/// What is wrong with `value` for a key of this kind, if anything.
pub fn check(kind: Kind, value: &Value) -> Option<String> {
    violation(kind, value).map(|(_, message)| message)
}

/// Like `check`, with the machine-readable violation code for the 422 body.
pub fn violation(kind: Kind, value: &Value) -> Option<(&'static str, String)> {
    let text = value.as_str();
    let not_string = || Some(("invalid_type", "This value should be a string.".to_string()));
    match kind {
        Kind::Text { max } | Kind::NullableText { max } | Kind::Email { max } => {
            if value.is_null() && matches!(kind, Kind::NullableText { .. }) {
                return None;
            }
            let Some(s) = text else {
                return match kind {
                    Kind::NullableText { .. } => Some((
                        "invalid_type",
                        "This value should be null or a string.".into(),
                    )),
                    _ => not_string(),
                };
            };
            if s.chars().count() > max {
                return Some((
                    "too_long",
                    format!("This value is too long. It should have {max} characters or less."),
                ));
            }
            // An empty address means "not set", like every other empty text setting.
            if matches!(kind, Kind::Email { .. })
                && !s.is_empty()
                && !crate::domain::validate::is_email(s)
            {
                return Some((
                    "invalid_email",
                    "This value is not a valid email address.".into(),
                ));
            }
            None
        }
        Kind::Integer { min, max } => match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => None,
            Some(_) => Some((
                "out_of_range",
                format!("This value should be between {min} and {max}."),
            )),
            None => Some(("invalid_type", "This value should be an integer.".into())),
        },
        Kind::Bool if value.is_boolean() => None,
        Kind::Bool => Some(("invalid_type", "This value should be a boolean.".into())),
        Kind::Choice(options) => match text {
            Some(s) if options.contains(&s) => None,
            _ => Some((
                "invalid_choice",
                format!(
                    "The value you selected is not a valid choice. Choose one of: {}.",
                    options.join(", ")
                ),
            )),
        },
        Kind::Country => match text {
            Some(s) if crate::domain::validate::is_country_code(s) => None,
            _ => Some((
                "invalid_country",
                "This value is not a valid ISO 3166-1 alpha-2 country code.".into(),
            )),
        },
        Kind::Currency => match text {
            Some(s) if crate::domain::validate::is_currency_code(s) => None,
            _ => Some((
                "invalid_currency",
                "This value is not a valid ISO 4217 currency code.".into(),
            )),
        },
        Kind::TimeZone => match text {
            Some(s) if s.parse::<chrono_tz::Tz>().is_ok() => None,
            _ => Some((
                "invalid_timezone",
                "This value is not a valid IANA time zone.".into(),
            )),
        },
        Kind::Clock => match text {
            Some(s) if s.len() == 5 && chrono::NaiveTime::parse_from_str(s, "%H:%M").is_ok() => {
                None
            }
            _ => Some((
                "invalid_time",
                "This value should be a time of day as HH:MM.".into(),
            )),
        },
        Kind::CreditorId => match text {
            Some(s) if s.is_empty() || is_creditor_id(s) => None,
            Some(_) => Some((
                "invalid_creditor_identifier",
                "This value is not a valid SEPA creditor identifier.".into(),
            )),
            None => not_string(),
        },
        Kind::Object(keys) => check_object(keys, value),
        Kind::Secret => match value {
            Value::Null => None,
            Value::String(s) if s.chars().count() <= 255 => None,
            _ => Some((
                "invalid_type",
                "This value should be a string of at most 255 characters or null.".into(),
            )),
        },
    }
}

fn check_object(keys: &[&str], value: &Value) -> Option<(&'static str, String)> {
    let shape = || {
        Some((
            "invalid_object",
            format!(
                "This value should be an object with the string keys {}.",
                keys.join(", ")
            ),
        ))
    };
    let Some(object) = value.as_object() else {
        return shape();
    };
    for (k, v) in object {
        let Some(s) = v.as_str() else {
            return shape();
        };
        if !keys.contains(&k.as_str()) || s.chars().count() > 255 {
            return shape();
        }
        // Empty means "not set yet"; a filled-in identifier must be one a bank accepts.
        if k == "iban" && !s.is_empty() && !is_iban(s) {
            return Some(("invalid_iban", "This value is not a valid IBAN.".into()));
        }
        if k == "bic" && !s.is_empty() && !is_bic(s) {
            return Some((
                "invalid_bic",
                "This value is not a valid BIC (8 or 11 characters).".into(),
            ));
        }
    }
    None
}

/// The canonical stored form: IBAN, BIC and creditor id without spaces, in capitals, so that
/// `DE89 3704 …` typed from a letterhead is accepted and printed uniformly on documents.
pub fn normalize(kind: Kind, value: Value) -> Value {
    let compact = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    };
    match (kind, value) {
        (Kind::CreditorId, Value::String(s)) => Value::String(compact(&s)),
        (Kind::Object(_), Value::Object(o)) => {
            let o: Map<String, Value> = o
                .into_iter()
                .map(|(k, v)| match (k.as_str(), &v) {
                    ("iban" | "bic", Value::String(s)) => {
                        let c = compact(s);
                        (k, Value::String(c))
                    }
                    _ => (k, v),
                })
                .collect();
            Value::Object(o)
        }
        (_, v) => v,
    }
}

/// ISO 7064 MOD 97-10 over an alphanumeric string, letters counting A = 10 … Z = 35.
fn mod97(s: &str) -> Option<u32> {
    let mut rest: u32 = 0;
    for c in s.chars() {
        let d = c.to_digit(36)?;
        rest = if d < 10 {
            (rest * 10 + d) % 97
        } else {
            (rest * 100 + d) % 97
        };
    }
    Some(rest)
}

fn is_upper_alnum(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// IBAN: country, two check digits, up to 30 characters of account; checksum mod 97 = 1.
pub fn is_iban(s: &str) -> bool {
    let b = s.as_bytes();
    (15..=34).contains(&s.len())
        && is_upper_alnum(s)
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && mod97(&format!("{}{}", &s[4..], &s[..4])) == Some(1)
}

/// BIC (ISO 9362): bank (4 letters), country (2 letters), location (2), optional branch (3).
pub fn is_bic(s: &str) -> bool {
    (s.len() == 8 || s.len() == 11)
        && is_upper_alnum(s)
        && s[..6].chars().all(|c| c.is_ascii_uppercase())
}

/// SEPA creditor identifier: country, check digits, 3-character business code (not part of the
/// checksum), national identifier; checksum mod 97 = 1 over national id + country + check.
pub fn is_creditor_id(s: &str) -> bool {
    let b = s.as_bytes();
    (8..=35).contains(&s.len())
        && is_upper_alnum(s)
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2].is_ascii_digit()
        && b[3].is_ascii_digit()
        && mod97(&format!("{}{}", &s[7..], &s[..4])) == Some(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bank_identifiers() {
        assert!(is_iban("DE89370400440532013000"));
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(!is_iban("DE89370400440532013001"), "checksum");
        assert!(!is_iban("de89370400440532013000"), "not canonical");
        assert!(is_bic("COBADEFFXXX") && is_bic("DEUTDEFF"));
        assert!(!is_bic("COBADEF") && !is_bic("12BADEFF"));
        // The Bundesbank's sample creditor identifier.
        assert!(is_creditor_id("DE98ZZZ09999999999"));
        assert!(!is_creditor_id("DE97ZZZ09999999999"));
    }

    #[test]
    fn normalizes_bank_identifiers() {
        let v = normalize(
            Kind::Object(&["iban", "bic"]),
            json!({"iban": "de89 3704 0044 0532 0130 00", "bic": "cobadeff"}),
        );
        assert_eq!(
            v,
            json!({"iban": "DE89370400440532013000", "bic": "COBADEFF"})
        );
        assert_eq!(
            normalize(Kind::CreditorId, json!("de98 zzz0 9999 9999 99")),
            json!("DE98ZZZ09999999999")
        );
    }

    #[test]
    fn codes_name_the_problem() {
        let code = |k, v| violation(k, &v).map(|(c, _)| c);
        assert_eq!(code(Kind::Email { max: 255 }, json!("")), None);
        assert_eq!(
            code(Kind::Email { max: 255 }, json!("nope")),
            Some("invalid_email")
        );
        assert_eq!(
            code(Kind::Integer { min: 0, max: 9 }, json!(10)),
            Some("out_of_range")
        );
        assert_eq!(
            code(Kind::Integer { min: 0, max: 9 }, json!("1")),
            Some("invalid_type")
        );
        assert_eq!(code(Kind::Text { max: 2 }, json!("abc")), Some("too_long"));
        assert_eq!(code(Kind::NullableText { max: 2 }, json!(null)), None);
        assert_eq!(
            code(Kind::Text { max: 2 }, json!(null)),
            Some("invalid_type")
        );
        assert_eq!(
            code(Kind::Object(&["iban"]), json!({"iban": "DE00"})),
            Some("invalid_iban")
        );
        assert_eq!(code(Kind::Object(&["iban"]), json!({"iban": ""})), None);
        assert_eq!(code(Kind::Secret, json!(5)), Some("invalid_type"));
    }
}
