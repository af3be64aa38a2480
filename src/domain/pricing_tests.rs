//! Unit tests of the pricing engine: the worked examples of reference 10 §5.4 and the edge
//! cases around them, with the arithmetic written out.

use super::*;
use rust_decimal_macros::dec;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn plan(model: Model) -> Pricing {
    Pricing {
        model,
        free_units: Decimal::ZERO,
        currency: eur(),
    }
}

fn tier(from: u64, to: Option<u64>, unit_price: Decimal, flat_amount: Decimal) -> Tier {
    Tier {
        from,
        to,
        unit_price,
        flat_amount,
    }
}

/// 1–10 @ 10.00, 11–50 @ 8.00, 51+ @ 6.00 (reference 10 §5.4).
fn guide_tiers() -> Vec<Tier> {
    vec![
        tier(1, Some(10), dec!(10.00), dec!(0)),
        tier(11, Some(50), dec!(8.00), dec!(0)),
        tier(51, None, dec!(6.00), dec!(0)),
    ]
}

/// Bands 1–10 = 50.00, 11–50 = 150.00, 51+ = 300.00.
fn stair_tiers() -> Vec<Tier> {
    vec![
        tier(1, Some(10), dec!(0), dec!(50.00)),
        tier(11, Some(50), dec!(0), dec!(150.00)),
        tier(51, None, dec!(0), dec!(300.00)),
    ]
}

fn net(p: &Pricing, q: Decimal) -> Decimal {
    calculate(p, q).unwrap().net_rounded
}

#[test]
fn per_unit() {
    // 5.00 × 10 = 50.00
    let c = calculate(&plan(Model::PerUnit { price: dec!(5.00) }), dec!(10)).unwrap();
    assert_eq!(c.net_exact, dec!(50.00));
    assert_eq!(c.net_rounded, dec!(50.00));
    assert_eq!(c.lines.len(), 1);
    assert_eq!(
        (c.lines[0].kind, c.lines[0].quantity, c.lines[0].unit_price),
        (LineKind::Units, dec!(10), dec!(5.00))
    );
}

#[test]
fn flat_fee_ignores_the_quantity() {
    let p = plan(Model::FlatFee { price: dec!(29.99) });
    // 1 × 29.99, for 0, 1 or 1000 units alike.
    for q in [dec!(0), dec!(1), dec!(1000)] {
        let c = calculate(&p, q).unwrap();
        assert_eq!(c.net_rounded, dec!(29.99));
        assert_eq!(
            (c.lines[0].kind, c.lines[0].quantity),
            (LineKind::Flat, dec!(1))
        );
    }
}

#[test]
fn tiered_is_graduated() {
    let p = plan(Model::Tiered {
        tiers: guide_tiers(),
    });
    // 60 units: 10 × 10.00 + 40 × 8.00 + 10 × 6.00 = 100.00 + 320.00 + 60.00 = 480.00
    let c = calculate(&p, dec!(60)).unwrap();
    assert_eq!(c.net_exact, dec!(480.00));
    let bands: Vec<_> = c
        .lines
        .iter()
        .map(|l| (l.tier, l.quantity, l.net))
        .collect();
    assert_eq!(
        bands,
        vec![
            (Some(0), dec!(10), dec!(100.00)),
            (Some(1), dec!(40), dec!(320.00)),
            (Some(2), dec!(10), dec!(60.00)),
        ]
    );
    // Band edges: 10 units = 10 × 10.00 = 100.00; 11 units = 100.00 + 1 × 8.00 = 108.00;
    // 50 units = 100.00 + 40 × 8.00 = 420.00; 0 units = nothing.
    assert_eq!(net(&p, dec!(10)), dec!(100.00));
    assert_eq!(net(&p, dec!(11)), dec!(108.00));
    assert_eq!(net(&p, dec!(50)), dec!(420.00));
    assert_eq!(calculate(&p, dec!(0)).unwrap().lines, vec![]);
    assert_eq!(net(&p, dec!(0)), dec!(0));
    // Fractional quantity: 10.5 = 10 × 10.00 + 0.5 × 8.00 = 104.00
    assert_eq!(net(&p, dec!(10.5)), dec!(104.00));
}

#[test]
fn tiered_adds_the_flat_amount_of_every_band_reached() {
    let mut tiers = guide_tiers();
    tiers[0].flat_amount = dec!(20.00);
    tiers[1].flat_amount = dec!(5.00);
    tiers[2].flat_amount = dec!(1.00);
    let p = plan(Model::Tiered { tiers });
    // 15 units reach bands 1 and 2: 10 × 10.00 + 20.00 + 5 × 8.00 + 5.00 = 165.00
    let c = calculate(&p, dec!(15)).unwrap();
    assert_eq!(c.net_exact, dec!(165.00));
    assert_eq!(c.lines.len(), 4);
    assert_eq!(c.lines[1].kind, LineKind::Flat);
    // 60 units reach all three: 480.00 + 20.00 + 5.00 + 1.00 = 506.00
    assert_eq!(net(&p, dec!(60)), dec!(506.00));
}

