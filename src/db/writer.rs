//! The one writer: a thread that owns the database's write connection and commits requests in
//! groups.
//!
//! SQLite admits one writer at a time, and the commit (writing the touched pages to the WAL) is
//! most of a small write's cost. Request threads hand their write to this thread and wait; it
//! takes every write that queued up meanwhile, runs them in one `BEGIN IMMEDIATE` transaction,
//! and commits once. Each request stays atomic: the group first runs without savepoints, and if
//! a request fails after it changed rows, the whole group is rolled back and runs again with a
//! SAVEPOINT per request, so the failed request (or a panicking one) is rolled back alone and
//! leaves nothing behind (see `optimistic`). No reply leaves before the commit that made it
//! durable, and pages shared by the group (index tails, counters) are written once instead of
//! once per request. Under light load a group is one request.
//!
//! Checkpoints are the checkpointer's (`super::checkpoint`): it copies WAL pages on the other
//! core, and the writer restarts the WAL after `WAL_RESTART_FRAMES` (writer CPU per create fell
//! ~20 %, and the WAL stays at some tens of MB).

use super::checkpoint::{Checkpointer, WAL_RESTART_FRAMES};
use super::tx::{Savepoint, Tx};
use crate::error::{ApiError, ApiResult};
use rusqlite::Connection;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A unit of work that writes through the given connection. It may run twice (see
/// `optimistic`); only the effects of its last run on the connection are kept.
pub type Job<T> = Box<dyn FnMut(&Connection) -> ApiResult<T> + Send>;

type Queued<T> = (Job<T>, SyncSender<ApiResult<T>>);

/// Most requests committed together; bounds the wait of the first one in a group.
const MAX_GROUP: usize = 128;

/// Of the requests of the last group, the share a group waits for (see `next_group`).
const COME_BACK_SHARE: usize = 4;

/// Longest a group waits for the requests of the last group to come back (see `next_group`).
const LINGER: Duration = Duration::from_micros(300);

pub struct Writer<T> {
    queue: Arc<Queue<T>>,
}

/// The requests waiting for the writer thread, and how many of them wake it.
struct Queue<T> {
    state: Mutex<Waiting<T>>,
    wake: Condvar,
}

struct Waiting<T> {
    jobs: VecDeque<Queued<T>>,
    /// While the writer thread sleeps, the number of queued requests that wakes it (0 while it
    /// runs): a request arriving below it only queues, so lingering for a group of n costs the
    /// writer one wake-up instead of n thread switches.
    wake_at: usize,
    /// No `Writer` is left to send requests: the thread ends once the queue is empty.
    closed: bool,
    /// The writer thread has ended (it only does so once closed, or by a bug): requests are
    /// refused instead of waiting forever.
    stopped: bool,
}

impl<T> Queue<T> {
    fn lock(&self) -> MutexGuard<'_, Waiting<T>> {
        // Nothing panics while holding the lock; the state stays consistent regardless.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Send + 'static> Writer<T> {
    /// Opens the write connection on `path` and starts the writer thread.
    pub fn start(path: &Path) -> Result<Writer<T>, String> {
        let conn = super::open(path)?;
        // Every write lands on this one connection: a 64 MiB page cache (default 2 MiB) keeps
        // the index pages that creates revisit instead of reading them back from the file
        // (writes-only benchmark: about 120 instead of 143 us of server CPU per create).
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {WAL_RESTART_FRAMES}; PRAGMA cache_size = -65536;"
        ))
        .map_err(|e| format!("cannot configure the writer: {e}"))?;
        // The writer thread holds the checkpointer and ends it when it ends.
        let checkpointer = Checkpointer::start(path)?;
        let queue = Arc::new(Queue {
            state: Mutex::new(Waiting {
                jobs: VecDeque::new(),
                wake_at: 0,
                closed: false,
                stopped: false,
            }),
            wake: Condvar::new(),
        });
        let theirs = queue.clone();
        std::thread::Builder::new()
            .name("kontor-writer".into())
            .spawn(move || {
                let _stopped = Stopped(&theirs);
                run(conn, &theirs);
                checkpointer.finish();
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Writer { queue })
    }

    /// Runs `job` in the next group and waits until that group is committed.
    pub fn write(&self, job: Job<T>) -> ApiResult<T> {
        let (reply, answer) = sync_channel(1);
        {
            let mut waiting = self.queue.lock();
            if waiting.stopped {
                return Err(ApiError::Internal("the writer thread has stopped".into()));
            }
            waiting.jobs.push_back((job, reply));
            if waiting.wake_at != 0 && waiting.jobs.len() >= waiting.wake_at {
                waiting.wake_at = 0;
                self.queue.wake.notify_one();
            }
        }
        answer
            .recv()
            .map_err(|_| ApiError::Internal("the writer thread dropped a request".into()))?
    }
}

