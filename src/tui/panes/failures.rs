//! The failure inspector: a job's failed orders grouped by cause (largest first), the orders
//! of the selected group (reference, date, customer, detail) with `/` to filter, and one
//! order in full (cause, detail, value, fix hint, attempts, the vendor's raw response).
//! `r` retries an order, `R` the whole group after a confirmation that states the count,
//! `s` skips an order with a reason, `e`/`E` export the group or every failure to CSV.
//! `p` shows the preflight's predicted failures instead, as their own list.
//!
//! Only a window of the selected group's rows is held (read as an effect around the
//! selection), so a group of 100k orders costs what the screen shows.

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::fit;
use super::log::JobRow;
use crate::domain::cause::Cause;
use crate::domain::customer::CustomerId;
use crate::domain::job::{JobState, OrderState};
use crate::domain::money::format_count;
use crate::engine::triage::{RetrySummary, Selection};
use crate::store::{JobId, PreflightSummary};
use crate::tui::app::{App, Effect, StatusKind};
use crate::tui::keymap::{Binding, Command, Key};
use crate::tui::layout;
use crate::tui::text_field::{self, FieldState};

/// Rows of the selected group held around the selection.
pub const WINDOW: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The arrows move between groups.
    #[default]
    Groups,
    /// The arrows move between the selected group's orders.
    Orders,
    /// One order in full.
    Detail,
}

/// One failed (or predicted) order as the inspector shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRow {
    pub reference: String,
    pub shop_id: String,
    pub created_at: DateTime<Utc>,
    pub customer: Option<String>,
    pub state: Option<OrderState>,
    pub cause: String,
    pub detail: String,
    pub value: Option<String>,
    pub fix_hint: String,
    /// `None` for a predicted failure: it has not been sent.
    pub attempts: Option<u32>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub vendor_response: Option<String>,
}

/// What to read: the groups of a job's failures (or predictions), and a window of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailuresRequest {
    /// Used when `job` is not given: that customer's newest job (everyone's when `None`).
    pub scope: Option<CustomerId>,
    pub job: Option<JobId>,
    pub predicted: bool,
    pub filter: String,
    /// The group whose rows to read; the largest when it is gone.
    pub cause: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct FailuresData {
    pub request: FailuresRequest,
    pub job: Option<JobRow>,
    /// `(cause, count)` matching the filter, largest first.
    pub groups: Vec<(String, u64)>,
    /// Failed orders of the job, unfiltered.
    pub failed_total: u64,
    /// The group `rows` are of.
    pub cause: Option<String>,
    pub offset: usize,
    pub rows: Vec<FailureRow>,
    pub preflight: Option<PreflightSummary>,
}

/// A question waiting for yes or no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryQuestion {
    pub job: JobId,
    pub cause: String,
    pub count: u64,
}

/// The skip form: why this order is left out.
#[derive(Debug, Clone)]
pub struct SkipForm {
    pub job: JobId,
    pub reference: String,
    pub reason: Input,
}

#[derive(Debug, Clone, Default)]
pub struct FailuresState {
    pub job: Option<JobId>,
    pub job_row: Option<JobRow>,
    pub predicted: bool,
    pub view: View,
    pub groups: Vec<(String, u64)>,
    pub failed_total: u64,
    /// The selected group's cause code.
    pub cause: Option<String>,
    /// The selected order's index within the group.
    pub order: usize,
    /// Where the held rows start within the group.
    pub offset: usize,
    pub rows: Vec<FailureRow>,
    /// The cause, filter and mode the held rows were read for.
    pub rows_for: Option<(Option<String>, String, bool)>,
    pub filter: Input,
    pub filter_typing: bool,
    pub detail_scroll: u16,
    pub confirm: Option<RetryQuestion>,
    pub skip: Option<SkipForm>,
    /// A retry (or skip, export) is running; the text says what.
    pub busy: Option<String>,
    pub reading: bool,
    pub loaded: bool,
    pub error: Option<String>,
    pub preflight: Option<PreflightSummary>,
}

impl FailuresState {
    pub fn typing(&self) -> bool {
        self.filter_typing || self.skip.is_some()
    }

    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    pub fn stop_typing(&mut self) {
        self.filter_typing = false;
    }

