//! What the support person sees: every pane at 80×24 (tmux over SSH) and 160×48 (a big
//! terminal), drawn with ratatui's TestBackend from a real SQLite store and a fixed clock.
//! Counts arrive as actions, as they would from the shop.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secrecy::SecretString;

use importdesk::config::Config;
use importdesk::connect::{ConnectError, System};
use importdesk::domain::calendar::{DEFAULT_TZ, Month};
use importdesk::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
use importdesk::engine::estimate::RangeCounts;
use importdesk::store::{NewCustomer, Store};
use importdesk::tui::theme::Theme;
use importdesk::tui::{Action, App, Effect, draw, update};

/// 10 December 2026, 10:00 in Copenhagen.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap()
}

fn customer(
    name: &str,
    cvr: &str,
    email: &str,
    url: &str,
    kind: WebshopKind,
    plan: &str,
    since: NaiveDate,
) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        cvr: Some(cvr.into()),
        email: Some(email.into()),
        phone: None,
        plan: plan.into(),
        integration: Integration {
            customer_id: 0,
            webshop: kind,
            shop_url: url.into(),
            shop_key: SecretString::from("ck_test"),
            shop_secret: Some(SecretString::from("cs_test")),
            accounting: AccountingKind::Economic,
            accounting_url: "https://restapi.e-conomic.com/".into(),
            economic_app_secret: None,
            economic_grant: None,
            since,
            timezone: DEFAULT_TZ,
            settings: IntegrationSettings::for_webshop(kind),
        },
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: App,
}

fn fixture(width: u16, height: u16) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("importdesk.db")).unwrap();
    let woo = WebshopKind::WooCommerce;
    let shopify = WebshopKind::Shopify;
    let rows = [
        customer(
            "Hyggehjem ApS",
            "12345678",
            "ordre@hyggehjem.dk",
            "https://hyggehjem.dk",
            woo,
            "Basic",
            date(2026, 6, 1),
        ),
        customer(
            "Nordlys Keramik",
            "87654321",
            "info@nordlys.dk",
            "https://shop.nordlys.dk",
            shopify,
            "Plus",
            date(2026, 9, 15),
        ),
        customer("Hygge & Co", "11112222", "hej@hyggeco.dk", "https://hyggeco.dk", shopify, "Basic", date(2026, 11, 1)),
        customer(
            "Æblegården I/S",
            "33334444",
            "bestilling@aeblegaarden.dk",
            "https://aeblegaarden.dk",
            woo,
            "Pro",
            date(2025, 3, 1),
        ),
        customer(
            "Cykelkælderen",
            "55556666",
            "butik@cykelkaelderen.dk",
            "https://www.cykelkaelderen.dk",
            woo,
            "Enterprise",
            date(2024, 1, 10),
        ),
    ];
    for row in &rows {
        store.add_customer(row).unwrap();
    }
    // Hyggehjem's ledger: the live integration from June, busy before Christmas.
    let dec = Month { year: 2026, month: 12 };
    for (back, orders) in [(6, 120), (5, 164), (4, 149), (3, 188), (2, 231), (1, 274), (0, 50)] {
        let mut m = dec;
        for _ in 0..back {
            m = m.prev();
        }
        store.add_usage(1, m, orders).unwrap();
    }
    store.add_usage(3, dec, 212).unwrap();
    let mut app = App::new(store, Config::default(), now(), Some("demo: simulator on 127.0.0.1:40123".into()));
    app.theme = Theme::monochrome();
    app.size = (width, height);
    Fixture { _dir: dir, app }
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| key(app, KeyCode::Char(c))).collect()
}

fn generation(effects: &[Effect]) -> u64 {
    effects
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::CountRange { generation, .. } => Some(*generation),
            _ => None,
        })
        .expect("a count was requested")
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn check(name: &str, build: impl Fn(u16, u16) -> Fixture) {
    for (w, h) in SIZES {
        let f = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&f.app, w, h));
    }
}

