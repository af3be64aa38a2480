//! The SQLite file: how this process shares it, the connection pool, per-connection pragmas,
//! and the versioned schema.
//!
//! Connections are opened here rather than through `r2d2_sqlite`, which cannot choose SQLite's
//! VFS, and the VFS is what `Sharing` is about.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

pub mod bind;
pub mod checkpoint;
pub mod tx;
pub mod writer;

/// Whether other processes may open a database file while this one has it open.
///
/// `Shared` (the default) is SQLite's ordinary locking: other processes (`kontor bill` from
/// cron, `kontor token create`, `sqlite3`, a backup) can use the file beside a server, and every
/// read transaction takes and drops a lock on the `-shm` file with two `fcntl` calls unless
/// another connection of the process holds the same lock. `Exclusive` (`kontor serve
/// --exclusive`) opens files through SQLite's `unix-excl` VFS: the first connection takes an
/// exclusive lock on the file for the process, and from then on the process's connections
/// coordinate in memory (the WAL index lives on the heap instead of in a `-shm` file), so no
/// other process can open the file until the server stops. Measured with the same build: one
/// thread reading customers in a loop spends 28 % less per request (12.4-13.9 -> 8.8-10.5 us);
/// under the HTTP benchmark's 32 connections, where a reader usually finds the lock already
/// held by another, the read ratio gains 4 % and creates 5 % (medians of 10 and 8 alternated
/// runs). Small next to what sharing the file is worth, hence not the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Exclusive,
    Shared,
}

static SHARING: OnceLock<Sharing> = OnceLock::new();

/// Sets how this process opens database files. The mode is the process's (SQLite's exclusive
/// lock belongs to the process, and two connections to one file must not disagree), so it is
/// fixed by the first call or the first open, whichever comes first; asking for another mode
/// afterwards is an error.
pub fn set_sharing(mode: Sharing) -> Result<(), String> {
    match *SHARING.get_or_init(|| mode) {
        now if now == mode => Ok(()),
        now => Err(format!(
            "database files are already open in {now:?} mode; cannot switch to {mode:?}"
        )),
    }
}

/// The process's mode (`Shared` unless set before the first open).
pub fn sharing() -> Sharing {
    *SHARING.get_or_init(|| Sharing::Shared)
}

/// Opens a connection in the process's mode, without pragmas.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::default();
    match sharing() {
        #[cfg(unix)]
        Sharing::Exclusive => Connection::open_with_flags_and_vfs(path, flags, c"unix-excl"),
        _ => Connection::open_with_flags(path, flags),
    }
}

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

/// Opens configured connections to one file, each with a fresh `S`.
pub struct Manager<S> {
    path: std::path::PathBuf,
    state: std::marker::PhantomData<fn() -> S>,
}

impl<S: Default + Send + 'static> r2d2::ManageConnection for Manager<S> {
    type Connection = Pooled<S>;
    type Error = rusqlite::Error;

    fn connect(&self) -> Result<Pooled<S>, rusqlite::Error> {
        let conn = connect(&self.path)?;
        configure(&conn)?;
        Ok(Pooled {
            conn,
            state: S::default(),
        })
    }

    fn is_valid(&self, c: &mut Pooled<S>) -> Result<(), rusqlite::Error> {
        c.conn.execute_batch("")
    }

    /// A SQLite connection has no link to lose.
    fn has_broken(&self, _: &mut Pooled<S>) -> bool {
        false
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
    let manager = Manager {
        path: path.to_path_buf(),
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
    let conn = connect(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    configure(&conn).map_err(|e| match e.sqlite_error_code() {
        // The pragmas are the first reads: this is where a file another process keeps to
        // itself (or holds through a long write) shows.
        Some(rusqlite::ErrorCode::DatabaseBusy) => format!(
            "{} is in use by another process (a `kontor serve --exclusive` keeps its database \
             to itself until it stops)",
            path.display()
        ),
        _ => format!("cannot configure {}: {e}", path.display()),
    })?;
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

    /// The mode is the process's: once fixed (here by asking for it, elsewhere by the first
    /// open), asking for it again is fine and asking for the other one is an error.
    #[test]
    fn the_sharing_mode_is_fixed_once() {
        let mode = sharing();
        assert_eq!(mode, Sharing::Shared, "the default");
        assert_eq!(set_sharing(mode), Ok(()));
        let err = set_sharing(Sharing::Exclusive).unwrap_err();
        assert!(err.contains("cannot switch to Exclusive"), "{err}");
        assert_eq!(sharing(), Sharing::Shared);
    }

    /// The bundled SQLite is built as `.cargo/config.toml` asks (a `LIBSQLITE3_FLAGS` in the
    /// environment replaces those options, and cargo does not always rebuild SQLite when it goes
    /// away again): a page cache per connection, and no memory statistics behind a global mutex.
    #[test]
    fn sqlite_is_built_with_the_configured_options() {
        let conn = Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
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
