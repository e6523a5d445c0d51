//! The UI's store work: what the run loop does for the effects that read or write the store
//! (the live log's reads, job steps, pause/resume/cancel, starting a worker). Plain
//! synchronous functions over a `Store`, so the run loop calls them on a blocking thread and
//! tests call them directly; the panes never touch the store themselves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::app::{Action, Effect};
use super::panes::failures::{FailureRow, FailuresData, FailuresRequest};
use super::panes::jobs::{StepDone, StepInput};
use super::panes::log::{JobRow, JobSnapshot, LogData, LogRequest, MAX_EVENTS, UsageFigures, rate_window};
use crate::config::Config;
use crate::domain::calendar::{DateRange, Month};
use crate::domain::customer::CustomerId;
use crate::domain::job::{JobState, JobStep, next_state};
use crate::domain::money::{format_count, format_dkk};
use crate::domain::quote::Quote;
use crate::engine::{jobs, triage, worker};
use crate::store::{FailedOrder, Job, JobCommand, JobId, Level, PredictedFailure, PreflightSummary, Store, StoreError};

/// Log lines read per query while catching up with a long log.
const EVENT_BATCH: usize = 5_000;

/// Performs a store effect and returns the action that answers it; `None` for effects that
/// are not the store's (counting at the shop, the clipboard, the test transfer, the
/// single-order import — see [`import_order`] —, quitting).
pub fn perform(store: &mut Store, config: &Config, config_path: Option<&Path>, effect: &Effect) -> Option<Action> {
    let text = |e: StoreError| e.to_string();
    let now = Utc::now();
    Some(match effect {
        Effect::ReadLog(request) => Action::LogRead(Box::new(read_log(store, config, request).map_err(text))),
        Effect::ReadJobs { customer } => {
            Action::JobsRead { customer: *customer, result: customer_jobs(store, *customer).map_err(text) }
        }
        Effect::ReadFailures(request) => Action::FailuresRead(Box::new(read_failures(store, request).map_err(text))),
        Effect::Skip { job, reference, reason } => Action::FailuresDone(
            triage::skip_order(store, *job, reference, reason, now)
                .map(|o| format!("order {} skipped: {reason}", o.reference))
                .map_err(|e| e.to_string()),
        ),
        Effect::Export { job, cause, predicted } => {
            let home = std::env::var_os("HOME").map(PathBuf::from).filter(|h| !h.as_os_str().is_empty());
            let written =
                exports_dir().ok_or_else(|| "no home directory to write the export in".to_string()).and_then(|dir| {
                    let request = Export { job: *job, cause: cause.as_deref(), predicted: *predicted };
                    export(store, config, &dir, &request, now)
                });
            Action::FailuresDone(
                written.map(|path| export_message(&path, home.as_deref(), cause.as_deref(), *predicted, *job)),
            )
        }
        Effect::JobCommand { job, command } => Action::JobCommandDone(job_command(store, *job, *command, now)),
        Effect::CreateJob { customer_id, range, quote } => {
            Action::JobStepDone(create_job(store, *customer_id, *range, quote, now).map_err(|e| e.to_string()))
        }
        Effect::JobStep { job, step } => Action::JobStepDone(job_step(store, *job, step, now).map_err(text)),
        Effect::StartJob { job } => Action::JobStepDone(start_job(store, *job, config_path, now)),
        Effect::CountRange { .. }
        | Effect::CopyQuote { .. }
        | Effect::TestTransfer { .. }
        | Effect::ImportOrder { .. }
        | Effect::Retry { .. }
        | Effect::Preflight { .. }
        | Effect::CancelPreflight
        | Effect::Quit => {
            return None;
        }
    })
}

/// Performs `Effect::ImportOrder`: the worker's single-order import (*enkeltvis*), settled,
/// answered with `Action::OrderImported`. It waits on the shop and e-conomic, so the run loop
/// awaits it on a task of its own, as it does the test transfer, and never holds the UI's
/// store connection meanwhile; every failure comes back as one line in the action.
pub async fn import_order(
    db: &Path,
    config: &Config,
    customer: CustomerId,
    reference: &str,
    client: reqwest::Client,
) -> Action {
    let result = worker::import_single(db, config, customer, reference, client).await.map_err(|e| e.to_string());
    Action::OrderImported { customer, reference: reference.to_string(), result: Box::new(result) }
}

