//! The import worker: one per job (a lease with a heartbeat), every order through the
//! state machine with each transition committed — `sending` before the POST — and every
//! unknown outcome reconciled by reference. This is what makes kill -9 safe.

use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::connect::sink::{InvoiceRef, Sink, SinkError, sink_for};
use crate::connect::{ConnectError, OrderQuery, Source, source_for};
use crate::domain::calendar::Month;
use crate::domain::cause::{Cause, Failure};
use crate::domain::customer::Integration;
use crate::domain::job::{JobState, JobStep, OrderState};
use crate::domain::order::Order;
use crate::store::{Job, JobCommand, JobId, JobKind, JobOrder, Level, NewJobOrder, Outcome, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("job {job} is {state}: {what}")]
    NotRunnable { job: JobId, state: JobState, what: String },
    #[error("the store lock was poisoned by a crashed task")]
    Poisoned,
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Orders in flight at once: enough to keep the sink's rate limiter busy.
    pub concurrency: usize,
    /// Attempts at a transient error before the order is a failure.
    pub max_attempts: u32,
    pub lease_ttl: Duration,
    /// How often commands are read and the lease renewed.
    pub poll: Duration,
    /// Stop once the job is paused instead of waiting for resume (for single-order runs).
    pub exit_when_paused: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            concurrency: 8,
            max_attempts: 5,
            lease_ttl: Duration::from_secs(20),
            poll: Duration::from_millis(400),
            exit_when_paused: false,
        }
    }
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Finished,
    Paused,
    Cancelled,
}

/// Who holds the lease: host and pid, so a restart on the same host can see that the
/// previous holder is dead and take over at once.
pub fn lease_owner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host} pid {}", std::process::id())
}

fn holder_is_dead(owner: &str) -> bool {
    let here = lease_owner();
    let (Some((host, pid)), Some((my_host, _))) = (owner.split_once(" pid "), here.split_once(" pid ")) else {
        return false;
    };
    if host != my_host {
        return false;
    }
    let Ok(pid) = pid.trim().parse::<i32>() else { return false };
    // Signal 0 checks existence only.
    #[allow(unsafe_code)]
    let alive =
        unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    !alive
}

/// What the tasks share: the store behind a mutex (held only for one statement or
/// transaction, never across an await), the sink, and what the job needs to know.
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) integration: Integration,
    pub(crate) job: JobId,
    pub(crate) customer: i64,
    pub(crate) tz: chrono_tz::Tz,
    pub(crate) max_attempts: u32,
}

