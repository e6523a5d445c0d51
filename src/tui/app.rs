//! The TUI's whole state, the actions that change it and the effects it asks for
//! (Elm style): `update` is the only place state changes; the run loop performs effects and
//! feeds their results back as actions.

use std::path::PathBuf;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use crossterm::event::{KeyEvent, KeyEventKind};

use super::keymap::{self, Binding, Command, Key};
use super::layout;
use super::panes::{customers, failures, help, jobs, log, planner, usage};
use super::theme::Theme;
use crate::config::Config;
use crate::connect::ConnectError;
use crate::domain::calendar::{DateRange, Month};
use crate::domain::customer::{CustomerId, Integration};
use crate::domain::quote::Quote;
use crate::engine::estimate::{self, PlanningContext, RangeCounts};
use crate::engine::preflight::PreflightProgress;
use crate::engine::triage::{RetrySummary, Selection};
use crate::engine::worker::TestTransfer;
use crate::store::{CustomerSummary, Job, JobCommand, JobId, PreflightSummary, Store};

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Lookup,
    Usage,
    Planner,
    Log,
    Failures,
}

impl Pane {
    pub const ALL: &'static [Pane] = &[Pane::Lookup, Pane::Usage, Pane::Planner, Pane::Log, Pane::Failures];

    /// 1-based position, the digit that jumps to it.
    pub fn number(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).map_or(0, |i| i + 1)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Lookup => "Lookup",
            Pane::Usage => "Usage",
            Pane::Planner => "Planner",
            Pane::Log => "Log",
            Pane::Failures => "Failures",
        }
    }

    pub fn long_title(self) -> &'static str {
        match self {
            Pane::Lookup => "Customer lookup",
            Pane::Usage => "Subscription usage",
            Pane::Planner => "Import planner",
            Pane::Log => "Live import log",
            Pane::Failures => "Failure inspector",
        }
    }

    pub fn go_label(self) -> &'static str {
        match self {
            Pane::Lookup => "go to the customer lookup",
            Pane::Usage => "go to subscription usage",
            Pane::Planner => "go to the import planner",
            Pane::Log => "go to the live import log",
            Pane::Failures => "go to the failure inspector",
        }
    }

    pub fn key(self) -> Key {
        let digit = char::from_digit(self.number() as u32, 10).unwrap_or('0');
        Key::char(digit)
    }

    fn offset(self, by: isize) -> Pane {
        let n = Pane::ALL.len() as isize;
        let i = (self.number() as isize - 1 + by).rem_euclid(n);
        Pane::ALL[i as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Done,
    Error,
}

/// The one line above the key hints: what just happened, or what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub kind: StatusKind,
    pub text: String,
}

/// What copying a quote achieved: the file is the reliable half, OSC 52 the convenient one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    pub saved: Result<PathBuf, String>,
    pub clipboard: Result<(), String>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock, about once a second.
    Tick(DateTime<Utc>),
    /// Spinner frame, only while something loads.
    Spin,
    /// A range count came back; `generation` says which request it answers.
    Counted {
        generation: u64,
        result: Result<RangeCounts, ConnectError>,
    },
    QuoteCopied(CopyOutcome),
    /// About twice a second: the panes that follow the store read it again.
    Poll(DateTime<Utc>),
    /// The live log's read of the store.
    LogRead(Box<Result<log::LogData, String>>),
    /// A customer's jobs and their last preflights, for the job steps.
    JobsRead {
        customer: CustomerId,
        result: Result<(Vec<Job>, Vec<PreflightSummary>), String>,
    },
    /// Pause, resume or cancel was written (or refused); the text says which.
    JobCommandDone(Result<String, String>),
    /// A job step (create, accept, approve, start) was taken or refused.
    JobStepDone(Result<jobs::StepDone, String>),
    TestTransferred {
        job: JobId,
        result: Box<Result<TestTransfer, String>>,
    },
    /// A single-order import settled: the job it made and the order's row, or why it could
    /// not run (the order is not in the shop, the shop is down…).
    OrderImported {
        customer: CustomerId,
        reference: String,
        result: Box<jobs::SingleImport>,
    },
    /// The inspector's read of the store.
    FailuresRead(Box<Result<failures::FailuresData, String>>),
    /// A retry settled (or was refused).
    Retried(Result<RetrySummary, String>),
    /// A skip or an export finished; the text says what happened.
    FailuresDone(Result<String, String>),
    PreflightProgress {
        job: JobId,
        progress: PreflightProgress,
    },
    PreflightDone {
        job: JobId,
        result: Box<Result<PreflightSummary, String>>,
    },
    /// SIGTERM, SIGHUP, or the terminal's input ended.
    Quit,
}

