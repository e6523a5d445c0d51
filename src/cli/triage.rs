//! `importdesk failures`, `retry`, `skip` and `job preflight`: failed orders grouped by cause,
//! retried after a fix, skipped with a reason, exported for the customer; and the prediction
//! of failures before an import.

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{ArgGroup, Args};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::domain::cause::Cause;
use crate::domain::money::{format_count, format_dkk};
use crate::engine::preflight::{self, Cancel, PreflightProgress};
use crate::engine::triage::{self, Selection};
use crate::store::{FailureGroup, Store};

/// Rows shown per group in the plain listing (the JSON and CSV have every row).
const ROWS_PER_GROUP: usize = 20;

/// `println!` that ends the program quietly when standard output is closed (`| head`), where
/// `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

#[derive(Debug, Args)]
pub struct FailuresArgs {
    pub job: i64,
    /// Print the groups as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the failures as CSV for the customer to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Only this cause (`missing_product`, `missing_sku`, …).
    #[arg(long, value_name = "CODE")]
    pub cause: Option<String>,
    /// The failures the job's last preflight predicts, instead of the import's.
    #[arg(long)]
    pub predicted: bool,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["order", "cause"])))]
pub struct RetryArgs {
    pub job: i64,
    /// One failed order, by its reference (`#1001`) or shop id.
    #[arg(long, value_name = "REF")]
    pub order: Option<String>,
    /// Every failed order with this cause (`missing_product`).
    #[arg(long, value_name = "CODE")]
    pub cause: Option<String>,
}

#[derive(Debug, Args)]
pub struct SkipArgs {
    pub job: i64,
    #[arg(long, value_name = "REF")]
    pub order: String,
    /// Why it is skipped, kept with the order (`booked by hand`).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    pub job: i64,
    #[arg(long)]
    pub json: bool,
    /// Also write the predicted failures as CSV for the customer to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

#[derive(Serialize)]
struct FailuresJson {
    job: i64,
    groups: Vec<GroupJson>,
}

#[derive(Serialize)]
struct GroupJson {
    cause: String,
    label: &'static str,
    count: u64,
    orders: Vec<OrderJson>,
}

#[derive(Serialize)]
struct OrderJson {
    order: String,
    date: DateTime<Utc>,
    customer: Option<String>,
    detail: Option<String>,
    value: Option<String>,
    fix_hint: Option<String>,
    attempts: u32,
    last_attempt: Option<DateTime<Utc>>,
    vendor_response: Option<String>,
}

fn label(code: &str) -> &'static str {
    code.parse::<Cause>().map(Cause::label).unwrap_or("other")
}

fn parse_cause(code: &str) -> anyhow::Result<Cause> {
    code.parse::<Cause>().map_err(anyhow::Error::msg)
}

