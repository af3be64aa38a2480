//! A billing run's outbox events, made and serialized on a second thread. Rendering an
//! invoice's read shape for its events (about 3.7 KB of JSON) was a tenth of a run's CPU on the
//! one thread that holds the write lock, and making that shape from the sealed invoice's rows
//! another 7 %; the serializer thread does both on the other core while the run bills the next
//! customers. It reads only the catalogue the positions embed, on a connection of its own,
//! once per run (as the run reads its catalogue once). The rows are still written in the
//! batch's own transaction, in the order the events happened (`flush` before each commit), so
//! an event exists exactly when its change committed. The two events of one invoice carry the
//! same data, stored once (`outbox::record_same`).

use crate::domain::outbox;
use crate::error::{ApiError, ApiResult};
use crate::resources::invoice_positions::view::EmbedCache;
use crate::resources::invoices::issue::Shown;
use crate::resources::invoices::view;
use crate::resources::units::model::Locale;
use rusqlite::Connection;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

/// Invoices handed to the serializer at once: waking its thread for each one cost the run
/// thread about 5 % of its time (a futex call per invoice), and a few invoices of delay are
/// nothing against a batch.
const JOBS_PER_SEND: usize = 16;

/// Work for the serializer: the payload of event `seq`.
struct Job {
    seq: u64,
    shown: Shown,
}

/// An event waiting for its batch's commit.
struct Pending {
    seq: u64,
    event_type: &'static str,
    object_id: String,
    payload: Payload,
}

enum Payload {
    Ready(String),
    /// The serializer renders it.
    Rendering,
    /// The same data as the event before it, stored once (`outbox::record_same`).
    AsBefore,
}

/// The events of the batch being billed, and the serializer thread.
pub struct Events {
    tenant: String,
    /// `false` in a dry run, which rolls its events back: they are not rendered at all.
    keep: bool,
    jobs: Option<Sender<Vec<Job>>>,
    /// Jobs not yet handed over (`JOBS_PER_SEND`).
    queued: Vec<Job>,
    done: Receiver<(u64, ApiResult<String>)>,
    thread: Option<JoinHandle<()>>,
    pending: Vec<Pending>,
    next: u64,
}

