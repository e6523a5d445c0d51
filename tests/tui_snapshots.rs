//! What the support person sees: every pane at 80×24 (tmux over SSH) and 160×48 (a big
//! terminal), drawn with ratatui's TestBackend from a real SQLite store and a fixed clock.
//! Counts arrive as actions, as they would from the shop; the store effects (the live log's
//! and the inspector's reads) are performed by the same functions the run loop uses, against
//! a job, orders and events written through the store API.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secrecy::SecretString;

use importdesk::config::Config;
use importdesk::connect::{ConnectError, System};
use importdesk::domain::calendar::{DEFAULT_TZ, DateRange, Month};
use importdesk::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
use importdesk::domain::job::{JobState, JobStep, OrderState};
use importdesk::engine::estimate::RangeCounts;
use importdesk::engine::jobs;
use importdesk::store::{JobId, JobKind, Level, NewCustomer, NewJobOrder, Outcome, Store};
use importdesk::tui::theme::Theme;
use importdesk::tui::{Action, App, Effect, draw, effects, update};

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

// ---------------------------------------------------------------------------------------
// The live import log and the failure inspector, over a job written through the store API.

/// Performs the store effects as the run loop does and feeds the answers back, until no
/// store effect is left (counts at the shop and the clipboard are not the store's).
fn settle(app: &mut App, effects: Vec<Effect>) {
    let mut store = Store::open(app.store.path()).unwrap();
    let config = app.config.clone();
    let mut queue = VecDeque::from(effects);
    let mut rounds = 0;
    while let Some(effect) = queue.pop_front() {
        assert!(!matches!(effect, Effect::StartJob { .. }), "a snapshot test never starts a worker");
        rounds += 1;
        assert!(rounds < 100, "effects keep asking for more: {effect:?}");
        if let Some(action) = effects::perform(&mut store, &config, None, &effect) {
            queue.extend(update(app, action));
        }
    }
}

fn press(app: &mut App, code: KeyCode) {
    let effects = key(app, code);
    settle(app, effects);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Running,
    Paused,
    Finished,
}

const BUYERS: [&str; 6] = ["Mette Hansen", "Lars Nielsen", "Sofie Jensen", "Anders Holm", "Ida Kristensen", "Emil Bak"];

/// A failure as the worker records it: cause, detail, value, fix hint and the vendor's reply.
fn failure(cause: &str, detail: &str, value: &str, fix: &str, response: Option<&str>) -> Outcome {
    Outcome {
        cause: Some(cause.into()),
        detail: Some(detail.into()),
        value: Some(value.into()),
        fix_hint: Some(fix.into()),
        vendor_response: response.map(str::to_string),
        ..Outcome::default()
    }
}

