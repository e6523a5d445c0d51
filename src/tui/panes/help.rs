//! The help screen, written from the live keymap: the focused pane's keys while browsing
//! and while typing, then the global ones.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::app::{App, pane_bindings};
use crate::tui::keymap::{self, Binding, Command, Key};
use crate::tui::layout;

pub fn bindings() -> Vec<Binding> {
    vec![
        Binding::new(
            &[Key::plain(KeyCode::Esc), Key::char('?'), Key::char('q'), Key::plain(KeyCode::F(1))],
            "close the help",
            Command::CloseHelp,
        )
        .hint("Esc", "close help"),
        Binding::new(&[keymap::CTRL_C], "quit, always", Command::Quit),
    ]
}

fn section(title: &str, bindings: &[Binding], app: &App, lines: &mut Vec<Line<'static>>) {
    let theme = app.theme;
    lines.push(Line::styled(title.to_string(), theme.title()));
    for b in bindings {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<22}", b.keys_text()), theme.key()),
            Span::raw(b.label.to_string()),
        ]));
    }
    lines.push(Line::default());
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let mut lines = Vec::new();
    let pane = app.pane.long_title();
    section(pane, &pane_bindings(app.pane, false), app, &mut lines);
    section(&format!("{pane}, while typing in a field"), &pane_bindings(app.pane, true), app, &mut lines);
    section("Everywhere", &keymap::global(false), app, &mut lines);
    lines.push(Line::styled(
        "While typing, letters and digits go into the field: Esc leaves it first. Tab moves to the next field, and past a pane's last field to the next pane.",
        theme.muted(),
    ));
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = layout::centered(area, 76, height);
    frame.render_widget(Clear, popup);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(Line::styled(" Help — Esc closes ", theme.title()));
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), popup);
}