/// The jobs in scope, and for the selected one (or the newest) its figures and new log lines.
pub fn read_log(store: &Store, config: &Config, request: &LogRequest) -> Result<LogData, StoreError> {
    let jobs = store.list_jobs(request.scope)?;
    let mut names: HashMap<CustomerId, String> = HashMap::new();
    let mut rows = Vec::with_capacity(jobs.len());
    for j in &jobs {
        let name = names
            .entry(j.customer_id)
            .or_insert_with(|| {
                store
                    .customer(j.customer_id)
                    .map_or_else(|_| format!("customer {}", j.customer_id), |c| c.customer.name)
            })
            .clone();
        rows.push(JobRow::of(j, &name));
    }
    let chosen = request.job.filter(|id| jobs.iter().any(|j| j.id == *id)).or_else(|| jobs.first().map(|j| j.id));
    let Some(job) = chosen.and_then(|id| jobs.iter().find(|j| j.id == id)) else {
        return Ok(LogData { jobs: rows, snapshot: None, events: Vec::new(), after: 0 });
    };
    let after = if Some(job.id) == request.job { request.after } else { 0 };
    let customer = names.get(&job.customer_id).cloned().unwrap_or_default();
    let counts = store.order_counts(job.id)?;
    let window = rate_window(job.started_at, request.now);
    let per_minute = worker::orders_per_minute(store, job.id, window, request.now)?;
    let usage = usage(store, config, job.customer_id, Month::containing(request.now, request.tz));
    let worker_live = job.lease_until.is_some_and(|u| u > request.now) && job.lease_owner.is_some();
    let events = events_after(store, job.id, after)?;
    let snapshot =
        JobSnapshot { job: job.clone(), customer, counts, per_minute, rate_window: window, usage, worker_live };
    Ok(LogData { jobs: rows, snapshot: Some(snapshot), events, after })
}

/// A customer's jobs, newest first, with the last preflight of each that had one.
fn customer_jobs(store: &Store, customer: CustomerId) -> Result<(Vec<Job>, Vec<PreflightSummary>), StoreError> {
    let jobs = store.list_jobs(Some(customer))?;
    let mut preflights = Vec::new();
    for j in &jobs {
        preflights.extend(store.preflight_summary(j.id)?);
    }
    Ok((jobs, preflights))
}

/// The groups of a job's failures (or predictions) matching the filter, and a window of the
/// selected group's rows.
pub fn read_failures(store: &Store, request: &FailuresRequest) -> Result<FailuresData, StoreError> {
    let job = match request.job {
        Some(id) => Some(store.job(id)?),
        None => store.list_jobs(request.scope)?.into_iter().next(),
    };
    let Some(job) = job else {
        return Ok(FailuresData {
            request: request.clone(),
            job: None,
            groups: Vec::new(),
            failed_total: 0,
            cause: None,
            offset: 0,
            rows: Vec::new(),
            preflight: None,
        });
    };
    let name =
        store.customer(job.customer_id).map_or_else(|_| format!("customer {}", job.customer_id), |c| c.customer.name);
    let filter = request.filter.as_str();
    let groups = if request.predicted {
        store.predicted_counts_matching(job.id, filter)?
    } else {
        store.failure_counts_matching(job.id, filter)?
    };
    let failed_total = store.order_counts(job.id)?.get("failed").copied().unwrap_or(0);
    let cause = request
        .cause
        .clone()
        .filter(|c| groups.iter().any(|(g, _)| g == c))
        .or_else(|| groups.first().map(|(c, _)| c.clone()));
    // A window that starts past the group's end (it shrank) starts at its last page.
    let count = cause.as_ref().and_then(|c| groups.iter().find(|(g, _)| g == c)).map_or(0, |(_, n)| *n) as usize;
    let offset = if cause == request.cause { request.offset.min(count.saturating_sub(1)) } else { 0 };
    let rows = match &cause {
        None => Vec::new(),
        Some(c) if request.predicted => store
            .predicted_failures(job.id, Some(c), filter, offset, request.limit)?
            .into_iter()
            .map(predicted_row)
            .collect(),
        Some(c) => {
            store.failed_orders(job.id, Some(c), filter, offset, request.limit)?.into_iter().map(failed_row).collect()
        }
    };
    Ok(FailuresData {
        request: request.clone(),
        job: Some(JobRow::of(&job, &name)),
        groups,
        failed_total,
        cause,
        offset,
        rows,
        preflight: store.preflight_summary(job.id)?,
    })
}

