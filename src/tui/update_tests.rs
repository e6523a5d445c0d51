//! `update` driven key by key over a real SQLite store, as the phone call goes.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use secrecy::SecretString;

use super::app::{Action, App, CopyOutcome, Effect, Pane, StatusKind, update};
use super::panes::log::LogFocus;
use super::panes::planner::DateField;
use crate::config::Config;
use crate::connect::{ConnectError, System};
use crate::domain::calendar::{DEFAULT_TZ, DateRange, Month};
use crate::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
use crate::engine::estimate::RangeCounts;
use crate::store::{NewCustomer, Store};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap()
}

fn new_customer(name: &str, email: &str, url: &str, since: NaiveDate) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        cvr: Some("12345678".into()),
        email: Some(email.into()),
        phone: None,
        plan: "Basic".into(),
        integration: Integration {
            customer_id: 0,
            webshop: WebshopKind::WooCommerce,
            shop_url: url.into(),
            shop_key: SecretString::from("ck_test"),
            shop_secret: Some(SecretString::from("cs_test")),
            accounting: AccountingKind::Economic,
            accounting_url: "https://restapi.e-conomic.com/".into(),
            economic_app_secret: None,
            economic_grant: None,
            since,
            timezone: DEFAULT_TZ,
            settings: IntegrationSettings::default(),
        },
    }
}

fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store
        .add_customer(&new_customer("Hyggehjem ApS", "ordre@hyggehjem.dk", "https://hyggehjem.dk", d(2026, 6, 1)))
        .unwrap();
    store
        .add_customer(&new_customer("Nordlys Keramik", "info@nordlys.dk", "https://nordlys.dk", d(2026, 9, 1)))
        .unwrap();
    let mut odd = new_customer("Mystery Shop", "m@mystery.dk", "https://mystery.dk", d(2026, 1, 1));
    odd.plan = "Platinum".into();
    store.add_customer(&odd).unwrap();
    store.add_usage(1, Month { year: 2026, month: 12 }, 50).unwrap();
    let mut app = App::new(store, Config::default(), now(), None);
    app.size = (80, 24);
    (dir, app)
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| press(app, KeyCode::Char(c))).collect()
}

fn counts(effects: &[Effect]) -> Vec<(u64, DateRange)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::CountRange { generation, range, .. } => Some((*generation, *range)),
            _ => None,
        })
        .collect()
}

fn names(app: &App) -> Vec<String> {
    app.lookup.results.iter().map(|c| c.customer.name.clone()).collect()
}

/// Selects Hyggehjem and goes to the planner; returns the first count's generation.
fn in_planner(app: &mut App) -> u64 {
    type_text(app, "hyggehjem");
    let effects = press(app, KeyCode::Enter);
    press(app, KeyCode::Char('3'));
    assert_eq!(app.pane, Pane::Planner);
    counts(&effects)[0].0
}

#[test]
fn typing_filters_the_lookup() {
    let (_d, mut app) = app();
    assert_eq!(app.lookup.results.len(), 3);
    assert!(app.typing(), "the lookup starts in its search field");
    type_text(&mut app, "nord");
    assert_eq!(names(&app), ["Nordlys Keramik"]);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.lookup.results.len(), 3);
    // `q` is a letter while typing; after Esc it quits.
    type_text(&mut app, "q");
    assert!(!app.quit);
    assert_eq!(app.lookup.query.value(), "q");
    press(&mut app, KeyCode::Esc);
    assert!(matches!(press(&mut app, KeyCode::Char('q')).as_slice(), [Effect::Quit]));
    assert!(app.quit);
}

#[test]
fn arrows_and_vim_keys_move_the_highlight() {
    let (_d, mut app) = app();
    press(&mut app, KeyCode::Down);
    assert_eq!(app.lookup.selected, 1);
    type_text(&mut app, "j"); // typing: a letter of the query
    assert_eq!(app.lookup.query.value(), "j");
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.lookup.selected, 2, "stops at the last row");
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(app.lookup.selected, 1);
}

#[test]
fn enter_selects_and_opens_usage_and_the_default_range() {
    let (_d, mut app) = app();
    type_text(&mut app, "hyggehjem");
    let effects = press(&mut app, KeyCode::Enter);
    let current = app.current.as_ref().unwrap();
    assert_eq!(current.summary.customer.name, "Hyggehjem ApS");
    assert_eq!(current.context.as_ref().unwrap().used_this_month, 50);
    assert_eq!(current.history.as_ref().unwrap().len(), 12);
    assert_eq!(app.pane, Pane::Usage);
    // A year up to the day before the integration started.
    assert_eq!(counts(&effects), [(1, DateRange { from: d(2025, 6, 1), to: d(2026, 5, 31) })]);
    assert!(app.is_loading());
}

