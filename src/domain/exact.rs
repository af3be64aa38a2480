//! Exact decimal arithmetic: `rust_decimal`'s checked operations return `None` only when the
//! integer part overflows; when a result needs more than 28 fractional digits or 96 bits of
//! mantissa they round quietly. Money must never be rounded by accident, so these refuse that.

use rust_decimal::Decimal;

/// `a × b`, or `None` when the exact product does not fit a `Decimal`.
pub fn mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let p = a.checked_mul(b)?;
    // A zero factor gives an exact zero, whatever scale `rust_decimal` gives it. Otherwise an
    // exact product carries the sum of the scales; a smaller one means digits were cut (a
    // product that underflowed to zero included).
    (a.is_zero() || b.is_zero() || p.scale() == a.scale() + b.scale()).then_some(p)
}

/// `a + b`, or `None` when the exact sum does not fit a `Decimal`.
pub fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let s = a.checked_add(b)?;
    // Opposites cancel exactly; otherwise the sum keeps the larger scale unless digits were cut.
    let exact = if s.is_zero() {
        a == -b
    } else {
        s.scale() >= a.scale().max(b.scale())
    };
    exact.then_some(s)
}

/// `a − b`, or `None` when the exact difference does not fit a `Decimal`.
pub fn sub(a: Decimal, b: Decimal) -> Option<Decimal> {
    add(a, -b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn exact_or_nothing() {
        // 0.0025 × 1,234,567 = 3,086.4175 (scale 4 + 0).
        assert_eq!(mul(dec!(0.0025), dec!(1234567)), Some(dec!(3086.4175)));
        assert_eq!(mul(dec!(1.10), dec!(2.50)), Some(dec!(2.7500)));
        // 36 significant digits do not fit: plain checked_mul would round to 13 decimals.
        let (a, b) = (dec!(123456789012.0123456789), dec!(12345.0123456789));
        assert!(a.checked_mul(b).is_some());
        assert_eq!(mul(a, b), None);
        assert_eq!(add(dec!(1.5), dec!(2.25)), Some(dec!(3.75)));
        assert_eq!(sub(dec!(1.5), dec!(2.25)), Some(dec!(-0.75)));
        assert_eq!(add(Decimal::MAX, dec!(1)), None);
        assert_eq!(mul(dec!(0), dec!(29.99)), Some(dec!(0)));
        assert_eq!(sub(dec!(1.5), dec!(1.50)), Some(dec!(0)));
        // 10⁻²⁰ × 10⁻²⁰ = 10⁻⁴⁰ is not 0.
        assert_eq!(mul(Decimal::new(1, 20), Decimal::new(1, 20)), None);
        // 7.9 × 10²⁸ + 10⁻²⁸ cannot keep both ends.
        assert_eq!(
            add(dec!(79228162514264337593543950335), Decimal::new(1, 28)),
            None
        );
    }
}
