//! The job steps, opened from the planner with `j`: create a job from the quote on screen,
//! record the offer's acceptance (who, and where it is written), make the test transfer and
//! show its result, record the customer's approval, start the detached worker. A step out of
//! order is refused with the domain's message before anything is asked of the store. Beside
//! the steps, one order can be imported at once (*enkeltvis*) in a single-order job of its own.

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::fit;
use crate::domain::calendar::DateRange;
use crate::domain::cause::Cause;
use crate::domain::customer::CustomerId;
use crate::domain::job::{JobState, JobStep, OrderState, next_state};
use crate::domain::money::{format_count, format_dkk};
use crate::domain::quote::Quote;
use crate::engine::jobs::import_range;
use crate::engine::preflight::{Chargeable, PreflightProgress, chargeable_without_predicted};
use crate::engine::worker::TestTransfer;
use crate::store::{Job, JobId, JobKind, JobOrder, PreflightSummary};
use crate::tui::app::{App, Effect, Pane, StatusKind};
use crate::tui::keymap::{Binding, Command, Key};
use crate::tui::theme::Theme;

/// A step that writes to the store, with what the person typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepInput {
    Accept { by: String, reference: String },
    Approve { by: String },
}

/// How a single-order import ended: the job it made and the order's row, or why it could
/// not run (the order is not in the shop, the shop is down…).
pub type SingleImport = Result<(JobId, JobOrder), String>;

/// What a finished step reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepDone {
    pub job: JobId,
    pub message: String,
    /// The worker was started: the log pane shows it next.
    pub started: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Accept,
    /// The test transfer, of a named order or (left empty) the range's oldest.
    Test,
    Approve,
    /// One order imported now (*enkeltvis*), in a single-order job of its own.
    Import,
}