/// Hyggehjem's job 1: 120 orders of January–May, a worker on "jumphost pid 4242", 60
/// transferred over the last three minutes, seven failed (four missing products, two
/// without SKU, one without phone), two skipped, one unknown and the rest pending; or
/// paused there; or finished with every pending order transferred.
fn seed_job(store: &mut Store, stage: Stage) -> JobId {
    let t0 = now() - Duration::minutes(40);
    let range = DateRange::new(date(2026, 1, 1), date(2026, 5, 31)).unwrap();
    let job = store.create_job(1, JobKind::Range, Some(range), None, t0).unwrap();
    jobs::accept(store, job, "Mette Holm", "mail 8 Dec 'Ja tak'", t0).unwrap();
    jobs::record_test(store, job, "#1001", Some("20001"), t0).unwrap();
    jobs::approve(store, job, "Jens Hyggehjem", t0).unwrap();
    store.job_step(job, JobStep::Start, &[]).unwrap();
    store.mark_job_time(job, "started_at", now() - Duration::minutes(12)).unwrap();
    let orders: Vec<NewJobOrder> = (1..=120)
        .map(|i: u32| NewJobOrder {
            shop_id: (5000 + i).to_string(),
            reference: format!("#{}", 1000 + i),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap() + Duration::hours(i64::from(i) * 29),
            state: OrderState::Pending,
            skip_reason: None,
            order_json: Some(format!("{{\"buyer\":{{\"name\":\"{}\"}}}}", BUYERS[i as usize % BUYERS.len()])),
        })
        .collect();
    store.add_job_orders(job, &orders).unwrap();
    store.set_listing(job, None, true).unwrap();
    store.acquire_lease(job, "jumphost pid 4242", Duration::seconds(20), now()).unwrap();
    let december = Month { year: 2026, month: 12 };
    let mut journal = Journal::default();
    let started = now() - Duration::minutes(12);
    journal.add(Level::Info, None, "worker jumphost pid 4242 started", started);
    journal.add(Level::Info, None, "listed 120 orders from the shop", started);

    let shop_id = |i: u32| (5000 + i).to_string();
    let reference = |i: u32| format!("#{}", 1000 + i);
    let send = |store: &mut Store, i: u32, at: DateTime<Utc>| {
        assert!(
            store
                .transition(job, &shop_id(i), OrderState::Pending, OrderState::Sending, &Outcome::default(), at)
                .unwrap()
        );
    };
    let finished_count = if stage == Stage::Finished { 110 } else { 60 };
    let sent = (1..=120).filter(|i| ![7, 19, 23, 42, 58, 77, 91, 33, 64, 100].contains(i));
    for (transferred, i) in sent.take(finished_count as usize).enumerate() {
        let transferred = transferred as i64;
        // Spread over the last three minutes, a little over one order every three seconds.
        let at = now() - Duration::seconds(180) + Duration::seconds(transferred * 180 / finished_count as i64);
        send(store, i, at);
        let out = Outcome { invoice: Some(format!("{}", 20000 + i)), usage: Some((1, december)), ..Outcome::default() };
        assert!(store.transition(job, &shop_id(i), OrderState::Sending, OrderState::Transferred, &out, at).unwrap());
        if i % 15 == 0 {
            journal.add(Level::Info, Some(&reference(i)), &format!("{} → invoice {}", reference(i), 20000 + i), at);
        }
    }
    let reply = r#"{"message":"Validation failed. 1 error found.","errorCode":"E04300","developerHint":"Inspect validation errors and correct your request.","errors":{"lines":{"items":[{"product":{"errors":[{"propertyName":"product","errorMessage":"Product 'TSHIRT-BL' not found.","errorCode":"E06000","inputValue":"TSHIRT-BL","developerHint":"Find a list of products at https://restapi.e-conomic.com/products ."}]}}]}},"logId":"9d7c1a0e3f","httpStatusCode":400}"#;
    let failures = [
        (
            7,
            failure(
                "missing_product",
                "line 1 'T-shirt, blue': product TSHIRT-BL does not exist in e-conomic",
                "TSHIRT-BL",
                "create product TSHIRT-BL in e-conomic (or let the integration create missing products), then retry",
                Some(reply),
            ),
        ),
        (
            19,
            failure(
                "missing_product",
                "line 2 'Hoodie, navy': product HOODIE-NV does not exist in e-conomic",
                "HOODIE-NV",
                "create product HOODIE-NV in e-conomic (or let the integration create missing products), then retry",
                Some(reply),
            ),
        ),
        (
            23,
            failure(
                "missing_product",
                "line 1 'T-shirt, blue': product TSHIRT-BL does not exist in e-conomic",
                "TSHIRT-BL",
                "create product TSHIRT-BL in e-conomic (or let the integration create missing products), then retry",
                Some(reply),
            ),
        ),
        (
            42,
            failure(
                "missing_product",
                "line 3 'Mug, white': product MUG-WH does not exist in e-conomic",
                "MUG-WH",
                "create product MUG-WH in e-conomic (or let the integration create missing products), then retry",
                Some(reply),
            ),
        ),
        (
            58,
            failure(
                "missing_sku",
                "line 2 'Hoodie, navy': no SKU",
                "sku",
                "give the product a SKU in WooCommerce, then retry",
                None,
            ),
        ),
        (
            77,
            failure(
                "missing_sku",
                "line 1 'Gift card': no SKU",
                "sku",
                "give the product a SKU in WooCommerce, then retry",
                None,
            ),
        ),
        (
            91,
            failure(
                "missing_phone",
                "the buyer has no phone number, and the integration requires one",
                "phone",
                "add a phone number to order #1091 in WooCommerce, or stop requiring phone numbers in the integration's settings, then retry",
                None,
            ),
        ),
    ];
    for (n, (i, outcome)) in failures.into_iter().enumerate() {
        let at = now() - Duration::seconds(170 - n as i64 * 20);
        send(store, i, at);
        assert!(store.transition(job, &shop_id(i), OrderState::Sending, OrderState::Failed, &outcome, at).unwrap());
        let detail = outcome.detail.clone().unwrap_or_default();
        journal.add(Level::Error, Some(&reference(i)), &format!("{} failed: {detail}", reference(i)), at);
    }
    for i in [33, 64] {
        let out = Outcome {
            skip_reason: Some("status 'cancelled' is not transferred by the integration's settings".into()),
            ..Outcome::default()
        };
        assert!(
            store
                .transition(
                    job,
                    &shop_id(i),
                    OrderState::Pending,
                    OrderState::Skipped,
                    &out,
                    now() - Duration::seconds(100)
                )
                .unwrap()
        );
    }
    let at = now() - Duration::seconds(60);
    send(store, 100, at);
    assert!(
        store
            .transition(job, &shop_id(100), OrderState::Sending, OrderState::Unknown, &Outcome::default(), at)
            .unwrap()
    );
    journal.add(
        Level::Warn,
        Some("#1100"),
        "#1100: e-conomic's reply was cut off after the invoice was sent; reconciling by reference",
        at,
    );
    journal.add(
        Level::Warn,
        Some("#1104"),
        "#1104 will be retried: e-conomic answered 429 Too Many Requests (retry after 2 s)",
        now() - Duration::seconds(30),
    );
    match stage {
        Stage::Running => {}
        Stage::Paused => {
            store.job_step(job, JobStep::Pause, &[]).unwrap();
            journal.add(Level::Info, None, "paused", now());
        }
        Stage::Finished => {
            let out = Outcome { usage: Some((1, december)), invoice: Some("21100".into()), ..Outcome::default() };
            assert!(
                store
                    .transition(
                        job,
                        &shop_id(100),
                        OrderState::Unknown,
                        OrderState::Transferred,
                        &out,
                        now() - Duration::seconds(20)
                    )
                    .unwrap()
            );
            store.job_step(job, JobStep::Finish, &[]).unwrap();
            store.mark_job_time(job, "finished_at", now() - Duration::seconds(10)).unwrap();
            store.release_lease(job, "jumphost pid 4242").unwrap();
            journal.add(Level::Info, None, "finished: 111 transferred, 7 failed, 2 skipped", now());
        }
    }
    journal.write(store, job);
    job
}

