//! The import planner: pick a date range, count it at the shop (debounced, the newest
//! request wins), and read out the quote — orders, extra orders, fees, VAT, run time,
//! finish time and every warning. `y` copies the Danish quote text.

use chrono::{Duration, Months, NaiveDate};
use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use rust_decimal::Decimal;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::connect::ConnectError;
use crate::domain::calendar::{DateRange, local_date, parse_date};
use crate::domain::money::{format_count, format_danish_number, format_dkk};
use crate::domain::quote::Quote;
use crate::domain::runtime::format_duration_da;
use crate::engine::estimate::{self, RangeCounts};
use crate::tui::app::{App, Effect};
use crate::tui::keymap::{Binding, Command, Key};
use crate::tui::text_field::{self, FieldState};
use crate::tui::theme::Theme;

/// The most technician half hours the `+` key goes to; more is a different conversation.
pub const MAX_HALF_HOURS: u32 = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    From,
    To,
}

#[derive(Debug, Clone)]
pub struct PlannerState {
    pub from: Input,
    pub to: Input,
    pub field: DateField,
    pub typing: bool,
    pub half_hours: u32,
    /// The last date each field held that parsed; the arrows start from it.
    pub good_from: Option<NaiveDate>,
    pub good_to: Option<NaiveDate>,
    /// Why the fields do not make a range (the last good quote stays on screen).
    pub input_error: Option<String>,
    /// Number of the newest count request; answers to older ones are ignored.
    pub generation: u64,
    /// The generation being counted, while a count is outstanding.
    pub pending: Option<u64>,
    /// The range of the newest request.
    pub requested: Option<DateRange>,
    /// The range the counts (and so the quote) are for.
    pub counted: Option<(DateRange, RangeCounts)>,
    pub quote: Option<Quote>,
    pub count_error: Option<String>,
}

impl Default for PlannerState {
    fn default() -> Self {
        PlannerState {
            from: Input::default(),
            to: Input::default(),
            field: DateField::From,
            typing: false,
            half_hours: 1,
            good_from: None,
            good_to: None,
            input_error: None,
            generation: 0,
            pending: None,
            requested: None,
            counted: None,
            quote: None,
            count_error: None,
        }
    }
}

impl PlannerState {
    fn input_mut(&mut self, field: DateField) -> &mut Input {
        match field {
            DateField::From => &mut self.from,
            DateField::To => &mut self.to,
        }
    }

    fn good(&self, field: DateField) -> Option<NaiveDate> {
        match field {
            DateField::From => self.good_from,
            DateField::To => self.good_to,
        }
    }

    fn set_date(&mut self, field: DateField, date: NaiveDate) {
        *self.input_mut(field) = Input::new(date.format("%Y-%m-%d").to_string());
    }

    /// Parses both fields, remembering what parsed, and makes a range of them.
    fn validate(&mut self) -> Result<DateRange, String> {
        let from = parse_date(self.from.value());
        let to = parse_date(self.to.value());
        if let Ok(d) = from {
            self.good_from = Some(d);
        }
        if let Ok(d) = to {
            self.good_to = Some(d);
        }
        match (from, to) {
            (Err(e), _) => Err(format!("From: {e}")),
            (_, Err(e)) => Err(format!("To: {e}")),
            (Ok(f), Ok(t)) => DateRange::new(f, t).map_err(|e| e.to_string()),
        }
    }
}

/// Starts the planner for the customer just selected, on the default range.
pub fn open_for_current(app: &mut App) -> Vec<Effect> {
    app.planner = PlannerState::default();
    let Some(range) =
        app.current.as_ref().and_then(|c| c.context.as_ref().ok()).map(|ctx| estimate::default_range(&ctx.integration))
    else {
        return Vec::new();
    };
    app.planner.set_date(DateField::From, range.from);
    app.planner.set_date(DateField::To, range.to);
    changed(app)
}

/// After any edit of the dates: a valid new range is counted, an invalid one explained.
fn changed(app: &mut App) -> Vec<Effect> {
    match app.planner.validate() {
        Ok(range) => {
            app.planner.input_error = None;
            if app.planner.requested == Some(range) && app.planner.count_error.is_none() {
                return Vec::new();
            }
            request_count(app, range)
        }
        Err(e) => {
            app.planner.input_error = Some(e);
            Vec::new()
        }
    }
}

