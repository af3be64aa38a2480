//! Reading ahead for a billing run: a thread with a connection of its own reads, for the
//! customers the run bills next, what billing reads about them and never writes (their
//! subscription items and their due periods priced, the customer, its tax facts, and what the
//! invoice derives from the customer: its embedded copy and default address), while the run
//! thread writes the customers
//! before them. That was about a sixth of the run thread's instructions; on the other core it
//! overlaps the writes.
//!
//! What was read ahead is used only while it is still what the run would read itself: no other
//! connection may have committed since the run started. The run's own commits do not matter,
//! since billing a customer writes nothing another customer's reads see. So each batch, inside
//! its write transaction (nothing else can commit while it runs), compares `PRAGMA
//! data_version`, which moves exactly when another connection commits, with its value when the
//! run started. The first time it moved, reading ahead ends and the rest of the run reads
//! everything itself, as it did before. The reads of one customer share one read transaction,
//! so they agree with each other.

use super::context::Catalogue;
use super::items::{self, Item};
use super::plan::{plan, Priced};
use crate::db::tx::Tx;
use crate::domain::tax;
use crate::error::{ApiError, ApiResult};
use crate::resources::customers;
use crate::resources::invoices::facts::ReadAhead;
use crate::resources::invoices::{party, view};
use chrono::NaiveDate;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// What was read ahead about one customer.
pub struct Ahead {
    pub items: Vec<Item>,
    /// Each item's due periods priced (`plan`), in the order of `items`.
    pub priced: Vec<Option<Vec<Priced>>>,
    /// What its invoice reads and derives from the customer.
    pub party: ReadAhead,
}

/// The reads of one customer, in the run's order; `None` where reading failed (the run then
/// reads itself and meets the error where it would have).
type Slot = (String, Option<Ahead>);

/// The reading-ahead thread, and whether what it reads may still be used.
pub struct Prefetch {
    slots: Option<Receiver<Slot>>,
    thread: Option<JoinHandle<()>>,
    /// `PRAGMA data_version` of the run's connection when the run started.
    version: i64,
}

/// The run's connection's `PRAGMA data_version`: it changes when another connection commits.
pub fn data_version(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))?)
}

impl Prefetch {
    /// Starts reading ahead `customers` of `tenant`, billed for `date`, at most `ahead` in front of the
    /// run. `version`: `data_version` of the run's connection, read in the transaction that
    /// listed the customers.
    pub fn start(
        db_path: &Path,
        (tenant, date): (&str, NaiveDate),
        customers: Vec<String>,
        ahead: usize,
        version: i64,
    ) -> ApiResult<Prefetch> {
        let conn = crate::db::open(db_path).map_err(ApiError::Internal)?;
        let (slots, receiver) = sync_channel(ahead);
        let tenant = tenant.to_string();
        let thread = std::thread::Builder::new()
            .name("billing-prefetch".into())
            .spawn(move || read_ahead(&conn, (&tenant, date), customers, slots))
            .map_err(|e| ApiError::Internal(format!("cannot start reading ahead: {e}")))?;
        Ok(Prefetch {
            slots: Some(receiver),
            thread: Some(thread),
            version,
        })
    }

    /// What was read ahead for `chunk`, the next customers of the run, in its order (`None`
    /// for a customer to read in the batch itself). Waits for the thread where it is behind.
    pub fn next(&mut self, chunk: &[String]) -> Vec<Option<Ahead>> {
        let mut out = Vec::with_capacity(chunk.len());
        for customer in chunk {
            let slot = self.slots.as_ref().and_then(|s| s.recv().ok());
            match slot {
                Some((id, ahead)) if id == *customer => out.push(ahead),
                // Out of step (never expected) or ended: the rest is read by the run.
                _ => {
                    self.stop();
                    out.push(None);
                }
            }
        }
        out
    }

    /// Whether what was read ahead may be used in the batch transaction open on `conn`: no
    /// other connection committed since the run started. Once not, reading ahead ends.
    pub fn still_valid(&mut self, conn: &Connection) -> ApiResult<bool> {
        if self.slots.is_none() {
            return Ok(false);
        }
        if data_version(conn)? == self.version {
            return Ok(true);
        }
        self.stop();
        Ok(false)
    }

