//! Unit tests of the tax rules: one case per row of 03 §3.4, rate selection, the EU table, rate
//! output, and `resolve_for_customer` over an in-memory database.

use super::*;
use rust_decimal_macros::dec;

fn rates(pairs: &[(&str, Decimal)]) -> Vec<GroupRate> {
    pairs
        .iter()
        .map(|(c, r)| GroupRate {
            country: c.to_string(),
            rate: *r,
        })
        .collect()
}

fn standard() -> Vec<GroupRate> {
    rates(&[("DE", dec!(19))])
}

fn party(country: &str, vat_id: &str, valid: bool, company: bool) -> TaxParty {
    TaxParty {
        country: country.into(),
        vat_id: vat_id.into(),
        vat_id_valid: valid,
        has_company_name: company,
        exempt: false,
    }
}

/// A German tenant (not small business, no OSS) billing a position of `group`.
fn decide(kind: GroupType, group: &[GroupRate], customer: &TaxParty) -> TaxDecision {
    resolve(&TaxInput {
        tenant_country: "DE",
        small_business: false,
        oss: false,
        group_type: kind,
        rates: group,
        customer,
    })
    .unwrap()
}

fn taxed(rate: Decimal, treatment: Treatment) -> TaxDecision {
    TaxDecision {
        rate,
        treatment,
        note: None,
        reverse_charge_type: None,
    }
}

#[test]
fn german_private_customer_pays_19() {
    let d = decide(
        GroupType::Standard,
        &standard(),
        &party("DE", "", false, false),
    );
    assert_eq!(d, taxed(dec!(19), Treatment::Domestic));
}

#[test]
fn german_company_pays_19_even_with_a_valid_vat_id() {
    let customer = party("DE", "DE123456789", true, true);
    let d = decide(GroupType::Standard, &standard(), &customer);
    assert_eq!(d, taxed(dec!(19), Treatment::Domestic));
}

#[test]
fn eu_company_with_valid_vat_id_is_reverse_charge() {
    let d = decide(
        GroupType::Standard,
        &standard(),
        &party("AT", "ATU12345678", true, true),
    );
    assert_eq!(d.rate, Decimal::ZERO);
    assert_eq!(d.treatment, Treatment::ReverseCharge);
    assert_eq!(
        d.note,
        Some("Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)")
    );
    assert_eq!(d.reverse_charge_type, Some("REVERSE_CHARGE"));
    // A VAT id alone (no company name) makes a business too.
    let d = decide(
        GroupType::Standard,
        &standard(),
        &party("FR", "FR12345678901", true, false),
    );
    assert_eq!(d.treatment, Treatment::ReverseCharge);
}

#[test]
fn eu_private_person_pays_the_tenant_rate() {
    let d = decide(
        GroupType::Standard,
        &standard(),
        &party("FR", "", false, false),
    );
    assert_eq!(d, taxed(dec!(19), Treatment::EuConsumer));
}

#[test]
fn eu_company_without_valid_vat_id_pays_the_tenant_rate() {
    for customer in [
        party("AT", "ATU12345678", false, true),
        party("AT", "", false, true),
        // `isVatIdValid` without a VAT id cannot mean anything.
        party("AT", "", true, true),
    ] {
        let d = decide(GroupType::Standard, &standard(), &customer);
        assert_eq!(d, taxed(dec!(19), Treatment::EuConsumer), "{customer:?}");
    }
}

#[test]
fn swiss_company_is_not_taxable() {
    for customer in [
        party("CH", "CHE123456789", true, true),
        party("US", "", false, false),
    ] {
        let d = decide(GroupType::Standard, &standard(), &customer);
        assert_eq!(d.rate, Decimal::ZERO);
        assert_eq!(d.treatment, Treatment::NonEu);
        assert_eq!(d.note, Some("Nicht im Inland steuerbare Leistung."));
        assert_eq!(d.reverse_charge_type, None);
    }
}

#[test]
fn exempt_customer_pays_nothing() {
    for country in ["DE", "AT", "CH"] {
        let mut customer = party(country, "", false, false);
        customer.exempt = true;
        let d = decide(GroupType::Standard, &standard(), &customer);
        assert_eq!(d, TaxDecision::zero(Treatment::Exempt, None), "{country}");
    }
}

