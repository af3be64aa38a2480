//! Media: multipart upload, metadata, downloads byte for byte (bearer and download token),
//! token expiry, type allow-list (415), size limit (413), upload violations (422), scopes and
//! tenant isolation of every `{id}` endpoint.

use crate::common::{assert_problem, Resp, Server};
use serde_json::{json, Value};
use std::io::Read;

const BOUNDARY: &str = "kontorTestBoundary7MA4YWxk";
/// A PNG signature followed by bytes that look like multipart framing and are not UTF-8.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n--kontor\r\n\xff\xfe\x00end";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n";

/// One part: (name, file name, bytes).
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A hand-built `multipart/form-data` body and its Content-Type.
fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, file_name, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file_name {
            // A quote inside the quoted file name is escaped, as curl sends it (RFC 9110 §5.6.4).
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\n\
                 Content-Type: application/octet-stream\r\n",
                f.replace('"', "\\\"")
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Any request with raw bytes both ways: the parsed answer and the exact response body.
fn request(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> (Resp, Vec<u8>) {
    let mut req = ureq::request(method, &format!("{}{}", s.base, path));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    if let Some(ct) = content_type {
        req = req.set("Content-Type", ct);
    }
    let result = if body.is_empty() {
        req.call()
    } else {
        req.send_bytes(body)
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: transport error {e}"),
    };
    let status = resp.status();
    let headers: Vec<(String, String)> = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let content_type = resp.header("Content-Type").unwrap_or("").to_string();
    let mut bytes = Vec::new();
    resp.into_reader()
        .read_to_end(&mut bytes)
        .expect("response body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let resp = Resp {
        status,
        content_type,
        headers,
        text,
        body,
    };
    (resp, bytes)
}

fn upload_as(s: &Server, token: Option<&str>, parts: &[Part]) -> Resp {
    let (ct, body) = multipart(parts);
    request(s, "POST", "/media", token, Some(&ct), &body).0
}

fn upload(s: &Server, parts: &[Part]) -> Resp {
    upload_as(s, Some(&s.token), parts)
}

/// Uploads `logo.png` and returns its id.
fn upload_png(s: &Server) -> String {
    let r = upload(s, &[("file", Some("logo.png"), PNG)]);
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

#[test]
fn upload_answers_the_metadata() {
    let s = Server::start();
    let r = upload(
        &s,
        &[
            ("isPrivate", None, b"false"),
            ("file", Some("Logo.PNG"), PNG),
        ],
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(
        r.body,
        json!({"id": id, "mediaFolder": {"name": "upload"}, "isPrivate": false,
            "mimeType": "image/png", "fileExtension": "png", "fileName": "Logo.PNG",
            "storageFileName": format!("{id}.png"), "createdAt": r.body["createdAt"]})
    );
    assert!(r.body["createdAt"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(s.get(&format!("/media/{id}")).body, r.body);

    // isPrivate defaults to true; the bytes are stored as sent.
    let r = upload(&s, &[("file", Some("Rechnung 1.pdf"), PDF)]);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["isPrivate"], true);
    assert_eq!(r.body["mimeType"], "application/pdf");
    let stored: Vec<u8> = s
        .db()
        .query_row(
            "SELECT content FROM media WHERE id = ?1",
            [r.body["id"].as_str().unwrap()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(stored, PDF);
}

#[test]
fn every_allowed_type_is_accepted() {
    let s = Server::start();
    let cases: [(&str, &[u8], &str); 10] = [
        ("a.pdf", PDF, "application/pdf"),
        ("a.xml", b"<?xml version=\"1.0\"?><r/>", "application/xml"),
        ("a.zip", b"PK\x03\x04\x14\0\0\0", "application/zip"),
        ("a.png", PNG, "image/png"),
        ("a.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
        ("a.JPEG", b"\xff\xd8\xff\xdb", "image/jpeg"),
        ("a.gif", b"GIF89a\x01\0\x01\0", "image/gif"),
        (
            "a.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            "image/svg+xml",
        ),
        ("a.csv", b"name;amount\nM\xfcller;1\n", "text/csv"),
        ("a.txt", b"hello\n", "text/plain"),
    ];
    for (name, bytes, mime) in cases {
        let r = upload(&s, &[("file", Some(name), bytes)]);
        assert_eq!(r.status, 201, "{name}: {}", r.text);
        assert_eq!(r.body["mimeType"], mime, "{name}");
    }
}

#[test]
fn downloads_are_byte_for_byte_with_headers() {
    let s = Server::start();
    let name = "Rechnung \"März\".png";
    let r = upload(&s, &[("file", Some(name), PNG)]);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["fileName"], name);
    let id = r.body["id"].as_str().unwrap();
    let (r, bytes) = request(
        &s,
        "GET",
        &format!("/media/{id}/download"),
        Some(&s.token),
        None,
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(bytes, PNG);
    assert_eq!(r.content_type, "image/png");
    assert_eq!(
        r.header("Content-Disposition"),
        Some(
            "attachment; filename=\"Rechnung _M_rz_.png\"; \
             filename*=UTF-8''Rechnung%20%22M%C3%A4rz%22.png"
        )
    );
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
}

#[test]
fn download_token_unlocks_one_file_until_it_expires() {
    let s = Server::start();
    let id = upload_png(&s);
    let other = upload(&s, &[("file", Some("b.pdf"), PDF)]).body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s.act("POST", &format!("/media/{id}/download-token"));
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["token"].as_str().unwrap();
    assert_eq!(
        r.body["url"],
        format!("{}/media/{id}/download/{token}", s.base)
    );
    let expires = chrono::DateTime::parse_from_rfc3339(r.body["expiresAt"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let left = expires - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(59) && left <= chrono::Duration::minutes(60),
        "{left}"
    );
    // Only the hash is stored.
    let stored: String = s
        .db()
        .query_row("SELECT token_hash FROM media_download_tokens", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_ne!(stored, token);

    // No Authorization header: the token is the credential, and it may be used again.
    let path = format!("/media/{id}/download/{token}");
    for _ in 0..2 {
        let (r, bytes) = request(&s, "GET", &path, None, None, b"");
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(bytes, PNG);
        assert_eq!(r.content_type, "image/png");
        assert!(r
            .header("Content-Disposition")
            .unwrap()
            .starts_with("attachment; filename=\"logo.png\""));
    }
    // Another file, an unknown token: 404.
    assert_problem(&s.get(&format!("/media/{other}/download/{token}")), 404);
    assert_problem(
        &s.get(&format!("/media/{id}/download/{}", "0".repeat(64))),
        404,
    );
    assert_problem(&s.get(&format!("/media/{id}/download/x")), 404);

    s.db()
        .execute(
            "UPDATE media_download_tokens SET expires_at = '2000-01-01T00:00:00+00:00'",
            [],
        )
        .unwrap();
    let (r, _) = request(&s, "GET", &path, None, None, b"");
    assert_problem(&r, 404);
}

#[test]
fn types_outside_the_allow_list_or_contradicting_content_are_415() {
    let s = Server::start();
    for (name, bytes) in [
        ("setup.exe", &b"MZ\x90\0"[..]),
        ("page.html", b"<html></html>"),
        ("noextension", b"hello"),
        ("fake.png", PDF),
        ("fake.pdf", PNG),
        ("image.svg", b"<html><script>x</script></html>"),
        ("binary.txt", b"a\0b"),
    ] {
        let r = upload(&s, &[("file", Some(name), bytes)]);
        assert_problem(&r, 415);
        assert!(r.body["detail"].as_str().unwrap().contains('.'), "{name}");
    }
    // The request itself must be multipart/form-data.
    let (ct, body) = multipart(&[("file", Some("a.png"), PNG)]);
    for wrong in ["application/json", "text/plain", "application/octet-stream"] {
        let r = s.send_raw("POST", "/media", wrong, &body);
        assert_problem(&r, 415);
    }
    let r = s.send_raw("POST", "/media", &ct, &body);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        s.db()
            .query_row("SELECT count(*) FROM media", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        1
    );
}

#[test]
fn files_over_the_limit_are_413() {
    let s = Server::start();
    let mut exact = b"%PDF-".to_vec();
    exact.resize(1_000_000, b'x');
    let r = upload(&s, &[("file", Some("max.pdf"), &exact)]);
    assert_eq!(r.status, 201, "{}", r.text);
    let (_, bytes) = request(
        &s,
        "GET",
        &format!("/media/{}/download", r.body["id"].as_str().unwrap()),
        Some(&s.token),
        None,
        b"",
    );
    assert_eq!(bytes, exact);

    // Over the file limit, within the body limit.
    let mut over = exact.clone();
    over.push(b'x');
    let r = upload(&s, &[("file", Some("big.pdf"), &over)]);
    assert_problem(&r, 413);
    // Over the request body limit (1 MiB).
    over.resize(1_100_000, b'x');
    let r = upload(&s, &[("file", Some("huge.pdf"), &over)]);
    assert_problem(&r, 413);
    let count: i64 = s
        .db()
        .query_row("SELECT count(*) FROM media", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn upload_violations_are_422() {
    let s = Server::start();
    let r = upload(&s, &[("isPrivate", None, b"true")]);
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["file"]);
    let r = upload(&s, &[("file", None, PNG)]);
    assert_eq!(
        r.violation_paths(),
        vec!["file"],
        "a file part needs a name"
    );
    let r = upload(&s, &[("file", Some("empty.txt"), b"")]);
    assert_eq!(r.violation_paths(), vec!["file"]);
    let r = upload(
        &s,
        &[
            ("file", Some("a.png"), PNG),
            ("isPrivate", None, b"maybe"),
            ("folder", None, b"x"),
        ],
    );
    assert_problem(&r, 422);
    assert_eq!(r.violation_paths(), vec!["isPrivate", "folder"]);
    // Not multipart at all inside: 400.
    let r = s.send_raw(
        "POST",
        "/media",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        b"just some bytes",
    );
    assert_problem(&r, 400);
}

#[test]
fn scopes_are_media_read_and_write() {
    let s = Server::start();
    let id = upload_png(&s);
    let part: &[Part] = &[("file", Some("a.png"), PNG)];
    assert_problem(&upload_as(&s, None, part), 401);
    assert_problem(&upload_as(&s, Some("kontor_wrong"), part), 401);
    let ro = s.token_with_role("read-only");
    let r = upload_as(&s, Some(&ro), part);
    assert_problem(&r, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("media:write"));

    let paths = [
        ("GET", format!("/media/{id}")),
        ("GET", format!("/media/{id}/download")),
        ("POST", format!("/media/{id}/download-token")),
    ];
    for (method, path) in &paths {
        assert_problem(&s.send(method, path, None, None, &[]), 401);
        let r = s.send(method, path, Some(&ro), None, &[]);
        assert!(r.status == 200 || r.status == 201, "{path}: {}", r.text);
    }
    let count: i64 = s
        .db()
        .query_row("SELECT count(*) FROM media", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

#[test]
fn another_tenants_files_are_404() {
    let s = Server::start();
    let id = upload_png(&s);
    let (_, other) = s.new_tenant("Other", "other@example.com");
    for (method, path) in [
        ("GET", format!("/media/{id}")),
        ("GET", format!("/media/{id}/download")),
        ("POST", format!("/media/{id}/download-token")),
    ] {
        assert_problem(&s.send(method, &path, Some(&other), None, &[]), 404);
        // Unknown and malformed ids look the same.
        let unknown = path.replace(&id, "0190a0a0-0000-7000-8000-000000000000");
        assert_problem(&s.send(method, &unknown, Some(&s.token), None, &[]), 404);
        let malformed = path.replace(&id, "nope");
        assert_problem(&s.send(method, &malformed, Some(&s.token), None, &[]), 404);
    }
    assert_eq!(
        s.db()
            .query_row("SELECT count(*) FROM media_download_tokens", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap(),
        0
    );
    // The other tenant's own upload is its own.
    let r = upload_as(&s, Some(&other), &[("file", Some("b.png"), PNG)]);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_problem(
        &s.get(&format!("/media/{}", r.body["id"].as_str().unwrap())),
        404,
    );
}