    fn group_count(&self) -> u64 {
        self.cause.as_ref().and_then(|c| self.groups.iter().find(|(g, _)| g == c)).map_or(0, |(_, n)| *n)
    }

    fn group_index(&self) -> usize {
        self.cause.as_ref().and_then(|c| self.groups.iter().position(|(g, _)| g == c)).unwrap_or(0)
    }

    /// The selected order, if its row is held.
    pub fn selected_row(&self) -> Option<&FailureRow> {
        self.order.checked_sub(self.offset).and_then(|i| self.rows.get(i))
    }

    fn filter_text(&self) -> String {
        self.filter.value().trim().to_string()
    }

    fn window_holds(&self, index: usize) -> bool {
        self.rows_for == Some((self.cause.clone(), self.filter_text(), self.predicted))
            && index >= self.offset
            && index < self.offset + self.rows.len()
    }
}

/// A read of the store for the pane, unless one is in flight.
pub fn read(app: &mut App) -> Vec<Effect> {
    let f = &mut app.failures;
    if f.reading {
        return Vec::new();
    }
    f.reading = true;
    let offset = if f.window_holds(f.order) { f.offset } else { f.order.saturating_sub(WINDOW / 2) };
    let scope = app.current.as_ref().map(|c| c.summary.customer.id);
    vec![Effect::ReadFailures(FailuresRequest {
        scope,
        job: f.job,
        predicted: f.predicted,
        filter: f.filter_text(),
        cause: f.cause.clone(),
        offset,
        limit: WINDOW,
    })]
}

/// Entering the pane: the inspector is about the job selected in the log, if any.
pub fn on_enter(app: &mut App) -> Vec<Effect> {
    if let Some(job) = app.log.selected
        && app.failures.job != Some(job)
    {
        show_job(app, job);
    }
    app.failures.reading = false;
    read(app)
}

fn show_job(app: &mut App, job: JobId) {
    let keep_mode = app.failures.predicted;
    app.failures = FailuresState { job: Some(job), predicted: keep_mode, ..FailuresState::default() };
}

/// What the pane shows, to tell whether a read changed anything.
type Shown = (Option<JobRow>, Vec<(String, u64)>, u64, Option<String>, usize, usize, Vec<FailureRow>, View, bool);

fn shown(f: &FailuresState) -> (Shown, Option<PreflightSummary>, Option<String>) {
    let figures = (
        f.job_row.clone(),
        f.groups.clone(),
        f.failed_total,
        f.cause.clone(),
        f.order,
        f.offset,
        f.rows.clone(),
        f.view,
        f.loaded,
    );
    (figures, f.preflight.clone(), f.error.clone())
}

/// A read came back; a frame is drawn only when something on screen changed (the read runs
/// twice a second).
pub fn on_read(app: &mut App, result: Result<FailuresData, String>) -> Vec<Effect> {
    let before = shown(&app.failures);
    let effects = apply_read(app, result);
    app.dirty |= shown(&app.failures) != before;
    effects
}

fn apply_read(app: &mut App, result: Result<FailuresData, String>) -> Vec<Effect> {
    let f = &mut app.failures;
    f.reading = false;
    f.loaded = true;
    let data = match result {
        Ok(data) => data,
        Err(e) => {
            f.error = Some(e);
            return Vec::new();
        }
    };
    f.error = None;
    if data.request.predicted != f.predicted || data.request.filter != f.filter_text() {
        // The mode or the filter changed while this was read.
        return read(app);
    }
    match (f.job, data.job.as_ref().map(|j| j.id)) {
        // No job at all (yet): nothing to show, and nothing to read again for.
        (_, None) => {
            f.job_row = None;
            f.groups.clear();
            f.rows.clear();
            return Vec::new();
        }
        (None, Some(id)) => f.job = Some(id),
        (Some(a), Some(b)) if a == b => {}
        // The job changed while this was read.
        _ => return read(app),
    }
    f.job_row = data.job;
    f.groups = data.groups;
    f.failed_total = data.failed_total;
    f.preflight = data.preflight;
    if f.cause.as_ref().is_none_or(|c| !f.groups.iter().any(|(g, _)| g == c)) {
        // The group emptied (a retry worked) or there was none: the largest one now.
        f.cause = f.groups.first().map(|(c, _)| c.clone());
        f.order = 0;
        if f.view == View::Detail {
            f.view = View::Orders;
        }
    }
    if f.cause.is_none() && f.view != View::Groups {
        f.view = View::Groups;
    }
    f.order = f.order.min(f.group_count().saturating_sub(1) as usize);
    if data.cause == f.cause {
        f.rows = data.rows;
        f.offset = data.offset;
        f.rows_for = Some((f.cause.clone(), f.filter_text(), f.predicted));
    }
    if f.cause.is_some() && !f.window_holds(f.order) && f.group_count() > 0 {
        return read(app);
    }
    Vec::new()
}

