//! The daily billing run: once per tenant and calendar day, at `billing.billingTime` in the
//! tenant's time zone. Running a date twice is harmless (billed periods are UNIQUE), so the
//! only state the scheduler needs is "is there a run for today yet", read from `billing_runs`.

use crate::billing::run::run_billing;
use crate::domain::settings;
use crate::error::ApiResult;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rusqlite::{named_params, Connection};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(30);

/// Whether a tenant's run for its local day is due: the billing time has passed and no real run
/// for that day exists yet.
pub fn is_due(local_now: NaiveDateTime, billing_time: NaiveTime, already_ran: bool) -> bool {
    !already_ran && local_now.time() >= billing_time
}

/// Starts the scheduler thread for the database at `db`.
pub fn spawn(db: PathBuf) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("kontor-scheduler".into())
        .spawn(move || loop {
            if let Err(e) = tick(&db) {
                eprintln!("scheduler: {e}");
            }
            std::thread::sleep(TICK);
        })
        .map(|_| ())
}

/// One look at every tenant; runs the ones that are due.
fn tick(db: &Path) -> ApiResult<()> {
    let due = {
        let conn = crate::db::open(db).map_err(crate::error::ApiError::Internal)?;
        due_tenants(&conn)?
    };
    for (tenant, day) in due {
        match run_billing(db, &tenant, day, false) {
            Ok(run) => eprintln!(
                "scheduler: billing run {} for tenant {tenant} on {day}",
                run.id
            ),
            Err(e) => eprintln!("scheduler: billing run for tenant {tenant} on {day} failed: {e}"),
        }
    }
    Ok(())
}

fn due_tenants(conn: &Connection) -> ApiResult<Vec<(String, NaiveDate)>> {
    let tenants = conn
        .prepare_cached("SELECT id FROM tenants ORDER BY created_at")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut due = Vec::new();
    for tenant in tenants {
        let tz = settings::time_zone(conn, &tenant)?;
        let local_now = Utc::now().with_timezone(&tz).naive_local();
        let time = settings::get(conn, &tenant, "billing", "billingTime")?;
        let billing_time = time
            .as_str()
            .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
            .unwrap_or(NaiveTime::MIN);
        let day = local_now.date();
        let already_ran: bool = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM billing_runs
                 WHERE tenant_id = :tenant AND date = :date AND dry_run = 0)",
            )?
            .query_row(
                named_params! {":tenant": tenant, ":date": day.to_string()},
                |r| r.get(0),
            )?;
        if is_due(local_now, billing_time, already_ran) {
            due.push((tenant, day));
        }
    }
    Ok(due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap()
    }

    #[test]
    fn due_once_after_the_billing_time() {
        let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap();
        assert!(!is_due(at(5, 59), six, false));
        assert!(is_due(at(6, 0), six, false));
        assert!(is_due(at(23, 0), six, false));
        assert!(!is_due(at(7, 0), six, true));
    }

    #[test]
    fn a_fresh_tenant_is_due_once_and_not_after_a_run() {
        let conn = crate::db::memory();
        let (tenant, _) = crate::bootstrap::create_tenant(&conn, "T", "t@example.test").unwrap();
        // 00:00 makes the tenant due whatever the time of day.
        settings::put(
            &conn,
            &tenant,
            "billing",
            "billingTime",
            &serde_json::json!("00:00"),
        )
        .unwrap();
        let due = due_tenants(&conn).unwrap();
        assert_eq!(due.len(), 1);
        conn.execute(
            "INSERT INTO billing_runs (id, tenant_id, date, dry_run, status, started_at)
             VALUES ('r', ?1, ?2, 0, 'completed', '2026-01-01T00:00:00+00:00')",
            [&tenant, &due[0].1.to_string()],
        )
        .unwrap();
        assert!(due_tenants(&conn).unwrap().is_empty());
    }
}
