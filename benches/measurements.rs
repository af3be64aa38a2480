//! Measurement ingestion benchmark: values per second through
//! `subscription_measurements::ingest_batch`, the function the handler of
//! `POST /subscription-measurements/batch` calls (JSON parse, checks, reference resolution,
//! insert, outbox), each batch in its own SAVEPOINT as on the writer thread, against raw
//! prepared INSERTs of the very same rows (item keys and texts precomputed, arrival order) as
//! baseline, each phase on a fresh database file in the same run. Then the same bodies over
//! HTTP. Run with `cargo bench --bench measurements`; options (after `--`): `--batches 200`,
//! `--scenario stream|scattered` (default both), `--no-http`.
//!
//! Data: 10 subscriptions with 5 metered items each (one item per measurement code, so a value
//! by code stores exactly one row). Each value targets a random item, 1 in 10 by
//! `measurementCode` + subscription number; quantities are decimal strings and numbers.
//! - "stream": batch b carries the values measured in hour b (in random order within the
//!   hour), 3 % arriving up to two days late, 2 % without `measuredAt` (now);
//! - "scattered": every batch spreads over the whole month (the worst case for the index).
//!
//! The batch path raises its connection's page cache (`ingest::raise_page_cache`); the
//! baseline connection gets the same cache so the comparison is like for like.

use kontor::app::{self, App};
use kontor::config::Config;
use kontor::db::tx::{Savepoint, Tx};
use kontor::error::ApiError;
use kontor::resources::subscription_measurements::{ingest, ingest_batch, parse, parse_batch};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::time::Instant;

const PER_BATCH: usize = 1000;
const SUBSCRIPTIONS: usize = 10;
/// Measurement codes (and aggregation types); each subscription has one item per code.
const CODES: [(&str, &str); 5] = [
    ("quantity", "last_value"),
    ("api_calls", "sum"),
    ("storage", "max"),
    ("users", "count_unique"),
    ("requests", "count"),
];
/// 2026-03-01T00:00:00Z in unix milliseconds.
const MARCH: i64 = 1_772_323_200_000;
const HOUR: i64 = 3_600_000;

/// One item of the fixture.
struct Item {
    id: String,
    subscription_number: String,
    code: &'static str,
}

/// A UUID v7-shaped id, the same in every fixture, so one workload fits every database.
fn id(subscription: usize, n: usize) -> String {
    format!("019c0000-0000-7000-8000-{subscription:06}{n:06}")
}

/// A tenant with `SUBSCRIPTIONS` subscriptions of one item per measurement code.
fn fixture(conn: &Connection) -> (String, String, Vec<Item>) {
    let (tenant, token) =
        kontor::bootstrap::create_tenant(conn, "Bench GmbH", "bench@example.test").unwrap();
    let now = "2026-01-01T00:00:00+00:00";
    conn.execute_batch(&format!(
        "INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
         VALUES ('c', '{tenant}', 'K1', 'c@example.test', '{now}', '{now}');"
    ))
    .unwrap();
    for (code, aggregation) in CODES {
        if code != "quantity" {
            conn.execute(
                "INSERT INTO measurements (id, tenant_id, code, unit_id, aggregation_type,
                                           created_at, updated_at)
                 SELECT 'm-' || ?2, tenant_id, ?2, unit_id, ?3, ?4, ?4 FROM measurements
                 WHERE tenant_id = ?1 AND code = 'quantity'",
                params![tenant, code, aggregation, now],
            )
            .unwrap();
        }
        conn.execute_batch(&format!(
            "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                                   created_at, updated_at)
             VALUES ('p-{code}', '{tenant}', 'product', '{code}',
                 (SELECT id FROM measurements WHERE tenant_id = '{tenant}' AND code = '{code}'),
                 (SELECT id FROM tax_groups WHERE tenant_id = '{tenant}' AND type = 'standard'),
                 '{now}', '{now}');
             INSERT INTO price_plans (id, tenant_id, product_id, type, currency_code,
                                      billing_interval, amount, created_at, updated_at)
             VALUES ('pp-{code}', '{tenant}', 'p-{code}', 'per_unit', 'EUR', '1M', '0.01',
                     '{now}', '{now}');"
        ))
        .unwrap();
    }
    let mut items = Vec::new();
    for s in 0..SUBSCRIPTIONS {
        let (sub, number) = (id(s, 0), format!("S-{s}"));
        conn.execute(
            "INSERT INTO subscriptions (id, tenant_id, customer_id, number, currency_code,
                                        contract_start, billing_start, created_at, updated_at)
             VALUES (?1, ?2, 'c', ?3, 'EUR', '2026-01-01', '2026-01-01', ?4, ?4)",
            params![sub, tenant, number, now],
        )
        .unwrap();
        for (c, (code, _)) in CODES.into_iter().enumerate() {
            let id = id(s, c + 1);
            conn.execute(
                "INSERT INTO subscription_items (id, tenant_id, subscription_id, product_id,
                     price_plan_id, start_date, billing_start, billing_anchor, created_at,
                     updated_at)
                 VALUES (?1, ?2, ?3, 'p-' || ?4, 'pp-' || ?4, '2026-01-01', '2026-01-01',
                         '2026-01-01', ?5, ?5)",
                params![id, tenant, sub, code, now],
            )
            .unwrap();
            items.push(Item {
                id,
                subscription_number: number.clone(),
                code,
            });
        }
    }
    (tenant, token, items)
}

