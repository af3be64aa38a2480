//! Invoice amounts through the API, each worked example checked by hand (arithmetic in the
//! comments): EN 16931 line rounding, tax per rate on summed nets, discounts, reverse charge,
//! §19 small-business mode, exports, and a currency without minor unit.

use super::{catalog, customer, draft, draft_with, eur, finalize, line, money, totals};
use crate::common::Server;
use serde_json::{json, Value};

fn breakdown(inv: &Value) -> Vec<(Value, String, i64, i64)> {
    inv["taxBreakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["rate"].clone(),
                b["treatment"].as_str().unwrap().to_string(),
                b["netAmount"]["amount"].as_i64().unwrap(),
                b["taxAmount"]["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn mixed_19_and_7_percent_with_a_percentage_discount() {
    // Reference 06 §6: A 3 × 9.99 = 29.97 (19 %); B 1 × 100.00 − 10 % = 90.00 (19 %);
    // C 2 × 4.995 = 9.990 -> 9.99 (7 %).
    // 19 %: (29.97 + 90.00) = 119.97 × 0.19 = 22.7943 -> 22.79
    //  7 %: 9.99 × 0.07 = 0.6993 -> 0.70
    // net 129.96, tax 23.49, gross 153.45; discount 10.00.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let mut b = line(&c, "B", json!(1), "100.00", &c.standard);
    b["discountPercentage"] = json!(10);
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([
            line(&c, "A", json!(3), "9.99", &c.standard),
            b,
            line(&c, "C", json!(2), "4.995", &c.reduced)
        ]),
    );
    assert_eq!(totals(&inv), (12996, 2349, 15345));
    assert_eq!(
        inv["grossAmount"],
        json!({"amount": 15345, "currencyCode": "EUR", "precision": 2})
    );
    assert_eq!(inv["discountAmount"], eur(1000));
    assert_eq!(
        breakdown(&inv),
        [
            (json!(19), "domestic".into(), 11997, 2279),
            (json!(7), "domestic".into(), 999, 70)
        ]
    );
    let p = &inv["positions"];
    assert_eq!(p[1]["netAmount"], eur(10000), "before discount");
    assert_eq!(p[1]["discountFixed"], eur(1000));
    assert_eq!(p[1]["discountedNetAmount"], eur(9000));
    assert_eq!(p[1]["discountPercentage"], "10");
    // 4.995 keeps its third digit: precision 3.
    assert_eq!(p[2]["unitPrice"], money(4995, "EUR", 3));
    assert_eq!(p[2]["netAmount"], eur(999));
    assert_eq!(p[2]["tax"]["rate"], json!(7));

    let fin = finalize(&s, inv["id"].as_str().unwrap());
    assert_eq!(totals(&fin), (12996, 2349, 15345));
    assert_eq!(fin["unpaidAmount"], eur(15345));
    assert_eq!(fin["taxBreakdown"], inv["taxBreakdown"]);
}

#[test]
fn a_discount_line_and_a_per_unit_discount() {
    // 4 × (12.50 − 0.125) = 4 × 12.375 = 49.50 (before discount 50.00, discount 0.50);
    // discount line 1 × −5.00; net 44.50; 19 %: 44.50 × 0.19 = 8.455 -> 8.46 (half away from
    // zero); gross 52.96.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let mut a = line(&c, "Licence", json!(4), "12.50", &c.standard);
    a["discountAmount"] = json!("0.125");
    let mut d = line(&c, "Treuerabatt", json!(1), "-5.00", &c.standard);
    d["type"] = json!("discount");
    let inv = draft(&s, cu["id"].as_str().unwrap(), json!([a, d]));
    assert_eq!(totals(&inv), (4450, 846, 5296));
    let p = &inv["positions"];
    assert_eq!(p[0]["netAmount"], eur(5000));
    assert_eq!(p[0]["discountAmount"], money(125, "EUR", 3));
    assert_eq!(p[0]["discountFixed"], eur(50));
    assert_eq!(p[0]["discountedNetAmount"], eur(4950));
    assert_eq!(p[1]["type"], "discount");
    assert_eq!(p[1]["discountedNetAmount"], eur(-500));
    assert_eq!(
        inv["discountAmount"],
        eur(50),
        "the discount line is a position, not a discount"
    );
}

#[test]
fn three_times_0_333_is_rounded_once_per_line() {
    // 3 × 0.333 = 0.999 -> 1.00 (never 3 × 0.33 = 0.99); 19 %: 0.19; gross 1.19.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "x", json!(3), "0.333", &c.standard)]),
    );
    assert_eq!(totals(&inv), (100, 19, 119));
    assert_eq!(inv["positions"][0]["unitPrice"], money(333, "EUR", 3));
    assert_eq!(inv["positions"][0]["quantity"], json!(3));
    // Three lines of 1 × 0.333 are three rounded nets: 3 × 0.33 = 0.99; 0.99 × 0.19 = 0.1881
    // -> 0.19; gross 1.18.
    let one = line(&c, "x", json!(1), "0.333", &c.standard);
    let inv = draft(&s, cu["id"].as_str().unwrap(), json!([one, one, one]));
    assert_eq!(totals(&inv), (99, 19, 118));
}

