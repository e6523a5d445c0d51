//! Customer lookup: a search field over the store's index (name, CVR, e-mail, shop domain,
//! id), results updated as you type, and a table of which only the visible rows are built.

use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::fit;
use crate::domain::customer::WebshopKind;
use crate::store::CustomerSummary;
use crate::tui::app::{App, Effect, Pane};
use crate::tui::keymap::{Binding, Command, Key};
use crate::tui::layout;
use crate::tui::text_field::{self, FieldState};

/// Matches fetched per keystroke; a search that needs more is too vague to scroll through.
pub const RESULT_LIMIT: usize = 200;

#[derive(Debug, Clone, Default)]
pub struct LookupState {
    pub query: Input,
    pub typing: bool,
    pub results: Vec<CustomerSummary>,
    pub selected: usize,
    pub error: Option<String>,
}

/// Runs the search for the current query (indexed, fast enough for every keystroke).
pub fn refresh(app: &mut App) {
    match app.store.search_customers(app.lookup.query.value(), RESULT_LIMIT) {
        Ok(rows) => {
            app.lookup.results = rows;
            app.lookup.error = None;
        }
        Err(e) => {
            app.lookup.results.clear();
            app.lookup.error = Some(e.to_string());
        }
    }
    app.lookup.selected = app.lookup.selected.min(app.lookup.results.len().saturating_sub(1));
}

/// The pane's keys while browsing or while typing in its field.
pub fn bindings(typing: bool) -> Vec<Binding> {
    let k = Key::plain;
    let mut out = vec![
        Binding::new(&[k(KeyCode::Enter)], "select the highlighted customer", Command::SelectCustomer)
            .hint("Enter", "select"),
    ];
    if typing {
        out.extend([
            Binding::new(&[k(KeyCode::Up)], "previous customer", Command::RowUp).hint("↑↓", "move"),
            Binding::new(&[k(KeyCode::Down)], "next customer", Command::RowDown),
            Binding::new(&[k(KeyCode::PageUp)], "a page up", Command::PageUp),
            Binding::new(&[k(KeyCode::PageDown)], "a page down", Command::PageDown),
            Binding::new(&[k(KeyCode::Esc)], "leave the search field", Command::LeaveField).hint("Esc", "leave field"),
        ]);
    } else {
        out.extend([
            Binding::new(&[k(KeyCode::Up), Key::char('k')], "previous customer", Command::RowUp).hint("↑↓/jk", "move"),
            Binding::new(&[k(KeyCode::Down), Key::char('j')], "next customer", Command::RowDown),
            Binding::new(&[k(KeyCode::PageUp)], "a page up", Command::PageUp),
            Binding::new(&[k(KeyCode::PageDown)], "a page down", Command::PageDown),
            Binding::new(&[k(KeyCode::Home), Key::char('g')], "first customer", Command::FirstRow),
            Binding::new(&[k(KeyCode::End), Key::char('G')], "last customer", Command::LastRow),
            Binding::new(&[Key::char('/'), Key::char('i')], "type in the search field", Command::TypeSearch)
                .hint("/", "search"),
        ]);
    }
    out
}

pub fn on_command(app: &mut App, command: Command) -> Vec<Effect> {
    let last = app.lookup.results.len().saturating_sub(1);
    let page = layout::lookup_rows(app.size.0, app.size.1);
    let l = &mut app.lookup;
    match command {
        Command::RowUp => l.selected = l.selected.saturating_sub(1),
        Command::RowDown => l.selected = (l.selected + 1).min(last),
        Command::PageUp => l.selected = l.selected.saturating_sub(page),
        Command::PageDown => l.selected = (l.selected + page).min(last),
        Command::FirstRow => l.selected = 0,
        Command::LastRow => l.selected = last,
        Command::TypeSearch => l.typing = true,
        Command::LeaveField => l.typing = false,
        Command::SelectCustomer => {
            let Some(summary) = l.results.get(l.selected).cloned() else {
                app.error("no customer to select: change the search");
                return Vec::new();
            };
            let effects = app.select_customer(summary);
            app.enter_pane(Pane::Usage, true);
            return effects;
        }
        _ => {}
    }
    Vec::new()
}

