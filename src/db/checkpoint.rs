//! The checkpointer: a thread with its own connection that copies committed WAL pages back into
//! the database file on the other core while a busy connection (the HTTP writer, a billing run)
//! goes on writing, and how often that busy connection restarts the WAL itself.
//!
//! A PASSIVE checkpoint never waits for the writer or readers. But the WAL only starts over from
//! its beginning when a write transaction begins right after a checkpoint that copied every
//! frame, which a busy writer never leaves time for: the WAL then grew without end (540 MB after
//! 4 s of creates), and every commit appended to new file blocks, which costs the file system
//! far more than overwriting cached ones. So the busy connection also checkpoints, after a commit
//! that leaves more than `WAL_RESTART_FRAMES` frames (SQLite's own auto-checkpoint): little is
//! left to copy by then, and its next transaction restarts the WAL.

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// WAL size (pages) past which a busy connection checkpoints after its commit, so the WAL
/// restarts. Each such checkpoint syncs the WAL and the database file on that connection's
/// thread, which stalls it for milliseconds: at SQLite's default of 1,000 pages (4 MB) that
/// happened several times a second under creates and took a third of the writer's time. At
/// 10,000 (a WAL of about 40 MB, still reused from its start) it is a tenth as often. At 30,000
/// (a WAL file of about 120 MB at its largest, under sustained writes only) a third as often
/// again: a stall lasts as long as before (what the checkpointer has not copied yet, and two
/// syncs) but fewer requests wait on one. Creates, 8 s runs alternated, 3 rounds: p99 16-17 ms
/// -> 7-8 ms, and 2-9 % more creates/s.
pub const WAL_RESTART_FRAMES: u32 = 30_000;

/// How often the checkpointer copies committed WAL pages into the database file. Often, so the
/// busy connection's own restarting checkpoint finds little left to copy and sync; a
/// checkpoint with nothing to copy costs next to nothing.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(10);

/// The running checkpointer thread; dropping it ends the thread.
pub struct Checkpointer {
    stop: Option<Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` on a connection of its own.
    pub fn start(path: &Path) -> Result<Checkpointer, String> {
        let conn = super::open(path)?;
        let (stop, hang_up) = channel::<bool>();
        let thread = std::thread::Builder::new()
            .name("kontor-checkpoint".into())
            .spawn(move || checkpoint_loop(conn, hang_up))
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Checkpointer {
    /// Ends the thread after a last checkpoint that copies everything and truncates the WAL
    /// (the server shutting down). It waits for readers and takes the write lock, so a billing
    /// run does not end this way: another run or the HTTP writer may be waiting for that lock.
    pub fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel without `finish` ends the loop without a last checkpoint.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn checkpoint_loop(conn: Connection, hang_up: Receiver<bool>) {
    loop {
        match hang_up.recv_timeout(CHECKPOINT_EVERY) {
            Err(RecvTimeoutError::Timeout) => {
                // What it cannot copy now it copies next time. A failure here loses nothing:
                // the pages stay in the WAL.
                if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                    eprintln!("warning: checkpoint failed: {e}");
                }
            }
            Ok(true) => {
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
                return;
            }
            Ok(false) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