pub fn bindings(typing: bool) -> Vec<Binding> {
    let k = Key::plain;
    if typing {
        return vec![
            Binding::new(&[k(KeyCode::Esc), k(KeyCode::Enter)], "leave the filter field", Command::LeaveField)
                .hint("Esc", "leave filter"),
            Binding::new(&[k(KeyCode::Up)], "previous", Command::RowUp),
            Binding::new(&[k(KeyCode::Down)], "next", Command::RowDown),
        ];
    }
    vec![
        Binding::new(&[k(KeyCode::Up), Key::char('k')], "previous group / order", Command::RowUp),
        Binding::new(&[k(KeyCode::Down), Key::char('j')], "next group / order", Command::RowDown),
        Binding::new(&[k(KeyCode::PageUp)], "a page up", Command::PageUp),
        Binding::new(&[k(KeyCode::PageDown)], "a page down", Command::PageDown),
        Binding::new(&[k(KeyCode::Enter), k(KeyCode::Right)], "open group, then order", Command::Open)
            .hint("Enter", "open"),
        Binding::new(&[k(KeyCode::Esc), k(KeyCode::Left)], "back", Command::Back),
        Binding::new(&[Key::char('r')], "retry the order", Command::RetryOrder).hint("r", "retry"),
        Binding::new(&[Key::char('R')], "retry the group (asks)", Command::RetryGroup).hint("R", "group"),
        Binding::new(&[Key::char('s')], "skip the order (reason)", Command::SkipOrder).hint("s", "skip"),
        Binding::new(&[Key::char('e')], "export the group to CSV", Command::Export).hint("e", "export"),
        Binding::new(&[Key::char('E')], "export all failures (CSV)", Command::ExportAll),
        Binding::new(&[Key::char('/')], "filter the orders", Command::TypeFilter).hint("/", "filter"),
        Binding::new(&[Key::char('p')], "predicted / real failures", Command::TogglePredicted),
    ]
}

/// The retry question or the skip form, while open.
pub fn modal_bindings(f: &FailuresState) -> Option<Vec<Binding>> {
    let k = Key::plain;
    if f.confirm.is_some() {
        return Some(vec![
            Binding::new(&[Key::char('y')], "yes, retry the group", Command::Confirm).hint("y", "retry them"),
            Binding::new(&[Key::char('n'), k(KeyCode::Esc)], "no", Command::Dismiss).hint("n/Esc", "no"),
        ]);
    }
    if f.skip.is_some() {
        return Some(vec![
            Binding::new(&[k(KeyCode::Enter)], "skip the order with this reason", Command::Submit)
                .hint("Enter", "skip it"),
            Binding::new(&[k(KeyCode::Esc)], "keep the order failed", Command::Dismiss).hint("Esc", "cancel"),
        ]);
    }
    None
}

/// Rows of the orders table (for paging).
fn order_rows(app: &App) -> usize {
    let (w, h) = app.size;
    let border = if layout::bordered(w, h) { 2 } else { 0 };
    let body = h.saturating_sub(4 + border);
    let (_, orders) = sections(body, app.failures.groups.len(), app.failures.filter_typing);
    usize::from(orders.saturating_sub(2)).max(1)
}

