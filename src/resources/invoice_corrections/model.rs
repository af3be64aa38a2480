//! Request bodies of corrections (06 §1.8 cancel, §1.9 credit), checked field by field so a
//! 422 names every invalid field at once; the printed titles of correction documents.

use super::rules::{Requested, REASONS, TYPE_CANCELLATION};
use crate::error::{ApiError, ApiResult, Violation};
use crate::http::input::{Field, Input};
use crate::resources::payments::model::payment_method_ref;
use serde_json::Value;

/// A free-text note of a correction (cancel `reason`, credit `comment`).
const MAX_NOTE: usize = 1000;
/// Printed texts replacing the template's introduction or closing.
const MAX_TEXT: usize = 10_000;

/// `POST /invoices/{id}/cancel`: `{reason: string|null}`, optional as a whole.
pub fn cancel_reason(mut input: Input) -> ApiResult<Option<String>> {
    input.reject_unknown(&["reason"]);
    let reason = optional_text(&mut input, "reason", MAX_NOTE);
    input.finish()?;
    Ok(reason)
}

/// A checked `POST /invoices/{id}/credit` body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreditRequest {
    /// `None`: credit everything that is left.
    pub positions: Option<Vec<Requested>>,
    pub reason: String,
    pub comment: Option<String>,
    pub payment_method: Option<String>,
    pub introduction: Option<String>,
    pub closing: Option<String>,
}

fn optional_text(input: &mut Input, key: &str, max: usize) -> Option<String> {
    match input.string(key) {
        Field::Value(s) if s.is_empty() => None,
        Field::Value(s) => input.check_len(key, &s, 1, max).then_some(s),
        _ => None,
    }
}

/// A position reference: its id, or its IRI (`/invoice-position-items/{id}`) as Fynn writes
/// references (reference README §9).
fn position_id(text: &str) -> String {
    text.rsplit('/').next().unwrap_or(text).to_string()
}

impl CreditRequest {
    /// The request as far as it could be read, and the violations found on the way: the
    /// caller adds the checks against the invoice's positions, so one 422 names them all.
    pub fn from_input(mut input: Input) -> (CreditRequest, Vec<Violation>) {
        input.reject_unknown(&[
            "positions",
            "comment",
            "reason",
            "paymentMethod",
            "customIntroduction",
            "customClosing",
        ]);
        let positions = match input.array("positions") {
            Field::Value(items) => Some(Self::positions(&mut input, items)),
            _ => None,
        };
        let reason = match input.string("reason") {
            Field::Value(r) => {
                input.check_one_of("reason", &r, REASONS);
                r
            }
            _ => "other".to_string(),
        };
        let comment = optional_text(&mut input, "comment", MAX_NOTE);
        let payment_method = payment_method_ref(&mut input, "paymentMethod");
        let introduction = optional_text(&mut input, "customIntroduction", MAX_TEXT);
        let closing = optional_text(&mut input, "customClosing", MAX_TEXT);
        let violations = match input.finish() {
            Err(ApiError::Validation(v)) => v,
            _ => Vec::new(),
        };
        let request = CreditRequest {
            positions,
            reason,
            comment,
            payment_method,
            introduction,
            closing,
        };
        (request, violations)
    }

    /// `[{positionItem, quantity}]`; `quantity` absent: all that is left of the position.
    fn positions(input: &mut Input, items: Vec<Value>) -> Vec<Requested> {
        let mut out = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let path = format!("positions[{index}]");
            let Value::Object(map) = item else {
                input.violation(
                    &path,
                    "This value should be of type object.",
                    "invalid_type",
                );
                continue;
            };
            let mut nested = Input::nested(map, &path);
            nested.reject_unknown(&["positionItem", "quantity"]);
            let position = nested.required_string("positionItem");
            let quantity = match nested.decimal_number("quantity") {
                Field::Value(q) => Some(Some(q)),
                Field::Absent if nested.has("quantity") => None,
                _ => Some(None),
            };
            let ok = nested.is_valid();
            input.absorb(nested);
            if let (true, Some(position), Some(quantity)) = (ok, position, quantity) {
                out.push(Requested {
                    index,
                    position: position_id(&position),
                    quantity,
                });
            }
        }
        out
    }
}

