//! The failure inspector: a job's failed orders grouped by cause, drill-down, retry and skip.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::{App, Effect};
use crate::tui::keymap::{Binding, Command};

#[derive(Debug, Clone, Default)]
pub struct FailuresState {}

impl FailuresState {
    pub fn typing(&self) -> bool {
        false
    }

    pub fn is_busy(&self) -> bool {
        false
    }

    pub fn stop_typing(&mut self) {}
}

pub fn read(_app: &mut App) -> Vec<Effect> {
    Vec::new()
}

pub fn bindings(_typing: bool) -> Vec<Binding> {
    Vec::new()
}

pub fn modal_bindings(_state: &FailuresState) -> Option<Vec<Binding>> {
    None
}

pub fn on_command(_app: &mut App, _command: Command) -> Vec<Effect> {
    Vec::new()
}

pub fn on_text_key(_app: &mut App, _key: KeyEvent) -> Vec<Effect> {
    Vec::new()
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect, _focused: bool) {
    let text = "The failure inspector reads the job's failures from the store.";
    frame.render_widget(Paragraph::new(text).style(app.theme.muted()).wrap(Wrap { trim: true }), area);
}
