//! Transactions and savepoints begun and ended through cached prepared statements.
//!
//! rusqlite's `Transaction` and `Savepoint` run `BEGIN`, `SAVEPOINT`, `RELEASE` and `COMMIT`
//! through `execute_batch`, which parses the SQL anew every time; on the hot paths (every read,
//! every write request) that parsing cost as much as a small query. These guards keep the same
//! contract: whatever is not committed (an error, a panic) is rolled back when the guard drops.

use rusqlite::Connection;
use std::ops::Deref;

fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A transaction on `conn`; rolled back on drop unless committed.
pub struct Tx<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Tx<'c> {
    /// `BEGIN IMMEDIATE` (takes the write lock now) or `BEGIN DEFERRED`.
    pub fn begin(conn: &'c Connection, immediate: bool) -> rusqlite::Result<Tx<'c>> {
        run(
            conn,
            if immediate {
                "BEGIN IMMEDIATE"
            } else {
                "BEGIN DEFERRED"
            },
        )?;
        Ok(Tx { conn, open: true })
    }

    /// On failure the guard still rolls back when it drops, so the connection never goes back
    /// to the pool inside a transaction.
    pub fn commit(mut self) -> rusqlite::Result<()> {
        run(self.conn, "COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        // An error may already have ended the transaction (SQLite rolls back on some errors).
        if self.open && !self.conn.is_autocommit() {
            let _ = run(self.conn, "ROLLBACK");
        }
    }
}

/// A savepoint inside the current transaction; rolled back to (and released) on drop unless
/// released with `commit`.
pub struct Savepoint<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Savepoint<'c> {
    pub fn begin(conn: &'c Connection) -> rusqlite::Result<Savepoint<'c>> {
        run(conn, "SAVEPOINT request")?;
        Ok(Savepoint { conn, open: true })
    }

    pub fn commit(mut self) -> rusqlite::Result<()> {
        run(self.conn, "RELEASE request")?;
        self.open = false;
        Ok(())
    }
}

impl Deref for Savepoint<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if self.open && !self.conn.is_autocommit() {
            let _ = run(self.conn, "ROLLBACK TO request");
            let _ = run(self.conn, "RELEASE request");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn uncommitted_work_is_rolled_back_on_drop() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        {
            let tx = Tx::begin(&conn, true).unwrap();
            tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
            {
                let sp = Savepoint::begin(&tx).unwrap();
                sp.execute("INSERT INTO t VALUES (2)", []).unwrap();
                // dropped: only value 2 is undone
            }
            let sp = Savepoint::begin(&tx).unwrap();
            sp.execute("INSERT INTO t VALUES (3)", []).unwrap();
            sp.commit().unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(count(&conn), 2);
        {
            let tx = Tx::begin(&conn, false).unwrap();
            tx.execute("INSERT INTO t VALUES (4)", []).unwrap();
        }
        assert_eq!(count(&conn), 2, "a dropped transaction leaves nothing");
        assert!(
            conn.is_autocommit(),
            "and no transaction open on the connection"
        );
    }
}