impl Shared {
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, StoreError>) -> Result<T, WorkerError> {
        let mut guard = self.store.lock().map_err(|_| WorkerError::Poisoned)?;
        Ok(f(&mut guard)?)
    }

    pub(crate) fn log(&self, level: Level, reference: Option<&str>, message: &str) {
        let _ = self.with_store(|s| s.log_event(self.job, level, reference, message, Utc::now()));
        match level {
            Level::Error => tracing::error!(job = self.job, reference, "{message}"),
            Level::Warn => tracing::warn!(job = self.job, reference, "{message}"),
            Level::Info => tracing::info!(job = self.job, reference, "{message}"),
        }
    }

    fn move_order(
        &self,
        shop_id: &str,
        from: OrderState,
        to: OrderState,
        outcome: Outcome,
    ) -> Result<bool, WorkerError> {
        self.with_store(|s| s.transition(self.job, shop_id, from, to, &outcome, Utc::now()))
    }

    fn transferred(&self, order: &JobOrder, from: OrderState, invoice: &InvoiceRef) -> Result<(), WorkerError> {
        let month = Month::containing(Utc::now(), self.tz);
        let outcome = Outcome {
            invoice: Some(invoice.number.to_string()),
            usage: Some((self.customer, month)),
            ..Default::default()
        };
        if self.move_order(&order.shop_id, from, OrderState::Transferred, outcome)? {
            self.log(Level::Info, Some(&order.reference), &format!("{} → {invoice}", order.reference));
        }
        Ok(())
    }

    fn failed(&self, order: &JobOrder, from: OrderState, failures: &[Failure]) -> Result<(), WorkerError> {
        let first = failures.first();
        let detail = failures.iter().map(|f| f.detail.as_str()).collect::<Vec<_>>().join("; ");
        let outcome = Outcome {
            cause: Some(first.map_or(Cause::AccountingValidation, |f| f.cause).as_str().to_string()),
            detail: Some(detail.clone()),
            value: first.and_then(|f| f.value.clone()),
            fix_hint: first.map(|f| f.fix_hint.clone()),
            vendor_response: first.and_then(|f| f.vendor_response.clone()),
            ..Default::default()
        };
        if self.move_order(&order.shop_id, from, OrderState::Failed, outcome)? {
            self.log(Level::Error, Some(&order.reference), &format!("{} failed: {detail}", order.reference));
        }
        Ok(())
    }

    /// A transient error: back to pending with a backoff, or a failure after the last attempt.
    fn retry_later(&self, order: &JobOrder, from: OrderState, err: &SinkError) -> Result<(), WorkerError> {
        // `order` is the row as it was before this try; this try is one more attempt.
        let tries = order.attempts + 1;
        if tries >= self.max_attempts {
            return self.failed(order, from, &err.failures());
        }
        let backoff = err.retry_after().unwrap_or_else(|| Duration::from_millis(500 * 2u64.pow(tries.min(6))));
        let next = Utc::now() + chrono::Duration::from_std(backoff).unwrap_or_else(|_| chrono::Duration::seconds(30));
        let moved = if from == OrderState::Pending {
            // Nothing was sent (the shop read failed): count the attempt, keep it pending.
            self.with_store(|s| s.postpone_order(self.job, &order.shop_id, next))?
        } else {
            let outcome = Outcome { next_attempt_at: Some(next), ..Default::default() };
            self.move_order(&order.shop_id, from, OrderState::Pending, outcome)?
        };
        if moved {
            self.log(Level::Warn, Some(&order.reference), &format!("{} will be retried: {err}", order.reference));
        }
        Ok(())
    }

    /// Looks an order whose POST may have landed up by its reference.
    pub(crate) async fn reconcile(&self, order: &JobOrder) -> Result<(), WorkerError> {
        match self.sink.find_invoice(&order.reference).await {
            Ok(Some(invoice)) if invoice.is_booked() => self.transferred(order, OrderState::Unknown, &invoice),
            // No invoice, or a draft the next transfer books: safe to send again.
            Ok(_) => {
                if self.move_order(&order.shop_id, OrderState::Unknown, OrderState::Pending, Outcome::default())? {
                    self.log(
                        Level::Info,
                        Some(&order.reference),
                        &format!("{} reconciled: not booked, sent again", order.reference),
                    );
                }
                Ok(())
            }
            Err(e) => {
                // Stay unknown; the next pass tries again.
                self.log(
                    Level::Warn,
                    Some(&order.reference),
                    &format!("{} could not be reconciled yet: {e}", order.reference),
                );
                Ok(())
            }
        }
    }

    fn load_order(&self, order: &JobOrder) -> Result<Option<Order>, WorkerError> {
        let json = self.with_store(|s| s.job_order_json(self.job, &order.shop_id))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// One order, pending → sending → transferred | failed | unknown | pending.
    pub(crate) async fn process(&self, order: JobOrder, source: &dyn Source) -> Result<(), WorkerError> {
        let normalised = match self.load_order(&order)? {
            Some(o) => o,
            None => match source.order(&order.shop_id).await {
                Ok(o) => {
                    let json = serde_json::to_string(&o).unwrap_or_default();
                    self.with_store(|s| s.set_job_order_json(self.job, &order.shop_id, &json))?;
                    o
                }
                Err(e) if e.is_transient() => {
                    let err = SinkError::Transient { order: order.reference.clone(), error: e, retry_after: None };
                    return self.retry_later(&order, OrderState::Pending, &err);
                }
                Err(e) => {
                    let f = Failure::new(
                        Cause::MalformedShopData,
                        &order.reference,
                        e.to_string(),
                        "check the order in the webshop, then retry",
                    );
                    return self.failed(&order, OrderState::Pending, &[f]);
                }
            },
        };
        // Committed before the POST: a crash from here on leaves a `sending` row that the
        // next start turns into `unknown` and reconciles.
        if !self.move_order(&order.shop_id, OrderState::Pending, OrderState::Sending, Outcome::default())? {
            return Ok(());
        }
        match self.sink.transfer(&normalised, &self.integration.settings).await {
            Ok(invoice) => self.transferred(&order, OrderState::Sending, &invoice),
            Err(e @ SinkError::Transient { .. }) => self.retry_later(&order, OrderState::Sending, &e),
            Err(SinkError::Rejected { failures, .. }) => self.failed(&order, OrderState::Sending, &failures),
            Err(e @ SinkError::OutcomeUnknown { .. }) => {
                self.move_order(&order.shop_id, OrderState::Sending, OrderState::Unknown, Outcome::default())?;
                self.log(Level::Warn, Some(&order.reference), &e.to_string());
                self.reconcile(&order).await
            }
        }
    }
}

