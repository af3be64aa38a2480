//! Number range shapes: the list entry and the validated PUT body.

use crate::domain::numbering;
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use serde::Serialize;

/// Highest accepted counter: keeps `next_number + 1` far from i64 overflow.
pub const MAX_NEXT_NUMBER: i64 = 999_999_999_999_999_999;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberRange {
    #[serde(rename = "type")]
    pub range_type: String,
    pub format: String,
    /// The counter value the next document gets (unless that number was issued before).
    pub next_number: i64,
    pub updated_at: String,
}

/// A validated PUT: `None` keeps the field as it is.
#[derive(Debug, Default, PartialEq)]
pub struct Update {
    pub format: Option<String>,
    pub next_number: Option<i64>,
}

impl Update {
    pub fn is_empty(&self) -> bool {
        self.format.is_none() && self.next_number.is_none()
    }

    pub fn from_input(mut input: Input, current: &NumberRange) -> ApiResult<Update> {
        input.reject_unknown(&["format", "nextNumber", "type", "updatedAt"]);
        // Read-only echoes of a GET entry are fine; another type in the body is a client bug.
        if let Some(t) = input.raw("type") {
            if t.as_str() != Some(current.range_type.as_str()) {
                input.violation(
                    "type",
                    "This value is read-only; it must match the type in the path.",
                    "read_only",
                );
            }
        }
        let format = match input.string("format") {
            Field::Value(f) => match numbering::validate_format_for(&current.range_type, &f) {
                Ok(()) => Some(f),
                Err(message) => {
                    input.violation("format", &message, "invalid_format");
                    None
                }
            },
            Field::Null => {
                input.violation("format", "This value should not be null.", "not_null");
                None
            }
            Field::Absent => None,
        };
        let next_number = match input.int("nextNumber") {
            Field::Value(n) if n < current.next_number => {
                input.violation(
                    "nextNumber",
                    &format!(
                        "The next number may only grow: it must be {} or more.",
                        current.next_number
                    ),
                    "too_low",
                );
                None
            }
            Field::Value(n) if n > MAX_NEXT_NUMBER => {
                input.violation(
                    "nextNumber",
                    &format!("This value should be {MAX_NEXT_NUMBER} or less."),
                    "too_high",
                );
                None
            }
            Field::Value(n) => Some(n),
            Field::Null => {
                input.violation("nextNumber", "This value should not be null.", "not_null");
                None
            }
            Field::Absent => None,
        };
        input.finish()?;
        Ok(Update {
            format,
            next_number,
        })
    }
}