pub fn on_command(app: &mut App, command: Command) -> Vec<Effect> {
    if app.failures.confirm.is_some() {
        return answer_retry(app, command);
    }
    if app.failures.skip.is_some() {
        return answer_skip(app, command);
    }
    let page = order_rows(app);
    match command {
        Command::RowUp => move_by(app, -1),
        Command::RowDown => move_by(app, 1),
        Command::PageUp => move_by(app, -(page as isize)),
        Command::PageDown => move_by(app, page as isize),
        Command::Open => {
            let f = &mut app.failures;
            match f.view {
                View::Groups if f.cause.is_some() => f.view = View::Orders,
                View::Orders if f.selected_row().is_some() => {
                    f.view = View::Detail;
                    f.detail_scroll = 0;
                }
                _ => {}
            }
            Vec::new()
        }
        Command::Back => {
            let f = &mut app.failures;
            f.view = match f.view {
                View::Detail => View::Orders,
                _ => View::Groups,
            };
            Vec::new()
        }
        Command::TypeFilter => {
            app.failures.filter_typing = true;
            Vec::new()
        }
        Command::LeaveField => {
            app.failures.filter_typing = false;
            Vec::new()
        }
        Command::TogglePredicted => {
            let f = &mut app.failures;
            f.predicted = !f.predicted;
            f.cause = None;
            f.order = 0;
            f.rows.clear();
            f.rows_for = None;
            f.view = View::Groups;
            f.reading = false;
            read(app)
        }
        Command::RetryOrder => retry_order(app),
        Command::RetryGroup => ask_retry_group(app),
        Command::SkipOrder => open_skip(app),
        Command::Export => export(app, false),
        Command::ExportAll => export(app, true),
        _ => Vec::new(),
    }
}

fn move_by(app: &mut App, by: isize) -> Vec<Effect> {
    let f = &mut app.failures;
    match f.view {
        View::Groups => {
            let n = f.groups.len();
            if n == 0 {
                return Vec::new();
            }
            let i = (f.group_index() as isize).saturating_add(by).clamp(0, n as isize - 1) as usize;
            let cause = f.groups[i].0.clone();
            if f.cause.as_ref() != Some(&cause) {
                f.cause = Some(cause);
                f.order = 0;
                f.reading = false;
                return read(app);
            }
            Vec::new()
        }
        View::Orders => {
            let n = f.group_count() as usize;
            if n == 0 {
                return Vec::new();
            }
            f.order = (f.order as isize).saturating_add(by).clamp(0, n as isize - 1) as usize;
            if !f.window_holds(f.order) {
                f.reading = false;
                return read(app);
            }
            Vec::new()
        }
        View::Detail => {
            f.detail_scroll = (f.detail_scroll as isize).saturating_add(by).clamp(0, u16::MAX as isize) as u16;
            Vec::new()
        }
    }
}

/// Why an action on orders is not possible now, if it is not.
fn refuse_action(f: &FailuresState) -> Option<&'static str> {
    if f.predicted {
        return Some(
            "these are predicted failures, not orders of the import yet: fix them in the shop or the accounting system, then run the preflight again from 3 Planner (j, f)",
        );
    }
    if f.busy.is_some() {
        return Some("wait for the retry in progress to finish");
    }
    if f.job_row.as_ref().is_some_and(|j| j.state == JobState::Cancelled) {
        return Some("the job was cancelled: its orders are not sent any more; create a new job");
    }
    None
}

fn retry_order(app: &mut App) -> Vec<Effect> {
    if let Some(why) = refuse_action(&app.failures) {
        app.error(why);
        return Vec::new();
    }
    let f = &app.failures;
    let (Some(job), Some(row)) = (f.job, f.selected_row()) else {
        app.error("no order selected: Enter opens a group, ↑↓ picks an order");
        return Vec::new();
    };
    if f.view == View::Groups {
        app.error("open the group first (Enter) and pick the order; R retries the whole group");
        return Vec::new();
    }
    let reference = row.reference.clone();
    app.failures.busy = Some(format!("retrying order {reference}…"));
    vec![Effect::Retry { job, selection: Selection::Order(reference) }]
}

fn ask_retry_group(app: &mut App) -> Vec<Effect> {
    if let Some(why) = refuse_action(&app.failures) {
        app.error(why);
        return Vec::new();
    }
    let f = &app.failures;
    let (Some(job), Some(cause)) = (f.job, f.cause.clone()) else {
        app.error("no failed orders to retry");
        return Vec::new();
    };
    // The whole group, whatever the filter shows.
    let count = if f.filter_text().is_empty() { f.group_count() } else { 0 };
    app.failures.confirm = Some(RetryQuestion { job, cause, count });
    Vec::new()
}

