//! Media (reference 03 §4): upload a file, read its metadata, download it with a bearer token
//! or with a short-lived download token. The bytes are a BLOB in the SQLite file.
//!
//! kontor decisions (the reference is silent on them):
//! - Upload: `multipart/form-data` with the parts `file` (its file name, reduced to the last
//!   path segment, becomes `fileName`) and `isPrivate` (`true`/`false`/`1`/`0`, default
//!   `true`). Any other part, a second `file`, a part without file name, an empty file or a bad
//!   `isPrivate`: 422 naming each. A malformed multipart body: 400.
//! - Size: at most `MAX_FILE_BYTES` (1,000,000 bytes) per file, so that the multipart framing
//!   still fits the 1 MiB request body limit; a larger file is a 413 (a body over the body
//!   limit is refused with 413 by the pipeline before it is parsed).
//! - Types: an allow-list by extension (pdf, xml, zip, png, jpg/jpeg, gif, svg, csv, txt);
//!   `mimeType` follows from the extension and the content must match it (magic bytes; XML and
//!   SVG must be UTF-8 markup; CSV and TXT must not contain NUL bytes). An extension outside
//!   the list or content that contradicts it: 415, since the media type is what is wrong, not
//!   the shape of the request. The part's own Content-Type is not trusted.
//! - Uploads through the API land in the media folder `upload`; other slices store generated
//!   documents through `store::insert` with their own folder (`invoice`, `sepa`, ...).
//! - `isPrivate` is recorded and reported; every file is served only with a bearer token
//!   (`media:read`) or a download token, whatever the flag.
//! - Download tokens: 32 random bytes as 64 hex characters, stored only as SHA-256, valid for
//!   `DOWNLOAD_TOKEN_TTL_MINUTES` (60) and reusable until then (browsers retry downloads). An
//!   unknown or expired token, or one made for another file: 404. Expired tokens are deleted
//!   when the tenant creates its next token.
//! - Downloads answer the `mimeType` and `Content-Disposition: attachment` with the name both
//!   as a quoted ASCII fallback and as RFC 8187 `filename*`; `X-Content-Type-Options: nosniff`
//!   and a sandboxing Content-Security-Policy keep an SVG or XML opened in a browser from
//!   running script on kontor's origin; `Cache-Control: private, no-store` keeps shared caches
//!   from keeping private files.

pub mod filetype;
pub mod model;
pub mod store;
pub mod upload;

use crate::domain::ids::{hash_secret, new_secret};
use crate::domain::time;
use crate::error::ApiResult;
use crate::http::{get, post, Access, Ctx, Reply, Route};
use model::{DownloadToken, Media};

/// Largest accepted file, in bytes.
pub const MAX_FILE_BYTES: usize = 1_000_000;
/// How long a download token works.
pub const DOWNLOAD_TOKEN_TTL_MINUTES: i64 = 60;
/// The media folder of files uploaded through `POST /media`.
pub const UPLOAD_FOLDER: &str = "upload";

const READ: Access = Access::Scope("media:read");
const WRITE: Access = Access::Scope("media:write");

pub fn routes() -> Vec<Route> {
    vec![
        post(
            "/media",
            WRITE,
            "Upload a file (multipart/form-data: file, isPrivate)",
            upload,
        )
        .multipart(),
        get("/media/{id}", READ, "Metadata of a stored file", show),
        post(
            "/media/{id}/download-token",
            READ,
            "Create a download token for a plain GET without authentication",
            download_token,
        ),
        get("/media/{id}/download", READ, "Download the file", download),
        get(
            "/media/{id}/download/{token}",
            Access::Public,
            "Download the file with a download token until it expires",
            download_with_token,
        ),
    ]
}

fn upload(ctx: &Ctx) -> ApiResult<Reply> {
    // An operator who lowers the body limit lowers the file limit with it.
    let limit = MAX_FILE_BYTES.min(ctx.config.body_limit);
    let upload = upload::parse(&ctx.content_type, ctx.body, limit)?;
    let mime_type = filetype::detect(&upload.extension, &upload.bytes)?;
    let media = store::insert(
        ctx.tx,
        ctx.tenant(),
        &store::NewMedia {
            folder: UPLOAD_FOLDER,
            file_name: &upload.file_name,
            extension: &upload.extension,
            mime_type,
            is_private: upload.is_private,
            bytes: &upload.bytes,
        },
    )?;
    Reply::created(&media)
}

fn show(ctx: &Ctx) -> ApiResult<Reply> {
    Reply::ok(&store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?)
}

fn download_token(ctx: &Ctx) -> ApiResult<Reply> {
    let media = store::get(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    let token = new_secret("");
    let expires_at =
        time::format(chrono::Utc::now() + chrono::Duration::minutes(DOWNLOAD_TOKEN_TTL_MINUTES));
    store::add_token(
        ctx.tx,
        ctx.tenant(),
        &media.id,
        &hash_secret(&token),
        &expires_at,
    )?;
    Reply::created(&DownloadToken {
        url: format!("{}/media/{}/download/{token}", ctx.base_url, media.id),
        token,
        expires_at,
    })
}

fn download(ctx: &Ctx) -> ApiResult<Reply> {
    let (media, bytes) = store::content(ctx.tx, ctx.tenant(), ctx.param("id"))?;
    file_reply(&media, bytes)
}

fn download_with_token(ctx: &Ctx) -> ApiResult<Reply> {
    let hash = hash_secret(ctx.param("token"));
    let (media, bytes) = store::content_by_token(ctx.tx, ctx.param("id"), &hash)?;
    file_reply(&media, bytes)
}

fn file_reply(media: &Media, bytes: Vec<u8>) -> ApiResult<Reply> {
    Ok(Reply {
        status: 200,
        content_type: filetype::static_mime(media.mime_type.as_deref().unwrap_or_default()),
        body: bytes,
        headers: vec![
            (
                "Content-Disposition",
                filetype::content_disposition(&media.file_name),
            ),
            ("X-Content-Type-Options", "nosniff".into()),
            (
                "Content-Security-Policy",
                "default-src 'none'; sandbox".into(),
            ),
            ("Cache-Control", "private, no-store".into()),
        ],
    })
}