impl FormKind {
    fn labels(self) -> &'static [&'static str] {
        match self {
            FormKind::Accept => &["Accepted by", "Reference"],
            FormKind::Test | FormKind::Import => &["Order"],
            FormKind::Approve => &["Approved by"],
        }
    }

    fn title(self) -> &'static str {
        match self {
            FormKind::Accept => "Record the customer's written acceptance of the offer",
            FormKind::Test => "Test transfer: an order (#1001), an existing transfer, or empty for the oldest",
            FormKind::Approve => "Record the customer's approval of the test transfer",
            FormKind::Import => "Import one order now (enkeltvis): its number (#1042) or id",
        }
    }

    /// What to type when a required field was left empty.
    fn missing(self, label: &str) -> String {
        match self {
            FormKind::Import => format!("{label} is empty: type the order's number (#1042) or id"),
            _ => format!("{label} is empty: type who (or where) before saving"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    /// The job the step is taken on; none for a single-order import, which makes its own.
    pub job: Option<JobId>,
    pub fields: Vec<Input>,
    pub focus: usize,
}

/// The current customer's jobs and the steps popup; kept while closed so the planner can
/// show where the newest job stands.
#[derive(Debug, Clone, Default)]
pub struct JobMenu {
    /// The popup is shown and has the keys.
    pub open: bool,
    pub customer: Option<CustomerId>,
    /// The customer's jobs, newest first.
    pub jobs: Vec<Job>,
    pub selected: Option<JobId>,
    pub loaded: bool,
    pub error: Option<String>,
    pub form: Option<Form>,
    /// A step is running (the test transfer talks to the shop and the accounting system).
    pub busy: Option<String>,
    /// The last test transfer's result, for the job it was made on.
    pub test: Option<(JobId, Result<TestTransfer, String>)>,
    /// The last single-order import of this customer: the reference typed, and the job it
    /// made with the order's row, or why it could not run.
    pub single: Option<(String, SingleImport)>,
    /// The last preflight of each job that had one.
    pub preflights: Vec<PreflightSummary>,
    /// A preflight in progress: the job and how far it is.
    pub preflight_run: Option<(JobId, PreflightProgress)>,
}

impl JobMenu {
    pub fn typing(&self) -> bool {
        self.open && self.form.is_some()
    }

    pub fn selected_job(&self) -> Option<&Job> {
        self.selected.and_then(|id| self.jobs.iter().find(|j| j.id == id))
    }

    /// The newest range job: the one the planner's line and its preflight are about.
    /// Single-order imports are jobs too, but have no steps.
    pub fn newest_range_job(&self) -> Option<&Job> {
        self.jobs.iter().find(|j| j.kind == JobKind::Range)
    }

    pub fn preflight_of(&self, job: JobId) -> Option<&PreflightSummary> {
        self.preflights.iter().find(|p| p.job_id == job)
    }
}

/// Reads the current customer's jobs again (a new customer starts afresh).
pub fn refresh(app: &mut App) -> Vec<Effect> {
    let Some(customer) = app.current.as_ref().map(|c| c.summary.customer.id) else {
        return Vec::new();
    };
    if app.job_menu.customer != Some(customer) {
        app.job_menu = JobMenu { customer: Some(customer), ..JobMenu::default() };
    }
    vec![Effect::ReadJobs { customer }]
}

/// Opens the popup for the current customer and reads their jobs.
pub fn open(app: &mut App) -> Vec<Effect> {
    if app.current.is_none() {
        app.error("no customer selected: find one in 1 Lookup first");
        return Vec::new();
    }
    let effects = refresh(app);
    app.job_menu.open = true;
    effects
}

/// The customer's jobs came back.
pub fn on_jobs(
    app: &mut App,
    customer: CustomerId,
    result: Result<(Vec<Job>, Vec<PreflightSummary>), String>,
) -> Vec<Effect> {
    let menu = &mut app.job_menu;
    if menu.customer != Some(customer) {
        return Vec::new();
    }
    app.dirty = true;
    menu.loaded = true;
    match result {
        Ok((jobs, preflights)) => {
            menu.error = None;
            menu.jobs = jobs;
            menu.preflights = preflights;
            if menu.selected_job().is_none() {
                menu.selected = menu.newest_range_job().or(menu.jobs.first()).map(|j| j.id);
            }
        }
        Err(e) => menu.error = Some(e),
    }
    Vec::new()
}

/// The popup's keys: the form's while one is open, else the steps'.
pub fn bindings(menu: &JobMenu) -> Vec<Binding> {
    if menu.form.is_some() { form_bindings() } else { step_bindings() }
}

/// The keys of the steps, for the popup and its help.
pub fn step_bindings() -> Vec<Binding> {
    let k = Key::plain;
    vec![
        Binding::new(&[k(KeyCode::Up), Key::char('k')], "previous job", Command::RowUp),
        Binding::new(&[k(KeyCode::Down), Key::char('j')], "next job", Command::RowDown),
        Binding::new(&[Key::char('n')], "new job from the quote on screen", Command::CreateJob).hint("n", "new"),
        Binding::new(&[Key::char('a')], "record the offer's acceptance", Command::AcceptOffer).hint("a", "accept"),
        Binding::new(&[Key::char('t')], "make the test transfer", Command::TestTransfer).hint("t", "test"),
        Binding::new(&[Key::char('o')], "record the customer's approval", Command::ApproveTest).hint("o", "approve"),
        Binding::new(&[Key::char('s')], "start the import (detached worker)", Command::StartJob).hint("s", "start"),
        Binding::new(&[Key::char('i')], "import 1 order (enkeltvis)", Command::ImportOrder).hint("i", "single"),
        Binding::new(&[Key::char('f')], "preflight: predict failures (again: stop it)", Command::Preflight)
            .hint("f", "preflight"),
        // Out of the bar at 80 columns, to leave room for the steps; the help lists it.
        Binding::new(&[k(KeyCode::Enter)], "show the job in the import log", Command::Open),
        Binding::new(&[k(KeyCode::Esc), Key::char('q')], "close the job steps", Command::Dismiss).hint("Esc", "close"),
        Binding::new(&[Key::char('?'), k(KeyCode::F(1))], "help", Command::Help),
    ]
}

/// The keys of a step's form.
pub fn form_bindings() -> Vec<Binding> {
    let k = Key::plain;
    vec![
        Binding::new(&[k(KeyCode::Enter)], "next field, then save", Command::Submit).hint("Enter", "save"),
        Binding::new(&[k(KeyCode::Tab), k(KeyCode::Down)], "next field", Command::RowDown).hint("Tab", "next"),
        Binding::new(&[k(KeyCode::BackTab), k(KeyCode::Up)], "previous field", Command::RowUp),
        Binding::new(&[k(KeyCode::Esc)], "close the form, nothing saved", Command::Dismiss).hint("Esc", "cancel"),
        Binding::new(&[k(KeyCode::F(1))], "help", Command::Help),
    ]
}

pub fn on_command(app: &mut App, command: Command) -> Vec<Effect> {
    let menu = &mut app.job_menu;
    if let Some(form) = menu.form.as_mut() {
        let n = form.fields.len();
        match command {
            Command::RowDown => form.focus = (form.focus + 1) % n,
            Command::RowUp => form.focus = (form.focus + n - 1) % n,
            Command::Dismiss => menu.form = None,
            Command::Submit if form.focus + 1 < n => form.focus += 1,
            Command::Submit => return submit(app),
            _ => {}
        }
        return Vec::new();
    }
    match command {
        Command::RowUp | Command::RowDown => {
            let by: isize = if command == Command::RowUp { -1 } else { 1 };
            let n = menu.jobs.len();
            if n > 0 {
                let i = menu.selected.and_then(|id| menu.jobs.iter().position(|j| j.id == id)).unwrap_or(0);
                let j = (i as isize + by).clamp(0, n as isize - 1) as usize;
                menu.selected = Some(menu.jobs[j].id);
            }
            Vec::new()
        }
        Command::Dismiss => {
            menu.open = false;
            Vec::new()
        }
        Command::CreateJob => create(app),
        Command::AcceptOffer => open_form(app, JobStep::Accept, FormKind::Accept),
        Command::ApproveTest => open_form(app, JobStep::Approve, FormKind::Approve),
        Command::TestTransfer => open_form(app, JobStep::TestTransfer, FormKind::Test),
        Command::StartJob => start(app),
        Command::ImportOrder => open_import(app),
        Command::Preflight => preflight(app),
        Command::Open => {
            let Some(job) = menu.selected else {
                app.error("no job yet: n makes one from the quote on screen");
                return Vec::new();
            };
            menu.open = false;
            crate::tui::panes::log::select_job(app, job);
            app.enter_pane(Pane::Log, true);
            crate::tui::panes::log::read(app)
        }
        _ => Vec::new(),
    }
}

/// The selected job, if `step` may be taken on it now; else the refusal is shown.
fn checked(app: &mut App, step: JobStep) -> Option<JobId> {
    let menu = &app.job_menu;
    if menu.busy.is_some() {
        app.error("wait for the step in progress to finish");
        return None;
    }
    let Some(job) = menu.selected_job() else {
        app.error("no job yet: n makes one from the quote on screen");
        return None;
    };
    let (id, state) = (job.id, job.state);
    match next_state(id, state, step) {
        Ok(_) => Some(id),
        Err(e) => {
            app.error(e.to_string());
            None
        }
    }
}

fn open_form(app: &mut App, step: JobStep, kind: FormKind) -> Vec<Effect> {
    let Some(job) = checked(app, step) else {
        return Vec::new();
    };
    let fields = kind.labels().iter().map(|_| Input::default()).collect();
    app.job_menu.form = Some(Form { kind, job: Some(job), fields, focus: 0 });
    Vec::new()
}

/// Asks for the order to import at once; no job is needed, the import makes its own.
fn open_import(app: &mut App) -> Vec<Effect> {
    if app.job_menu.busy.is_some() {
        app.error("wait for the step in progress to finish");
        return Vec::new();
    }
    let kind = FormKind::Import;
    let fields = kind.labels().iter().map(|_| Input::default()).collect();
    app.job_menu.form = Some(Form { kind, job: None, fields, focus: 0 });
    Vec::new()
}

/// Sends the order typed for a single-order import; the spinner runs until it settles.
fn import(app: &mut App, reference: String) -> Vec<Effect> {
    let menu = &mut app.job_menu;
    menu.form = None;
    let Some(customer) = menu.customer else {
        app.error("no customer selected: find one in 1 Lookup first");
        return Vec::new();
    };
    menu.single = None;
    menu.busy = Some(format!("importing order {reference}: from the shop into e-conomic…"));
    vec![Effect::ImportOrder { customer, reference }]
}

fn submit(app: &mut App) -> Vec<Effect> {
    let Some(form) = app.job_menu.form.clone() else {
        return Vec::new();
    };
    let values: Vec<String> = form.fields.iter().map(|f| f.value().trim().to_string()).collect();
    // Who accepted or approved, and the order to import, are required; the test's order may be
    // left empty.
    if form.kind != FormKind::Test
        && let Some(i) = values.iter().position(String::is_empty)
    {
        app.error(form.kind.missing(form.kind.labels()[i]));
        if let Some(f) = app.job_menu.form.as_mut() {
            f.focus = i;
        }
        return Vec::new();
    }
    let menu = &mut app.job_menu;
    menu.form = None;
    let (effect, busy) = match (form.kind, form.job) {
        (FormKind::Import, _) => return import(app, values[0].clone()),
        (FormKind::Test, Some(job)) => {
            let order = values.first().filter(|v| !v.is_empty()).cloned();
            menu.test = None;
            let busy = match &order {
                Some(o) => format!("test transfer of order {o} for job {job}…"),
                None => format!("test transfer of job {job}: sending the range's oldest order…"),
            };
            (Effect::TestTransfer { job, order }, busy)
        }
        (FormKind::Accept, Some(job)) => {
            let step = StepInput::Accept { by: values[0].clone(), reference: values[1].clone() };
            (Effect::JobStep { job, step }, format!("saving job {job}…"))
        }
        (FormKind::Approve, Some(job)) => {
            (Effect::JobStep { job, step: StepInput::Approve { by: values[0].clone() } }, format!("saving job {job}…"))
        }
        // A step's form is only ever opened on its job.
        (_, None) => return Vec::new(),
    };
    menu.busy = Some(busy);
    vec![effect]
}

fn create(app: &mut App) -> Vec<Effect> {
    if app.job_menu.busy.is_some() {
        app.error("wait for the step in progress to finish");
        return Vec::new();
    }
    let (Some(current), Some(quote), Some((range, _))) = (&app.current, &app.planner.quote, app.planner.counted) else {
        let why = if app.planner.pending.is_some() {
            "no quote yet: the count is still running"
        } else {
            "no quote to make a job from: pick a range in the planner first"
        };
        app.error(why);
        return Vec::new();
    };
    if quote.orders_to_import == 0 {
        app.error("nothing to import in this range: every order is from the integration's start on, or there are none");
        return Vec::new();
    }
    let since = current.context.as_ref().ok().map(|c| c.integration.since);
    let range: DateRange = since.and_then(|s| import_range(range, s)).unwrap_or(range);
    let effect = Effect::CreateJob { customer_id: current.summary.customer.id, range, quote: Box::new(quote.clone()) };
    app.job_menu.busy = Some("creating the job…".into());
    vec![effect]
}

fn start(app: &mut App) -> Vec<Effect> {
    let menu = &app.job_menu;
    // A running or paused job whose worker died may be started again; the effect refuses
    // if a worker still holds it.
    let restart = menu
        .selected_job()
        .is_some_and(|j| matches!(j.state, JobState::Running | JobState::Paused) && !lease_live(j, app.now));
    let job = if restart { menu.selected } else { checked(app, JobStep::Start) };
    let Some(job) = job else {
        return Vec::new();
    };
    app.job_menu.busy = Some(format!("starting the worker for job {job}…"));
    vec![Effect::StartJob { job }]
}

/// Starts the selected job's preflight, or stops the one running.
pub fn preflight(app: &mut App) -> Vec<Effect> {
    if let Some((job, _)) = app.job_menu.preflight_run {
        app.set_status(StatusKind::Info, format!("stopping the preflight of job {job}…"));
        return vec![Effect::CancelPreflight];
    }
    let Some(job) = app.job_menu.selected_job() else {
        app.error("no job yet: n makes one from the quote on screen");
        return Vec::new();
    };
    if job.state == JobState::Cancelled {
        app.error(format!("job {} was cancelled; create a new job to preflight its range", job.id));
        return Vec::new();
    }
    let id = job.id;
    app.job_menu.preflight_run = Some((id, PreflightProgress::default()));
    vec![Effect::Preflight { job: id }]
}

pub fn on_preflight_progress(app: &mut App, job: JobId, progress: PreflightProgress) -> Vec<Effect> {
    if app.job_menu.preflight_run.is_some_and(|(j, _)| j == job) {
        app.job_menu.preflight_run = Some((job, progress));
        app.dirty = true;
    }
    Vec::new()
}

pub fn on_preflight_done(app: &mut App, job: JobId, result: Result<PreflightSummary, String>) -> Vec<Effect> {
    app.job_menu.preflight_run = None;
    app.dirty = true;
    match result {
        Ok(summary) => {
            app.set_status(
                StatusKind::Done,
                format!(
                    "preflight of job {job}: {} orders checked, {} predicted to fail (5 Failures, p lists them)",
                    format_count(summary.orders_checked),
                    format_count(summary.predicted_total())
                ),
            );
            app.job_menu.preflights.retain(|p| p.job_id != job);
            app.job_menu.preflights.push(summary);
        }
        Err(e) => app.error(e),
    }
    Vec::new()
}

/// What the planner shows of the newest job's last preflight.
#[derive(Debug, Clone)]
pub struct PlannerPreflight<'a> {
    pub job: &'a Job,
    pub summary: &'a PreflightSummary,
    /// The quote on screen is for the job's range, so the figures can be set against it.
    pub same_range: bool,
    /// The quote's orders without the predicted failures, when there is a quote to take them from.
    pub chargeable: Option<Chargeable>,
}

/// The newest range job's last preflight, set against the quote on screen when it is for the
/// job's range (else against the job's own quote).
pub fn planner_preflight(app: &App) -> Option<PlannerPreflight<'_>> {
    let menu = &app.job_menu;
    let here = app.current.as_ref().map(|c| c.summary.customer.id);
    let job = menu.newest_range_job().filter(|_| menu.customer == here)?;
    let summary = menu.preflight_of(job.id)?;
    let since = app.current.as_ref().and_then(|c| c.context.as_ref().ok()).map(|c| c.integration.since);
    let range = app.planner.counted.map(|(r, _)| since.and_then(|s| import_range(r, s)).unwrap_or(r));
    let same_range = range.is_some() && range == job.range;
    let quote = app.planner.quote.as_ref().filter(|_| same_range).or(job.quote.as_ref());
    let chargeable = quote.map(|q| chargeable_without_predicted(q, summary.predicted_total()));
    Some(PlannerPreflight { job, summary, same_range, chargeable })
}

