//! The live import log: the jobs (of the current customer, or everyone), the selected job's
//! progress, counts, rate, ETA and usage against the quota, and its event log followed as it
//! grows. Everything comes from the store on a tick, so it attaches to a job run by any
//! process; the reads are effects, this module only keeps and draws what they brought.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::fit;
use crate::domain::calendar::{DateRange, Month, local_date};
use crate::domain::customer::CustomerId;
use crate::domain::job::{JobState, JobStep, next_state};
use crate::domain::money::format_count;
use crate::domain::runtime::format_duration_da;
use crate::store::{Event, Job, JobCommand, JobId, JobKind, Level};
use crate::tui::app::{App, Effect, Pane};
use crate::tui::keymap::{Binding, Command, Key};
use crate::tui::layout;
use crate::tui::text_field::{self, FieldState};
use crate::tui::theme::Theme;

/// Log lines kept in memory; older ones drop off the top (the store keeps them all).
pub const MAX_EVENTS: usize = 20_000;
/// The window the orders-per-minute figure is measured over (shorter just after the start).
pub const RATE_WINDOW_MINUTES: i64 = 5;
/// The shortest window, so the first seconds of a run do not give wild figures.
pub const MIN_RATE_WINDOW_SECONDS: i64 = 30;

/// The window for the rate at `now`: the last five minutes, or the time since the start
/// when that is shorter (else a young run's rate reads far too low).
pub fn rate_window(started: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Duration {
    let full = Duration::minutes(RATE_WINDOW_MINUTES);
    match started {
        Some(t) if now - t < full => (now - t).max(Duration::seconds(MIN_RATE_WINDOW_SECONDS)),
        _ => full,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LevelFilter {
    #[default]
    All,
    Warnings,
    Errors,
}

impl LevelFilter {
    pub fn admits(self, level: Level) -> bool {
        match self {
            LevelFilter::All => true,
            LevelFilter::Warnings => level != Level::Info,
            LevelFilter::Errors => level == Level::Error,
        }
    }

    fn next(self) -> LevelFilter {
        match self {
            LevelFilter::All => LevelFilter::Warnings,
            LevelFilter::Warnings => LevelFilter::Errors,
            LevelFilter::Errors => LevelFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LevelFilter::All => "all",
            LevelFilter::Warnings => "warn+",
            LevelFilter::Errors => "errors",
        }
    }
}

/// Which part of the pane the arrow keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFocus {
    #[default]
    Jobs,
    Lines,
}

/// A job in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: JobId,
    pub customer_id: CustomerId,
    pub customer: String,
    pub kind: JobKind,
    pub state: JobState,
    pub range: Option<DateRange>,
    pub quoted_orders: u64,
}

impl JobRow {
    pub fn of(job: &Job, customer: &str) -> JobRow {
        JobRow {
            id: job.id,
            customer_id: job.customer_id,
            customer: customer.to_string(),
            kind: job.kind,
            state: job.state,
            range: job.range,
            quoted_orders: job.quoted_orders,
        }
    }

    pub fn range_text(&self) -> String {
        match (self.kind, self.range) {
            (_, Some(r)) => format!("{} – {}", r.from, r.to),
            (JobKind::Single, None) => "single orders".to_string(),
            (JobKind::Range, None) => String::new(),
        }
    }
}

/// This month's usage of the job's customer against the plan's quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageFigures {
    pub month: Month,
    pub used: u64,
    pub quota: u64,
    pub plan: String,
}

/// The selected job as the store had it at the last read.
#[derive(Debug, Clone)]
pub struct JobSnapshot {
    pub job: Job,
    pub customer: String,
    /// Orders per state, every state present.
    pub counts: BTreeMap<&'static str, u64>,
    pub per_minute: f64,
    /// What `per_minute` was measured over.
    pub rate_window: Duration,
    pub usage: Result<UsageFigures, String>,
    /// A worker holds a live lease.
    pub worker_live: bool,
}

impl JobSnapshot {
    /// Everything the pane shows of it is the same.
    fn same_figures(&self, other: &JobSnapshot) -> bool {
        let (a, b) = (&self.job, &other.job);
        a.id == b.id
            && a.state == b.state
            && a.listing_done == b.listing_done
            && a.lease_owner == b.lease_owner
            && a.finished_at == b.finished_at
            && self.counts == other.counts
            && self.per_minute == other.per_minute
            && self.rate_window == other.rate_window
            && self.usage == other.usage
            && self.worker_live == other.worker_live
    }
}

/// What to read: the jobs in scope, and the selected job's figures and log after `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRequest {
    pub scope: Option<CustomerId>,
    pub job: Option<JobId>,
    /// Log lines already held for `job`.
    pub after: i64,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

