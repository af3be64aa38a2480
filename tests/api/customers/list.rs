//! Customer list: envelope, pagination bounds, every filter, search and sorting.

use super::{create, id};
use crate::common::{assert_problem, Resp, Server};
use serde_json::{json, Value};

fn seed_list(s: &Server) -> Vec<Value> {
    vec![
        create(
            s,
            json!({"email": "anna@alpha.de", "firstName": "Anna", "lastName": "Alpha",
                   "companyName": "Alpha AG", "vatId": "DE111111111", "customerNumber": "C-3"}),
        ),
        create(
            s,
            json!({"email": "bert@beta.de", "firstName": "Bert", "lastName": "Beta",
                   "invoiceEmail": "billing@beta.de", "customerNumber": "C-1"}),
        ),
        create(
            s,
            json!({"email": "carl@gamma.de", "firstName": "Carl", "lastName": "Gamma_x",
                   "customerNumber": "C-2"}),
        ),
    ]
}

fn numbers(r: &Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerNumber"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_envelope_filters_search_and_order() {
    let s = Server::start();
    let all = seed_list(&s);
    s.act("PUT", &format!("/customers/{}/archive", id(&all[2])));

    let r = s.get("/customers");
    assert_eq!(r.status, 200);
    assert_eq!(numbers(&r), vec!["C-3", "C-1", "C-2"]);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 30, "currentPage": 1, "lastPage": 1, "pageTotalItems": 3})
    );
    // Items are full read models.
    assert_eq!(
        r.body["data"][1],
        s.get(&format!("/customers/{}", id(&all[1]))).body
    );

    let r = s.get("/customers?limit=2&page=2");
    assert_eq!(numbers(&r), vec!["C-2"]);
    assert_eq!(
        r.body["meta"]["pagination"],
        json!({"totalItems": 3, "itemsPerPage": 2, "currentPage": 2, "lastPage": 2, "pageTotalItems": 1})
    );
    let r = s.get("/customers?limit=0");
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(r.body["meta"]["pagination"]["totalItems"], 3);
    assert_problem(&s.get("/customers?limit=101"), 400);
    assert_problem(&s.get("/customers?page=0"), 400);

    let cases: &[(&str, &[&str])] = &[
        ("order[customerNumber]=asc", &["C-1", "C-2", "C-3"]),
        ("order[customerNumber]=desc", &["C-3", "C-2", "C-1"]),
        ("order[createdAt]=desc", &["C-2", "C-1", "C-3"]),
        ("companyName=Alpha%20AG", &["C-3"]),
        ("firstName=Bert", &["C-1"]),
        ("lastName=Gamma_x", &["C-2"]),
        ("customerNumber[]=C-1&customerNumber[]=C-2", &["C-1", "C-2"]),
        ("vatId=DE111111111", &["C-3"]),
        ("isVatIdValid=false", &["C-3", "C-1", "C-2"]),
        ("isVatIdValid=true", &[]),
        ("emailAddresses.email=BILLING@beta.de", &["C-1"]),
        (
            "emailAddresses.email[]=anna@alpha.de&emailAddresses.email[]=carl@gamma.de",
            &["C-3", "C-2"],
        ),
        ("status=STATUS_ARCHIVED", &["C-2"]),
        (
            "status[]=STATUS_ACTIVE&order[customerNumber]=asc",
            &["C-1", "C-3"],
        ),
        ("search=alpha", &["C-3"]),
        ("search=BERT%20BETA", &["C-1"]),
        ("search=c-2", &["C-2"]),
        ("search=billing@", &["C-1"]),
        ("search=a_x", &["C-2"]),
        ("search=%25", &[]),
        (
            "search=de&order[customerNumber]=desc&limit=2",
            &["C-3", "C-2"],
        ),
        ("datevId=10000", &[]),
        ("customerGroup.name=VIP", &[]),
        ("partner=0190d7a0-0000-7000-8000-000000000000", &[]),
    ];
    for (query, expected) in cases {
        let r = s.get(&format!("/customers?{query}"));
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(numbers(&r), *expected, "{query}");
        assert_eq!(
            r.body["meta"]["pagination"]["totalItems"],
            if *query == "search=de&order[customerNumber]=desc&limit=2" {
                3
            } else {
                expected.len()
            },
            "{query}"
        );
    }
    assert_problem(&s.get("/customers?status=STATUS_GONE"), 400);
    assert_problem(
        &s.get("/customers?status[]=STATUS_ACTIVE&status[]=active"),
        400,
    );
    assert_problem(&s.get("/customers?isVatIdValid=maybe"), 400);
    assert_problem(&s.get("/customers?order[email]=asc"), 400);
    assert_problem(&s.get("/customers?order[createdAt]=up"), 400);
}
