//! Writing a reply to the connection: status line, headers and body handed to the kernel in
//! one vectored write, so a response leaves as one TCP segment (see `server` for why that
//! matters) without its body being copied behind the headers first.

use super::Reply;
use std::io::Write;

/// Writes the whole response (see the module docs for how).
pub(super) fn send(
    out_stream: &mut impl Write,
    reply: &Reply,
    head_only: bool,
    http10: bool,
    close: bool,
) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(256);
    let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let reason = reason(reply.status);
    write!(
        head,
        "{version} {} {reason}\r\nServer: kontor\r\n",
        reply.status
    )?;
    DATE.with_borrow_mut(|date| {
        head.extend_from_slice(b"Date: ");
        head.extend_from_slice(date.now().as_bytes());
        head.extend_from_slice(b"\r\n");
    });
    // 204 carries neither a body nor its length (RFC 9110 §8.6).
    if reply.status != 204 {
        write!(
            head,
            "Content-Type: {}\r\nContent-Length: {}\r\n",
            reply.content_type,
            reply.body.len()
        )?;
    }
    for (name, value) in &reply.headers {
        write!(head, "{name}: {value}\r\n")?;
    }
    // The client learns the connection ends here (RFC 9112 §9.6) rather than by trying it.
    if close {
        head.extend_from_slice(b"Connection: close\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let body: &[u8] = if reply.status != 204 && !head_only {
        &reply.body
    } else {
        &[]
    };
    write_both(out_stream, &head, body)?;
    out_stream.flush()
}

/// `head` then `body`, with as few writes as the stream takes (usually one).
fn write_both(out: &mut impl Write, mut head: &[u8], mut body: &[u8]) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind, IoSlice};
    while !head.is_empty() {
        match out.write_vectored(&[IoSlice::new(head), IoSlice::new(body)]) {
            Ok(0) => return Err(Error::from(ErrorKind::WriteZero)),
            Ok(n) if n < head.len() => head = &head[n..],
            Ok(n) => {
                body = &body[n - head.len()..];
                head = &[];
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    out.write_all(body)
}

/// The reason phrase of a status line (RFC 9110 §15); clients ignore it.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// The `Date` header's value, formatted once per second per thread.
struct CachedDate {
    second: i64,
    text: String,
}

impl CachedDate {
    fn now(&mut self) -> &str {
        let now = chrono::Utc::now();
        if now.timestamp() != self.second {
            self.second = now.timestamp();
            self.text = now.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        }
        &self.text
    }
}

thread_local! {
    static DATE: std::cell::RefCell<CachedDate> = const {
        std::cell::RefCell::new(CachedDate { second: i64::MIN, text: String::new() })
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that takes at most `chunk` bytes per write, vectored or not.
    struct Trickle {
        chunk: usize,
        out: Vec<u8>,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.chunk);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            let mut taken = 0;
            for buf in bufs {
                let n = buf.len().min(self.chunk - taken);
                self.out.extend_from_slice(&buf[..n]);
                taken += n;
                if taken == self.chunk {
                    break;
                }
            }
            Ok(taken)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Head and body arrive whole and in order however the stream splits the writes: within
    /// the head, at its end, and across the two.
    #[test]
    fn head_and_body_survive_partial_writes() {
        for chunk in [1, 3, 7, 10, 11, 64] {
            let mut stream = Trickle { chunk, out: vec![] };
            write_both(&mut stream, b"HEAD:12345", b"body-bytes").unwrap();
            assert_eq!(stream.out, b"HEAD:12345body-bytes", "chunk {chunk}");
        }
        let mut stream = Trickle {
            chunk: 4,
            out: vec![],
        };
        write_both(&mut stream, b"HEAD", b"").unwrap();
        assert_eq!(stream.out, b"HEAD");
    }
}