#[test]
fn small_business_charges_no_vat_and_prints_the_note() {
    for customer in [
        party("DE", "", false, false),
        party("AT", "ATU12345678", true, true),
        party("CH", "", false, true),
    ] {
        let d = resolve(&TaxInput {
            tenant_country: "DE",
            small_business: true,
            oss: false,
            group_type: GroupType::Standard,
            rates: &standard(),
            customer: &customer,
        })
        .unwrap();
        assert_eq!(d.rate, Decimal::ZERO);
        assert_eq!(d.treatment, Treatment::SmallBusiness);
        assert_eq!(
            d.note,
            Some("Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.")
        );
    }
}

#[test]
fn reduced_group_pays_7() {
    let reduced = rates(&[("DE", dec!(7))]);
    let de = decide(GroupType::Reduced, &reduced, &party("DE", "", false, false));
    assert_eq!(de, taxed(dec!(7), Treatment::Domestic));
    let fr = decide(GroupType::Reduced, &reduced, &party("FR", "", false, false));
    assert_eq!(fr, taxed(dec!(7), Treatment::EuConsumer));
}

#[test]
fn zero_group_pays_0() {
    let zero = rates(&[("*", dec!(0))]);
    let d = decide(GroupType::Zero, &zero, &party("DE", "", false, false));
    assert_eq!(d, taxed(Decimal::ZERO, Treatment::Domestic));
    // Even with no row at all, a zero group never charges tax.
    let d = decide(GroupType::Zero, &[], &party("DE", "", false, false));
    assert_eq!(d.rate, Decimal::ZERO);
}

#[test]
fn rate_selection_prefers_exact_then_eu_then_any() {
    let group = rates(&[("*", dec!(1)), ("EU_*", dec!(2)), ("AT", dec!(3))]);
    assert_eq!(select_rate(&group, "AT"), Some(dec!(3)));
    assert_eq!(select_rate(&group, "FR"), Some(dec!(2)));
    assert_eq!(select_rate(&group, "CH"), Some(dec!(1)));
    assert_eq!(select_rate(&rates(&[("EU_*", dec!(2))]), "CH"), None);
    assert_eq!(select_rate(&[], "DE"), None);
}

#[test]
fn oss_uses_the_destination_rate() {
    let oss = |kind, group: &[GroupRate], country: &str| {
        resolve(&TaxInput {
            tenant_country: "DE",
            small_business: false,
            oss: true,
            group_type: kind,
            rates: group,
            customer: &party(country, "", false, false),
        })
        .unwrap()
        .rate
    };
    assert_eq!(oss(GroupType::Standard, &standard(), "AT"), dec!(20));
    assert_eq!(oss(GroupType::Reduced, &standard(), "FR"), dec!(10));
    assert_eq!(oss(GroupType::Reduced, &standard(), "DK"), dec!(25));
    // An explicit row for the country wins over the table.
    let group = rates(&[("DE", dec!(19)), ("AT", dec!(13))]);
    assert_eq!(oss(GroupType::Standard, &group, "AT"), dec!(13));
}

#[test]
fn missing_rate_is_an_error_not_zero() {
    let r = resolve(&TaxInput {
        tenant_country: "CH",
        small_business: false,
        oss: false,
        group_type: GroupType::Standard,
        rates: &standard(),
        customer: &party("CH", "", false, false),
    });
    assert_eq!(
        r,
        Err(MissingRate {
            country: "CH".into()
        })
    );
    // An EU tenant country missing from the group falls back to the table.
    let d = resolve(&TaxInput {
        tenant_country: "AT",
        small_business: false,
        oss: false,
        group_type: GroupType::Standard,
        rates: &standard(),
        customer: &party("AT", "", false, false),
    })
    .unwrap();
    assert_eq!(d.rate, dec!(20));
}

#[test]
fn non_eu_tenant_exports_to_every_foreign_customer() {
    let d = resolve(&TaxInput {
        tenant_country: "CH",
        small_business: false,
        oss: false,
        group_type: GroupType::Standard,
        rates: &rates(&[("CH", dec!(8.1))]),
        customer: &party("DE", "DE123456789", true, true),
    })
    .unwrap();
    assert_eq!(d.treatment, Treatment::NonEu);
    assert_eq!(d.rate, Decimal::ZERO);
}