#[derive(Debug, Clone)]
pub struct LogData {
    pub jobs: Vec<JobRow>,
    pub snapshot: Option<JobSnapshot>,
    /// Log lines of the snapshot's job after `after`, oldest first.
    pub events: Vec<Event>,
    pub after: i64,
}

#[derive(Debug, Clone)]
pub struct LogState {
    pub all_customers: bool,
    pub jobs: Vec<JobRow>,
    pub selected: Option<JobId>,
    pub focus: LogFocus,
    pub snapshot: Option<JobSnapshot>,
    pub events: Vec<Event>,
    /// Id of the newest line held, for the next read.
    pub last_event: i64,
    /// The job `events` belong to.
    pub loaded_job: Option<JobId>,
    /// Indices into `events` of the lines the filters let through.
    pub matches: Vec<usize>,
    /// Showing the newest line and moving with new ones.
    pub follow: bool,
    /// Lines scrolled back from the newest match while not following.
    pub back: usize,
    pub filter: Input,
    pub typing: bool,
    pub level: LevelFilter,
    /// The job whose cancellation waits for a yes.
    pub confirm_cancel: Option<JobId>,
    /// A read is in flight: the next tick waits for it.
    pub reading: bool,
    pub error: Option<String>,
    /// A read has answered since the pane was opened.
    pub loaded: bool,
}

impl Default for LogState {
    fn default() -> Self {
        LogState {
            all_customers: false,
            jobs: Vec::new(),
            selected: None,
            focus: LogFocus::Jobs,
            snapshot: None,
            events: Vec::new(),
            last_event: 0,
            loaded_job: None,
            matches: Vec::new(),
            follow: true,
            back: 0,
            filter: Input::default(),
            typing: false,
            level: LevelFilter::All,
            confirm_cancel: None,
            reading: false,
            error: None,
            loaded: false,
        }
    }
}

impl LogState {
    fn admits(&self, e: &Event) -> bool {
        if !self.level.admits(e.level) {
            return false;
        }
        let needle = self.filter.value().trim().to_lowercase();
        needle.is_empty()
            || e.message.to_lowercase().contains(&needle)
            || e.reference.as_deref().is_some_and(|r| r.to_lowercase().contains(&needle))
    }

    fn rebuild_matches(&mut self) {
        self.matches = (0..self.events.len()).filter(|i| self.admits(&self.events[*i])).collect();
        self.back = self.back.min(self.max_back_hint());
    }

    /// An upper bound for `back` that does not need the screen height.
    fn max_back_hint(&self) -> usize {
        self.matches.len().saturating_sub(1)
    }

    fn push_events(&mut self, events: Vec<Event>) {
        let mut added = 0;
        for e in events {
            self.last_event = self.last_event.max(e.id);
            if self.admits(&e) {
                self.matches.push(self.events.len());
                added += 1;
            }
            self.events.push(e);
        }
        if !self.follow {
            // Keep the lines on screen where they are while the log grows below.
            self.back += added;
        }
        if self.events.len() > MAX_EVENTS + MAX_EVENTS / 4 {
            let drop = self.events.len() - MAX_EVENTS;
            self.events.drain(..drop);
            self.rebuild_matches();
        }
    }

    fn forget_lines(&mut self) {
        self.events.clear();
        self.matches.clear();
        self.last_event = 0;
        self.loaded_job = None;
        self.follow = true;
        self.back = 0;
    }

    pub fn selected_row(&self) -> Option<&JobRow> {
        self.selected.and_then(|id| self.jobs.iter().find(|j| j.id == id))
    }

    fn selected_index(&self) -> Option<usize> {
        self.selected.and_then(|id| self.jobs.iter().position(|j| j.id == id))
    }

    /// The snapshot, if it is of the selected job.
    pub fn current(&self) -> Option<&JobSnapshot> {
        self.snapshot.as_ref().filter(|s| Some(s.job.id) == self.selected)
    }
}

/// Order figures of a job: what is done and what is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Every order listed so far.
    pub total: u64,
    /// Transferred, failed, skipped or cancelled.
    pub done: u64,
    /// Pending, sending or unknown.
    pub open: u64,
}

impl Progress {
    pub fn of(counts: &BTreeMap<&'static str, u64>) -> Progress {
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        let done = n("transferred") + n("failed") + n("skipped") + n("cancelled");
        let open = n("pending") + n("sending") + n("unknown");
        Progress { total: done + open, done, open }
    }

    /// Whole per cent done, 100 only when nothing is open.
    pub fn percent(self) -> u64 {
        match self.total {
            0 => 0,
            t if self.open == 0 => 100.min(self.done * 100 / t),
            t => (self.done * 100 / t).min(99),
        }
    }
}