    /// Ends reading ahead: the thread stops at its next send.
    fn stop(&mut self) {
        self.slots.take();
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The thread: reads each customer in a read transaction of its own and hands it over, until
/// the list ends or the run stops listening.
fn read_ahead(
    conn: &Connection,
    (tenant, date): (&str, NaiveDate),
    customers: Vec<String>,
    slots: SyncSender<Slot>,
) {
    let mut catalogue = Catalogue::default();
    let country = match party::tenant_tax(conn, tenant) {
        Ok(t) => t.country,
        // Nothing read ahead: the run reads everything itself.
        Err(_) => return,
    };
    for customer in customers {
        let ahead = read_one(conn, (tenant, date), &customer, &country, &mut catalogue).ok();
        if slots.send((customer, ahead)).is_err() {
            return;
        }
    }
}

fn read_one(
    conn: &Connection,
    (tenant, date): (&str, NaiveDate),
    customer: &str,
    country: &str,
    catalogue: &mut Catalogue,
) -> ApiResult<Ahead> {
    let tx = Tx::begin(conn, false)?;
    let items = items::for_customer(&tx, tenant, customer, catalogue)?;
    let priced = items
        .iter()
        .map(|item| plan(&tx, tenant, item, date).map(Some))
        .collect::<ApiResult<_>>()?;
    let row = customers::store::get(&tx, tenant, customer)?;
    let tax = tax::load_party(&tx, tenant, customer, country)?
        .ok_or_else(|| ApiError::Internal(format!("customer {customer} missing")))?;
    tx.commit()?;
    Ok(Ahead {
        items,
        priced,
        party: ReadAhead {
            embed: Some(view::customer_embed(&row)),
            default_address: Some(party::default_address(&row)?),
            customer: Some(row),
            tax,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    const NOW: &str = "2026-01-01T00:00:00+00:00";

    /// A tenant with customer `c1`: one active monthly item of quantity 1.
    fn fixture(conn: &Connection) -> String {
        let (tenant, _) =
            crate::bootstrap::create_tenant(conn, "Ahead GmbH", "ahead@example.test").unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO products (id, tenant_id, type, name, measurement_id, tax_group_id,
                                   created_at, updated_at)
             VALUES ('p1', '{tenant}', 'product', 'Plan',
                     (SELECT id FROM measurements WHERE tenant_id = '{tenant}'
                      AND code = 'quantity'),
                     (SELECT id FROM tax_groups WHERE tenant_id = '{tenant}'
                      AND type = 'standard'), '{NOW}', '{NOW}');
             INSERT INTO price_plans (id, tenant_id, product_id, type, currency_code,
                                      billing_interval, amount, created_at, updated_at)
             VALUES ('pp1', '{tenant}', 'p1', 'flat_fee', 'EUR', '1M', '30.00', '{NOW}', '{NOW}');
             INSERT INTO customers (id, tenant_id, customer_number, email, created_at, updated_at)
             VALUES ('c1', '{tenant}', 'K1', 'c1@example.test', '{NOW}', '{NOW}');
             INSERT INTO subscriptions (id, tenant_id, customer_id, number, status,
                 currency_code, contract_start, billing_start, created_at, updated_at)
             VALUES ('s1', '{tenant}', 'c1', 'S-1', 'active', 'EUR', '2026-01-01',
                     '2026-01-01', '{NOW}', '{NOW}');
             INSERT INTO subscription_items (id, tenant_id, subscription_id, product_id,
                 price_plan_id, quantity, status, start_date, billing_start, billing_anchor,
                 created_at, updated_at)
             VALUES ('i1', '{tenant}', 's1', 'p1', 'pp1', '1', 'active', '2026-01-01',
                     '2026-01-01', '2026-01-01', '{NOW}', '{NOW}');"
        ))
        .unwrap();
        tenant
    }

    fn valid_in_a_write_transaction(prefetch: &mut Prefetch, conn: &Connection) -> bool {
        let tx = Tx::begin(conn, true).unwrap();
        let valid = prefetch.still_valid(&tx).unwrap();
        tx.commit().unwrap();
        valid
    }

    /// What was read ahead stays usable through the run's own commits and ends with the
    /// first commit of another connection, for good: it may be stale from then on.
    #[test]
    fn only_a_commit_elsewhere_ends_reading_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ahead.db");
        let run = crate::db::open(&path).unwrap();
        crate::db::migrate(&run).unwrap();
        let tenant = fixture(&run);
        let version = data_version(&run).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let customers = vec!["c1".to_string(), "c1".to_string()];
        let mut prefetch =
            Prefetch::start(&path, (&tenant, day), customers.clone(), 4, version).unwrap();
        let ahead = prefetch.next(&customers[..1]);
        let read = ahead[0].as_ref().expect("read ahead");
        assert_eq!(read.items[0].quantity, Decimal::ONE);
        // January priced ahead: 30.00 x 1 = 3000 cents.
        let january = &read.priced[0].as_ref().expect("priced ahead")[0];
        assert_eq!((january.period.covered.start, january.amount), (day, 3000));
        let customer = read.party.customer.as_ref().unwrap();
        assert_eq!(customer.customer_number, "K1");
        assert_eq!(read.party.tax.country, "DE");
        assert_eq!(read.party.embed.as_ref().unwrap()["customerNumber"], "K1");
        assert!(valid_in_a_write_transaction(&mut prefetch, &run));

        // The run's own commit (billing writes only the billed customer's rows).
        run.execute(
            "UPDATE subscriptions SET last_billing_at = 'x' WHERE id = 's1'",
            [],
        )
        .unwrap();
        assert!(valid_in_a_write_transaction(&mut prefetch, &run));

        // Another connection changes the item: the quantity read ahead is stale.
        let other = crate::db::open(&path).unwrap();
        other
            .execute(
                "UPDATE subscription_items SET quantity = '2' WHERE id = 'i1'",
                [],
            )
            .unwrap();
        assert!(!valid_in_a_write_transaction(&mut prefetch, &run));
        // For the rest of the run: nothing more is read ahead.
        assert!(!valid_in_a_write_transaction(&mut prefetch, &run));
        assert!(prefetch.next(&customers[1..])[0].is_none());
    }
}
