//! A single-order import (*enkeltvis*) from the TUI's job steps, for real: the simulator's
//! shops and e-conomic (zero latency) on loopback, its customers registered as the demo
//! registers them, the keys driven through `update`, the effect performed by the function
//! the run loop awaits, and its answer fed back. The order ends transferred with exactly one
//! booked invoice; an order the shop does not have is one clear line, and no job.

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use importdesk::config::Config;
use importdesk::domain::calendar::DEFAULT_TZ;
use importdesk::domain::job::OrderState;
use importdesk::sim::{DefectRates, SimOptions};
use importdesk::store::Store;
use importdesk::tui::{Action, App, Effect, draw, effects, update};

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| key(app, KeyCode::Char(c))).collect()
}

/// Performs the store effects as the run loop does and feeds the answers back; returns the
/// others (counts at the shop, the import), for the test to look at or perform.
fn settle(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut store = Store::open(app.store.path()).unwrap();
    let config = app.config.clone();
    let mut queue = VecDeque::from(effects);
    let mut other = Vec::new();
    while let Some(effect) = queue.pop_front() {
        assert!(!matches!(effect, Effect::StartJob { .. }), "this test never starts a worker");
        match effects::perform(&mut store, &config, None, &effect) {
            Some(action) => queue.extend(update(app, action)),
            None => other.push(effect),
        }
    }
    other
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let effects = key(app, code);
    settle(app, effects)
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..24).map(|y| (0..80).map(|x| buffer[(x, y)].symbol()).collect::<String>()).collect::<Vec<_>>().join("\n")
}

/// Types the reference into the job steps' `i` form; returns the effect it asks for.
fn ask_import(app: &mut App, reference: &str) -> (i64, String) {
    press(app, KeyCode::Char('i'));
    type_text(app, reference);
    let rest = press(app, KeyCode::Enter);
    match rest.as_slice() {
        [Effect::ImportOrder { customer, reference }] => (*customer, reference.clone()),
        other => panic!("expected one import effect, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_order_imported_from_the_job_steps_is_booked_once() {
    // No seeded defects: the order picked goes through, as a clean order does.
    let defects = DefectRates { empty_sku: 0.0, no_phone: 0.0, no_name: 0.0, product_missing_in_accounting: 0.0 };
    let sim = common::sim_with_economic(
        SimOptions { customers: 3, seed: 11, defects, ..Default::default() },
        Duration::ZERO,
        0.0,
    )
    .await;
    let c = common::woo_customer(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("single.db");
    let mut store = Store::open(&db).unwrap();
    let manifest: importdesk::demo::ManifestFile =
        serde_json::from_value(serde_json::to_value(&sim.manifest).unwrap()).unwrap();
    importdesk::demo::register(&mut store, &manifest).unwrap();
    let customer = store.list_customers().unwrap().into_iter().find(|s| s.customer.name == c.name).unwrap().customer;
    let config_file = dir.path().join("config.toml");
    std::fs::write(&config_file, "[rates.economic]\ncalls_per_order = 5.0\nrequests_per_second = 400.0\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = Config::load(&config_file).unwrap();

    // An order from before the integration's start, as the shop lists it.
    let integration = store.integration(customer.id).unwrap();
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = common::range_before_start(shop, &c, 5, &["any"]);
    let source = importdesk::connect::source_for(&integration, reqwest::Client::new()).unwrap();
    let query = importdesk::connect::OrderQuery {
        range: range.to_utc(DEFAULT_TZ),
        statuses: integration.settings.statuses.clone(),
    };
    let order = source.page(&query, None, 5).await.unwrap().orders.into_iter().next().expect("an order in the range");
    assert_eq!(common::booked_references(&c).await.get(&order.reference), None, "not in e-conomic before");

    // The customer found in the lookup, the planner, the job steps: `i` and the order.
    let mut app = App::new(store, config.clone(), Utc::now(), None);
    type_text(&mut app, &c.name);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('j'));
    assert!(app.job_menu.open);
    let (asked_for, reference) = ask_import(&mut app, &order.reference);
    assert_eq!((asked_for, reference.as_str()), (customer.id, order.reference.as_str()));
    assert!(app.job_menu.busy.is_some(), "the spinner runs while the import does");

    let client = importdesk::connect::http::client();
    let action = effects::import_order(&db, &config, asked_for, &reference, client.clone()).await;
    let Action::OrderImported { result, .. } = &action else { panic!("{action:?}") };
    let (job, row) = result.as_ref().clone().unwrap_or_else(|e| panic!("the import failed: {e}"));
    assert_eq!(row.state, OrderState::Transferred, "{row:?}");
    let invoice = row.invoice.clone().expect("the invoice number");
    let effects = update(&mut app, action);
    settle(&mut app, effects);
    assert!(app.job_menu.busy.is_none(), "the spinner stops");
    let line = format!("order {} → invoice {invoice} (job {job})", order.reference);
    assert_eq!(app.status.as_ref().map(|s| s.text.as_str()), Some(line.as_str()));
    assert!(screen(&app).contains(&format!("✓ {line}")), "{}", screen(&app));
    assert_eq!(app.job_menu.jobs.first().map(|j| j.id), Some(job), "the single-order job is listed");
    let shown = screen(&app);
    assert!(shown.contains("single-order import (enkeltvis)"), "no range steps for it:\n{shown}");
    assert!(shown.contains("No import job yet"), "the planner's line is about range jobs only:\n{shown}");

    // In the store and in e-conomic: transferred, one booked invoice with the order's reference.
    let store = Store::open(&db).unwrap();
    let stored = store.job_order_by_reference(job, &order.reference).unwrap().expect("the order's row");
    assert_eq!(stored.state, OrderState::Transferred);
    let booked = common::booked_references(&c).await;
    assert_eq!(booked.get(&order.reference).copied(), Some(1), "booked exactly once");

    // An order the shop does not have: its 404, in one line, and no job made.
    let jobs_before = store.list_jobs(Some(customer.id)).unwrap().len();
    let (asked_for, reference) = ask_import(&mut app, "987654321");
    let action = effects::import_order(&db, &config, asked_for, &reference, client).await;
    let effects = update(&mut app, action);
    settle(&mut app, effects);
    let status = app.status.clone().expect("a status line");
    assert!(status.text.starts_with("order 987654321 not imported: WooCommerce at 127.0.0.1"), "{}", status.text);
    assert!(status.text.contains("not found") && !status.text.contains('\n'), "{}", status.text);
    assert!(screen(&app).contains("✗ order 987654321 not imported"), "{}", screen(&app));
    assert!(app.job_menu.busy.is_none(), "the spinner stops");
    assert_eq!(store.list_jobs(Some(customer.id)).unwrap().len(), jobs_before, "nothing to make a job for");
    sim.shutdown().await;
}
