//! One client connection, served on its own thread: requests are read in order (keep-alive,
//! pipelining), each is answered before the next is read, and a request's body is read straight
//! from the connection by the handler.
//!
//! Why not tiny_http any more (measured, see `server`): tiny_http read every request on the
//! connection's thread and handed it to a pool thread through a queue, with two channels per
//! request to keep the order of bodies and responses - four thread switches per request where
//! one thread doing all of it needs none. And its connection threads came from a pool that
//! queued a new connection behind busy ones when several arrived at once: under keep-alive such
//! a connection waited until another closed (half of 32 benchmark connections never got an
//! answer in some runs).

use super::send::send;
use super::server::{HandlerFn, Incoming};
use std::io::{self, Read, Write};
use std::net::TcpStream;

/// Largest request line plus headers; a larger head is refused with 431.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers in one request (httparse needs the room up front).
const MAX_HEADERS: usize = 96;
/// How much of a body the handler left unread is read past so the connection can go on; with
/// more left (a refused upload, say) the connection is closed after the reply instead.
const MAX_SKIP: u64 = 256 * 1024;
/// How long input is still read and dropped after such a reply (see `Conn::linger`).
const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

/// A connection's socket and the bytes read from it but not yet used (`buf[pos..end]`).
pub struct Conn {
    stream: TcpStream,
    /// Zeroed once; reads land in `buf[end..]`.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

/// Request line and headers, owned.
pub struct Head {
    method: String,
    url: String,
    /// The minor version: `HTTP/1.0` or `HTTP/1.1`.
    minor: u8,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// Whether another request may follow on this connection (RFC 9112 §9.3).
    fn keep_alive(&self) -> bool {
        if self.has_token("Connection", "close") || self.has_token("Connection", "upgrade") {
            return false;
        }
        self.minor == 1 || self.has_token("Connection", "keep-alive")
    }

