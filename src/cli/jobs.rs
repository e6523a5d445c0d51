//! `importdesk job …`, `run`, `import-order`: the import job from the command line.

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::domain::calendar::{DateRange, parse_date};
use crate::domain::job::{JobState, JobStep, next_state};
use crate::domain::money::{format_count, format_dkk};
use crate::engine::{jobs, worker};
use crate::store::{JobCommand, Store};

#[derive(Debug, Subcommand)]
pub enum JobCmd {
    /// Count and price a range and record the job (state: quoted). Prints the job's id.
    Create {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value_t = 1)]
        half_hours: u32,
    },
    /// Record the customer's written acceptance of the offer.
    Accept {
        job: i64,
        #[arg(long)]
        by: String,
        /// Where the acceptance is (e-mail subject, ticket number…).
        #[arg(long)]
        reference: String,
    },
    /// Make the test transfer (one order), or name an existing transfer as the reference.
    Test {
        job: i64,
        #[arg(long)]
        order: Option<String>,
    },
    /// Predict the import's failures by cause: read every order of the range and check it,
    /// read-only, against the integration's settings and the accounting system.
    Preflight(super::triage::PreflightArgs),
    /// Record the customer's approval of the test transfer.
    Approve {
        job: i64,
        #[arg(long)]
        by: String,
    },
    /// Start the import in a detached worker that outlives this terminal.
    Start { job: i64 },
    /// The job's state and its orders per state.
    Status {
        job: i64,
        #[arg(long)]
        json: bool,
    },
    /// The jobs, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Pause the import: the worker finishes the orders in flight and starts no new ones.
    Pause { job: i64 },
    /// Resume a paused import.
    Resume { job: i64 },
    /// Cancel the import: pending orders are not sent; transferred ones stay booked.
    Cancel { job: i64 },
    /// Bill a finished job: quoted against actual orders, extra orders and half hours.
    Bill {
        job: i64,
        /// Technician half hours actually spent (default: as quoted).
        #[arg(long)]
        half_hours: Option<u32>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    pub job: i64,
    /// Log to this file instead of standard error.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportOrderArgs {
    #[arg(long)]
    pub customer: String,
    /// The shop's order reference (`727`, `#1001`) or id.
    #[arg(long)]
    pub order: String,
}

pub async fn job(db: &Path, config: &Config, config_path: Option<&Path>, cmd: JobCmd) -> anyhow::Result<()> {
    let now = Utc::now();
    let client = crate::connect::http::client();
    match cmd {
        JobCmd::Create { customer, from, to, half_hours } => {
            let store = Store::open(db)?;
            let found = store.find_customer(&customer)?;
            let range = DateRange::new(parse_date(&from).context("--from")?, parse_date(&to).context("--to")?)?;
            let (id, quote) =
                jobs::create_job(&store, config, found.customer.id, range, half_hours, now, client).await?;
            eprintln!(
                "job {id} for {}: {} orders to import, {} incl. VAT; next: importdesk job accept {id} --by NAME --reference TEXT",
                found.customer.name,
                format_count(quote.orders_to_import),
                format_dkk(quote.total_incl_vat)
            );
            println!("{id}");
        }
        JobCmd::Accept { job, by, reference } => {
            let mut store = Store::open(db)?;
            require_text("--by", &by)?;
            require_text("--reference", &reference)?;
            jobs::accept(&mut store, job, by.trim(), reference.trim(), now)?;
            println!("job {job}: offer accepted by {by}; next: importdesk job test {job} [--order REF]");
        }
        JobCmd::Test { job, order } => {
            let t = worker::test_transfer(db, config, job, order.as_deref(), client).await?;
            if t.existing {
                println!(
                    "job {job}: existing transfer of order {} (invoice {}) taken as the test reference",
                    t.order,
                    t.invoice.as_deref().unwrap_or("?")
                );
            } else if let Some(invoice) = t.invoice.as_deref().filter(|_| t.state.as_str() == "transferred") {
                println!(
                    "job {job}: test order {} → invoice {invoice} ({} lines, {}). Ask the customer to review it, then: importdesk job approve {job} --by NAME",
                    t.order,
                    t.lines,
                    t.total.map(format_dkk).unwrap_or_default()
                );
            } else {
                bail!(
                    "the test transfer of order {} did not go through ({}): {}",
                    t.order,
                    t.state,
                    t.detail.unwrap_or_default()
                );
            }
        }
        JobCmd::Preflight(args) => super::triage::job_preflight(db, config, args).await?,
        JobCmd::Approve { job, by } => {
            let mut store = Store::open(db)?;
            require_text("--by", &by)?;
            jobs::approve(&mut store, job, by.trim(), now)?;
            println!("job {job}: approved by {by}; next: importdesk job start {job}");
        }
        JobCmd::Start { job } => {
            let mut store = Store::open(db)?;
            let j = store.job(job)?;
            let live = j.lease_until.is_some_and(|u| u > now);
            match j.state {
                JobState::Approved => {
                    store.job_step(job, JobStep::Start, &[])?;
                }
                JobState::Running | JobState::Paused if live => {
                    bail!(
                        "job {job} already has a worker ({}); watch it with importdesk job status {job}",
                        j.lease_owner.unwrap_or_default()
                    )
                }
                JobState::Running | JobState::Paused => {}
                other => {
                    next_state(job, other, JobStep::Start).map_err(crate::store::StoreError::Step)?;
                }
            }
            let (pid, log) = worker::spawn_detached(db, job, config_path).context("starting the worker")?;
            println!("job {job}: worker started (pid {pid}), log {}", log.display());
        }
        JobCmd::Status { job, json } => {
            let store = Store::open(db)?;
            let s = jobs::status(&store, job)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("job {} · {} · {}", s.id, s.customer, s.state);
                if let Some(r) = s.range {
                    println!("range {} – {}, quoted {} orders", r.from, r.to, format_count(s.quoted_orders));
                }
                let line: Vec<String> = s.orders.iter().map(|(k, v)| format!("{k} {}", format_count(*v))).collect();
                println!("{}", line.join(" · "));
                if let Some(owner) = s.lease_owner {
                    println!("worker: {owner}");
                }
            }
        }
        JobCmd::List { json } => {
            let store = Store::open(db)?;
            let list = store.list_jobs(None)?;
            if json {
                let rows: Vec<_> = list.iter().map(|j| serde_json::json!({"id": j.id, "customer_id": j.customer_id, "state": j.state, "range": j.range, "quoted_orders": j.quoted_orders})).collect();
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "jobs": rows }))?);
            } else {
                for j in list {
                    let range =
                        j.range.map(|r| format!("{} – {}", r.from, r.to)).unwrap_or_else(|| "single orders".into());
                    println!("{:>4}  customer {:>4}  {:<18} {range}", j.id, j.customer_id, j.state.label());
                }
            }
        }
        JobCmd::Pause { job } => command(db, job, JobCommand::Pause, JobStep::Pause)?,
        JobCmd::Resume { job } => command(db, job, JobCommand::Resume, JobStep::Resume)?,
        JobCmd::Cancel { job } => command(db, job, JobCommand::Cancel, JobStep::Cancel)?,
        JobCmd::Bill { job, half_hours, json } => {
            let mut store = Store::open(db)?;
            let s = jobs::bill(&mut store, config, job, half_hours, now)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("quoted orders        {:>10}", format_count(s.quoted_orders));
                println!("actual orders        {:>10}", format_count(s.actual_orders));
                if let Some(d) = s.deviation_share {
                    let flag = if s.deviation_flagged {
                        "  ! more than the agreed deviation: an extra order fee may be added"
                    } else {
                        ""
                    };
                    println!("deviation            {:>9}%{flag}", (d * rust_decimal::Decimal::from(100)).round_dp(1));
                }
                println!(
                    "extra orders         {:>10}  × {} = {}",
                    format_count(s.extra_orders),
                    format_dkk(s.extra_order_price),
                    format_dkk(s.extra_orders_cost)
                );
                println!(
                    "technician           {:>10}  {}",
                    format!("{} × ½ h", s.technician_half_hours),
                    format_dkk(s.technician_fee)
                );
                println!("subtotal excl. VAT   {:>22}", format_dkk(s.subtotal_excl_vat));
                println!("VAT                  {:>22}", format_dkk(s.vat));
                println!("total incl. VAT      {:>22}", format_dkk(s.total_incl_vat));
            }
        }
    }
    Ok(())
}

