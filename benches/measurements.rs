//! Measurement ingestion benchmark: values per second through the batch path
//! (`POST /subscription-measurements/batch`'s work: JSON parse, checks, reference resolution,
//! insert, outbox), against raw prepared inserts of the same rows as baseline, measured in the
//! same run on a file database. Run with `cargo bench --bench measurements`
//! (optionally `-- --batches 200`).

use kontor::app::{self, App};
use kontor::config::Config;
use kontor::resources::subscription_measurements::{parse_batch, store};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::time::Instant;

const PER_BATCH: usize = 1000;
const ITEMS: usize = 10;

/// A tenant with one subscription of `ITEMS` items (default `quantity` measurement).
fn fixture(conn: &Connection) -> (String, String, Vec<String>) {
    let (tenant, token) =
        kontor::bootstrap::create_tenant(conn, "Bench GmbH", "bench@example.test").unwrap();
    let now = "2026-01-01T00:00:00+00:00";
    conn.execute_batch(&format!(
        "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
         VALUES ('c', '{tenant}', 'K1', 'c@example.test', '{now}', '{now}');
         INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                               created_at, updated_at)
         VALUES ('p', '{tenant}', 'product', 'API',
                 (SELECT id FROM measurements WHERE tenant_id = '{tenant}' AND code = 'quantity'),
                 (SELECT id FROM tax_groups WHERE tenant_id = '{tenant}' AND type = 'standard'),
                 '{now}', '{now}');
         INSERT INTO price_plans (id, tenant_id, product_id, type, currency_code,
                                  billing_interval, amount, created_at, updated_at)
         VALUES ('pp', '{tenant}', 'p', 'per_unit', 'EUR', '1M', '0.01', '{now}', '{now}');
         INSERT INTO subscriptions (id, tenant_id, customer_id, number, currency_code,
                                    contract_start, billing_start, created_at, updated_at)
         VALUES ('s', '{tenant}', 'c', 'S-1', 'EUR', '2026-01-01', '2026-01-01', '{now}', '{now}');"
    ))
    .unwrap();
    let items: Vec<String> = (0..ITEMS).map(|i| format!("item-{i:02}")).collect();
    for id in &items {
        conn.execute(
            "INSERT INTO subscription_items (id, tenant_id, subscription_id, product_id,
                 price_plan_id, start_date, billing_start, billing_anchor, created_at, updated_at)
             VALUES (?1, ?2, 's', 'p', 'pp', '2026-01-01', '2026-01-01', '2026-01-01', ?3, ?3)",
            params![id, tenant, now],
        )
        .unwrap();
    }
    (tenant, token, items)
}

/// `batches` request bodies of `PER_BATCH` values each, as a client would send them.
fn bodies(items: &[String], batches: usize) -> Vec<Vec<u8>> {
    (0..batches)
        .map(|b| {
            let values: Vec<Value> = (0..PER_BATCH)
                .map(|i| {
                    json!({
                        "subscriptionItem": items[i % items.len()],
                        "quantity": format!("{}.{:03}", i % 50, b % 1000),
                        "measuredAt": format!("2026-03-{:02}T{:02}:{:02}:00Z", 1 + i % 28, i % 24, b % 60),
                        "id": format!("evt-{b}-{i}"),
                    })
                })
                .collect();
            serde_json::to_vec(&json!({ "values": values })).unwrap()
        })
        .collect()
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM measurement_values", [], |r| r.get(0))
        .unwrap()
}

fn main() {
    let batches = std::env::args()
        .skip_while(|a| a != "--batches")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200usize);
    let total = (batches * PER_BATCH) as f64;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let conn = kontor::db::open(&path).unwrap();
    kontor::db::migrate(&conn).unwrap();
    let (tenant, token, items) = fixture(&conn);
    let bodies = bodies(&items, batches);
    let mb = bodies.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    println!("{batches} batches x {PER_BATCH} values ({mb:.1} MB of JSON), {ITEMS} items");

    // Baseline: the same rows through one prepared INSERT, values precomputed.
    let rows: Vec<(String, String, i64)> = (0..batches * PER_BATCH)
        .map(|i| {
            (
                kontor::domain::ids::new_id(),
                format!("{}.5", i % 50),
                1_772_000_000_000 + i as i64,
            )
        })
        .collect();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let t = Instant::now();
    {
        let mut insert = conn
            .prepare(
                "INSERT INTO measurement_values (id, tenant_id, subscription_item_id,
                     measurement_id, quantity, measured_at, event_id, batch_id, created_at)
                 VALUES (?1, ?2, ?3, (SELECT id FROM measurements WHERE code = 'quantity'
                     AND tenant_id = ?2), ?4, ?5, ?1, 'b', 'now')",
            )
            .unwrap();
        for (i, (id, q, at)) in rows.iter().enumerate() {
            insert
                .execute(params![id, tenant, items[i % ITEMS], q, at])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    let raw = total / t.elapsed().as_secs_f64();
    println!("baseline raw INSERT, one transaction:            {raw:>10.0} values/s");
    conn.execute_batch("DELETE FROM measurement_values")
        .unwrap();

    // The batch path, all batches in one transaction.
    let t = Instant::now();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    for body in &bodies {
        let map = serde_json::from_slice(body).unwrap();
        let (entries, violations) = parse_batch(map).unwrap();
        store::ingest(&conn, &tenant, &entries, violations, Some("bench")).unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();
    let one_tx = total / t.elapsed().as_secs_f64();
    assert_eq!(count(&conn), (batches * PER_BATCH) as i64);
    println!(
        "batch path, one transaction:                     {one_tx:>10.0} values/s ({:.2} x baseline)",
        one_tx / raw
    );
    conn.execute_batch("DELETE FROM measurement_values")
        .unwrap();

    // The batch path, one transaction (and commit) per batch of 1000, as requests do.
    let t = Instant::now();
    for body in &bodies {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let map = serde_json::from_slice(body).unwrap();
        let (entries, violations) = parse_batch(map).unwrap();
        store::ingest(&conn, &tenant, &entries, violations, Some("bench")).unwrap();
        conn.execute_batch("COMMIT").unwrap();
    }
    let per_tx = total / t.elapsed().as_secs_f64();
    println!(
        "batch path, one transaction per 1000 values:     {per_tx:>10.0} values/s ({:.2} x baseline)",
        per_tx / raw
    );
    conn.execute_batch("DELETE FROM measurement_values")
        .unwrap();
    drop(conn);

    // End to end through HTTP, sequential requests from one client.
    let config = Config {
        db: path.clone(),
        bind: "127.0.0.1:0".into(),
        log_requests: false,
        ..Config::default()
    };
    let server = app::start(App::open(config).unwrap()).unwrap();
    let url = format!(
        "http://{}/subscription-measurements/batch",
        server.server_addr()
    );
    let (_handle, stop) = server.stoppable();
    let agent = ureq::AgentBuilder::new().build();
    let t = Instant::now();
    for body in &bodies {
        let r = agent
            .post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .send_bytes(body)
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let http = total / t.elapsed().as_secs_f64();
    println!(
        "POST /subscription-measurements/batch over HTTP: {http:>10.0} values/s ({:.2} x baseline)",
        http / raw
    );
    let _ = stop.send(());
}