/// When the open orders will be done at the current rate, if they are moving at all.
pub fn eta(open: u64, per_minute: f64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if open == 0 || per_minute <= f64::EPSILON || !per_minute.is_finite() {
        return None;
    }
    let seconds = (open as f64 / per_minute * 60.0).ceil();
    (seconds < 1e9).then(|| now + Duration::seconds(seconds as i64))
}

/// The customer whose jobs are listed; `None` lists everyone's.
pub fn scope(app: &App) -> Option<CustomerId> {
    if app.log.all_customers {
        return None;
    }
    app.current.as_ref().map(|c| c.summary.customer.id)
}

/// A read of the store for the pane, unless one is in flight.
pub fn read(app: &mut App) -> Vec<Effect> {
    if app.log.reading {
        return Vec::new();
    }
    app.log.reading = true;
    let job = app.log.selected;
    let after = if app.log.loaded_job == job { app.log.last_event } else { 0 };
    vec![Effect::ReadLog(LogRequest { scope: scope(app), job, after, now: app.now, tz: app.tz })]
}

/// The pane was opened: read at once rather than at the next tick.
pub fn on_enter(app: &mut App) -> Vec<Effect> {
    read(app)
}

/// Makes `job` the selected one (another pane asked, e.g. after starting it).
pub fn select_job(app: &mut App, job: JobId) {
    if app.log.selected != Some(job) {
        app.log.selected = Some(job);
        app.log.forget_lines();
    }
}

/// A read came back.
pub fn on_read(app: &mut App, result: Result<LogData, String>) -> Vec<Effect> {
    let log = &mut app.log;
    log.reading = false;
    let data = match result {
        Ok(data) => data,
        Err(e) => {
            app.dirty |= log.error.as_ref() != Some(&e) || !log.loaded;
            log.loaded = true;
            log.error = Some(e);
            return Vec::new();
        }
    };
    // A frame only when something on screen changed (the read runs twice a second).
    app.dirty |= !log.loaded
        || log.error.is_some()
        || log.jobs != data.jobs
        || !data.events.is_empty()
        || match (&log.snapshot, &data.snapshot) {
            (Some(a), Some(b)) => !a.same_figures(b),
            (None, None) => false,
            _ => true,
        };
    log.loaded = true;
    log.error = None;
    log.jobs = data.jobs;
    if log.selected_row().is_none() {
        log.selected = log.jobs.first().map(|j| j.id);
    }
    let Some(snapshot) = data.snapshot else {
        log.snapshot = None;
        return Vec::new();
    };
    let id = snapshot.job.id;
    if Some(id) != log.selected {
        // The selection moved while this was read: read the new one.
        return read(app);
    }
    if log.loaded_job != Some(id) {
        log.forget_lines();
        if data.after == 0 {
            log.loaded_job = Some(id);
            log.push_events(data.events);
        }
    } else if data.after == log.last_event {
        log.push_events(data.events);
    }
    log.snapshot = Some(snapshot);
    Vec::new()
}

/// The pane's keys while browsing or while typing in the filter.
pub fn bindings(typing: bool) -> Vec<Binding> {
    let k = Key::plain;
    if typing {
        return vec![
            Binding::new(&[k(KeyCode::Esc), k(KeyCode::Enter)], "leave the filter field", Command::LeaveField)
                .hint("Esc", "leave filter"),
            Binding::new(&[k(KeyCode::Up)], "previous line", Command::RowUp),
            Binding::new(&[k(KeyCode::Down)], "next line", Command::RowDown),
            Binding::new(&[k(KeyCode::PageUp)], "a page back in the log", Command::PageUp),
            Binding::new(&[k(KeyCode::PageDown)], "a page on in the log", Command::PageDown),
        ];
    }
    vec![
        Binding::new(&[k(KeyCode::Up), Key::char('k')], "previous job / log line", Command::RowUp).hint("↑↓", "move"),
        Binding::new(&[k(KeyCode::Down), Key::char('j')], "next job / log line", Command::RowDown),
        Binding::new(&[k(KeyCode::PageUp)], "a page back in the log", Command::PageUp),
        Binding::new(&[k(KeyCode::PageDown)], "a page on in the log", Command::PageDown),
        Binding::new(&[k(KeyCode::Home), Key::char('g')], "the oldest log line", Command::FirstRow),
        Binding::new(&[k(KeyCode::End), Key::char('G'), Key::char('F')], "follow the newest lines", Command::Follow)
            .hint("F", "follow"),
        Binding::new(&[Key::char('/')], "filter the log", Command::TypeFilter).hint("/", "filter"),
        Binding::new(&[Key::char('l')], "level: all, warn+, errors", Command::CycleLevel),
        Binding::new(&[Key::char('p')], "pause or resume the job", Command::PauseResume).hint("p", "pause"),
        Binding::new(&[Key::char('c')], "cancel the job (asks first)", Command::CancelJob).hint("c", "cancel"),
        Binding::new(&[Key::char('a')], "this customer's jobs / all", Command::ToggleJobScope),
        Binding::new(&[Key::char('f')], "the job's failures", Command::OpenFailures),
    ]
}