pub fn failures(db: &Path, config: &Config, args: FailuresArgs) -> anyhow::Result<()> {
    let store = Store::open(db)?;
    store.job(args.job)?;
    if args.predicted {
        return predicted(&store, config, args);
    }
    let cause = args.cause.as_deref().map(parse_cause).transpose()?;
    let mut groups = store.failure_groups(args.job)?;
    if let Some(c) = cause {
        groups.retain(|g| g.cause == c.as_str());
    }
    let tz = config.user_tz();
    if let Some(path) = &args.csv {
        let written = triage::export_csv(&store, args.job, cause.map(Cause::as_str), path, tz)?;
        let n: u64 = groups.iter().map(|g| g.count).sum();
        eprintln!("wrote {} failed orders to {}", format_count(n), written.display());
    }
    if args.json {
        let out = FailuresJson { job: args.job, groups: groups.into_iter().map(group_json).collect() };
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else if args.csv.is_none() {
        print_groups(args.job, &groups, tz);
    }
    Ok(())
}

/// `failures --predicted`: the last preflight's predictions, in the same shapes.
fn predicted(store: &Store, config: &Config, args: FailuresArgs) -> anyhow::Result<()> {
    let job = args.job;
    let Some(summary) = store.preflight_summary(job)? else {
        anyhow::bail!("job {job} has no preflight yet: importdesk job preflight {job}");
    };
    let cause = args.cause.as_deref().map(parse_cause).transpose()?;
    let mut groups = store.predicted_groups(job, "", usize::MAX)?;
    if let Some(c) = cause {
        groups.retain(|g| g.cause == c.as_str());
    }
    let tz = config.user_tz();
    if let Some(path) = &args.csv {
        let written = triage::export_predicted_csv(store, job, cause.map(Cause::as_str), path, tz)?;
        let n: u64 = groups.iter().map(|g| g.count).sum();
        eprintln!("wrote {} predicted failures to {}", format_count(n), written.display());
    }
    if args.json {
        let groups = groups
            .into_iter()
            .map(|g| GroupJson {
                label: label(&g.cause),
                cause: g.cause,
                count: g.count,
                orders: g
                    .orders
                    .into_iter()
                    .map(|p| OrderJson {
                        order: p.reference,
                        date: p.created_at,
                        customer: p.customer,
                        detail: Some(p.detail),
                        value: p.value,
                        fix_hint: Some(p.fix_hint),
                        attempts: 0,
                        last_attempt: None,
                        vendor_response: None,
                    })
                    .collect(),
            })
            .collect();
        say!("{}", serde_json::to_string_pretty(&FailuresJson { job, groups })?);
    } else if args.csv.is_none() {
        let when = summary.checked_at.with_timezone(&tz).format("%Y-%m-%d %H:%M");
        say!(
            "job {job}: {} of {} orders predicted to fail (preflight {when})",
            format_count(summary.predicted_total()),
            format_count(summary.orders_checked)
        );
        for g in &groups {
            say!();
            say!("{} · {} · {}", g.cause, label(&g.cause), format_count(g.count));
            for p in g.orders.iter().take(ROWS_PER_GROUP) {
                say!(
                    "  {:<10} {}  {:<24} {}",
                    p.reference,
                    p.created_at.with_timezone(&tz).format("%Y-%m-%d"),
                    truncate(p.customer.as_deref().unwrap_or("-"), 24),
                    p.detail
                );
            }
            if g.count > ROWS_PER_GROUP as u64 {
                say!("  … and {} more", format_count(g.count - ROWS_PER_GROUP as u64));
            }
            if let Some(line) = at_fault(g.orders.iter().map(|p| p.value.as_deref())) {
                say!("  {line}");
            }
            if let Some(p) = g.orders.first() {
                say!("  fix (e.g. {}): {}", p.reference, p.fix_hint);
            }
        }
    }
    Ok(())
}

fn group_json(g: FailureGroup) -> GroupJson {
    GroupJson {
        label: label(&g.cause),
        cause: g.cause,
        count: g.count,
        orders: g
            .orders
            .into_iter()
            .map(|f| OrderJson {
                order: f.order.reference,
                date: f.order.created_at,
                customer: f.customer,
                detail: f.order.detail,
                value: f.order.value,
                fix_hint: f.order.fix_hint,
                attempts: f.order.attempts,
                last_attempt: f.order.last_attempt_at,
                vendor_response: f.order.vendor_response,
            })
            .collect(),
    }
}

fn print_groups(job: i64, groups: &[FailureGroup], tz: Tz) {
    let total: u64 = groups.iter().map(|g| g.count).sum();
    if total == 0 {
        say!("job {job}: no failed orders");
        return;
    }
    say!("job {job}: {} failed orders", format_count(total));
    for g in groups {
        say!();
        say!("{} · {} · {}", g.cause, label(&g.cause), format_count(g.count));
        for f in g.orders.iter().take(ROWS_PER_GROUP) {
            say!(
                "  {:<10} {}  {:<24} {}",
                f.order.reference,
                f.order.created_at.with_timezone(&tz).format("%Y-%m-%d"),
                truncate(f.customer.as_deref().unwrap_or("-"), 24),
                f.order.detail.as_deref().unwrap_or("")
            );
        }
        if g.count > ROWS_PER_GROUP as u64 {
            say!(
                "  … and {} more (importdesk failures {job} --cause {} --csv FILE)",
                format_count(g.count - ROWS_PER_GROUP as u64),
                g.cause
            );
        }
        if let Some(line) = at_fault(g.orders.iter().map(|f| f.order.value.as_deref())) {
            say!("  {line}");
        }
        if let Some(f) = g.orders.first()
            && let Some(hint) = f.order.fix_hint.as_deref()
        {
            say!("  fix (e.g. {}): {hint}", f.order.reference);
        }
    }
    say!();
    say!("retry a group once it is fixed: importdesk retry {job} --cause CODE");
}

/// `at fault: KOP-GA-20 ×5, KND-OK-10 ×1` — what the customer must fix across a group, most
/// frequent first (the SKUs to create, the fields to fill in).
fn at_fault<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for v in values.flatten() {
        *counts.entry(v).or_default() += 1;
    }
    let mut by_count: Vec<(&str, u64)> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if by_count.is_empty() {
        return None;
    }
    let shown: Vec<String> = by_count.iter().take(12).map(|(v, n)| format!("{v} ×{n}")).collect();
    let more = by_count.len().saturating_sub(12);
    let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
    Some(format!("at fault: {}{tail}", shown.join(", ")))
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

pub async fn retry(db: &Path, config: &Config, args: RetryArgs) -> anyhow::Result<()> {
    let selection = match (args.order, args.cause) {
        (Some(order), _) => Selection::Order(order),
        (None, Some(cause)) => Selection::Cause(cause),
        (None, None) => anyhow::bail!("name what to retry: --order REF or --cause CODE"),
    };
    let s = triage::retry_orders(db, config, args.job, selection, crate::connect::http::client()).await?;
    for line in &s.not_refetched {
        eprintln!("not retried, the shop would not give it again: {line}");
    }
    let job = args.job;
    say!(
        "job {job}: {} retried · {} transferred · {} still failing",
        format_count(s.retried),
        format_count(s.transferred),
        format_count(s.still_failing)
    );
    if s.pending > 0 {
        say!("{} wait for the paused worker: importdesk job resume {job}", format_count(s.pending));
    }
    if s.still_failing > 0 {
        say!("see why: importdesk failures {job}");
    }
    Ok(())
}

pub fn skip(db: &Path, args: SkipArgs) -> anyhow::Result<()> {
    let mut store = Store::open(db)?;
    let row = triage::skip_order(&mut store, args.job, &args.order, &args.reason, Utc::now())?;
    say!("job {}: order {} skipped ({})", args.job, row.reference, row.skip_reason.unwrap_or_default());
    Ok(())
}

#[derive(Serialize)]
struct PreflightJson {
    job: i64,
    orders_read: u64,
    orders_checked: u64,
    orders_skipped: u64,
    checked_at: DateTime<Utc>,
    predicted_total: u64,
    predicted: Vec<PredictedJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chargeable: Option<preflight::Chargeable>,
}

#[derive(Serialize)]
struct PredictedJson {
    cause: String,
    label: &'static str,
    count: u64,
}

/// Progress on standard error: one rewritten line on a terminal, a line now and then otherwise.
struct ProgressLine {
    tty: bool,
    last: Option<Instant>,
}

impl ProgressLine {
    fn show(&mut self, p: &PreflightProgress) {
        let every = if self.tty { Duration::from_millis(100) } else { Duration::from_secs(5) };
        if self.last.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.last = Some(Instant::now());
        let of = p.total.map(|t| format!(" of {}", format_count(t))).unwrap_or_default();
        let text = format!(
            "preflight: {}{of} orders read, {} checked, {} predicted to fail",
            format_count(p.read),
            format_count(p.checked),
            format_count(p.predicted)
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.tty { write!(err, "\r{text}\x1b[K") } else { writeln!(err, "{text}") };
        let _ = err.flush();
    }

    fn done(&self) {
        if self.tty && self.last.is_some() {
            eprintln!();
        }
    }
}

pub async fn job_preflight(db: &Path, config: &Config, args: PreflightArgs) -> anyhow::Result<()> {
    let cancel = Cancel::new();
    let on_ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        })
    };
    let mut line = ProgressLine { tty: std::io::stderr().is_terminal(), last: None };
    let result =
        preflight::preflight(db, config, args.job, crate::connect::http::client(), &cancel, |p| line.show(p)).await;
    on_ctrl_c.abort();
    line.done();
    let summary = result?;
    let store = Store::open(db)?;
    let job = store.job(args.job)?;
    let chargeable = job.quote.as_ref().map(|q| preflight::chargeable_without_predicted(q, summary.predicted_total()));
    if let Some(path) = &args.csv {
        let written = triage::export_predicted_csv(&store, args.job, None, path, config.user_tz())
            .context("exporting the predicted failures")?;
        eprintln!("wrote {} predicted failures to {}", format_count(summary.predicted_total()), written.display());
    }
    if args.json {
        let out = PreflightJson {
            job: args.job,
            orders_read: summary.orders_read,
            orders_checked: summary.orders_checked,
            orders_skipped: summary.orders_skipped,
            checked_at: summary.checked_at,
            predicted_total: summary.predicted_total(),
            predicted: summary
                .predicted
                .iter()
                .map(|(cause, count)| PredictedJson { cause: cause.clone(), label: label(cause), count: *count })
                .collect(),
            chargeable,
        };
        say!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let job_id = args.job;
    say!(
        "job {job_id}: {} orders checked ({} skipped for their status), {} predicted to fail",
        format_count(summary.orders_checked),
        format_count(summary.orders_skipped),
        format_count(summary.predicted_total())
    );
    for group in store.predicted_groups(job_id, "", 1)? {
        say!("  {:<22} {:>8}  {}", group.cause, format_count(group.count), label(&group.cause));
        if let Some(first) = group.orders.first() {
            say!("  {:<22} {:>8}  e.g. {} {}; fix: {}", "", "", first.reference, first.detail, first.fix_hint);
        }
    }
    if let Some(c) = chargeable {
        say!(
            "chargeable without the predicted failures: {} orders, {} extra ({} excl. VAT)",
            format_count(c.orders),
            format_count(c.extra_orders),
            format_dkk(c.extra_orders_cost)
        );
    }
    if summary.predicted_total() > 0 {
        say!("list or export them for the customer: importdesk failures {job_id} --predicted [--csv FILE]");
    }
    Ok(())
}
