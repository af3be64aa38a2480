//! `Idempotency-Key` on POST: the first successful response is stored for 24 h and replayed.

use super::Reply;
use crate::error::{ApiError, ApiResult};
use chrono::{Duration, Utc};
use rusqlite::{named_params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// How long a stored response is replayed.
pub const RETENTION_HOURS: i64 = 24;

/// Fingerprint of a request: same key with another path or body is a conflict.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

fn cutoff() -> String {
    crate::domain::time::format(Utc::now() - Duration::hours(RETENTION_HOURS))
}

/// The stored reply for this key, if any; 409 when the key was used for another request.
pub fn lookup(tx: &Connection, tenant: &str, key: &str, hash: &str) -> ApiResult<Option<Reply>> {
    let row = tx
        .prepare_cached(
            "SELECT request_hash, status, content_type, body FROM idempotency_keys
             WHERE tenant_id = :tenant AND key = :key AND created_at >= :cutoff",
        )?
        .query_row(
            named_params! {":tenant": tenant, ":key": key, ":cutoff": cutoff()},
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u16>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            },
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored, ..)) if stored != hash => Err(ApiError::Conflict(
            "This Idempotency-Key was already used with a different request body.".into(),
        )),
        Some((_, status, content_type, body)) => Ok(Some(Reply {
            status,
            content_type: if content_type == "application/json" {
                "application/json"
            } else {
                "application/octet-stream"
            },
            body,
            headers: vec![("Idempotent-Replayed", "true".into())],
        })),
    }
}

/// Stores a successful reply in the request's own transaction, so it exists iff the change does.
pub fn store(tx: &Connection, tenant: &str, key: &str, hash: &str, reply: &Reply) -> ApiResult<()> {
    // Expired keys of this tenant are dropped on the way; the index on created_at keeps it cheap.
    tx.prepare_cached(
        "DELETE FROM idempotency_keys WHERE tenant_id = :tenant AND created_at < :cutoff",
    )?
    .execute(named_params! {":tenant": tenant, ":cutoff": cutoff()})?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys
            (tenant_id, key, request_hash, status, content_type, body, created_at)
         VALUES (:tenant, :key, :hash, :status, :ct, :body, :now)",
    )?
    .execute(named_params! {
        ":tenant": tenant, ":key": key, ":hash": hash, ":status": reply.status,
        ":ct": reply.content_type, ":body": reply.body, ":now": crate::domain::time::now(),
    })?;
    Ok(())
}
