//! The help screen, written from the live keymap: the focused pane's keys while browsing
//! and while typing on the left (the job steps' and their forms' when that popup is open),
//! the global ones on the right.

use crossterm::event::KeyCode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::app::{App, Pane, pane_bindings};
use crate::tui::keymap::{self, Binding, Command, Key};
use crate::tui::layout;
use crate::tui::theme::Theme;

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

const KEYS: usize = 10;

/// One line per binding; the pane digits share one line.
fn section(title: &str, bindings: &[Binding], theme: Theme, lines: &mut Vec<Line<'static>>) {
    lines.push(Line::styled(title.to_string(), theme.title()));
    let mut rows: Vec<(String, &str)> = Vec::new();
    for b in bindings {
        match (b.command, rows.last_mut()) {
            (Command::GoPane(_), Some((keys, "go to that pane"))) => {
                keys.push('/');
                keys.push_str(&b.keys_text());
            }
            (Command::GoPane(_), _) => rows.push((b.keys_text(), "go to that pane")),
            _ => rows.push((b.keys_text(), b.label)),
        }
    }
    for (keys, label) in rows {
        lines
            .push(Line::from(vec![Span::styled(format!(" {keys:<KEYS$}"), theme.key()), Span::raw(label.to_string())]));
    }
    lines.push(Line::default());
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let theme = app.theme;
    let pane = app.pane.long_title();
    let mut left = Vec::new();
    if app.pane == Pane::Planner && app.job_menu.open {
        section("Job steps", &super::jobs::step_bindings(), theme, &mut left);
        section("… while typing in a step's form", &super::jobs::form_bindings(), theme, &mut left);
    } else {
        section(pane, &pane_bindings(app.pane, false), theme, &mut left);
        section("… while typing in a field", &pane_bindings(app.pane, true), theme, &mut left);
    }
    let mut right = Vec::new();
    section("Everywhere", &keymap::global(false), theme, &mut right);
    right.push(Line::styled(
        "While typing, letters and digits go into the field; Esc leaves it. Tab goes to the next field, \
         and from a pane's last field to the next pane.",
        theme.muted(),
    ));
    let height = (left.len().max(right.len() + 2) as u16 + 2).min(area.height);
    let popup = layout::centered(area, 78, height);
    frame.render_widget(Clear, popup);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(Line::styled(" Help — Esc closes ", theme.title()));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [l, _, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(left).wrap(Wrap { trim: false }), l);
    frame.render_widget(Paragraph::new(right).wrap(Wrap { trim: false }), r);
}
