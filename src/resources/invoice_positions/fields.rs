//! Readers for single position fields that need more than `Input` offers: embeds sent back
//! from a read shape, percentages, headlines and calendar dates.

use crate::http::input::Input;
use crate::resources::customers::fields;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

/// Discount percentages carry at most as many digits as tax rates.
const PERCENT_DIGITS: u32 = 4;

/// The id at `key` (a plain id, IRI or `{id}`), else the `{id, ...}` embed at `embed` that a
/// read shape carries instead (`unit`, `taxGroup`): with the key a violation belongs to.
pub fn reference_or_embed<'k>(
    input: &mut Input,
    key: &'k str,
    embed: &'k str,
) -> Option<(&'k str, String)> {
    if input.has(key) {
        return fields::reference(input, key).flatten().map(|id| (key, id));
    }
    match input.raw(embed) {
        None | Some(Value::Null) => None,
        Some(_) => fields::reference(input, embed)
            .flatten()
            .map(|id| (embed, id)),
    }
}

/// Absent or `null`.
pub fn missing(input: &Input, key: &str) -> bool {
    matches!(input.raw(key), None | Some(Value::Null))
}

pub fn not_found(input: &mut Input, key: &str, what: &str) {
    input.violation(key, &format!("This {what} does not exist."), "not_found");
}

/// `discountPercentage`: 0 < x < 100, a JSON number or a decimal string.
pub fn percentage(input: &mut Input) -> Option<Decimal> {
    let p = input.decimal_number("discountPercentage").value()?;
    if p <= Decimal::ZERO || p >= Decimal::ONE_HUNDRED {
        input.violation(
            "discountPercentage",
            "The percentage must be greater than 0 and less than 100.",
            "out_of_range",
        );
        return None;
    }
    if p.normalize().scale() > PERCENT_DIGITS {
        input.violation(
            "discountPercentage",
            &format!("The percentage may have at most {PERCENT_DIGITS} digits after the dot."),
            "too_many_decimals",
        );
        return None;
    }
    Some(p.normalize())
}

/// The headline a position is printed under: a string, or the `{name}` object of a read shape.
pub fn group(input: &mut Input) -> Option<String> {
    let name = match input.raw("group")? {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    };
    if name.is_empty() {
        input.violation(
            "group",
            "This value should be a headline text or null.",
            "invalid_type",
        );
        return None;
    }
    input.check_len("group", &name, 1, 255).then_some(name)
}

/// A calendar date `YYYY-MM-DD`, or null.
pub fn date(input: &mut Input, key: &str) -> Option<NaiveDate> {
    input.date(key).flatten()
}