fn require_text(flag: &str, value: &str) -> anyhow::Result<()> {
    if value.trim().is_empty() {
        bail!("{flag} is empty");
    }
    Ok(())
}

/// Writes a command for the job's worker; refused at once if the step is not possible now.
fn command(db: &Path, job: i64, command: JobCommand, step: JobStep) -> anyhow::Result<()> {
    let mut store = Store::open(db)?;
    let j = store.job(job)?;
    next_state(job, j.state, step).map_err(crate::store::StoreError::Step)?;
    let live = j.lease_until.is_some_and(|u| u > Utc::now());
    if live {
        store.send_command(job, command, Utc::now())?;
        println!("job {job}: {} sent to the worker ({})", step_word(step), j.lease_owner.unwrap_or_default());
    } else {
        // No worker: apply it directly.
        store.job_step(job, step, &[])?;
        if step == JobStep::Cancel {
            store.cancel_pending(job)?;
        }
        println!("job {job}: {}", step_word(step));
    }
    Ok(())
}

fn step_word(step: JobStep) -> &'static str {
    match step {
        JobStep::Pause => "pause",
        JobStep::Resume => "resume",
        JobStep::Cancel => "cancel",
        _ => "step",
    }
}

pub async fn run(db: &Path, config: &Config, args: RunArgs) -> anyhow::Result<()> {
    let _guard = crate::logging::init(args.log.as_deref());
    let end =
        worker::run_job(db, config, args.job, worker::WorkerOptions::default(), crate::connect::http::client()).await?;
    let store = Store::open(db)?;
    let s = jobs::status(&store, args.job)?;
    let line: Vec<String> = s.orders.iter().filter(|(_, v)| **v > 0).map(|(k, v)| format!("{k} {v}")).collect();
    println!("job {}: {:?} · {}", args.job, end, line.join(" · "));
    Ok(())
}

pub async fn import_order(db: &Path, config: &Config, args: ImportOrderArgs) -> anyhow::Result<()> {
    let store = Store::open(db)?;
    let found = store.find_customer(&args.customer)?;
    drop(store);
    let (job, row) =
        worker::import_single(db, config, found.customer.id, &args.order, crate::connect::http::client()).await?;
    match row.state.as_str() {
        "transferred" => println!("order {} → invoice {} (job {job})", row.reference, row.invoice.unwrap_or_default()),
        state => bail!(
            "order {} was not transferred ({state}, {}): {}{}",
            row.reference,
            row.cause.unwrap_or_default(),
            row.detail.unwrap_or_default(),
            row.fix_hint.map(|h| format!(" — {h}")).unwrap_or_default()
        ),
    }
    Ok(())
}
