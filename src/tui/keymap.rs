//! The keymap: which key does what, as data. The key handler, the hint bar and the help
//! screen all read the same lists, so the help can never be out of date.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::Pane;

/// One key with its modifiers. Shift is ignored for characters (`+` is Shift-= on many
/// layouts) and for Shift-Tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key { code, mods: KeyModifiers::NONE }
    }

    pub const fn char(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key { code: KeyCode::Char(c), mods: KeyModifiers::CONTROL }
    }

    pub fn matches(&self, ev: &KeyEvent) -> bool {
        if ev.kind == KeyEventKind::Release {
            return false;
        }
        let ignore_shift = matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab);
        let mods = if ignore_shift { ev.modifiers - KeyModifiers::SHIFT } else { ev.modifiers };
        let code = match ev.code {
            // Ctrl-C arrives as 'c' or, with caps lock or kitty's protocol, 'C'.
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        code == self.code && mods == self.mods
    }

    /// How the key is written in the hint bar and the help: `↑`, `PgUp`, `Ctrl-C`.
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Backspace => "Backspace".to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) { format!("Ctrl-{base}") } else { base }
    }
}

/// Everything a key can ask for. Global commands are handled by the app, the rest by the
/// pane whose keymap holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    CloseHelp,
    /// Next field; past a pane's last field, the next pane.
    NextFocus,
    PrevFocus,
    GoPane(Pane),
    /// Stop typing into the text field (the text stays).
    LeaveField,
    // Customer lookup.
    RowUp,
    RowDown,
    PageUp,
    PageDown,
    FirstRow,
    LastRow,
    SelectCustomer,
    TypeSearch,
    // Subscription usage.
    TypeTopUp,
    // Import planner.
    DayEarlier,
    DayLater,
    MonthEarlier,
    MonthLater,
    TypeDate,
    MoreHalfHours,
    FewerHalfHours,
    CopyQuote,
    Recount,
    // Live import log.
    /// Jobs of the current customer, or of everyone.
    ToggleJobScope,
    /// Back to the newest line, following new ones.
    Follow,
    TypeFilter,
    CycleLevel,
    PauseResume,
    CancelJob,
    OpenFailures,
    // Confirmations and small forms.
    Confirm,
    Dismiss,
    Submit,
    // Job steps, from the planner.
    JobMenu,
    CreateJob,
    AcceptOffer,
    TestTransfer,
    ApproveTest,
    StartJob,
    /// One order imported now (*enkeltvis*), outside any range job.
    ImportOrder,
    // Failure inspector.
    Open,
    Back,
    RetryOrder,
    RetryGroup,
    SkipOrder,
    Export,
    ExportAll,
    TogglePredicted,
    Preflight,
}

/// Keys, what they do (for the help), and optionally a short form for the hint bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub label: &'static str,
    pub command: Command,
    /// `(keys, label)` as the hint bar writes them; `None` keeps the binding out of the bar.
    pub hint: Option<(&'static str, &'static str)>,
}

impl Binding {
    pub fn new(keys: &[Key], label: &'static str, command: Command) -> Binding {
        Binding { keys: keys.to_vec(), label, command, hint: None }
    }

    /// Shows the binding in the hint bar as `keys label`.
    pub fn hint(mut self, keys: &'static str, label: &'static str) -> Binding {
        self.hint = Some((keys, label));
        self
    }

    /// `↑/k` — every key of the binding.
    pub fn keys_text(&self) -> String {
        self.keys.iter().map(Key::name).collect::<Vec<_>>().join("/")
    }
}

/// The first binding that matches the key, in list order.
pub fn find(bindings: &[Binding], ev: &KeyEvent) -> Option<Command> {
    bindings.iter().find(|b| b.keys.iter().any(|k| k.matches(ev))).map(|b| b.command)
}

pub const CTRL_C: Key = Key::ctrl('c');

/// Keys that work in every pane. While typing, plain characters belong to the field, so
/// only keys that cannot be text are global.
pub fn global(typing: bool) -> Vec<Binding> {
    let mut out = vec![
        Binding::new(&[Key::plain(KeyCode::Tab)], "next field, then next pane", Command::NextFocus).hint("Tab", "next"),
        Binding::new(&[Key::plain(KeyCode::BackTab)], "previous field, then pane", Command::PrevFocus),
    ];
    if typing {
        out.push(Binding::new(&[Key::plain(KeyCode::F(1))], "help", Command::Help).hint("F1", "help"));
    } else {
        for pane in Pane::ALL {
            out.push(Binding::new(&[pane.key()], pane.go_label(), Command::GoPane(*pane)));
        }
        out.push(Binding::new(&[Key::char('?'), Key::plain(KeyCode::F(1))], "help", Command::Help).hint("?", "help"));
        out.push(Binding::new(&[Key::char('q')], "quit", Command::Quit).hint("q", "quit"));
    }
    let quit_always = Binding::new(&[CTRL_C], "quit, always", Command::Quit);
    // While typing, `q` is a letter: the bar offers the key that still quits.
    out.push(if typing { quit_always.hint("Ctrl-C", "quit") } else { quit_always });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn shift_is_ignored_for_characters_only() {
        assert!(Key::char('+').matches(&ev(KeyCode::Char('+'), KeyModifiers::SHIFT)));
        assert!(Key::plain(KeyCode::BackTab).matches(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert!(!Key::plain(KeyCode::Up).matches(&ev(KeyCode::Up, KeyModifiers::SHIFT)));
        assert!(CTRL_C.matches(&ev(KeyCode::Char('C'), KeyModifiers::CONTROL | KeyModifiers::SHIFT)));
        assert!(!Key::char('c').matches(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    }

    #[test]
    fn names_read_well() {
        assert_eq!(CTRL_C.name(), "Ctrl-C");
        assert_eq!(Key::plain(KeyCode::PageUp).name(), "PgUp");
        let b = Binding::new(&[Key::plain(KeyCode::Up), Key::char('k')], "up", Command::RowUp);
        assert_eq!(b.keys_text(), "↑/k");
    }

    #[test]
    fn typing_leaves_letters_to_the_field() {
        let q = ev(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(find(&global(false), &q), Some(Command::Quit));
        assert_eq!(find(&global(true), &q), None);
        assert_eq!(find(&global(true), &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Command::Quit));
    }
}
