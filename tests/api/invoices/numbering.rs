//! Invoice numbers: assigned only at finalization, from the `invoice` range in its configured
//! format, unique and gapless under concurrent finalizations, and never consumed by a
//! finalization that fails.

use super::{catalog, customer, draft, finalize, line};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

fn issued(s: &Server) -> (i64, i64) {
    s.db()
        .query_row(
            "SELECT (SELECT next_number FROM number_ranges WHERE tenant_id = ?1 AND type = 'invoice'),
                    (SELECT count(*) FROM issued_numbers WHERE tenant_id = ?1 AND range_type = 'invoice')",
            [&s.tenant_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn concurrent_finalizations_get_distinct_gapless_numbers_in_the_configured_format() {
    let s = Arc::new(Server::start());
    let r = s.put(
        "/number-ranges/invoice",
        &json!({"format": "INV-{number:5}"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let cid = cu["id"].as_str().unwrap();
    let ids: Vec<String> = (0..200)
        .map(|i| {
            let inv = draft(
                &s,
                cid,
                json!([line(&c, "a", json!(i + 1), "1.00", &c.standard)]),
            );
            assert_eq!(inv["number"], Value::Null, "drafts have no number");
            inv["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(issued(&s), (1, 0), "no draft took a number");
    // 8 threads × 25 finalizations through the group-committing writer.
    let handles: Vec<_> = ids
        .chunks(25)
        .map(|chunk| {
            let (s, chunk) = (s.clone(), chunk.to_vec());
            std::thread::spawn(move || {
                chunk
                    .iter()
                    .map(|id| {
                        let r = s.post(&format!("/invoices/{id}/finalize"), &json!({}));
                        assert_eq!(r.status, 201, "{}", r.text);
                        r.body["number"].as_str().unwrap().to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    assert_eq!(handles.len(), 8);
    let numbers: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let distinct: BTreeSet<String> = numbers.iter().cloned().collect();
    let expected: BTreeSet<String> = (1..=200).map(|n| format!("INV-{n:05}")).collect();
    assert_eq!(numbers.len(), 200);
    assert_eq!(
        distinct, expected,
        "200 distinct numbers, no gap, in the configured format"
    );
    assert_eq!(issued(&s), (201, 200));
    let stored: i64 = s
        .db()
        .query_row(
            "SELECT count(DISTINCT number) FROM invoices WHERE tenant_id = ?1 AND number LIKE 'INV-%'",
            [&s.tenant_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 200);
}

#[test]
fn a_failed_finalization_consumes_no_number() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let cid = cu["id"].as_str().unwrap();
    // Refused before numbering: no positions.
    let empty = draft(&s, cid, json!([]));
    assert_problem(
        &s.post(
            &format!("/invoices/{}/finalize", empty["id"].as_str().unwrap()),
            &json!({}),
        ),
        422,
    );
    assert_eq!(issued(&s), (1, 0));

    // Failing after the number was drawn: a trigger makes the final UPDATE abort, so the
    // request fails once the counter has moved inside its transaction.
    let victim = draft(
        &s,
        cid,
        json!([line(&c, "a", json!(1), "1.00", &c.standard)]),
    );
    let vid = victim["id"].as_str().unwrap();
    s.db()
        .execute_batch(&format!(
            "CREATE TRIGGER fail_finalize BEFORE UPDATE OF number ON invoices
             WHEN NEW.id = '{vid}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ))
        .unwrap();
    let r = s.post(&format!("/invoices/{vid}/finalize"), &json!({}));
    assert_problem(&r, 500);
    assert_eq!(
        issued(&s),
        (1, 0),
        "the drawn number was rolled back with the request"
    );
    assert_eq!(
        s.get(&format!("/invoices/{vid}")).body["status"],
        "STATUS_DRAFT"
    );
    s.db().execute_batch("DROP TRIGGER fail_finalize;").unwrap();

    let ok = draft(
        &s,
        cid,
        json!([line(&c, "a", json!(1), "1.00", &c.standard)]),
    );
    assert_eq!(
        finalize(&s, ok["id"].as_str().unwrap())["number"],
        "RE-0000000001"
    );
    assert_eq!(finalize(&s, vid)["number"], "RE-0000000002");
    assert_eq!(issued(&s), (3, 2));
}

#[test]
fn numbers_may_carry_the_year_and_the_customer_number() {
    let s = Server::start();
    let r = s.put(
        "/number-ranges/invoice",
        &json!({"format": "{yearLong}/{customerNumber}/{number:3}", "nextNumber": 41}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "a", json!(1), "1.00", &c.standard)]),
    );
    let fin = finalize(&s, inv["id"].as_str().unwrap());
    let year = &fin["finalizationDate"].as_str().unwrap()[..4];
    let expected = format!("{year}/{}/041", cu["customerNumber"].as_str().unwrap());
    assert_eq!(fin["number"], expected.as_str());
}
