//! Metered usage through the API: measurements posted with `POST /subscription-measurements`
//! are billed in arrears by a billing run, tiered, with free units, exactly once.

use super::{count, run, subscription};
use crate::invoices::customer;
use crate::measurements::create_measurement;
use crate::price_plans::{create, guide_tiers};
use serde_json::json;

/// A product measured by a `sum` measurement.
fn metered_product(s: &crate::common::Server, measurement: &str) -> String {
    let id = format!("p-{}", kontor::domain::ids::new_id());
    s.db()
        .execute(
            "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                                   created_at, updated_at)
             VALUES (?1, ?2, 'product', 'API calls', ?3,
                     (SELECT id FROM tax_groups WHERE tenant_id = ?2 AND type = 'standard'),
                     '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
            rusqlite::params![id, s.tenant_id, measurement],
        )
        .expect("product");
    id
}

#[test]
fn tiered_usage_is_billed_in_arrears_once() {
    let s = crate::common::Server::start();
    let m = create_measurement(&s, "calls", "sum");
    let p = metered_product(&s, m["id"].as_str().unwrap());
    let tiered = create(&s, &p, json!({"type": "tiered", "tiers": guide_tiers()}));
    let free = create(
        &s,
        &p,
        json!({"type": "tiered", "tiers": guide_tiers(), "freeUnits": 10}),
    );
    let c1 = customer(&s, &s.token, json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c2 = customer(&s, &s.token, json!({}))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = subscription(&s, &c1, &p, tiered["id"].as_str().unwrap(), "2026-01-01");
    let b = subscription(&s, &c2, &p, free["id"].as_str().unwrap(), "2026-01-01");
    for (item, q, at) in [
        (&a, "25", "2026-01-05T10:00:00Z"),
        (&a, "35", "2026-01-31T22:00:00Z"),
        // February usage belongs to the next period.
        (&a, "7", "2026-02-02T10:00:00Z"),
        (&b, "60", "2026-01-20T10:00:00Z"),
    ] {
        let r = s.post(
            "/subscription-measurements",
            &json!({"subscriptionItem": format!("{item}-item"), "quantity": q, "measuredAt": at}),
        );
        assert_eq!(r.status, 204, "{}", r.text);
    }
    // In arrears: January is still running on 31 Jan, nothing is billed.
    let r = run(&s, "2026-01-31", false);
    assert_eq!(r["invoicesCreated"], 0, "{r}");
    let r = run(&s, "2026-02-01", false);
    assert_eq!(
        (r["status"].as_str(), r["invoicesCreated"].as_i64()),
        (Some("completed"), Some(2)),
        "{r}"
    );
    let net = |c: &str| -> i64 {
        s.db()
            .query_row(
                "SELECT net_amount FROM invoices WHERE customer_id = ?1",
                [c],
                |r| r.get(0),
            )
            .unwrap()
    };
    // 25 + 35 = 60 units in January (the 7 of February wait):
    // 10 × 10.00 + 40 × 8.00 + 10 × 6.00 = 100.00 + 320.00 + 60.00 = 480.00
    assert_eq!(net(&c1), 48000);
    // 10 free units: 60 − 10 = 50 priced: 10 × 10.00 + 40 × 8.00 = 420.00
    assert_eq!(net(&c2), 42000);
    let (from, to, reason, amount): (String, String, String, i64) = s
        .db()
        .query_row(
            "SELECT period_start, period_end, reason, amount FROM billed_periods
             WHERE subscription_id = ?1",
            [&a],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (from.as_str(), to.as_str(), reason.as_str(), amount),
        ("2026-01-01", "2026-01-31", "usage", 48000)
    );
    // The same date again bills nothing.
    assert_eq!(run(&s, "2026-02-01", false)["invoicesCreated"], 0);
    assert_eq!(count(&s, "SELECT count(*) FROM billed_periods"), 2);
    // The second customer used nothing in February: 0.00, recorded as billed but no zero
    // invoice (generateZeroInvoices is off).
    let r = run(&s, "2026-03-01", false);
    assert_eq!(r["invoicesCreated"], 1, "{r}");
    assert_eq!(count(&s, "SELECT count(*) FROM billed_periods"), 4);
    // February's 7 units: 7 × 10.00 = 70.00.
    let feb: i64 = s
        .db()
        .query_row(
            "SELECT amount FROM billed_periods WHERE subscription_id = ?1
             AND period_start = '2026-02-01'",
            [&a],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(feb, 7000);
    // The zero draft was never issued: no event announces an invoice nobody can read. Three
    // invoices were issued (two on 1 Feb, one on 1 Mar), each created and finalized.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM outbox WHERE event_type = 'invoice.created'"
        ),
        3
    );
    assert_eq!(count(&s, "SELECT count(*) FROM invoices"), 3);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM outbox o WHERE o.event_type LIKE 'invoice.%'
             AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = o.object_id)"
        ),
        0
    );
}
