//! Subscription usage of the current customer: plan, quota, this month's orders, the last
//! 12 months as a bar chart against the quota, and the *Tank op* (top-up) calculator.

use chrono::NaiveDate;
use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Widget, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::labelled;
use crate::domain::calendar::{Month, local_date};
use crate::domain::money::{format_count, format_dkk};
use crate::engine::estimate::PlanningContext;
use crate::tui::app::{App, Effect};
use crate::tui::keymap::{Binding, Command, Key};
use crate::tui::text_field::{self, FieldState};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Default)]
pub struct UsageState {
    /// Extra orders to price, as typed.
    pub top_up: Input,
    pub typing: bool,
}

/// What the Tank op field holds: nothing yet, a count, or why it is not one.
pub fn parse_top_up(text: &str) -> Result<Option<u64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("'{t}' is not a number of orders: type digits only, e.g. 500"));
    }
    t.parse::<u64>().map(Some).map_err(|_| format!("{t} orders is more than can be priced"))
}

/// The pane's keys while browsing or while typing in its field.
pub fn bindings(typing: bool) -> Vec<Binding> {
    let k = Key::plain;
    if typing {
        vec![
            Binding::new(&[k(KeyCode::Esc), k(KeyCode::Enter)], "leave the Tank op field", Command::LeaveField)
                .hint("Esc", "leave field"),
        ]
    } else {
        vec![
            Binding::new(&[k(KeyCode::Enter), Key::char('t')], "Tank op: price extra orders", Command::TypeTopUp)
                .hint("t", "Tank op"),
        ]
    }
}

pub fn on_command(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::TypeTopUp => app.usage.typing = true,
        Command::LeaveField => app.usage.typing = false,
        _ => {}
    }
    Vec::new()
}

pub fn on_text_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if let Some(request) = to_input_request(&Event::Key(key)) {
        app.usage.top_up.handle(request);
    }
    Vec::new()
}

const LABEL: usize = 12;

pub fn draw(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let Some((current, ctx)) = super::customer_context(app, frame, area) else {
        return;
    };
    let [facts, _, top_up, _, chart] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(fact_lines(ctx, local_date(app.now, app.tz), theme)), facts);
    draw_top_up(app, ctx, frame, top_up, focused);
    // Taller than this, bars stop getting easier to read.
    let chart = Rect { height: chart.height.min(18), ..chart };
    match &current.history {
        Ok(history) => draw_chart(frame.buffer_mut(), chart, history, ctx.plan.monthly_quota, theme),
        Err(e) => frame.render_widget(
            Paragraph::new(Line::styled(format!("✗ {e}"), theme.error())).wrap(Wrap { trim: true }),
            chart,
        ),
    }
}

fn fact_lines(ctx: &PlanningContext, today: NaiveDate, theme: Theme) -> Vec<Line<'static>> {
    let plan = &ctx.plan;
    let mut plan_value = vec![Span::styled(plan.name.clone(), theme.figure())];
    if plan.sample {
        plan_value.push(Span::styled(" (sample price, see config)", theme.warning()));
    }
    let quota = plan.monthly_quota;
    let used = ctx.used_this_month;
    let month = Month::of(today);
    let share = used.saturating_mul(100).checked_div(quota).map(|p| format!(" ({p} %)")).unwrap_or_default();
    let remaining = if used <= quota {
        vec![Span::styled(format_count(quota - used), theme.figure())]
    } else {
        vec![
            Span::styled("0", theme.figure()),
            Span::styled(format!(" ({} over: billed as extra orders)", format_count(used - quota)), theme.warning()),
        ]
    };
    let days_left = (month.last_day() - today).num_days().max(0);
    vec![
        labelled("Plan", LABEL, plan_value, theme),
        labelled(
            "Quota",
            LABEL,
            vec![Span::styled(format_count(quota), theme.figure()), Span::raw(" orders a month")],
            theme,
        ),
        labelled(
            "Extra order",
            LABEL,
            vec![Span::styled(format_dkk(plan.extra_order_price), theme.figure()), Span::raw(" each, excl. VAT")],
            theme,
        ),
        labelled(
            "Used",
            LABEL,
            vec![
                Span::styled(format_count(used), theme.figure()),
                Span::raw(format!(" in {} {}{share}", month.short_name_da(), month.year)),
            ],
            theme,
        ),
        labelled("Remaining", LABEL, remaining, theme),
        labelled(
            "Days left",
            LABEL,
            vec![
                Span::styled(days_left.to_string(), theme.figure()),
                Span::raw(format!(" after today, of {}", month.days())),
            ],
            theme,
        ),
    ]
}

