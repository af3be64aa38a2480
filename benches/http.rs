//! HTTP benchmark: authenticated `GET /customers/{id}` vs unauthenticated `GET /health` with 32
//! concurrent keep-alive connections (requests/s, their ratio, p50/p99), then sustained
//! `POST /customers`. Run with `cargo bench --bench http`; options after `--`: `--secs N` per phase,
//! `--writers N` concurrent creators (default 4), `--threads N` server threads (default 32),
//! `--writes-only` to run only the create phase, `--reads-only` to skip it, `--rounds N` (default
//! 4) slices per read phase, `--in-process` to time only the request pipeline (`App::handle` on
//! one thread, no sockets) for both reads.
//! The two read phases alternate in `--rounds` slices (health, customer, health, ...), so load
//! from other work on the machine falls on both alike and their ratio stays comparable.
//! Server and load generator share this process and the machine's cores, as in the targets.
//!
//! The load generator speaks HTTP/1.1 over raw keep-alive TCP with requests built in advance
//! (creates only fill in a number): a general HTTP client cost as much CPU per request as the
//! server's `/health`, on the same two cores, so it hid the server's own cost. It still reads
//! every response whole (status line, headers, the full body by `Content-Length` or chunks)
//! and counts only 2xx answers as done.

use kontor::app::{self, App};
use kontor::config::Config;
use serde_json::json;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 32;
/// Writers for the sustained-create phase (they queue on one write lock anyway).
const WRITERS: usize = 4;

/// What one slice of load measured.
struct Run {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: f64,
    server_cpu: Option<Duration>,
}

struct Figures {
    requests: usize,
    /// CPU time of the server's threads per request (process CPU minus the clients' own), a
    /// figure that holds up better than requests/s while other work shares the cores.
    server_cpu: Option<Duration>,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

/// One keep-alive connection.
struct Client {
    addr: SocketAddr,
    stream: TcpStream,
    buf: Vec<u8>,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Client {
    fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Client {
            addr,
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Reads more bytes into the buffer; an early end of stream is an error.
    fn fill(&mut self) -> io::Result<()> {
        let len = self.buf.len();
        self.buf.resize(len + 16 * 1024, 0);
        let n = self.stream.read(&mut self.buf[len..])?;
        self.buf.truncate(len + n);
        if n == 0 {
            return Err(bad("connection closed"));
        }
        Ok(())
    }

    /// Sends one request and reads its whole response; the status code.
    fn send(&mut self, request: &[u8]) -> io::Result<u16> {
        self.stream.write_all(request)?;
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill()?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("head"))?;
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("status line"))?;
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().map_err(|_| bad("length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
        let end = if chunked {
            self.chunked_end(head_end)?
        } else {
            let end = head_end + length.unwrap_or(0);
            while self.buf.len() < end {
                self.fill()?;
            }
            end
        };
        if (200..300).contains(&status) && status != 204 && end == head_end {
            return Err(bad("empty body"));
        }
        self.buf.drain(..end);
        Ok(status)
    }

    /// Where a chunked body starting at `at` ends (after its last chunk and trailer).
    fn chunked_end(&mut self, mut at: usize) -> io::Result<usize> {
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf[at..], b"\r\n") {
                    break at + i;
                }
                self.fill()?;
            };
            let size_text =
                std::str::from_utf8(&self.buf[at..line_end]).map_err(|_| bad("chunk"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("chunk size"))?;
            at = line_end + 2;
            if size == 0 {
                // No trailers are sent: the final CRLF follows.
                while self.buf.len() < at + 2 {
                    self.fill()?;
                }
                return Ok(at + 2);
            }
            while self.buf.len() < at + size + 2 {
                self.fill()?;
            }
            at += size + 2;
        }
    }

