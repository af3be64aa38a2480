//! Rules of corrections (reference 06 §1.8, §1.9, §1.16-1.17): which documents may be cancelled
//! or credited, which quantities a credit note takes, and how a correction's total is settled
//! against the original's amount due. Pure: no database, no HTTP.

use crate::domain::money::Currency;
use crate::error::Violation;
use rust_decimal::Decimal;

pub use crate::resources::invoices::model::{
    STATUS_CANCELLED, STATUS_DRAFT, STATUS_PAID, STATUS_UNPAID, TYPE_CANCELLATION, TYPE_CREDIT,
    TYPE_INVOICE,
};

/// Credit-note reasons (06 §1.9); `other` when absent.
pub const REASONS: &[&str] = &[
    "duplicate",
    "incorrect",
    "product_unsatisfactory",
    "order_change",
    "other",
];

/// Why a document cannot be corrected: answered as 409 with this text.
fn correctable(kind: &str, status: &str, action: &str) -> Result<(), String> {
    if kind != TYPE_INVOICE {
        return Err(format!(
            "Only invoices can be {action}; this document is a {}.",
            if kind == TYPE_CREDIT {
                "credit note"
            } else {
                "cancellation document"
            }
        ));
    }
    match status {
        STATUS_UNPAID | STATUS_PAID => Ok(()),
        STATUS_DRAFT => Err(format!(
            "A draft cannot be {action}; change or delete it instead."
        )),
        STATUS_CANCELLED => Err(format!("This invoice is cancelled and cannot be {action}.")),
        other => Err(format!("An invoice in {other} cannot be {action}.")),
    }
}

/// Storno: finalized invoices only, and none with credit notes. A credit note already took back
/// part of the invoice, so a full mirror would take that part back twice; crediting what is
/// left closes the invoice instead.
pub fn check_cancel(kind: &str, status: &str, credit_notes: usize) -> Result<(), String> {
    correctable(kind, status, "cancelled")?;
    if credit_notes > 0 {
        return Err(format!(
            "This invoice has {credit_notes} credit note(s); a cancellation would take their \
             amounts back a second time. Credit the remaining positions instead."
        ));
    }
    Ok(())
}

pub fn check_credit(kind: &str, status: &str) -> Result<(), String> {
    correctable(kind, status, "credited")
}

/// One position of the original invoice as far as crediting goes. `credited` is a magnitude
/// (stored so): a line of -2 (a discount line, say) has 2 to credit, like a line of 2.
#[derive(Debug, Clone, PartialEq)]
pub struct Creditable {
    pub id: String,
    pub name: String,
    pub quantity: Decimal,
    pub credited: Decimal,
    /// A parent without a price of its own: it carries no money, so there is nothing to
    /// credit on it (credit notes copy it only as the heading of credited children).
    pub heading: bool,
}

impl Creditable {
    /// `creditableQuantity`: what is not credited yet (never below 0; 0 for headings).
    pub fn left(&self) -> Decimal {
        if self.heading {
            return Decimal::ZERO;
        }
        (self.quantity.abs() - self.credited).max(Decimal::ZERO)
    }