fn draw_top_up(app: &App, ctx: &PlanningContext, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let rows: [Rect; 3] = Layout::vertical([Constraint::Length(1); 3]).areas(area);
    let [label, field, unit] =
        Layout::horizontal([Constraint::Length(LABEL as u16), Constraint::Length(12), Constraint::Fill(1)])
            .areas(rows[0]);
    frame.render_widget(Span::styled("Tank op", theme.label()), label);
    let state = match (focused, app.usage.typing) {
        (true, true) => FieldState::Typing,
        (true, false) => FieldState::Selected,
        _ => FieldState::Idle,
    };
    text_field::draw(frame, field, &app.usage.top_up, state, theme);
    frame.render_widget(Span::styled(" extra orders", theme.label()), unit);
    let money = |label: &str, amount| {
        labelled(&format!("  {label}"), LABEL, vec![Span::styled(format_dkk(amount), theme.figure())], theme)
    };
    match parse_top_up(app.usage.top_up.value()) {
        Ok(Some(n)) => {
            let excl = ctx.plan.top_up_cost(n);
            let incl = excl + app.config.pricing.vat_on(excl);
            frame.render_widget(money("excl. VAT", excl), rows[1]);
            frame.render_widget(money("incl. VAT", incl), rows[2]);
        }
        Ok(None) => {
            let hint = if app.usage.typing { "type a number of orders" } else { "press t to price extra orders" };
            frame.render_widget(Line::styled(format!("{:LABEL$}{hint}", ""), theme.muted()), rows[1]);
        }
        Err(e) => frame.render_widget(
            Paragraph::new(Line::styled(format!("✗ {e}"), theme.error())).wrap(Wrap { trim: true }),
            Rect { height: 2, ..rows[1] },
        ),
    }
}

/// The last months as bars, with the quota drawn across them as a dashed line.
fn draw_chart(buf: &mut Buffer, area: Rect, history: &[(Month, u64)], quota: u64, theme: Theme) {
    let (Some((first, _)), Some((last, _))) = (history.first(), history.last()) else {
        return;
    };
    if area.height < 4 {
        return;
    }
    let [title, chart] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    let title_line = Line::from(vec![
        Span::styled(
            format!("Orders a month, {} – {} {}  ", first.short_name_da(), last.short_name_da(), last.year),
            theme.label(),
        ),
        Span::styled("┄┄", theme.quota_line()),
        Span::styled(format!(" quota {}", format_count(quota)), theme.label()),
    ]);
    Widget::render(title_line, title, buf);

    let n = history.len() as u16;
    let (bar_width, gap) = match (chart.width + 1) / n {
        w if w >= 4 => (w - 1, 1),
        _ => ((chart.width / n).max(1), 0),
    };
    let peak = history.iter().map(|(_, v)| *v).max().unwrap_or(0).max(quota);
    // Headroom above the highest of bars and quota, so the line never sits on the top edge.
    let top = (peak + peak / 5).max(1);
    let bars: Vec<Bar> = history
        .iter()
        .map(|(month, orders)| {
            let style = if *orders > quota { theme.bar_over() } else { theme.bar() };
            Bar::default()
                .value(*orders)
                .text_value(format_count(*orders))
                .label(Line::from(month.short_name_da()))
                .style(style)
                .value_style(style.patch(theme.selected()))
        })
        .collect();
    let widget = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_width)
        .bar_gap(gap)
        .max(top)
        .label_style(theme.label());
    Widget::render(&widget, chart, buf);

    // The quota line: on the row where a bar of exactly the quota ends, in every empty cell.
    let bars_height = chart.height.saturating_sub(1);
    let ticks = u128::from(quota) * u128::from(bars_height) * 8 / u128::from(top);
    let rows_up = ticks.div_ceil(8) as u16;
    if quota == 0 || rows_up == 0 || rows_up > bars_height {
        return;
    }
    let y = chart.y + bars_height - rows_up;
    let used_width = (bar_width * n + gap * (n - 1)).min(chart.width);
    for x in chart.x..chart.x + used_width {
        let cell = &mut buf[(x, y)];
        if cell.symbol() == " " {
            cell.set_symbol("┄").set_style(theme.quota_line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_up_takes_digits_only() {
        assert_eq!(parse_top_up(""), Ok(None));
        assert_eq!(parse_top_up(" 500 "), Ok(Some(500)));
        let err = parse_top_up("5o0").unwrap_err();
        assert!(err.contains("digits only"), "{err}");
        assert!(parse_top_up("1.000").is_err());
        assert!(parse_top_up("99999999999999999999999").unwrap_err().contains("more than"));
    }
}