/// A key typed into the search field: edit the query and search again.
pub fn on_text_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(request) = to_input_request(&Event::Key(key)) else {
        return Vec::new();
    };
    if app.lookup.query.handle(request).is_some_and(|changed| changed.value) {
        app.lookup.selected = 0;
        refresh(app);
    }
    Vec::new()
}

/// First visible row so that `selected` is on screen.
fn scroll_offset(selected: usize, visible: usize) -> usize {
    (selected + 1).saturating_sub(visible.max(1))
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect, focused: bool) {
    let theme = app.theme;
    let l = &app.lookup;
    let [search, note, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)]).areas(area);

    let count = match l.results.len() {
        n if n >= RESULT_LIMIT => format!("first {n} matches"),
        1 => "1 customer".to_string(),
        n => format!("{n} customers"),
    };
    let [label, field, counter] =
        Layout::horizontal([Constraint::Length(8), Constraint::Fill(1), Constraint::Length(20)]).areas(search);
    frame.render_widget(Span::styled("Search ", theme.label()), label);
    let state = match (focused, l.typing) {
        (true, true) => FieldState::Typing,
        (true, false) => FieldState::Selected,
        _ => FieldState::Idle,
    };
    text_field::draw(frame, field, &l.query, state, theme);
    if l.query.value().is_empty() && field.width > 2 {
        let inside = Rect { x: field.x + 1, width: field.width - 2, ..field };
        frame.render_widget(
            Span::styled(fit("name, CVR, e-mail, shop domain or id", usize::from(inside.width)), theme.muted()),
            inside,
        );
    }
    frame.render_widget(Line::styled(count, theme.muted()).right_aligned(), counter);

    if let Some(error) = &l.error {
        frame.render_widget(Line::styled(format!("✗ {error}"), theme.error()), note);
    } else if l.results.is_empty() {
        let text = format!(
            "No customer matches '{}'. Search by name, CVR, e-mail, shop domain or id.",
            l.query.value().trim()
        );
        frame.render_widget(Paragraph::new(text).style(theme.muted()), table_area);
        return;
    } else if let Some(c) = l.results.get(l.selected) {
        // The highlighted customer in full: the table may have had to cut columns.
        let mut facts = vec![format!("{} {}", c.customer.id, c.customer.name)];
        facts.extend(c.customer.cvr.as_ref().map(|v| format!("CVR {v}")));
        facts.extend(c.customer.email.clone());
        facts.push(format!("{} ({})", c.shop_domain, c.webshop.display_name()));
        facts.push(format!("{} since {}", c.customer.plan, c.since));
        let text = fit(&format!("▶ {}", facts.join(" · ")), usize::from(note.width));
        frame.render_widget(Line::styled(text, theme.label()), note);
    }

    let visible = usize::from(table_area.height.saturating_sub(1));
    let offset = scroll_offset(l.selected, visible);
    let shown = &l.results[offset.min(l.results.len())..(offset + visible).min(l.results.len())];
    let columns = Columns::for_width(table_area.width.saturating_sub(2), shown);
    let current = app.current.as_ref().map(|c| c.summary.customer.id);
    let rows = shown.iter().map(|c| columns.row(c, current == Some(c.customer.id)));
    let table = Table::new(rows, columns.constraints())
        .header(columns.header().style(theme.label()))
        .column_spacing(1)
        .highlight_symbol("▶ ")
        .row_highlight_style(if focused { theme.selected() } else { theme.plain() });
    let mut state = TableState::default().with_selected(Some(l.selected - offset));
    frame.render_stateful_widget(table, table_area, &mut state);
}

/// Column widths for the room there is: fixed columns sized to their content, the rest
/// shared by name, e-mail and shop; e-mail and webshop go first when it is narrow.
struct Columns {
    id: u16,
    name: u16,
    cvr: u16,
    email: u16,
    shop: u16,
    kind: u16,
    plan: u16,
    /// `Woo` for WooCommerce when room is short.
    short_kind: bool,
}

