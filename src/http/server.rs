//! The HTTP server: tiny_http (the engine under rouille) parses connections, and a bounded pool
//! of threads takes requests from its queue, runs the pipeline and answers each with one write.
//!
//! Departure from DESIGN.md §1 (rouille with `Server::pool_size`), measured: rouille hands every
//! request from tiny_http's queue to a dispatcher thread and from there to its pool (one thread
//! switch more per request than needed), copies method, URL and headers into a request of its
//! own, and answers through tiny_http's `respond`, which writes the head and a body over 1 KiB
//! (a customer is ~2 KB) with two separate `send`s: two TCP segments, and the client woken twice.
//! Here the pool's threads take requests from tiny_http's queue themselves and write status line,
//! headers and body with one `write`. tiny_http still does everything else: accepting, parsing,
//! keep-alive, pipelining order, `Expect: 100-continue`, request bodies, malformed requests.

use super::{tcp, Reply};
use std::borrow::Cow;
use std::io::{Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A request as the pipeline sees it.
pub trait Incoming {
    /// `GET`, `POST`, ... as sent.
    fn method(&self) -> &str;
    /// The path and query string as sent (not decoded).
    fn raw_url(&self) -> &str;
    /// The first header of this name (any case).
    fn header(&self, name: &str) -> Option<&str>;
    /// The body, to read once.
    fn body(&mut self) -> &mut dyn Read;

    /// The path without the query string, percent-decoded (invalid UTF-8 replaced).
    fn path(&self) -> Cow<'_, str> {
        let url = self.raw_url();
        let path = url.split_once('?').map_or(url, |(p, _)| p);
        percent_encoding::percent_decode_str(path).decode_utf8_lossy()
    }

    /// The query string after `?` (empty without one).
    fn raw_query_string(&self) -> &str {
        self.raw_url().split_once('?').map_or("", |(_, q)| q)
    }
}

impl Incoming for tiny_http::Request {
    fn method(&self) -> &str {
        tiny_http::Request::method(self).as_str()
    }
    fn raw_url(&self) -> &str {
        self.url()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
    fn body(&mut self) -> &mut dyn Read {
        self.as_reader()
    }
}

/// A request built in memory, for tests that call the pipeline without a socket.
pub struct TestRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Cursor<Vec<u8>>,
}

impl TestRequest {
    pub fn new(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> TestRequest {
        TestRequest {
            method: method.into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Cursor::new(body.to_vec()),
        }
    }
}

impl Incoming for TestRequest {
    fn method(&self) -> &str {
        &self.method
    }
    fn raw_url(&self) -> &str {
        &self.url
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn body(&mut self) -> &mut dyn Read {
        &mut self.body
    }
}

/// What answers a request.
pub type HandlerFn = dyn Fn(&mut dyn Incoming) -> Reply + Send + Sync;

/// A bound server, not yet answering: `run` or `stoppable` starts its threads.
pub struct Server {
    inner: Arc<tiny_http::Server>,
    addr: SocketAddr,
    threads: usize,
    handler: Arc<HandlerFn>,
}

impl Server {
    /// Listens on `bind` (port 0 picks a free port) with TCP_NODELAY for every connection.
    pub fn bind(bind: &str, threads: usize, handler: Arc<HandlerFn>) -> Result<Server, String> {
        let listener =
            TcpListener::bind(bind).map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        tcp::disable_nagle(&listener);
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let inner = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        Ok(Server {
            inner: Arc::new(inner),
            addr,
            threads: threads.max(1),
            handler,
        })
    }

    pub fn server_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers requests until the process ends.
    pub fn run(self) {
        let never = Arc::new(AtomicBool::new(false));
        for worker in self.spawn_workers(&never) {
            let _ = worker.join();
        }
    }

    /// Answers requests on background threads until `()` is sent on the returned sender (as
    /// rouille's `stoppable`: dropping the sender does not stop the server). The handle ends
    /// once every thread has finished its request and the listener is closed.
    pub fn stoppable(self) -> (JoinHandle<()>, Sender<()>) {
        let (stop, stopped) = channel::<()>();
        let handle = std::thread::spawn(move || {
            let stopping = Arc::new(AtomicBool::new(false));
            let workers = self.spawn_workers(&stopping);
            // Err: the sender is gone without a stop, so serve on for the process's lifetime.
            if stopped.recv().is_err() {
                std::thread::park();
            }
            stopping.store(true, Ordering::SeqCst);
            for _ in &workers {
                self.inner.unblock();
            }
            for worker in workers {
                let _ = worker.join();
            }
        });
        (handle, stop)
    }

