//! Test harness: a real kontor server on a free port over a fresh temp database, and a client.
#![allow(dead_code)]

use kontor::app::{self, App};
use kontor::config::Config;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Duration;

pub struct Server {
    pub base: String,
    /// The administrator token of the first tenant.
    pub token: String,
    pub tenant_id: String,
    pub db_path: PathBuf,
    agent: ureq::Agent,
    stop: Option<Sender<()>>,
    _dir: tempfile::TempDir,
}

/// One HTTP answer: status, headers we care about, and the body parsed as JSON when it is.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `propertyPath`s of a 422 answer.
    pub fn violation_paths(&self) -> Vec<String> {
        self.body["violations"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|x| x["propertyPath"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("kontor.db");
        let conn = kontor::db::open(&db_path).expect("open");
        kontor::db::migrate(&conn).expect("schema");
        let (tenant_id, token) =
            kontor::bootstrap::create_tenant(&conn, "Acme GmbH", "admin@acme.test")
                .expect("tenant");
        drop(conn);
        let config = Config {
            db: db_path.clone(),
            bind: "127.0.0.1:0".into(),
            threads: 8,
            log_requests: false,
            ..Config::default()
        };
        let app = App::open(config).expect("app");
        let server = app::start(app).expect("server");
        let base = format!("http://{}", server.server_addr());
        let (_handle, stop) = server.stoppable();
        Server {
            base,
            token,
            tenant_id,
            db_path,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// Another tenant with its own administrator; returns (tenant id, token).
    pub fn new_tenant(&self, name: &str, email: &str) -> (String, String) {
        let conn = kontor::db::open(&self.db_path).expect("open");
        kontor::bootstrap::create_tenant(&conn, name, email).expect("tenant")
    }

    /// A direct connection to the database, for checks that the API cannot make.
    pub fn db(&self) -> rusqlite::Connection {
        kontor::db::open(&self.db_path).expect("open")
    }

    /// Sends a request with the given token (None: no Authorization header).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => {
                let has_ct = headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
                if !has_ct {
                    req = req.set("Content-Type", "application/json");
                }
                req.send_string(&b.to_string())
            }
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: transport error {e}"),
        };
        Self::read(resp)
    }

    /// Sends raw bytes with an explicit content type.
    pub fn send_raw(&self, method: &str, path: &str, content_type: &str, bytes: &[u8]) -> Resp {
        let req = self
            .agent
            .request(method, &format!("{}{}", self.base, path))
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("Content-Type", content_type);
        let resp = match req.send_bytes(bytes) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: transport error {e}"),
        };
        Self::read(resp)
    }

    fn read(resp: ureq::Response) -> Resp {
        let status = resp.status();
        let content_type = resp.header("Content-Type").unwrap_or("").to_string();
        let headers = resp
            .headers_names()
            .into_iter()
            .map(|n| {
                let v = resp.header(&n).unwrap_or("").to_string();
                (n, v)
            })
            .collect();
        let text = resp.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            content_type,
            headers,
            text,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, Some(&self.token), None, &[])
    }
    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, Some(&self.token), Some(body), &[])
    }
    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.send("PUT", path, Some(&self.token), Some(body), &[])
    }
    pub fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send("PATCH", path, Some(&self.token), Some(body), &[])
    }
    pub fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, Some(&self.token), None, &[])
    }
    /// An empty-bodied action (`PUT /x/{id}/archive`, `POST .../default`).
    pub fn act(&self, method: &str, path: &str) -> Resp {
        self.send(method, path, Some(&self.token), None, &[])
    }

    /// Same requests with another token.
    pub fn get_as(&self, token: &str, path: &str) -> Resp {
        self.send("GET", path, Some(token), None, &[])
    }
    pub fn send_as(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> Resp {
        self.send(method, path, Some(token), body, &[])
    }

    /// A token for a new member of the first tenant with the given role id.
    pub fn token_with_role(&self, role: &str) -> String {
        let conn = self.db();
        let email = format!("{role}-{}@acme.test", uuid_like());
        conn.execute(
            "INSERT INTO users (id, email, created_at) VALUES (?1, ?2, '2026-01-01T00:00:00+00:00')",
            [&email, &email],
        )
        .expect("user");
        conn.execute(
            "INSERT INTO accounts (id, tenant_id, user_id, role_id, created_at)
             VALUES (?1, ?2, ?3, ?4, '2026-01-01T00:00:00+00:00')",
            [
                &format!("acc-{email}"),
                &self.tenant_id,
                &email,
                &role.to_string(),
            ],
        )
        .expect("account");
        kontor::bootstrap::create_token(&conn, &email, Some(&self.tenant_id), None, None)
            .expect("token")
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts a problem+json error with the given status.
#[track_caller]
pub fn assert_problem(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "content type {}",
        r.content_type
    );
    assert_eq!(r.body["status"], status);
    assert!(
        r.body["title"].is_string() && r.body["detail"].is_string() && r.body["type"].is_string()
    );
}
