//! A one-line text field drawn as `[text   ]`, scrolled to keep the cursor in view, with
//! the terminal cursor placed in it while typing.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use tui_input::Input;

use super::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldState {
    Idle,
    /// Has the focus; arrow keys act on it.
    Selected,
    /// Keys go into it.
    Typing,
}

/// The field as a line of `width` cells, brackets included.
pub fn line(input: &Input, width: u16, state: FieldState, theme: Theme) -> Line<'static> {
    let inner = usize::from(width.saturating_sub(2));
    let scroll = scroll(input, inner, state);
    let visible: String = input.value().chars().skip(scroll).take(inner).collect();
    let padded = format!("{visible:<inner$}");
    let style = match state {
        FieldState::Idle => theme.plain(),
        FieldState::Selected => theme.selected(),
        FieldState::Typing => theme.editing(),
    };
    Line::from(vec![Span::styled("[", style), Span::styled(padded, style), Span::styled("]", style)])
}

/// Columns scrolled off the left: while typing, enough to show the cursor (which needs a
/// cell of its own after the text); otherwise none, so the start of the text shows.
fn scroll(input: &Input, inner: usize, state: FieldState) -> usize {
    if state == FieldState::Typing { input.visual_scroll(inner.saturating_sub(1)) } else { 0 }
}

/// Draws the field at the start of `area` and, while typing, puts the cursor in it.
pub fn draw(frame: &mut Frame, area: Rect, input: &Input, state: FieldState, theme: Theme) {
    if area.width < 3 || area.height == 0 {
        return;
    }
    frame.render_widget(line(input, area.width, state, theme), area);
    if state == FieldState::Typing {
        let inner = usize::from(area.width - 2);
        let scroll = scroll(input, inner, state);
        let column = input.visual_cursor().saturating_sub(scroll).min(inner);
        frame.set_cursor_position(Position { x: area.x + 1 + column as u16, y: area.y });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_scrolls_to_the_cursor() {
        let input = Input::new("abcdefghij".into());
        let text = line(&input, 6, FieldState::Typing, Theme::monochrome()).to_string();
        assert_eq!(text.chars().count(), 6);
        assert!(text.starts_with('[') && text.ends_with(']'));
        assert!(text.contains('j'), "{text}");
        assert_eq!(line(&Input::new("ab".into()), 6, FieldState::Idle, Theme::monochrome()).to_string(), "[ab  ]");
    }
}
