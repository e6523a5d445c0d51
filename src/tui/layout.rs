//! Where things go on the screen: tabs at 80×24, the phone-call panes side by side when
//! the terminal is big, and a refusal below 80×24.

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::Pane;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
pub const WIDE_WIDTH: u16 = 140;
pub const WIDE_HEIGHT: u16 = 40;
/// The usage pane's width when panes share the screen: 12 bars of 3 and their gaps, plus borders.
pub const USAGE_WIDTH: u16 = 12 * 4 - 1 + 2 + 2;

pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// Room for lookup, usage and planner at once.
pub fn is_wide(width: u16, height: u16) -> bool {
    width >= WIDE_WIDTH && height >= WIDE_HEIGHT
}

/// The fixed rows around the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chrome {
    pub tabs: Rect,
    /// The current customer, shown whatever the pane.
    pub header: Rect,
    pub body: Rect,
    pub status: Rect,
    pub hints: Rect,
}

pub fn chrome(area: Rect) -> Chrome {
    let [tabs, header, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Chrome { tabs, header, body, status, hints }
}

/// The panes to draw and where. Wide: the three phone-call panes side by side (lookup,
/// usage, planner), whichever of them has the focus; a pane outside that group (the import
/// log, the failure inspector to come) gets the whole body. Otherwise the focused pane alone.
pub fn panes(focused: Pane, body: Rect, wide: bool) -> Vec<(Pane, Rect)> {
    let phone_call = [Pane::Lookup, Pane::Usage, Pane::Planner];
    if wide && phone_call.contains(&focused) {
        // Usage is as wide as twelve 3-cell bars need; lookup and planner share the rest.
        let [lookup, usage, planner] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(USAGE_WIDTH), Constraint::Fill(1)]).areas(body);
        vec![(Pane::Lookup, lookup), (Pane::Usage, usage), (Pane::Planner, planner)]
    } else {
        vec![(focused, body)]
    }
}

/// Panes have borders only when several share the screen; alone, the tab bar names them
/// and the rows are worth more.
pub fn bordered(width: u16, height: u16) -> bool {
    is_wide(width, height)
}

/// A box of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Rows of the lookup's result table for a terminal size (for paging).
pub fn lookup_rows(width: u16, height: u16) -> usize {
    let chrome_rows = 4;
    let border_rows = if bordered(width, height) { 2 } else { 0 };
    // Search line, a blank line and the table header.
    usize::from(height.saturating_sub(chrome_rows + border_rows + 3)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert!(too_small(79, 24));
        assert!(too_small(80, 23));
        assert!(!too_small(80, 24));
        assert!(!is_wide(139, 50));
        assert!(is_wide(140, 40));
        assert_eq!(lookup_rows(80, 24), 17);
    }

    #[test]
    fn wide_shows_the_three_phone_call_panes() {
        let body = Rect::new(0, 2, 160, 44);
        let p = panes(Pane::Usage, body, true);
        assert_eq!(p.len(), 3);
        assert_eq!(p.iter().map(|(_, r)| r.width).sum::<u16>(), 160);
        assert_eq!(panes(Pane::Usage, body, false), vec![(Pane::Usage, body)]);
    }
}
