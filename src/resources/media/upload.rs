//! The `POST /media` body: `multipart/form-data` with a `file` part and an optional
//! `isPrivate` part (reference 03 §4.2), read from the bytes the pipeline already holds.

use crate::error::{ApiError, ApiResult, Violation};
use futures_util::FutureExt;
use std::future::Future;

/// Longest accepted file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// A parsed upload; the type is not checked yet (see `filetype::detect`).
#[derive(Debug)]
pub struct Upload {
    pub file_name: String,
    /// Lowercase, without the dot; empty when the name has none.
    pub extension: String,
    pub bytes: Vec<u8>,
    pub is_private: bool,
}

/// Runs one of multer's futures. multer parses a stream, asynchronously; here the stream is
/// the body already in memory, so no future ever waits and a single poll completes it.
fn ready<F: Future>(future: F) -> ApiResult<F::Output> {
    future
        .now_or_never()
        .ok_or_else(|| ApiError::Internal("multipart parsing waited on a body in memory".into()))
}

/// Parses the body. Malformed multipart: 400. A file over `max_file` bytes: 413 at once.
/// Missing `file`, a part without a file name, a bad `isPrivate` or an unknown part: 422 naming
/// each of them.
pub fn parse(content_type: &str, body: &[u8], max_file: usize) -> ApiResult<Upload> {
    let boundary = boundary(content_type).ok_or_else(|| {
        ApiError::BadRequest("The multipart/form-data Content-Type needs a boundary.".into())
    })?;
    let malformed =
        |e: multer::Error| ApiError::BadRequest(format!("Malformed multipart body: {e}."));
    let whole = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(body.to_vec())]);
    let mut form = multer::Multipart::new(whole, boundary);
    let mut violations = Vec::new();
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    let mut is_private = true;
    while let Some(mut part) = ready(form.next_field())?.map_err(malformed)? {
        let name = part.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" if file.is_some() => violations.push(Violation::new(
                "file",
                "Send exactly one file per upload.",
                "too_many",
            )),
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = ready(part.chunk())?.map_err(malformed)? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > max_file {
                        return Err(ApiError::PayloadTooLarge(max_file));
                    }
                }
                file = Some((part.file_name().map(str::to_string), bytes));
            }
            "isPrivate" => {
                let data = ready(part.bytes())?.map_err(malformed)?;
                // A non-UTF-8 value is simply not a boolean.
                match std::str::from_utf8(&data).map(str::trim) {
                    Ok("true" | "1") => is_private = true,
                    Ok("false" | "0") => is_private = false,
                    _ => violations.push(Violation::new(
                        "isPrivate",
                        "This value should be true or false.",
                        "invalid_type",
                    )),
                }
            }
            _ => violations.push(Violation::new(
                name,
                "This part is not allowed; send 'file' and optionally 'isPrivate'.",
                "unknown_field",
            )),
        }
    }
    let upload = match file {
        None => {
            violations.push(Violation::new(
                "file",
                "A part named 'file' with the file is required.",
                "not_blank",
            ));
            None
        }
        Some((name, bytes)) => match file_name(name.as_deref()) {
            Err((message, code)) => {
                violations.push(Violation::new("file", message, code));
                None
            }
            Ok(_) if bytes.is_empty() => {
                violations.push(Violation::new("file", "The file is empty.", "empty_file"));
                None
            }
            Ok(file_name) => Some((file_name, bytes)),
        },
    };
    let Some((file_name, bytes)) = upload.filter(|_| violations.is_empty()) else {
        return Err(ApiError::Validation(violations));
    };
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    Ok(Upload {
        file_name,
        extension,
        bytes,
        is_private,
    })
}

/// The `boundary` parameter of a `multipart/form-data` Content-Type, quotes removed.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// The name a client sent, reduced to its last path segment (some browsers send the full
/// local path) and without control characters, so it is safe to store and to send back.
fn file_name(sent: Option<&str>) -> Result<String, (String, &'static str)> {
    let Some(sent) = sent else {
        return Err((
            "The 'file' part needs a file name (Content-Disposition filename).".into(),
            "missing_filename",
        ));
    };
    let last = sent.rsplit(['/', '\\']).next().unwrap_or(sent);
    let name: String = last.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(("The file name is empty.".into(), "missing_filename"));
    }
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        return Err((
            format!("The file name may have at most {MAX_FILE_NAME_CHARS} characters."),
            "too_long",
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, file_name, data) in parts {
            out.extend_from_slice(b"--XyZ\r\n");
            let disposition = match file_name {
                Some(f) => {
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n")
                }
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
            };
            out.extend_from_slice(disposition.as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--XyZ--\r\n");
        out
    }

    fn paths(err: ApiError) -> Vec<String> {
        match err {
            ApiError::Validation(v) => v.into_iter().map(|v| v.property_path).collect(),
            other => panic!("expected 422, got {other}"),
        }
    }

    #[test]
    fn reads_file_name_bytes_and_flag() {
        let b = body(&[
            ("isPrivate", None, b"false"),
            (
                "file",
                Some("C:\\Users\\me\\Logo.PNG"),
                b"\x89PNG\r\n\x1a\n\r\n--X",
            ),
        ]);
        let u = parse(CT, &b, 100).unwrap();
        assert_eq!(u.file_name, "Logo.PNG");
        assert_eq!(u.extension, "png");
        assert_eq!(u.bytes, b"\x89PNG\r\n\x1a\n\r\n--X");
        assert!(!u.is_private);
        let u = parse(
            "multipart/form-data; boundary=\"XyZ\"",
            &body(&[("file", Some("a"), b"x")]),
            100,
        )
        .unwrap();
        assert!(u.is_private, "private by default");
        assert_eq!(u.extension, "");
        // A quoted file name with an escaped quote (as curl sends it).
        let b = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; \
                  filename=\"Rechnung \\\"M\xc3\xa4rz\\\".pdf\"\r\n\r\n%PDF\r\n--XyZ--\r\n";
        let u = parse(CT, b, 100).unwrap();
        assert_eq!(u.file_name, "Rechnung \"M\u{e4}rz\".pdf");
        assert_eq!(u.bytes, b"%PDF");
    }

    #[test]
    fn violations_and_limits() {
        let b = body(&[("isPrivate", None, b"maybe"), ("other", None, b"x")]);
        assert_eq!(
            paths(parse(CT, &b, 100).unwrap_err()),
            vec!["isPrivate", "other", "file"]
        );
        let b = body(&[("file", None, b"x")]);
        assert_eq!(paths(parse(CT, &b, 100).unwrap_err()), vec!["file"]);
        let b = body(&[("file", Some("a.txt"), b"")]);
        assert_eq!(paths(parse(CT, &b, 100).unwrap_err()), vec!["file"]);
        let b = body(&[("file", Some("a.txt"), b"x"), ("file", Some("b.txt"), b"y")]);
        assert_eq!(paths(parse(CT, &b, 100).unwrap_err()), vec!["file"]);
        let b = body(&[("file", Some("a.txt"), &[b'x'; 101])]);
        assert_eq!(parse(CT, &b, 100).unwrap_err().status(), 413);
        assert!(parse(CT, &body(&[("file", Some("a.txt"), &[b'x'; 100])]), 100).is_ok());
        assert_eq!(
            parse("multipart/form-data", &b, 100).unwrap_err().status(),
            400
        );
        assert_eq!(parse(CT, b"garbage", 100).unwrap_err().status(), 400);
    }
}