fn lease_live(job: &Job, now: DateTime<Utc>) -> bool {
    job.lease_until.is_some_and(|u| u > now)
}

/// A step came back: report it, read the jobs again; a started job opens in the log.
pub fn on_step_done(app: &mut App, result: Result<StepDone, String>) -> Vec<Effect> {
    app.dirty = true;
    let customer = app.job_menu.customer;
    app.job_menu.busy = None;
    match result {
        Ok(done) => {
            app.set_status(StatusKind::Done, done.message.clone());
            app.job_menu.selected = Some(done.job);
            if done.started {
                app.job_menu.open = false;
                crate::tui::panes::log::select_job(app, done.job);
                app.enter_pane(Pane::Log, true);
                return crate::tui::panes::log::read(app);
            }
            customer.map(|customer| vec![Effect::ReadJobs { customer }]).unwrap_or_default()
        }
        Err(e) => {
            app.error(e);
            customer.map(|customer| vec![Effect::ReadJobs { customer }]).unwrap_or_default()
        }
    }
}

pub fn on_tested(app: &mut App, job: JobId, result: Result<TestTransfer, String>) -> Vec<Effect> {
    app.dirty = true;
    let customer = app.job_menu.customer;
    match &result {
        Ok(t) if t.state == OrderState::Transferred => app.set_status(
            StatusKind::Done,
            format!(
                "job {job}: test order {} → invoice {}; ask the customer to review it, then o records the approval",
                t.order,
                t.invoice.as_deref().unwrap_or("?")
            ),
        ),
        Ok(t) => app.error(format!(
            "the test transfer of order {} did not go through ({}): {}",
            t.order,
            t.state,
            t.detail.clone().unwrap_or_default()
        )),
        Err(e) => app.error(e.clone()),
    }
    app.job_menu.busy = None;
    app.job_menu.test = Some((job, result));
    customer.map(|customer| vec![Effect::ReadJobs { customer }]).unwrap_or_default()
}

