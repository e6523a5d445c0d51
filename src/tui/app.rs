//! The TUI's whole state, the actions that change it and the effects it asks for
//! (Elm style): `update` is the only place state changes; the run loop performs effects and
//! feeds their results back as actions.

use std::path::PathBuf;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use crossterm::event::{KeyEvent, KeyEventKind};

use super::keymap::{self, Binding, Command, Key};
use super::layout;
use super::panes::{customers, help, planner, usage};
use super::theme::Theme;
use crate::config::Config;
use crate::connect::ConnectError;
use crate::domain::calendar::{DateRange, Month};
use crate::domain::customer::{CustomerId, Integration};
use crate::engine::estimate::{self, PlanningContext, RangeCounts};
use crate::store::{CustomerSummary, Store};

/// The panes, in tab order. The live import log and the failure inspector join this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Lookup,
    Usage,
    Planner,
}

impl Pane {
    pub const ALL: &'static [Pane] = &[Pane::Lookup, Pane::Usage, Pane::Planner];

    /// 1-based position, the digit that jumps to it.
    pub fn number(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).map_or(0, |i| i + 1)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Lookup => "Lookup",
            Pane::Usage => "Usage",
            Pane::Planner => "Planner",
        }
    }

    pub fn long_title(self) -> &'static str {
        match self {
            Pane::Lookup => "Customer lookup",
            Pane::Usage => "Subscription usage",
            Pane::Planner => "Import planner",
        }
    }

    pub fn go_label(self) -> &'static str {
        match self {
            Pane::Lookup => "go to the customer lookup",
            Pane::Usage => "go to subscription usage",
            Pane::Planner => "go to the import planner",
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
            Pane::Planner => self.planner.typing,
        }
    }

    /// A request is in flight (the run loop animates the spinner only then).
    pub fn is_loading(&self) -> bool {
        self.planner.pending.is_some()
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
        planner::open_for_current(self)
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
        self.pane = pane;
        match pane {
            // Searching is all the lookup is for: its field takes the keys at once.
            Pane::Lookup => self.lookup.typing = true,
            Pane::Usage => self.reload_usage(),
            Pane::Planner => {
                self.planner.field = if forward { planner::DateField::From } else { planner::DateField::To };
                self.reload_usage();
            }
        }
    }
}

/// A pane's own keys, browsing or typing.
pub fn pane_bindings(pane: Pane, typing: bool) -> Vec<Binding> {
    match pane {
        Pane::Lookup => customers::bindings(typing),
        Pane::Usage => usage::bindings(typing),
        Pane::Planner => planner::bindings(typing),
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
            Pane::Planner => planner::on_text_key(app, key),
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
        Command::GoPane(pane) => {
            app.enter_pane(pane, true);
            Vec::new()
        }
        Command::NextFocus => {
            if app.pane == Pane::Planner && planner::next_field(app) {
                return Vec::new();
            }
            app.enter_pane(app.pane.offset(1), true);
            Vec::new()
        }
        Command::PrevFocus => {
            if app.pane == Pane::Planner && planner::prev_field(app) {
                return Vec::new();
            }
            app.enter_pane(app.pane.offset(-1), false);
            Vec::new()
        }
        other => match app.pane {
            Pane::Lookup => customers::on_command(app, other),
            Pane::Usage => usage::on_command(app, other),
            Pane::Planner => planner::on_command(app, other),
        },
    }
}