fn failed_row(f: FailedOrder) -> FailureRow {
    let o = f.order;
    FailureRow {
        reference: o.reference,
        shop_id: o.shop_id,
        created_at: o.created_at,
        customer: f.customer,
        state: Some(o.state),
        cause: o.cause.unwrap_or_else(|| "accounting_validation".into()),
        detail: o.detail.unwrap_or_default(),
        value: o.value,
        fix_hint: o.fix_hint.unwrap_or_default(),
        attempts: Some(o.attempts),
        last_attempt: o.last_attempt_at,
        vendor_response: o.vendor_response,
    }
}

fn predicted_row(p: PredictedFailure) -> FailureRow {
    FailureRow {
        reference: p.reference,
        shop_id: p.shop_id,
        created_at: p.created_at,
        customer: p.customer,
        state: None,
        cause: p.cause,
        detail: p.detail,
        value: p.value,
        fix_hint: p.fix_hint,
        attempts: None,
        last_attempt: None,
        vendor_response: None,
    }
}

/// Where exports for customers go: private, beside the saved quotes.
pub fn exports_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "importdesk").map(|d| d.data_dir().join("exports"))
}

/// Which failures to export.
pub struct Export<'a> {
    pub job: JobId,
    pub cause: Option<&'a str>,
    pub predicted: bool,
}

/// Writes the CSV into `dir` (made private); returns the file's path.
pub fn export(
    store: &Store,
    config: &Config,
    dir: &Path,
    request: &Export<'_>,
    now: DateTime<Utc>,
) -> Result<PathBuf, String> {
    let Export { job, cause, predicted } = *request;
    create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tz = config.user_tz();
    let kind = if predicted { "-predicted" } else { "" };
    let stamp = now.with_timezone(&tz).format("%Y%m%d-%H%M%S");
    let path = dir.join(format!("job{job}{kind}-{}-{stamp}.csv", cause.unwrap_or("all")));
    let written = if predicted {
        triage::export_predicted_csv(store, job, cause, &path, tz)
    } else {
        triage::export_csv(store, job, cause, &path, tz)
    }
    .map_err(|e| e.to_string())?;
    Ok(written)
}

