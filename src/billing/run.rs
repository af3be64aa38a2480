//! A billing run (reference 06 §3): for one tenant and date, bill every customer with something
//! due, on a connection of its own, customers committed in batches (`Isolation` says how a
//! failing customer is kept from the others). Other writes interleave between batches instead
//! of waiting for the whole run; a crash leaves only complete invoices, and running the date
//! again bills the rest (the UNIQUE keys of `billed_periods` and `billing_run_invoices` make
//! repeats and concurrent runs harmless). A dry run does the same work and rolls every batch
//! back: nothing but the run row stays.

use super::bill::{bill_customer, CustomerBill};
use super::context::RunContext;
use super::prefetch::{self, Ahead, Prefetch};
use crate::db::checkpoint::Checkpointer;
use crate::domain::{ids::new_id, time};
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use rusqlite::{named_params, Connection, TransactionBehavior};
use std::path::Path;

/// The outcome of a run: its id and, for a dry run, what would have been billed.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub id: String,
    pub bills: Vec<CustomerBill>,
}

/// Customers per transaction of a real run.
const BATCH: usize = 500;

/// WAL size (pages) past which a run's commit restarts the WAL (`db::checkpoint`). Unlike the
/// HTTP writer's 30,000, no request waits on the restart's stall, so the WAL stays smaller:
/// 3,000, 10,000 and 30,000 ran equally fast (100,000 subscriptions, alternated, two rounds),
/// and 10,000 scaled from 10,000 subscriptions to 100,000 at least as evenly.
const RUN_WAL_RESTART_FRAMES: u32 = 10_000;

/// What one batch billed, counted once it committed.
#[derive(Default)]
struct Batch {
    subscriptions: i64,
    invoices: i64,
    bills: Vec<CustomerBill>,
    failed: i64,
    first_error: Option<String>,
}

impl Batch {
    fn add(&mut self, bill: CustomerBill, dry_run: bool) {
        self.subscriptions += bill.subscriptions.len() as i64;
        self.invoices += bill.invoices.iter().filter(|i| i.invoice.is_some()).count() as i64;
        if dry_run && !bill.invoices.is_empty() {
            self.bills.push(bill);
        }
    }

    /// One customer's failure (a missing tax rate, a concurrent run that got there first)
    /// leaves the others billed; the run reports it and a re-run retries.
    fn fail(&mut self, customer: &str, e: ApiError) {
        self.failed += 1;
        self.first_error
            .get_or_insert_with(|| format!("customer {customer}: {e}"));
    }
}

/// How the customers of one batch are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// All in the batch's transaction: a customer that fails after it changed rows spoils the
    /// batch, which then runs again with `Savepoints`. Failures are rare and a savepoint per
    /// customer costs about a tenth of a run (SQLite journals every page a customer touches).
    Shared,
    /// Each customer in its own savepoint, rolled back alone when it fails.
    Savepoints,
}

/// Bills `chunk` in one `BEGIN IMMEDIATE` transaction, committed unless `dry_run`, reporting
/// the index of each customer it starts. `None`: under `Isolation::Shared` a customer failed
/// after changing rows, so nothing of the batch was kept.
fn bill_batch(
    conn: &mut Connection,
    chunk: &[String],
    context: &mut RunContext,
    dry_run: bool,
    isolation: Isolation,
    (ahead, prefetch): (&mut [Option<Ahead>], &mut Prefetch),
    started: &mut dyn FnMut(usize),
) -> ApiResult<Option<Batch>> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Each customer takes what was read ahead for it: a batch that runs again (`Isolation`)
    // reads everything itself.
    let ahead = if prefetch.still_valid(&tx)? {
        ahead
    } else {
        &mut []
    };
    let mut batch = Batch::default();
    // Events of an earlier attempt at this batch were rolled back with it.
    context.events.forget(0);
    for (i, customer) in chunk.iter().enumerate() {
        started(i);
        let before = tx.total_changes();
        let events = context.events.mark();
        let ahead = ahead.get_mut(i).and_then(Option::take);
        let billed = match isolation {
            Isolation::Shared => bill_customer(&tx, customer, context, ahead),
            Isolation::Savepoints => (|| {
                let sp = tx.savepoint()?;
                let bill = bill_customer(&sp, customer, context, ahead)?;
                if !dry_run {
                    sp.commit()?;
                }
                Ok::<_, ApiError>(bill)
            })(),
        };
        // Some SQLite errors end the whole transaction; nothing after them may run outside it.
        if tx.is_autocommit() {
            return Err(ApiError::Internal("SQLite rolled the batch back".into()));
        }
        match billed {
            Ok(bill) => batch.add(bill, dry_run),
            // Dropping the transaction rolls the batch back.
            Err(_) if isolation == Isolation::Shared && tx.total_changes() != before => {
                return Ok(None)
            }
            Err(e) => {
                context.events.forget(events);
                batch.fail(customer, e)
            }
        }
    }
    if !dry_run {
        context.events.flush(&tx)?;
        tx.commit()?;
    }
    Ok(Some(batch))
}

