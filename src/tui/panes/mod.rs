//! The panes: pure views over the app state plus the key bindings each one owns.

pub mod customers;
pub mod failures;
pub mod help;
pub mod jobs;
pub mod log;
pub mod planner;
pub mod usage;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Current, Pane};
use super::theme::Theme;
use crate::engine::estimate::PlanningContext;

/// Cuts `text` to `width` characters, ending in `…` when something was cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Draws the pane's frame and returns the area inside it. Bordered when several panes
/// share the screen; the focused one is marked `▶` and drawn bold, not only in colour.
pub fn frame(frame: &mut Frame, area: Rect, pane: Pane, focused: bool, bordered: bool, theme: Theme) -> Rect {
    if !bordered {
        return area;
    }
    let (marker, style) = if focused { ("▶ ", theme.focused_border()) } else { ("  ", theme.border()) };
    let title = Line::from(vec![
        Span::styled(marker, style),
        Span::styled(format!("{} {}", pane.number(), pane.long_title()), if focused { style } else { theme.label() }),
        Span::raw(" "),
    ]);
    let block = Block::new().borders(Borders::ALL).border_style(style).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// A line of `label value` with the label padded to `width`.
pub fn labelled(label: &str, width: usize, value: Vec<Span<'static>>, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::styled(format!("{label:<width$}"), theme.label())];
    spans.extend(value);
    Line::from(spans)
}

/// Spinner frames for work in flight.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner's glyph for the app's current animation frame.
pub fn spinner(app: &App) -> &'static str {
    SPINNER[app.spinner_frame % SPINNER.len()]
}

/// The current customer and their planning context, for the panes that need both; otherwise
/// draws why there is none (no customer picked, or the context failed) and returns `None`.
pub fn customer_context<'a>(app: &'a App, frame: &mut Frame, area: Rect) -> Option<(&'a Current, &'a PlanningContext)> {
    let theme = app.theme;
    let Some(current) = &app.current else {
        let text = "No customer selected. Find one in 1 Lookup and press Enter.";
        frame.render_widget(Paragraph::new(text).style(theme.muted()).wrap(Wrap { trim: true }), area);
        return None;
    };
    match &current.context {
        Ok(ctx) => Some((current, ctx)),
        Err(e) => {
            let text = Line::styled(format!("✗ {e}"), theme.error());
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
            None
        }
    }
}

/// A framed box in the middle of `area` holding `lines` (a question, a small form), at most
/// `width` wide and as tall as the lines need.
pub fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, width: u16, theme: Theme) -> Rect {
    let inner_width = width.min(area.width).saturating_sub(2).max(1);
    let rows: u16 = lines.iter().map(|l| (l.width() as u16).div_ceil(inner_width).max(1)).sum();
    let rect = super::layout::centered(area, width, rows + 2);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(Line::styled(title.to_string(), theme.title()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_marks_what_it_cuts() {
        assert_eq!(fit("hyggehjem.dk", 20), "hyggehjem.dk");
        assert_eq!(fit("hyggehjem.dk", 6), "hygge…");
        assert_eq!(fit("æøå", 3), "æøå");
        assert_eq!(fit("abc", 0), "");
    }
}
