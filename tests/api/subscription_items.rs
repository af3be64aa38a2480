//! Subscription items: read, merge-patch texts and terms, cancel and terminate one item (the
//! subscription terminates with its last item), and their 409s.

use crate::common::assert_problem;
use crate::subscriptions::{active, id, minus_months, outbox, plan, plus_months, today, ymd};
use serde_json::{json, Value};

#[test]
fn read_and_patch_an_item() {
    let (s, sub) = active(json!({}));
    let item = sub["items"][0].clone();
    let path = format!("/subscription-items/{}", id(&item));
    let r = s.get(&path);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, item);
    assert_eq!(r.body["subscription"], sub["id"]);
    let r = s.patch(&path, &json!({"name": "Storage 1 TB", "description": "Daily backups",
                                   "periods": {"contractPeriod": "1Y", "cancellationPeriod": "1M"}}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Storage 1 TB");
    assert_eq!(r.body["description"], "Daily backups");
    assert_eq!(r.body["inheritedPeriod"], false);
    assert_eq!(r.body["periods"][0]["laterCancellationPeriod"], "1M");
    let r = s.patch(&path, &json!({"periods": null, "name": null}));
    assert_eq!(r.body["inheritedPeriod"], true);
    assert_eq!(r.body["name"], "Cloud Storage");
    let r = s.patch(&path, &json!({"name": "x".repeat(256), "quantity": 3}));
    assert_problem(&r, 422);
    let mut paths = r.violation_paths();
    paths.sort();
    assert_eq!(paths, vec!["name", "quantity"]);
    assert_problem(&s.get("/subscription-items/nope"), 404);
}

#[test]
fn cancel_one_item_with_its_own_terms() {
    // The item's own terms: 12M from its start (2 months ago), 3M notice -> start + 12M - 1 day.
    let start = minus_months(today(), 2);
    let (s, sub) = active(json!({"contractStart": ymd(start), "billingStart": ymd(start)}));
    let item = id(&sub["items"][0]).to_string();
    let path = format!("/subscription-items/{item}");
    s.patch(
        &path,
        &json!({"periods": {"contractPeriod": "12M", "cancellationPeriod": "3M"}}),
    );
    let r = s.put(
        &format!("{path}/cancel"),
        &json!({"cancellationDateType": "next_possible"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "canceled");
    assert_eq!(
        r.body["endDate"],
        ymd(plus_months(start, 12).pred_opt().unwrap())
    );
    assert_problem(
        &s.put(
            &format!("{path}/cancel"),
            &json!({"cancellationDateType": "immediate"}),
        ),
        409,
    );
    // The subscription itself stays active with its other items.
    assert_eq!(
        s.get(&format!("/subscriptions/{}", id(&sub))).body["status"],
        "active"
    );
}

#[test]
fn terminating_the_last_item_terminates_the_subscription() {
    let (s, sub) = active(json!({}));
    let (_, p) = plan(&s, json!({}));
    let r = s.post(
        &format!("/subscriptions/{}/products", id(&sub)),
        &json!({"products": [{"pricePlan": p}]}),
    );
    let items: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| id(i).to_string())
        .collect();
    let r = s.put(
        &format!("/subscription-items/{}/terminate", items[0]),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "terminated");
    assert_eq!(r.body["endDate"], ymd(today()));
    assert_eq!(outbox(&s, &items[0]), vec!["subscription_item.terminated"]);
    assert_eq!(
        s.get(&format!("/subscriptions/{}", id(&sub))).body["status"],
        "active"
    );
    assert_problem(
        &s.put(
            &format!("/subscription-items/{}/terminate", items[0]),
            &json!({}),
        ),
        409,
    );
    let r = s.put(
        &format!("/subscription-items/{}/cancel", items[1]),
        &json!({"cancellationDateType": "immediate"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let sub = s.get(&format!("/subscriptions/{}", id(&sub))).body;
    assert_eq!(sub["status"], "terminated");
    assert_eq!(sub["contractDetails"]["contractEnd"], ymd(today()));
    assert!(outbox(&s, id(&sub)).contains(&"subscription.terminated".to_string()));
    let _: Value = sub;
}