#[test]
fn tax_is_computed_per_rate_not_per_line() {
    // Three lines of 4.99 at 19 %. Each line's own tax: 4.99 × 0.19 = 0.9481 -> 0.95, which
    // would sum to 2.85. Per rate: 14.97 × 0.19 = 2.8443 -> 2.84. The invoice carries 2.84.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let l = line(&c, "x", json!(1), "4.99", &c.standard);
    let inv = draft(&s, cu["id"].as_str().unwrap(), json!([l, l, l]));
    let line_taxes: i64 = inv["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["taxAmount"]["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(line_taxes, 285, "informational per-line taxes");
    assert_eq!(totals(&inv), (1497, 284, 1781));
    assert_eq!(breakdown(&inv), [(json!(19), "domestic".into(), 1497, 284)]);
}

#[test]
fn jpy_has_no_minor_unit() {
    // 3 × 333.5 = 1000.5 -> 1001 yen; 19 %: 1001 × 0.19 = 190.19 -> 190; gross 1191.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft_with(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "x", json!(3), "333.5", &c.standard)]),
        json!({"currencyCode": "JPY"}),
    );
    assert_eq!(inv["netAmount"], money(1001, "JPY", 0));
    assert_eq!(inv["taxAmount"], money(190, "JPY", 0));
    assert_eq!(inv["grossAmount"], money(1191, "JPY", 0));
    assert_eq!(inv["positions"][0]["unitPrice"], money(3335, "JPY", 1));
    let fin = finalize(&s, inv["id"].as_str().unwrap());
    assert_eq!(fin["unpaidAmount"], money(1191, "JPY", 0));
}

fn austrian_business(s: &Server) -> Value {
    customer(
        s,
        &s.token,
        json!({"companyName": "Alpen GmbH", "vatId": "ATU12345678", "countryCode": "AT",
               "city": "Wien", "zip": "1010"}),
    )
}

fn set_vat_id_valid(s: &Server, customer: &str, valid: bool) {
    s.db()
        .execute(
            "UPDATE customers SET is_vat_id_valid = ?2 WHERE id = ?1",
            rusqlite::params![customer, valid],
        )
        .unwrap();
}

#[test]
fn reverse_charge_for_an_eu_business_with_a_valid_vat_id() {
    // 100.00 + 2 × 3.50 at 0 %: net 107.00, tax 0, gross 107.00, with the reverse-charge note.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = austrian_business(&s);
    let id = cu["id"].as_str().unwrap();
    set_vat_id_valid(&s, id, true);
    let inv = draft(
        &s,
        id,
        json!([
            line(&c, "Hosting", json!(1), "100.00", &c.standard),
            line(&c, "Buch", json!(2), "3.50", &c.reduced)
        ]),
    );
    assert_eq!(totals(&inv), (10700, 0, 10700));
    assert_eq!(
        breakdown(&inv),
        [(json!(0), "reverse_charge".into(), 10700, 0)]
    );
    let note = "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge)";
    assert_eq!(inv["taxBreakdown"][0]["note"], note);
    let p = &inv["positions"][0];
    assert_eq!(
        p["tax"],
        json!({"rate": 0, "countryCode": "AT", "reverseCharge": true,
                                "treatment": "reverse_charge", "note": note})
    );
    assert_eq!(p["taxGroup"]["reverseChargeType"], "REVERSE_CHARGE");
    assert_eq!(inv["vatId"], "ATU12345678");

    // An unchecked VAT id does not count: the German rates apply (100.00 × 0.19 = 19.00;
    // 7.00 × 0.07 = 0.49; gross 126.49).
    set_vat_id_valid(&s, id, false);
    let inv = draft(
        &s,
        id,
        json!([
            line(&c, "Hosting", json!(1), "100.00", &c.standard),
            line(&c, "Buch", json!(2), "3.50", &c.reduced)
        ]),
    );
    assert_eq!(totals(&inv), (10700, 1949, 12649));
}