/// A single-order import settled: its line in the popup and the status, and the jobs read
/// again (the import made a job). A customer left meanwhile gets the status line only.
pub fn on_imported(app: &mut App, customer: CustomerId, reference: String, result: SingleImport) -> Vec<Effect> {
    app.dirty = true;
    let (ok, text) = single_text(&reference, &result);
    let kind = if ok { StatusKind::Done } else { StatusKind::Error };
    if app.job_menu.customer != Some(customer) {
        app.set_status(kind, format!("customer {customer}: {text}"));
        return Vec::new();
    }
    app.set_status(kind, text);
    app.job_menu.busy = None;
    app.job_menu.single = Some((reference, result));
    vec![Effect::ReadJobs { customer }]
}

/// `order #1042 → invoice 10117 (job 7)`, or why not: state, cause, detail and what to fix.
fn single_text(reference: &str, result: &SingleImport) -> (bool, String) {
    match result {
        Ok((job, o)) if o.state == OrderState::Transferred => {
            (true, format!("order {} → invoice {} (job {job})", o.reference, o.invoice.as_deref().unwrap_or("?")))
        }
        Ok((job, o)) => {
            let cause =
                o.cause.as_deref().map(|c| c.parse::<Cause>().map_or_else(|_| c.to_string(), |c| c.label().into()));
            let why = [Some(o.state.to_string()), cause].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let detail = o.detail.as_deref().or(o.skip_reason.as_deref()).unwrap_or("no detail was recorded");
            let hint = o.fix_hint.as_deref().map(|h| format!(" — {h}")).unwrap_or_default();
            (false, format!("order {} not transferred ({why}; job {job}): {detail}{hint}", o.reference))
        }
        Err(e) => (false, format!("order {reference} not imported: {e}")),
    }
}