fn request_count(app: &mut App, range: DateRange) -> Vec<Effect> {
    let Some(current) = &app.current else {
        return Vec::new();
    };
    let Ok(ctx) = &current.context else {
        return Vec::new();
    };
    let p = &mut app.planner;
    p.generation += 1;
    p.pending = Some(p.generation);
    p.requested = Some(range);
    p.count_error = None;
    vec![Effect::CountRange {
        generation: p.generation,
        customer_id: current.summary.customer.id,
        integration: Box::new(ctx.integration.clone()),
        range,
    }]
}

/// A count came back: only the newest request's answer is used.
pub fn on_counted(app: &mut App, generation: u64, result: Result<RangeCounts, ConnectError>) -> Vec<Effect> {
    if app.planner.pending != Some(generation) {
        tracing::debug!(generation, newest = app.planner.generation, "ignoring the answer to an older count");
        return Vec::new();
    }
    app.planner.pending = None;
    app.dirty = true;
    match (result, app.planner.requested) {
        (Ok(counts), Some(range)) => {
            app.planner.counted = Some((range, counts));
            recompute(app);
        }
        (Ok(_), None) => {}
        (Err(e), _) => {
            let text = e.to_string();
            tracing::warn!(error = %text, "count failed");
            app.planner.count_error = Some(text.clone());
            app.error(text);
        }
    }
    Vec::new()
}

/// Prices the counted range again (half hours, the clock or this month's usage changed).
pub fn recompute(app: &mut App) {
    let ctx = app.current.as_ref().and_then(|c| c.context.as_ref().ok());
    app.planner.quote = match (ctx, app.planner.counted) {
        (Some(ctx), Some((range, counts))) => {
            Some(estimate::quote(ctx, &app.config, range, counts, app.planner.half_hours, app.now))
        }
        _ => None,
    };
}

pub fn next_field(app: &mut App) -> bool {
    let moved = app.planner.field == DateField::From;
    if moved {
        app.planner.field = DateField::To;
    }
    moved
}

pub fn prev_field(app: &mut App) -> bool {
    let moved = app.planner.field == DateField::To;
    if moved {
        app.planner.field = DateField::From;
    }
    moved
}

/// The pane's keys while browsing or while typing in its field.
pub fn bindings(typing: bool) -> Vec<Binding> {
    let k = Key::plain;
    let months = [
        Binding::new(&[k(KeyCode::PageUp)], "date a month later", Command::MonthLater).hint("PgUp/PgDn", "±month"),
        Binding::new(&[k(KeyCode::PageDown)], "date a month earlier", Command::MonthEarlier),
    ];
    if typing {
        let mut out = vec![
            Binding::new(&[k(KeyCode::Esc), k(KeyCode::Enter)], "leave the date field", Command::LeaveField)
                .hint("Esc", "leave field"),
            Binding::new(&[k(KeyCode::Up)], "date a day later", Command::DayLater).hint("↑↓", "±day"),
            Binding::new(&[k(KeyCode::Down)], "date a day earlier", Command::DayEarlier),
        ];
        out.extend(months);
        return out;
    }
    let mut out = vec![
        Binding::new(&[k(KeyCode::Right), k(KeyCode::Up), Key::char('l')], "date a day later", Command::DayLater)
            .hint("←→", "±day"),
        Binding::new(&[k(KeyCode::Left), k(KeyCode::Down), Key::char('h')], "date a day earlier", Command::DayEarlier),
    ];
    out.extend(months);
    out.extend([
        Binding::new(&[k(KeyCode::Enter), Key::char('e')], "type the date", Command::TypeDate).hint("Enter", "type"),
        Binding::new(&[Key::char('+')], "one more technician ½ hour", Command::MoreHalfHours).hint("+/-", "½ h"),
        Binding::new(&[Key::char('-')], "one ½ hour less (min. one)", Command::FewerHalfHours),
        Binding::new(&[Key::char('y')], "copy and save the quote", Command::CopyQuote).hint("y", "copy"),
        Binding::new(&[Key::char('r')], "count the range again", Command::Recount),
        Binding::new(&[Key::char('j')], "job steps: new, accept, test, approve, start; single order", Command::JobMenu),
        Binding::new(&[Key::char('x')], "stop the preflight in progress", Command::Preflight),
    ]);
    out
}