/// Reads every order of the job's range from the shop into the store, page by page, the
/// cursor saved after each page so a restart continues where the last worker stopped.
async fn list_orders(shared: &Shared, source: &dyn Source, job: &Job) -> Result<(), WorkerError> {
    let Some(range) = job.range else { return Ok(()) };
    let query = OrderQuery { range: range.to_utc(shared.integration.timezone), statuses: Vec::new() };
    let allowed: Vec<String> = shared.integration.settings.statuses.iter().map(|s| s.to_ascii_lowercase()).collect();
    let transfers_all = allowed.is_empty() || allowed.iter().any(|s| s == "any");
    let mut cursor = job.listing_cursor.clone();
    let mut listed = 0usize;
    loop {
        let page = source.page(&query, cursor.as_deref(), source.max_page_size()).await?;
        let mut rows = Vec::with_capacity(page.orders.len() + page.malformed.len());
        for o in &page.orders {
            let allowed_status = transfers_all || allowed.contains(&o.status.to_ascii_lowercase());
            rows.push(NewJobOrder {
                shop_id: o.id.clone(),
                reference: o.reference.clone(),
                created_at: o.created_at,
                state: if allowed_status { OrderState::Pending } else { OrderState::Skipped },
                skip_reason: (!allowed_status)
                    .then(|| format!("status '{}' is not transferred by the integration's settings", o.status)),
                order_json: serde_json::to_string(o).ok(),
            });
        }
        for m in &page.malformed {
            let id = m.id.clone().or_else(|| m.reference.clone()).unwrap_or_else(|| format!("unknown-{listed}"));
            rows.push(NewJobOrder {
                shop_id: id.clone(),
                reference: m.reference.clone().unwrap_or(id),
                created_at: Utc::now(),
                state: OrderState::Pending,
                skip_reason: None,
                order_json: None,
            });
        }
        listed += rows.len();
        shared.with_store(|s| s.add_job_orders(shared.job, &rows))?;
        for m in &page.malformed {
            let id = m.id.clone().or_else(|| m.reference.clone()).unwrap_or_default();
            let reference = m.reference.clone().unwrap_or_else(|| id.clone());
            let f = Failure::new(
                Cause::MalformedShopData,
                &reference,
                m.detail.clone(),
                "correct the order in the webshop, then retry",
            );
            if let Some(o) = shared.with_store(|s| s.job_order(shared.job, &id))?
                && o.state == OrderState::Pending
            {
                shared.failed(&o, OrderState::Pending, &[f])?;
            }
        }
        cursor = page.next;
        shared.with_store(|s| s.set_listing(shared.job, cursor.as_deref(), cursor.is_none()))?;
        if cursor.is_none() {
            break;
        }
    }
    shared.log(Level::Info, None, &format!("listed {listed} orders from the shop"));
    Ok(())
}