/// `saved ~/…/job1-missing_product-….csv (the missing_product group of job 1, CSV)`: the path
/// first, and short, as that is what the person needs.
pub fn export_message(written: &Path, home: Option<&Path>, cause: Option<&str>, predicted: bool, job: JobId) -> String {
    let shown = match home.and_then(|h| written.strip_prefix(h).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => written.display().to_string(),
    };
    let what = match (cause, predicted) {
        (Some(c), false) => format!("the {c} group"),
        (Some(c), true) => format!("the predicted {c} group"),
        (None, true) => "every predicted failure".to_string(),
        (None, false) => "every failure".to_string(),
    };
    format!("saved {shown} ({what} of job {job}, CSV)")
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Every line after `after`, in batches; only the newest `MAX_EVENTS` are kept.
fn events_after(store: &Store, job: JobId, mut after: i64) -> Result<Vec<crate::store::Event>, StoreError> {
    let mut events = Vec::new();
    loop {
        let batch = store.events_after(job, after, EVENT_BATCH)?;
        let full = batch.len() == EVENT_BATCH;
        if let Some(last) = batch.last() {
            after = last.id;
        }
        events.extend(batch);
        if events.len() > MAX_EVENTS {
            events.drain(..events.len() - MAX_EVENTS);
        }
        if !full {
            return Ok(events);
        }
    }
}

fn usage(store: &Store, config: &Config, customer: CustomerId, month: Month) -> Result<UsageFigures, String> {
    let summary = store.customer(customer).map_err(|e| e.to_string())?;
    let plan_name = summary.customer.plan;
    let plan = config
        .plan(&plan_name)
        .ok_or_else(|| format!("plan '{plan_name}' is not in the config, so the quota is unknown"))?;
    let used = store.usage(customer, month).map_err(|e| e.to_string())?;
    Ok(UsageFigures { month, used, quota: plan.monthly_quota, plan: plan.name.clone() })
}

/// Pause, resume or cancel: written for the worker when one holds the job, else applied at
/// once (a cancel then also cancels the pending orders).
pub fn job_command(store: &mut Store, job: JobId, command: JobCommand, now: DateTime<Utc>) -> Result<String, String> {
    let text = |e: StoreError| e.to_string();
    let j = store.job(job).map_err(text)?;
    let (step, word) = match command {
        JobCommand::Pause => (JobStep::Pause, "pause"),
        JobCommand::Resume => (JobStep::Resume, "resume"),
        JobCommand::Cancel => (JobStep::Cancel, "cancel"),
    };
    next_state(job, j.state, step).map_err(|e| e.to_string())?;
    if j.lease_until.is_some_and(|u| u > now) {
        store.send_command(job, command, now).map_err(text)?;
        let owner = j.lease_owner.unwrap_or_default();
        return Ok(format!("job {job}: {word} sent to the worker ({owner}); it obeys within a second"));
    }
    store.job_step(job, step, &[]).map_err(text)?;
    let mut message = format!("job {job}: {word} done (no worker was running)");
    if command == JobCommand::Cancel {
        let n = store.cancel_pending(job).map_err(text)?;
        message = format!("job {job} cancelled: {} pending orders will not be sent", format_count(n as u64));
    }
    store.log_event(job, Level::Info, None, &format!("{word} from the terminal UI"), now).map_err(text)?;
    Ok(message)
}

fn create_job(
    store: &mut Store,
    customer: CustomerId,
    range: DateRange,
    quote: &Quote,
    now: DateTime<Utc>,
) -> Result<StepDone, crate::engine::estimate::EstimateError> {
    let job = crate::engine::jobs::record_job(store, customer, range, quote, now)?;
    store.log_event(
        job,
        Level::Info,
        None,
        &format!("created for {} – {} from the planner's quote", range.from, range.to),
        now,
    )?;
    Ok(StepDone {
        job,
        message: format!(
            "job {job} created: {} orders to import, {} incl. VAT; next, a records the customer's acceptance",
            format_count(quote.orders_to_import),
            format_dkk(quote.total_incl_vat)
        ),
        started: false,
    })
}

fn job_step(store: &mut Store, job: JobId, step: &StepInput, now: DateTime<Utc>) -> Result<StepDone, StoreError> {
    let message = match step {
        StepInput::Accept { by, reference } => {
            jobs::accept(store, job, by, reference, now)?;
            store.log_event(job, Level::Info, None, &format!("offer accepted by {by} ({reference})"), now)?;
            format!("job {job}: offer accepted by {by}; next, t makes the test transfer")
        }
        StepInput::Approve { by } => {
            jobs::approve(store, job, by, now)?;
            store.log_event(job, Level::Info, None, &format!("test transfer approved by {by}"), now)?;
            format!("job {job}: approved by {by}; next, s starts the import")
        }
    };
    Ok(StepDone { job, message, started: false })
}

/// Starts the job's worker as a detached process (it outlives the UI and the SSH session).
pub fn start_job(
    store: &mut Store,
    job: JobId,
    config_path: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<StepDone, String> {
    let text = |e: StoreError| e.to_string();
    let j = store.job(job).map_err(text)?;
    let live = j.lease_until.is_some_and(|u| u > now);
    match j.state {
        JobState::Approved => {
            store.job_step(job, JobStep::Start, &[]).map_err(text)?;
        }
        JobState::Running | JobState::Paused if live => {
            return Err(format!(
                "job {job} already has a worker ({}); watch it in 4 Log",
                j.lease_owner.unwrap_or_default()
            ));
        }
        JobState::Running | JobState::Paused => {}
        other => return Err(next_state(job, other, JobStep::Start).err().map(|e| e.to_string()).unwrap_or_default()),
    }
    let (pid, log) = worker::spawn_detached(store.path(), job, config_path)
        .map_err(|e| format!("cannot start the worker for job {job}: {e}"))?;
    Ok(StepDone {
        job,
        message: format!("job {job}: worker started (pid {pid}), its log in {}", log.display()),
        started: true,
    })
}
