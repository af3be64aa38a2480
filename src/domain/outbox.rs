//! The outbox: events written in the same transaction as the change, delivered later by a worker.

use crate::domain::ids::new_id;
use crate::error::ApiResult;
use rusqlite::{named_params, Connection};
use serde::Serialize;

/// Records `event_type` (a name from reference README §14.4) about `object_id` with the object's
/// current read shape as payload. Rolled back with the request if the request fails.
pub fn record<T: Serialize>(
    conn: &Connection,
    tenant: &str,
    event_type: &str,
    object_id: &str,
    data: &T,
) -> ApiResult<()> {
    record_json(
        conn,
        tenant,
        event_type,
        object_id,
        &serde_json::to_string(data)?,
    )
}

/// `record` with the payload already serialized (a handler that answers the same JSON
/// serializes it once).
pub fn record_json(
    conn: &Connection,
    tenant: &str,
    event_type: &str,
    object_id: &str,
    payload: &str,
) -> ApiResult<()> {
    record_json_returning(conn, tenant, event_type, object_id, payload).map(|_| ())
}

/// `record_json`, returning the event's outbox row id (for `record_same`).
pub fn record_json_returning(
    conn: &Connection,
    tenant: &str,
    event_type: &str,
    object_id: &str,
    payload: &str,
) -> ApiResult<i64> {
    conn.prepare_cached(
        "INSERT INTO outbox (event_id, tenant_id, event_type, object_id, payload, created_at)
         VALUES (:event_id, :tenant, :type, :object, :payload, :now)",
    )?
    .execute(named_params! {
        ":event_id": event_id(),
        ":tenant": tenant,
        ":type": event_type,
        ":object": object_id,
        ":payload": payload,
        ":now": crate::domain::time::now(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// Records `event_type` about `object_id` with the same payload as the event `payload_of` (an
/// outbox row id from `record_json_returning`) of this transaction, without a second copy.
pub fn record_same(
    conn: &Connection,
    tenant: &str,
    event_type: &str,
    object_id: &str,
    payload_of: i64,
) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (event_id, tenant_id, event_type, object_id, payload_of, created_at)
         VALUES (:event_id, :tenant, :type, :object, :payload_of, :now)",
    )?
    .execute(named_params! {
        ":event_id": event_id(),
        ":tenant": tenant,
        ":type": event_type,
        ":object": object_id,
        ":payload_of": payload_of,
        ":now": crate::domain::time::now(),
    })?;
    Ok(())
}

/// A new event id (reference README §14.2: unique, prefixed `webhk_`).
fn event_id() -> String {
    format!("webhk_{}", new_id().replace('-', ""))
}
