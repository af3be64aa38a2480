//! Tax group shapes (reference 03 §3.2): the read shape, the embed other resources show, and the
//! create/replace request with validation of every rate.

use crate::domain::tax::{
    self, serialize_rate, GroupType, ANY_COUNTRY, EU_WILDCARD, RATE_MAX_FRACTION_DIGITS,
};
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    #[serde(serialize_with = "serialize_rate")]
    pub rate: Decimal,
    pub description: String,
    pub country_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxGroup {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub rates: Vec<Rate>,
    pub created_at: String,
    pub updated_at: String,
}

/// How products and invoice positions embed a group (03 §3.2): `internalDescription` is the
/// group's name; `reverseChargeType` is the treatment applied, `null` outside an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxGroupEmbed {
    pub id: String,
    pub internal_description: String,
    pub reverse_charge_type: Option<&'static str>,
    #[serde(rename = "type")]
    pub kind: String,
}

impl TaxGroup {
    pub fn embed(&self, reverse_charge_type: Option<&'static str>) -> TaxGroupEmbed {
        TaxGroupEmbed {
            id: self.id.clone(),
            internal_description: self.name.clone(),
            reverse_charge_type,
            kind: self.kind.clone(),
        }
    }
}

/// `POST /tax-groups` and `PUT /tax-groups/{id}`: every writable field, all required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxGroupWrite {
    pub name: String,
    pub kind: GroupType,
    pub rates: Vec<Rate>,
}

/// Read-only keys a client may echo back from a GET (read-modify-write); their values are
/// ignored.
const READ_ONLY: &[&str] = &["id", "createdAt", "updatedAt"];

impl TaxGroupWrite {
    pub fn from_input(mut input: Input) -> ApiResult<TaxGroupWrite> {
        let mut allowed = vec!["name", "type", "rates"];
        allowed.extend_from_slice(READ_ONLY);
        input.reject_unknown(&allowed);
        let name = input
            .required_string("name")
            .filter(|n| input.check_len("name", n, 1, 255));
        let kind = input.required_string("type").and_then(|t| {
            input
                .check_one_of("type", &t, GroupType::ALL)
                .then(|| GroupType::parse(&t))
                .flatten()
        });
        let rates = rates(&mut input);
        input.finish()?;
        match (name, kind, rates) {
            (Some(name), Some(kind), Some(rates)) => Ok(TaxGroupWrite { name, kind, rates }),
            // `finish` answered 422 for any missing value already.
            _ => Err(crate::error::ApiError::Internal(
                "tax group validation passed without values".into(),
            )),
        }
    }
}