#[test]
fn finalization_decides_tax_with_the_facts_of_that_day() {
    // Drafted while the VAT id was unchecked (19 %: 50.00 -> 9.50), finalized after it was
    // confirmed: the document carries reverse charge.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = austrian_business(&s);
    let id = cu["id"].as_str().unwrap();
    let inv = draft(
        &s,
        id,
        json!([line(&c, "x", json!(1), "50.00", &c.standard)]),
    );
    assert_eq!(totals(&inv), (5000, 950, 5950));
    set_vat_id_valid(&s, id, true);
    let fin = finalize(&s, inv["id"].as_str().unwrap());
    assert_eq!(totals(&fin), (5000, 0, 5000));
    assert_eq!(fin["taxBreakdown"][0]["treatment"], "reverse_charge");
}

#[test]
fn small_business_mode_charges_no_vat_and_prints_its_note() {
    // §19 UStG: 10 × 9.99 = 99.90 and 1 × 20.00 at 0 %: net = gross = 119.90.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let r = s.patch("/settings/billing", &json!({"smallBusiness": true}));
    assert_eq!(r.status, 200, "{}", r.text);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([
            line(&c, "a", json!(10), "9.99", &c.standard),
            line(&c, "b", json!(1), "20.00", &c.reduced)
        ]),
    );
    assert_eq!(totals(&inv), (11990, 0, 11990));
    assert_eq!(
        breakdown(&inv),
        [(json!(0), "small_business".into(), 11990, 0)]
    );
    assert_eq!(
        inv["taxBreakdown"][0]["note"],
        "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."
    );
    let fin = finalize(&s, inv["id"].as_str().unwrap());
    assert_eq!(fin["organization"]["smallBusiness"], true);
}

#[test]
fn a_zero_rated_group_is_its_own_breakdown_row() {
    // 10.00 at 19 % = 1.90 tax; 5.00 in the zero group at 0 %: net 15.00, tax 1.90, gross 16.90.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([
            line(&c, "a", json!(1), "10.00", &c.standard),
            line(&c, "b", json!(1), "5.00", &c.zero)
        ]),
    );
    assert_eq!(totals(&inv), (1500, 190, 1690));
    assert_eq!(
        breakdown(&inv),
        [
            (json!(19), "domestic".into(), 1000, 190),
            (json!(0), "domestic".into(), 500, 0)
        ]
    );
}

#[test]
fn customers_outside_the_eu_are_not_taxed_here() {
    // 250.00 to Switzerland at 0 % with the export note.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({"countryCode": "CH", "city": "Zürich"}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "a", json!(1), "250.00", &c.standard)]),
    );
    assert_eq!(totals(&inv), (25000, 0, 25000));
    assert_eq!(breakdown(&inv), [(json!(0), "non_eu".into(), 25000, 0)]);
    assert_eq!(
        inv["taxBreakdown"][0]["note"],
        "Nicht im Inland steuerbare Leistung."
    );
}

#[test]
fn negative_quantities_round_half_away_from_zero() {
    // 5 × 10.00 = 50.00 and −3 × 0.335 = −1.005 -> −1.01 (away from zero); net 48.99;
    // 19 %: 9.3081 -> 9.31; gross 58.30.
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([
            line(&c, "a", json!(5), "10.00", &c.standard),
            line(&c, "return", json!(-3), "0.335", &c.standard)
        ]),
    );
    assert_eq!(inv["positions"][1]["netAmount"], eur(-101));
    assert_eq!(inv["positions"][1]["quantity"], json!(-3));
    assert_eq!(totals(&inv), (4899, 931, 5830));
}
