//! The HTTP server: a thread per connection reads its requests (`conn`) and runs the pipeline
//! for each, at most `threads` at a time, answering each with one write.
//!
//! Departures from DESIGN.md §1 (rouille with `Server::pool_size`), measured: rouille hands every
//! request from tiny_http's queue to a dispatcher thread and from there to its pool, and tiny_http
//! reads each request on the connection's thread and hands it over again (see `conn`): with 32
//! connections on two cores those thread switches cost more than a `GET /health` itself, and
//! tiny_http left connections that arrived together unserved. It also answered through
//! `respond`, which writes the head and a body over 1 KiB (a customer is ~2 KB) with two
//! separate `send`s: two TCP segments, and the client woken twice. Here the connection's own
//! thread parses (httparse), runs the pipeline and writes status line, headers and body with one
//! vectored `write` (`send`); `threads` still bounds how many requests run at once (database
//! connections).

use super::conn::{self, Conn};
use super::{tcp, Reply};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
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
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// What the accepting thread and the connection threads share.
struct Shared {
    handler: Arc<HandlerFn>,
    /// Permits to run a request: the pool size of the design, so no more requests run at once
    /// than there are database connections for them.
    permits: Mutex<usize>,
    permit_freed: Condvar,
    stopping: AtomicBool,
    /// Open connections (a handle each, to shut them down on stop), by number.
    open: Mutex<HashMap<u64, TcpStream>>,
    closed: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; the state stays consistent regardless.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Runs `f` while holding a permit.
    fn limited(&self, f: &mut dyn FnMut()) {
        {
            let mut free = lock(&self.permits);
            while *free == 0 {
                free = self
                    .permit_freed
                    .wait(free)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            *free -= 1;
        }
        // Given back even when `f` panics (the pipeline catches panics; this is belt and braces).
        struct Release<'a>(&'a Shared);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                *lock(&self.0.permits) += 1;
                self.0.permit_freed.notify_one();
            }
        }
        let _release = Release(self);
        f();
    }
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
        Ok(Server {
            listener,
            addr,
            shared: Arc::new(Shared {
                handler,
                permits: Mutex::new(threads.max(1)),
                permit_freed: Condvar::new(),
                stopping: AtomicBool::new(false),
                open: Mutex::new(HashMap::new()),
                closed: Condvar::new(),
            }),
        })
    }

    pub fn server_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers requests until the process ends.
    pub fn run(self) {
        accept(&self.listener, &self.shared);
    }

    /// Answers requests on background threads until `()` is sent on the returned sender (as
    /// rouille's `stoppable`: dropping the sender does not stop the server). The handle ends
    /// once every connection has finished its request and the listener is closed.
    pub fn stoppable(self) -> (JoinHandle<()>, Sender<()>) {
        let (stop, stopped) = channel::<()>();
        let handle = std::thread::spawn(move || {
            let Server {
                listener,
                addr,
                shared,
            } = self;
            let accepting = shared.clone();
            let acceptor = std::thread::Builder::new()
                .name("kontor-accept".into())
                .spawn(move || accept(&listener, &accepting))
                .expect("cannot start the accepting thread");
            // Err: the sender is gone without a stop, so serve on for the process's lifetime.
            if stopped.recv().is_err() {
                std::thread::park();
            }
            shared.stopping.store(true, Ordering::SeqCst);
            // `accept` blocks until a connection comes: this one makes it see `stopping`.
            let mut wake = addr;
            if wake.ip().is_unspecified() {
                wake.set_ip(match addr {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            let _ = TcpStream::connect(wake);
            let _ = acceptor.join();
            // A connection's thread finishes the request it is on, then reads the end of input.
            let mut open = lock(&shared.open);
            for stream in open.values() {
                let _ = stream.shutdown(Shutdown::Read);
            }
            while !open.is_empty() {
                open = shared
                    .closed
                    .wait(open)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        });
        (handle, stop)
    }
}

/// How long a connection may stall, reading or writing, before it is closed.
const STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// Accepts connections, each served on a thread of its own, until `stopping`.
fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut number = 0u64;
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, say: give connections time to close.
            std::thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        let _ = stream.set_nodelay(true);
        // Each connection holds a thread: one that sends nothing for a while (idle keep-alive,
        // a stalled request) or does not take its reply is closed rather than kept forever.
        let _ = stream.set_read_timeout(Some(STALL));
        let _ = stream.set_write_timeout(Some(STALL));
        number += 1;
        let id = number;
        if let Ok(handle) = stream.try_clone() {
            lock(&shared.open).insert(id, handle);
        }
        let theirs = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("kontor-http".into())
            .spawn(move || {
                conn::serve(Conn::new(stream), &*theirs.handler, &|f| theirs.limited(f));
                lock(&theirs.open).remove(&id);
                theirs.closed.notify_all();
            });
        if spawned.is_err() {
            lock(&shared.open).remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Write};

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

    #[test]
    fn reads_chunked_bodies_answers_expect_and_refuses_malformed_requests() {
        let server = Server::bind("127.0.0.1:0", 1, Arc::new(echo)).unwrap();
        let addr = server.server_addr();
        let (handle, stop) = server.stoppable();
        let stream = std::net::TcpStream::connect(addr).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut w = &stream;
        write!(
            w,
            "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
             3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nTrailer: t\r\n\r\n"
        )
        .unwrap();
        let (status, _, body) = read_response(&mut reader);
        assert_eq!((status, body), (200, br#""POST /c  7""#.to_vec()));
        write!(
            w,
            "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
        )
        .unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
        reader.read_line(&mut line).unwrap();
        write!(w, "ok").unwrap();
        let (_, _, body) = read_response(&mut reader);
        assert_eq!(body, br#""POST /e  2""#);
        // Larger than the connection's buffer, with the next request right behind it.
        let big = "y".repeat(40_000);
        write!(
            w,
            "POST /b HTTP/1.1\r\nContent-Length: {}\r\n\r\n{big}GET /n HTTP/1.1\r\n\r\n",
            big.len()
        )
        .unwrap();
        assert_eq!(read_response(&mut reader).2, br#""POST /b  40000""#);
        assert_eq!(read_response(&mut reader).2, br#""GET /n  0""#);
        // Where a request with a broken line ends is unknown: 400, and the connection closes.
        write!(w, "GET /\x01 HTTP/1.1\r\n\r\n").unwrap();
        let (status, _, _) = read_response(&mut reader);
        assert_eq!(status, 400);
        assert_eq!(reader.read(&mut [0; 8]).unwrap(), 0);

        // HTTP/1.0 without keep-alive: one answer in 1.0, then the server closes.
        let stream = std::net::TcpStream::connect(addr).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        write!(&stream, "GET /old HTTP/1.0\r\n\r\n").unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.0 200"), "{line}");
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert!(rest.ends_with(br#""GET /old  0""#));
        stop.send(()).unwrap();
        handle.join().unwrap();
    }
}
