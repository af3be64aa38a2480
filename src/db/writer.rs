//! The one writer: a thread that owns the database's write connection and commits requests in
//! groups.
//!
//! SQLite admits one writer at a time, and the commit (writing the touched pages to the WAL) is
//! most of a small write's cost. Request threads hand their write to this thread and wait; it
//! takes every write that queued up meanwhile, runs each inside its own SAVEPOINT of one
//! `BEGIN IMMEDIATE` transaction, and commits once. Each request stays atomic (a failed or
//! panicking request is rolled back to its savepoint and leaves nothing behind), no reply leaves
//! before the commit that made it durable, and pages shared by the group (index tails, counters)
//! are written once instead of once per request. Under light load a group is one request.
//!
//! Checkpoints copy WAL pages back into the database file. A checkpointer thread with its own
//! connection does most of that on the other core, without blocking the writer. But the WAL only
//! starts over from its beginning when a write transaction begins right after a checkpoint that
//! copied every frame, which a busy writer never leaves time for: the WAL then grew without end
//! (540 MB after 4 s of creates), and every commit appended to new file blocks, which costs the
//! file system far more than overwriting cached ones. So the writer also checkpoints, after a
//! commit that leaves more than `WAL_RESTART_FRAMES` frames (SQLite's own auto-checkpoint, with
//! its default size): little is left to copy by then, and its next transaction restarts the WAL.
//! Writer CPU per create fell ~20 %, and the WAL stays at a few MB.

use super::tx::{Savepoint, Tx};
use crate::error::{ApiError, ApiResult};
use rusqlite::Connection;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::Duration;

/// A unit of work that writes through the given connection.
pub type Job<T> = Box<dyn FnOnce(&Connection) -> ApiResult<T> + Send>;

type Queued<T> = (Job<T>, SyncSender<ApiResult<T>>);

/// Most requests committed together; bounds the wait of the first one in a group.
const MAX_GROUP: usize = 128;

/// WAL size (pages) past which the writer checkpoints after its commit, so the WAL restarts.
const WAL_RESTART_FRAMES: u32 = 1000;

/// How often the checkpointer copies committed WAL pages into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

pub struct Writer<T> {
    jobs: Sender<Queued<T>>,
}

impl<T: Send + 'static> Writer<T> {
    /// Opens the write connection on `path` and starts the writer thread.
    pub fn start(path: &Path) -> Result<Writer<T>, String> {
        let conn = super::open(path)?;
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {WAL_RESTART_FRAMES};"
        ))
        .map_err(|e| format!("cannot configure the writer: {e}"))?;
        let checkpoints = super::open(path)?;
        // The writer thread holds `alive`; when it ends, the checkpointer sees the hang-up.
        let (alive, hang_up) = channel::<()>();
        std::thread::Builder::new()
            .name("kontor-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpoints, hang_up))
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
        let (jobs, queue) = channel::<Queued<T>>();
        std::thread::Builder::new()
            .name("kontor-writer".into())
            .spawn(move || {
                run(conn, queue);
                drop(alive);
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Writer { jobs })
    }

    /// Runs `job` in the next group and waits until that group is committed.
    pub fn write(&self, job: Job<T>) -> ApiResult<T> {
        let (reply, answer) = sync_channel(1);
        self.jobs
            .send((job, reply))
            .map_err(|_| ApiError::Internal("the writer thread has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| ApiError::Internal("the writer thread dropped a request".into()))?
    }
}

fn run<T>(conn: Connection, queue: Receiver<Queued<T>>) {
    // Ends when every `Writer` handle (and so the App) is gone.
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&conn, group);
    }
}

fn checkpoint_loop(conn: Connection, hang_up: Receiver<()>) {
    loop {
        match hang_up.recv_timeout(CHECKPOINT_EVERY) {
            Err(RecvTimeoutError::Timeout) => {
                // PASSIVE never waits for the writer or readers; what it cannot copy now it
                // copies next time. A failure here loses nothing: the pages stay in the WAL.
                if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                    eprintln!("warning: checkpoint failed: {e}");
                }
            }
            _ => {
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
                return;
            }
        }
    }
}

fn commit_group<T>(conn: &Connection, group: Vec<Queued<T>>) {
    let tx = match Tx::begin(conn, true) {
        Ok(tx) => tx,
        Err(e) => {
            let detail = format!("cannot begin the write transaction: {e}");
            for (_, reply) in group {
                let _ = reply.send(Err(ApiError::Internal(detail.clone())));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(group.len());
    let mut broken = false;
    for (job, reply) in group {
        // A statement error can make SQLite roll back the whole transaction; then nothing of
        // this group may run or be answered as done.
        if broken || tx.is_autocommit() {
            broken = true;
            results.push((Err(lost()), reply));
            continue;
        }
        let result = match Savepoint::begin(&tx) {
            Ok(sp) => {
                let outcome = catch_unwind(AssertUnwindSafe(|| job(&sp)))
                    .unwrap_or_else(|_| Err(ApiError::Internal("handler panicked".into())));
                match outcome {
                    Ok(value) => sp.commit().map(|_| value).map_err(ApiError::from),
                    // Dropping the savepoint rolls this request back, and only this request.
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e.into()),
        };
        results.push((result, reply));
    }
    let committed = !broken && !tx.is_autocommit() && tx.commit().is_ok();
    for (result, reply) in results {
        let answer = match result {
            Ok(_) if !committed => Err(lost()),
            other => other,
        };
        let _ = reply.send(answer);
    }
}

fn lost() -> ApiError {
    ApiError::Internal("the transaction of this request's commit group failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, Writer<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let conn = crate::db::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        (dir, Writer::start(&path).unwrap())
    }

    fn count(dir: &tempfile::TempDir) -> i64 {
        let conn = crate::db::open(&dir.path().join("w.db")).unwrap();
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn each_job_is_atomic_within_a_group() {
        let (dir, w) = writer();
        let w = std::sync::Arc::new(w);
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let w = w.clone();
                std::thread::spawn(move || {
                    w.write(Box::new(move |c: &Connection| {
                        c.execute("INSERT INTO t (v) VALUES (?1)", [i])?;
                        match i % 4 {
                            0 => Err(ApiError::Conflict("no".into())),
                            1 if i == 1 => panic!("boom"),
                            _ => Ok(i),
                        }
                    }))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok = results.iter().filter(|r| r.is_ok()).count() as i64;
        // 10 of 40 fail with 409, job 1 panics: 29 rows remain, one per successful job.
        assert_eq!(ok, 29);
        assert_eq!(count(&dir), 29);
        assert!(matches!(results[1], Err(ApiError::Internal(_))));
        assert!(matches!(results[0], Err(ApiError::Conflict(_))));
    }
}
