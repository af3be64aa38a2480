//! The invoice list: envelope and paging, every filter, date ranges, sorting, and 400 for
//! malformed query parameters.

use super::{catalog, customer, draft, finalize, line};
use crate::common::{assert_problem, Server};
use serde_json::{json, Value};

fn numbers(r: &Value) -> Vec<Value> {
    r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].clone())
        .collect()
}

fn total(s: &Server, query: &str) -> i64 {
    let r = s.get(&format!("/invoices?{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.body["meta"]["pagination"]["totalItems"].as_i64().unwrap()
}

#[test]
fn lists_with_filters_ranges_and_order() {
    let s = Server::start();
    let c = catalog(&s, &s.tenant_id);
    let a = customer(&s, &s.token, json!({}));
    let b = customer(&s, &s.token, json!({}));
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let pos = json!([line(&c, "a", json!(1), "1.00", &c.standard)]);
    let first = finalize(&s, draft(&s, aid, pos.clone())["id"].as_str().unwrap());
    let second = finalize(&s, draft(&s, bid, pos.clone())["id"].as_str().unwrap());
    let open = draft(&s, aid, pos.clone());

    let r = s.get("/invoices");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1,
               "pageTotalItems": 3})
    );
    assert_eq!(
        numbers(&r.body),
        [json!("RE-0000000001"), json!("RE-0000000002"), Value::Null]
    );
    // List items carry the totals and the breakdown, not the positions.
    let item = &r.body["data"][0];
    assert_eq!(item["grossAmount"]["amount"], 119);
    assert_eq!(item["taxBreakdown"][0]["taxAmount"]["amount"], 19);
    assert!(item.get("positions").is_none());

    assert_eq!(total(&s, &format!("customer={aid}")), 2);
    assert_eq!(total(&s, &format!("customer[]={aid}&customer[]={bid}")), 3);
    assert_eq!(total(&s, "status=STATUS_DRAFT"), 1);
    assert_eq!(total(&s, "status[]=STATUS_UNPAID&status[]=STATUS_PAID"), 2);
    assert_eq!(total(&s, "type=TYPE_INVOICE"), 3);
    assert_eq!(total(&s, "type=TYPE_CREDIT"), 0);
    assert_eq!(total(&s, "number=RE-0000000002"), 1);
    assert_eq!(total(&s, "dunningStatus=none"), 3);
    assert_eq!(total(&s, "dunningStatus=dunning"), 0);
    let today = first["finalizationDate"].as_str().unwrap();
    let due = second["dueDate"].as_str().unwrap();
    assert_eq!(total(&s, &format!("finalizationDate[after]={today}")), 2);
    assert_eq!(total(&s, &format!("finalizationDate[before]={today}")), 2);
    assert_eq!(total(&s, "finalizationDate[before]=2000-01-01"), 0);
    assert_eq!(
        total(&s, &format!("dueDate[after]={due}&dueDate[before]={due}")),
        2
    );
    assert_eq!(total(&s, "dueDate[after]=2999-01-01"), 0);

    let r = s.get("/invoices?order[number]=desc&status[]=STATUS_UNPAID");
    assert_eq!(
        numbers(&r.body),
        [json!("RE-0000000002"), json!("RE-0000000001")]
    );
    let r = s.get("/invoices?limit=1&page=3&order[createdAt]=asc");
    assert_eq!(r.body["data"][0]["id"], open["id"]);
    assert_eq!(r.body["meta"]["pagination"]["lastPage"], 3);
    assert_eq!(r.body["meta"]["pagination"]["pageTotalItems"], 1);
    let r = s.get("/invoices?limit=0");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 3);
}

#[test]
fn malformed_queries_are_400() {
    let s = Server::start();
    for q in [
        "limit=101",
        "limit=-1",
        "page=0",
        "page=x",
        "status=STATUS_OPEN",
        "type=invoice",
        "dunningStatus=late",
        "finalizationDate[after]=yesterday",
        "dueDate[before]=2026-13-01",
        "order[total]=asc",
        "order[number]=up",
    ] {
        assert_problem(&s.get(&format!("/invoices?{q}")), 400);
    }
    assert_problem(&s.get("/invoices/nope/history?limit=101"), 400);
}