/// While the cancel question is open, only its answers count.
pub fn confirm_bindings() -> Vec<Binding> {
    vec![
        Binding::new(&[Key::char('y')], "yes, cancel the job", Command::Confirm).hint("y", "cancel the job"),
        Binding::new(&[Key::char('n'), Key::plain(KeyCode::Esc)], "no, let it run", Command::Dismiss)
            .hint("n/Esc", "keep it"),
    ]
}

/// Tab from the job list to the log; past the log, the next pane.
pub fn next_focus(app: &mut App) -> bool {
    let moved = app.log.focus == LogFocus::Jobs;
    app.log.focus = LogFocus::Lines;
    moved
}

pub fn prev_focus(app: &mut App) -> bool {
    let moved = app.log.focus == LogFocus::Lines;
    app.log.focus = LogFocus::Jobs;
    moved
}

pub fn on_command(app: &mut App, command: Command) -> Vec<Effect> {
    let page = log_rows(app).max(1);
    match command {
        Command::RowUp if app.log.focus == LogFocus::Jobs && !app.log.typing => move_job(app, -1),
        Command::RowDown if app.log.focus == LogFocus::Jobs && !app.log.typing => move_job(app, 1),
        Command::RowUp => scroll_back(app, 1, page),
        Command::RowDown => scroll_on(app, 1),
        Command::PageUp => scroll_back(app, page, page),
        Command::PageDown => scroll_on(app, page),
        Command::FirstRow => scroll_back(app, usize::MAX, page),
        Command::Follow => {
            app.log.follow = true;
            app.log.back = 0;
            Vec::new()
        }
        Command::TypeFilter => {
            app.log.typing = true;
            Vec::new()
        }
        Command::LeaveField => {
            app.log.typing = false;
            Vec::new()
        }
        Command::CycleLevel => {
            app.log.level = app.log.level.next();
            refilter(app);
            Vec::new()
        }
        Command::ToggleJobScope => {
            app.log.all_customers = !app.log.all_customers;
            app.log.reading = false;
            read(app)
        }
        Command::PauseResume => pause_resume(app),
        Command::CancelJob => ask_cancel(app),
        Command::Confirm => {
            let Some(job) = app.log.confirm_cancel.take() else {
                return Vec::new();
            };
            vec![Effect::JobCommand { job, command: JobCommand::Cancel }]
        }
        Command::Dismiss => {
            app.log.confirm_cancel = None;
            app.set_status(crate::tui::app::StatusKind::Info, "not cancelled");
            Vec::new()
        }
        Command::OpenFailures => {
            app.enter_pane(Pane::Failures, true);
            crate::tui::panes::failures::on_enter(app)
        }
        _ => Vec::new(),
    }
}

fn move_job(app: &mut App, by: isize) -> Vec<Effect> {
    let n = app.log.jobs.len();
    if n == 0 {
        return Vec::new();
    }
    let i = app.log.selected_index().unwrap_or(0) as isize;
    let j = (i + by).clamp(0, n as isize - 1) as usize;
    let id = app.log.jobs[j].id;
    if app.log.selected == Some(id) {
        return Vec::new();
    }
    select_job(app, id);
    app.log.reading = false;
    read(app)
}

fn scroll_back(app: &mut App, lines: usize, page: usize) -> Vec<Effect> {
    let log = &mut app.log;
    let max_back = log.matches.len().saturating_sub(page);
    log.back = log.back.saturating_add(lines).min(max_back);
    if log.back > 0 {
        log.follow = false;
    }
    Vec::new()
}

fn scroll_on(app: &mut App, lines: usize) -> Vec<Effect> {
    let log = &mut app.log;
    log.back = log.back.saturating_sub(lines);
    if log.back == 0 {
        // At the end again: follow the new lines.
        log.follow = true;
    }
    Vec::new()
}

fn pause_resume(app: &mut App) -> Vec<Effect> {
    let Some(s) = app.log.current() else {
        app.error("no job selected: pick one in the list above");
        return Vec::new();
    };
    let (job, state) = (s.job.id, s.job.state);
    let (step, command) = if state == JobState::Paused {
        (JobStep::Resume, JobCommand::Resume)
    } else {
        (JobStep::Pause, JobCommand::Pause)
    };
    match next_state(job, state, step) {
        Ok(_) => vec![Effect::JobCommand { job, command }],
        Err(e) => {
            app.error(e.to_string());
            Vec::new()
        }
    }
}

