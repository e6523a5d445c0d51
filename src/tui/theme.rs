//! Styles: the 16 ANSI colours plus bold and reverse, nothing when `NO_COLOR` is set.
//!
//! Colour only ever repeats what a marker or a word already says (`✗`, `!`, `▶`, brackets),
//! so a monochrome terminal or a text snapshot loses nothing.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (https://no-color.org).
    pub fn from_env() -> Theme {
        Theme { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    pub fn monochrome() -> Theme {
        Theme { color: false }
    }

    fn fg(self, color: Color) -> Style {
        if self.color { Style::new().fg(color) } else { Style::new() }
    }

    pub fn plain(self) -> Style {
        Style::new()
    }

    /// Labels in front of values.
    pub fn label(self) -> Style {
        self.fg(Color::Gray)
    }

    /// Secondary text: explanations, units.
    pub fn muted(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Figures a support person reads out.
    pub fn figure(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The focused pane's border and title.
    pub fn focused_border(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// The current tab, the selected row, the selected field.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// A text field being typed into.
    pub fn editing(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    pub fn warning(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn bar(self) -> Style {
        self.fg(Color::Blue)
    }

    /// A bar over the quota.
    pub fn bar_over(self) -> Style {
        self.fg(Color::Magenta)
    }

    pub fn quota_line(self) -> Style {
        self.fg(Color::Yellow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monochrome_keeps_bold_and_reverse_only() {
        let t = Theme::monochrome();
        assert_eq!(t.error().fg, None);
        assert!(t.error().add_modifier.contains(Modifier::BOLD));
        assert!(t.selected().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(Theme { color: true }.error().fg, Some(Color::LightRed));
    }
}
