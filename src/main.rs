//! The `kontor` command line: serve the API, bootstrap tenants, and mint API tokens.

use clap::{Parser, Subcommand};
use kontor::config::Config;
use kontor::{app, bootstrap, db};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kontor",
    version,
    about = "Self-hosted subscription billing: one binary, one SQLite file"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the REST API (bootstraps a tenant and prints its token on a fresh database).
    Serve {
        #[arg(long, env = "KONTOR_DB", default_value = "kontor.db")]
        db: PathBuf,
        #[arg(long, env = "KONTOR_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// HTTP worker threads (the database pool is sized to match).
        #[arg(long, env = "KONTOR_THREADS", default_value_t = 32)]
        threads: usize,
        /// Do not log one line per request.
        #[arg(long, env = "KONTOR_QUIET")]
        quiet: bool,
        /// Do not start the daily billing run (e.g. when `kontor bill` runs from cron).
        #[arg(long, env = "KONTOR_NO_SCHEDULER")]
        no_scheduler: bool,
        /// Keep the database file to this process while serving: transactions take no file
        /// locks through the kernel, and no other process (`kontor bill`, `kontor token
        /// create`, `sqlite3`, a backup) can open the file until the server stops.
        #[arg(long, env = "KONTOR_EXCLUSIVE")]
        exclusive: bool,
    },
    /// Run billing for a date: every period due up to it, exactly once (safe to repeat).
    Bill {
        #[arg(long, env = "KONTOR_DB", default_value = "kontor.db")]
        db: PathBuf,
        /// Billing date, YYYY-MM-DD (default: today in each tenant's time zone).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Only this tenant (default: every tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// Compute and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Create the database with a first tenant and administrator; prints the token last.
    Init {
        #[arg(long, env = "KONTOR_DB", default_value = "kontor.db")]
        db: PathBuf,
        #[arg(long, default_value = "My Company")]
        tenant_name: String,
        #[arg(long, default_value = "admin@example.com")]
        email: String,
    },
    /// Tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create another tenant with its administrator; prints the administrator's token last.
    Create {
        #[arg(long, env = "KONTOR_DB", default_value = "kontor.db")]
        db: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "admin@example.com")]
        email: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an existing user; prints the token last.
    Create {
        #[arg(long, env = "KONTOR_DB", default_value = "kontor.db")]
        db: PathBuf,
        #[arg(long)]
        email: String,
        /// Tenant id; needed when the user belongs to several tenants.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// RFC 3339 date-time, e.g. 2027-01-01T00:00:00+00:00.
        #[arg(long)]
        expires_at: Option<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("kontor: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn open_migrated(path: &Path) -> Result<rusqlite::Connection, String> {
    let conn = db::open(path)?;
    db::migrate(&conn)?;
    Ok(conn)
}

fn run(command: Command) -> Result<(), String> {
    // Only a server asked to keeps its file to itself (see `db::Sharing`).
    db::set_sharing(match command {
        Command::Serve {
            exclusive: true, ..
        } => db::Sharing::Exclusive,
        _ => db::Sharing::Shared,
    })?;
    match command {
        Command::Serve {
            db: path,
            bind,
            threads,
            quiet,
            no_scheduler,
            exclusive: _,
        } => {
            let conn = open_migrated(&path)?;
            if !bootstrap::has_tenant(&conn)? {
                let (tenant, token) =
                    bootstrap::create_tenant(&conn, "My Company", "admin@example.com")?;
                println!(
                    "kontor: new database {} with tenant {tenant}",
                    path.display()
                );
                println!("kontor: administrator admin@example.com; API token (shown once, keep it safe):");
                println!("{token}");
            }
            drop(conn);
            let config = Config {
                db: path,
                bind,
                threads: threads.max(1),
                log_requests: !quiet,
                ..Config::default()
            };
            let app = app::App::open(config)?;
            if !no_scheduler {
                kontor::workers::scheduler::spawn(app.config.db.clone())
                    .map_err(|e| format!("cannot start the scheduler: {e}"))?;
            }
            let server = app::start(app)?;
            println!("kontor: listening on http://{}", server.server_addr());
            server.run();
            Ok(())
        }
        Command::Bill {
            db: path,
            date,
            tenant,
            dry_run,
        } => bill(&path, date, tenant, dry_run),
        Command::Init {
            db: path,
            tenant_name,
            email,
        } => {
            let conn = open_migrated(&path)?;
            if bootstrap::has_tenant(&conn)? {
                return Err(format!(
                    "{} already has a tenant; use `kontor tenant create` for another one",
                    path.display()
                ));
            }
            let (tenant, token) = bootstrap::create_tenant(&conn, &tenant_name, &email)?;
            println!("tenant: {tenant}");
            println!("administrator: {email}");
            println!("{token}");
            Ok(())
        }
        Command::Tenant {
            command:
                TenantCommand::Create {
                    db: path,
                    name,
                    email,
                },
        } => {
            let conn = open_migrated(&path)?;
            let (tenant, token) = bootstrap::create_tenant(&conn, &name, &email)?;
            println!("tenant: {tenant}");
            println!("administrator: {email}");
            println!("{token}");
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    db: path,
                    email,
                    tenant,
                    description,
                    expires_at,
                },
        } => {
            let conn = open_migrated(&path)?;
            let token = bootstrap::create_token(
                &conn,
                &email,
                tenant.as_deref(),
                description.as_deref(),
                expires_at.as_deref(),
            )?;
            println!("{token}");
            Ok(())
        }
    }
}

/// `kontor bill`: one billing run per tenant, with a progress bar per run on stderr.
fn bill(
    path: &Path,
    date: Option<chrono::NaiveDate>,
    tenant: Option<String>,
    dry_run: bool,
) -> Result<(), String> {
    let conn = open_migrated(path)?;
    let tenants: Vec<String> = match tenant {
        Some(t) => vec![t],
        None => conn
            .prepare("SELECT id FROM tenants ORDER BY created_at")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| e.to_string())?,
    };
    let mut failed = false;
    for tenant in tenants {
        let day = match date {
            Some(d) => d,
            None => kontor::domain::settings::today(&conn, &tenant).map_err(|e| e.to_string())?,
        };
        let bar = indicatif::ProgressBar::new(0).with_message(format!("tenant {tenant}, {day}"));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} customers")
                .map_err(|e| e.to_string())?
                .progress_chars("=> "),
        );
        let result = kontor::billing::run::run_billing_with_progress(
            path,
            &tenant,
            day,
            dry_run,
            &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
        );
        bar.finish();
        let run = result.map_err(|e| format!("billing run for tenant {tenant}: {e}"))?;
        let (status, invoices, error): (String, i64, Option<String>) = conn
            .query_row(
                "SELECT status, invoices_created, error FROM billing_runs WHERE id = ?1",
                [&run.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| e.to_string())?;
        println!(
            "run {} for tenant {tenant} on {day}: {status}, {invoices} invoices",
            run.id
        );
        if let Some(e) = error {
            eprintln!("kontor: {e}");
            failed = true;
        }
    }
    if failed {
        return Err("some customers could not be billed; see above".into());
    }
    Ok(())
}