fn ask_cancel(app: &mut App) -> Vec<Effect> {
    let Some(s) = app.log.current() else {
        app.error("no job selected: pick one in the list above");
        return Vec::new();
    };
    let (job, state) = (s.job.id, s.job.state);
    match next_state(job, state, JobStep::Cancel) {
        Ok(_) => {
            app.log.confirm_cancel = Some(job);
            Vec::new()
        }
        Err(e) => {
            app.error(e.to_string());
            Vec::new()
        }
    }
}

/// A key typed into the filter.
pub fn on_text_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(request) = to_input_request(&TermEvent::Key(key)) else {
        return Vec::new();
    };
    if app.log.filter.handle(request).is_some_and(|c| c.value) {
        refilter(app);
    }
    Vec::new()
}

/// The filters changed: the lines on screen stay within the matches, at the end following.
fn refilter(app: &mut App) {
    let rows = log_rows(app);
    let log = &mut app.log;
    log.rebuild_matches();
    log.back = log.back.min(log.matches.len().saturating_sub(rows));
    if log.back == 0 {
        log.follow = true;
    }
}

/// Rows above the log: the jobs title and list, five lines about the job, the log's title.
fn sections(height: u16, jobs: usize) -> (u16, u16) {
    let list = (jobs.max(1) as u16).min(if height >= 30 { 6 } else { 3 });
    let log = height.saturating_sub(1 + list + 5 + 1);
    (list, log)
}

/// Log lines on screen, for paging.
fn log_rows(app: &App) -> usize {
    let (w, h) = app.size;
    let border = if layout::bordered(w, h) { 2 } else { 0 };
    let body = h.saturating_sub(4 + border);
    usize::from(sections(body, app.log.jobs.len()).1)
}

const BAR_MIN: usize = 10;

pub fn draw(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let log = &app.log;
    let (list_rows, _) = sections(area.height, log.jobs.len());
    let [title, list, facts, log_title, lines] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(list_rows),
        Constraint::Length(5),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    draw_title(app, frame, title, focused);
    if let Some(e) = &log.error {
        let text = Line::styled(format!("✗ cannot read the jobs: {e}"), theme.error());
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), list);
        return;
    }
    if log.jobs.is_empty() {
        let text = if !log.loaded {
            "reading the jobs…".to_string()
        } else if scope(app).is_some() {
            "No import job for this customer yet: create one from 3 Planner with j, or press a for everyone's jobs."
                .to_string()
        } else {
            "No import jobs yet: create one from 3 Planner with j (or importdesk job create).".to_string()
        };
        frame.render_widget(Paragraph::new(text).style(theme.muted()).wrap(Wrap { trim: true }), list);
        return;
    }
    draw_jobs(app, frame, list, focused);
    match log.current() {
        Some(s) => {
            frame.render_widget(Paragraph::new(fact_lines(s, app.now, app.tz, usize::from(facts.width), theme)), facts)
        }
        None => frame.render_widget(Line::styled("reading the job…", theme.muted()), facts),
    }
    draw_log_title(app, frame, log_title, focused);
    draw_lines(app, frame, lines);
    if let Some(job) = log.confirm_cancel {
        draw_confirm(app, frame, area, job);
    }
}

fn draw_title(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let marker = if focused && app.log.focus == LogFocus::Jobs { "▶ " } else { "  " };
    let scope_text = match (scope(app), &app.current) {
        (Some(_), Some(c)) => format!("Jobs of {} (a: everyone's)", c.summary.customer.name),
        _ => "Jobs of every customer".to_string(),
    };
    let scope_text = if app.log.all_customers && app.current.is_some() {
        format!("{scope_text} (a: this customer's)")
    } else {
        scope_text
    };
    let text = fit(&format!("{marker}{scope_text}"), usize::from(area.width));
    frame.render_widget(Line::styled(text, theme.title()), area);
}