/// Hyggehjem selected from the lookup (Enter), which opens the usage pane.
fn selected(w: u16, h: u16, query: &str) -> (Fixture, Vec<Effect>) {
    let mut f = fixture(w, h);
    type_text(&mut f.app, query);
    let effects = key(&mut f.app, KeyCode::Enter);
    (f, effects)
}

#[test]
fn lookup_with_a_query_typed() {
    check("lookup", |w, h| {
        let mut f = fixture(w, h);
        type_text(&mut f.app, "hygge");
        key(&mut f.app, KeyCode::Down);
        f
    });
}

#[test]
fn lookup_listing_everyone() {
    check("lookup_all", fixture);
}

#[test]
fn usage_with_a_top_up_figure() {
    check("usage", |w, h| {
        let (mut f, effects) = selected(w, h, "hyggehjem");
        let g = generation(&effects);
        update(
            &mut f.app,
            Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 1840, already_transferred: 0 }) },
        );
        key(&mut f.app, KeyCode::Char('t'));
        type_text(&mut f.app, "500");
        f
    });
}

#[test]
fn usage_with_bad_top_up_input() {
    let (mut f, _) = selected(80, 24, "hyggehjem");
    key(&mut f.app, KeyCode::Char('t'));
    type_text(&mut f.app, "5o0");
    insta::assert_snapshot!("usage_bad_top_up_80x24", screen(&f.app, 80, 24));
}

/// The planner for Nordlys (Shopify, integration since 15 September) with a range that
/// reaches the integration's start and is older than 60 days: both warnings show.
fn planner_with_range(w: u16, h: u16) -> (Fixture, u64) {
    let (mut f, _) = selected(w, h, "nordlys");
    key(&mut f.app, KeyCode::Char('3'));
    key(&mut f.app, KeyCode::Tab); // to the To field
    key(&mut f.app, KeyCode::Enter); // type into it
    for _ in 0..10 {
        key(&mut f.app, KeyCode::Backspace);
    }
    let effects = type_text(&mut f.app, "2026-09-30");
    key(&mut f.app, KeyCode::Esc);
    (f, generation(&effects))
}

#[test]
fn planner_with_a_finished_quote_and_warnings() {
    check("planner_quote", |w, h| {
        let (mut f, g) = planner_with_range(w, h);
        let counts = RangeCounts { in_range: 2_315, already_transferred: 412 };
        update(&mut f.app, Action::Counted { generation: g, result: Ok(counts) });
        key(&mut f.app, KeyCode::Char('+'));
        f
    });
}

#[test]
fn planner_counting_with_a_spinner() {
    check("planner_counting", |w, h| {
        let (mut f, _) = planner_with_range(w, h);
        update(&mut f.app, Action::Spin);
        update(&mut f.app, Action::Spin);
        f
    });
}

#[test]
fn planner_with_an_error() {
    check("planner_error", |w, h| {
        let (mut f, g) = planner_with_range(w, h);
        let err = ConnectError::Unauthorized {
            system: System::Shopify,
            host: "shop.nordlys.dk".into(),
            status: 401,
            message: "[API] Invalid API key or access token (unrecognized login or wrong password)".into(),
        };
        update(&mut f.app, Action::Counted { generation: g, result: Err(err) });
        f
    });
}

#[test]
fn planner_with_a_bad_date_keeps_the_last_quote() {
    let (mut f, g) = planner_with_range(80, 24);
    let counts = RangeCounts { in_range: 2_315, already_transferred: 412 };
    update(&mut f.app, Action::Counted { generation: g, result: Ok(counts) });
    key(&mut f.app, KeyCode::Enter);
    key(&mut f.app, KeyCode::Backspace);
    type_text(&mut f.app, "1");
    insta::assert_snapshot!("planner_bad_date_80x24", screen(&f.app, 80, 24));
}

#[test]
fn help_for_the_planner() {
    check("help", |w, h| {
        let (mut f, _) = selected(w, h, "hyggehjem");
        key(&mut f.app, KeyCode::Char('3'));
        key(&mut f.app, KeyCode::Char('?'));
        f
    });
}

#[test]
fn too_small_terminal() {
    let f = fixture(70, 20);
    insta::assert_snapshot!("too_small_70x20", screen(&f.app, 70, 20));
}