fn single_line(reference: &str, result: &SingleImport, theme: Theme) -> Line<'static> {
    match single_text(reference, result) {
        (true, text) => Line::styled(format!("✓ {text}"), theme.ok()),
        (false, text) => Line::styled(format!("✗ {text}"), theme.error()),
    }
}

pub fn on_text_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(form) = app.job_menu.form.as_mut() else {
        return Vec::new();
    };
    if let Some(request) = to_input_request(&Event::Key(key))
        && let Some(field) = form.fields.get_mut(form.focus)
    {
        field.handle(request);
    }
    Vec::new()
}

/// The lifecycle as a bar: each step done `✓`, the next one `▶`.
fn step_bar(state: JobState) -> String {
    let steps = [
        (JobState::Quoted, "quoted"),
        (JobState::OfferAccepted, "accepted"),
        (JobState::TestTransferred, "tested"),
        (JobState::Approved, "approved"),
        (JobState::Running, "running"),
        (JobState::Finished, "finished"),
    ];
    if state == JobState::Cancelled {
        return "✗ cancelled: create a new job".into();
    }
    let reached = |s: JobState| match state {
        JobState::Paused => s <= JobState::Running,
        JobState::Billed => true,
        _ => s <= state,
    };
    let mut parts = Vec::new();
    let mut next_marked = false;
    for (s, name) in steps {
        if reached(s) {
            parts.push(format!("✓ {name}"));
        } else if !next_marked {
            next_marked = true;
            parts.push(format!("▶ {name}"));
        } else {
            parts.push(format!("· {name}"));
        }
    }
    parts.join(" → ")
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let menu = &app.job_menu;
    if !menu.open {
        return;
    }
    let theme = app.theme;
    let width = area.width.min(76);
    let inner = usize::from(width.saturating_sub(2));
    let mut lines: Vec<Line<'static>> = Vec::new();
    let name = app.current.as_ref().map(|c| c.summary.customer.name.clone()).unwrap_or_default();
    lines.push(Line::styled(fit(&format!("Jobs of {name}"), inner), theme.label()));
    if let Some(e) = &menu.error {
        lines.push(Line::styled(format!("✗ {e}"), theme.error()));
    } else if !menu.loaded {
        lines.push(Line::styled("reading the jobs…", theme.muted()));
    } else if menu.jobs.is_empty() {
        lines.push(Line::styled("no job yet: n makes one from the quote on screen", theme.muted()));
    }
    for j in menu.jobs.iter().take(4) {
        let is = Some(j.id) == menu.selected;
        let range = j.range.map(|r| format!("{} – {}", r.from, r.to)).unwrap_or_else(|| "single orders".into());
        let text = format!(
            "{} {:>4}  {:<18} {range}  {} orders quoted",
            if is { "▶" } else { " " },
            j.id,
            j.state.label(),
            format_count(j.quoted_orders)
        );
        lines.push(Line::styled(fit(&text, inner), if is { theme.selected() } else { theme.plain() }));
    }
    if menu.jobs.len() > 4 {
        lines.push(Line::styled(format!("  … {} older jobs in 4 Log", menu.jobs.len() - 4), theme.muted()));
    }
    lines.push(Line::raw(""));
    if let Some(j) = menu.selected_job() {
        let bar = match j.kind {
            JobKind::Range => step_bar(j.state),
            JobKind::Single => format!("single-order import (enkeltvis), {}: no steps", j.state.label()),
        };
        lines.push(Line::styled(fit(&bar, inner), theme.figure()));
        for fact in facts(j) {
            lines.push(Line::styled(fit(&fact, inner), theme.label()));
        }
    }
    if let Some((job, result)) = &menu.test
        && Some(*job) == menu.selected
    {
        lines.push(test_line(result, theme));
    }
    if let Some((reference, result)) = &menu.single {
        lines.push(single_line(reference, result, theme));
    }
    if let Some(busy) = &menu.busy {
        let spin = super::spinner(app);
        lines.push(Line::styled(format!("{spin} {busy}"), theme.warning()));
    }
    if let Some(j) = menu.selected_job() {
        if menu.preflight_run.is_some_and(|(id, _)| id == j.id) {
            lines.push(summary_line(app, inner));
        } else if let Some(p) = menu.preflight_of(j.id) {
            lines.push(Line::styled(
                fit(
                    &format!(
                        "preflight {}: {} of {} orders predicted to fail (f runs it again)",
                        p.checked_at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M"),
                        format_count(p.predicted_total()),
                        format_count(p.orders_checked)
                    ),
                    inner,
                ),
                theme.label(),
            ));
        }
    }
    if let Some(quote) = &app.planner.quote {
        lines.push(Line::raw(""));
        lines.push(quote_line(quote, inner, theme));
    }
    if let Some(form) = &menu.form {
        lines.push(Line::raw(""));
        lines.push(Line::styled(form.kind.title(), theme.title()));
        for (i, label) in form.kind.labels().iter().enumerate() {
            let value = form.fields.get(i).map(|f| f.value().to_string()).unwrap_or_default();
            let focused = i == form.focus;
            let cursor = if focused { "▏" } else { "" };
            let field = format!("[{value}{cursor}]");
            lines.push(Line::from(vec![
                Span::styled(format!("{}{label:<12} ", if focused { "▶ " } else { "  " }), theme.label()),
                Span::styled(field, if focused { theme.editing() } else { theme.plain() }),
            ]));
        }
    }
    super::popup(frame, area, " Job steps ", lines, width, theme);
}