/// A row as the baseline inserts it: item index, quantity text, measured_at, event id.
type Row = (usize, String, Option<i64>, String);

/// `batches` request bodies of `PER_BATCH` values each, as a client would send them, and the
/// rows they describe.
fn workload(items: &[Item], batches: usize, scattered: bool) -> (Vec<Vec<u8>>, Vec<Row>) {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut bodies = Vec::with_capacity(batches);
    let mut rows = Vec::with_capacity(batches * PER_BATCH);
    for b in 0..batches {
        let hour = MARCH + (b as i64 % (28 * 24)) * HOUR;
        let values: Vec<Value> = (0..PER_BATCH)
            .map(|i| {
                let item = rng.random_range(0..items.len());
                let at = match (scattered, rng.random_range(0..100)) {
                    (true, _) => Some(MARCH + rng.random_range(0..28 * 24 * HOUR)),
                    (false, 0..2) => None,
                    (false, 2..5) => Some(hour - rng.random_range(0..48 * HOUR)),
                    (false, _) => Some(hour + rng.random_range(0..HOUR)),
                };
                let cents = rng.random_range(0..100_000u32);
                let quantity = format!("{}.{:02}", cents / 100, cents % 100);
                let event = format!("evt-{b}-{i}");
                let mut v = if rng.random_range(0..10) == 0 {
                    json!({"measurementCode": items[item].code,
                           "subscription": items[item].subscription_number})
                } else {
                    json!({"subscriptionItem": items[item].id})
                };
                v["quantity"] = if i % 4 == 0 {
                    quantity.parse::<serde_json::Number>().unwrap().into()
                } else {
                    quantity.clone().into()
                };
                v["id"] = event.clone().into();
                if let Some(at) = at {
                    v["measuredAt"] =
                        kontor::resources::subscription_measurements::store::format_ms(at).into();
                }
                rows.push((item, quantity, at, event));
                v
            })
            .collect();
        bodies.push(serde_json::to_vec(&json!({ "values": values })).unwrap());
    }
    (bodies, rows)
}

/// A fresh database file with the fixture.
fn fresh(dir: &Path, name: &str) -> (Connection, String, String, Vec<Item>) {
    let conn = kontor::db::open(&dir.join(name)).unwrap();
    kontor::db::migrate(&conn).unwrap();
    let (tenant, token, items) = fixture(&conn);
    (conn, tenant, token, items)
}

/// What was stored, independent of ids and insertion order: every (item position, quantity,
/// event id) and how many values have no measuredAt of the workload.
fn digest(conn: &Connection, items: &[Item]) -> (i64, u64) {
    let mut stmt = conn
        .prepare(
            "SELECT k.item_id, v.quantity, v.measured_at, v.event_id
             FROM measurement_values v JOIN measured_items k ON k.key = v.item
             ORDER BY v.event_id",
        )
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let (mut n, mut h) = (0, DefaultHasher::new());
    while let Some(r) = rows.next().unwrap() {
        let item: String = r.get(0).unwrap();
        let position = items.iter().position(|i| i.id == item).unwrap();
        let at: i64 = r.get(2).unwrap();
        // Values sent without measuredAt are stamped "now": only their presence is compared.
        let at = if at > MARCH + 40 * 24 * HOUR { 0 } else { at };
        (
            position,
            r.get::<_, String>(1).unwrap(),
            at,
            r.get::<_, String>(3).unwrap(),
        )
            .hash(&mut h);
        n += 1;
    }
    (n, h.finish())
}

