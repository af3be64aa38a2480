//! Store-level tests on an in-memory database: the helpers other slices build on (recompute
//! with resolved or stored tax, seal, position copies) and the schema's immutability net.

use super::finalize::{seal, Settlement};
use super::input::InvoiceWrite;
use super::model::{STATUS_PAID, STATUS_UNPAID, TYPE_CANCELLATION, TYPE_INVOICE};
use super::store;
use super::totals::{recompute, TaxSource};
use crate::domain::money::Currency;
use crate::resources::invoice_positions::model::PositionData;
use crate::resources::invoice_positions::store as positions;
use rusqlite::Connection;
use rust_decimal_macros::dec;
use serde_json::Map;

struct Fixture {
    conn: Connection,
    tenant: String,
    customer: String,
    unit: String,
    standard: String,
    reduced: String,
}

fn fixture() -> Fixture {
    let conn = crate::db::memory();
    let (tenant, _) = crate::bootstrap::create_tenant(&conn, "Acme GmbH", "a@acme.test").unwrap();
    conn.execute(
        "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
         VALUES ('c1', ?1, 'KD-000001', 'c@example.test', 'now', 'now')",
        [&tenant],
    )
    .unwrap();
    let q = |sql: &str| -> String { conn.query_row(sql, [&tenant], |r| r.get(0)).unwrap() };
    let unit = q("SELECT id FROM units WHERE tenant_id = ?1");
    let standard = q("SELECT id FROM tax_groups WHERE tenant_id = ?1 AND type = 'standard'");
    let reduced = q("SELECT id FROM tax_groups WHERE tenant_id = ?1 AND type = 'reduced'");
    Fixture {
        conn,
        tenant,
        customer: "c1".into(),
        unit,
        standard,
        reduced,
    }
}

fn write(f: &Fixture) -> InvoiceWrite {
    InvoiceWrite {
        customer: f.customer.clone(),
        currency: Currency::parse("EUR").unwrap(),
        title: String::new(),
        introduction: String::new(),
        closing: String::new(),
        internal_note: String::new(),
        custom_fields: Map::new(),
        address_id: None,
        address_copy: None,
        payment_method: None,
        positions: None,
    }
}

fn position(
    f: &Fixture,
    q: rust_decimal::Decimal,
    price: rust_decimal::Decimal,
    group: &str,
) -> PositionData {
    PositionData {
        name: "x".into(),
        quantity: q,
        unit_id: Some(f.unit.clone()),
        unit_price: Some(price),
        tax_group_id: Some(group.to_string()),
        ..PositionData::default()
    }
}

#[test]
fn recompute_seal_and_an_exact_mirror_with_stored_tax() {
    let f = fixture();
    let (c, t) = (&f.conn, f.tenant.as_str());
    let id = store::insert_draft(c, t, &write(&f), TYPE_INVOICE, None, None).unwrap();
    let items = [
        position(&f, dec!(3), dec!(0.333), &f.standard),
        position(&f, dec!(2), dec!(4.995), &f.reduced),
    ];
    positions::insert_tree(c, t, &id, &items, None).unwrap();
    let draft = store::get(c, t, &id).unwrap();
    // 3 × 0.333 = 0.999 -> 1.00 at 19 % = 0.19; 2 × 4.995 = 9.99 at 7 % = 0.6993 -> 0.70.
    let totals = recompute(c, t, &draft, TaxSource::Resolve).unwrap();
    assert_eq!((totals.net, totals.tax, totals.gross), (1099, 89, 1188));
    let number = seal(
        c,
        t,
        &store::get(c, t, &id).unwrap(),
        None,
        Settlement::for_invoice(1188),
    )
    .unwrap();
    assert_eq!(number, "RE-0000000001");
    let inv = store::get(c, t, &id).unwrap();
    assert_eq!(
        (inv.status.as_str(), inv.unpaid_amount),
        (STATUS_UNPAID, 1188)
    );
    assert!(inv.customer_snapshot.is_some() && inv.tenant_snapshot.is_some());
    assert!(
        recompute(c, t, &inv, TaxSource::Resolve).is_err(),
        "finalized: 409"
    );

    // A cancellation copies every position with the negated quantity and the stored tax,
    // even after the tenant switched to §19 mode: its amounts are the exact negation.
    crate::domain::settings::put(c, t, "billing", "smallBusiness", &serde_json::json!(true))
        .unwrap();
    let storno = store::insert_draft(c, t, &write(&f), TYPE_CANCELLATION, Some(&id), None).unwrap();
    for p in positions::for_invoice(c, &id).unwrap() {
        positions::insert_copy(c, t, &storno, &p, -p.quantity, None).unwrap();
    }
    let mirror = recompute(c, t, &store::get(c, t, &storno).unwrap(), TaxSource::Stored).unwrap();
    assert_eq!((mirror.net, mirror.tax, mirror.gross), (-1099, -89, -1188));
    let paid = Settlement {
        status: STATUS_PAID,
        unpaid_amount: 0,
        paid: true,
    };
    let n = seal(c, t, &store::get(c, t, &storno).unwrap(), None, paid).unwrap();
    assert_eq!(n, "ST-0000000001", "the cancellation range");
    let copies = positions::for_invoice(c, &storno).unwrap();
    assert!(copies.iter().all(|p| p.original_position_id.is_some()));

    // The schema keeps both documents as they are.
    assert!(c
        .execute(
            "UPDATE invoices SET net_amount = 0, gross_amount = tax_amount WHERE id = ?1",
            [&id]
        )
        .is_err());
    assert!(c
        .execute(
            "DELETE FROM invoice_positions WHERE invoice_id = ?1",
            [&storno]
        )
        .is_err());
}

#[test]
fn seal_refuses_a_due_date_before_the_invoice_date() {
    let f = fixture();
    let (c, t) = (&f.conn, f.tenant.as_str());
    let id = store::insert_draft(c, t, &write(&f), TYPE_INVOICE, None, None).unwrap();
    let inv = store::get(c, t, &id).unwrap();
    let past = chrono::NaiveDate::from_ymd_opt(2000, 1, 1);
    assert!(seal(c, t, &inv, past, Settlement::for_invoice(0)).is_err());
    // Nothing was drawn from the range.
    let next: i64 = c
        .query_row(
            "SELECT next_number FROM number_ranges WHERE tenant_id = ?1 AND type = 'invoice'",
            [t],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(next, 1);
}
