//! `draw`: the whole screen from the state, and nothing else — tab bar, current customer,
//! the panes, status line and key hints, or the too-small notice.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, Pane, StatusKind};
use super::layout;
use super::panes::{self, customers, failures, fit, help, jobs, log, planner, usage};
use super::theme::Theme;

pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let theme = app.theme;
    if layout::too_small(area.width, area.height) {
        too_small(frame, area, theme);
        return;
    }
    let chrome = layout::chrome(area);
    tab_bar(app, frame, chrome.tabs);
    header(app, frame, chrome.header);
    let wide = layout::is_wide(area.width, area.height);
    let bordered = layout::bordered(area.width, area.height);
    for (pane, rect) in layout::panes(app.pane, chrome.body, wide) {
        let focused = pane == app.pane && !app.help_open;
        let inner = panes::frame(frame, rect, pane, focused, bordered, theme);
        // A column of air on each side when there is no border.
        let inner =
            if bordered { inner } else { Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner } };
        match pane {
            Pane::Lookup => customers::draw(app, frame, inner, focused),
            Pane::Usage => usage::draw(app, frame, inner, focused),
            Pane::Planner => planner::draw(app, frame, inner, focused),
            Pane::Log => log::draw(app, frame, inner, focused),
            Pane::Failures => failures::draw(app, frame, inner, focused),
        }
        if pane == Pane::Planner && app.pane == Pane::Planner {
            jobs::draw(app, frame, rect);
        }
    }
    status(app, frame, chrome.status);
    hints(app, frame, chrome.hints);
    if app.help_open {
        help::draw(app, frame, chrome.body);
    }
}

fn too_small(frame: &mut Frame, area: Rect, theme: Theme) {
    let lines = vec![
        Line::styled(format!("terminal too small (need {}×{})", layout::MIN_WIDTH, layout::MIN_HEIGHT), theme.error()),
        Line::styled(format!("now {}×{}: make the window bigger", area.width, area.height), theme.muted()),
        Line::styled("q quits", theme.muted()),
    ];
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let rect = Rect { y: area.y + top, height: area.height - top, ..area };
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center).wrap(Wrap { trim: true }), rect);
}

fn tab_bar(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let mut spans = vec![Span::styled(" importdesk ", theme.title()), Span::raw(" ")];
    for pane in Pane::ALL {
        let label = format!("{} {}", pane.number(), pane.title());
        if *pane == app.pane {
            spans.push(Span::styled(format!("[{label}]"), theme.selected()));
        } else {
            spans.push(Span::styled(format!(" {label} "), theme.label()));
        }
        spans.push(Span::raw(" "));
    }
    let used: usize = spans.iter().map(Span::width).sum();
    frame.render_widget(Line::from(spans), area);
    let local = app.now.with_timezone(&app.tz);
    // The date goes first when the tabs need the room.
    let mut clock = local.format("%Y-%m-%d %H:%M ").to_string();
    if used + clock.chars().count() > usize::from(area.width) {
        clock = local.format("%H:%M ").to_string();
    }
    frame.render_widget(Line::styled(clock, theme.muted()).right_aligned(), area);
}

fn header(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let line = match &app.current {
        Some(c) => {
            let s = &c.summary;
            let mut spans = vec![
                Span::styled(" Customer ", theme.label()),
                Span::styled(format!("{} {}", s.customer.id, s.customer.name), theme.figure()),
            ];
            let mut facts = Vec::new();
            if let Some(cvr) = &s.customer.cvr {
                facts.push(format!("CVR {cvr}"));
            }
            facts.push(format!("{} ({})", s.shop_domain, s.webshop.display_name()));
            facts.push(format!("plan {}", s.customer.plan));
            let room = usize::from(area.width).saturating_sub(spans.iter().map(Span::width).sum());
            spans.push(Span::styled(fit(&format!(" · {}", facts.join(" · ")), room), theme.plain()));
            Line::from(spans)
        }
        None => Line::styled(" No customer selected: search in 1 Lookup and press Enter", theme.muted()),
    };
    frame.render_widget(line, area);
}

fn status(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let Some(status) = &app.status else {
        return;
    };
    let (marker, style) = match status.kind {
        StatusKind::Info => ("", theme.plain()),
        StatusKind::Done => ("✓ ", theme.ok()),
        StatusKind::Error => ("✗ ", theme.error()),
    };
    let width = usize::from(area.width.saturating_sub(1));
    let text = fit(&format!(" {marker}{}", status.text.replace('\n', " ")), width);
    frame.render_widget(Line::styled(text, style), area);
}

fn hints(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let mut spans = Vec::new();
    if app.typing() && !app.help_open {
        spans.push(Span::styled(" TYPING ", theme.selected()));
    }
    let mut used: usize = spans.iter().map(|s: &Span| s.width()).sum();
    for binding in app.bindings() {
        let Some((keys, label)) = binding.hint else {
            continue;
        };
        let width = 1 + keys.chars().count() + 1 + label.chars().count() + 1;
        if used + width > usize::from(area.width) {
            break;
        }
        used += width;
        spans.push(Span::raw(" "));
        spans.push(Span::styled(keys, theme.key()));
        spans.push(Span::styled(format!(" {label} "), theme.label()));
    }
    frame.render_widget(Line::from(spans), area);
}