    /// The signed quantity of the original that `magnitude` of credit stands for.
    pub fn signed(&self, magnitude: Decimal) -> Decimal {
        if self.quantity.is_sign_negative() {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// One entry of the request's `positions`, already type-checked; `index` is its place in the
/// request, for violation paths. `quantity` is a positive amount of the position, like
/// `creditableQuantity`; `None`: all that is left of the position.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    pub index: usize,
    pub position: String,
    pub quantity: Option<Decimal>,
}

/// What a credit note takes: per position of the original (same order), the magnitude credited
/// now (see `Creditable::signed`), 0 for untouched positions.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Quantities(Vec<Decimal>),
    /// Nothing left to credit on the whole invoice (a state, hence 409, not a field error).
    NothingLeft,
}

/// Picks the quantities to credit: every remaining quantity when `requested` is `None`,
/// otherwise the listed ones, each checked against what is left of its position.
pub fn choose(
    positions: &[Creditable],
    requested: Option<&[Requested]>,
) -> Result<Choice, Vec<Violation>> {
    let Some(requested) = requested else {
        let all: Vec<Decimal> = positions.iter().map(Creditable::left).collect();
        if all.iter().all(Decimal::is_zero) {
            return Ok(Choice::NothingLeft);
        }
        return Ok(Choice::Quantities(all));
    };
    let mut violations = Vec::new();
    if requested.is_empty() {
        violations.push(Violation::new(
            "positions",
            "This collection should contain 1 element or more.",
            "too_few",
        ));
    }
    let mut chosen = vec![Decimal::ZERO; positions.len()];
    let mut seen: Vec<usize> = Vec::new();
    for r in requested {
        let path = format!("positions[{}]", r.index);
        let Some(at) = positions.iter().position(|p| p.id == r.position) else {
            violations.push(Violation::new(
                format!("{path}.positionItem"),
                "This value is not a position of this invoice.",
                "unknown_position",
            ));
            continue;
        };
        if seen.contains(&at) {
            violations.push(Violation::new(
                format!("{path}.positionItem"),
                "This position is listed more than once.",
                "duplicate_position",
            ));
            continue;
        }
        seen.push(at);
        let p = &positions[at];
        if p.heading {
            violations.push(Violation::new(
                format!("{path}.positionItem"),
                format!(
                    "Position '{}' ({}) is a heading without a price; credit its children.",
                    p.name, p.id
                ),
                "not_creditable",
            ));
            continue;
        }
        let left = p.left();
        // Like `creditableQuantity`, a quantity to credit is an amount of the position, so it
        // is positive even for a line of -1 (a discount line credits 1 of its 1).
        let magnitude = match r.quantity {
            None => left,
            Some(q) if q > Decimal::ZERO => q,
            Some(_) => {
                violations.push(Violation::new(
                    format!("{path}.quantity"),
                    "This value should be greater than 0.",
                    "not_positive",
                ));
                continue;
            }
        };
        if magnitude > left || left.is_zero() {
            violations.push(Violation::new(
                format!("{path}.quantity"),
                format!(
                    "Position '{}' ({}) has {} of {} left to credit; {} requested.",
                    p.name,
                    p.id,
                    left.normalize(),
                    p.quantity.abs().normalize(),
                    magnitude.normalize()
                ),
                "exceeds_creditable_quantity",
            ));
        } else {
            chosen[at] = magnitude;
        }
    }
    if violations.is_empty() {
        Ok(Choice::Quantities(chosen))
    } else {
        Err(violations)
    }
}

/// A credit note takes money back, and never more than the invoice is worth: `credit` (this
/// note's gross, positive when it takes back) must not be negative, and together with what
/// earlier notes took (`credited`) it must not exceed the invoice's `gross`. Crediting a
/// product without its discount line (or the discount line alone) breaks one of the two; the
/// positions have to be credited together. Amounts in minor units of `currency`.
pub fn check_credit_total(
    gross: i64,
    credited: i64,
    credit: i64,
    currency: Currency,
) -> Result<(), Violation> {
    let show = |minor: i64| format!("{} {}", currency.from_minor(minor), currency.code);
    if credit < 0 {
        return Err(Violation::new(
            "positions",
            format!(
                "These positions would add {} to what the customer owes; credit them \
                 together with the positions they reduce.",
                show(-credit)
            ),
            "not_a_credit",
        ));
    }
    if credited + credit > gross {
        return Err(Violation::new(
            "positions",
            format!(
                "These positions would credit {}, more than the {} left of the invoice; \
                 credit its discount positions with them.",
                show(credit),
                show(gross - credited)
            ),
            "exceeds_invoice_total",
        ));
    }
    Ok(())
}

/// How much of a correction (its gross, in minor units, with the sign of the original's money:
/// positive for taking back a positive invoice) is set off against the original's `unpaid`
/// amount, and how much had been paid already and is owed back to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offset {
    pub against_unpaid: i64,
    pub to_refund: i64,
}

