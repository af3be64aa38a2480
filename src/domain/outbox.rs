//! The outbox: events written in the same transaction as the change, delivered later by a worker.

use crate::db::bind::ExecuteNamed;
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
    insert(conn, tenant, event_type, object_id, Payload::Json(payload))
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
    insert(conn, tenant, event_type, object_id, Payload::Of(payload_of)).map(|_| ())
}

/// An event's data: its own JSON, or that of an earlier event (schema: `payload_of`).
enum Payload<'a> {
    Json(&'a str),
    Of(i64),
}

fn insert(
    conn: &Connection,
    tenant: &str,
    event_type: &str,
    object_id: &str,
    payload: Payload,
) -> ApiResult<i64> {
    let (json, of) = match payload {
        Payload::Json(json) => (Some(json), None),
        Payload::Of(id) => (None, Some(id)),
    };
    conn.prepare_cached(
        "INSERT INTO outbox (event_id, tenant_id, event_type, object_id, payload, payload_of,
                             created_at)
         VALUES (:event_id, :tenant, :type, :object, :payload, :payload_of, :now)",
    )?
    .execute_named(named_params! {
        // Reference README §14.2: unique, prefixed `webhk_`.
        ":event_id": format!("webhk_{}", new_id().replace('-', "")),
        ":tenant": tenant,
        ":type": event_type,
        ":object": object_id,
        ":payload": json,
        ":payload_of": of,
        ":now": crate::domain::time::now(),
    })?;
    Ok(conn.last_insert_rowid())
}