#[derive(Debug, Clone)]
pub enum Effect {
    /// Count the range at the customer's shop after a short debounce, cancelling any count
    /// still running; answer with `Action::Counted` carrying the same generation.
    CountRange {
        generation: u64,
        customer_id: CustomerId,
        integration: Box<Integration>,
        range: DateRange,
    },
    /// Put the quote text on the clipboard (OSC 52) and save it as `file_name` in the quotes
    /// directory; answer with `Action::QuoteCopied`.
    CopyQuote {
        text: String,
        file_name: String,
    },
    /// Read the jobs in scope and the selected job's figures and new log lines; answer with
    /// `Action::LogRead`.
    ReadLog(log::LogRequest),
    /// Read a customer's jobs; answer with `Action::JobsRead`.
    ReadJobs {
        customer: CustomerId,
    },
    /// Write a command for the job's worker (or apply it when no worker runs); answer with
    /// `Action::JobCommandDone`.
    JobCommand {
        job: JobId,
        command: JobCommand,
    },
    /// Record a job for the quote on screen; answer with `Action::JobStepDone`.
    CreateJob {
        customer_id: CustomerId,
        range: DateRange,
        quote: Box<Quote>,
    },
    /// Accept or approve; answer with `Action::JobStepDone`.
    JobStep {
        job: JobId,
        step: jobs::StepInput,
    },
    /// Make the job's test transfer, of the named order (or an existing transfer of it) or
    /// of the range's oldest; answer with `Action::TestTransferred`.
    TestTransfer {
        job: JobId,
        order: Option<String>,
    },
    /// Import one order of the customer now (*enkeltvis*) through a single-order job, settled
    /// before it answers with `Action::OrderImported`.
    ImportOrder {
        customer: CustomerId,
        reference: String,
    },
    /// Start the job's worker as a detached process; answer with `Action::JobStepDone`.
    StartJob {
        job: JobId,
    },
    /// Read the inspector's groups and rows; answer with `Action::FailuresRead`.
    ReadFailures(failures::FailuresRequest),
    /// Retry failed orders through the triage engine (fetched again, the same state
    /// machine); answer with `Action::Retried` once they settled.
    Retry {
        job: JobId,
        selection: Selection,
    },
    /// Skip a failed order with a reason; answer with `Action::FailuresDone`.
    Skip {
        job: JobId,
        reference: String,
        reason: String,
    },
    /// Write the group (or every failure, or the predictions) to a CSV file in the exports
    /// directory; answer with `Action::FailuresDone` naming the path.
    Export {
        job: JobId,
        cause: Option<String>,
        predicted: bool,
    },
    /// Run the job's preflight, reporting `Action::PreflightProgress` and then
    /// `Action::PreflightDone`.
    Preflight {
        job: JobId,
    },
    /// Stop the preflight in progress.
    CancelPreflight,
    Quit,
}

/// The customer being helped, with what the usage pane and the planner need.
#[derive(Debug, Clone)]
pub struct Current {
    pub summary: CustomerSummary,
    /// Plan, integration and this month's usage; the error names what to fix.
    pub context: Result<PlanningContext, String>,
    /// The last 12 months, oldest first.
    pub history: Result<Vec<(Month, u64)>, String>,
}