#[test]
fn volume_prices_every_unit_in_the_band_reached() {
    let p = plan(Model::Volume {
        tiers: guide_tiers(),
    });
    // 60 units fall into 51+: 60 × 6.00 = 360.00
    let c = calculate(&p, dec!(60)).unwrap();
    assert_eq!(c.net_exact, dec!(360.00));
    assert_eq!((c.lines[0].tier, c.lines[0].quantity), (Some(2), dec!(60)));
    // 10 units: 10 × 10.00 = 100.00; 11 units: 11 × 8.00 = 88.00 (cheaper: that is volume).
    assert_eq!(net(&p, dec!(10)), dec!(100.00));
    assert_eq!(net(&p, dec!(11)), dec!(88.00));
    assert_eq!(net(&p, dec!(0)), dec!(0));
    // With a flat amount on the band: 20 × 8.00 + 15.00 = 175.00
    let mut tiers = guide_tiers();
    tiers[1].flat_amount = dec!(15.00);
    assert_eq!(net(&plan(Model::Volume { tiers }), dec!(20)), dec!(175.00));
}

#[test]
fn stair_step_prices_the_band() {
    let p = plan(Model::StairStep {
        tiers: stair_tiers(),
    });
    // 60 units fall into 51+: 300.00
    let c = calculate(&p, dec!(60)).unwrap();
    assert_eq!(c.net_exact, dec!(300.00));
    assert_eq!(
        (c.lines[0].kind, c.lines[0].quantity, c.lines[0].tier),
        (LineKind::Flat, dec!(1), Some(2))
    );
    assert_eq!(net(&p, dec!(1)), dec!(50.00));
    assert_eq!(net(&p, dec!(10)), dec!(50.00));
    assert_eq!(net(&p, dec!(11)), dec!(150.00));
    assert_eq!(net(&p, dec!(50)), dec!(150.00));
    // No units, no step (kontor): 0.
    assert_eq!(calculate(&p, dec!(0)).unwrap().lines, vec![]);
    assert_eq!(net(&p, dec!(0)), dec!(0));
}

#[test]
fn percentage_of_the_base_value() {
    let p = plan(Model::Percentage { percent: dec!(2.5) });
    // 2.5 % of 12,000.00 = 12,000.00 × 0.025 = 300.00
    let c = calculate(&p, dec!(12000.00)).unwrap();
    assert_eq!(c.net_exact, dec!(300.00));
    assert_eq!(c.lines[0].unit_price, dec!(0.025));
    assert_eq!(c.lines[0].kind, LineKind::Percentage);
    // 2.5 % of 0.50 = 0.0125 -> 0.01 (half away from zero only at exactly .005)
    assert_eq!(net(&p, dec!(0.50)), dec!(0.01));
    // 2.5 % of 0.20 = 0.005 -> 0.01
    assert_eq!(net(&p, dec!(0.20)), dec!(0.01));
}

#[test]
fn free_units_are_deducted_first() {
    let mut p = plan(Model::PerUnit { price: dec!(5.00) });
    p.free_units = dec!(1);
    // 10 units, 1 free: 9 × 5.00 = 45.00
    let c = calculate(&p, dec!(10)).unwrap();
    assert_eq!((c.chargeable, c.net_exact), (dec!(9), dec!(45.00)));
    // Fewer units than free units: q' = max(0, 0.5 − 1) = 0.
    assert_eq!(calculate(&p, dec!(0.5)).unwrap().chargeable, dec!(0));
    // Tiered with 5 free units: 60 − 5 = 55 = 10 × 10.00 + 40 × 8.00 + 5 × 6.00 = 450.00
    let tiered = Pricing {
        model: Model::Tiered {
            tiers: guide_tiers(),
        },
        free_units: dec!(5),
        currency: eur(),
    };
    assert_eq!(net(&tiered, dec!(60)), dec!(450.00));
}

#[test]
fn sub_cent_unit_prices_round_only_the_total() {
    let p = plan(Model::PerUnit {
        price: dec!(0.0025),
    });
    // 0.0025 × 1,234,567 = 3,086.4175 -> 3,086.42
    let c = calculate(&p, dec!(1234567)).unwrap();
    assert_eq!(c.net_exact, dec!(3086.4175));
    assert_eq!(c.net_rounded, dec!(3086.42));
    // Tiered sub-cent bands sum exactly before the one rounding:
    // 1–1000 @ 0.0015, 1001+ @ 0.0005; 1,500 units =
    // 1,000 × 0.0015 + 500 × 0.0005 = 1.5 + 0.25 = 1.75 (rounding each band: 1.50 + 0.25).
    let p = plan(Model::Tiered {
        tiers: vec![
            tier(1, Some(1000), dec!(0.0015), dec!(0)),
            tier(1001, None, dec!(0.0005), dec!(0)),
        ],
    });
    assert_eq!(calculate(&p, dec!(1500)).unwrap().net_exact, dec!(1.75));
    // 3 units = 3 × 0.0015 = 0.0045 -> 0.00; 4 units = 0.006 -> 0.01
    assert_eq!(net(&p, dec!(3)), dec!(0.00));
    assert_eq!(net(&p, dec!(4)), dec!(0.01));
}

