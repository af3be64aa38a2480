//! SQL for media: metadata, the BLOB, and hashed download tokens. Every query is scoped to one
//! tenant, except the token lookup, where the token itself decides the tenant.

use super::model::Media;
use crate::domain::ids::new_id;
use crate::domain::time;
use crate::error::{ApiError, ApiResult};
use rusqlite::{named_params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "m.id, m.folder, m.is_private, m.mime_type, m.file_extension, m.file_name, \
                       m.created_at";

fn media(r: &Row) -> rusqlite::Result<Media> {
    Ok(Media::new(
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// A file to store; other slices (invoice PDFs, SEPA XML) use this too, with their own folder.
#[derive(Debug)]
pub struct NewMedia<'a> {
    pub folder: &'a str,
    pub file_name: &'a str,
    /// Lowercase, without the dot.
    pub extension: &'a str,
    pub mime_type: &'a str,
    pub is_private: bool,
    pub bytes: &'a [u8],
}

pub fn insert(conn: &Connection, tenant: &str, new: &NewMedia) -> ApiResult<Media> {
    let id = new_id();
    let size = i64::try_from(new.bytes.len())
        .map_err(|_| ApiError::Internal("file size overflows i64".into()))?;
    conn.prepare_cached(
        "INSERT INTO media (id, tenant_id, folder, is_private, mime_type, file_extension,
                            file_name, size, created_at, content)
         VALUES (:id, :tenant, :folder, :private, :mime, :ext, :name, :size, :now, :content)",
    )?
    .execute(named_params! {
        ":id": id, ":tenant": tenant, ":folder": new.folder, ":private": new.is_private,
        ":mime": new.mime_type, ":ext": new.extension, ":name": new.file_name, ":size": size,
        ":now": time::now(), ":content": new.bytes,
    })?;
    get(conn, tenant, &id)
}

/// The metadata of one file of the tenant; 404 when there is none with this id.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> ApiResult<Media> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM media m WHERE m.tenant_id = :tenant AND m.id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, media)
    .optional()?
    .ok_or_else(|| ApiError::not_found("Media"))
}

/// Metadata and bytes of one file of the tenant; 404 when there is none with this id.
pub fn content(conn: &Connection, tenant: &str, id: &str) -> ApiResult<(Media, Vec<u8>)> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, m.content FROM media m WHERE m.tenant_id = :tenant AND m.id = :id"
    ))?
    .query_row(named_params! {":tenant": tenant, ":id": id}, |r| {
        Ok((media(r)?, r.get(7)?))
    })
    .optional()?
    .ok_or_else(|| ApiError::not_found("Media"))
}

/// Stores the hash of a new download token, and drops the tenant's expired tokens on the way
/// so the table does not grow without bound.
pub fn add_token(
    conn: &Connection,
    tenant: &str,
    media_id: &str,
    token_hash: &str,
    expires_at: &str,
) -> ApiResult<()> {
    let now = time::now();
    conn.prepare_cached(
        "DELETE FROM media_download_tokens WHERE tenant_id = :tenant AND expires_at <= :now",
    )?
    .execute(named_params! {":tenant": tenant, ":now": now})?;
    conn.prepare_cached(
        "INSERT INTO media_download_tokens (token_hash, media_id, tenant_id, expires_at, created_at)
         VALUES (:hash, :media, :tenant, :expires, :now)",
    )?
    .execute(named_params! {
        ":hash": token_hash, ":media": media_id, ":tenant": tenant, ":expires": expires_at,
        ":now": now,
    })?;
    Ok(())
}

/// The file a valid, unexpired token of exactly this media id unlocks; 404 otherwise, with
/// the same answer for every reason so a token cannot be probed.
pub fn content_by_token(
    conn: &Connection,
    media_id: &str,
    token_hash: &str,
) -> ApiResult<(Media, Vec<u8>)> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, m.content FROM media_download_tokens t
         JOIN media m ON m.id = t.media_id AND m.tenant_id = t.tenant_id
         WHERE t.token_hash = :hash AND t.media_id = :media AND t.expires_at > :now"
    ))?
    .query_row(
        named_params! {":hash": token_hash, ":media": media_id, ":now": time::now()},
        |r| Ok((media(r)?, r.get(7)?)),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found("Media"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::hash_secret;

    #[test]
    fn files_and_tokens_stay_in_their_tenant() {
        let conn = crate::db::memory();
        let (a, _) = crate::bootstrap::create_tenant(&conn, "A", "a@example.com").unwrap();
        let (b, _) = crate::bootstrap::create_tenant(&conn, "B", "b@example.com").unwrap();
        let new = NewMedia {
            folder: "invoice",
            file_name: "R-1.pdf",
            extension: "pdf",
            mime_type: "application/pdf",
            is_private: true,
            bytes: b"%PDF-1.7",
        };
        let m = insert(&conn, &a, &new).unwrap();
        assert_eq!(m.storage_file_name, format!("{}.pdf", m.id));
        assert_eq!(content(&conn, &a, &m.id).unwrap().1, b"%PDF-1.7");
        assert!(matches!(get(&conn, &b, &m.id), Err(ApiError::NotFound(_))));
        assert!(matches!(
            content(&conn, &b, &m.id),
            Err(ApiError::NotFound(_))
        ));

        let hash = hash_secret("t");
        add_token(&conn, &a, &m.id, &hash, "2999-01-01T00:00:00+00:00").unwrap();
        assert_eq!(content_by_token(&conn, &m.id, &hash).unwrap().0, m);
        assert!(content_by_token(&conn, "other", &hash).is_err());
        assert!(content_by_token(&conn, &m.id, &hash_secret("u")).is_err());
        // An expired token is refused, and swept away by the next token of the tenant.
        let old = hash_secret("old");
        add_token(&conn, &a, &m.id, &old, "2000-01-01T00:00:00+00:00").unwrap();
        assert!(content_by_token(&conn, &m.id, &old).is_err());
        add_token(
            &conn,
            &a,
            &m.id,
            &hash_secret("new"),
            "2999-01-01T00:00:00+00:00",
        )
        .unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM media_download_tokens", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, 2);
    }
}