pub fn on_command(app: &mut App, command: Command) -> Vec<Effect> {
    let shift = |days: i64, months: i32| {
        move |d: NaiveDate| {
            let moved = d + Duration::days(days);
            match months {
                m if m > 0 => moved.checked_add_months(Months::new(m as u32)),
                m if m < 0 => moved.checked_sub_months(Months::new(m.unsigned_abs())),
                _ => Some(moved),
            }
        }
    };
    match command {
        Command::DayLater => move_date(app, shift(1, 0)),
        Command::DayEarlier => move_date(app, shift(-1, 0)),
        Command::MonthLater => move_date(app, shift(0, 1)),
        Command::MonthEarlier => move_date(app, shift(0, -1)),
        Command::TypeDate => {
            app.planner.typing = true;
            Vec::new()
        }
        Command::LeaveField => {
            app.planner.typing = false;
            Vec::new()
        }
        Command::MoreHalfHours | Command::FewerHalfHours => {
            let h = app.planner.half_hours;
            app.planner.half_hours = if command == Command::MoreHalfHours {
                (h + 1).min(MAX_HALF_HOURS)
            } else {
                h.saturating_sub(1).max(1)
            };
            recompute(app);
            Vec::new()
        }
        Command::CopyQuote => copy_quote(app),
        Command::JobMenu => super::jobs::open(app),
        Command::Preflight if app.job_menu.preflight_run.is_some() => super::jobs::preflight(app),
        Command::Preflight => {
            app.error("no preflight is running: j, then f starts one");
            Vec::new()
        }
        Command::Recount => match app.planner.validate() {
            Ok(range) => request_count(app, range),
            Err(e) => {
                app.planner.input_error = Some(e);
                Vec::new()
            }
        },
        _ => Vec::new(),
    }
}

/// Moves the focused date, starting from its last good value when the text is invalid.
fn move_date(app: &mut App, by: impl Fn(NaiveDate) -> Option<NaiveDate>) -> Vec<Effect> {
    let field = app.planner.field;
    app.planner.validate().ok();
    let Some(moved) = app.planner.good(field).and_then(by) else {
        return Vec::new();
    };
    app.planner.set_date(field, moved);
    changed(app)
}

fn copy_quote(app: &mut App) -> Vec<Effect> {
    let (Some(quote), Some(current)) = (&app.planner.quote, &app.current) else {
        let why = if app.planner.pending.is_some() {
            "no quote yet: the count is still running"
        } else {
            "no quote to copy: pick a valid range first (r counts again)"
        };
        app.error(why);
        return Vec::new();
    };
    let name = &current.summary.customer.name;
    let text = quote.customer_text_da(name);
    let stamp = app.now.with_timezone(&app.tz).format("%Y%m%d-%H%M%S");
    let file_name = format!("tilbud-{}-{}-{stamp}.txt", current.summary.customer.id, slug(name));
    vec![Effect::CopyQuote { text, file_name }]
}

/// `Hygge & Co ApS` → `hygge-co-aps`, safe in a file name.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            _ if !out.ends_with('-') && !out.is_empty() => out.push('-'),
            _ => {}
        }
    }
    out.trim_end_matches('-').chars().take(40).collect()
}

pub fn on_text_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(request) = to_input_request(&Event::Key(key)) else {
        return Vec::new();
    };
    let field = app.planner.field;
    if app.planner.input_mut(field).handle(request).is_some_and(|c| c.value) {
        return changed(app);
    }
    Vec::new()
}

const LABEL: usize = 20;

