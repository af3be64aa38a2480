//! Worked examples for the invoice calculation, each with its arithmetic written out.

use super::*;
use rust_decimal_macros::dec;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn tax(rate: Decimal) -> Option<TaxKey> {
    Some(TaxKey {
        rate,
        treatment: Treatment::Domestic,
        note: None,
    })
}

fn line(q: Decimal, price: Decimal, discount: Discount, rate: Decimal) -> Line {
    Line {
        quantity: q,
        unit_price: Some(price),
        discount,
        tax: tax(rate),
    }
}

#[test]
fn reference_worked_example() {
    // 06 §6: A 3 × 9.99 = 29.97 (19 %); B 1 × 100.00 − 10 % = 90.00 (19 %);
    // C 2 × 4.995 = 9.99 (7 %).
    // 19 %: 119.97 × 0.19 = 22.7943 -> 22.79; 7 %: 9.99 × 0.07 = 0.6993 -> 0.70.
    // net 129.96, tax 23.49, gross 153.45; discount 10.00.
    let lines = [
        line(dec!(3), dec!(9.99), Discount::None, dec!(19)),
        line(
            dec!(1),
            dec!(100.00),
            Discount::Percentage(dec!(10)),
            dec!(19),
        ),
        line(dec!(2), dec!(4.995), Discount::None, dec!(7)),
    ];
    let (amounts, t) = calculate(eur(), &lines).unwrap();
    assert_eq!(amounts[0].net, 2997);
    assert_eq!(
        (
            amounts[1].net_before_discount,
            amounts[1].discount,
            amounts[1].net
        ),
        (10000, 1000, 9000)
    );
    assert_eq!(amounts[2].net, 999);
    assert_eq!(
        (t.net, t.tax, t.gross, t.discount),
        (12996, 2349, 15345, 1000)
    );
    assert_eq!(t.breakdown.len(), 2);
    assert_eq!(
        (t.breakdown[0].rate, t.breakdown[0].net, t.breakdown[0].tax),
        (dec!(19), 11997, 2279)
    );
    assert_eq!(
        (t.breakdown[1].rate, t.breakdown[1].net, t.breakdown[1].tax),
        (dec!(7), 999, 70)
    );
}

#[test]
fn three_times_a_third_rounds_the_line_once() {
    // 3 × 0.333 = 0.999 -> 1.00 (not 3 × 0.33 = 0.99); tax 1.00 × 0.19 = 0.19; gross 1.19.
    let (_, t) = calculate(
        eur(),
        &[line(dec!(3), dec!(0.333), Discount::None, dec!(19))],
    )
    .unwrap();
    assert_eq!((t.net, t.tax, t.gross), (100, 19, 119));
    // Three separate lines of 1 × 0.333 are three rounded nets: 0.33 × 3 = 0.99;
    // tax 0.99 × 0.19 = 0.1881 -> 0.19; gross 1.18.
    let one = line(dec!(1), dec!(0.333), Discount::None, dec!(19));
    let (_, t) = calculate(eur(), &[one.clone(), one.clone(), one]).unwrap();
    assert_eq!((t.net, t.tax, t.gross), (99, 19, 118));
}

#[test]
fn tax_per_rate_differs_from_summed_line_taxes() {
    // Three lines of 4.99 at 19 %: each line's own tax 4.99 × 0.19 = 0.9481 -> 0.95, summed
    // 2.85. Per rate: 14.97 × 0.19 = 2.8443 -> 2.84. kontor uses the per-rate 2.84.
    let l = line(dec!(1), dec!(4.99), Discount::None, dec!(19));
    let (amounts, t) = calculate(eur(), &[l.clone(), l.clone(), l]).unwrap();
    assert_eq!(amounts.iter().map(|a| a.tax).sum::<i64>(), 285);
    assert_eq!((t.net, t.tax, t.gross), (1497, 284, 1781));
}

#[test]
fn per_unit_discount_scales_with_quantity() {
    // 4 × (12.50 − 0.125) = 4 × 12.375 = 49.50; before discount 50.00, discount 0.50.
    let (a, t) = calculate(
        eur(),
        &[line(
            dec!(4),
            dec!(12.50),
            Discount::PerUnit(dec!(0.125)),
            dec!(19),
        )],
    )
    .unwrap();
    assert_eq!(
        (a[0].net_before_discount, a[0].discount, a[0].net),
        (5000, 50, 4950)
    );
    // 49.50 × 0.19 = 9.405 -> 9.41 (half away from zero).
    assert_eq!((t.net, t.tax, t.gross, t.discount), (4950, 941, 5891, 50));
}