impl Columns {
    fn for_width(width: u16, rows: &[CustomerSummary]) -> Columns {
        let widest =
            |f: &dyn Fn(&CustomerSummary) -> usize, min: usize| rows.iter().map(f).max().unwrap_or(0).max(min) as u16;
        let id = widest(&|c| c.customer.id.to_string().len() + 1, 3);
        let cvr = 8;
        let kind = widest(&|c| c.webshop.display_name().len(), 7);
        let plan = widest(&|c| c.customer.plan.chars().count(), 4);
        let mut c = Columns { id, name: 0, cvr, email: 0, shop: 0, kind, plan, short_kind: false };
        let fixed = |c: &Columns| c.id + c.cvr + c.kind + c.plan;
        // One space between columns; the e-mail column counts while it is shown.
        let flex = |c: &Columns, email: bool| {
            let shown = [c.id, c.cvr, c.kind, c.plan].iter().filter(|w| **w > 0).count() as u16 + 2 + u16::from(email);
            width.saturating_sub(fixed(c) + shown - 1)
        };
        if flex(&c, true) < 48 {
            c.short_kind = true;
            c.kind = widest(&|c| short_kind(c).len(), 7);
        }
        // Narrow: webshop, e-mail and CVR make room for name and shop, in that order (the
        // line above the table still shows them for the highlighted customer).
        if flex(&c, true) < 39 {
            c.kind = 0;
        }
        if flex(&c, true) >= 39 {
            let room = flex(&c, true);
            // Names are what people say on the phone; e-mails mostly repeat the domain.
            c.name = room * 44 / 100;
            c.email = room * 26 / 100;
            c.shop = room - c.name - c.email;
            return c;
        }
        if flex(&c, false) < 28 {
            c.cvr = 0;
        }
        let room = flex(&c, false);
        c.name = room * 55 / 100;
        c.shop = room - c.name;
        c
    }

    fn widths(&self) -> [u16; 7] {
        [self.id, self.name, self.cvr, self.email, self.shop, self.kind, self.plan]
    }

    fn constraints(&self) -> Vec<Constraint> {
        self.widths().into_iter().filter(|w| *w > 0).map(Constraint::Length).collect()
    }

    fn cells(&self, texts: [String; 7]) -> Vec<Cell<'static>> {
        self.widths()
            .into_iter()
            .zip(texts)
            .filter(|(w, _)| *w > 0)
            .map(|(w, t)| Cell::from(fit(&t, usize::from(w))))
            .collect()
    }

    fn header(&self) -> Row<'static> {
        let names = ["Id", "Name", "CVR", "E-mail", "Shop", "Webshop", "Plan"];
        Row::new(self.cells(names.map(String::from)))
    }

    fn row(&self, c: &CustomerSummary, current: bool) -> Row<'static> {
        // `*` marks the customer already being helped.
        let id = format!("{}{}", c.customer.id, if current { "*" } else { "" });
        Row::new(self.cells([
            format!("{id:>width$}", width = usize::from(self.id)),
            c.customer.name.clone(),
            c.customer.cvr.clone().unwrap_or_default(),
            c.customer.email.clone().unwrap_or_default(),
            c.shop_domain.clone(),
            if self.short_kind { short_kind(c) } else { c.webshop.display_name() }.to_string(),
            c.customer.plan.clone(),
        ]))
    }
}

fn short_kind(c: &CustomerSummary) -> &'static str {
    match c.webshop {
        WebshopKind::WooCommerce => "Woo",
        WebshopKind::Shopify => "Shopify",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_keeps_the_selection_visible() {
        assert_eq!(scroll_offset(0, 10), 0);
        assert_eq!(scroll_offset(9, 10), 0);
        assert_eq!(scroll_offset(10, 10), 1);
        assert_eq!(scroll_offset(3, 0), 3);
    }
}