fn answer_retry(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::Confirm => {
            let Some(q) = app.failures.confirm.take() else {
                return Vec::new();
            };
            app.failures.busy = Some(format!("retrying the {} orders of {}…", format_count(q.count), q.cause));
            vec![Effect::Retry { job: q.job, selection: Selection::Cause(q.cause) }]
        }
        Command::Dismiss => {
            app.failures.confirm = None;
            app.set_status(StatusKind::Info, "not retried");
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn open_skip(app: &mut App) -> Vec<Effect> {
    if let Some(why) = refuse_action(&app.failures) {
        app.error(why);
        return Vec::new();
    }
    let f = &app.failures;
    if f.view == View::Groups {
        app.error("open the group first (Enter) and pick the order to skip");
        return Vec::new();
    }
    let (Some(job), Some(row)) = (f.job, f.selected_row()) else {
        app.error("no order selected");
        return Vec::new();
    };
    let reference = row.reference.clone();
    app.failures.skip = Some(SkipForm { job, reference, reason: Input::default() });
    Vec::new()
}

fn answer_skip(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::Submit => {
            let Some(form) = app.failures.skip.as_ref() else {
                return Vec::new();
            };
            let reason = form.reason.value().trim().to_string();
            if reason.is_empty() {
                app.error("type why the order is skipped: the customer reads it later");
                return Vec::new();
            }
            let (job, reference) = (form.job, form.reference.clone());
            app.failures.skip = None;
            vec![Effect::Skip { job, reference, reason }]
        }
        Command::Dismiss => {
            app.failures.skip = None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn export(app: &mut App, all: bool) -> Vec<Effect> {
    let f = &app.failures;
    let Some(job) = f.job else {
        app.error("no job selected: pick one in 4 Log");
        return Vec::new();
    };
    let cause = if all { None } else { f.cause.clone() };
    if !all && cause.is_none() {
        app.error("no group to export");
        return Vec::new();
    }
    vec![Effect::Export { job, cause, predicted: f.predicted }]
}

pub fn on_text_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(request) = to_input_request(&Event::Key(key)) else {
        return Vec::new();
    };
    let f = &mut app.failures;
    if let Some(form) = f.skip.as_mut() {
        form.reason.handle(request);
        return Vec::new();
    }
    if f.filter.handle(request).is_some_and(|c| c.value) {
        f.order = 0;
        f.rows_for = None;
        f.reading = false;
        return read(app);
    }
    Vec::new()
}

/// A retry came back: say what moved; the groups are read again.
pub fn on_retried(app: &mut App, result: Result<RetrySummary, String>) -> Vec<Effect> {
    app.failures.busy = None;
    app.dirty = true;
    match result {
        Ok(s) => {
            let mut text = format!(
                "retried {}: {} transferred, {} still failing",
                format_count(s.retried),
                format_count(s.transferred),
                format_count(s.still_failing)
            );
            if s.pending > 0 {
                text.push_str(&format!(", {} waiting for the paused worker", format_count(s.pending)));
            }
            if !s.not_refetched.is_empty() {
                text.push_str(&format!("; not fetched again: {}", s.not_refetched.join(", ")));
            }
            let kind =
                if s.still_failing == 0 && s.not_refetched.is_empty() { StatusKind::Done } else { StatusKind::Info };
            app.set_status(kind, text);
        }
        Err(e) => app.error(e),
    }
    app.failures.reading = false;
    read(app)
}

pub fn on_done(app: &mut App, result: Result<String, String>) -> Vec<Effect> {
    app.dirty = true;
    match result {
        Ok(text) => app.set_status(StatusKind::Done, text),
        Err(e) => app.error(e),
    }
    app.failures.reading = false;
    read(app)
}

/// Heights of the groups list and the orders list (the filter line takes one when shown).
fn sections(height: u16, groups: usize, filter_shown: bool) -> (u16, u16) {
    let head = 1 + u16::from(filter_shown);
    let list = (groups.max(1) as u16).min(if height >= 30 { 10 } else { 4 }) + 1;
    let orders = height.saturating_sub(head + list + 1);
    (list, orders)
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let f = &app.failures;
    let filter_shown = f.filter_typing || !f.filter.value().is_empty();
    let [title, filter, rest] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(u16::from(filter_shown)), Constraint::Fill(1)])
            .areas(area);
    draw_title(app, frame, title);
    if filter_shown {
        draw_filter(app, frame, filter, focused);
    }
    if let Some(e) = &f.error {
        let text = Line::styled(format!("✗ cannot read the failures: {e}"), theme.error());
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), rest);
        return;
    }
    if !f.loaded {
        frame.render_widget(Line::styled("reading the failures…", theme.muted()), rest);
        return;
    }
    if f.job.is_none() {
        let text = "No import job to inspect: pick one in 4 Log (or create one from 3 Planner with j).";
        frame.render_widget(Paragraph::new(text).style(theme.muted()).wrap(Wrap { trim: true }), rest);
        return;
    }
    if f.view == View::Detail {
        draw_detail(app, frame, rest);
    } else if f.groups.is_empty() {
        frame.render_widget(Paragraph::new(empty_text(f)).style(theme.muted()).wrap(Wrap { trim: true }), rest);
    } else {
        let (list_rows, _) = sections(area.height, f.groups.len(), filter_shown);
        let [groups, _, orders] =
            Layout::vertical([Constraint::Length(list_rows), Constraint::Length(1), Constraint::Fill(1)]).areas(rest);
        draw_groups(app, frame, groups, focused);
        draw_orders(app, frame, orders, focused);
    }
    if let Some(q) = &f.confirm {
        draw_confirm(app, frame, area, q);
    }
    if let Some(form) = &f.skip {
        draw_skip(app, frame, area, form);
    }
}

