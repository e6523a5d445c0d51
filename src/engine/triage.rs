//! Triage of failed orders after the customer fixed the cause: retry one order or a cause's
//! whole group, skip an order with a reason, export failures (actual or predicted) to CSV.
//!
//! Interface (for the TUI and the CLI):
//! - [`retry_orders`]`(db_path, config, job, Selection::Order(ref) | Selection::Cause(code),
//!   client) -> RetrySummary { retried, transferred, still_failing, pending, not_refetched }`.
//!   Returns once every retried order has settled. The future is `Send` (spawn it).
//! - [`skip_order`]`(store, job, ref, reason, now) -> JobOrder`: failed → skipped, reason kept.
//! - [`export_csv`] / [`export_predicted_csv`]`(store, job, Option<cause>, path, tz) -> PathBuf`.
//!
//! How a retry works, and why:
//! - Each order is fetched again from the shop and its kept JSON replaced, so a fix in the shop
//!   (a SKU, a name) is seen; the integration's settings are read now, not at the job's start.
//! - The orders move failed → pending through the store's guarded transition and are sent by
//!   the worker's own `process` (sending committed before the POST, reconcile by reference),
//!   so a retry can never book an order twice.
//! - If the job's worker holds a live lease, the retry bumps the job's retry epoch (the worker
//!   forgets its cached products and customers on its next poll) and makes the orders due a
//!   few polls later, then waits for them to settle. A paused worker is not woken: the retry
//!   is refused before anything moves.
//! - Otherwise the retry takes the job's lease itself and processes only the retried orders,
//!   without touching the job's lifecycle state: a retry after `finished` or `billed` leaves
//!   the job as it is (a newly transferred order is counted in this month's usage).
//! - Attempts keep counting across retries (the inspector shows them); so that an order that
//!   failed after its transient attempts gets a fair new chance, the inline run allows the
//!   usual attempts on top of the most any retried order has used.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;

use super::worker::{Shared, WorkerError, WorkerOptions, lease_owner};
use crate::config::Config;
use crate::connect::sink::{Sink, sink_for};
use crate::connect::{ConnectError, Source, source_for};
use crate::domain::cause::Cause;
use crate::domain::job::{JobState, OrderState};
use crate::store::{JobId, JobOrder, Level, Outcome, Store, StoreError};

