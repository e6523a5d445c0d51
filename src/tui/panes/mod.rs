//! The panes: pure views over the app state plus the key bindings each one owns.

pub mod customers;
pub mod help;
pub mod planner;
pub mod usage;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::app::Pane;
use super::theme::Theme;

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