/// The job's log lines, written in time order as a worker would have.
#[derive(Default)]
struct Journal(Vec<(DateTime<Utc>, Level, Option<String>, String)>);

impl Journal {
    fn add(&mut self, level: Level, reference: Option<&str>, text: &str, at: DateTime<Utc>) {
        self.0.push((at, level, reference.map(str::to_string), text.to_string()));
    }

    fn write(mut self, store: &Store, job: JobId) {
        self.0.sort_by_key(|(at, ..)| *at);
        for (at, level, reference, text) in self.0 {
            store.log_event(job, level, reference.as_deref(), &text, at).unwrap();
        }
    }
}

/// Hyggehjem selected, their job seeded, and the pane opened with its digit.
fn with_job(w: u16, h: u16, stage: Stage, pane: char) -> Fixture {
    let mut f = fixture(w, h);
    let mut store = Store::open(f.app.store.path()).unwrap();
    seed_job(&mut store, stage);
    type_text(&mut f.app, "hyggehjem");
    press(&mut f.app, KeyCode::Enter);
    press(&mut f.app, KeyCode::Char(pane));
    f
}

#[test]
fn log_of_a_running_job() {
    check("log_running", |w, h| with_job(w, h, Stage::Running, '4'));
}

#[test]
fn log_of_a_paused_job() {
    check("log_paused", |w, h| with_job(w, h, Stage::Paused, '4'));
}

#[test]
fn log_of_a_finished_job() {
    check("log_finished", |w, h| with_job(w, h, Stage::Finished, '4'));
}