    fn spawn_workers(&self, stopping: &Arc<AtomicBool>) -> Vec<JoinHandle<()>> {
        (0..self.threads)
            .map(|i| {
                let (inner, handler, stopping) =
                    (self.inner.clone(), self.handler.clone(), stopping.clone());
                std::thread::Builder::new()
                    .name(format!("kontor-http-{i}"))
                    .spawn(move || work(&inner, &*handler, &stopping))
                    .expect("cannot start an HTTP thread")
            })
            .collect()
    }
}

fn work(server: &tiny_http::Server, handler: &HandlerFn, stopping: &AtomicBool) {
    loop {
        match server.recv() {
            Ok(mut request) => {
                let reply = handler(&mut request);
                let head_only = *request.method() == tiny_http::Method::Head;
                let http10 = *request.http_version() == tiny_http::HTTPVersion(1, 0);
                // A client that went away cannot be answered; nothing else is to be done.
                let _ = send(request.into_writer(), &reply, head_only, http10);
            }
            Err(_) if stopping.load(Ordering::SeqCst) => return,
            // Only `unblock` (above) and accept failures end up here; keep serving.
            Err(_) => {}
        }
    }
}

/// Writes the whole response with one `write_all` on tiny_http's connection writer: its buffer
/// takes a response under 1 KiB whole and lets a larger one through in one piece.
fn send(
    mut writer: Box<dyn Write + Send>,
    reply: &Reply,
    head_only: bool,
    http10: bool,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(reply.body.len() + 256);
    let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    let reason = tiny_http::StatusCode(reply.status).default_reason_phrase();
    write!(
        out,
        "{version} {} {reason}\r\nServer: kontor\r\n",
        reply.status
    )?;
    DATE.with_borrow_mut(|date| {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(date.now().as_bytes());
        out.extend_from_slice(b"\r\n");
    });
    // 204 carries neither a body nor its length (RFC 9110 §8.6).
    if reply.status != 204 {
        write!(
            out,
            "Content-Type: {}\r\nContent-Length: {}\r\n",
            reply.content_type,
            reply.body.len()
        )?;
    }
    for (name, value) in &reply.headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    out.extend_from_slice(b"\r\n");
    if reply.status != 204 && !head_only {
        out.extend_from_slice(&reply.body);
    }
    writer.write_all(&out)?;
    writer.flush()
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
    use std::io::BufRead;

    fn echo(req: &mut dyn Incoming) -> Reply {
        let mut body = Vec::new();
        req.body().read_to_end(&mut body).unwrap();
        let text = format!(
            "{} {} {} {}",
            req.method(),
            req.path(),
            req.raw_query_string(),
            body.len()
        );
        if req.path() == "/none" {
            return Reply::no_content().unwrap();
        }
        let mut reply = Reply::json(200, &text).unwrap();
        reply.headers.push(("X-Test", "yes".into()));
        reply
    }

    /// Reads one response: status, headers (lower-case names) and body.
    fn read_response(r: &mut impl BufRead) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let Some((k, v)) = line.trim_end().split_once(": ") else {
                break;
            };
            headers.push((k.to_ascii_lowercase(), v.to_string()));
        }
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        (status, headers, body)
    }

    #[test]
    fn answers_keep_alive_requests_in_order_and_stops() {
        let server = Server::bind("127.0.0.1:0", 2, Arc::new(echo)).unwrap();
        let addr = server.server_addr();
        let (handle, stop) = server.stoppable();
        let stream = std::net::TcpStream::connect(addr).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut w = &stream;
        let big = "x".repeat(5000);
        write!(
            w,
            "GET /a%20b?q=1 HTTP/1.1\r\nHost: h\r\n\r\n\
             POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n{big}\
             HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n",
            big.len()
        )
        .unwrap();
        let (status, headers, body) = read_response(&mut reader);
        assert_eq!(status, 200);
        assert_eq!(body, br#""GET /a b q=1 0""#);
        assert!(headers.contains(&("x-test".into(), "yes".into())));
        assert!(headers.contains(&("content-type".into(), "application/json".into())));
        assert!(headers.iter().any(|(k, _)| k == "date"));
        let (_, _, body) = read_response(&mut reader);
        assert_eq!(body, br#""POST /big  5000""#);
        // HEAD: the length of the body it would have (`"HEAD /h  0"`), and no body.
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut head = String::new();
        while line != "\r\n" {
            line.clear();
            reader.read_line(&mut line).unwrap();
            head.push_str(&line);
        }
        assert!(head.contains("Content-Length: 12\r\n"), "{head}");
        write!(w, "DELETE /none HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        let (status, headers, body) = read_response(&mut reader);
        assert_eq!(status, 204);
        assert!(body.is_empty() && !headers.iter().any(|(k, _)| k == "content-length"));
        stop.send(()).unwrap();
        handle.join().unwrap();
    }
}