/// The printed title of a correction document, in the customer's language.
pub fn title(kind: &str, original_number: &str, language: &str) -> String {
    match (kind == TYPE_CANCELLATION, language) {
        // "Gutschrift" would mean self-billing under §14 (2) UStG; a correction of one's own
        // invoice is a "Rechnungskorrektur".
        (true, "de") => format!("Stornorechnung zu Rechnung {original_number}"),
        (false, "de") => format!("Rechnungskorrektur zu Rechnung {original_number}"),
        (true, _) => format!("Cancellation of invoice {original_number}"),
        (false, _) => format!("Credit note for invoice {original_number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn credit(body: &str) -> Result<CreditRequest, Vec<Violation>> {
        let (request, violations) =
            CreditRequest::from_input(Input::parse(body.as_bytes()).unwrap());
        if violations.is_empty() {
            Ok(request)
        } else {
            Err(violations)
        }
    }

    fn paths(r: Result<CreditRequest, Vec<Violation>>) -> Vec<String> {
        match r {
            Err(v) => v.into_iter().map(|v| v.property_path).collect(),
            Ok(other) => panic!("expected violations, got {other:?}"),
        }
    }

    #[test]
    fn empty_body_credits_everything_for_reason_other() {
        let r = credit("").unwrap();
        assert_eq!(r.positions, None);
        assert_eq!(r.reason, "other");
    }

    #[test]
    fn reads_positions_with_exact_quantities_and_iris() {
        let r = credit(
            r#"{"positions": [{"positionItem": "a", "quantity": 1.5},
                              {"positionItem": "/invoice-position-items/b"}],
                "reason": "incorrect", "comment": "wrong price"}"#,
        )
        .unwrap();
        assert_eq!(
            r.positions.unwrap(),
            [
                Requested {
                    index: 0,
                    position: "a".into(),
                    quantity: Some(dec!(1.5))
                },
                Requested {
                    index: 1,
                    position: "b".into(),
                    quantity: None
                },
            ]
        );
        assert_eq!(r.reason, "incorrect");
        assert_eq!(r.comment.as_deref(), Some("wrong price"));
    }

    #[test]
    fn names_every_bad_field() {
        let got = paths(credit(
            r#"{"positions": [1, {"quantity": "x"}, {"positionItem": "a", "extra": 1}],
                "reason": "because", "paymentMethod": "nope", "other": true}"#,
        ));
        assert_eq!(
            got,
            [
                "other",
                "positions[0]",
                "positions[1].positionItem",
                "positions[1].quantity",
                "positions[2].extra",
                "reason",
                "paymentMethod"
            ]
        );
        assert_eq!(paths(credit(r#"{"positions": {}}"#)), ["positions"]);
    }

    #[test]
    fn cancel_takes_an_optional_reason() {
        let parse = |b: &str| cancel_reason(Input::parse(b.as_bytes()).unwrap());
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse(r#"{"reason": null}"#).unwrap(), None);
        assert_eq!(
            parse(r#"{"reason": "double billing"}"#).unwrap().as_deref(),
            Some("double billing")
        );
        assert!(parse(r#"{"reason": 5}"#).is_err());
        assert!(parse(r#"{"why": "x"}"#).is_err());
    }

    #[test]
    fn titles_follow_the_language() {
        assert_eq!(
            title(TYPE_CANCELLATION, "RE-1", "de"),
            "Stornorechnung zu Rechnung RE-1"
        );
        assert_eq!(
            title("TYPE_CREDIT", "RE-1", "en"),
            "Credit note for invoice RE-1"
        );
    }
}
