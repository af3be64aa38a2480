//! Invoice position items: adding (array or one object, under a parent), two-level trees and
//! headings, discounts by amount or percentage, service dates, negative quantities, product
//! links, reading one, replacing its data (merge of the sent keys), and deleting with children.

use crate::common::{assert_problem, Server};
use crate::invoices::{catalog, customer, draft, eur, line, money, totals, Catalog};
use serde_json::{json, Value};

fn setup(s: &Server) -> (Catalog, String) {
    let c = catalog(s, &s.tenant_id);
    let cu = customer(s, &s.token, json!({}));
    let inv = draft(s, cu["id"].as_str().unwrap(), json!([]));
    (c, inv["id"].as_str().unwrap().to_string())
}

fn add(s: &Server, id: &str, body: Value) -> Value {
    let r = s.post(&format!("/invoices/{id}/position-items"), &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

#[test]
fn adds_an_array_or_one_object_and_builds_a_two_level_tree() {
    let s = Server::start();
    let (c, id) = setup(&s);
    let inv = add(
        &s,
        &id,
        json!([
            {"name": "Paket Pro", "group": "Abonnement",
             "children": [line(&c, "Lizenz", json!(3), "20.00", &c.standard),
                          line(&c, "Support", json!(1), "15.00", &c.standard)]},
            line(&c, "Einrichtung", json!(1), "99.00", &c.standard)
        ]),
    );
    let p = inv["positions"].as_array().unwrap();
    assert_eq!(p.len(), 2);
    let head = &p[0];
    assert_eq!(
        (head["position"].as_i64(), p[1]["position"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(head["unitPrice"], Value::Null, "a heading has no price");
    assert_eq!(head["tax"], Value::Null);
    assert_eq!(head["discountedNetAmount"], eur(0));
    assert_eq!(head["group"], json!({"name": "Abonnement"}));
    assert_eq!(head["isFullyCredited"], false);
    assert_eq!(head["creditableQuantity"], json!({"quantity": 0}));
    let kids = head["children"].as_array().unwrap();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0]["parent"], json!({"id": head["id"]}));
    assert_eq!(
        (kids[0]["position"].as_i64(), kids[1]["position"].as_i64()),
        (Some(1), Some(2))
    );
    // 3 × 20.00 + 15.00 + 99.00 = 174.00; 19 %: 33.06; gross 207.06.
    assert_eq!(totals(&inv), (17400, 3306, 20706));

    // One object under the existing heading; a heading with its own price counts too.
    let head_id = head["id"].as_str().unwrap();
    let mut extra = line(&c, "Extra-Speicher", json!(2), "2.50", &c.standard);
    extra["parent"] = json!(head_id);
    let inv = add(&s, &id, extra);
    assert_eq!(inv["positions"][0]["children"].as_array().unwrap().len(), 3);
    assert_eq!(inv["positions"][0]["children"][2]["position"], 3);
    // + 5.00 = 179.00; 19 %: 34.01; gross 213.01.
    assert_eq!(totals(&inv), (17900, 3401, 21301));

    // A child cannot become a parent, nor can a position of another invoice.
    let child = inv["positions"][0]["children"][0]["id"].clone();
    let r = s.post(
        &format!("/invoices/{id}/position-items"),
        &json!({"name": "x", "parent": child}),
    );
    assert_problem(&r, 422);
    assert!(r.violation_paths().contains(&"parent".to_string()));
    let r = s.post(
        &format!("/invoices/{id}/position-items"),
        &json!([{"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                 "parent": head_id, "children": [{"name": "y"}]}]),
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["[0].children"]);
    assert_problem(
        &s.post(&format!("/invoices/{id}/position-items"), &json!([])),
        422,
    );
    assert_problem(
        &s.post(&format!("/invoices/{id}/position-items"), &json!("x")),
        400,
    );
    assert_problem(&s.post("/invoices/nope/position-items", &json!({})), 404);
}

#[test]
fn discounts_service_dates_and_a_product_link() {
    let s = Server::start();
    let (c, id) = setup(&s);
    let product: String = s
        .db()
        .query_row(
            "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                                   created_at, updated_at)
             VALUES ('0190a000-0000-7000-8000-00000000f001', ?1, 'product', 'E-Book',
                     (SELECT id FROM measurements WHERE tenant_id = ?1), ?2, 'now', 'now')
             RETURNING id",
            [&s.tenant_id, &c.reduced],
            |r| r.get(0),
        )
        .unwrap();
    let inv = add(
        &s,
        &id,
        json!([
            {"name": "Jahreslizenz", "quantity": 2, "unitPrice": "120.00", "unitId": c.unit,
             "taxGroupId": c.standard, "discountPercentage": "12.5",
             "serviceDateFrom": "2026-01-01", "serviceDateTo": "2026-12-31",
             "unitPriceInterval": "yearly"},
            {"name": "E-Book", "quantity": "1.5", "unitPrice": "9.99", "unitId": c.unit,
             "product": product, "discountAmount": "0.99", "serviceDateFrom": "2025-12-15"}
        ]),
    );
    let p = &inv["positions"];
    // 2 × 120.00 = 240.00 − 12.5 % = 210.00 (discount 30.00).
    assert_eq!(p[0]["netAmount"], eur(24000));
    assert_eq!(p[0]["discountedNetAmount"], eur(21000));
    assert_eq!(p[0]["discountFixed"], eur(3000));
    assert_eq!(p[0]["discountPercentage"], "12.5");
    assert_eq!(p[0]["unitPriceInterval"], "yearly");
    assert_eq!(p[0]["serviceDateTo"], "2026-12-31");
    // 1.5 × (9.99 − 0.99) = 13.50; before discount 1.5 × 9.99 = 14.985 -> 14.99, discount 1.49;
    // the product's tax group (reduced) applies: 7 %.
    assert_eq!(p[1]["quantity"], json!(1.5));
    assert_eq!(p[1]["netAmount"], eur(1499));
    assert_eq!(p[1]["discountAmount"], eur(99));
    assert_eq!(p[1]["discountedNetAmount"], eur(1350));
    assert_eq!(p[1]["discountFixed"], eur(149));
    assert_eq!(p[1]["product"], json!({"id": product, "name": "E-Book"}));
    assert_eq!(p[1]["taxGroup"]["id"], c.reduced.as_str());
    // 19 %: 210.00 × 0.19 = 39.90; 7 %: 13.50 × 0.07 = 0.945 -> 0.95; net 223.50, tax 40.85.
    assert_eq!(totals(&inv), (22350, 4085, 26435));
    assert_eq!(inv["discountAmount"], eur(3149));
    assert_eq!(inv["servicePeriodFrom"], "2025-12-15");
    assert_eq!(inv["servicePeriodTo"], "2026-12-31");

    for (body, path) in [
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                "discountAmount": "0.50", "discountPercentage": 5}),
            "discountPercentage",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                "discountAmount": "1.01"}),
            "discountAmount",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                "discountPercentage": 0}),
            "discountPercentage",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit}),
            "taxGroupId",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "taxGroupId": c.standard}),
            "unitId",
        ),
        (
            json!({"name": "x", "unitId": c.unit, "taxGroupId": c.standard}),
            "unitPrice",
        ),
        (
            json!({"name": "x", "unitPrice": "0.00000000001", "unitId": c.unit,
                "taxGroupId": c.standard}),
            "unitPrice",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                "quantity": 1000000001}),
            "quantity",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                "serviceDateFrom": "2026-02-30"}),
            "serviceDateFrom",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "product": "nope"}),
            "product",
        ),
        (
            json!({"name": "", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard}),
            "name",
        ),
        (
            json!({"name": "x", "unitPrice": "1", "unitId": c.unit, "taxGroupId": c.standard,
                "type": "bonus"}),
            "type",
        ),
    ] {
        let r = s.post(&format!("/invoices/{id}/position-items"), &body);
        assert_problem(&r, 422);
        assert_eq!(r.violation_paths(), [path], "{body}");
    }
}