    /// True for a complete 2xx answer; after a transport error the connection is replaced.
    fn ok(&mut self, request: &[u8]) -> bool {
        match self.send(request) {
            Ok(status) => (200..300).contains(&status),
            Err(_) => {
                if let Ok(fresh) = Client::connect(self.addr) {
                    *self = fresh;
                }
                false
            }
        }
    }
}

/// Builds a request from a running number into a reused buffer.
type Make = Arc<dyn Fn(u64, &mut Vec<u8>) + Send + Sync>;

/// Runs `connections` clients for `secs`; each sends requests built by `make` in a loop.
fn load(addr: SocketAddr, connections: usize, secs: f64, make: &Make) -> Run {
    let barrier = Arc::new(Barrier::new(connections + 1));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Duration::from_secs_f64(secs);
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let (make, barrier, counter) = (make.clone(), barrier.clone(), counter.clone());
            std::thread::Builder::new()
                .name("bench-client".into())
                .spawn(move || {
                    let mut client = Client::connect(addr).expect("connect");
                    let mut request = Vec::with_capacity(1024);
                    let mut latencies = Vec::with_capacity(200_000);
                    let mut errors = 0;
                    barrier.wait();
                    let cpu_before = thread_cpu();
                    let start = Instant::now();
                    while start.elapsed() < deadline {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        request.clear();
                        make(n, &mut request);
                        let t = Instant::now();
                        if !client.ok(&request) {
                            errors += 1;
                        }
                        latencies.push(t.elapsed());
                    }
                    let cpu = thread_cpu().zip(cpu_before).map(|(a, b)| a - b);
                    (latencies, errors, cpu)
                })
                .expect("client thread")
        })
        .collect();
    let process_before = process_cpu();
    barrier.wait();
    let start = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    let mut client_cpu = Some(Duration::ZERO);
    for h in handles {
        let (l, e, cpu) = h.join().expect("client thread");
        all.extend(l);
        errors += e;
        client_cpu = client_cpu.zip(cpu).map(|(a, b)| a + b);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = process_cpu()
        .zip(process_before)
        .zip(client_cpu)
        .map(|((after, before), clients)| (after - before).saturating_sub(clients));
    Run {
        latencies: all,
        errors,
        elapsed,
        server_cpu,
    }
}

impl Run {
    /// Answered requests per second of this slice.
    fn per_sec(&self) -> f64 {
        (self.latencies.len() - self.errors) as f64 / self.elapsed
    }
}

/// The middle of sorted `values` (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The figures of one phase over all its slices.
fn figures(runs: Vec<Run>) -> Figures {
    let elapsed: f64 = runs.iter().map(|r| r.elapsed).sum();
    let errors = runs.iter().map(|r| r.errors).sum();
    let server_cpu = runs.iter().map(|r| r.server_cpu).sum::<Option<Duration>>();
    let mut all: Vec<Duration> = runs.into_iter().flat_map(|r| r.latencies).collect();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        requests: all.len(),
        server_cpu: server_cpu.map(|cpu| cpu / all.len().max(1) as u32),
        per_sec: (all.len() - errors) as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
    }
}

/// CPU time of the whole process (all threads, ended ones included), from `/proc/self/stat`.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized name: utime and stime are the 12th and 13th, in ticks.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux configuration in use.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time of this process's threads named `name`, from their `schedstat`.
fn named_threads_cpu(name: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            total += Duration::from_nanos(stat.split_whitespace().next()?.parse().ok()?);
        }
    }
    Some(total)
}

/// CPU time of the calling thread, in nanoseconds from `/proc/thread-self/schedstat`.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        stat.split_whitespace().next()?.parse().ok()?,
    ))
}

fn report(name: &str, f: &Figures) {
    let cpu = f
        .server_cpu
        .map(|c| format!("  server CPU {:>5.1} us/req", c.as_secs_f64() * 1e6))
        .unwrap_or_default();
    println!(
        "{name:<32} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms{cpu}  ({} requests, {} errors)",
        f.per_sec,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.requests,
        f.errors
    );
}

fn arg(args: &[String], name: &str) -> Option<f64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

/// The pipeline alone, warm, on this thread: what a request costs before the kernel, the
/// scheduler and the other connections' threads add theirs.
fn in_process(app: &App, customer: &str, auth: &str) {
    use kontor::http::server::TestRequest;
    const REQUESTS: u32 = 200_000;
    for (name, path, headers) in [
        ("GET /health (no auth)", "/health", vec![]),
        (
            "GET /customers/{id} (auth)",
            customer,
            vec![("Authorization", auth)],
        ),
    ] {
        let cpu = thread_cpu();
        let started = Instant::now();
        for _ in 0..REQUESTS {
            let reply = app.handle(&mut TestRequest::new("GET", path, &headers, b""));
            assert_eq!(reply.status, 200, "{name}");
        }
        let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(REQUESTS);
        let cpu = thread_cpu()
            .zip(cpu)
            .map(|(after, before)| per(after - before));
        println!(
            "{name:<32} in process {:>6.2} us/request ({} us CPU)",
            per(started.elapsed()),
            cpu.map_or("?".into(), |c| format!("{c:.2}"))
        );
    }
}