/// Runs a job until it finishes, is cancelled, or (with `exit_when_paused`) is paused.
pub async fn run_job(
    db_path: &Path,
    config: &Config,
    job_id: JobId,
    opts: WorkerOptions,
    client: reqwest::Client,
) -> Result<RunEnd, WorkerError> {
    let mut store = Store::open(db_path)?;
    let owner = lease_owner();
    let ttl = chrono::Duration::from_std(opts.lease_ttl).unwrap_or_else(|_| chrono::Duration::seconds(20));
    if let Err(StoreError::LeaseHeld(held)) = store.acquire_lease(job_id, &owner, ttl, Utc::now()) {
        if !holder_is_dead(&held.owner) {
            return Err(StoreError::LeaseHeld(held).into());
        }
        // The previous worker on this host died: take its lease over.
        store.release_lease(job_id, &held.owner)?;
        store.acquire_lease(job_id, &owner, ttl, Utc::now())?;
    } else {
        store.acquire_lease(job_id, &owner, ttl, Utc::now())?;
    }
    let result = run_leased(store, db_path, config, job_id, &owner, &opts, client).await;
    if let Ok(store) = Store::open(db_path) {
        let _ = store.release_lease(job_id, &owner);
    }
    result
}

async fn run_leased(
    mut store: Store,
    _db_path: &Path,
    config: &Config,
    job_id: JobId,
    owner: &str,
    opts: &WorkerOptions,
    client: reqwest::Client,
) -> Result<RunEnd, WorkerError> {
    let job = store.job(job_id)?;
    match job.state {
        JobState::Running | JobState::Paused => {}
        JobState::Approved => {
            store.job_step(job_id, JobStep::Start, &[])?;
        }
        other => {
            let what = crate::domain::job::next_state(job_id, other, JobStep::Start)
                .err()
                .map(|e| e.missing)
                .unwrap_or_default();
            return Err(WorkerError::NotRunnable { job: job_id, state: other, what });
        }
    }
    store.mark_job_time(job_id, "started_at", Utc::now())?;
    let integration = store.integration(job.customer_id)?;
    let source: Arc<dyn Source> = Arc::from(source_for(&integration, client.clone())?);
    let sink: Arc<dyn Sink> = Arc::from(sink_for(&integration, client, config.rates.economic)?);
    let recovered = store.sending_to_unknown(job_id)?;
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        sink,
        integration,
        job: job_id,
        customer: job.customer_id,
        tz: config.user_tz(),
        max_attempts: opts.max_attempts,
    });
    shared.log(Level::Info, None, &format!("worker {owner} started"));
    if recovered > 0 {
        shared.log(
            Level::Warn,
            None,
            &format!("{recovered} orders were being sent when the last worker stopped; reconciling them"),
        );
    }
    let ttl = chrono::Duration::from_std(opts.lease_ttl).unwrap_or_else(|_| chrono::Duration::seconds(20));

    let mut in_flight: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<(String, Result<(), WorkerError>)> = JoinSet::new();
    let mut listing: Option<tokio::task::JoinHandle<Result<(), WorkerError>>> = None;
    let mut paused = shared.with_store(|s| s.job(job_id))?.state == JobState::Paused;
    let mut last_poll = std::time::Instant::now() - opts.poll;
    let mut retry_epoch = shared.with_store(|s| s.retry_epoch(job_id))?;
    loop {
        if last_poll.elapsed() >= opts.poll {
            last_poll = std::time::Instant::now();
            shared.with_store(|s| s.acquire_lease(job_id, owner, ttl, Utc::now()))?;
            // Someone retried orders after a fix (engine::triage): forget cached lookups.
            let epoch = shared.with_store(|s| s.retry_epoch(job_id))?;
            if epoch != retry_epoch {
                retry_epoch = epoch;
                shared.sink.forget_cache();
            }
            match shared.with_store(|s| s.take_command(job_id))? {
                Some(JobCommand::Pause) if !paused => {
                    shared.with_store(|s| s.job_step(job_id, JobStep::Pause, &[]).map(drop))?;
                    paused = true;
                    shared.log(Level::Info, None, "paused");
                }
                Some(JobCommand::Resume) if paused => {
                    shared.with_store(|s| s.job_step(job_id, JobStep::Resume, &[]).map(drop))?;
                    paused = false;
                    shared.log(Level::Info, None, "resumed");
                }
                Some(JobCommand::Cancel) => {
                    tasks.shutdown().await;
                    if let Some(l) = listing.take() {
                        l.abort();
                    }
                    cancel_remaining(&shared)?;
                    return Ok(RunEnd::Cancelled);
                }
                _ => {}
            }
        }
        if paused {
            if opts.exit_when_paused && tasks.is_empty() {
                return Ok(RunEnd::Paused);
            }
            // Let in-flight orders settle; start nothing new.
            drain_finished(&mut tasks, &mut in_flight, &shared);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let job_now = shared.with_store(|s| s.job(job_id))?;
        if !job_now.listing_done && listing.is_none() {
            let (shared2, source2, job2) = (shared.clone(), source.clone(), job_now.clone());
            listing = Some(tokio::spawn(async move { list_orders(&shared2, source2.as_ref(), &job2).await }));
        }
        if let Some(handle) = &listing
            && handle.is_finished()
            && let Some(handle) = listing.take()
        {
            match handle.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    shared.log(
                        Level::Error,
                        None,
                        &format!("reading orders from the shop failed: {e}; retrying in 5 s"),
                    );
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Err(e) => shared.log(Level::Error, None, &format!("listing task stopped: {e}")),
            }
        }
        // Reconcile unknown outcomes before sending anything new.
        let unknown = shared.with_store(|s| s.job_orders_in_state(job_id, OrderState::Unknown, 64))?;
        for o in unknown {
            if in_flight.insert(o.shop_id.clone()) {
                let shared2 = shared.clone();
                tasks.spawn(async move {
                    let id = o.shop_id.clone();
                    (id, shared2.reconcile(&o).await)
                });
            }
        }
        let free = opts.concurrency.saturating_sub(tasks.len());
        if free > 0 {
            let due = shared.with_store(|s| s.due_orders(job_id, Utc::now(), opts.concurrency * 2))?;
            let fresh: Vec<JobOrder> = due.into_iter().filter(|o| !in_flight.contains(&o.shop_id)).take(free).collect();
            for o in fresh {
                in_flight.insert(o.shop_id.clone());
                let (shared2, source2) = (shared.clone(), source.clone());
                tasks.spawn(async move {
                    let id = o.shop_id.clone();
                    (id, shared2.process(o, source2.as_ref()).await)
                });
            }
        }
        if tasks.is_empty() {
            let job_now = shared.with_store(|s| s.job(job_id))?;
            let counts = shared.with_store(|s| s.order_counts(job_id))?;
            let open = counts["pending"] + counts["sending"] + counts["unknown"];
            if job_now.listing_done && listing.is_none() && open == 0 {
                shared.with_store(|s| s.job_step(job_id, JobStep::Finish, &[]).map(drop))?;
                shared.with_store(|s| s.mark_job_time(job_id, "finished_at", Utc::now()))?;
                let c = &counts;
                shared.log(
                    Level::Info,
                    None,
                    &format!(
                        "finished: {} transferred, {} failed, {} skipped",
                        c["transferred"], c["failed"], c["skipped"]
                    ),
                );
                return Ok(RunEnd::Finished);
            }
            // Orders waiting for their backoff, or the listing still going.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        // Wait for one task, or the poll interval, whichever first.
        tokio::select! {
            done = tasks.join_next() => {
                if let Some(done) = done {
                    settle(done, &mut in_flight, &shared);
                }
            }
            _ = tokio::time::sleep(opts.poll) => {}
        }
        drain_finished(&mut tasks, &mut in_flight, &shared);
    }
}

