//! Billing run benchmark: `billing::run::run_billing` over N active monthly subscriptions (one
//! customer each, with a default address; 10 products and price plans), for N = 10,000 and
//! N = 100,000 in the same run, each on a fresh file database filled by direct SQL in one
//! transaction. Prints seconds, invoices/s and the 100k/10k time ratio (linear = 10).
//! Run with `cargo bench --bench billing` (optionally `-- --sizes 1000,10000`).

use chrono::NaiveDate;
use rusqlite::{params, Connection};
use std::path::Path;
use std::time::Instant;

const PRODUCTS: usize = 10;
const NOW: &str = "2025-12-20T09:00:00+00:00";

/// Fills a fresh database with `n` active monthly subscriptions billed from 1 Jan 2026.
fn fixture(conn: &Connection, n: usize) -> String {
    let (tenant, _) =
        kontor::bootstrap::create_tenant(conn, "Bench GmbH", "bench@example.test").unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    for p in 0..PRODUCTS {
        conn.execute(
            "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                                   created_at, updated_at)
             VALUES (?1, ?2, 'product', 'Plan ' || ?1,
                     (SELECT id FROM measurements WHERE tenant_id = ?2 AND code = 'quantity'),
                     (SELECT id FROM tax_groups WHERE tenant_id = ?2 AND type = 'standard'),
                     ?3, ?3)",
            params![format!("p{p}"), tenant, NOW],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO price_plans (id, tenant_id, product_id, type, currency_code,
                                      billing_interval, amount, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'flat_fee', 'EUR', '1M', ?4, ?5, ?5)",
            params![
                format!("pp{p}"),
                tenant,
                format!("p{p}"),
                format!("{}.90", 9 + p * 5),
                NOW
            ],
        )
        .unwrap();
    }
    {
        let mut customer = conn
            .prepare(
                "INSERT INTO customers (id, tenant_id, customer_number, email, company_name,
                                        created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3 || '@example.test', 'Firma ' || ?3, ?4, ?4)",
            )
            .unwrap();
        let mut address = conn
            .prepare(
                "INSERT INTO customer_addresses (id, tenant_id, customer_id, type, is_default,
                     company_name, street, house_number, zip, city, country_code,
                     created_at, updated_at)
                 VALUES ('a-' || ?1, ?2, ?1, 'TYPE_DEFAULT', 1, 'Firma', 'Hauptstraße', '1',
                         '10115', 'Berlin', 'DE', ?3, ?3)",
            )
            .unwrap();
        let mut subscription = conn
            .prepare(
                "INSERT INTO subscriptions (id, tenant_id, customer_id, number, status,
                     currency_code, contract_start, billing_start, next_billing_date,
                     created_at, updated_at)
                 VALUES ('s-' || ?1, ?2, ?1, 'S-' || ?3, 'active', 'EUR', '2026-01-01',
                         '2026-01-01', '2026-01-01', ?4, ?4)",
            )
            .unwrap();
        let mut item = conn
            .prepare(
                "INSERT INTO subscription_items (id, tenant_id, subscription_id, product_id,
                     price_plan_id, quantity, status, start_date, billing_start, billing_anchor,
                     next_period_start, next_billing_date, created_at, updated_at)
                 VALUES ('i-' || ?1, ?2, 's-' || ?1, ?3, ?4, '1', 'active', '2026-01-01',
                         '2026-01-01', '2026-01-01', '2026-01-01', '2026-01-01', ?5, ?5)",
            )
            .unwrap();
        for i in 0..n {
            let id = format!("c{i:07}");
            let number = format!("K{i:07}");
            customer.execute(params![id, tenant, number, NOW]).unwrap();
            address.execute(params![id, tenant, NOW]).unwrap();
            subscription
                .execute(params![id, tenant, (i + 1) as i64, NOW])
                .unwrap();
            let p = i % PRODUCTS;
            item.execute(params![id, tenant, format!("p{p}"), format!("pp{p}"), NOW])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    tenant
}

/// CPU seconds (user + system) this process used so far, from /proc/self/stat (Linux; 0
/// elsewhere): on a shared machine the CPU time of a run is steadier than its wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let ticks: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse().ok())
        .collect();
    ticks.iter().sum::<f64>() / 100.0
}

/// Seconds of one billing run over `n` subscriptions; checks every one was invoiced once.
fn measure(dir: &Path, n: usize) -> f64 {
    let path = dir.join(format!("billing-{n}.db"));
    let conn = kontor::db::open(&path).unwrap();
    kontor::db::migrate(&conn).unwrap();
    let t = Instant::now();
    let tenant = fixture(&conn, n);
    println!("N = {n:>7}: fixture {:.2} s", t.elapsed().as_secs_f64());
    let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let run = kontor::billing::run::run_billing(&path, &tenant, date, false).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let (status, invoices): (String, i64) = conn
        .query_row(
            "SELECT status, invoices_created FROM billing_runs WHERE id = ?1",
            [&run.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), invoices), ("completed", n as i64));
    let periods: i64 = conn
        .query_row("SELECT count(*) FROM billed_periods", [], |r| r.get(0))
        .unwrap();
    assert_eq!(periods, n as i64);
    println!(
        "N = {n:>7}: billing run {secs:>7.2} s ({cpu:.2} s CPU), {:>8.0} invoices/s",
        n as f64 / secs
    );
    secs
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip_while(|a| a != "--sizes")
        .nth(1)
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let dir = tempfile::tempdir().unwrap();
    let times: Vec<f64> = sizes.iter().map(|n| measure(dir.path(), *n)).collect();
    if let [a, b] = times.as_slice() {
        println!(
            "time ratio N = {} / N = {}: {:.2} (linear = {:.1})",
            sizes[1],
            sizes[0],
            b / a,
            sizes[1] as f64 / sizes[0] as f64
        );
    }
}