#[test]
fn log_scrolled_back_and_filtered() {
    let mut f = with_job(80, 24, Stage::Running, '4');
    press(&mut f.app, KeyCode::Tab); // to the log lines
    press(&mut f.app, KeyCode::Up);
    assert!(!f.app.log.follow, "scrolling up stops following");
    press(&mut f.app, KeyCode::Char('/'));
    type_text(&mut f.app, "failed");
    press(&mut f.app, KeyCode::Esc);
    insta::assert_snapshot!("log_filtered_80x24", screen(&f.app, 80, 24));
    press(&mut f.app, KeyCode::Char('F'));
    assert!(f.app.log.follow, "F follows again");
}

#[test]
fn log_asks_before_cancelling() {
    let mut f = with_job(80, 24, Stage::Running, '4');
    press(&mut f.app, KeyCode::Char('c'));
    insta::assert_snapshot!("log_cancel_question_80x24", screen(&f.app, 80, 24));
    let effects = key(&mut f.app, KeyCode::Char('y'));
    assert!(matches!(effects.as_slice(), [Effect::JobCommand { .. }]), "{effects:?}");
}

#[test]
fn inspector_groups() {
    check("failures_groups", |w, h| with_job(w, h, Stage::Finished, '5'));
}

#[test]
fn inspector_group_rows() {
    check("failures_rows", |w, h| {
        let mut f = with_job(w, h, Stage::Finished, '5');
        press(&mut f.app, KeyCode::Enter);
        press(&mut f.app, KeyCode::Down);
        f
    });
}

#[test]
fn inspector_order_detail() {
    check("failures_detail", |w, h| {
        let mut f = with_job(w, h, Stage::Finished, '5');
        press(&mut f.app, KeyCode::Enter);
        press(&mut f.app, KeyCode::Enter);
        f
    });
}

#[test]
fn inspector_retry_confirmation() {
    check("failures_retry_question", |w, h| {
        let mut f = with_job(w, h, Stage::Finished, '5');
        press(&mut f.app, KeyCode::Char('R'));
        f
    });
}

#[test]
fn planner_job_steps() {
    let (mut f, effects) = selected(80, 24, "hyggehjem");
    let mut store = Store::open(f.app.store.path()).unwrap();
    seed_job(&mut store, Stage::Running);
    let g = generation(&effects);
    settle(&mut f.app, effects);
    press(&mut f.app, KeyCode::Char('3'));
    update(
        &mut f.app,
        Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 1840, already_transferred: 0 }) },
    );
    press(&mut f.app, KeyCode::Char('j'));
    insta::assert_snapshot!("planner_job_steps_80x24", screen(&f.app, 80, 24));
}

/// The job steps after `i` imported one order (*enkeltvis*): the single-order job beside the
/// range job, and the result in one line.
#[test]
fn planner_job_steps_with_a_single_order_imported() {
    let (mut f, effects) = selected(80, 24, "hyggehjem");
    let mut store = Store::open(f.app.store.path()).unwrap();
    seed_job(&mut store, Stage::Running);
    let g = generation(&effects);
    settle(&mut f.app, effects);
    press(&mut f.app, KeyCode::Char('3'));
    update(
        &mut f.app,
        Action::Counted { generation: g, result: Ok(RangeCounts { in_range: 1840, already_transferred: 0 }) },
    );
    press(&mut f.app, KeyCode::Char('j'));
    press(&mut f.app, KeyCode::Char('i'));
    type_text(&mut f.app, "#1042");
    let effects = key(&mut f.app, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::ImportOrder { customer: 1, reference }] if reference == "#1042"),
        "{effects:?}"
    );
    // The single-order job as the worker leaves it: finished, the order transferred.
    let single = store.create_job(1, JobKind::Single, None, None, now()).unwrap();
    store.force_job_state(single, JobState::Finished).unwrap();
    let order = NewJobOrder {
        shop_id: "6042".into(),
        reference: "#1042".into(),
        created_at: Utc.with_ymd_and_hms(2025, 11, 28, 14, 5, 0).unwrap(),
        state: OrderState::Pending,
        skip_reason: None,
        order_json: None,
    };
    store.add_job_orders(single, &[order]).unwrap();
    store.transition(single, "6042", OrderState::Pending, OrderState::Sending, &Outcome::default(), now()).unwrap();
    let booked = Outcome { invoice: Some("10117".into()), ..Outcome::default() };
    store.transition(single, "6042", OrderState::Sending, OrderState::Transferred, &booked, now()).unwrap();
    let row = store.job_order(single, "6042").unwrap().unwrap();
    let answer = Action::OrderImported { customer: 1, reference: "#1042".into(), result: Box::new(Ok((single, row))) };
    let effects = update(&mut f.app, answer);
    settle(&mut f.app, effects);
    insta::assert_snapshot!("planner_job_steps_single_order_80x24", screen(&f.app, 80, 24));
}