#[test]
fn an_unknown_plan_is_one_clear_error() {
    let (_d, mut app) = app();
    type_text(&mut app, "mystery");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(counts(&effects).is_empty());
    let status = app.status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("'Platinum'") && status.text.contains("[[plans]]"), "{}", status.text);
}

#[test]
fn tab_walks_fields_then_panes() {
    let (_d, mut app) = app();
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.pane, Pane::Usage);
    press(&mut app, KeyCode::Tab);
    assert_eq!((app.pane, app.planner.field), (Pane::Planner, DateField::From));
    press(&mut app, KeyCode::Tab);
    assert_eq!((app.pane, app.planner.field), (Pane::Planner, DateField::To));
    // The live log: its job list, then its lines.
    press(&mut app, KeyCode::Tab);
    assert_eq!((app.pane, app.log.focus), (Pane::Log, LogFocus::Jobs));
    press(&mut app, KeyCode::Tab);
    assert_eq!((app.pane, app.log.focus), (Pane::Log, LogFocus::Lines));
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.pane, Pane::Failures);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.pane, Pane::Lookup);
    assert!(app.typing());
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.pane, Pane::Failures);
    press(&mut app, KeyCode::BackTab);
    assert_eq!((app.pane, app.log.focus), (Pane::Log, LogFocus::Lines));
}

#[test]
fn date_keys_move_by_day_and_month() {
    let (_d, mut app) = app();
    in_planner(&mut app);
    assert_eq!(app.planner.from.value(), "2025-06-01");
    let e = press(&mut app, KeyCode::Right);
    assert_eq!(app.planner.from.value(), "2025-06-02");
    assert_eq!(counts(&e), [(2, DateRange { from: d(2025, 6, 2), to: d(2026, 5, 31) })]);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.planner.from.value(), "2025-06-01");
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.planner.from.value(), "2025-07-01");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.planner.to.value(), "2026-04-30", "31 May less a month is the end of April");
    press(&mut app, KeyCode::Char('h'));
    assert_eq!(app.planner.to.value(), "2026-04-29");
}

#[test]
fn typed_dates_are_validated_and_the_last_quote_kept() {
    let (_d, mut app) = app();
    let g = in_planner(&mut app);
    update(
        &mut app,
        Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 200, already_transferred: 0 }) },
    );
    assert_eq!(app.planner.quote.as_ref().unwrap().extra_orders, 50, "the seed's example: 50 + 200 of 200");
    press(&mut app, KeyCode::Enter);
    assert!(app.typing());
    press(&mut app, KeyCode::Backspace);
    let e = press(&mut app, KeyCode::Backspace);
    assert!(counts(&e).is_empty(), "'2025-06-' is no date");
    assert!(app.planner.input_error.clone().unwrap().starts_with("From:"));
    type_text(&mut app, "31");
    let err = app.planner.input_error.clone().unwrap();
    assert!(err.starts_with("From:") && err.contains("has 30 days"), "{err}");
    assert_eq!(app.planner.quote.as_ref().unwrap().orders_in_range, 200, "the last good quote stays");
    press(&mut app, KeyCode::Backspace);
    let e = type_text(&mut app, "0");
    let newest = counts(&e);
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].1, DateRange { from: d(2025, 6, 30), to: d(2026, 5, 31) });
    assert_eq!(app.planner.input_error, None);
    // From after To is refused with the remedy.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    for _ in 0..10 {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "2025-01-01");
    assert!(app.planner.input_error.clone().unwrap().contains("swap"));
}

#[test]
fn a_stale_count_is_ignored() {
    let (_d, mut app) = app();
    let first = in_planner(&mut app);
    let second = counts(&press(&mut app, KeyCode::Right))[0].0;
    assert!(second > first);
    update(
        &mut app,
        Action::Counted { generation: first, result: Ok(RangeCounts { in_range: 9, already_transferred: 0 }) },
    );
    assert!(app.planner.quote.is_none(), "the answer to an older range must not show");
    assert_eq!(app.planner.pending, Some(second));
    update(
        &mut app,
        Action::Counted { generation: second, result: Ok(RangeCounts { in_range: 300, already_transferred: 0 }) },
    );
    let q = app.planner.quote.clone().unwrap();
    assert_eq!((q.orders_in_range, q.from), (300, Some(d(2025, 6, 2))));
    assert!(!app.is_loading());
    // A late answer to the first request changes nothing either.
    update(
        &mut app,
        Action::Counted { generation: first, result: Ok(RangeCounts { in_range: 9, already_transferred: 0 }) },
    );
    assert_eq!(app.planner.quote.as_ref().unwrap().orders_in_range, 300);
}