/// The planner's line about the customer's newest range job.
pub fn summary_line(app: &App, width: usize) -> Line<'static> {
    let theme = app.theme;
    let menu = &app.job_menu;
    let here = app.current.as_ref().map(|c| c.summary.customer.id);
    if menu.customer != here || !menu.loaded {
        return Line::default();
    }
    if let Some((job, p)) = menu.preflight_run {
        let spin = super::spinner(app);
        let total = p.total.map(|t| format!(" of {}", format_count(t))).unwrap_or_default();
        let text = format!(
            "{spin} preflight of job {job}: {}{total} read, {} predicted to fail (x stops it)",
            format_count(p.read),
            format_count(p.predicted)
        );
        return Line::styled(fit(&text, width), theme.warning());
    }
    let text = match menu.newest_range_job() {
        Some(j) => format!("Job {} {} · j job steps", j.id, step_bar(j.state)),
        None => "No import job yet · j makes one from this quote".to_string(),
    };
    Line::styled(fit(&text, width), theme.label())
}

fn facts(j: &Job) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(by) = &j.accepted_by {
        let reference = j.acceptance_reference.as_deref().unwrap_or("");
        out.push(format!("offer accepted by {by} ({reference})"));
    }
    if let Some(order) = &j.test_order {
        let invoice = j.test_invoice.as_deref().map(|i| format!(" → invoice {i}")).unwrap_or_default();
        out.push(format!("test transfer: order {order}{invoice}"));
    }
    if let Some(by) = &j.approved_by {
        out.push(format!("approved by {by}"));
    }
    out
}

