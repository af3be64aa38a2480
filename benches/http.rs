//! HTTP benchmark: authenticated `GET /customers/{id}` vs unauthenticated `GET /health` with 32
//! concurrent keep-alive connections (requests/s, their ratio, p50/p99), then sustained
//! `POST /customers`. Run with `cargo bench --bench http`; options after `--`: `--secs N` per phase,
//! `--writers N` concurrent creators (default 4), `--threads N` server threads (default 32),
//! `--writes-only` to run only the create phase.
//! Server and load generator share this process and the machine's cores, as in the targets.

use kontor::app::{self, App};
use kontor::config::Config;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;
/// Writers for the sustained-create phase (they queue on one write lock anyway).
const WRITERS: usize = 4;

struct Figures {
    requests: usize,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

/// Runs `CONNECTIONS` clients for `secs`; each makes requests built by `make` in a loop.
fn load<F>(connections: usize, secs: f64, make: F) -> Figures
where
    F: Fn(&ureq::Agent, u64) -> bool + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let barrier = Arc::new(Barrier::new(connections + 1));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let (make, barrier, counter) = (make.clone(), barrier.clone(), counter.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .max_idle_connections_per_host(1)
                    .build();
                let mut latencies = Vec::with_capacity(100_000);
                let mut errors = 0;
                barrier.wait();
                let start = Instant::now();
                while start.elapsed() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    if !make(&agent, n) {
                        errors += 1;
                    }
                    latencies.push(t.elapsed());
                }
                (latencies, errors)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().expect("client thread");
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        requests: all.len(),
        per_sec: all.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
    }
}

/// Reads the whole answer; false for a transport error or a non-2xx status.
fn ok(result: Result<ureq::Response, ureq::Error>) -> bool {
    result.map(|r| r.into_string().is_ok()).unwrap_or(false)
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name:<32} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests, {} errors)",
        f.per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.requests,
        f.errors
    );
}

fn arg(args: &[String], name: &str) -> Option<f64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs = arg(&args, "--secs").unwrap_or(5.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let conn = kontor::db::open(&db).expect("open");
    kontor::db::migrate(&conn).expect("schema");
    let (_, token) =
        kontor::bootstrap::create_tenant(&conn, "Bench", "bench@example.com").expect("tenant");
    drop(conn);
    let config = Config {
        db,
        bind: "127.0.0.1:0".into(),
        threads: arg(&args, "--threads").map_or(CONNECTIONS, |t| t as usize),
        log_requests: false,
        ..Config::default()
    };
    let server = app::start(App::open(config).expect("app")).expect("server");
    let base = format!("http://{}", server.server_addr());
    let (_handle, _stop) = server.stoppable();
    let auth = format!("Bearer {token}");

    let created = ureq::post(&format!("{base}/customers"))
        .set("Authorization", &auth)
        .send_json(json!({"email": "first@example.com", "firstName": "Erika", "lastName": "Muster",
                          "street": "Hauptstr.", "houseNumber": "1", "zip": "10115", "city": "Berlin"}))
        .expect("create customer")
        .into_json::<serde_json::Value>()
        .expect("json");
    let id = created["id"].as_str().expect("customer id").to_string();

    println!(
        "kontor HTTP benchmark: {CONNECTIONS} connections, {secs} s per phase, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let only_writes = args.iter().any(|a| a == "--writes-only");
    let health_url = format!("{base}/health");
    if !only_writes {
        let health = load(CONNECTIONS, secs, move |a, _| ok(a.get(&health_url).call()));
        report("GET /health (no auth)", &health);

        let customer_url = format!("{base}/customers/{id}");
        let auth2 = auth.clone();
        let customer = load(CONNECTIONS, secs, move |a, _| {
            ok(a.get(&customer_url).set("Authorization", &auth2).call())
        });
        report("GET /customers/{id} (auth)", &customer);
        println!(
            "ratio customer/health            {:>9.2}  (target >= 0.6)",
            customer.per_sec / health.per_sec
        );
    }
    let create_url = format!("{base}/customers");
    let writers = arg(&args, "--writers").unwrap_or(WRITERS as f64) as usize;
    let creates =
        load(writers, secs, move |a, n| {
            ok(a.post(&create_url).set("Authorization", &auth).send_json(json!({
                "email": format!("c{n}@example.com"), "firstName": "Max", "lastName": "Mustermann",
                "street": "Hauptstr.", "houseNumber": "1", "zip": "10115", "city": "Berlin"
            })))
        });
    report(&format!("POST /customers ({writers} writers)"), &creates);
    println!("p99 target <= 10 ms; creates target >= 10000/s");
}
