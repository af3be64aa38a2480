//! The SQLite file: connection pool, per-connection pragmas, and the versioned schema.

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

pub mod bind;
pub mod checkpoint;
pub mod tx;
pub mod writer;

/// Read connections, each with state `S` that the pipeline keeps with it (`auth::Cache`).
pub type Pool<S = ()> = r2d2::Pool<Manager<S>>;
pub type PooledConnection<S = ()> = r2d2::PooledConnection<Manager<S>>;

/// A pooled connection and the state kept with it for as long as the connection lives; state
/// that is only valid for one connection (such as what it last saw of the file) belongs here
/// rather than in a thread or a global.
pub struct Pooled<S> {
    pub conn: Connection,
    pub state: S,
}

impl<S> std::ops::Deref for Pooled<S> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// Opens connections like `SqliteConnectionManager`, each with a fresh `S`.
pub struct Manager<S> {
    sqlite: SqliteConnectionManager,
    state: std::marker::PhantomData<fn() -> S>,
}

impl<S: Default + Send + 'static> r2d2::ManageConnection for Manager<S> {
    type Connection = Pooled<S>;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Pooled<S>, rusqlite::Error> {
        Ok(Pooled {
            conn: self.sqlite.connect()?,
            state: S::default(),
        })
    }

    fn is_valid(&self, c: &mut Pooled<S>) -> Result<(), rusqlite::Error> {
        self.sqlite.is_valid(&mut c.conn)
    }

    fn has_broken(&self, c: &mut Pooled<S>) -> bool {
        self.sqlite.has_broken(&mut c.conn)
    }
}

/// The canonical schema; `PRAGMA user_version` records which version a file carries.
pub const SCHEMA: &str = include_str!("../../schema.sql");
/// Bump together with a new migration once a release exists.
pub const SCHEMA_VERSION: i64 = 1;

/// How long a connection waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page size of a new database file (SQLite's default is 4096). Larger pages mean fewer WAL
/// frames per commit and flatter b-trees over kontor's text keys; an invoice event's 3.7 KB
/// payload no longer takes a page of its own. Alternated against 4096 (two rounds each): a
/// 100,000-subscription billing run 10.8-11.1 s -> 10.1 s, `GET /customers/{id}` 35-37 -> 32-34
/// us of server CPU, creates and measurement ingestion unchanged within noise. 16384 was no
/// better for billing. A file keeps the page size it was created with.
const PAGE_SIZE: u32 = 8192;

/// Pragmas every connection needs: page size and WAL are per file (the page size only takes on
/// a file that is still empty, so it comes first), the others are per connection.
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(&format!(
        "PRAGMA page_size = {PAGE_SIZE};
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;"
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(())
}

/// Opens (creating if needed) the database file, applies the schema and returns a pool.
pub fn open_pool<S: Default + Send + 'static>(path: &Path, size: u32) -> Result<Pool<S>, String> {
    {
        let conn = open(path)?;
        migrate(&conn)?;
    }
    let sqlite = SqliteConnectionManager::file(path)
        .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_init(|c| configure(c));
    let manager = Manager {
        sqlite,
        state: std::marker::PhantomData,
    };
    r2d2::Pool::builder()
        .max_size(size)
        // A SQLite connection does not go stale; checking each one out with a query costs a
        // round through SQLite on every request.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(30))
        .build(manager)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// One configured connection outside the pool (CLI commands, bootstrap).
pub fn open(path: &Path) -> Result<Connection, String> {
    let conn =
        Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    configure(&conn).map_err(|e| format!("cannot configure {}: {e}", path.display()))?;
    Ok(conn)
}

/// Creates the schema on an empty file; refuses a file written by a newer kontor.
pub fn migrate(conn: &Connection) -> Result<(), String> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("cannot read schema version: {e}"))?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "this database has schema version {version}, but this kontor binary only knows \
             version {SCHEMA_VERSION}; upgrade kontor to open it"
        ));
    }
    if version == 0 {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(|e| format!("cannot create schema: {e}"))?;
    }
    Ok(())
}

/// An in-memory database with the schema applied, for store unit tests.
pub fn memory() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory sqlite");
    conn.execute_batch("PRAGMA foreign_keys = ON;")
        .expect("pragma");
    migrate(&conn).expect("schema");
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_database_from_a_newer_kontor() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .unwrap();
        let err = migrate(&conn).unwrap_err();
        assert!(err.contains("upgrade kontor"), "{err}");
    }

    fn page_size(conn: &Connection) -> u32 {
        conn.query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    /// A new file gets `PAGE_SIZE`; a file made with another page size keeps it.
    #[test]
    fn new_files_get_the_page_size_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.db");
        let conn = open(&new).unwrap();
        migrate(&conn).unwrap();
        assert_eq!(page_size(&conn), PAGE_SIZE);
        drop(conn);
        assert_eq!(page_size(&open(&new).unwrap()), PAGE_SIZE);

        let old = dir.path().join("old.db");
        {
            let conn = Connection::open(&old).unwrap();
            conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;")
                .unwrap();
            migrate(&conn).unwrap();
        }
        let conn = open(&old).unwrap();
        assert_eq!(page_size(&conn), 4096);
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn migrating_twice_is_harmless() {
        let conn = memory();
        migrate(&conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