pub struct App {
    pub store: Store,
    pub config: Config,
    /// The config file the CLI was given, passed on to workers the UI starts.
    pub config_path: Option<PathBuf>,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub theme: Theme,
    /// Terminal size in cells, kept for key handling (the too-small screen, page sizes).
    pub size: (u16, u16),
    pub pane: Pane,
    pub help_open: bool,
    pub current: Option<Current>,
    pub lookup: customers::LookupState,
    pub usage: usage::UsageState,
    pub planner: planner::PlannerState,
    pub job_menu: jobs::JobMenu,
    pub log: log::LogState,
    pub failures: failures::FailuresState,
    pub status: Option<Status>,
    pub spinner_frame: usize,
    pub quit: bool,
    /// Something visible changed since the last frame.
    pub dirty: bool,
}

impl App {
    pub fn new(store: Store, config: Config, now: DateTime<Utc>, note: Option<String>) -> App {
        let tz = config.user_tz();
        let mut app = App {
            store,
            config,
            config_path: None,
            tz,
            now,
            theme: Theme::from_env(),
            size: (80, 24),
            pane: Pane::Lookup,
            help_open: false,
            current: None,
            lookup: customers::LookupState::default(),
            usage: usage::UsageState::default(),
            planner: planner::PlannerState::default(),
            job_menu: jobs::JobMenu::default(),
            log: log::LogState::default(),
            failures: failures::FailuresState::default(),
            status: note.map(|text| Status { kind: StatusKind::Info, text }),
            spinner_frame: 0,
            quit: false,
            dirty: true,
        };
        app.lookup.typing = true;
        customers::refresh(&mut app);
        app
    }

    /// A text field has the cursor: plain keys are text, not commands.
    pub fn typing(&self) -> bool {
        match self.pane {
            Pane::Lookup => self.lookup.typing,
            Pane::Usage => self.usage.typing,
            Pane::Planner => self.planner.typing || self.job_menu.typing(),
            Pane::Log => self.log.typing,
            Pane::Failures => self.failures.typing(),
        }
    }

    /// A request is in flight (the run loop animates the spinner only then).
    pub fn is_loading(&self) -> bool {
        self.planner.pending.is_some()
            || self.job_menu.busy.is_some()
            || self.job_menu.preflight_run.is_some()
            || self.failures.is_busy()
    }

    /// The panes that follow the store while they are on screen.
    pub fn follows_store(&self) -> bool {
        matches!(self.pane, Pane::Log | Pane::Failures)
    }

    /// The keys of a question or small form that has the screen, if one is open.
    fn modal_bindings(&self) -> Option<Vec<Binding>> {
        match self.pane {
            Pane::Log if self.log.confirm_cancel.is_some() => Some(log::confirm_bindings()),
            Pane::Planner if self.job_menu.open => Some(jobs::bindings(&self.job_menu)),
            Pane::Failures => failures::modal_bindings(&self.failures),
            _ => None,
        }
    }