fn empty_text(f: &FailuresState) -> String {
    match (f.predicted, &f.preflight, f.filter.value().is_empty()) {
        (_, _, false) => "No failure matches the filter (/ to change it, Esc then clear it).".to_string(),
        (true, None, _) => {
            "No preflight yet for this job: run one from 3 Planner (j, then f) to see the failures before the import."
                .to_string()
        }
        (true, Some(p), _) => format!(
            "✓ The preflight of {} checked {} orders and predicts no failure.",
            p.checked_at.format("%Y-%m-%d %H:%M"),
            format_count(p.orders_checked)
        ),
        (false, _, _) => "✓ No failed orders in this job.".to_string(),
    }
}

fn draw_title(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let f = &app.failures;
    let width = usize::from(area.width);
    let mut spans = Vec::new();
    let what = if f.predicted { "Predicted failures" } else { "Failures" };
    match &f.job_row {
        Some(j) => {
            spans.push(Span::styled(format!("{what} of job {}", j.id), theme.title()));
            spans.push(Span::styled(format!(" · {} · {}", j.customer, j.state.label()), theme.label()));
        }
        None => spans.push(Span::styled(what.to_string(), theme.title())),
    }
    let count = if f.predicted {
        match &f.preflight {
            Some(p) => format!(
                " · {} of {} checked (preflight {})",
                format_count(p.predicted_total()),
                format_count(p.orders_checked),
                p.checked_at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M")
            ),
            None => " · no preflight yet".to_string(),
        }
    } else {
        format!(" · {} failed", format_count(f.failed_total))
    };
    spans.push(Span::styled(count, theme.label()));
    if let Some(busy) = &f.busy {
        let spin = super::spinner(app);
        spans.push(Span::styled(format!("  {spin} {busy}"), theme.warning()));
    }
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = s.content.chars().count();
        let room = width.saturating_sub(used);
        if room == 0 {
            break;
        }
        used += w.min(room);
        out.push(Span::styled(fit(&s.content, room), s.style));
    }
    frame.render_widget(Line::from(out), area);
}