fn draw_jobs(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let log = &app.log;
    let rows = usize::from(area.height);
    let selected = log.selected_index().unwrap_or(0);
    let offset = (selected + 1).saturating_sub(rows.max(1));
    let width = usize::from(area.width);
    let lines: Vec<Line> = log
        .jobs
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, j)| {
            let is_selected = i == selected;
            let marker = if is_selected { "▶" } else { " " };
            let text = format!("{marker} {:>4}  {:<18} {:<23}  {}", j.id, j.state.label(), j.range_text(), j.customer);
            let style = if is_selected && focused && log.focus == LogFocus::Jobs {
                theme.selected()
            } else if is_selected {
                theme.figure()
            } else {
                theme.plain()
            };
            Line::styled(format!("{:<width$}", fit(&text, width)), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// `[█████░░░░░]` of `width` cells, `done` of `total` filled.
fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 { 0 } else { ((u128::from(done) * width as u128) / u128::from(total)) as usize };
    format!("[{}{}]", "█".repeat(filled.min(width)), "░".repeat(width - filled.min(width)))
}

fn fact_lines(s: &JobSnapshot, now: DateTime<Utc>, tz: Tz, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let job = &s.job;
    let p = Progress::of(&s.counts);
    let n = |k: &str| format_count(s.counts.get(k).copied().unwrap_or(0));
    let mut lines = Vec::new();

    // Who is working on it.
    let worker = match (job.state, s.worker_live) {
        (_, true) => Span::styled(format!(" · worker {}", job.lease_owner.clone().unwrap_or_default()), theme.muted()),
        (JobState::Running, false) => Span::styled(
            format!(" · ! no worker is running it: start it again (importdesk job start {})", job.id),
            theme.warning(),
        ),
        _ => Span::raw(""),
    };
    let head = vec![
        Span::styled(format!("Job {}", job.id), theme.figure()),
        Span::raw(format!(" · {} · ", s.customer)),
        Span::styled(job.state.label().to_uppercase(), state_style(job.state, theme)),
        worker,
    ];
    lines.push(fit_spans(head, width));

    // Progress.
    let suffix = if job.listing_done {
        format!("  {:>3} %  {} of {}", p.percent(), format_count(p.done), format_count(p.total))
    } else {
        format!("  {} of {} listed so far · listing…", format_count(p.done), format_count(p.total))
    };
    let bar_width = width.saturating_sub(suffix.chars().count() + 2).max(BAR_MIN);
    lines.push(Line::from(vec![Span::styled(bar(p.done, p.total, bar_width), theme.bar()), Span::raw(suffix)]));

    // Counts: every figure with its word, so nothing is told by colour alone.
    let mut counts = vec![
        Span::styled(n("transferred"), theme.figure()),
        Span::styled(" transferred · ", theme.label()),
        Span::styled(
            n("failed"),
            if s.counts.get("failed").copied().unwrap_or(0) > 0 { theme.error() } else { theme.figure() },
        ),
        Span::styled(" failed · ", theme.label()),
        Span::styled(format_count(s.counts["pending"] + s.counts.get("sending").copied().unwrap_or(0)), theme.figure()),
        Span::styled(" pending · ", theme.label()),
        Span::styled(n("unknown"), theme.figure()),
        Span::styled(" unknown · ", theme.label()),
        Span::styled(n("skipped"), theme.figure()),
        Span::styled(" skipped", theme.label()),
    ];
    if s.counts.get("cancelled").copied().unwrap_or(0) > 0 {
        counts.push(Span::styled(" · ", theme.label()));
        counts.push(Span::styled(n("cancelled"), theme.figure()));
        counts.push(Span::styled(" cancelled", theme.label()));
    }
    lines.push(fit_spans(counts, width));

    // Rate and finish.
    let rate = if s.per_minute >= 10.0 { format!("{:.0}", s.per_minute) } else { format!("{:.1}", s.per_minute) };
    let mut rate_line = Vec::new();
    if matches!(job.state, JobState::Running | JobState::Paused) {
        rate_line.push(Span::styled(rate, theme.figure()));
        let secs = s.rate_window.num_seconds().max(0);
        let window = match (secs / 60, secs % 60) {
            (0, s) => format!("{s} s"),
            (m, 0) => format!("{m} min"),
            (m, s) => format!("{m} min {s} s"),
        };
        rate_line.push(Span::styled(format!(" orders/min (last {window}) · "), theme.label()));
    }
    let clock = |t: DateTime<Utc>| {
        let local = t.with_timezone(&tz);
        if local.date_naive() == local_date(now, tz) {
            local.format("%H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        }
    };
    match job.state {
        JobState::Finished | JobState::Billed => {
            let at = job.finished_at.map(clock).unwrap_or_default();
            let took = match (job.started_at, job.finished_at) {
                (Some(a), Some(b)) if b > a => {
                    format!(", {} after the start", format_duration_da((b - a).num_seconds() as u64))
                }
                _ => String::new(),
            };
            rate_line.push(Span::styled(format!("✓ finished {at}{took}"), theme.ok()));
        }
        JobState::Cancelled => rate_line.push(Span::styled("cancelled: open orders were not sent", theme.warning())),
        JobState::Paused => rate_line.push(Span::styled("‖ paused: p resumes", theme.warning())),
        JobState::Running => {
            // While the range is still being read, the quote's count is the better guess.
            let open = if job.listing_done { p.open } else { p.open.max(job.quoted_orders.saturating_sub(p.done)) };
            let guess = if job.listing_done { "" } else { "~" };
            match eta(open, s.per_minute, now) {
                Some(at) => rate_line.push(Span::styled(
                    format!(
                        "ETA {guess}{} (in {guess}{})",
                        clock(at),
                        format_duration_da((at - now).num_seconds().max(0) as u64)
                    ),
                    theme.figure(),
                )),
                None if open == 0 => rate_line.push(Span::styled("finishing…", theme.label())),
                None => rate_line.push(Span::styled("ETA — (nothing transferred lately)", theme.muted())),
            }
        }
        other => rate_line.push(Span::styled(format!("not started: {}", other.label()), theme.muted())),
    }
    lines.push(fit_spans(rate_line, width));

    // Usage against the quota, the quota marked where extra orders start.
    lines.push(match &s.usage {
        Ok(u) => usage_line(u, p.open, width, theme),
        Err(e) => Line::styled(fit(&format!("usage: {e}"), width), theme.error()),
    });
    lines
}

fn state_style(state: JobState, theme: Theme) -> Style {
    match state {
        JobState::Running => theme.ok().patch(theme.figure()),
        JobState::Paused | JobState::Cancelled => theme.warning().patch(theme.figure()),
        _ => theme.figure(),
    }
}

/// `Usage dec 2026 [████┃▓▓░░]  250 / 200 · 50 extra · 515 when done`: `█` within the
/// quota, `▓` extra orders, `░` what the open orders will add, `┃` the quota.
fn usage_line(u: &UsageFigures, open: u64, width: usize, theme: Theme) -> Line<'static> {
    let after = u.used + open;
    let extra = u.used.saturating_sub(u.quota);
    let label = format!("Usage {} {} ", u.month.short_name_da(), u.month.year);
    let mut tail = format!("  {} / {}", format_count(u.used), format_count(u.quota));
    if extra > 0 {
        tail.push_str(&format!(" · {} extra", format_count(extra)));
    }
    if open > 0 {
        let extra_after = after.saturating_sub(u.quota);
        tail.push_str(&format!(" · {} when done", format_count(after)));
        if extra_after > extra {
            tail.push_str(&format!(" ({} extra)", format_count(extra_after)));
        }
    }
    let cells = width.saturating_sub(label.chars().count() + tail.chars().count() + 2).max(BAR_MIN);
    let scale = u.quota.max(after).max(1);
    let at = |v: u64| ((u128::from(v) * cells as u128) / u128::from(scale)) as usize;
    let (within, used, projected, quota_at) = (at(u.used.min(u.quota)), at(u.used), at(after), at(u.quota));
    let mut bar: Vec<(char, Style)> = (0..cells)
        .map(|i| {
            if i < within {
                ('█', theme.bar())
            } else if i < used {
                ('▓', theme.bar_over())
            } else if i < projected {
                ('░', theme.muted())
            } else {
                (' ', theme.plain())
            }
        })
        .collect();
    if u.quota > 0 {
        let i = quota_at.min(cells.saturating_sub(1));
        bar[i] = ('┃', theme.quota_line());
    }
    let mut spans = vec![Span::styled(label, theme.label()), Span::raw("[")];
    spans.extend(bar.into_iter().map(|(c, st)| Span::styled(c.to_string(), st)));
    spans.push(Span::raw("]"));
    spans.push(Span::styled(tail, theme.plain()));
    Line::from(spans)
}

/// Cuts a line of spans to `width` cells.
fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = s.content.chars().count();
        if used + w <= width {
            used += w;
            out.push(s);
        } else {
            let room = width.saturating_sub(used);
            if room > 0 {
                out.push(Span::styled(fit(&s.content, room), s.style));
            }
            break;
        }
    }
    Line::from(out)
}

