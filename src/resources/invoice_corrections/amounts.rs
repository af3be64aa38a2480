//! Amounts of correction documents, computed with the invoice calculation
//! (`billing::invoice_calc`, reference 06 §6) so they follow the same per-rate rounding.
//!
//! A correction that takes quantities `now` on top of what earlier credit notes took (`before`)
//! gets calc(before + now) − calc(before), negated. The differences telescope: however an
//! invoice is credited in parts, the parts add up to exactly what one credit note for the sum
//! would be, and crediting everything gives exactly the negated invoice. A part's own tax can
//! therefore differ by at most one minor unit per rate from round(its net × rate), within the
//! EN 16931 tolerance (BR-CO-17); summing independently rounded parts instead could leave a
//! cent unpaid or credit a cent too much.
//!
//! Example (3 × 9.99 at 19 %, invoice net 29.97, tax round(5.6943) = 5.69, gross 35.66):
//! crediting 1 gives net 9.99, tax round(1.8981) = 1.90, gross 11.89; crediting the other 2
//! then gives net 29.97 − 9.99 = 19.98, tax 5.69 − 1.90 = 3.79, gross 23.77; 11.89 + 23.77 =
//! 35.66. Two independent credit notes would have been 11.89 + 23.78 = 35.67.

use crate::billing::invoice_calc::{calculate, Line, LineAmounts, Overflow, RateTotal, Totals};
use crate::domain::exact;
use crate::domain::money::Currency;
use rust_decimal::Decimal;

fn with_quantities(lines: &[Line], quantities: &[Decimal]) -> Vec<Line> {
    lines
        .iter()
        .zip(quantities)
        .map(|(l, q)| Line {
            quantity: *q,
            ..l.clone()
        })
        .collect()
}

/// `-(a - b)`, checked.
fn taken(a: i64, b: i64) -> Result<i64, Overflow> {
    a.checked_sub(b).and_then(i64::checked_neg).ok_or(Overflow)
}