#[test]
fn eu_table_has_the_27_member_states() {
    assert_eq!(EU_VAT.len(), 27);
    assert!(
        EU_VAT.windows(2).all(|w| w[0].0 < w[1].0),
        "sorted, no duplicates"
    );
    assert!(EU_VAT
        .iter()
        .all(|(c, _, _)| crate::domain::validate::is_country_code(c)));
    assert_eq!(eu_rates("DE"), Some((dec!(19), dec!(7))));
    assert_eq!(eu_rates("FI"), Some((dec!(25.5), dec!(14))));
    assert_eq!(eu_rates("IE"), Some((dec!(23), dec!(13.5))));
    assert_eq!(eu_rates("DK"), Some((dec!(25), dec!(25))));
    assert!(is_eu("GR") && !is_eu("CH") && !is_eu("GB") && !is_eu("EL"));
}

#[test]
fn rates_parse_from_number_text_and_serialize_as_numbers() {
    assert_eq!(parse_rate("19"), Some(dec!(19)));
    assert_eq!(parse_rate("7.70"), Some(dec!(7.7)));
    assert_eq!(parse_rate("1e1"), Some(dec!(10)));
    assert_eq!(parse_rate("1.9E1"), Some(dec!(19)));
    assert_eq!(parse_rate("x"), None);
    let json = |d: Decimal| serde_json::to_string(&taxed(d, Treatment::Domestic)).unwrap();
    assert!(json(dec!(19)).starts_with(r#"{"rate":19,"#));
    assert!(json(dec!(19.00)).starts_with(r#"{"rate":19,"#));
    assert!(json(dec!(7.7)).starts_with(r#"{"rate":7.7,"#));
    // Every rate with up to four decimals comes out as exactly the digits that went in.
    for n in (0..=1_000_000i64).step_by(7) {
        let d = Decimal::new(n, 4).normalize();
        let mut out = Vec::new();
        serialize_rate(&d, &mut serde_json::Serializer::new(&mut out)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(parse_rate(&text), Some(d), "{d} -> {text}");
    }
}

#[test]
fn resolve_for_customer_reads_settings_group_and_customer() {
    let conn = crate::db::memory();
    let (tenant, _) = crate::bootstrap::create_tenant(&conn, "T", "t@example.test").unwrap();
    let group: String = conn
        .query_row(
            "SELECT id FROM tax_groups WHERE tenant_id = ?1 AND name = 'Standard'",
            [&tenant],
            |r| r.get(0),
        )
        .unwrap();
    let customer = |id: &str, vat: &str, valid: bool, company: Option<&str>, country: &str| {
        conn.execute(
            "INSERT INTO customers (id, tenant_id, customer_number, email, company_name, vat_id,
                                    is_vat_id_valid, created_at, updated_at)
             VALUES (?1, ?2, ?1, ?1 || '@x.test', ?3, ?4, ?5, 'now', 'now')",
            rusqlite::params![id, tenant, company, vat, valid],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO customer_addresses (id, tenant_id, customer_id, type, is_default,
                                             country_code, created_at, updated_at)
             VALUES (?1 || '-a', ?2, ?1, 'TYPE_DEFAULT', 1, ?3, 'now', 'now')",
            rusqlite::params![id, tenant, country],
        )
        .unwrap();
    };
    customer("de", "", false, None, "DE");
    customer("at", "ATU1", true, Some("Wien GmbH"), "AT");
    let decide = |c: &str| resolve_for_customer(&conn, &tenant, &group, c);
    assert_eq!(decide("de").unwrap().rate, dec!(19));
    assert_eq!(decide("at").unwrap().treatment, Treatment::ReverseCharge);
    // An invoice address wins over the default address.
    conn.execute(
        "INSERT INTO customer_addresses (id, tenant_id, customer_id, type, is_default,
                                         country_code, created_at, updated_at)
         VALUES ('at-i', ?1, 'at', 'TYPE_INVOICE', 1, 'CH', 'now', 'now')",
        [&tenant],
    )
    .unwrap();
    assert_eq!(decide("at").unwrap().treatment, Treatment::NonEu);
    assert!(matches!(
        decide("nobody"),
        Err(crate::error::ApiError::Validation(_))
    ));
    assert!(matches!(
        resolve_for_customer(&conn, &tenant, "no-group", "de"),
        Err(crate::error::ApiError::NotFound(_))
    ));
    conn.execute(
        "INSERT INTO settings (tenant_id, context, key, value)
         VALUES (?1, 'billing', 'smallBusiness', 'true')",
        [&tenant],
    )
    .unwrap();
    assert_eq!(decide("de").unwrap().treatment, Treatment::SmallBusiness);
}
