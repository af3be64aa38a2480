//! Typed settings of one kontor process (from CLI flags and `KONTOR_*` environment variables).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite file.
    pub db: PathBuf,
    /// `host:port` to listen on.
    pub bind: String,
    /// HTTP worker threads; the connection pool is sized to match.
    pub threads: usize,
    /// Largest accepted request body in bytes (413 above).
    pub body_limit: usize,
    /// Log one line per request to stderr.
    pub log_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: PathBuf::from("kontor.db"),
            bind: "127.0.0.1:8080".into(),
            threads: 32,
            body_limit: 1024 * 1024,
            log_requests: true,
        }
    }
}