fn draw_filter(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let f = &app.failures;
    let [label, field, count] =
        Layout::horizontal([Constraint::Length(8), Constraint::Length(32), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Span::styled("Filter ", theme.label()), label);
    let state = if focused && f.filter_typing { FieldState::Typing } else { FieldState::Idle };
    text_field::draw(frame, field, &f.filter, state, theme);
    let matching: u64 = f.groups.iter().map(|(_, n)| n).sum();
    frame.render_widget(
        Span::styled(
            format!(" {} orders match (reference, customer, detail, value)", format_count(matching)),
            theme.muted(),
        ),
        count,
    );
}

fn cause_label(code: &str) -> String {
    code.parse::<Cause>().map_or_else(|_| code.to_string(), |c| c.label().to_string())
}

fn draw_groups(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let f = &app.failures;
    let width = usize::from(area.width);
    let active = focused && f.view == View::Groups;
    let heading = if f.predicted { "Predicted by cause, largest first" } else { "By cause, largest first" };
    let mut lines = vec![Line::styled(
        format!("{}{heading}", if active { "▶ " } else { "  " }),
        if active { theme.title() } else { theme.label() },
    )];
    let rows = usize::from(area.height.saturating_sub(1));
    let selected = f.group_index();
    let offset = (selected + 1).saturating_sub(rows.max(1));
    let count_width = f.groups.iter().map(|(_, n)| format_count(*n).len()).max().unwrap_or(1);
    for (i, (cause, n)) in f.groups.iter().enumerate().skip(offset).take(rows) {
        let is = i == selected;
        let label = cause_label(cause);
        let text = format!("{} {:>count_width$}  {label:<42} {cause}", if is { "▶" } else { " " }, format_count(*n),);
        let style = if is && active {
            theme.selected()
        } else if is {
            theme.figure()
        } else {
            theme.plain()
        };
        lines.push(Line::styled(format!("{:<width$}", fit(&text, width)), style));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Column widths for the orders table: reference, date, customer, and the rest for detail.
fn columns(width: usize) -> (usize, usize, usize, usize) {
    let reference = 10;
    let date = 10;
    let customer = if width >= 120 { 24 } else { 16 };
    let detail = width.saturating_sub(2 + reference + 1 + date + 1 + customer + 1);
    (reference, date, customer, detail)
}

fn draw_orders(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let f = &app.failures;
    let width = usize::from(area.width);
    let active = focused && f.view == View::Orders;
    let count = f.group_count();
    let cause = f.cause.as_deref().unwrap_or("");
    let heading = format!(
        "{}{} · {} orders{}",
        if active { "▶ " } else { "  " },
        cause_label(cause),
        format_count(count),
        if active { " · Enter shows one" } else { " · Enter opens the group" }
    );
    let mut lines = vec![Line::styled(fit(&heading, width), if active { theme.title() } else { theme.label() })];
    let (rw, dw, cw, tw) = columns(width);
    lines.push(Line::styled(
        fit(&format!("  {:<rw$} {:<dw$} {:<cw$} {}", "Order", "Date", "Customer", "Detail"), width),
        theme.label(),
    ));
    let rows = usize::from(area.height.saturating_sub(2));
    let top = (f.order + 1).saturating_sub(rows.max(1));
    // Only the visible rows are built, from the window held.
    for index in top..(top + rows).min(count as usize) {
        let Some(row) = index.checked_sub(f.offset).and_then(|i| f.rows.get(i)) else {
            lines.push(Line::styled("  …", theme.muted()));
            continue;
        };
        let is = index == f.order;
        let date = row.created_at.with_timezone(&app.tz).format("%Y-%m-%d").to_string();
        let customer = row.customer.clone().unwrap_or_else(|| "—".into());
        let text = format!(
            "{} {:<rw$} {:<dw$} {:<cw$} {}",
            if is && f.view != View::Groups { "▶" } else { " " },
            fit(&row.reference, rw),
            date,
            fit(&customer, cw),
            fit(&row.detail, tw)
        );
        let style = if is && active { theme.selected() } else { theme.plain() };
        lines.push(Line::styled(format!("{:<width$}", fit(&text, width)), style));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_detail(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let f = &app.failures;
    let Some(row) = f.selected_row() else {
        frame.render_widget(Line::styled("reading the order…", theme.muted()), area);
        return;
    };
    let label = |text: &str| Span::styled(format!("{text:<13}"), theme.label());
    let local = |t: DateTime<Utc>| t.with_timezone(&app.tz).format("%Y-%m-%d %H:%M:%S").to_string();
    let state = match (row.state, f.predicted) {
        (_, true) => "predicted to fail".to_string(),
        (Some(s), _) => s.to_string(),
        (None, _) => String::new(),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("Order {}", row.reference), theme.title()),
            Span::styled(format!(" · {state} · shop id {} · Esc back", row.shop_id), theme.label()),
        ]),
        Line::from(vec![label("Customer"), Span::raw(row.customer.clone().unwrap_or_else(|| "—".into()))]),
        Line::from(vec![label("Date"), Span::raw(local(row.created_at))]),
        Line::from(vec![
            label("Cause"),
            Span::styled(cause_label(&row.cause), theme.error()),
            Span::styled(format!(" ({})", row.cause), theme.muted()),
        ]),
        Line::from(vec![label("Detail"), Span::raw(row.detail.clone())]),
        Line::from(vec![label("Value"), Span::styled(row.value.clone().unwrap_or_else(|| "—".into()), theme.figure())]),
        Line::from(vec![label("Fix"), Span::raw(row.fix_hint.clone())]),
    ];
    if let Some(attempts) = row.attempts {
        let last = row.last_attempt.map(local).unwrap_or_else(|| "never".into());
        lines.push(Line::from(vec![label("Attempts"), Span::raw(format!("{attempts} · last {last}"))]));
    }
    lines.push(Line::default());
    match &row.vendor_response {
        Some(raw) => {
            lines.push(Line::styled("The accounting system's response", theme.title()));
            for l in pretty(raw).lines() {
                lines.push(Line::raw(l.to_string()));
            }
        }
        None if f.predicted => lines.push(Line::styled("(not sent yet: predicted by the preflight)", theme.muted())),
        None => lines.push(Line::styled("(no response kept from the accounting system)", theme.muted())),
    }
    let actions = if f.predicted { "e export" } else { "r retry · s skip · ↑↓ scroll" };
    lines.push(Line::default());
    lines.push(Line::styled(actions, theme.muted()));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((f.detail_scroll, 0)), area);
}

/// The vendor's reply indented when it is JSON, as it came otherwise.
fn pretty(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string())
}