pub fn draw(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let Some((current, ctx)) = super::customer_context(app, frame, area) else {
        return;
    };
    let p = &app.planner;
    let shop = &current.summary.shop_domain;
    let (state_text, state_style) = if let Some(e) = &p.input_error {
        (format!("✗ {e}"), theme.error())
    } else if p.pending.is_some() {
        let spin = super::spinner(app);
        (format!("{spin} counting orders at {shop}…"), theme.warning())
    } else if let Some(e) = &p.count_error {
        (format!("✗ {e} (r tries again)"), theme.error())
    } else if p.quote.is_some() {
        (format!("✓ counted at {shop} ({})", ctx.integration.webshop.display_name()), theme.ok())
    } else {
        (String::new(), theme.plain())
    };
    // Errors get the rows they need (up to four): they say what to do.
    let state_rows = (state_text.chars().count().div_ceil(usize::from(area.width.max(1)))).clamp(1, 4) as u16;
    let [fields, state, job, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(state_rows),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    draw_fields(app, frame, fields, focused);
    frame.render_widget(Paragraph::new(Line::styled(state_text, state_style)).wrap(Wrap { trim: true }), state);
    frame.render_widget(super::jobs::summary_line(app, usize::from(job.width)), job);

    let Some(quote) = &p.quote else {
        return;
    };
    let width = usize::from(body.width).min(62);
    let mut lines = quote_lines(app, quote, width, theme);
    for w in &quote.warnings {
        lines.push(Line::from(vec![Span::styled("! ", theme.warning()), Span::styled(w.message(), theme.warning())]));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}

fn draw_fields(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let p = &app.planner;
    let [from_label, from, to_label, to, days] = Layout::horizontal([
        Constraint::Length(7),
        Constraint::Length(13),
        Constraint::Length(6),
        Constraint::Length(13),
        Constraint::Fill(1),
    ])
    .areas(area);
    for (field, label_area, field_area, name) in
        [(DateField::From, from_label, from, "From "), (DateField::To, to_label, to, "To ")]
    {
        let selected = focused && p.field == field;
        let marker = if selected { "▶ " } else { "  " };
        let label = Line::from(vec![
            Span::styled(marker, theme.focused_border()),
            Span::styled(name, if selected { theme.figure() } else { theme.label() }),
        ]);
        frame.render_widget(label.right_aligned(), label_area);
        let state = match (selected, p.typing) {
            (true, true) => FieldState::Typing,
            (true, false) => FieldState::Selected,
            _ => FieldState::Idle,
        };
        let input = if field == DateField::From { &p.from } else { &p.to };
        text_field::draw(frame, field_area, input, state, theme);
    }
    if let (Some(f), Some(t)) = (p.good_from, p.good_to)
        && p.input_error.is_none()
    {
        let n = (t - f).num_days() + 1;
        frame.render_widget(Span::styled(format!("  {} days", format_count(n.max(0) as u64)), theme.muted()), days);
    }
}

/// `label ..... detail ..... value`, the value right-aligned at `width`.
fn row(
    label: &str,
    detail: String,
    value: String,
    value_style: ratatui::style::Style,
    theme: Theme,
    width: usize,
) -> Line<'static> {
    // Where the row does not fit, the detail goes: the figure is what is read out.
    let fits = LABEL + detail.chars().count() + 1 + value.chars().count() <= width;
    let detail = if fits { detail } else { String::new() };
    let used = LABEL + detail.chars().count();
    let pad = width.saturating_sub(used + value.chars().count()).max(1);
    Line::from(vec![
        Span::styled(format!("{label:<LABEL$}"), theme.label()),
        Span::styled(detail, theme.plain()),
        Span::raw(" ".repeat(pad)),
        Span::styled(value, value_style),
    ])
}

/// The newest job's preflight: orders predicted to fail, and what is chargeable without them.
fn preflight_rows(app: &App, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let Some(p) = super::jobs::planner_preflight(app) else {
        return Vec::new();
    };
    let n = |v: u64| format_count(v);
    let total = p.summary.predicted_total();
    let when = p.summary.checked_at.with_timezone(&app.tz).format("%H:%M");
    let style = if total > 0 { theme.warning() } else { theme.ok() };
    let detail = if p.same_range {
        match p.summary.predicted.as_slice() {
            [] => format!("preflight {when}: none"),
            [(cause, _)] => format!("preflight {when}: {cause}"),
            [(cause, _), ..] => format!("preflight {when}: mostly {cause}"),
        }
    } else {
        let range = p.job.range.map(|r| format!("{} – {}", r.from, r.to)).unwrap_or_default();
        format!("for job {}, {range}", p.job.id)
    };
    let mut rows = vec![row("! Predicted to fail", detail, n(total), style, theme, width)];
    if let Some(c) = p.chargeable {
        rows.push(row(
            "Chargeable",
            format!("without them: {} extra, {}", n(c.extra_orders), format_dkk(c.extra_orders_cost)),
            n(c.orders),
            theme.figure(),
            theme,
            width,
        ));
    }
    rows
}

fn quote_lines(app: &App, q: &Quote, width: usize, theme: Theme) -> Vec<Line<'static>> {
    let plain = theme.plain();
    let bold = theme.figure();
    let n = |v: u64| format_count(v);
    let mut lines = Vec::new();
    if let (Some(from), Some(to)) = (q.from, q.to) {
        lines.push(Line::styled(format!("Quote for {from} – {to}"), theme.title()));
    }
    lines.push(row("Orders in range", String::new(), n(q.orders_in_range), plain, theme, width));
    let since = app.current.as_ref().and_then(|c| c.context.as_ref().ok()).map(|c| c.integration.since);
    let transferred_detail = since.map(|s| format!("since {s}")).unwrap_or_default();
    lines.push(row("Already transferred", transferred_detail, n(q.already_transferred), plain, theme, width));
    lines.push(row("To import", String::new(), n(q.orders_to_import), bold, theme, width));
    lines.push(row(
        "Used of quota",
        String::new(),
        format!(
            "{} / {}  →  {} / {}",
            n(q.used_this_month),
            n(q.monthly_quota),
            n(q.used_after_import),
            n(q.monthly_quota)
        ),
        plain,
        theme,
        width,
    ));
    lines.push(row(
        "Extra orders",
        format!("{} × {}", n(q.extra_orders), format_dkk(q.extra_order_price)),
        format_dkk(q.extra_orders_cost),
        plain,
        theme,
        width,
    ));
    lines.extend(preflight_rows(app, width, theme));
    lines.push(row(
        "Base fee",
        format!("{} × ½ h × {}", q.technician_half_hours, format_dkk(app.config.pricing.half_hour_fee)),
        format_dkk(q.base_fee),
        plain,
        theme,
        width,
    ));
    lines.push(row("Subtotal excl. VAT", String::new(), format_dkk(q.subtotal_excl_vat), plain, theme, width));
    let rate = (app.config.pricing.vat_rate * Decimal::ONE_HUNDRED).normalize();
    lines.push(row(&format!("VAT {rate} %"), String::new(), format_dkk(q.vat), plain, theme, width));
    lines.push(row("Total incl. VAT", String::new(), format_dkk(q.total_incl_vat), bold, theme, width));
    lines.push(row(
        "Run time",
        "estimated".into(),
        format_duration_da(q.estimated_runtime_seconds),
        plain,
        theme,
        width,
    ));
    let finish = q.finish_at.with_timezone(&app.tz);
    let finish_text = if finish.date_naive() == local_date(app.now, app.tz) {
        format!("{} today", finish.format("%H:%M"))
    } else {
        finish.format("%Y-%m-%d %H:%M").to_string()
    };
    lines.push(row("Finishes", "if started now".into(), finish_text, plain, theme, width));
    let pr = &q.projection;
    if pr.extra_orders_if_continued > q.extra_orders {
        lines.push(Line::styled(
            format!(
                "» if regular sales go on at {} a day, the month ends at {} extra orders ({} excl. VAT)",
                format_danish_number(pr.daily_rate).trim_end_matches('0').trim_end_matches(','),
                n(pr.extra_orders_if_continued),
                format_dkk(pr.extra_orders_cost_if_continued)
            ),
            theme.muted(),
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(slug("Hygge & Co ApS"), "hygge-co-aps");
        assert_eq!(slug("Æblegården Ølstykke"), "aeblegaarden-oelstykke");
        assert_eq!(slug("--"), "");
    }
}