/// The correction's amounts per line (same order as `lines`; untouched lines are all 0) and
/// its totals. `before` and `now` are signed like the original's quantities; the result has
/// the opposite sign of the original's money. Only rates of lines taken `now` appear in the
/// breakdown.
pub fn correction_amounts(
    currency: Currency,
    lines: &[Line],
    before: &[Decimal],
    now: &[Decimal],
) -> Result<(Vec<LineAmounts>, Totals), Overflow> {
    if lines.len() != before.len() || lines.len() != now.len() {
        return Err(Overflow);
    }
    let after = before
        .iter()
        .zip(now)
        .map(|(b, n)| exact::add(*b, *n).ok_or(Overflow))
        .collect::<Result<Vec<_>, _>>()?;
    let (lines_after, totals_after) = calculate(currency, &with_quantities(lines, &after))?;
    let (lines_before, totals_before) = calculate(currency, &with_quantities(lines, before))?;

    let amounts = lines_after
        .iter()
        .zip(&lines_before)
        .map(|(a, b)| {
            Ok(LineAmounts {
                net_before_discount: taken(a.net_before_discount, b.net_before_discount)?,
                discount: taken(a.discount, b.discount)?,
                net: taken(a.net, b.net)?,
                tax: taken(a.tax, b.tax)?,
            })
        })
        .collect::<Result<Vec<_>, Overflow>>()?;

    let mut breakdown = Vec::new();
    for row in &totals_after.breakdown {
        let touched = lines.iter().zip(now).any(|(l, n)| {
            !n.is_zero()
                && l.unit_price.is_some()
                && l.tax
                    .as_ref()
                    .is_some_and(|t| t.rate == row.rate && t.treatment == row.treatment)
        });
        if !touched {
            continue;
        }
        let (net_before, tax_before) = totals_before
            .breakdown
            .iter()
            .find(|r| r.rate == row.rate && r.treatment == row.treatment)
            .map_or((0, 0), |r| (r.net, r.tax));
        breakdown.push(RateTotal {
            rate: row.rate,
            treatment: row.treatment,
            note: row.note.clone(),
            net: taken(row.net, net_before)?,
            tax: taken(row.tax, tax_before)?,
        });
    }
    let net = taken(totals_after.net, totals_before.net)?;
    let tax = taken(totals_after.tax, totals_before.tax)?;
    let totals = Totals {
        net,
        tax,
        gross: net.checked_add(tax).ok_or(Overflow)?,
        discount: taken(totals_after.discount, totals_before.discount)?,
        breakdown,
    };
    Ok((amounts, totals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::invoice_calc::{Discount, TaxKey};
    use crate::domain::tax::Treatment;
    use rust_decimal_macros::dec;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn line(quantity: Decimal, price: Decimal, rate: Decimal, discount: Discount) -> Line {
        Line {
            quantity,
            unit_price: Some(price),
            discount,
            tax: Some(TaxKey {
                rate,
                treatment: Treatment::Domestic,
                note: None,
            }),
        }
    }

    fn full(lines: &[Line]) -> (Vec<Decimal>, Vec<Decimal>) {
        (
            vec![Decimal::ZERO; lines.len()],
            lines.iter().map(|l| l.quantity).collect(),
        )
    }

    #[test]
    fn a_cancellation_mirrors_the_reference_example() {
        // 06 §6: A 3 × 9.99 (29.97, 19 %), B 1 × 100.00 − 10 % (90.00, 19 %),
        // C 2 × 4.995 (9.99, 7 %). 19 %: 119.97 × 0.19 = 22.7943 -> 22.79; 7 %: 0.6993 -> 0.70.
        // Invoice: net 129.96, tax 23.49, gross 153.45; the mirror is all of it negated.
        let lines = [
            line(dec!(3), dec!(9.99), dec!(19), Discount::None),
            line(
                dec!(1),
                dec!(100.00),
                dec!(19),
                Discount::Percentage(dec!(10)),
            ),
            line(dec!(2), dec!(4.995), dec!(7), Discount::None),
        ];
        let (before, now) = full(&lines);
        let (amounts, totals) = correction_amounts(eur(), &lines, &before, &now).unwrap();
        assert_eq!(
            amounts.iter().map(|a| a.net).collect::<Vec<_>>(),
            [-2997, -9000, -999]
        );
        assert_eq!(amounts[1].discount, -1000);
        assert_eq!(
            (totals.net, totals.tax, totals.gross),
            (-12996, -2349, -15345)
        );
        let rows: Vec<_> = totals
            .breakdown
            .iter()
            .map(|r| (r.rate, r.net, r.tax))
            .collect();
        assert_eq!(rows, [(dec!(19), -11997, -2279), (dec!(7), -999, -70)]);
        let (_, original) = calculate(eur(), &lines).unwrap();
        assert_eq!(totals.gross, -original.gross);
    }

    #[test]
    fn partial_credits_telescope_to_the_invoice() {
        let lines = [line(dec!(3), dec!(9.99), dec!(19), Discount::None)];
        let (_, first) = correction_amounts(eur(), &lines, &[dec!(0)], &[dec!(1)]).unwrap();
        // 9.99 × 0.19 = 1.8981 -> 1.90.
        assert_eq!((first.net, first.tax, first.gross), (-999, -190, -1189));
        let (_, second) = correction_amounts(eur(), &lines, &[dec!(1)], &[dec!(2)]).unwrap();
        // calc(3): 29.97, 5.69 (5.6943); minus calc(1): 19.98, 3.79, 23.77.
        assert_eq!((second.net, second.tax, second.gross), (-1998, -379, -2377));
        assert_eq!(first.gross + second.gross, -3566);
    }

    #[test]
    fn thirds_of_a_rounded_line_add_up() {
        // 3 × 0.333 = 0.999 -> 1.00 at 0 %; credited 1 + 1 + 1: 0.33, 0.67 − 0.33 = 0.34,
        // 1.00 − 0.67 = 0.33; together 1.00, not 3 × 0.33 = 0.99.
        let lines = [line(dec!(3), dec!(0.333), dec!(0), Discount::None)];
        let nets: Vec<i64> = [0, 1, 2]
            .iter()
            .map(|b| {
                correction_amounts(eur(), &lines, &[Decimal::from(*b)], &[dec!(1)])
                    .unwrap()
                    .1
                    .net
            })
            .collect();
        assert_eq!(nets, [-33, -34, -33]);
        assert_eq!(nets.iter().sum::<i64>(), -100);
    }

    #[test]
    fn untouched_lines_and_rates_stay_out() {
        let lines = [
            line(dec!(1), dec!(10), dec!(19), Discount::None),
            line(dec!(-1), dec!(2), dec!(7), Discount::PerUnit(dec!(0.5))),
        ];
        let (amounts, totals) =
            correction_amounts(eur(), &lines, &[dec!(0), dec!(0)], &[dec!(0), dec!(-1)]).unwrap();
        // The −1 × (2.00 − 0.50) = −1.50 line taken back: +1.50 net, tax round(0.105) = 0.11.
        assert_eq!(amounts[0], LineAmounts::default());
        assert_eq!(amounts[1].net, 150);
        assert_eq!(totals.breakdown.len(), 1);
        assert_eq!((totals.net, totals.tax, totals.gross), (150, 11, 161));
    }

    #[test]
    fn mismatched_inputs_are_refused() {
        let lines = [line(dec!(1), dec!(1), dec!(19), Discount::None)];
        assert_eq!(
            correction_amounts(eur(), &lines, &[], &[dec!(1)]),
            Err(Overflow)
        );
    }
}