type TaskResult = Result<(String, Result<(), WorkerError>), tokio::task::JoinError>;

fn settle(done: TaskResult, in_flight: &mut HashSet<String>, shared: &Shared) {
    match done {
        Ok((id, result)) => {
            in_flight.remove(&id);
            if let Err(e) = result {
                shared.log(Level::Error, None, &format!("order {id}: {e}"));
            }
        }
        Err(e) => shared.log(Level::Error, None, &format!("an order task stopped: {e}")),
    }
}

fn drain_finished(
    tasks: &mut JoinSet<(String, Result<(), WorkerError>)>,
    in_flight: &mut HashSet<String>,
    shared: &Shared,
) {
    while let Some(done) = tasks.try_join_next() {
        settle(done, in_flight, shared);
    }
}

fn cancel_remaining(shared: &Shared) -> Result<(), WorkerError> {
    let job = shared.job;
    let n = shared.with_store(|s| s.cancel_pending(job))?;
    shared.with_store(|s| s.job_step(job, JobStep::Cancel, &[]).map(drop))?;
    shared.log(Level::Info, None, &format!("cancelled: {n} pending orders will not be sent"));
    Ok(())
}

/// Starts `importdesk run JOB` as a detached process in its own session, so it outlives the
/// TUI and the SSH connection. Returns its pid and log file.
pub fn spawn_detached(db_path: &Path, job: JobId, config_path: Option<&Path>) -> std::io::Result<(u32, PathBuf)> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    let log = db_path.with_file_name(format!("job-{job}.log"));
    let log_file = std::fs::OpenOptions::new().create(true).append(true).open(&log)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("run").arg(job.to_string()).arg("--db").arg(db_path).arg("--log").arg(&log);
    if let Some(c) = config_path {
        cmd.arg("--config").arg(c);
    }
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(log_file);
    // SAFETY: setsid is async-signal-safe; it detaches from the terminal's session so a
    // hang-up of the SSH connection does not reach the worker.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    Ok((child.id(), log))
}