/// A GET with the headers a client sends.
fn get(path: &str, auth: Option<&str>) -> Vec<u8> {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}Accept: application/json\r\n\r\n")
        .into_bytes()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs = arg(&args, "--secs").unwrap_or(5.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("bench.db");
    let conn = kontor::db::open(&db).expect("open");
    kontor::db::migrate(&conn).expect("schema");
    let (_, token) =
        kontor::bootstrap::create_tenant(&conn, "Bench", "bench@example.com").expect("tenant");
    drop(conn);
    let config = Config {
        db,
        bind: "127.0.0.1:0".into(),
        threads: arg(&args, "--threads").map_or(CONNECTIONS, |t| t as usize),
        log_requests: false,
        ..Config::default()
    };
    let app = App::open(config).expect("app");
    let server = app::start(app.clone()).expect("server");
    let addr = server.server_addr();
    let base = format!("http://{addr}");
    let (_handle, _stop) = server.stoppable();
    let auth = format!("Bearer {token}");

    let created = ureq::post(&format!("{base}/customers"))
        .set("Authorization", &auth)
        .send_json(json!({"email": "first@example.com", "firstName": "Erika", "lastName": "Muster",
                          "street": "Hauptstr.", "houseNumber": "1", "zip": "10115", "city": "Berlin"}))
        .expect("create customer")
        .into_json::<serde_json::Value>()
        .expect("json");
    let id = created["id"].as_str().expect("customer id").to_string();
    if args.iter().any(|a| a == "--in-process") {
        in_process(&app, &format!("/customers/{id}"), &auth);
        return;
    }

    println!(
        "kontor HTTP benchmark: {CONNECTIONS} connections, {secs} s per phase, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let only_writes = args.iter().any(|a| a == "--writes-only");
    if !only_writes {
        let health_request = get("/health", None);
        let health: Make = Arc::new(move |_, r| r.extend_from_slice(&health_request));
        let customer_request = get(&format!("/customers/{id}"), Some(&auth));
        let customer: Make = Arc::new(move |_, r| r.extend_from_slice(&customer_request));
        let rounds = arg(&args, "--rounds").map_or(4, |r| (r as usize).max(1));
        let slice = secs / rounds as f64;
        let (mut health_runs, mut customer_runs) = (Vec::new(), Vec::new());
        let mut slice_ratios = Vec::new();
        for _ in 0..rounds {
            let health = load(addr, CONNECTIONS, slice, &health);
            let customer = load(addr, CONNECTIONS, slice, &customer);
            slice_ratios.push(customer.per_sec() / health.per_sec());
            health_runs.push(health);
            customer_runs.push(customer);
        }
        let (health, customer) = (figures(health_runs), figures(customer_runs));
        report("GET /health (no auth)", &health);
        report("GET /customers/{id} (auth)", &customer);
        println!(
            "ratio customer/health            {:>9.2}  (target >= 0.6)",
            customer.per_sec / health.per_sec
        );
        // Each pair of slices ran back to back: how far they spread shows how much of the
        // ratio is the machine's other load rather than kontor.
        slice_ratios.sort_by(f64::total_cmp);
        let listed: Vec<String> = slice_ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "  per pair of slices             {}  (median {:.2})",
            listed.join(" "),
            median(&slice_ratios)
        );
    }
    if args.iter().any(|a| a == "--reads-only") {
        return;
    }
    let writers = arg(&args, "--writers").unwrap_or(WRITERS as f64) as usize;
    let create: Make = Arc::new(move |n, r| {
        let body = format!(
            r#"{{"email":"c{n}@example.com","firstName":"Max","lastName":"Mustermann","street":"Hauptstr.","houseNumber":"1","zip":"10115","city":"Berlin"}}"#
        );
        let _ = write!(
            r,
            "POST /customers HTTP/1.1\r\nHost: bench\r\nAuthorization: {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    });
    let writer_before = named_threads_cpu("kontor-writer");
    let checkpoints_before = named_threads_cpu("kontor-checkpoi");
    let creates = figures(vec![load(addr, writers, secs, &create)]);
    let per_create = |after: Option<Duration>, before: Option<Duration>| {
        after
            .zip(before)
            .map(|(after, before)| (after - before) / creates.requests.max(1) as u32)
    };
    let writer = per_create(named_threads_cpu("kontor-writer"), writer_before);
    let checkpoints = per_create(named_threads_cpu("kontor-checkpoi"), checkpoints_before);
    report(&format!("POST /customers ({writers} writers)"), &creates);
    if let Some(writer) = writer {
        // The writer thread runs every write in turn: its time per create bounds the rate.
        println!(
            "  of which on the writer thread  {:>5.1} us/create (one thread: at most {:.0}/s)",
            writer.as_secs_f64() * 1e6,
            1.0 / writer.as_secs_f64().max(1e-9)
        );
    }
    if let Some(checkpoints) = checkpoints {
        println!(
            "  and on the checkpointer        {:>5.1} us/create",
            checkpoints.as_secs_f64() * 1e6
        );
    }
    println!("p99 target <= 10 ms; creates target >= 10000/s");
    let size = |file: &str| std::fs::metadata(dir.path().join(file)).map_or(0, |m| m.len());
    println!(
        "database {:.0} MB, WAL {:.1} MB at the end",
        size("bench.db") as f64 / 1e6,
        size("bench.db-wal") as f64 / 1e6
    );
}