    /// How the body is delimited: its length, or `None` for chunked; a status to refuse with.
    fn framing(&self) -> Result<Option<u64>, u16> {
        if let Some(codings) = self.header("Transfer-Encoding") {
            // Chunked must be the last coding of a request (RFC 9112 §6.3); kontor decodes no
            // other, so anything else is refused.
            return match codings.trim().eq_ignore_ascii_case("chunked") {
                true => Ok(None),
                false => Err(501),
            };
        }
        let mut lengths = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
            .map(|(_, v)| v.trim().parse::<u64>());
        match lengths.next() {
            None => Ok(Some(0)),
            Some(Ok(n)) if lengths.all(|m| m == Ok(n)) => Ok(Some(n)),
            Some(_) => Err(400),
        }
    }
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: vec![0; 16 * 1024],
            pos: 0,
            end: 0,
        }
    }

    /// The bytes read and not yet used.
    fn unread(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads more bytes into the buffer; 0 at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.end {
            (self.pos, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            // Full: move what is unread to the front, and grow when that frees too little.
            self.buf.copy_within(self.pos..self.end, 0);
            (self.pos, self.end) = (0, self.end - self.pos);
            if self.buf.len() - self.end < 4096 {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        loop {
            match self.stream.read(&mut self.buf[self.end..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The next request's head: `Ok(None)` when the client closed between requests, `Err` with
    /// the status to refuse with (`None`: the connection failed, nothing to answer).
    fn read_head(&mut self) -> Result<Option<Head>, Option<u16>> {
        loop {
            // Empty lines before a request line are skipped (RFC 9112 §2.2).
            while self
                .unread()
                .first()
                .is_some_and(|b| *b == b'\r' || *b == b'\n')
            {
                self.pos += 1;
            }
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&self.buf[self.pos..self.end]) {
                Ok(httparse::Status::Complete(used)) => {
                    let head = owned(&parsed).ok_or(Some(400))?;
                    self.pos += used;
                    return Ok(Some(head));
                }
                Ok(httparse::Status::Partial) if self.end - self.pos > MAX_HEAD => {
                    return Err(Some(431))
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => return Err(Some(431)),
                Err(httparse::Error::Version) => return Err(Some(505)),
                Err(_) => return Err(Some(400)),
            }
            let started = self.pos < self.end;
            match self.fill() {
                Ok(0) if !started => return Ok(None),
                Ok(0) | Err(_) => return Err(None),
                Ok(_) => {}
            }
        }
    }

    /// One line of a chunked body (size line or trailer), without its line end.
    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = self.unread().iter().position(|b| *b == b'\n') {
                let line = &self.buf[self.pos..self.pos + end];
                let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
                let line = line.into_owned();
                self.pos += end + 1;
                return Ok(line);
            }
            if self.end - self.pos > 4096 {
                return Err(invalid("chunk line too long"));
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Writes a refusal without a body and ends the connection (where the next request would
    /// start is unknown).
    fn refuse(&mut self, status: u16) {
        let reason = match status {
            400 => "Bad Request",
            417 => "Expectation Failed",
            431 => "Request Header Fields Too Large",
            501 => "Not Implemented",
            _ => "HTTP Version Not Supported",
        };
        let _ = write!(
            self.stream,
            "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }

    /// Closes a connection whose request body was left unread, without losing the reply.
    ///
    /// Closing a socket with unread input makes the kernel reset the connection, and a reset
    /// can reach the client before it has read the reply: a client still sending a refused
    /// upload (413) would see "connection reset" instead of the answer. So the sending side
    /// is shut first (the client sees the reply end), and input is read and dropped until the
    /// client closes too, or for `LINGER` at most, as web servers do ("lingering close").
    fn linger(mut self) {
        if self.stream.shutdown(std::net::Shutdown::Write).is_err() {
            return;
        }
        let until = std::time::Instant::now() + LINGER;
        let mut sink = [0u8; 16 * 1024];
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.stream.read(&mut sink) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// The parsed head as owned strings; `None` when the URL or a header value is not UTF-8.
fn owned(parsed: &httparse::Request) -> Option<Head> {
    let headers = parsed
        .headers
        .iter()
        .map(|h| {
            Some((
                h.name.to_string(),
                std::str::from_utf8(h.value).ok()?.to_string(),
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Head {
        method: parsed.method?.to_string(),
        url: parsed.path?.to_string(),
        minor: parsed.version?,
        headers,
    })
}

/// The body of the current request, read from the connection as the handler asks for it.
struct Body<'c> {
    conn: &'c mut Conn,
    /// Bytes left of the body (fixed length) or of the current chunk.
    left: u64,
    chunked: bool,
    /// A chunk's data ended and its CRLF is still to be read.
    chunk_end: bool,
    done: bool,
}

impl Body<'_> {
    /// Reads past what the handler left unread; false when too much was left to do so.
    fn finish(&mut self) -> bool {
        if self.done {
            return true;
        }
        let mut rest = self.take(MAX_SKIP);
        let skipped = io::copy(&mut rest, &mut io::sink());
        skipped.is_ok() && self.done
    }

    /// Starts the next chunk: false after the last one (and its trailer).
    fn next_chunk(&mut self) -> io::Result<bool> {
        if self.chunk_end {
            if !self.conn.read_line()?.is_empty() {
                return Err(invalid("chunk without CRLF"));
            }
            self.chunk_end = false;
        }
        let line = self.conn.read_line()?;
        let size = line.split(';').next().unwrap_or("").trim();
        self.left = u64::from_str_radix(size, 16).map_err(|_| invalid("chunk size"))?;
        if self.left == 0 {
            while !self.conn.read_line()?.is_empty() {}
            return Ok(false);
        }
        self.chunk_end = true;
        Ok(true)
    }
}

impl Read for Body<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        if self.left == 0 && (!self.chunked || !self.next_chunk()?) {
            self.done = true;
            return Ok(0);
        }
        if self.conn.pos == self.conn.end && self.conn.fill()? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let available = self.conn.unread();
        let n = available.len().min(out.len()).min(self.left as usize);
        out[..n].copy_from_slice(&available[..n]);
        self.conn.pos += n;
        self.left -= n as u64;
        if self.left == 0 && !self.chunked {
            self.done = true;
        }
        Ok(n)
    }
}

/// A request on a connection, as the pipeline sees it.
struct Request<'c> {
    head: Head,
    body: Body<'c>,
}

impl Incoming for Request<'_> {
    fn method(&self) -> &str {
        &self.head.method
    }
    fn raw_url(&self) -> &str {
        &self.head.url
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
    fn body(&mut self) -> &mut dyn Read {
        &mut self.body
    }
}

/// Serves requests on `conn` until the client closes it, asks to, or breaks the protocol.
/// `limit` runs the handler while holding one of the server's permits.
pub fn serve(mut conn: Conn, handler: &HandlerFn, limit: &dyn Fn(&mut dyn FnMut())) {
    loop {
        let head = match conn.read_head() {
            Ok(Some(head)) => head,
            Ok(None) | Err(None) => return,
            Err(Some(status)) => return conn.refuse(status),
        };
        let length = match head.framing() {
            Ok(length) => length,
            Err(status) => return conn.refuse(status),
        };
        if let Some(expect) = head.header("Expect") {
            if !expect.trim().eq_ignore_ascii_case("100-continue") {
                return conn.refuse(417);
            }
            // The client waits for this before it sends the body.
            if head.minor == 1
                && conn
                    .stream
                    .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                    .is_err()
            {
                return;
            }
        }
        let keep_alive = head.keep_alive();
        let head_only = head.method == "HEAD";
        let http10 = head.minor == 0;
        let mut request = Request {
            head,
            body: Body {
                conn: &mut conn,
                left: length.unwrap_or(0),
                chunked: length.is_none(),
                chunk_end: false,
                done: length == Some(0),
            },
        };
        let mut reply = None;
        limit(&mut || reply = Some(handler(&mut request)));
        let finished = request.body.finish();
        let Some(reply) = reply else { return };
        let close = !keep_alive || !finished;
        // A client that went away cannot be answered; nothing else is to be done.
        if send(&mut conn.stream, &reply, head_only, http10, close).is_err() {
            return;
        }
        if !finished {
            return conn.linger();
        }
        if close {
            return;
        }
    }
}
