//! Finalized documents never change (GoBD): every write endpoint of invoices and positions
//! answers 409 and leaves every row as it was; the schema refuses direct changes too.

use super::{catalog, customer, draft, finalize, line, outbox};
use crate::common::{assert_problem, Server};
use serde_json::json;

/// Every column of the invoice, its positions, its tax breakdown and its history, as text.
fn snapshot(s: &Server, id: &str) -> Vec<Vec<String>> {
    let conn = s.db();
    let mut out = Vec::new();
    for sql in [
        "SELECT * FROM invoices WHERE id = ?1",
        "SELECT * FROM invoice_positions WHERE invoice_id = ?1 ORDER BY id",
        "SELECT * FROM invoice_tax_breakdown WHERE invoice_id = ?1 ORDER BY rate",
        "SELECT * FROM invoice_history WHERE invoice_id = ?1 ORDER BY id",
        "SELECT * FROM outbox WHERE object_id = ?1 ORDER BY id",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([id], |r| {
                (0..n)
                    .map(|i| Ok(format!("{:?}", r.get_ref(i)?)))
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap();
        for row in rows {
            out.push(row.unwrap());
        }
        out.push(vec!["--".into()]);
    }
    out
}

#[test]
fn every_write_on_a_finalized_invoice_is_409_and_changes_nothing() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let cid = cu["id"].as_str().unwrap();
    let address = cu["defaultAddress"]["id"].as_str().unwrap();
    let head =
        json!({"name": "Paket", "children": [line(&c, "a", json!(2), "10.00", &c.standard)]});
    let inv = draft(
        &s,
        cid,
        json!([head, line(&c, "b", json!(1), "5.00", &c.reduced)]),
    );
    let id = inv["id"].as_str().unwrap();
    let fin = finalize(&s, id);
    let parent = fin["positions"][0]["id"].as_str().unwrap().to_string();
    let child = fin["positions"][0]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = snapshot(&s, id);
    assert!(before.len() > 8);

    let position = line(&c, "x", json!(1), "1.00", &c.standard);
    let attempts: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        (
            "PUT",
            format!("/invoices/{id}"),
            Some(json!({"title": "changed"})),
        ),
        (
            "PUT",
            format!("/invoices/{id}"),
            Some(json!({"positions": []})),
        ),
        ("DELETE", format!("/invoices/{id}"), None),
        ("POST", format!("/invoices/{id}/finalize"), Some(json!({}))),
        (
            "POST",
            format!("/invoices/{id}/customer-address"),
            Some(json!({"customerAddress": address})),
        ),
        (
            "POST",
            format!("/invoices/{id}/position-items"),
            Some(json!([position])),
        ),
        (
            "POST",
            format!("/invoices/{id}/position-items"),
            Some(json!({"name": "x", "parent": parent})),
        ),
        (
            "PUT",
            format!("/invoice-position-items/{child}"),
            Some(json!({"quantity": 5})),
        ),
        (
            "PUT",
            format!("/invoice-position-items/{parent}"),
            Some(json!({"children": []})),
        ),
        ("DELETE", format!("/invoice-position-items/{child}"), None),
        ("DELETE", format!("/invoice-position-items/{parent}"), None),
    ];
    for (method, path, body) in &attempts {
        let r = s.send(method, path, Some(&s.token), body.as_ref(), &[]);
        assert_problem(&r, 409);
        assert!(
            r.body["detail"].as_str().unwrap().contains("RE-0000000001"),
            "{}",
            r.text
        );
        assert_eq!(
            snapshot(&s, id),
            before,
            "{method} {path} changed something"
        );
    }
    // Even an invalid body on a finalized invoice is a 409: the state decides first.
    let r = s.put(&format!("/invoices/{id}"), &json!({"currencyCode": "nope"}));
    assert_problem(&r, 409);
    assert_eq!(s.get(&format!("/invoices/{id}")).body, fin);
    assert_eq!(outbox(&s, id), ["invoice.created", "invoice.finalized"]);
}

#[test]
fn the_schema_refuses_changes_to_finalized_documents() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let cu = customer(&s, &s.token, json!({}));
    let inv = draft(
        &s,
        cu["id"].as_str().unwrap(),
        json!([line(&c, "a", json!(1), "1.00", &c.standard)]),
    );
    let id = inv["id"].as_str().unwrap();
    let fin = finalize(&s, id);
    let pid = fin["positions"][0]["id"].as_str().unwrap();
    let conn = s.db();
    for sql in [
        "UPDATE invoices SET gross_amount = 1, net_amount = 1, tax_amount = 0 WHERE id = ?1",
        "UPDATE invoices SET number = 'RE-X' WHERE id = ?1",
        "UPDATE invoices SET invoice_address = '{}' WHERE id = ?1",
        "UPDATE invoices SET status = 'STATUS_DRAFT', number = NULL WHERE id = ?1",
        "DELETE FROM invoices WHERE id = ?1",
        "DELETE FROM invoice_tax_breakdown WHERE invoice_id = ?1",
        "DELETE FROM invoice_positions WHERE invoice_id = ?1",
        "UPDATE invoice_history SET action = 'x' WHERE invoice_id = ?1",
        "DELETE FROM invoice_history WHERE invoice_id = ?1",
    ] {
        assert!(conn.execute(sql, [id]).is_err(), "{sql}");
    }
    assert!(conn
        .execute(
            "UPDATE invoice_positions SET unit_price = '2' WHERE id = ?1",
            [pid]
        )
        .is_err());
    // No new positions or tax rows either, although their key to the invoice is only checked
    // at commit (a billing run inserts its sealed invoice after them).
    let copy_position = "INSERT INTO invoice_positions (id, tenant_id, invoice_id, sort_order,
             name, quantity, created_at, updated_at)
         SELECT 'p-new', tenant_id, invoice_id, 9, name, quantity, created_at, updated_at
         FROM invoice_positions WHERE id = ?1";
    assert!(conn.execute(copy_position, [pid]).is_err());
    assert!(conn
        .execute(
            "INSERT INTO invoice_tax_breakdown (invoice_id, tenant_id, rate, treatment,
                 net_amount, tax_amount)
             SELECT id, tenant_id, '7', 'domestic', 0, 0 FROM invoices WHERE id = ?1",
            [id]
        )
        .is_err());
    // A position whose invoice never comes fails the commit, and nothing of it stays.
    conn.execute_batch("BEGIN").unwrap();
    conn.execute(
        "INSERT INTO invoice_positions (id, tenant_id, invoice_id, sort_order, name, quantity,
             created_at, updated_at)
         VALUES ('p-orphan', ?1, 'no-such-invoice', 1, 'x', '1', 'now', 'now')",
        [&s.tenant_id],
    )
    .unwrap();
    assert!(conn.execute_batch("COMMIT").is_err());
    conn.execute_batch("ROLLBACK").unwrap();
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM invoice_positions WHERE id IN ('p-new', 'p-orphan')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    // What legitimately moves after finalization: payment state and credited quantities.
    conn.execute(
        "UPDATE invoice_positions SET credited_quantity = '1' WHERE id = ?1",
        [pid],
    )
    .unwrap();
    conn.execute(
        "UPDATE invoices SET status = 'STATUS_PAID', unpaid_amount = 0, paid_amount = 119 WHERE id = ?1",
        [id],
    )
    .unwrap();
}