/// Which failed orders to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One order, by the reference the customer sees (`#1001`) or the shop id.
    Order(String),
    /// Every failed order with this cause code (`missing_product`).
    Cause(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetrySummary {
    /// Orders moved back to pending and sent again.
    pub retried: u64,
    pub transferred: u64,
    /// Failed again (with the cause found this time), or could not be fetched again.
    pub still_failing: u64,
    /// Not settled when the retry returned: the job's worker was paused meanwhile.
    pub pending: u64,
    /// Orders the shop would not give again (`#1001: …`): left failed, not retried.
    pub not_refetched: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TriageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Worker(#[from] WorkerError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{0}")]
    UnknownCause(String),
    #[error("job {job} has no order '{order}': see importdesk failures {job}")]
    NoSuchOrder { job: JobId, order: String },
    #[error("order {order} of job {job} is {state}, not failed: only failed orders can be {what}")]
    NotFailed { job: JobId, order: String, state: OrderState, what: &'static str },
    #[error("job {job} has no failed orders with cause {cause}{others}")]
    NothingToRetry { job: JobId, cause: String, others: String },
    #[error("job {job} was cancelled: its orders are not sent any more; create a new job")]
    JobCancelled { job: JobId },
    #[error("job {job} is paused and its worker ({owner}) waits for resume: importdesk job resume {job}, then retry")]
    WorkerPaused { job: JobId, owner: String },
    #[error("a skip needs a reason the customer can read later (--reason TEXT)")]
    NoReason,
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the store lock was poisoned by a crashed task")]
    Poisoned,
}

type Result<T> = std::result::Result<T, TriageError>;

/// Retries the selected failed orders and waits until they have settled.
pub async fn retry_orders(
    db_path: &Path,
    config: &Config,
    job: JobId,
    selection: Selection,
    client: reqwest::Client,
) -> Result<RetrySummary> {
    retry_orders_with(db_path, config, job, selection, WorkerOptions::default(), client).await
}

/// [`retry_orders`] with the worker's options (concurrency, attempts, lease, poll).
pub async fn retry_orders_with(
    db_path: &Path,
    config: &Config,
    job_id: JobId,
    selection: Selection,
    opts: WorkerOptions,
    client: reqwest::Client,
) -> Result<RetrySummary> {
    let store = Store::open(db_path)?;
    let job = store.job(job_id)?;
    if job.state == JobState::Cancelled {
        return Err(TriageError::JobCancelled { job: job_id });
    }
    refuse_if_paused_worker(&store, job_id)?;
    let selected = select(&store, job_id, &selection)?;
    let integration = store.integration(job.customer_id)?;
    let source: Arc<dyn Source> = Arc::from(source_for(&integration, client.clone())?);
    drop(store);

    // Fetch every order again, a few at a time (the source paces itself).
    let fetched: Vec<(JobOrder, std::result::Result<String, String>)> = futures::stream::iter(selected)
        .map(|row| {
            let source = source.clone();
            async move {
                let got = match source.order(&row.shop_id).await {
                    Ok(order) => serde_json::to_string(&order).map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (row, got)
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;

    let mut store = Store::open(db_path)?;
    refuse_if_paused_worker(&store, job_id)?;
    let live_worker = live_lease(&store, job_id)?.is_some();
    store.bump_retry_epoch(job_id)?;
    let now = Utc::now();
    // A live worker must see the new epoch (and forget its cache) before the orders are due.
    let due = live_worker.then(|| now + chrono::Duration::from_std(opts.poll * 3).unwrap_or_default());
    let mut summary = RetrySummary::default();
    let mut retried: Vec<JobOrder> = Vec::new();
    for (row, got) in fetched {
        let json = match got {
            Ok(json) => json,
            Err(e) => {
                summary.not_refetched.push(format!("{}: {e}", row.reference));
                summary.still_failing += 1;
                continue;
            }
        };
        store.set_job_order_json(job_id, &row.shop_id, &json)?;
        let outcome = Outcome { next_attempt_at: due, ..Outcome::default() };
        if store.transition(job_id, &row.shop_id, OrderState::Failed, OrderState::Pending, &outcome, now)? {
            retried.push(row);
        }
    }
    summary.retried = retried.len() as u64;
    let what = match &selection {
        Selection::Order(r) => format!("order {r}"),
        Selection::Cause(c) => format!("{} orders failed with {c}", retried.len()),
    };
    store.log_event(job_id, Level::Info, None, &format!("retry of {what} requested"), Utc::now())?;
    drop(store);

    let ids: Vec<String> = retried.iter().map(|r| r.shop_id.clone()).collect();
    let prior_attempts = retried.iter().map(|r| r.attempts).max().unwrap_or(0);
    settle(db_path, config, job_id, &ids, prior_attempts, &opts, client).await?;

    let store = Store::open(db_path)?;
    for (_, state) in store.job_order_states(job_id, &ids)? {
        match state {
            OrderState::Transferred => summary.transferred += 1,
            OrderState::Failed => summary.still_failing += 1,
            OrderState::Pending | OrderState::Sending | OrderState::Unknown => summary.pending += 1,
            OrderState::Skipped | OrderState::Cancelled => {}
        }
    }
    store.log_event(
        job_id,
        Level::Info,
        None,
        &format!("retry of {what}: {} transferred, {} still failing", summary.transferred, summary.still_failing),
        Utc::now(),
    )?;
    Ok(summary)
}

/// The failed orders a selection names; an error a support person can act on otherwise.
fn select(store: &Store, job: JobId, selection: &Selection) -> Result<Vec<JobOrder>> {
    match selection {
        Selection::Order(reference) => {
            let row = store
                .job_order_by_reference(job, reference)?
                .ok_or_else(|| TriageError::NoSuchOrder { job, order: reference.trim().to_string() })?;
            if row.state != OrderState::Failed {
                return Err(TriageError::NotFailed { job, order: row.reference, state: row.state, what: "retried" });
            }
            Ok(vec![row])
        }
        Selection::Cause(code) => {
            let cause: Cause = code.parse().map_err(TriageError::UnknownCause)?;
            let rows: Vec<JobOrder> = store
                .failed_orders(job, Some(cause.as_str()), "", 0, usize::MAX)?
                .into_iter()
                .map(|f| f.order)
                .collect();
            if rows.is_empty() {
                let counts = store.failure_counts(job)?;
                let others = if counts.is_empty() {
                    "; it has no failed orders at all".to_string()
                } else {
                    let list: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
                    format!("; its failures are: {}", list.join(", "))
                };
                return Err(TriageError::NothingToRetry { job, cause: cause.as_str().to_string(), others });
            }
            Ok(rows)
        }
    }
}

/// The owner of the job's lease if it is live. A lease of this very process (a TUI running
/// the worker in-process) counts too: the retry follows that worker rather than racing it.
fn live_lease(store: &Store, job: JobId) -> Result<Option<String>> {
    let j = store.job(job)?;
    Ok(match (j.lease_owner, j.lease_until) {
        (Some(owner), Some(until)) if until > Utc::now() => Some(owner),
        _ => None,
    })
}

fn refuse_if_paused_worker(store: &Store, job: JobId) -> Result<()> {
    if let Some(owner) = live_lease(store, job)?
        && store.job(job)?.state == JobState::Paused
    {
        return Err(TriageError::WorkerPaused { job, owner });
    }
    Ok(())
}

/// Waits until every order in `ids` is final: follows the job's live worker while there is
/// one, and otherwise takes the lease and sends them itself.
async fn settle(
    db_path: &Path,
    config: &Config,
    job_id: JobId,
    ids: &[String],
    prior_attempts: u32,
    opts: &WorkerOptions,
    client: reqwest::Client,
) -> Result<()> {
    let owner = lease_owner();
    let ttl = chrono::Duration::from_std(opts.lease_ttl).unwrap_or_else(|_| chrono::Duration::seconds(20));
    loop {
        let mut store = Store::open(db_path)?;
        let open: Vec<String> = store
            .job_order_states(job_id, ids)?
            .into_iter()
            .filter(|(_, state)| !state.is_final())
            .map(|(id, _)| id)
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        if live_lease(&store, job_id)?.is_some() {
            if store.job(job_id)?.state == JobState::Paused {
                // They go out when the worker resumes; the summary says how many wait.
                return Ok(());
            }
            drop(store);
            tokio::time::sleep(opts.poll).await;
            continue;
        }
        match store.acquire_lease(job_id, &owner, ttl, Utc::now()) {
            Ok(()) => {}
            // A worker started meanwhile: follow it.
            Err(StoreError::LeaseHeld(_)) => {
                tokio::time::sleep(opts.poll).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let result = send_inline(store, config, job_id, &open, prior_attempts, opts, &owner, client.clone()).await;
        if let Ok(store) = Store::open(db_path) {
            let _ = store.release_lease(job_id, &owner);
        }
        return result;
    }
}

/// Sends only these orders through the worker's path, under the lease we hold, until each is
/// final; the job's lifecycle state is not touched.
#[allow(clippy::too_many_arguments)]
async fn send_inline(
    store: Store,
    config: &Config,
    job_id: JobId,
    ids: &[String],
    prior_attempts: u32,
    opts: &WorkerOptions,
    owner: &str,
    client: reqwest::Client,
) -> Result<()> {
    let job = store.job(job_id)?;
    // The settings as they are now: a fix in the integration is picked up.
    let integration = store.integration(job.customer_id)?;
    let source: Arc<dyn Source> = Arc::from(source_for(&integration, client.clone())?);
    let sink: Arc<dyn Sink> = Arc::from(sink_for(&integration, client, config.rates.economic)?);
    sink.forget_cache();
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        sink,
        integration,
        job: job_id,
        customer: job.customer_id,
        tz: config.user_tz(),
        max_attempts: opts.max_attempts.saturating_add(prior_attempts),
    });
    let ttl = chrono::Duration::from_std(opts.lease_ttl).unwrap_or_else(|_| chrono::Duration::seconds(20));
    // Due time and id of each order waiting to be sent (earliest first); ids to reconcile.
    let mut waiting: BinaryHeap<Reverse<(DateTime<Utc>, String)>> = BinaryHeap::new();
    let mut unknown: Vec<String> = Vec::new();
    for (id, state) in shared.with_store(|s| s.job_order_states(job_id, ids))? {
        match state {
            OrderState::Pending => waiting.push(Reverse((Utc::now(), id))),
            OrderState::Unknown => unknown.push(id),
            // We hold the lease: a `sending` row was left by a worker that died (as at a
            // worker's start, it may have been booked, so it is reconciled first).
            OrderState::Sending => {
                let moved = shared.with_store(|s| {
                    s.transition(job_id, &id, OrderState::Sending, OrderState::Unknown, &Outcome::default(), Utc::now())
                })?;
                if moved {
                    unknown.push(id);
                }
            }
            _ => {}
        }
    }
    let mut tasks: JoinSet<(String, std::result::Result<(), WorkerError>)> = JoinSet::new();
    let mut last_beat = std::time::Instant::now();
    loop {
        if last_beat.elapsed() >= opts.poll {
            last_beat = std::time::Instant::now();
            shared.with_store(|s| s.acquire_lease(job_id, owner, ttl, Utc::now()))?;
        }
        while tasks.len() < opts.concurrency.max(1) {
            if let Some(id) = unknown.pop() {
                let Some(row) = shared.with_store(|s| s.job_order(job_id, &id))? else { continue };
                if row.state != OrderState::Unknown {
                    classify(&mut waiting, &mut unknown, row);
                    continue;
                }
                let shared2 = shared.clone();
                tasks.spawn(async move { (id, shared2.reconcile(&row).await) });
                continue;
            }
            let due = waiting.peek().is_some_and(|Reverse((at, _))| *at <= Utc::now());
            let Some(Reverse((_, id))) = waiting.pop().filter(|_| due) else { break };
            let Some(row) = shared.with_store(|s| s.job_order(job_id, &id))? else { continue };
            if row.state != OrderState::Pending {
                classify(&mut waiting, &mut unknown, row);
                continue;
            }
            let (shared2, source2) = (shared.clone(), source.clone());
            tasks.spawn(async move { (id, shared2.process(row, source2.as_ref()).await) });
        }
        if tasks.is_empty() {
            let Some(Reverse((at, _))) = waiting.peek() else { break };
            let wait = (*at - Utc::now()).to_std().unwrap_or_default().min(opts.poll);
            tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
            continue;
        }
        tokio::select! {
            done = tasks.join_next() => {
                let Some(done) = done else { continue };
                let (id, result) = done.map_err(|e| WorkerError::NotRunnable {
                    job: job_id,
                    state: job.state,
                    what: format!("a retry task stopped: {e}"),
                })?;
                let failed = result.is_err();
                if let Err(e) = result {
                    shared.log(Level::Error, None, &format!("order {id}: {e}"));
                }
                if let Some(row) = shared.with_store(|s| s.job_order(job_id, &id))? {
                    if row.state == OrderState::Sending && failed {
                        // Our task stopped between the commit and the outcome: reconcile it.
                        shared.with_store(|s| {
                            s.transition(job_id, &id, OrderState::Sending, OrderState::Unknown, &Outcome::default(), Utc::now())
                        })?;
                        unknown.push(id);
                    } else {
                        classify(&mut waiting, &mut unknown, row);
                    }
                }
            }
            _ = tokio::time::sleep(opts.poll) => {}
        }
    }
    Ok(())
}

/// Puts an order back in the queue it now belongs to (final orders leave).
fn classify(waiting: &mut BinaryHeap<Reverse<(DateTime<Utc>, String)>>, unknown: &mut Vec<String>, row: JobOrder) {
    match row.state {
        OrderState::Pending => waiting.push(Reverse((row.next_attempt_at.unwrap_or_else(Utc::now), row.shop_id))),
        OrderState::Unknown => unknown.push(row.shop_id),
        // Another task of this process is sending it: look again shortly.
        OrderState::Sending => waiting.push(Reverse((Utc::now() + chrono::Duration::milliseconds(500), row.shop_id))),
        _ => {}
    }
}

/// Failed → skipped with the reason kept (the cause, detail and fix hint stay for the record);
/// the order stops counting as failed.
pub fn skip_order(
    store: &mut Store,
    job: JobId,
    reference: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<JobOrder> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(TriageError::NoReason);
    }
    let row = store
        .job_order_by_reference(job, reference)?
        .ok_or_else(|| TriageError::NoSuchOrder { job, order: reference.trim().to_string() })?;
    let not_failed =
        |row: JobOrder| TriageError::NotFailed { job, order: row.reference, state: row.state, what: "skipped" };
    if row.state != OrderState::Failed {
        return Err(not_failed(row));
    }
    let outcome = Outcome {
        cause: row.cause.clone(),
        detail: row.detail.clone(),
        value: row.value.clone(),
        fix_hint: row.fix_hint.clone(),
        skip_reason: Some(reason.to_string()),
        ..Outcome::default()
    };
    if !store.transition(job, &row.shop_id, OrderState::Failed, OrderState::Skipped, &outcome, now)? {
        // Someone retried it meanwhile.
        let now_row = store.job_order(job, &row.shop_id)?.unwrap_or(row);
        return Err(not_failed(now_row));
    }
    store.log_event(job, Level::Info, Some(&row.reference), &format!("{} skipped: {reason}", row.reference), now)?;
    Ok(store.job_order(job, &row.shop_id)?.unwrap_or(row))
}

const CSV_HEADER: [&str; 9] =
    ["order", "date", "customer", "cause", "detail", "value", "fix_hint", "attempts", "last_attempt"];

/// Writes the job's failed orders (of one cause, or all) as CSV for the customer; returns the
/// file's absolute path.
pub fn export_csv(store: &Store, job: JobId, cause: Option<&str>, path: &Path, tz: Tz) -> Result<PathBuf> {
    let cause = cause.map(parse_cause).transpose()?;
    let rows = store.failed_orders(job, cause.map(Cause::as_str), "", 0, usize::MAX)?;
    let lines = rows.into_iter().map(|f| {
        let o = f.order;
        [
            o.reference,
            local_time(o.created_at, tz),
            f.customer.unwrap_or_default(),
            o.cause.unwrap_or_default(),
            o.detail.unwrap_or_default(),
            o.value.unwrap_or_default(),
            o.fix_hint.unwrap_or_default(),
            o.attempts.to_string(),
            o.last_attempt_at.map(|t| local_time(t, tz)).unwrap_or_default(),
        ]
    });
    write_csv(path, lines)
}

/// Writes the job's predicted failures (from its last preflight) as CSV, in the same columns
/// (no attempts yet).
pub fn export_predicted_csv(store: &Store, job: JobId, cause: Option<&str>, path: &Path, tz: Tz) -> Result<PathBuf> {
    let cause = cause.map(parse_cause).transpose()?;
    let rows = store.predicted_failures(job, cause.map(Cause::as_str), "", 0, usize::MAX)?;
    let lines = rows.into_iter().map(|p| {
        [
            p.reference,
            local_time(p.created_at, tz),
            p.customer.unwrap_or_default(),
            p.cause,
            p.detail,
            p.value.unwrap_or_default(),
            p.fix_hint,
            "0".to_string(),
            String::new(),
        ]
    });
    write_csv(path, lines)
}

fn parse_cause(code: &str) -> Result<Cause> {
    code.parse().map_err(TriageError::UnknownCause)
}

fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn write_csv(path: &Path, rows: impl Iterator<Item = [String; 9]>) -> Result<PathBuf> {
    let mut text = csv_line(CSV_HEADER.iter().copied());
    for row in rows {
        text.push_str(&csv_line(row.iter().map(String::as_str)));
    }
    let write_err = |source| TriageError::Write { path: path.to_path_buf(), source };
    std::fs::write(path, text).map_err(write_err)?;
    std::path::absolute(path).map_err(write_err)
}

/// One RFC 4180 record: fields with a comma, quote or line break are quoted, quotes doubled,
/// CRLF at the end.
pub fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (i, field) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&field.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(field);
        }
    }
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DEFAULT_TZ;
    use crate::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
    use crate::store::{JobKind, NewCustomer, NewJobOrder};
    use secrecy::SecretString;

    fn customer() -> NewCustomer {
        NewCustomer {
            name: "A".into(),
            cvr: None,
            email: None,
            phone: None,
            plan: "Basic".into(),
            integration: Integration {
                customer_id: 0,
                webshop: WebshopKind::WooCommerce,
                shop_url: "https://a.dk".into(),
                shop_key: SecretString::from("ck_test"),
                shop_secret: Some(SecretString::from("cs_test")),
                accounting: AccountingKind::Economic,
                accounting_url: "http://127.0.0.1:1/".into(),
                economic_app_secret: None,
                economic_grant: None,
                since: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
                timezone: DEFAULT_TZ,
                settings: IntegrationSettings::default(),
            },
        }
    }

    fn setup() -> (tempfile::TempDir, Store, JobId) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.add_customer(&customer()).unwrap();
        let job = s.create_job(1, JobKind::Range, None, None, Utc::now()).unwrap();
        let json = serde_json::json!({"buyer": {"name": "Hansen, \"Mette\""}}).to_string();
        let orders: Vec<_> = ["1", "2"]
            .iter()
            .map(|id| NewJobOrder {
                shop_id: id.to_string(),
                reference: format!("#100{id}"),
                created_at: "2026-03-01T10:00:00Z".parse().unwrap(),
                state: OrderState::Pending,
                skip_reason: None,
                order_json: Some(json.clone()),
            })
            .collect();
        s.add_job_orders(job, &orders).unwrap();
        let now: DateTime<Utc> = "2026-03-02T08:30:00Z".parse().unwrap();
        s.transition(job, "1", OrderState::Pending, OrderState::Sending, &Outcome::default(), now).unwrap();
        let out = Outcome {
            cause: Some("missing_sku".into()),
            detail: Some("line 2 'Hoodie, navy': no SKU".into()),
            value: Some("sku".into()),
            fix_hint: Some("give the product a SKU in WooCommerce, then retry".into()),
            ..Default::default()
        };
        s.transition(job, "1", OrderState::Sending, OrderState::Failed, &out, now).unwrap();
        (dir, s, job)
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_line(["a", "b c", ""].into_iter()), "a,b c,\r\n");
        assert_eq!(
            csv_line(["x, y", "say \"hi\"", "two\nlines"].into_iter()),
            "\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn export_writes_every_failure_with_its_explanation() {
        let (dir, s, job) = setup();
        let path = dir.path().join("failures.csv");
        let written = export_csv(&s, job, None, &path, chrono_tz::Europe::Copenhagen).unwrap();
        assert!(written.is_absolute());
        let text = std::fs::read_to_string(&written).unwrap();
        assert_eq!(
            text,
            "order,date,customer,cause,detail,value,fix_hint,attempts,last_attempt\r\n\
             #1001,2026-03-01 11:00,\"Hansen, \"\"Mette\"\"\",missing_sku,\"line 2 'Hoodie, navy': no SKU\",sku,\
             \"give the product a SKU in WooCommerce, then retry\",1,2026-03-02 09:30\r\n"
        );
        let only = export_csv(&s, job, Some("missing_phone"), &path, chrono_tz::UTC).unwrap();
        assert_eq!(std::fs::read_to_string(only).unwrap().lines().count(), 1, "header only");
        let err = export_csv(&s, job, Some("bare_error"), &path, chrono_tz::UTC).unwrap_err().to_string();
        assert!(err.contains("use one of missing_product"), "{err}");
        let err = export_csv(&s, job, None, &dir.path().join("no/such/dir.csv"), chrono_tz::UTC).unwrap_err();
        assert!(err.to_string().starts_with("cannot write"), "{err}");
    }

    #[test]
    fn skip_keeps_the_reason_and_the_cause() {
        let (_d, mut s, job) = setup();
        let err = skip_order(&mut s, job, "#1001", "  ", Utc::now()).unwrap_err();
        assert!(matches!(err, TriageError::NoReason));
        let err = skip_order(&mut s, job, "#1002", "customer says so", Utc::now()).unwrap_err().to_string();
        assert!(err.contains("is pending, not failed"), "{err}");
        let err = skip_order(&mut s, job, "#9", "x", Utc::now()).unwrap_err().to_string();
        assert!(err.contains("has no order '#9'"), "{err}");
        let row = skip_order(&mut s, job, "1001", "booked by hand in e-conomic", Utc::now()).unwrap();
        assert_eq!(row.state, OrderState::Skipped);
        assert_eq!(row.skip_reason.as_deref(), Some("booked by hand in e-conomic"));
        assert_eq!(row.cause.as_deref(), Some("missing_sku"));
        assert!(s.failure_counts(job).unwrap().is_empty());
        let err = skip_order(&mut s, job, "#1001", "again", Utc::now()).unwrap_err().to_string();
        assert!(err.contains("is skipped, not failed"), "{err}");
    }

    #[test]
    fn selections_name_what_is_wrong() {
        let (_d, s, job) = setup();
        assert_eq!(select(&s, job, &Selection::Cause("missing_sku".into())).unwrap().len(), 1);
        let err = select(&s, job, &Selection::Cause("missing_product".into())).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("job {job} has no failed orders with cause missing_product; its failures are: missing_sku 1")
        );
        let err = select(&s, job, &Selection::Cause("oops".into())).unwrap_err().to_string();
        assert!(err.starts_with("unknown failure cause 'oops'"), "{err}");
        let err = select(&s, job, &Selection::Order("#1002".into())).unwrap_err().to_string();
        assert!(err.contains("only failed orders can be retried"), "{err}");
    }

    #[test]
    fn the_retry_future_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let config = Config::default();
        let fut = retry_orders(Path::new("x.db"), &config, 1, Selection::Cause("x".into()), reqwest::Client::new());
        assert_send(&fut);
    }
}