impl Events {
    /// The events of a run on the database at `db_path`, whose invoices show in `locale`.
    pub fn new(db_path: &Path, tenant: &str, locale: Locale, keep: bool) -> ApiResult<Events> {
        let (jobs, inbox) = mpsc::channel::<Vec<Job>>();
        let (results, done) = mpsc::channel();
        // A dry run renders nothing and needs no connection.
        let conn = match keep {
            true => Some(crate::db::open(db_path).map_err(ApiError::Internal)?),
            false => None,
        };
        let owner = tenant.to_string();
        let thread = std::thread::Builder::new()
            .name("billing-events".into())
            .spawn(move || {
                let mut embeds = EmbedCache::default();
                for job in inbox.iter().flatten() {
                    let payload = render(conn.as_ref(), &owner, &locale, &mut embeds, job.shown);
                    if results.send((job.seq, payload)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| ApiError::Internal(format!("cannot start the event serializer: {e}")))?;
        Ok(Events {
            tenant: tenant.to_string(),
            keep,
            jobs: Some(jobs),
            queued: Vec::with_capacity(JOBS_PER_SEND),
            done,
            thread: Some(thread),
            pending: Vec::new(),
            next: 0,
        })
    }

    fn push(&mut self, event_type: &'static str, object_id: &str, payload: Payload) -> u64 {
        let seq = self.next;
        self.next += 1;
        self.pending.push(Pending {
            seq,
            event_type,
            object_id: object_id.to_string(),
            payload,
        });
        seq
    }

    /// An event whose small payload is rendered here.
    pub fn record(
        &mut self,
        event_type: &'static str,
        object_id: &str,
        payload: &Value,
    ) -> ApiResult<()> {
        if self.keep {
            // serde_json's writer: `Value`'s `Display` formats token by token, slower.
            let json = serde_json::to_string(payload)?;
            self.push(event_type, object_id, Payload::Ready(json));
        }
        Ok(())
    }

    /// `invoice.created` and, when the run sealed it, `invoice.finalized`, both with the read
    /// shape `shown` the invoice was committed in (a run creates and seals it in one
    /// transaction, so no one ever sees it in between).
    pub fn invoice(&mut self, id: &str, shown: Shown, finalized: bool) -> ApiResult<()> {
        if !self.keep {
            return Ok(());
        }
        let seq = self.push("invoice.created", id, Payload::Rendering);
        if finalized {
            self.push("invoice.finalized", id, Payload::AsBefore);
        }
        self.queued.push(Job { seq, shown });
        if self.queued.len() < JOBS_PER_SEND {
            return Ok(());
        }
        self.hand_over()
    }

    /// Sends the queued jobs to the serializer.
    fn hand_over(&mut self) -> ApiResult<()> {
        if self.queued.is_empty() {
            return Ok(());
        }
        let jobs = std::mem::replace(&mut self.queued, Vec::with_capacity(JOBS_PER_SEND));
        self.jobs
            .as_ref()
            .and_then(|sender| sender.send(jobs).ok())
            .ok_or_else(|| ApiError::Internal("the billing event serializer stopped".into()))
    }

    /// Where the events of the customer about to be billed start (see `forget`).
    pub fn mark(&self) -> usize {
        self.pending.len()
    }

    /// Drops the events recorded since `mark` (their customer's savepoint was rolled back).
    pub fn forget(&mut self, mark: usize) {
        self.pending.truncate(mark);
    }

    /// Writes the pending events to the outbox on `conn` (the batch's transaction, before its
    /// commit), waiting for the serializer where it is behind.
    pub fn flush(&mut self, conn: &Connection) -> ApiResult<()> {
        self.hand_over()?;
        // Results of forgotten events arrive too; only the pending ones are kept.
        let wanted: HashSet<u64> = self
            .pending
            .iter()
            .filter(|p| matches!(p.payload, Payload::Rendering))
            .map(|p| p.seq)
            .collect();
        let mut rendered: HashMap<u64, String> = HashMap::with_capacity(wanted.len());
        while rendered.len() < wanted.len() {
            let (seq, payload) = self
                .done
                .recv()
                .map_err(|_| ApiError::Internal("the billing event serializer stopped".into()))?;
            if wanted.contains(&seq) {
                rendered.insert(seq, payload?);
            }
        }
        let mut previous = None;
        for p in self.pending.drain(..) {
            let row = match p.payload {
                Payload::AsBefore => {
                    let of = previous.ok_or_else(|| {
                        ApiError::Internal(format!("event {} has no event before it", p.seq))
                    })?;
                    outbox::record_same(conn, &self.tenant, p.event_type, &p.object_id, of)?;
                    of
                }
                Payload::Ready(payload) => outbox::record_json_returning(
                    conn,
                    &self.tenant,
                    p.event_type,
                    &p.object_id,
                    &payload,
                )?,
                Payload::Rendering => {
                    let payload = rendered.remove(&p.seq).ok_or_else(|| {
                        ApiError::Internal(format!("event {} was never rendered", p.seq))
                    })?;
                    outbox::record_json_returning(
                        conn,
                        &self.tenant,
                        p.event_type,
                        &p.object_id,
                        &payload,
                    )?
                }
            };
            previous = Some(row);
        }
        Ok(())
    }
}

/// The JSON payload of an invoice's events.
fn render(
    conn: Option<&Connection>,
    tenant: &str,
    locale: &Locale,
    embeds: &mut EmbedCache,
    shown: Shown,
) -> ApiResult<String> {
    let view = match shown {
        Shown::View(view) => view,
        Shown::Sealed {
            inv,
            rows,
            breakdown,
        } => {
            let conn =
                conn.ok_or_else(|| ApiError::Internal("a dry run renders no events".into()))?;
            view::show_written(
                conn,
                tenant,
                (&inv, &rows, breakdown),
                locale.clone(),
                embeds,
            )?
        }
    };
    Ok(serde_json::to_string(&view)?)
}

impl Drop for Events {
    fn drop(&mut self) {
        // Closing the channel ends the serializer's loop.
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