#[test]
fn a_failed_count_says_what_to_do_and_r_retries() {
    let (_d, mut app) = app();
    let g = in_planner(&mut app);
    let err = ConnectError::Unreachable {
        system: System::WooCommerce,
        host: "hyggehjem.dk".into(),
        reason: "connection refused or no route".into(),
    };
    update(&mut app, Action::Counted { generation: g, result: Err(err) });
    let status = app.status.clone().unwrap();
    assert_eq!(status.kind, StatusKind::Error);
    assert!(status.text.contains("check the URL and that the shop is up"), "{}", status.text);
    let retry = counts(&press(&mut app, KeyCode::Char('r')));
    assert_eq!(retry.len(), 1);
    assert!(retry[0].0 > g);
}

#[test]
fn half_hours_change_the_fee_but_never_below_one() {
    let (_d, mut app) = app();
    let g = in_planner(&mut app);
    update(
        &mut app,
        Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 10, already_transferred: 0 }) },
    );
    let fee = |app: &App| app.planner.quote.as_ref().unwrap().base_fee.to_string();
    assert_eq!(fee(&app), "600.00");
    let e = press(&mut app, KeyCode::Char('+'));
    assert!(counts(&e).is_empty(), "the fee needs no new count");
    assert_eq!(fee(&app), "1200.00");
    press(&mut app, KeyCode::Char('-'));
    press(&mut app, KeyCode::Char('-'));
    assert_eq!(app.planner.half_hours, 1);
    assert_eq!(fee(&app), "600.00");
}

#[test]
fn y_copies_the_danish_quote() {
    let (_d, mut app) = app();
    press(&mut app, KeyCode::Esc);
    let nothing = press(&mut app, KeyCode::Char('3'));
    assert!(nothing.is_empty());
    assert!(press(&mut app, KeyCode::Char('y')).is_empty(), "no quote, nothing to copy");
    assert_eq!(app.status.as_ref().unwrap().kind, StatusKind::Error);
    press(&mut app, KeyCode::Char('1'));
    assert!(app.typing(), "back in the lookup's search field");
    let g = in_planner(&mut app);
    update(
        &mut app,
        Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 200, already_transferred: 0 }) },
    );
    let effects = press(&mut app, KeyCode::Char('y'));
    let [Effect::CopyQuote { text, file_name }] = effects.as_slice() else {
        panic!("expected one CopyQuote, got {effects:?}");
    };
    assert!(text.starts_with("Tilbud på import af tidligere ordrer — Hyggehjem ApS"), "{text}");
    assert!(text.contains("Ekstra ordrer: 50 × DKK 3,00 = DKK 150,00"), "{text}");
    assert_eq!(file_name, "tilbud-1-hyggehjem-aps-20261210-100000.txt");
    let saved = std::path::PathBuf::from("/tmp/q.txt");
    update(&mut app, Action::QuoteCopied(CopyOutcome { saved: Ok(saved), clipboard: Ok(()) }));
    assert!(app.status.as_ref().unwrap().text.contains("/tmp/q.txt"));
}

#[test]
fn too_small_ignores_everything_but_quitting() {
    let (_d, mut app) = app();
    update(&mut app, Action::Resize { width: 60, height: 20 });
    type_text(&mut app, "nord");
    assert_eq!(app.lookup.query.value(), "");
    press(&mut app, KeyCode::Enter);
    assert!(app.current.is_none());
    update(&mut app, Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)));
    assert!(app.quit);
}

#[test]
fn help_opens_from_anywhere_and_esc_closes_it() {
    let (_d, mut app) = app();
    type_text(&mut app, "?");
    assert!(!app.help_open, "? is text in the search field");
    press(&mut app, KeyCode::F(1));
    assert!(app.help_open);
    type_text(&mut app, "x");
    assert_eq!(app.lookup.query.value(), "?", "keys do not leak through the help");
    press(&mut app, KeyCode::Esc);
    assert!(!app.help_open);
}

#[test]
fn the_clock_refreshes_the_quote_each_minute() {
    let (_d, mut app) = app();
    let g = in_planner(&mut app);
    update(
        &mut app,
        Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 200, already_transferred: 0 }) },
    );
    let finish = app.planner.quote.as_ref().unwrap().finish_at;
    app.dirty = false;
    update(&mut app, Action::Tick(now() + chrono::Duration::seconds(20)));
    assert!(!app.dirty, "nothing on screen changes within the minute");
    update(&mut app, Action::Tick(now() + chrono::Duration::seconds(61)));
    assert!(app.dirty);
    assert_eq!(app.planner.quote.as_ref().unwrap().finish_at, finish + chrono::Duration::seconds(61));
}