/// Customers with a subscription that may be billed.
fn customers(conn: &Connection, tenant: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT customer_id FROM subscriptions
         WHERE tenant_id = :tenant AND status IN ('active', 'cancelled', 'terminated')
         ORDER BY customer_id",
    )?;
    let rows = stmt.query_map(named_params! {":tenant": tenant}, |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn write<T>(
    conn: &mut Connection,
    keep: bool,
    f: impl FnOnce(&Connection) -> ApiResult<T>,
) -> ApiResult<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    if keep {
        tx.commit()?;
    }
    // Dropping an uncommitted transaction rolls it back.
    Ok(out)
}

/// Runs billing for `tenant` and `date` on the database at `db_path` (HTTP handler, CLI
/// `kontor bill`, daily scheduler). The run row is committed first, so a run killed part-way
/// stays visible as `running`.
pub fn run_billing(
    db_path: &Path,
    tenant: &str,
    date: NaiveDate,
    dry_run: bool,
) -> ApiResult<RunResult> {
    run_billing_with_progress(db_path, tenant, date, dry_run, &mut |_, _| {})
}

/// `run_billing`, reporting `(customers done, customers in the run)` after each customer (the
/// CLI draws its progress bar from it).
pub fn run_billing_with_progress(
    db_path: &Path,
    tenant: &str,
    date: NaiveDate,
    dry_run: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> ApiResult<RunResult> {
    let mut conn = crate::db::open(db_path).map_err(ApiError::Internal)?;
    // A run walks every billed customer's rows and appends to every invoice table: a 64 MiB
    // page cache (default 2 MiB) keeps the index pages it revisits (100,000 subscriptions:
    // about 5 % less CPU). Checkpoints are a thread's of their own, as for the HTTP writer
    // (`db::checkpoint`): on the run thread they were 7 % of its time, syncs included.
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = {RUN_WAL_RESTART_FRAMES};"
    ))?;
    let _checkpointer = Checkpointer::start(db_path).map_err(ApiError::Internal)?;
    let id = new_id();
    write(&mut conn, true, |c| {
        c.execute(
            "INSERT INTO billing_runs (id, tenant_id, date, dry_run, status, started_at)
             VALUES (:id, :tenant, :date, :dry, 'running', :now)",
            named_params! {":id": id, ":tenant": tenant, ":date": date.to_string(), ":dry": dry_run, ":now": time::now()},
        )?;
        Ok(())
    })?;
    let (list, mut context, version) = write(&mut conn, false, |c| {
        Ok((
            customers(c, tenant)?,
            RunContext::new((db_path, c), tenant, date, &id, dry_run)?,
            prefetch::data_version(c)?,
        ))
    })?;
    // Reads the next two batches' customers ahead on the other core (`billing::prefetch`).
    let mut prefetch = Prefetch::start(db_path, (tenant, date), list.clone(), 2 * BATCH, version)?;
    let mut bills = Vec::new();
    let (mut subscriptions, mut invoices, mut failed) = (0i64, 0i64, 0i64);
    let mut first_error = None;
    let total = list.len();
    // Customers are committed in batches (the commit, not the billing, dominates a run), so a
    // commit holds only complete invoices and a failing customer leaves the others billed
    // (`Isolation`). A dry run rolls everything back.
    for (k, chunk) in list.chunks(BATCH).enumerate() {
        let mut started = |i: usize| progress(k * BATCH + i, total);
        let mut ahead = prefetch.next(chunk);
        let outcome = match bill_batch(
            &mut conn,
            chunk,
            &mut context,
            dry_run,
            Isolation::Shared,
            (&mut ahead, &mut prefetch),
            &mut started,
        ) {
            Ok(None) => bill_batch(
                &mut conn,
                chunk,
                &mut context,
                dry_run,
                Isolation::Savepoints,
                (&mut ahead, &mut prefetch),
                &mut started,
            ),
            other => other,
        }
        .and_then(|batch| {
            batch.ok_or_else(|| ApiError::Internal("a batch with savepoints kept nothing".into()))
        });
        match outcome {
            Ok(batch) => {
                subscriptions += batch.subscriptions;
                invoices += batch.invoices;
                bills.extend(batch.bills);
                failed += batch.failed;
                if let Some(e) = batch.first_error {
                    first_error.get_or_insert(e);
                }
            }
            // The batch did not commit: none of its customers is billed.
            Err(e) => {
                failed += chunk.len() as i64;
                first_error
                    .get_or_insert_with(|| format!("customers from {:?}: {e}", chunk.first()));
            }
        }
    }
    progress(total, total);
    let status = if first_error.is_some() {
        "failed"
    } else {
        "completed"
    };
    write(&mut conn, true, |c| {
        c.execute(
            "UPDATE billing_runs SET status = :status, subscriptions_billed = :subs,
                 invoices_created = :invoices, customers_failed = :failed, completed_at = :now,
                 error = :error WHERE id = :id",
            named_params! {":id": id, ":status": status, ":subs": subscriptions, ":invoices": invoices,
                ":failed": failed, ":now": time::now(), ":error": first_error},
        )?;
        Ok(())
    })?;
    Ok(RunResult { id, bills })
}