fn baseline(dir: &Path, name: &str, rows: &[Row]) -> (f64, (i64, u64)) {
    let (conn, tenant, _, items) = fresh(dir, name);
    ingest::raise_page_cache(&conn).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    // Item keys exist before the clock starts (the batch path creates them once per item).
    let keys: Vec<i64> = items
        .iter()
        .map(|i| {
            conn.query_row(
                "INSERT INTO measured_items (item_id) VALUES (?1) RETURNING key",
                [&i.id],
                |r| r.get(0),
            )
            .unwrap()
        })
        .collect();
    let t = Instant::now();
    let tx = Tx::begin(&conn, true).unwrap();
    {
        tx.execute(
            "INSERT INTO measurement_batches (first_value, size, id, tenant_id, created_at)
             VALUES (1, ?1, 'batch', ?2, ?3)",
            params![rows.len() as i64, tenant, now],
        )
        .unwrap();
        let mut insert = tx
            .prepare(
                "INSERT INTO measurement_values (item, measured_at, quantity, event_id)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .unwrap();
        for (item, quantity, at, event) in rows {
            insert
                .execute(params![keys[*item], at.unwrap_or(now), quantity, event])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    let rate = rows.len() as f64 / t.elapsed().as_secs_f64();
    (rate, digest(&conn, &items))
}

/// The handler's path; `per_batch`: one transaction (and commit) per batch, as a lone client's
/// requests get on the writer thread, else all batches in one transaction.
fn batch_path(dir: &Path, name: &str, bodies: &[Vec<u8>], per_batch: bool) -> (f64, (i64, u64)) {
    let (conn, tenant, _, items) = fresh(dir, name);
    let t = Instant::now();
    let mut tx = Some(Tx::begin(&conn, true).unwrap());
    for body in bodies {
        let sp = Savepoint::begin(tx.as_ref().unwrap()).unwrap();
        let accepted = ingest_batch(&sp, &tenant, body).unwrap();
        assert_eq!(accepted.accepted, PER_BATCH);
        sp.commit().unwrap();
        if per_batch {
            tx.take().unwrap().commit().unwrap();
            tx = Some(Tx::begin(&conn, true).unwrap());
        }
    }
    tx.take().unwrap().commit().unwrap();
    let rate = (bodies.len() * PER_BATCH) as f64 / t.elapsed().as_secs_f64();
    (rate, digest(&conn, &items))
}

/// Bad values are each reported (and nothing stored), also in a large batch.
fn check_rejections(dir: &Path) {
    let (conn, tenant, _, items) = fresh(dir, "rejects.db");
    let mut values: Vec<Value> = (0..PER_BATCH)
        .map(|i| json!({"subscriptionItem": items[i % items.len()].id, "quantity": "1"}))
        .collect();
    values[10]["quantity"] = "-1".into();
    values[500]["subscriptionItem"] = "nope".into();
    values[999] = json!(7);
    let body = serde_json::to_vec(&json!({ "values": values })).unwrap();
    match ingest_batch(&conn, &tenant, &body) {
        Err(ApiError::Validation(v)) => {
            let paths: Vec<_> = v.iter().map(|v| v.property_path.as_str()).collect();
            assert_eq!(
                paths,
                [
                    "values[10].quantity",
                    "values[500].subscriptionItem",
                    "values[999]"
                ]
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }
    let n: i64 = conn
        .query_row("SELECT count(*) FROM measurement_values", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

fn over_http(dir: &Path, bodies: &[Vec<u8>]) -> f64 {
    let path = dir.join("http.db");
    let (conn, _, token, _) = fresh(dir, "http.db");
    drop(conn);
    let config = Config {
        db: path,
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
    for body in bodies {
        let r = agent
            .post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .send_bytes(body)
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let rate = (bodies.len() * PER_BATCH) as f64 / t.elapsed().as_secs_f64();
    let _ = stop.send(());
    rate
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str| args.iter().skip_while(|a| *a != name).nth(1).cloned();
    let batches = option("--batches")
        .and_then(|n| n.parse().ok())
        .unwrap_or(200usize);
    let only = option("--scenario");
    let http = !args.iter().any(|a| a == "--no-http");
    let dir = tempfile::tempdir().unwrap();
    check_rejections(dir.path());
    let (conn, _, _, items) = fresh(dir.path(), "template.db");
    drop(conn);
    println!(
        "{batches} batches x {PER_BATCH} values, {} items in {SUBSCRIPTIONS} subscriptions",
        items.len()
    );
    for (scenario, scattered) in [("stream", false), ("scattered", true)] {
        if only.as_ref().is_some_and(|o| o != scenario) {
            continue;
        }
        let (bodies, rows) = workload(&items, batches, scattered);
        let mb = bodies.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
        println!("{scenario}: {mb:.1} MB of JSON");
        // What the database is not involved in: parse and check every body.
        let t = Instant::now();
        for body in &bodies {
            let raw = parse::body(body).unwrap().unwrap();
            let (entries, violations) = parse_batch(raw).unwrap();
            assert_eq!((entries.len(), violations.len()), (PER_BATCH, 0));
        }
        let parse = (batches * PER_BATCH) as f64 / t.elapsed().as_secs_f64();
        println!("  parse and checks alone (no database):       {parse:>9.0} values/s");
        let (raw, expected) = baseline(dir.path(), &format!("{scenario}-raw.db"), &rows);
        println!("  baseline raw INSERT, one transaction:        {raw:>9.0} values/s");
        let (one_tx, stored) = batch_path(dir.path(), &format!("{scenario}-1.db"), &bodies, false);
        assert_eq!(
            stored, expected,
            "the batch path stores exactly the baseline's rows"
        );
        println!(
            "  batch path, one transaction:                 {one_tx:>9.0} values/s ({:.2} x baseline)",
            one_tx / raw
        );
        let (per_tx, stored) = batch_path(dir.path(), &format!("{scenario}-n.db"), &bodies, true);
        assert_eq!(stored, expected);
        println!(
            "  batch path, one transaction per batch:       {per_tx:>9.0} values/s ({:.2} x baseline)",
            per_tx / raw
        );
        if http && !scattered {
            let http = over_http(dir.path(), &bodies);
            println!(
                "  POST /subscription-measurements/batch, HTTP: {http:>9.0} values/s ({:.2} x baseline)",
                http / raw
            );
        }
    }
}