#[test]
fn percentage_discount_rounds_once() {
    // 3 × 3.33 = 9.99; × 0.85 = 8.4915 -> 8.49 (rounding 9.99 first and then the discount
    // 1.4985 -> 1.50 would give the same here, but the rule is one rounding of the product).
    let (a, _) = calculate(
        eur(),
        &[line(
            dec!(3),
            dec!(3.33),
            Discount::Percentage(dec!(15)),
            dec!(19),
        )],
    )
    .unwrap();
    assert_eq!(
        (a[0].net_before_discount, a[0].net, a[0].discount),
        (999, 849, 150)
    );
}

#[test]
fn negative_quantities_and_credit_lines_round_symmetrically() {
    // −3 × 0.333 = −0.999 -> −1.00; a discount line −10.00; 19 % on −11.00 = −2.09.
    let lines = [
        line(dec!(-3), dec!(0.333), Discount::None, dec!(19)),
        line(dec!(1), dec!(-10.00), Discount::None, dec!(19)),
    ];
    let (_, t) = calculate(eur(), &lines).unwrap();
    assert_eq!((t.net, t.tax, t.gross), (-1100, -209, -1309));
    // A mirrored (negated) document mirrors every amount exactly.
    let (_, pos) = calculate(
        eur(),
        &[line(dec!(3), dec!(0.333), Discount::None, dec!(19))],
    )
    .unwrap();
    let (_, neg) = calculate(
        eur(),
        &[line(dec!(-3), dec!(0.333), Discount::None, dec!(19))],
    )
    .unwrap();
    assert_eq!(
        (pos.net, pos.tax, pos.gross),
        (-neg.net, -neg.tax, -neg.gross)
    );
}

#[test]
fn jpy_has_no_minor_unit() {
    // 3 × 333.5 = 1000.5 -> 1001 yen; 19 %: 190.19 -> 190; gross 1191.
    let jpy = Currency::parse("JPY").unwrap();
    let (_, t) = calculate(jpy, &[line(dec!(3), dec!(333.5), Discount::None, dec!(19))]).unwrap();
    assert_eq!((t.net, t.tax, t.gross), (1001, 190, 1191));
}

#[test]
fn zero_rate_treatments_are_separate_rows_and_headings_count_nothing() {
    let rc = Line {
        quantity: dec!(1),
        unit_price: Some(dec!(100)),
        discount: Discount::None,
        tax: Some(TaxKey {
            rate: dec!(0),
            treatment: Treatment::ReverseCharge,
            note: Some("RC".into()),
        }),
    };
    let export = Line {
        tax: Some(TaxKey {
            rate: dec!(0),
            treatment: Treatment::NonEu,
            note: Some("export".into()),
        }),
        ..rc.clone()
    };
    let heading = Line {
        quantity: dec!(1),
        unit_price: None,
        discount: Discount::None,
        tax: None,
    };
    let (a, t) = calculate(eur(), &[heading, rc, export]).unwrap();
    assert_eq!(a[0], LineAmounts::default());
    assert_eq!((t.net, t.tax, t.gross), (20000, 0, 20000));
    assert_eq!(t.breakdown.len(), 2);
    assert_eq!(t.breakdown[0].note.as_deref(), Some("RC"));
}

#[test]
fn overflow_is_refused_not_rounded() {
    let huge = line(
        dec!(1000000000000),
        dec!(100000000000),
        Discount::None,
        dec!(19),
    );
    assert_eq!(calculate(eur(), &[huge]), Err(Overflow));
}

#[test]
fn treatment_names_round_trip() {
    for t in [
        Treatment::Domestic,
        Treatment::ReverseCharge,
        Treatment::NonEu,
        Treatment::SmallBusiness,
        Treatment::Exempt,
        Treatment::EuConsumer,
    ] {
        assert_eq!(parse_treatment(treatment_name(t)), Some(t));
        assert_eq!(serde_json::to_value(t).unwrap(), treatment_name(t));
    }
}
