//! The `kontor` binary: init, tenant create, token create, and serve on a fresh database.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn kontor(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .args(args)
        .env_remove("KONTOR_DB")
        .output()
        .expect("run kontor");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn last_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// The token authenticates against the file, as the server would check it.
fn token_tenant(db: &std::path::Path, token: &str) -> String {
    let conn = kontor::db::open(db).unwrap();
    kontor::auth::authenticate(&conn, Some(&format!("Bearer {token}")))
        .expect("token works")
        .tenant_id
}

#[test]
fn init_tenant_and_token_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let db_arg = db.to_str().unwrap();

    let (ok, out, _) = kontor(&[
        "init",
        "--db",
        db_arg,
        "--tenant-name",
        "Acme",
        "--email",
        "a@acme.test",
    ]);
    assert!(ok);
    let first = token_tenant(&db, &last_line(&out));

    let (ok, _, err) = kontor(&["init", "--db", db_arg]);
    assert!(!ok, "init refuses a database that has a tenant");
    assert!(err.contains("already has a tenant"), "{err}");

    let (ok, out, _) = kontor(&[
        "tenant",
        "create",
        "--db",
        db_arg,
        "--name",
        "Beta",
        "--email",
        "b@beta.test",
    ]);
    assert!(ok);
    let second = token_tenant(&db, &last_line(&out));
    assert_ne!(first, second);

    let (ok, out, _) = kontor(&[
        "token",
        "create",
        "--db",
        db_arg,
        "--email",
        "a@acme.test",
        "--description",
        "ci",
    ]);
    assert!(ok);
    assert_eq!(token_tenant(&db, &last_line(&out)), first);

    let (ok, _, err) = kontor(&[
        "token",
        "create",
        "--db",
        db_arg,
        "--email",
        "nobody@acme.test",
    ]);
    assert!(!ok);
    assert!(err.contains("no active member"), "{err}");

    let (ok, _, err) = kontor(&[
        "token",
        "create",
        "--db",
        db_arg,
        "--email",
        "a@acme.test",
        "--expires-at",
        "2001-01-01T00:00:00Z",
    ]);
    assert!(!ok);
    assert!(err.contains("expires-at"), "{err}");
}

/// A `kontor serve` on `db` (extra arguments after the defaults), killed on drop.
struct Served {
    child: std::process::Child,
    /// The administrator token printed on a fresh database, if it was fresh.
    token: Option<String>,
    addr: String,
}

impl Served {
    fn start(db: &std::path::Path, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kontor"))
            .args(["serve", "--db", db.to_str().unwrap()])
            .args(["--bind", "127.0.0.1:0", "--quiet", "--no-scheduler"])
            .args(extra)
            .env_remove("KONTOR_DB")
            .env_remove("KONTOR_EXCLUSIVE")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kontor serve");
        let mut token = None;
        let mut addr = None;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if line.starts_with("kontor_") {
                token = Some(line.trim().to_string());
            }
            if let Some(a) = line.strip_prefix("kontor: listening on ") {
                addr = Some(a.trim().to_string());
                break;
            }
        }
        let Some(addr) = addr else {
            // Not left running when it never came up.
            let _ = child.kill();
            let _ = child.wait();
            panic!("kontor serve printed no address");
        };
        Served { child, token, addr }
    }

    fn status_with(&self, token: &str) -> u16 {
        match ureq::get(&format!("{}/user/api-tokens", self.addr))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
        {
            Ok(resp) => resp.status(),
            Err(ureq::Error::Status(status, _)) => status,
            Err(e) => panic!("request failed: {e}"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_bootstraps_a_fresh_database_and_prints_a_working_token() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(&dir.path().join("serve.db"), &[]);
    let token = served.token.clone().expect("token printed");
    assert_eq!(served.status_with(&token), 200);
}

/// A server shares its file (`db::Sharing`): a command in another process works beside it, and
/// the server accepts the token that command made at once. With `--exclusive` the server keeps
/// the file to itself while it serves: the same command fails with a message saying why and
/// changes nothing, and no other process can read the file either.
#[test]
fn a_server_shares_its_file_unless_told_to_keep_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("own.db");
    let db_arg = db.to_str().unwrap();
    let create = [
        "token",
        "create",
        "--db",
        db_arg,
        "--email",
        "admin@example.com",
    ];
    // The tokens in the file, as another process (this test) reads them, waiting at
    // most `wait_ms` for a lock.
    let count = |wait_ms: u64| {
        rusqlite::Connection::open(&db).and_then(|conn| {
            conn.busy_timeout(std::time::Duration::from_millis(wait_ms))?;
            conn.query_row("SELECT count(*) FROM api_tokens", [], |r| {
                r.get::<_, i64>(0)
            })
        })
    };

    let served = Served::start(&db, &[]);
    let (ok, out, err) = kontor(&create);
    assert!(ok, "{err}");
    assert_eq!(served.status_with(&last_line(&out)), 200);
    assert_eq!(
        count(5000).unwrap(),
        2,
        "the bootstrap token and the new one"
    );
    drop(served);

    let served = Served::start(&db, &["--exclusive"]);
    let (ok, out, err) = kontor(&create);
    assert!(!ok, "the file is the server's: {out}");
    assert!(err.contains("in use by another process"), "{err}");
    assert!(err.contains("--exclusive"), "{err}");
    // The server never lets go; waiting out five seconds would prove nothing more.
    let held = count(200);
    assert!(held.is_err(), "no other process reads it either: {held:?}");
    drop(served);
    assert_eq!(
        count(5000).unwrap(),
        2,
        "the refused command changed nothing"
    );
}

#[test]
fn bill_runs_every_tenant_for_a_date_and_can_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bill.db");
    let db_arg = db.to_str().unwrap();
    assert!(
        kontor(&[
            "init",
            "--db",
            db_arg,
            "--tenant-name",
            "Acme",
            "--email",
            "a@acme.test"
        ])
        .0
    );
    assert!(
        kontor(&[
            "tenant",
            "create",
            "--db",
            db_arg,
            "--name",
            "Beta",
            "--email",
            "b@beta.test"
        ])
        .0
    );
    for _ in 0..2 {
        let (ok, out, err) = kontor(&["bill", "--db", db_arg, "--date", "2026-03-01"]);
        assert!(ok, "{err}");
        let runs: Vec<&str> = out.lines().filter(|l| l.starts_with("run ")).collect();
        assert_eq!(runs.len(), 2, "one run per tenant: {out}");
        assert!(
            runs.iter()
                .all(|l| l.ends_with("on 2026-03-01: completed, 0 invoices")),
            "{out}"
        );
    }
    let (ok, _, err) = kontor(&["bill", "--db", db_arg, "--date", "2026-02-30"]);
    assert!(!ok, "an impossible date is refused by the argument parser");
    assert!(err.contains("2026-02-30"), "{err}");
}