#[test]
fn help_for_the_log_and_the_inspector() {
    for pane in ['4', '5'] {
        let mut f = with_job(80, 24, Stage::Running, pane);
        press(&mut f.app, KeyCode::Char('?'));
        insta::assert_snapshot!(format!("help_{pane}_80x24"), screen(&f.app, 80, 24));
    }
}

/// The preflight of job 1 as the engine would store it: three predicted failures.
fn seed_preflight(store: &mut Store, job: JobId) {
    let at = |d: u32| Utc.with_ymd_and_hms(2026, 2, d, 12, 0, 0).unwrap();
    let predicted = |reference: &str, d, customer: &str, cause: &str, detail: &str, value: &str, fix: &str| {
        importdesk::store::PredictedFailure {
            shop_id: reference.trim_start_matches('#').to_string(),
            reference: reference.into(),
            created_at: at(d),
            customer: Some(customer.into()),
            cause: cause.into(),
            detail: detail.into(),
            value: Some(value.into()),
            fix_hint: fix.into(),
        }
    };
    let missing = "create product TSHIRT-BL in e-conomic (or let the integration create missing products), then retry";
    let result = importdesk::store::PreflightResult {
        orders_read: 124,
        orders_checked: 120,
        orders_skipped: 4,
        checked_at: now() - Duration::minutes(30),
        failures: vec![
            predicted(
                "#1131",
                3,
                "Mette Hansen",
                "missing_product",
                "line 1 'T-shirt, blue': product TSHIRT-BL does not exist in e-conomic",
                "TSHIRT-BL",
                missing,
            ),
            predicted(
                "#1140",
                9,
                "Emil Bak",
                "missing_product",
                "line 1 'T-shirt, blue': product TSHIRT-BL does not exist in e-conomic",
                "TSHIRT-BL",
                missing,
            ),
            predicted(
                "#1152",
                17,
                "Ida Kristensen",
                "missing_sku",
                "line 2 'Hoodie, navy': no SKU",
                "sku",
                "give the product a SKU in WooCommerce, then retry",
            ),
        ],
    };
    store.save_preflight(job, &result).unwrap();
}

#[test]
fn inspector_predicted_failures() {
    check("failures_predicted", |w, h| {
        let mut f = with_job(w, h, Stage::Running, '5');
        let mut store = Store::open(f.app.store.path()).unwrap();
        seed_preflight(&mut store, 1);
        press(&mut f.app, KeyCode::Char('p'));
        press(&mut f.app, KeyCode::Enter);
        f
    });
}

#[test]
fn planner_with_a_preflight() {
    let (mut f, effects) = selected(80, 24, "hyggehjem");
    let mut store = Store::open(f.app.store.path()).unwrap();
    let job = seed_job(&mut store, Stage::Running);
    seed_preflight(&mut store, job);
    settle(&mut f.app, effects);
    press(&mut f.app, KeyCode::Char('3'));
    // A quote for the job's range, from 1 January; then for a longer one.
    press(&mut f.app, KeyCode::Enter);
    for _ in 0..10 {
        press(&mut f.app, KeyCode::Backspace);
    }
    let typed = type_text(&mut f.app, "2026-01-01");
    press(&mut f.app, KeyCode::Esc);
    let counts = RangeCounts { in_range: 120, already_transferred: 0 };
    update(&mut f.app, Action::Counted { generation: generation(&typed), result: Ok(counts) });
    insta::assert_snapshot!("planner_preflight_80x24", screen(&f.app, 80, 24));
    let effects = key(&mut f.app, KeyCode::PageDown);
    let counts = RangeCounts { in_range: 140, already_transferred: 0 };
    update(&mut f.app, Action::Counted { generation: generation(&effects), result: Ok(counts) });
    insta::assert_snapshot!("planner_preflight_other_range_80x24", screen(&f.app, 80, 24));
}