#[test]
fn jpy_has_no_minor_unit() {
    let jpy = Currency::parse("JPY").unwrap();
    let p = Pricing {
        model: Model::PerUnit { price: dec!(0.5) },
        free_units: Decimal::ZERO,
        currency: jpy,
    };
    // 0.5 × 7 = 3.5 -> 4 yen (half away from zero); 0.5 × 5 = 2.5 -> 3 yen.
    assert_eq!(net(&p, dec!(7)), dec!(4));
    assert_eq!(net(&p, dec!(5)), dec!(3));
    let p = Pricing {
        model: Model::Tiered {
            tiers: vec![
                tier(1, Some(10), dec!(1000), dec!(0)),
                tier(11, None, dec!(800), dec!(0)),
            ],
        },
        free_units: Decimal::ZERO,
        currency: jpy,
    };
    // 12 units: 10 × 1,000 + 2 × 800 = 11,600 yen
    assert_eq!(net(&p, dec!(12)), dec!(11600));
}

#[test]
fn refuses_negative_quantities_and_overflow() {
    let p = plan(Model::PerUnit { price: dec!(5) });
    assert_eq!(calculate(&p, dec!(-1)), Err(PricingError::NegativeQuantity));
    assert_eq!(net(&p, dec!(-0)), dec!(0));
    let p = plan(Model::PerUnit {
        price: dec!(1000000000000),
    });
    assert_eq!(calculate(&p, Decimal::MAX), Err(PricingError::Overflow));
    // 36 significant digits: Decimal would round the product quietly; the engine refuses.
    let p = plan(Model::PerUnit {
        price: dec!(12345.0123456789),
    });
    assert_eq!(
        calculate(&p, dec!(123456789012.0123456789)),
        Err(PricingError::Overflow)
    );
    // Tiers that bypassed validation are an error, not a wrong amount.
    let p = plan(Model::Volume {
        tiers: vec![tier(2, None, dec!(1), dec!(0))],
    });
    assert_eq!(calculate(&p, dec!(5)), Err(PricingError::InvalidTiers));
}

fn paths(tiers: &[Tier]) -> Vec<(String, &'static str)> {
    validate_tiers(tiers)
        .into_iter()
        .map(|v| (v.path, v.code))
        .collect()
}

#[test]
fn tier_rules_name_the_offending_field() {
    assert!(validate_tiers(&guide_tiers()).is_empty());
    assert!(validate_tiers(&[tier(1, None, dec!(1), dec!(0))]).is_empty());
    assert_eq!(paths(&[]), vec![("tiers".to_string(), "not_blank")]);
    // First tier must start at 1.
    assert_eq!(
        paths(&[tier(2, None, dec!(1), dec!(0))]),
        vec![("tiers[0].from".to_string(), "first_tier_start")]
    );
    // Gap: 11–50 followed by 52+.
    let mut gap = guide_tiers();
    gap[2].from = 52;
    assert_eq!(
        paths(&gap),
        vec![("tiers[2].from".to_string(), "not_contiguous")]
    );
    // Overlap: second tier starts at 10.
    let mut overlap = guide_tiers();
    overlap[1].from = 10;
    assert_eq!(
        paths(&overlap),
        vec![("tiers[1].from".to_string(), "not_contiguous")]
    );
    // Open tier in the middle, closed last tier.
    let mut open = guide_tiers();
    open[1].to = None;
    open[2].to = Some(100);
    assert_eq!(
        paths(&open),
        vec![
            ("tiers[1].to".to_string(), "open_tier_not_last"),
            ("tiers[2].to".to_string(), "last_tier_closed"),
        ]
    );
    // to below from.
    let backwards = vec![
        tier(1, Some(10), dec!(1), dec!(0)),
        tier(11, Some(5), dec!(1), dec!(0)),
        tier(6, None, dec!(1), dec!(0)),
    ];
    assert_eq!(
        paths(&backwards),
        vec![("tiers[1].to".to_string(), "less_than_from")]
    );
    let many: Vec<_> = (1..=101)
        .map(|i| tier(i, Some(i), dec!(1), dec!(0)))
        .collect();
    assert_eq!(paths(&many), vec![("tiers".to_string(), "too_many")]);
}
