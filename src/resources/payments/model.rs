//! Payment request bodies (06 §1.13, §1.14) checked field by field, and the transaction read
//! shape (04 §2.2).

use super::rules::{fee_minor, payment_minor, AmountError};
use crate::domain::money::{Currency, Money};
use crate::error::ApiResult;
use crate::http::input::{Field, Input};
use crate::resources::customers::fields::is_uuid;
use chrono::NaiveDate;
use serde::Serialize;

pub const TYPES: &[&str] = &["payment", "refund", "payout", "chargeback"];
pub const STATUSES: &[&str] = &["pending", "waiting", "succeeded", "failed"];

/// A checked `POST /invoices/{id}/payments` body; amounts in minor units of the invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentWrite {
    pub amount: i64,
    pub fee: Option<i64>,
    /// `None`: a manual bank transfer (the issue allows omitting it until payment methods
    /// exist; the reference marks it required).
    pub payment_method_id: Option<String>,
    pub description: String,
    pub payment_date: NaiveDate,
}

/// The facts of the invoice a payment is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub currency: Currency,
    /// Minor units still due.
    pub unpaid: i64,
    /// Today in the tenant's time zone: the default date and the latest allowed one.
    pub today: NaiveDate,
}

fn amount_violation(input: &mut Input, key: &str, e: AmountError, currency: Currency) {
    input.violation(key, &e.message(currency), e.code());
}

/// A payment method reference: a UUID, or absent/null. Payment methods are not modelled yet,
/// so only the form is checked; once they exist this becomes "a usable method of the
/// invoice's customer" (422 otherwise).
pub fn payment_method_ref(input: &mut Input, key: &str) -> Option<String> {
    match input.string(key) {
        Field::Value(s) if is_uuid(&s) => Some(s),
        Field::Value(_) => {
            input.violation(
                key,
                "This value should be the id of a payment method.",
                "invalid_reference",
            );
            None
        }
        _ => None,
    }
}

impl PaymentWrite {
    pub fn from_input(mut input: Input, due: Due) -> ApiResult<PaymentWrite> {
        input.reject_unknown(&[
            "paymentMethod",
            "description",
            "amount",
            "currencyCode",
            "feeAmount",
            "paymentDate",
        ]);
        let payment_method_id = payment_method_ref(&mut input, "paymentMethod");
        let description = input.required_string("description");
        if let Some(d) = &description {
            input.check_len("description", d, 1, 255);
        }
        if let Field::Value(code) = input.string("currencyCode") {
            if code != due.currency.code {
                input.violation(
                    "currencyCode",
                    &format!(
                        "This value must be the invoice currency {}.",
                        due.currency.code
                    ),
                    "currency_mismatch",
                );
            }
        }
        // Absent or null: the whole amount due (06 §1.13).
        let amount = match input.decimal_number("amount") {
            Field::Value(v) => match payment_minor(v, due.currency, due.unpaid) {
                Ok(minor) => Some(minor),
                Err(e) => {
                    amount_violation(&mut input, "amount", e, due.currency);
                    None
                }
            },
            Field::Absent if input.has("amount") => None,
            _ => Some(due.unpaid),
        };
        let fee = match input.decimal_number("feeAmount") {
            Field::Value(v) => match fee_minor(v, due.currency) {
                Ok(minor) => Some(minor),
                Err(e) => {
                    amount_violation(&mut input, "feeAmount", e, due.currency);
                    None
                }
            },
            _ => None,
        };
        let payment_date = input.date("paymentDate").map(|d| d.unwrap_or(due.today));
        if payment_date.is_some_and(|d| d > due.today) {
            // Recording money that has not arrived yet would close an invoice too early.
            input.violation(
                "paymentDate",
                "This value should not be in the future.",
                "future_date",
            );
        }
        input.finish()?;
        match (amount, description, payment_date) {
            (Some(amount), Some(description), Some(payment_date)) => Ok(PaymentWrite {
                amount,
                fee,
                payment_method_id,
                description,
                payment_date,
            }),
            // `finish` reported every missing part already.
            _ => Err(crate::error::ApiError::Internal(
                "payment body incomplete after validation".into(),
            )),
        }
    }
}

/// A payment transaction as the API shows it (04 §2.2); `number` is a kontor extension: the
/// receipt number from the `payment` range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub amount: Money,
    pub fee: Option<Money>,
    pub invoice: Option<String>,
    /// The credit note a refund belongs to (kontor extension).
    pub credit_note: Option<String>,
    pub customer: String,
    pub payment_method: Option<String>,
    pub gateway: String,
    pub reference: Option<String>,
    pub description: Option<String>,
    pub payment_date: Option<String>,
    pub created_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn due() -> Due {
        Due {
            currency: Currency::parse("EUR").unwrap(),
            unpaid: 11900,
            today: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        }
    }

    fn parse(body: &str) -> ApiResult<PaymentWrite> {
        PaymentWrite::from_input(Input::parse(body.as_bytes()).unwrap(), due())
    }

    fn paths(r: ApiResult<PaymentWrite>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(v)) => v.into_iter().map(|v| v.property_path).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn defaults_to_the_whole_amount_today_by_bank_transfer() {
        let p = parse(r#"{"description": "Bank transfer"}"#).unwrap();
        assert_eq!(p.amount, 11900);
        assert_eq!(p.payment_method_id, None);
        assert_eq!(p.payment_date, due().today);
        assert_eq!(p.fee, None);
    }

    #[test]
    fn reads_numbers_exactly() {
        let p = parse(
            r#"{"description": "x", "amount": 50.10, "feeAmount": 0.35,
                "paymentDate": "2026-03-01", "currencyCode": "EUR",
                "paymentMethod": "0190b6e6-7c2a-7d3e-8a51-8f1d2c3b4a59"}"#,
        )
        .unwrap();
        assert_eq!((p.amount, p.fee), (5010, Some(35)));
        assert!(p.payment_method_id.is_some());
    }

    #[test]
    fn names_every_bad_field() {
        let got = paths(parse(
            r#"{"amount": 119.01, "feeAmount": -1, "currencyCode": "USD",
                "paymentDate": "2026-03-11", "paymentMethod": "x", "extra": 1}"#,
        ));
        assert_eq!(
            got,
            [
                "extra",
                "paymentMethod",
                "description",
                "currencyCode",
                "amount",
                "feeAmount",
                "paymentDate"
            ]
        );
        assert_eq!(
            paths(parse(r#"{"description": "x", "amount": 0}"#)),
            ["amount"]
        );
        assert_eq!(
            paths(parse(r#"{"description": "x", "amount": 1.005}"#)),
            ["amount"]
        );
        assert_eq!(
            paths(parse(r#"{"description": "x", "amount": "ten"}"#)),
            ["amount"]
        );
        assert_eq!(
            paths(parse(r#"{"description": "x", "paymentDate": "2026-3-1"}"#)),
            ["paymentDate"]
        );
    }
}