impl<T> Drop for Writer<T> {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.wake.notify_one();
    }
}

/// Marks the queue stopped when the writer thread ends, even by a panic, and drops what is
/// still queued, so every waiting request gets an error instead of waiting forever.
struct Stopped<'a, T>(&'a Queue<T>);

impl<T> Drop for Stopped<'_, T> {
    fn drop(&mut self) {
        let mut waiting = self.0.lock();
        waiting.stopped = true;
        waiting.jobs.clear();
    }
}

fn run<T>(conn: Connection, queue: &Queue<T>) {
    let mut last = 1;
    // Ends when every `Writer` handle (and so the App) is gone.
    while let Some(group) = next_group(queue, last) {
        last = group.len();
        commit_group(&conn, group);
    }
}

/// Waits for a request, then lingers up to `LINGER` until a share (`1 / COME_BACK_SHARE`) of
/// the last group (`last`) is queued, and takes up to `MAX_GROUP` of what is queued; `None`
/// once closed and empty.
///
/// Under concurrent writes, the requests answered by the last commit come back moments later:
/// waiting for some of them keeps groups (and so the commits they share) from splitting into
/// ones as they trickle in. But not for all of them: the writer would stand idle until the last
/// one is back, while the rest of the request (sending the reply, reading and parsing the next
/// request) ran on the other core - each phase leaving a core unused. Starting once a quarter
/// is back lets the others arrive while the group runs, and they make up the next group.
/// Measured with 32 writers, alternating: 17 % more creates/s than waiting for the whole last
/// group (three rounds), and more than not waiting at all. A single client (a last group of one)
/// never waits.
fn next_group<T>(queue: &Queue<T>, last: usize) -> Option<Vec<Queued<T>>> {
    let mut waiting = queue.lock();
    while waiting.jobs.is_empty() {
        if waiting.closed {
            return None;
        }
        waiting.wake_at = 1;
        waiting = queue
            .wake
            .wait(waiting)
            .unwrap_or_else(PoisonError::into_inner);
    }
    let target = (last / COME_BACK_SHARE).clamp(1, MAX_GROUP);
    if waiting.jobs.len() < target {
        let deadline = Instant::now() + LINGER;
        while waiting.jobs.len() < target && !waiting.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            waiting.wake_at = target;
            waiting = queue
                .wake
                .wait_timeout(waiting, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
    waiting.wake_at = 0;
    let n = waiting.jobs.len().min(MAX_GROUP);
    Some(waiting.jobs.drain(..n).collect())
}

fn commit_group<T>(conn: &Connection, mut group: Vec<Queued<T>>) {
    match optimistic(conn, &mut group) {
        Some(results) => answer(group, results),
        None => {
            let results = with_savepoints(conn, &mut group);
            answer(group, results);
        }
    }
}

/// Sends each request its result.
fn answer<T>(group: Vec<Queued<T>>, results: Vec<ApiResult<T>>) {
    for ((_, reply), result) in group.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

fn run_job<T>(job: &mut Job<T>, conn: &Connection) -> ApiResult<T> {
    catch_unwind(AssertUnwindSafe(|| job(conn)))
        .unwrap_or_else(|_| Err(ApiError::Internal("handler panicked".into())))
}

/// Runs the group without savepoints and commits it: the results, or `None` when a request
/// failed after it had changed rows (or SQLite gave up the transaction), in which case nothing
/// of the group is kept and it must run again with savepoints.
///
/// A savepoint per request made SQLite copy every page a request touched into the savepoint's
/// journal before changing it, and the requests of a group touch the same pages (table and
/// index tails, counters): that copying was the largest cost of a create after the commit
/// itself. Requests almost never fail after writing (validation comes first), and one that
/// fails before changing a row (`total_changes` unchanged) leaves nothing to undo.
fn optimistic<T>(conn: &Connection, group: &mut [Queued<T>]) -> Option<Vec<ApiResult<T>>> {
    let tx = match Tx::begin(conn, true) {
        Ok(tx) => tx,
        Err(e) => {
            let detail = format!("cannot begin the write transaction: {e}");
            return Some(
                group
                    .iter()
                    .map(|_| Err(ApiError::Internal(detail.clone())))
                    .collect(),
            );
        }
    };
    let mut results = Vec::with_capacity(group.len());
    for (job, _) in group.iter_mut() {
        let before = tx.total_changes();
        let result = run_job(job, &tx);
        if result.is_err() && (tx.total_changes() != before || tx.is_autocommit()) {
            return None; // `tx` rolls back as it drops
        }
        if tx.is_autocommit() {
            return None;
        }
        results.push(result);
    }
    if tx.commit().is_err() {
        return Some(group.iter().map(|_| Err(lost())).collect());
    }
    Some(results)
}

/// Runs each request of the group in its own savepoint of one transaction, so a failing request
/// is rolled back alone, and commits once.
fn with_savepoints<T>(conn: &Connection, group: &mut [Queued<T>]) -> Vec<ApiResult<T>> {
    let tx = match Tx::begin(conn, true) {
        Ok(tx) => tx,
        Err(e) => {
            let detail = format!("cannot begin the write transaction: {e}");
            return group
                .iter()
                .map(|_| Err(ApiError::Internal(detail.clone())))
                .collect();
        }
    };
    let mut results = Vec::with_capacity(group.len());
    let mut broken = false;
    for (job, _) in group.iter_mut() {
        // A statement error can make SQLite roll back the whole transaction; then nothing of
        // this group may run or be answered as done.
        if broken || tx.is_autocommit() {
            broken = true;
            results.push(Err(lost()));
            continue;
        }
        let result = match Savepoint::begin(&tx) {
            Ok(sp) => match run_job(job, &sp) {
                Ok(value) => sp.commit().map(|_| value).map_err(ApiError::from),
                // Dropping the savepoint rolls this request back, and only this request.
                Err(e) => Err(e),
            },
            Err(e) => Err(e.into()),
        };
        results.push(result);
    }
    let committed = !broken && !tx.is_autocommit() && tx.commit().is_ok();
    results
        .into_iter()
        .map(|result| match result {
            Ok(_) if !committed => Err(lost()),
            other => other,
        })
        .collect()
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

    /// Runs `jobs` as one group on a fresh table; their results, how often each ran, and the
    /// rows kept.
    fn group(jobs: Vec<(i64, Option<ApiError>, bool)>) -> (Vec<ApiResult<i64>>, Vec<usize>, i64) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        let runs: std::sync::Arc<Vec<AtomicUsize>> =
            std::sync::Arc::new(jobs.iter().map(|_| AtomicUsize::new(0)).collect());
        let mut answers = Vec::new();
        let queued: Vec<Queued<i64>> = jobs
            .into_iter()
            .enumerate()
            .map(|(n, (v, error, write_first))| {
                let (reply, answer) = sync_channel(1);
                answers.push(answer);
                let runs = runs.clone();
                let job: Job<i64> = Box::new(move |c: &Connection| {
                    runs[n].fetch_add(1, Ordering::SeqCst);
                    if write_first || error.is_none() {
                        c.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                    }
                    match &error {
                        Some(e) => Err(ApiError::Conflict(format!("{e:?}"))),
                        None => Ok(v),
                    }
                });
                (job, reply)
            })
            .collect();
        commit_group(&conn, queued);
        let results = answers.into_iter().map(|a| a.recv().unwrap()).collect();
        let runs = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
        let rows = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        (results, runs, rows)
    }

    #[test]
    fn a_request_failing_before_it_writes_keeps_the_group_on_the_fast_path() {
        let no = || Some(ApiError::Conflict("no".into()));
        let (results, runs, rows) =
            group(vec![(1, None, false), (2, no(), false), (3, None, false)]);
        assert_eq!(runs, [1, 1, 1]);
        assert_eq!(rows, 2);
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
    }

    #[test]
    fn a_request_failing_after_it_wrote_reruns_the_group_with_savepoints() {
        let no = || Some(ApiError::Conflict("no".into()));
        let (results, runs, rows) =
            group(vec![(1, None, false), (2, no(), true), (3, None, false)]);
        // First pass stopped at the failure; the second ran all three.
        assert_eq!(runs, [2, 2, 1]);
        assert_eq!(
            rows, 2,
            "the failed request's row is gone, the others' are kept once"
        );
        assert_eq!(results[0].as_ref().ok(), Some(&1));
        assert!(matches!(results[1], Err(ApiError::Conflict(_))));
        assert_eq!(results[2].as_ref().ok(), Some(&3));
    }
}