    pub fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some(Status { kind, text: text.into() });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.set_status(StatusKind::Error, text);
    }

    /// The active keymap: the help's, or the pane's followed by the global one.
    pub fn bindings(&self) -> Vec<Binding> {
        if self.help_open {
            return help::bindings();
        }
        if let Some(mut modal) = self.modal_bindings() {
            modal.push(Binding::new(&[keymap::CTRL_C], "quit, always", Command::Quit));
            return modal;
        }
        let mut out = pane_bindings(self.pane, self.typing());
        out.extend(keymap::global(self.typing()));
        out
    }

    /// Makes `id` the current customer: loads plan, usage and integration from the store
    /// and opens the planner on the default range.
    pub fn select_customer(&mut self, summary: CustomerSummary) -> Vec<Effect> {
        let id = summary.customer.id;
        let context = estimate::load_context(&self.store, &self.config, id, self.now).map_err(|e| e.to_string());
        let history = self.load_history(id);
        if let Err(e) = &context {
            self.error(e.clone());
        } else {
            self.set_status(StatusKind::Info, format!("customer {id} {} selected", summary.customer.name));
        }
        self.current = Some(Current { summary, context, history });
        self.usage = usage::UsageState::default();
        let mut effects = planner::open_for_current(self);
        effects.extend(jobs::refresh(self));
        effects
    }

    /// Re-reads this month's usage: the store is shared with running imports.
    pub fn reload_usage(&mut self) {
        let Some(id) = self.current.as_ref().map(|c| c.summary.customer.id) else {
            return;
        };
        let month = Month::containing(self.now, self.tz);
        let used = self.store.usage(id, month);
        let history = self.load_history(id);
        if let Some(current) = self.current.as_mut() {
            current.history = history;
            if let Ok(ctx) = current.context.as_mut() {
                match used {
                    Ok(n) => {
                        ctx.used_this_month = n;
                        ctx.month = month;
                    }
                    Err(e) => self.status = Some(Status { kind: StatusKind::Error, text: e.to_string() }),
                }
            }
        }
        planner::recompute(self);
    }

    fn load_history(&self, id: CustomerId) -> Result<Vec<(Month, u64)>, String> {
        self.store.usage_history(id, Month::containing(self.now, self.tz), 12).map_err(|e| e.to_string())
    }

    /// Moves to a pane; `forward` says whether it was entered from before (Tab) or after
    /// (Shift-Tab), which picks the field that gets the focus.
    pub fn enter_pane(&mut self, pane: Pane, forward: bool) {
        self.lookup.typing = false;
        self.usage.typing = false;
        self.planner.typing = false;
        self.log.typing = false;
        self.failures.stop_typing();
        self.pane = pane;
        match pane {
            // Searching is all the lookup is for: its field takes the keys at once.
            Pane::Lookup => self.lookup.typing = true,
            Pane::Usage => self.reload_usage(),
            Pane::Planner => {
                self.planner.field = if forward { planner::DateField::From } else { planner::DateField::To };
                self.reload_usage();
            }
            Pane::Log => self.log.focus = if forward { log::LogFocus::Jobs } else { log::LogFocus::Lines },
            Pane::Failures => {}
        }
    }
}

/// A pane's own keys, browsing or typing.
pub fn pane_bindings(pane: Pane, typing: bool) -> Vec<Binding> {
    match pane {
        Pane::Lookup => customers::bindings(typing),
        Pane::Usage => usage::bindings(typing),
        Pane::Planner => planner::bindings(typing),
        Pane::Log => log::bindings(typing),
        Pane::Failures => failures::bindings(typing),
    }
}

/// The one place state changes.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(key) => on_key(app, key),
        Action::Resize { width, height } => {
            app.size = (width, height);
            app.dirty = true;
            Vec::new()
        }
        Action::Tick(now) => {
            let minute = |t: DateTime<Utc>| (t.date_naive(), t.hour(), t.minute());
            if minute(now) != minute(app.now) {
                app.now = now;
                planner::recompute(app);
                app.dirty = true;
            } else {
                app.now = now;
            }
            Vec::new()
        }
        Action::Spin => {
            if app.is_loading() {
                app.spinner_frame = app.spinner_frame.wrapping_add(1);
                app.dirty = true;
            }
            Vec::new()
        }
        Action::Counted { generation, result } => planner::on_counted(app, generation, result),
        Action::QuoteCopied(outcome) => {
            app.dirty = true;
            match (&outcome.saved, &outcome.clipboard) {
                (Ok(path), Ok(())) => app.set_status(
                    StatusKind::Done,
                    format!("quote copied to the clipboard (OSC 52) and saved to {}", path.display()),
                ),
                (Ok(path), Err(e)) => app
                    .set_status(StatusKind::Done, format!("quote saved to {} (clipboard failed: {e})", path.display())),
                (Err(e), Ok(())) => app.error(format!("quote copied to the clipboard, but not saved: {e}")),
                (Err(e), Err(c)) => app.error(format!("quote neither saved ({e}) nor copied ({c})")),
            }
            Vec::new()
        }
        Action::Poll(now) => {
            app.now = now;
            match app.pane {
                Pane::Log => log::read(app),
                Pane::Failures => failures::read(app),
                _ => Vec::new(),
            }
        }
        Action::FailuresRead(result) => failures::on_read(app, *result),
        Action::Retried(result) => failures::on_retried(app, result),
        Action::FailuresDone(result) => failures::on_done(app, result),
        Action::PreflightProgress { job, progress } => jobs::on_preflight_progress(app, job, progress),
        Action::PreflightDone { job, result } => jobs::on_preflight_done(app, job, *result),
        Action::LogRead(result) => log::on_read(app, *result),
        Action::JobsRead { customer, result } => jobs::on_jobs(app, customer, result),
        Action::JobCommandDone(result) => {
            app.dirty = true;
            match result {
                Ok(text) => app.set_status(StatusKind::Done, text),
                Err(e) => app.error(e),
            }
            // Show the job's new state at once.
            if app.pane == Pane::Log { log::read(app) } else { Vec::new() }
        }
        Action::JobStepDone(result) => jobs::on_step_done(app, result),
        Action::TestTransferred { job, result } => jobs::on_tested(app, job, *result),
        Action::OrderImported { customer, reference, result } => jobs::on_imported(app, customer, reference, *result),
        Action::Quit => quit(app),
    }
}