/// Runs one order through the same path as an import (*enkeltvis*): a single-order job,
/// running at once, settled before returning.
pub async fn import_single(
    db_path: &Path,
    config: &Config,
    customer_id: i64,
    reference: &str,
    client: reqwest::Client,
) -> Result<(JobId, JobOrder), WorkerError> {
    let store = Store::open(db_path)?;
    let integration = store.integration(customer_id)?;
    let source = source_for(&integration, client.clone())?;
    let order = source.order(reference).await?;
    let job = store.create_job(customer_id, JobKind::Single, None, None, Utc::now())?;
    let mut store = store;
    store.force_job_state(job, JobState::Running)?;
    add_single(&mut store, job, &order)?;
    store.set_listing(job, None, true)?;
    drop(store);
    run_job(db_path, config, job, WorkerOptions { exit_when_paused: true, ..Default::default() }, client).await?;
    let store = Store::open(db_path)?;
    let row = store.job_order(job, &order.id)?.ok_or(StoreError::JobNotFound(job))?;
    Ok((job, row))
}

/// Adds one fetched order to a job as pending (or leaves it as it is if already there).
pub fn add_single(store: &mut Store, job: JobId, order: &Order) -> Result<(), StoreError> {
    store.add_job_orders(
        job,
        &[NewJobOrder {
            shop_id: order.id.clone(),
            reference: order.reference.clone(),
            created_at: order.created_at,
            state: OrderState::Pending,
            skip_reason: None,
            order_json: serde_json::to_string(order).ok(),
        }],
    )?;
    Ok(())
}

/// For the live log: a rough orders-per-minute over the last `window`.
pub fn orders_per_minute(
    store: &Store,
    job: JobId,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<f64, StoreError> {
    let n = store.transferred_since(job, now - window)?;
    Ok(n as f64 / (window.num_seconds().max(1) as f64 / 60.0))
}

/// The result of a test transfer, shown to the support person and the customer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestTransfer {
    pub order: String,
    pub invoice: Option<String>,
    /// An existing transfer was named as the reference; nothing new was sent.
    pub existing: bool,
    pub state: OrderState,
    pub detail: Option<String>,
    pub lines: usize,
    pub total: Option<rust_decimal::Decimal>,
}