fn draw_log_title(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let log = &app.log;
    let marker = if focused && log.focus == LogFocus::Lines { "▶ " } else { "  " };
    let mut spans = vec![Span::styled(format!("{marker}Log"), theme.title())];
    let position = if log.follow {
        " · following".to_string()
    } else {
        format!(" · {} back, F follows", format_count(log.back as u64))
    };
    spans.push(Span::styled(position, if log.follow { theme.label() } else { theme.warning() }));
    spans.push(Span::styled(format!(" · level {}", log.level.label()), theme.label()));
    let filtering = !log.filter.value().is_empty();
    if filtering || log.typing {
        spans.push(Span::styled(" · / ", theme.label()));
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let room = usize::from(area.width).saturating_sub(used + 12).clamp(8, 30) as u16;
        let [_, field, count] =
            Layout::horizontal([Constraint::Length(used as u16), Constraint::Length(room), Constraint::Fill(1)])
                .areas(area);
        frame.render_widget(Line::from(spans), area);
        let state = if log.typing { FieldState::Typing } else { FieldState::Idle };
        text_field::draw(frame, field, &log.filter, state, theme);
        let counted = format!(" {}/{}", format_count(log.matches.len() as u64), format_count(log.events.len() as u64));
        frame.render_widget(Span::styled(counted, theme.muted()), count);
        return;
    }
    frame.render_widget(fit_spans(spans, usize::from(area.width)), area);
}

