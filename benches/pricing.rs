//! Pricing benchmark: `domain::pricing::calculate` throughput for the guide's 3-tier tiered plan
//! (engine alone, against a per-unit plan as baseline), then `POST /price-plans/{id}/calculate`
//! through HTTP (against `GET /health` and `GET /price-plans/{id}` measured in the same run).
//! Run with `cargo bench --bench pricing` (optionally `-- --secs 3`).

use kontor::app::{self, App};
use kontor::config::Config;
use kontor::domain::money::Currency;
use kontor::domain::pricing::{calculate, Model, Pricing, Tier};
use rust_decimal::Decimal;
use serde_json::json;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 16;

fn tier(from: u64, to: Option<u64>, unit_price: Decimal) -> Tier {
    Tier {
        from,
        to,
        unit_price,
        flat_amount: Decimal::ZERO,
    }
}

/// Calls `calculate` for `secs` over quantities 0..=119 (every band, its edges, and 0);
/// returns calls per second.
fn engine(pricing: &Pricing, secs: f64) -> f64 {
    let quantities: Vec<Decimal> = (0..120).map(Decimal::from).collect();
    let deadline = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut calls = 0u64;
    let mut checksum = Decimal::ZERO;
    while start.elapsed() < deadline {
        // Batches of 120 keep the clock out of the measured work.
        for q in &quantities {
            let c = calculate(black_box(pricing), black_box(*q)).expect("calculates");
            checksum += c.net_rounded;
        }
        calls += quantities.len() as u64;
    }
    black_box(checksum);
    calls as f64 / start.elapsed().as_secs_f64()
}

struct Figures {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

/// `CONNECTIONS` keep-alive clients for `secs`, each sending requests built by `make`.
fn load<F>(secs: f64, make: F) -> Figures
where
    F: Fn(&ureq::Agent) -> Result<ureq::Response, Box<ureq::Error>> + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let barrier = Arc::new(Barrier::new(CONNECTIONS + 1));
    let deadline = Duration::from_secs_f64(secs);
    let errors = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (make, barrier, errors) = (make.clone(), barrier.clone(), errors.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .max_idle_connections_per_host(1)
                    .build();
                let mut latencies = Vec::with_capacity(100_000);
                barrier.wait();
                let start = Instant::now();
                while start.elapsed() < deadline {
                    let t = Instant::now();
                    match make(&agent) {
                        Ok(r) => {
                            let _ = r.into_string();
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client thread"))
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        per_sec: all.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors: errors.load(Ordering::Relaxed) as usize,
    }
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name:<40} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} errors)",
        f.per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.errors
    );
}

fn main() {
    let mut secs = 3.0;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--secs") {
        secs = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(secs);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("kontor pricing benchmark: {secs} s per phase, {cores} cores");

    // 1. The engine alone, one thread.
    let eur = Currency::parse("EUR").expect("EUR");
    let per_unit = Pricing {
        model: Model::PerUnit {
            price: Decimal::new(500, 2),
        },
        free_units: Decimal::ZERO,
        currency: eur,
    };
    // The guide's tiers: 1–10 @ 10.00, 11–50 @ 8.00, 51+ @ 6.00.
    let tiered = Pricing {
        model: Model::Tiered {
            tiers: vec![
                tier(1, Some(10), Decimal::new(1000, 2)),
                tier(11, Some(50), Decimal::new(800, 2)),
                tier(51, None, Decimal::new(600, 2)),
            ],
        },
        free_units: Decimal::ZERO,
        currency: eur,
    };
    let base = engine(&per_unit, secs);
    let tiers = engine(&tiered, secs);
    println!("engine calculate, per_unit (baseline)    {base:>12.0} calls/s");
    println!("engine calculate, tiered (3 tiers)       {tiers:>12.0} calls/s");
    println!(
        "ratio tiered/per_unit                    {:>12.2}",
        tiers / base
    );

    // 2. Through HTTP: a server in this process on a temp database.
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let conn = kontor::db::open(&db).expect("open");
    kontor::db::migrate(&conn).expect("schema");
    let (tenant, token) =
        kontor::bootstrap::create_tenant(&conn, "Bench", "bench@example.com").expect("tenant");
    // A product row directly: the benchmark measures price plans, not the products API.
    let product = "0190a000-0000-7000-8000-00000000beef";
    conn.execute(
        "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                               created_at, updated_at)
         VALUES (?1, ?2, 'product', 'Storage',
                 (SELECT id FROM measurements WHERE tenant_id = ?2 AND code = 'quantity'),
                 (SELECT id FROM tax_groups WHERE tenant_id = ?2 AND type = 'standard'),
                 '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
        [product, tenant.as_str()],
    )
    .expect("product");
    drop(conn);
    let config = Config {
        db,
        bind: "127.0.0.1:0".into(),
        threads: CONNECTIONS,
        log_requests: false,
        ..Config::default()
    };
    let server = app::start(App::open(config).expect("app")).expect("server");
    let base_url = format!("http://{}", server.server_addr());
    let (_handle, _stop) = server.stoppable();
    let auth = format!("Bearer {token}");
    let plan: serde_json::Value = ureq::post(&format!("{base_url}/price-plans"))
        .set("Authorization", &auth)
        .send_json(
            json!({"product": product, "type": "tiered", "currencyCode": "EUR",
            "billingInterval": "1M",
            "tiers": [{"from": 1, "to": 10, "unitPrice": "10.00"},
                      {"from": 11, "to": 50, "unitPrice": "8.00"},
                      {"from": 51, "to": null, "unitPrice": "6.00"}]}),
        )
        .expect("create plan")
        .into_json()
        .expect("json");
    let id = plan["id"].as_str().expect("plan id").to_string();

    println!("HTTP: {CONNECTIONS} keep-alive connections, server and clients share the cores");
    let health_url = format!("{base_url}/health");
    let health = load(secs, move |a| a.get(&health_url).call().map_err(Box::new));
    report("GET /health (no auth, baseline)", &health);

    let plan_url = format!("{base_url}/price-plans/{id}");
    let auth2 = auth.clone();
    let read = load(secs, move |a| {
        a.get(&plan_url)
            .set("Authorization", &auth2)
            .call()
            .map_err(Box::new)
    });
    report("GET /price-plans/{id}", &read);

    let calc_url = format!("{base_url}/price-plans/{id}/calculate");
    let calc = load(secs, move |a| {
        a.post(&calc_url)
            .set("Authorization", &auth)
            .send_json(json!({"quantity": 60}))
            .map_err(Box::new)
    });
    report("POST /price-plans/{id}/calculate", &calc);
    println!(
        "ratio calculate/health {:>6.2}   calculate/GET plan {:>6.2}",
        calc.per_sec / health.per_sec,
        calc.per_sec / read.per_sec
    );
}