fn quit(app: &mut App) -> Vec<Effect> {
    app.quit = true;
    vec![Effect::Quit]
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if keymap::CTRL_C.matches(&key) {
        return quit(app);
    }
    app.dirty = true;
    if layout::too_small(app.size.0, app.size.1) {
        // Nothing can be seen, so nothing may be changed; quitting stays possible.
        if Key::char('q').matches(&key) {
            return quit(app);
        }
        return Vec::new();
    }
    match keymap::find(&app.bindings(), &key) {
        Some(command) => execute(app, command),
        // The help covers the panes: nothing reaches their fields.
        None if app.help_open => Vec::new(),
        None if app.typing() => match app.pane {
            Pane::Lookup => customers::on_text_key(app, key),
            Pane::Usage => usage::on_text_key(app, key),
            Pane::Planner if app.job_menu.typing() => jobs::on_text_key(app, key),
            Pane::Planner => planner::on_text_key(app, key),
            Pane::Log => log::on_text_key(app, key),
            Pane::Failures => failures::on_text_key(app, key),
        },
        None => Vec::new(),
    }
}

fn execute(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::Quit => quit(app),
        Command::Help => {
            app.help_open = true;
            Vec::new()
        }
        Command::CloseHelp => {
            app.help_open = false;
            Vec::new()
        }
        Command::GoPane(pane) => go(app, pane, true),
        Command::NextFocus => {
            if app.pane == Pane::Planner && planner::next_field(app) {
                return Vec::new();
            }
            if app.pane == Pane::Log && log::next_focus(app) {
                return Vec::new();
            }
            go(app, app.pane.offset(1), true)
        }
        Command::PrevFocus => {
            if app.pane == Pane::Planner && planner::prev_field(app) {
                return Vec::new();
            }
            if app.pane == Pane::Log && log::prev_focus(app) {
                return Vec::new();
            }
            go(app, app.pane.offset(-1), false)
        }
        other => match app.pane {
            Pane::Lookup => customers::on_command(app, other),
            Pane::Usage => usage::on_command(app, other),
            Pane::Planner if app.job_menu.open => jobs::on_command(app, other),
            Pane::Planner => planner::on_command(app, other),
            Pane::Log => log::on_command(app, other),
            Pane::Failures => failures::on_command(app, other),
        },
    }
}

/// Enters a pane and starts what it reads on entry.
fn go(app: &mut App, pane: Pane, forward: bool) -> Vec<Effect> {
    app.enter_pane(pane, forward);
    match pane {
        Pane::Planner => jobs::refresh(app),
        Pane::Log => log::on_enter(app),
        Pane::Failures => failures::on_enter(app),
        _ => Vec::new(),
    }
}