fn draw_lines(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let log = &app.log;
    let rows = usize::from(area.height);
    if log.matches.is_empty() {
        let text = if log.events.is_empty() {
            "no log lines yet"
        } else {
            "no line matches the filter (Esc, then clear it; l changes the level)"
        };
        frame.render_widget(Line::styled(format!("  {text}"), theme.muted()), area);
        return;
    }
    let back = if log.follow { 0 } else { log.back };
    let bottom = log.matches.len().saturating_sub(back);
    let top = bottom.saturating_sub(rows);
    let width = usize::from(area.width);
    let wide = width >= 110;
    let today = local_date(app.now, app.tz);
    // Only the visible rows are built.
    let lines: Vec<Line> = log.matches[top..bottom]
        .iter()
        .filter_map(|i| log.events.get(*i))
        .map(|e| {
            let local = e.at.with_timezone(&app.tz);
            let stamp = if wide || local.date_naive() != today {
                local.format("%Y-%m-%d %H:%M:%S").to_string()
            } else {
                local.format("%H:%M:%S").to_string()
            };
            let (word, style) = match e.level {
                Level::Info => ("INFO ", theme.plain()),
                Level::Warn => ("WARN ", theme.warning()),
                Level::Error => ("ERROR", theme.error()),
            };
            let head = format!("  {stamp} {word} ");
            let room = width.saturating_sub(head.chars().count());
            Line::from(vec![
                Span::styled(head, style.patch(theme.label())),
                Span::styled(fit(&e.message.replace('\n', " "), room), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_confirm(app: &App, frame: &mut Frame, area: Rect, job: JobId) {
    let theme = app.theme;
    let open = app.log.current().map(|s| Progress::of(&s.counts).open).unwrap_or(0);
    let lines = vec![
        Line::styled(format!("Cancel job {job}?"), theme.title()),
        Line::raw(""),
        Line::raw(format!(
            "{} open orders will not be sent. Orders already transferred stay booked.",
            format_count(open)
        )),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(" cancel the job   "),
            Span::styled("n/Esc", theme.key()),
            Span::raw(" keep it"),
        ]),
    ];
    super::popup(frame, area, " Cancel the import ", lines, 60, theme);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn counts(pairs: &[(&'static str, u64)]) -> BTreeMap<&'static str, u64> {
        let mut c: BTreeMap<&'static str, u64> =
            crate::domain::job::OrderState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        c.extend(pairs.iter().copied());
        c
    }

    #[test]
    fn progress_counts_every_final_state_as_done() {
        let p = Progress::of(&counts(&[
            ("transferred", 40),
            ("failed", 5),
            ("skipped", 3),
            ("cancelled", 2),
            ("pending", 50),
        ]));
        assert_eq!((p.done, p.open, p.total), (50, 50, 100));
        assert_eq!(p.percent(), 50);
        let almost = Progress::of(&counts(&[("transferred", 999), ("unknown", 1)]));
        assert_eq!(almost.percent(), 99, "100 % only when nothing is open");
        assert_eq!(Progress::of(&counts(&[("transferred", 3)])).percent(), 100);
        assert_eq!(Progress::of(&counts(&[])).percent(), 0);
    }

    #[test]
    fn a_young_run_measures_its_rate_since_the_start() {
        let now = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
        assert_eq!(rate_window(Some(now - Duration::minutes(2)), now), Duration::minutes(2));
        assert_eq!(rate_window(Some(now - Duration::seconds(5)), now), Duration::seconds(30));
        assert_eq!(rate_window(Some(now - Duration::hours(2)), now), Duration::minutes(5));
        assert_eq!(rate_window(None, now), Duration::minutes(5));
    }

    #[test]
    fn eta_needs_a_rate() {
        let now = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
        assert_eq!(eta(120, 60.0, now), Some(now + Duration::minutes(2)));
        assert_eq!(eta(120, 0.0, now), None);
        assert_eq!(eta(0, 60.0, now), None);
    }

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(1, 4, 8), "[██░░░░░░]");
        assert_eq!(bar(0, 0, 3), "[░░░]");
        assert_eq!(bar(9, 9, 3), "[███]");
    }

    #[test]
    fn levels_filter_upwards() {
        assert!(LevelFilter::All.admits(Level::Info));
        assert!(!LevelFilter::Warnings.admits(Level::Info));
        assert!(LevelFilter::Warnings.admits(Level::Error));
        assert!(!LevelFilter::Errors.admits(Level::Warn));
    }
}
