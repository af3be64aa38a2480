//! Who may correct what: scopes, tenant isolation, and a failed or refused request that leaves
//! every table exactly as it was.

use super::{id, positions, single_line};
use crate::common::{assert_problem, Server};
use serde_json::json;

/// Every row of the tables a correction or payment touches, as text, sorted: equal snapshots
/// mean nothing was written (numbers issued, history, outbox included).
pub(crate) fn snapshot(s: &Server) -> Vec<String> {
    let conn = s.db();
    let mut rows = Vec::new();
    for table in [
        "invoices",
        "invoice_positions",
        "invoice_tax_breakdown",
        "invoice_history",
        "payment_transactions",
        "outbox",
        "number_ranges",
        "issued_numbers",
        "idempotency_keys",
    ] {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let n = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    rows.sort();
    rows
}

#[test]
fn read_only_members_cannot_correct() {
    let s = Server::start();
    let inv = single_line(&s, json!(1), "10.00");
    let token = s.token_with_role("read-only");
    let before = snapshot(&s);
    for path in ["cancel", "credit"] {
        let r = s.send_as(
            &token,
            "POST",
            &format!("/invoices/{}/{path}", id(&inv)),
            Some(&json!({})),
        );
        assert_problem(&r, 403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("invoice:write"),
            "{}",
            r.text
        );
    }
    // Without a token at all: 401.
    let r = s.send(
        "POST",
        &format!("/invoices/{}/cancel", id(&inv)),
        None,
        Some(&json!({})),
        &[],
    );
    assert_problem(&r, 401);
    assert_eq!(snapshot(&s), before);
    // An accounting member may.
    let token = s.token_with_role("accounting");
    let r = s.send_as(
        &token,
        "POST",
        &format!("/invoices/{}/credit", id(&inv)),
        Some(&json!({})),
    );
    assert_eq!(r.status, 201, "{}", r.text);
}

#[test]
fn another_tenants_invoices_are_not_found() {
    let s = Server::start();
    let inv = single_line(&s, json!(2), "10.00");
    let (_, other) = s.new_tenant("Other GmbH", "owner@other.test");
    let before = snapshot(&s);
    let pos = positions(&inv)[0]["id"].clone();
    for (path, body) in [
        ("cancel", json!({})),
        (
            "credit",
            json!({"positions": [{"positionItem": pos, "quantity": 1}]}),
        ),
    ] {
        let r = s.send_as(
            &other,
            "POST",
            &format!("/invoices/{}/{path}", id(&inv)),
            Some(&body),
        );
        assert_problem(&r, 404);
    }
    assert_eq!(snapshot(&s), before);
    // Nor do its documents show up in the other tenant's lists.
    let r = s.get_as(&other, "/invoices");
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 0);
}

#[test]
fn a_refused_credit_changes_nothing() {
    let s = Server::start();
    let inv = single_line(&s, json!(2), "10.00");
    let pos = positions(&inv)[0]["id"].clone();
    let path = format!("/invoices/{}/credit", id(&inv));
    let before = snapshot(&s);
    assert_problem(
        &s.post(
            &path,
            &json!({"positions": [{"positionItem": pos, "quantity": 3}]}),
        ),
        422,
    );
    assert_problem(&s.post(&path, &json!({"reason": "whim"})), 422);
    let r = s.send_raw("POST", &path, "application/json", b"{\"positions\": [");
    assert_problem(&r, 400);
    assert_eq!(snapshot(&s), before);
}