fn test_line(result: &Result<TestTransfer, String>, theme: Theme) -> Line<'static> {
    match result {
        Ok(t) if t.existing => {
            Line::styled(format!("✓ existing transfer of {} taken as the reference", t.order), theme.ok())
        }
        Ok(t) if t.state == OrderState::Transferred => Line::styled(
            format!(
                "✓ test order {} → invoice {} ({} lines{})",
                t.order,
                t.invoice.as_deref().unwrap_or("?"),
                t.lines,
                t.total.map(|v| format!(", {}", format_dkk(v))).unwrap_or_default()
            ),
            theme.ok(),
        ),
        Ok(t) => Line::styled(
            format!("✗ test order {} {}: {}", t.order, t.state, t.detail.clone().unwrap_or_default()),
            theme.error(),
        ),
        Err(e) => Line::styled(format!("✗ {e}"), theme.error()),
    }
}

fn quote_line(q: &Quote, width: usize, theme: Theme) -> Line<'static> {
    let range = match (q.from, q.to) {
        (Some(f), Some(t)) => format!("{f} – {t}: "),
        _ => String::new(),
    };
    let text = format!(
        "quote on screen: {range}{} orders, {} incl. VAT (n makes a job of it)",
        format_count(q.orders_to_import),
        format_dkk(q.total_incl_vat)
    );
    Line::styled(fit(&text, width), theme.muted())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_bar_marks_what_is_next() {
        assert_eq!(
            step_bar(JobState::OfferAccepted),
            "✓ quoted → ✓ accepted → ▶ tested → · approved → · running → · finished"
        );
        assert!(step_bar(JobState::Paused).contains("✓ running → ▶ finished"));
        assert!(step_bar(JobState::Cancelled).starts_with('✗'));
    }
}