/// `rates`: at least one, each valid, country codes unique within the group.
fn rates(input: &mut Input) -> Option<Vec<Rate>> {
    let items = match input.array("rates") {
        Field::Value(items) => items,
        Field::Null | Field::Absent => {
            // A value of the wrong type was reported by `array` already.
            if matches!(input.raw("rates"), None | Some(Value::Null)) {
                input.violation("rates", "This value should not be blank.", "not_blank");
            }
            return None;
        }
    };
    if items.is_empty() {
        input.violation(
            "rates",
            "This collection should contain 1 element or more.",
            "too_few",
        );
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    // Countries seen so far, valid rate or not, so a duplicate is named even next to other errors.
    let mut seen: Vec<String> = Vec::new();
    let mut valid = true;
    for (i, item) in items.into_iter().enumerate() {
        let prefix = format!("rates[{i}]");
        let Value::Object(map) = item else {
            input.violation(
                &prefix,
                "This value should be of type object.",
                "invalid_type",
            );
            valid = false;
            continue;
        };
        let mut nested = Input::nested(map, &input.path(&prefix));
        let rate = read_percent(&mut nested, "rate", false);
        let country = nested.required_string("countryCode");
        if let Some(country) = &country {
            if !is_rate_country(country) {
                nested.violation(
                    "countryCode",
                    "This value should be an ISO 3166-1 alpha-2 country code, 'EU_*' or '*'.",
                    "invalid_country",
                );
            } else if seen.contains(country) {
                nested.violation(
                    "countryCode",
                    "This country already has a rate in this group.",
                    "not_unique",
                );
            }
            seen.push(country.clone());
        }
        let description = description(&mut nested);
        nested.reject_unknown(&["rate", "description", "countryCode"]);
        if let (true, Some(rate), Some(country)) = (nested.is_valid(), rate, country) {
            out.push(Rate {
                rate,
                description,
                country_code: country,
            });
        } else {
            valid = false;
        }
        input.absorb(nested);
    }
    valid.then_some(out)
}

fn is_rate_country(code: &str) -> bool {
    code == EU_WILDCARD || code == ANY_COUNTRY || crate::domain::validate::is_country_code(code)
}

/// `description`: optional text up to 255 characters; null reads as empty.
fn description(input: &mut Input) -> String {
    match input.string("description") {
        Field::Value(d) if input.check_len("description", &d, 0, 255) => d,
        _ => String::new(),
    }
}

/// A percentage in 0–100 with at most four decimals, sent as a JSON number (`19`, `7.7`) or a
/// decimal string (`"19"`). Numbers are read from their JSON text, never computed as floats.
pub fn read_percent(input: &mut Input, key: &str, min_exclusive: bool) -> Option<Decimal> {
    let parsed = match input.raw(key) {
        None | Some(Value::Null) => {
            input.violation(key, "This value should not be blank.", "not_blank");
            return None;
        }
        Some(Value::Number(n)) => tax::parse_rate(&n.to_string()),
        Some(Value::String(s)) => crate::domain::money::parse_decimal(s)
            .ok()
            .map(|d| d.normalize()),
        Some(_) => {
            input.violation(key, "This value should be of type number.", "invalid_type");
            return None;
        }
    };
    let Some(value) = parsed else {
        input.violation(
            key,
            "This value should be a number such as 19 or \"7.7\".",
            "invalid_decimal",
        );
        return None;
    };
    let low_ok = if min_exclusive {
        value > Decimal::ZERO
    } else {
        value >= Decimal::ZERO
    };
    if !low_ok || value > Decimal::ONE_HUNDRED {
        let range = if min_exclusive {
            "greater than 0 and at most 100"
        } else {
            "between 0 and 100"
        };
        input.violation(
            key,
            &format!("This value should be {range}."),
            "out_of_range",
        );
        return None;
    }
    if value.scale() > RATE_MAX_FRACTION_DIGITS {
        input.violation(
            key,
            &format!("This value may have at most {RATE_MAX_FRACTION_DIGITS} decimals."),
            "too_many_decimals",
        );
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use rust_decimal_macros::dec;

    fn paths(body: &[u8]) -> Vec<String> {
        match TaxGroupWrite::from_input(Input::parse(body).unwrap()) {
            Err(ApiError::Validation(v)) => v.into_iter().map(|v| v.property_path).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn reads_numbers_and_strings_exactly() {
        let w = TaxGroupWrite::from_input(
            Input::parse(
                br#"{"name":"CH","type":"standard","rates":[
                    {"rate":19,"countryCode":"DE","description":"19%"},
                    {"rate":"7.7","countryCode":"CH"},{"rate":8.1,"countryCode":"LI"},
                    {"rate":"0","countryCode":"*","description":null}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let got: Vec<_> = w.rates.iter().map(|r| r.rate).collect();
        assert_eq!(got, vec![dec!(19), dec!(7.7), dec!(8.1), dec!(0)]);
        assert_eq!(w.rates[0].description, "19%");
        assert_eq!(w.kind, GroupType::Standard);
    }

    #[test]
    fn names_every_invalid_field() {
        assert_eq!(paths(b"{}"), vec!["name", "type", "rates"]);
        assert_eq!(
            paths(br#"{"name":"","type":"super","rates":[]}"#),
            vec!["name", "type", "rates"]
        );
        assert_eq!(
            paths(
                br#"{"name":"x","type":"zero","rates":[{"rate":101,"countryCode":"de"},
                   {"rate":-1,"countryCode":"DE"},{"rate":"1.00001","countryCode":"AT"},
                   {"rate":true,"countryCode":"FR","x":1},{"rate":1,"countryCode":"FR"},
                   {"rate":1,"countryCode":"FR"},{"countryCode":"EU_*"},3]}"#
            ),
            vec![
                "rates[0].rate",
                "rates[0].countryCode",
                "rates[1].rate",
                "rates[2].rate",
                "rates[3].rate",
                "rates[3].x",
                "rates[4].countryCode",
                "rates[5].countryCode",
                "rates[6].rate",
                "rates[7]"
            ]
        );
    }
}