fn draw_confirm(app: &App, frame: &mut Frame, area: Rect, q: &RetryQuestion) {
    let theme = app.theme;
    let count = if q.count > 0 { format!("all {} orders", format_count(q.count)) } else { "every order".to_string() };
    let lines = vec![
        Line::styled(format!("Retry {count} of '{}'?", cause_label(&q.cause)), theme.title()),
        Line::raw(""),
        Line::raw(
            "Each is fetched again from the shop and sent with the integration's current settings, \
             so a fix made in the shop or the accounting system is picked up. An order already booked \
             is never booked twice.",
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(format!(" retry {count}   ")),
            Span::styled("n/Esc", theme.key()),
            Span::raw(" no"),
        ]),
    ];
    super::popup(frame, area, " Retry a group ", lines, 64, theme);
}

fn draw_skip(app: &App, frame: &mut Frame, area: Rect, form: &SkipForm) {
    let theme = app.theme;
    let lines = vec![
        Line::styled(format!("Skip order {}?", form.reference), theme.title()),
        Line::raw("It stops counting as failed; the reason is kept for the customer."),
        Line::raw(""),
        Line::raw(""),
        Line::from(vec![
            Span::styled("Enter", theme.key()),
            Span::raw(" skip it   "),
            Span::styled("Esc", theme.key()),
            Span::raw(" keep it failed"),
        ]),
    ];
    let inner = super::popup(frame, area, " Skip an order ", lines, 64, theme);
    let row = Rect { y: inner.y + 3, height: 1, ..inner };
    let [label, field] = Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(row);
    frame.render_widget(Span::styled("Reason ", theme.label()), label);
    text_field::draw(frame, field, &form.reason, FieldState::Typing, theme);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_codes_read_as_words() {
        assert_eq!(cause_label("missing_sku"), "product has no SKU");
        assert_eq!(cause_label("something_new"), "something_new");
    }

    #[test]
    fn json_responses_are_indented() {
        assert_eq!(pretty("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty("plain text"), "plain text");
    }
}
