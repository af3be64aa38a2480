//! The file types kontor accepts (an allow-list keyed by extension, checked against the first
//! bytes of the content) and the `Content-Disposition` header of downloads.

use crate::error::ApiError;

/// One accepted type: its extensions, its MIME type and a cheap check of the content.
struct FileType {
    extensions: &'static [&'static str],
    mime: &'static str,
    /// A short name for messages ("a PNG image").
    what: &'static str,
    looks_like: fn(&[u8]) -> bool,
}

const TYPES: &[FileType] = &[
    FileType {
        extensions: &["pdf"],
        mime: "application/pdf",
        what: "a PDF document",
        looks_like: |b| b.starts_with(b"%PDF-"),
    },
    FileType {
        extensions: &["xml"],
        mime: "application/xml",
        what: "an XML document",
        looks_like: |b| is_utf8_markup(b, b"<"),
    },
    FileType {
        extensions: &["zip"],
        mime: "application/zip",
        what: "a ZIP archive",
        // Local file header, or the end record of an empty archive.
        looks_like: |b| b.starts_with(b"PK\x03\x04") || b.starts_with(b"PK\x05\x06"),
    },
    FileType {
        extensions: &["png"],
        mime: "image/png",
        what: "a PNG image",
        looks_like: |b| b.starts_with(b"\x89PNG\r\n\x1a\n"),
    },
    FileType {
        extensions: &["jpg", "jpeg"],
        mime: "image/jpeg",
        what: "a JPEG image",
        looks_like: |b| b.starts_with(&[0xFF, 0xD8, 0xFF]),
    },
    FileType {
        extensions: &["gif"],
        mime: "image/gif",
        what: "a GIF image",
        looks_like: |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"),
    },
    FileType {
        extensions: &["svg"],
        mime: "image/svg+xml",
        what: "an SVG image",
        looks_like: |b| is_utf8_markup(b, b"<svg"),
    },
    FileType {
        extensions: &["csv"],
        mime: "text/csv",
        what: "a text file",
        looks_like: is_text,
    },
    FileType {
        extensions: &["txt"],
        mime: "text/plain",
        what: "a text file",
        looks_like: is_text,
    },
];

/// Served for stored types outside the allow-list (files other slices store themselves).
pub const FALLBACK_MIME: &str = "application/octet-stream";

/// The extensions of the allow-list, for messages and docs.
pub fn allowed() -> Vec<&'static str> {
    TYPES
        .iter()
        .flat_map(|t| t.extensions.iter().copied())
        .collect()
}

/// The MIME type of an upload named with `extension` (lowercase, without the dot) whose
/// content is `bytes`. An extension outside the allow-list, or content that is not what the
/// extension says: 415. The client's part `Content-Type` is not consulted: browsers send
/// `application/octet-stream` for many files, and a client may claim anything.
pub fn detect(extension: &str, bytes: &[u8]) -> Result<&'static str, ApiError> {
    let Some(t) = TYPES.iter().find(|t| t.extensions.contains(&extension)) else {
        let got = if extension.is_empty() {
            "Files without an extension are".to_string()
        } else {
            format!("Files of type '.{extension}' are")
        };
        return Err(ApiError::UnsupportedMediaType(format!(
            "{got} not accepted; allowed: {}.",
            allowed().join(", ")
        )));
    };
    if !(t.looks_like)(bytes) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "The content is not {}, as the extension '.{extension}' says.",
            t.what
        )));
    }
    Ok(t.mime)
}

/// A stored MIME type as the `&'static str` a reply needs.
pub fn static_mime(mime: &str) -> &'static str {
    TYPES
        .iter()
        .find(|t| t.mime == mime)
        .map_or(FALLBACK_MIME, |t| t.mime)
}

/// Text: no NUL byte. UTF-8 is not required, since spreadsheet exports are often Windows-1252.
fn is_text(b: &[u8]) -> bool {
    !b.contains(&0)
}

/// UTF-8 (an optional BOM) whose first non-blank characters are `<`, and which contains
/// `needle` (case-insensitively) somewhere.
fn is_utf8_markup(b: &[u8], needle: &[u8]) -> bool {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let Ok(text) = std::str::from_utf8(b) else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    lower.trim_start().starts_with('<')
        && lower.as_bytes().windows(needle.len()).any(|w| w == needle)
}

/// `attachment` with the file name twice (RFC 6266): `filename` as a quoted ASCII fallback for
/// old clients, `filename*` as percent-encoded UTF-8 (RFC 8187) with the exact name. Quotes,
/// backslashes and control characters can never break out of the header.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(file_name.len() * 3);
    for b in file_name.bytes() {
        // RFC 8187 attr-char: these are sent as they are, everything else as %XX.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mime(extension: &str, bytes: &[u8]) -> Option<&'static str> {
        detect(extension, bytes).ok()
    }

    #[test]
    fn detects_by_extension_and_content() {
        assert_eq!(mime("pdf", b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(mime("png", b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(mime("jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(mime("jpg", &[0xFF, 0xD8, 0xFF, 0xDB]), Some("image/jpeg"));
        assert_eq!(mime("gif", b"GIF89a\x01\x00"), Some("image/gif"));
        assert_eq!(mime("zip", b"PK\x03\x04rest"), Some("application/zip"));
        assert_eq!(
            mime("xml", b"\xEF\xBB\xBF <?xml version=\"1.0\"?><a/>"),
            Some("application/xml")
        );
        assert_eq!(
            mime("svg", b"<?xml version=\"1.0\"?>\n<SVG xmlns=\"...\"/>"),
            Some("image/svg+xml")
        );
        assert_eq!(mime("csv", b"a;b\n\xE4;1\n"), Some("text/csv"));
        assert_eq!(mime("txt", b"hello"), Some("text/plain"));
    }

    #[test]
    fn refuses_unknown_types_and_mismatched_content() {
        for (ext, bytes) in [
            ("exe", &b"MZ"[..]),
            ("", b"%PDF-"),
            ("html", b"<html>"),
            ("pdf", b"<html>"),
            ("png", b"GIF89a"),
            ("svg", b"<html></html>"),
            ("xml", b"not markup"),
            ("txt", b"bin\0ary"),
            ("zip", b""),
        ] {
            let err = detect(ext, bytes).unwrap_err();
            assert_eq!(err.status(), 415, "{ext}");
        }
    }

    #[test]
    fn static_mime_maps_stored_types() {
        assert_eq!(static_mime("image/png"), "image/png");
        assert_eq!(static_mime("text/html"), FALLBACK_MIME);
    }

    #[test]
    fn content_disposition_quotes_and_encodes() {
        assert_eq!(
            content_disposition("Rechnung 1.pdf"),
            "attachment; filename=\"Rechnung 1.pdf\"; filename*=UTF-8''Rechnung%201.pdf"
        );
        assert_eq!(
            content_disposition("a\"b\\c\r\nä.txt"),
            "attachment; filename=\"a_b_c___.txt\"; filename*=UTF-8''a%22b%5Cc%0D%0A%C3%A4.txt"
        );
    }
}