#[test]
fn reads_replaces_and_deletes_one_position() {
    let s = Server::start();
    let (c, id) = setup(&s);
    let pid = "0190a000-0000-7000-8000-00000000beef";
    let mut first = line(&c, "A", json!(2), "10.00", &c.standard);
    first["id"] = json!(pid);
    first["description"] = json!("Zwei Stück");
    let inv = add(
        &s,
        &id,
        json!([first, {"name": "Gruppe", "children": [line(&c, "K", json!(1), "1.00", &c.standard)]}]),
    );
    assert_eq!(inv["positions"][0]["id"], pid);

    let r = s.get(&format!("/invoice-position-items/{pid}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, inv["positions"][0]);
    assert_eq!(r.body["unit"]["name"], "Stück");
    let en = s.get(&format!("/invoice-position-items/{pid}?locale=en"));
    assert_eq!(en.body["unit"]["name"], "Piece");
    assert_problem(&s.get("/invoice-position-items/nope"), 404);
    // A used id cannot be chosen again.
    let mut again = line(&c, "B", json!(1), "1", &c.standard);
    again["id"] = json!(pid);
    let r = s.post(&format!("/invoices/{id}/position-items"), &again);
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), ["id"]);

    // PUT changes only what it sends; the whole invoice comes back, recomputed.
    let r = s.put(
        &format!("/invoice-position-items/{pid}"),
        &json!({"quantity": 3}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let p = &r.body["positions"][0];
    assert_eq!(
        (p["quantity"].clone(), p["name"].clone()),
        (json!(3), json!("A"))
    );
    assert_eq!(p["description"], "Zwei Stück");
    // 3 × 10.00 + 1.00 = 31.00; 19 %: 5.89.
    assert_eq!(totals(&r.body), (3100, 589, 3689));
    // Sending the read shape back (Money objects and embeds) is accepted.
    let mut echo = s.get(&format!("/invoice-position-items/{pid}")).body;
    echo["name"] = json!("A+");
    let r = s.put(&format!("/invoice-position-items/{pid}"), &echo);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["positions"][0]["name"], "A+");
    assert_eq!(r.body["positions"][0]["unitPrice"], eur(1000));
    let r = s.put(
        &format!("/invoice-position-items/{pid}"),
        &json!({"unitPrice": null}),
    );
    assert_problem(&r, 422);
    assert_eq!(
        r.violation_paths(),
        ["unitPrice"],
        "only headings go without a price"
    );
    let r = s.put(
        &format!("/invoice-position-items/{pid}"),
        &json!({"unitPrice": money(1000, "USD", 2)}),
    );
    assert_eq!(r.violation_paths(), ["unitPrice"]);

    // The heading's children can be replaced through it; deleting it removes them.
    let inv = s.get(&format!("/invoices/{id}")).body;
    let head_id = inv["positions"][1]["id"].as_str().unwrap().to_string();
    let r = s.put(
        &format!("/invoice-position-items/{head_id}"),
        &json!({"children": [line(&c, "K1", json!(1), "2.00", &c.standard),
                             line(&c, "K2", json!(1), "3.00", &c.standard)]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["positions"][1]["children"].as_array().unwrap().len(),
        2
    );
    // 30.00 + 2.00 + 3.00 = 35.00; 19 %: 6.65.
    assert_eq!(totals(&r.body), (3500, 665, 4165));
    let grandchild = r.body["positions"][1]["children"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.put(
        &format!("/invoice-position-items/{grandchild}"),
        &json!({"children": [{"name": "z"}]}),
    );
    assert_eq!(r.violation_paths(), ["children"]);

    let r = s.delete(&format!("/invoice-position-items/{head_id}"));
    assert_eq!(r.status, 204, "{}", r.text);
    assert_problem(
        &s.get(&format!("/invoice-position-items/{grandchild}")),
        404,
    );
    let inv = s.get(&format!("/invoices/{id}")).body;
    assert_eq!(inv["positions"].as_array().unwrap().len(), 1);
    assert_eq!(totals(&inv), (3000, 570, 3570));
    let r = s.get(&format!("/invoices/{id}/history"));
    let actions: Vec<&str> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "position.added",
            "position.updated",
            "position.updated",
            "position.updated",
            "position.removed"
        ]
    );
}