/// Makes the job's test transfer: the named order (or, if it is already in the accounting
/// system, takes it as the reference), else the range's oldest order; through the same
/// path and safety as the run.
pub async fn test_transfer(
    db_path: &Path,
    config: &Config,
    job_id: JobId,
    reference: Option<&str>,
    client: reqwest::Client,
) -> Result<TestTransfer, WorkerError> {
    let mut store = Store::open(db_path)?;
    let job = store.job(job_id)?;
    // Refuse before any request if the step is out of order.
    crate::domain::job::next_state(job_id, job.state, JobStep::TestTransfer).map_err(StoreError::Step)?;
    let integration = store.integration(job.customer_id)?;
    let source = source_for(&integration, client.clone())?;
    let sink: Arc<dyn Sink> = Arc::from(sink_for(&integration, client, config.rates.economic)?);
    if let Some(r) = reference
        && let Some(invoice) = sink.find_invoice(r).await.map_err(|e| WorkerError::NotRunnable {
            job: job_id,
            state: job.state,
            what: format!("cannot look order {r} up in the accounting system: {e}"),
        })?
        && invoice.is_booked()
    {
        let number = invoice.number.to_string();
        crate::engine::jobs::record_test(&mut store, job_id, r, Some(&number), Utc::now())?;
        store.log_event(
            job_id,
            Level::Info,
            Some(r),
            &format!("test transfer: existing {invoice} taken as the reference"),
            Utc::now(),
        )?;
        return Ok(TestTransfer {
            order: r.into(),
            invoice: Some(number),
            existing: true,
            state: OrderState::Transferred,
            detail: None,
            lines: 0,
            total: None,
        });
    }
    let order = match reference {
        Some(r) => source.order(r).await?,
        None => {
            let range = job.range.ok_or_else(|| WorkerError::NotRunnable {
                job: job_id,
                state: job.state,
                what: "it has no date range; name an order with --order REF".into(),
            })?;
            let query = OrderQuery {
                range: range.to_utc(integration.timezone),
                statuses: integration.settings.statuses.clone(),
            };
            // The first of the range's oldest orders that passes the checks (read-only), so
            // the customer reviews a transfer, not a known failure; else the oldest, whose
            // failure then says what to fix.
            let page = source.page(&query, None, 20).await?;
            let mut chosen = None;
            for candidate in &page.orders {
                if let Ok(failures) = sink.check(candidate, &integration.settings).await
                    && failures.is_empty()
                {
                    chosen = Some(candidate.clone());
                    break;
                }
            }
            chosen.or_else(|| page.orders.into_iter().next()).ok_or_else(|| WorkerError::NotRunnable {
                job: job_id,
                state: job.state,
                what: "the range has no order to test with; name one with --order REF".into(),
            })?
        }
    };
    add_single(&mut store, job_id, &order)?;
    let row = store.job_order(job_id, &order.id)?.ok_or(StoreError::JobNotFound(job_id))?;
    let shared = Shared {
        store: Mutex::new(store),
        sink,
        integration,
        job: job_id,
        customer: job.customer_id,
        tz: config.user_tz(),
        max_attempts: 1,
    };
    match row.state {
        OrderState::Pending => shared.process(row, source.as_ref()).await?,
        OrderState::Unknown => shared.reconcile(&row).await?,
        _ => {}
    }
    let mut store = shared.store.into_inner().map_err(|_| WorkerError::Poisoned)?;
    let row = store.job_order(job_id, &order.id)?.ok_or(StoreError::JobNotFound(job_id))?;
    if row.state == OrderState::Transferred {
        crate::engine::jobs::record_test(&mut store, job_id, &order.reference, row.invoice.as_deref(), Utc::now())?;
    }
    Ok(TestTransfer {
        order: order.reference.clone(),
        invoice: row.invoice.clone(),
        existing: false,
        state: row.state,
        detail: row.detail.clone(),
        lines: order.lines.len(),
        total: Some(order.total),
    })
}