pub fn offset(correction: i64, unpaid: i64) -> Offset {
    let against_unpaid = if correction >= 0 && unpaid >= 0 {
        correction.min(unpaid)
    } else if correction <= 0 && unpaid <= 0 {
        correction.max(unpaid)
    } else {
        0
    };
    Offset {
        against_unpaid,
        to_refund: correction - against_unpaid,
    }
}

impl Offset {
    /// The correction document's own status and `unpaidAmount` (negative: owed to the
    /// customer): settled at once when nothing was paid, open while a refund is due.
    pub fn document_state(&self) -> (&'static str, i64) {
        if self.to_refund == 0 {
            (STATUS_PAID, 0)
        } else {
            (STATUS_UNPAID, -self.to_refund)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn pos(id: &str, quantity: Decimal, credited: Decimal) -> Creditable {
        Creditable {
            id: id.into(),
            name: format!("Line {id}"),
            quantity,
            credited,
            heading: false,
        }
    }

    fn req(index: usize, position: &str, quantity: Option<Decimal>) -> Requested {
        Requested {
            index,
            position: position.into(),
            quantity,
        }
    }

    #[test]
    fn only_finalized_invoices_are_corrected() {
        assert!(check_cancel(TYPE_INVOICE, STATUS_UNPAID, 0).is_ok());
        assert!(check_cancel(TYPE_INVOICE, STATUS_PAID, 0).is_ok());
        assert!(check_cancel(TYPE_INVOICE, STATUS_DRAFT, 0).is_err());
        assert!(check_cancel(TYPE_INVOICE, STATUS_CANCELLED, 0).is_err());
        assert!(check_cancel(TYPE_CREDIT, STATUS_PAID, 0).is_err());
        assert!(check_cancel(TYPE_CANCELLATION, STATUS_PAID, 0).is_err());
        assert!(check_cancel(TYPE_INVOICE, STATUS_UNPAID, 1).is_err());
        assert!(check_credit(TYPE_INVOICE, STATUS_PAID).is_ok());
        assert!(check_credit(TYPE_INVOICE, STATUS_CANCELLED).is_err());
        assert!(check_credit(TYPE_CREDIT, STATUS_UNPAID).is_err());
    }

    #[test]
    fn all_takes_what_is_left() {
        let positions = [pos("a", dec!(3), dec!(1)), pos("b", dec!(-2), dec!(0))];
        assert_eq!(
            choose(&positions, None),
            Ok(Choice::Quantities(vec![dec!(2), dec!(2)]))
        );
        assert_eq!(positions[1].signed(dec!(2)), dec!(-2));
        // A negative line is credited by positive amounts of it, like any other.
        assert_eq!(
            choose(&positions, Some(&[req(0, "b", Some(dec!(1)))])),
            Ok(Choice::Quantities(vec![dec!(0), dec!(1)]))
        );
        let err = choose(&positions, Some(&[req(0, "b", Some(dec!(-1)))])).unwrap_err();
        assert_eq!(err[0].code, "not_positive");
        let done = [pos("a", dec!(3), dec!(3))];
        assert_eq!(choose(&done, None), Ok(Choice::NothingLeft));
    }

    #[test]
    fn chosen_quantities_are_checked_per_position() {
        let positions = [pos("a", dec!(3), dec!(1)), pos("b", dec!(1), dec!(0))];
        assert_eq!(
            choose(&positions, Some(&[req(0, "a", Some(dec!(1.5)))])),
            Ok(Choice::Quantities(vec![dec!(1.5), dec!(0)]))
        );
        assert_eq!(
            choose(&positions, Some(&[req(0, "b", None)])),
            Ok(Choice::Quantities(vec![dec!(0), dec!(1)]))
        );
        let err = choose(
            &positions,
            Some(&[
                req(0, "a", Some(dec!(2.5))),
                req(1, "x", Some(dec!(1))),
                req(2, "b", Some(dec!(0))),
                req(3, "b", Some(dec!(1))),
            ]),
        )
        .unwrap_err();
        let got: Vec<(&str, &str)> = err
            .iter()
            .map(|v| (v.property_path.as_str(), v.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("positions[0].quantity", "exceeds_creditable_quantity"),
                ("positions[1].positionItem", "unknown_position"),
                ("positions[2].quantity", "not_positive"),
                ("positions[3].positionItem", "duplicate_position"),
            ]
        );
        assert_eq!(
            err[0].message,
            "Position 'Line a' (a) has 2 of 3 left to credit; 2.5 requested."
        );
        let empty = choose(&positions, Some(&[])).unwrap_err();
        assert_eq!(empty[0].property_path, "positions");
    }

    #[test]
    fn headings_carry_nothing_to_credit() {
        let mut heading = pos("h", dec!(1), dec!(0));
        heading.heading = true;
        let positions = [heading, pos("a", dec!(2), dec!(0))];
        assert_eq!(
            choose(&positions, None),
            Ok(Choice::Quantities(vec![dec!(0), dec!(2)]))
        );
        let err = choose(&positions, Some(&[req(0, "h", None)])).unwrap_err();
        assert_eq!(
            (err[0].property_path.as_str(), err[0].code.as_str()),
            ("positions[0].positionItem", "not_creditable")
        );
    }

    #[test]
    fn a_fully_credited_position_refuses_more() {
        let positions = [pos("a", dec!(2), dec!(2))];
        let err = choose(&positions, Some(&[req(0, "a", None)])).unwrap_err();
        assert_eq!(err[0].code, "exceeds_creditable_quantity");
    }

    #[test]
    fn credits_stay_between_nothing_and_the_invoice() {
        let eur = Currency::parse("EUR").unwrap();
        // 100.00 + 19 % with a −10.00 discount line: gross 107.10.
        assert!(check_credit_total(10710, 0, 10710, eur).is_ok());
        assert!(check_credit_total(10710, 5000, 5710, eur).is_ok());
        assert!(check_credit_total(10710, 0, 0, eur).is_ok());
        // The product alone (119.00) is more than the invoice.
        let e = check_credit_total(10710, 0, 11900, eur).unwrap_err();
        assert_eq!(e.code, "exceeds_invoice_total");
        assert!(e.message.contains("119.00 EUR") && e.message.contains("107.10 EUR"));
        // The discount line alone would charge 11.90 more.
        let e = check_credit_total(10710, 0, -1190, eur).unwrap_err();
        assert_eq!(e.code, "not_a_credit");
        assert!(e.message.contains("11.90 EUR"));
    }

    #[test]
    fn offsets_take_the_unpaid_part_first() {
        // 119.00 invoice, 50.00 paid (69.00 due), fully taken back: 69.00 set off, 50.00 owed.
        let o = offset(11900, 6900);
        assert_eq!(
            o,
            Offset {
                against_unpaid: 6900,
                to_refund: 5000
            }
        );
        assert_eq!(o.document_state(), (STATUS_UNPAID, -5000));
        // Nothing paid: all set off, the correction is settled at once.
        let o = offset(11900, 11900);
        assert_eq!(o.to_refund, 0);
        assert_eq!(o.document_state(), (STATUS_PAID, 0));
        // Part of an unpaid invoice.
        assert_eq!(offset(3000, 11900).against_unpaid, 3000);
        // Fully paid invoice: everything is refunded.
        assert_eq!(offset(3000, 0).to_refund, 3000);
        // A negative invoice (money owed to the customer) mirrors the signs.
        assert_eq!(
            offset(-500, -500),
            Offset {
                against_unpaid: -500,
                to_refund: 0
            }
        );
    }
}
