//! The job steps, the live log's commands and the inspector's actions driven key by key,
//! with the store effects performed as the run loop performs them, over a real SQLite file.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use secrecy::SecretString;

use super::app::{Action, App, Effect, Pane, StatusKind, update};
use super::effects;
use crate::config::Config;
use crate::domain::calendar::{DEFAULT_TZ, DateRange};
use crate::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
use crate::domain::job::{JobState, JobStep, OrderState};
use crate::engine::estimate::RangeCounts;
use crate::engine::triage::Selection;
use crate::store::{JobCommand, JobId, JobKind, NewCustomer, NewJobOrder, Outcome, Store};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap()
}

fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store
        .add_customer(&NewCustomer {
            name: "Hyggehjem ApS".into(),
            cvr: Some("12345678".into()),
            email: Some("ordre@hyggehjem.dk".into()),
            phone: None,
            plan: "Basic".into(),
            integration: Integration {
                customer_id: 0,
                webshop: WebshopKind::WooCommerce,
                shop_url: "https://hyggehjem.dk".into(),
                shop_key: SecretString::from("ck_test"),
                shop_secret: Some(SecretString::from("cs_test")),
                accounting: AccountingKind::Economic,
                accounting_url: "https://restapi.e-conomic.com/".into(),
                economic_app_secret: None,
                economic_grant: None,
                since: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
                timezone: DEFAULT_TZ,
                settings: IntegrationSettings::default(),
            },
        })
        .unwrap();
    let mut app = App::new(store, Config::default(), now(), None);
    app.size = (80, 24);
    (dir, app)
}

/// Performs the store effects and feeds the answers back; returns the effects that are not
/// the store's (counts, retries, test transfers), for the test to look at.
fn settle(app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
    let mut store = Store::open(app.store.path()).unwrap();
    let config = app.config.clone();
    let mut queue = VecDeque::from(effects);
    let mut other = Vec::new();
    while let Some(effect) = queue.pop_front() {
        assert!(!matches!(effect, Effect::StartJob { .. }), "a unit test never starts a worker");
        match effects::perform(&mut store, &config, None, &effect) {
            Some(action) => queue.extend(update(app, action)),
            None => other.push(effect),
        }
    }
    other
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let effects = update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    settle(app, effects)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn status(app: &App) -> (StatusKind, String) {
    let s = app.status.clone().expect("a status line");
    (s.kind, s.text)
}

/// Selects Hyggehjem and opens the planner with a counted quote.
fn in_planner(app: &mut App) {
    type_text(app, "hygge");
    let effects = update(app, Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let rest = settle(app, effects);
    let generation = rest
        .iter()
        .find_map(|e| match e {
            Effect::CountRange { generation, .. } => Some(*generation),
            _ => None,
        })
        .expect("the planner counts");
    press(app, KeyCode::Char('3'));
    let counts = RangeCounts { in_range: 300, already_transferred: 40 };
    update(app, Action::Counted { generation, result: Ok(counts) });
}

fn job_state(app: &App, job: JobId) -> JobState {
    Store::open(app.store.path()).unwrap().job(job).unwrap().state
}

#[test]
fn job_steps_from_the_planner_in_order_and_refused_out_of_order() {
    let (_d, mut app) = app();
    in_planner(&mut app);
    press(&mut app, KeyCode::Char('j'));
    assert!(app.job_menu.open && app.job_menu.jobs.is_empty());
    press(&mut app, KeyCode::Char('n'));
    let job = app.job_menu.selected.expect("the new job is selected");
    assert_eq!(job_state(&app, job), JobState::Quoted);
    let stored = Store::open(app.store.path()).unwrap().job(job).unwrap();
    assert_eq!(stored.quoted_orders, 260, "the quote on screen is kept with the job");
    // The import range stops the day before the integration started.
    assert_eq!(stored.range.map(|r| r.to.to_string()).as_deref(), Some("2026-05-31"));

    // Out of order: the domain's message names the missing step, nothing is written.
    let effects = press(&mut app, KeyCode::Char('t'));
    assert!(effects.is_empty());
    let (kind, text) = status(&app);
    assert_eq!(kind, StatusKind::Error);
    assert!(text.contains("offer must be accepted first"), "{text}");
    press(&mut app, KeyCode::Char('s'));
    assert!(status(&app).1.contains("offer must be accepted first"));

    // Accept: who and where, both required.
    press(&mut app, KeyCode::Char('a'));
    assert!(app.typing(), "the form has the keys");
    type_text(&mut app, "Mette Holm");
    press(&mut app, KeyCode::Enter); // to the reference field
    press(&mut app, KeyCode::Enter);
    assert!(status(&app).1.contains("Reference is empty"), "{:?}", status(&app));
    type_text(&mut app, "mail 8 Dec");
    press(&mut app, KeyCode::Enter);
    assert_eq!(job_state(&app, job), JobState::OfferAccepted);
    let stored = Store::open(app.store.path()).unwrap().job(job).unwrap();
    assert_eq!(stored.accepted_by.as_deref(), Some("Mette Holm"));
    assert_eq!(stored.acceptance_reference.as_deref(), Some("mail 8 Dec"));
    assert_eq!(app.job_menu.selected_job().map(|j| j.state), Some(JobState::OfferAccepted), "read again");

    // The test transfer is an effect for the run loop (it talks to the shop and e-conomic),
    // of a named order or, left empty, the range's oldest.
    press(&mut app, KeyCode::Char('t'));
    type_text(&mut app, "#1042");
    let rest = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(rest.as_slice(), [Effect::TestTransfer { job: j, order: Some(o) }] if *j == job && o == "#1042"),
        "{rest:?}"
    );
    assert!(app.is_loading(), "a spinner while it runs");
    press(&mut app, KeyCode::Char('o'));
    assert!(status(&app).1.contains("wait for the step in progress"));

    // Esc closes the popup; the planner's line tells where the job stands.
    press(&mut app, KeyCode::Esc);
    assert!(!app.job_menu.open);
}

#[test]
fn approve_needs_the_test_transfer_first_and_records_who() {
    let (_d, mut app) = app();
    in_planner(&mut app);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('n'));
    let job = app.job_menu.selected.unwrap();
    press(&mut app, KeyCode::Char('o'));
    assert!(status(&app).1.contains("test transfer must be made first") || status(&app).1.contains("accepted first"));
    {
        let mut store = Store::open(app.store.path()).unwrap();
        crate::engine::jobs::accept(&mut store, job, "Mette", "mail", now()).unwrap();
        crate::engine::jobs::record_test(&mut store, job, "#1001", Some("20001"), now()).unwrap();
    }
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('j')); // reads the jobs again
    press(&mut app, KeyCode::Char('o'));
    type_text(&mut app, "Jens");
    press(&mut app, KeyCode::Enter);
    assert_eq!(job_state(&app, job), JobState::Approved);
    assert!(status(&app).1.contains("s starts the import"), "{:?}", status(&app));
}

/// A running job of Hyggehjem with `failed` failed orders (missing_product) and pending ones.
fn running_job(app: &App, failed: u32, pending: u32) -> JobId {
    let mut store = Store::open(app.store.path()).unwrap();
    let range = DateRange::new(now().date_naive() - Duration::days(300), now().date_naive() - Duration::days(200));
    let job = store.create_job(1, JobKind::Range, Some(range.unwrap()), None, now()).unwrap();
    for step in [JobStep::Accept, JobStep::TestTransfer, JobStep::Approve, JobStep::Start] {
        store.job_step(job, step, &[]).unwrap();
    }
    let orders: Vec<NewJobOrder> = (1..=failed + pending)
        .map(|i| NewJobOrder {
            shop_id: i.to_string(),
            reference: format!("#{}", 1000 + i),
            created_at: now() - Duration::days(250),
            state: OrderState::Pending,
            skip_reason: None,
            order_json: None,
        })
        .collect();
    store.add_job_orders(job, &orders).unwrap();
    store.set_listing(job, None, true).unwrap();
    for i in 1..=failed {
        let id = i.to_string();
        store.transition(job, &id, OrderState::Pending, OrderState::Sending, &Outcome::default(), now()).unwrap();
        let out = Outcome {
            cause: Some("missing_product".into()),
            detail: Some("line 1 'T-shirt': product TSHIRT-BL does not exist in e-conomic".into()),
            value: Some("TSHIRT-BL".into()),
            fix_hint: Some("create product TSHIRT-BL in e-conomic, then retry".into()),
            ..Outcome::default()
        };
        store.transition(job, &id, OrderState::Sending, OrderState::Failed, &out, now()).unwrap();
    }
    job
}

#[test]
fn pause_and_cancel_without_a_worker_apply_at_once_and_cancel_asks_first() {
    let (_d, mut app) = app();
    let job = running_job(&app, 0, 5);
    press(&mut app, KeyCode::Esc); // leave the search field
    press(&mut app, KeyCode::Char('4'));
    assert_eq!(app.pane, Pane::Log);
    assert_eq!(app.log.selected, Some(job), "the newest job is selected");
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(job_state(&app, job), JobState::Paused);
    assert!(status(&app).1.contains("no worker was running"), "{:?}", status(&app));
    assert_eq!(app.log.current().map(|s| s.job.state), Some(JobState::Paused), "shown at once");

    let effects = update(&mut app, Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)));
    assert!(effects.is_empty(), "nothing happens before the yes");
    assert_eq!(app.log.confirm_cancel, Some(job));
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(job_state(&app, job), JobState::Paused);
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(job_state(&app, job), JobState::Cancelled);
    let counts = Store::open(app.store.path()).unwrap().order_counts(job).unwrap();
    assert_eq!(counts["cancelled"], 5, "pending orders cancelled with the job");
    // A cancelled job cannot be paused; the domain says why.
    press(&mut app, KeyCode::Char('p'));
    assert!(status(&app).1.contains("cancelled"), "{:?}", status(&app));
}

#[test]
fn commands_go_to_a_live_worker() {
    let (_d, mut app) = app();
    let job = running_job(&app, 0, 3);
    {
        let mut store = Store::open(app.store.path()).unwrap();
        store.acquire_lease(job, "jumphost pid 1", Duration::seconds(600), Utc::now()).unwrap();
    }
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('p'));
    let store = Store::open(app.store.path()).unwrap();
    assert_eq!(store.job(job).unwrap().command, Some(JobCommand::Pause), "written for the worker");
    assert_eq!(store.job(job).unwrap().state, JobState::Running, "the worker makes the step");
}

#[test]
fn new_log_lines_follow_unless_scrolled_back() {
    let (_d, mut app) = app();
    let job = running_job(&app, 0, 1);
    let store = Store::open(app.store.path()).unwrap();
    for i in 0..40 {
        store.log_event(job, crate::store::Level::Info, None, &format!("line {i}"), now()).unwrap();
    }
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('4'));
    assert_eq!(app.log.events.len(), 40);
    assert!(app.log.follow);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::PageUp);
    assert!(!app.log.follow);
    let back = app.log.back;
    store.log_event(job, crate::store::Level::Info, None, "line 40", now()).unwrap();
    let effects = update(&mut app, Action::Poll(now()));
    settle(&mut app, effects);
    assert_eq!(app.log.events.len(), 41, "only the new line was read");
    assert_eq!(app.log.back, back + 1, "the view stays where it was");
    press(&mut app, KeyCode::End);
    assert!(app.log.follow && app.log.back == 0);
    // The level filter: errors only.
    store.log_event(job, crate::store::Level::Error, Some("#1001"), "#1001 failed", now()).unwrap();
    let effects = update(&mut app, Action::Poll(now()));
    settle(&mut app, effects);
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('l'));
    assert_eq!(app.log.matches.len(), 1);
}

#[test]
fn retry_group_asks_with_the_count_and_skip_needs_a_reason() {
    let (_d, mut app) = app();
    let job = running_job(&app, 3, 0);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.failures.groups, vec![("missing_product".to_string(), 3)]);
    press(&mut app, KeyCode::Char('R'));
    assert_eq!(app.failures.confirm.as_ref().map(|q| q.count), Some(3));
    let rest = press(&mut app, KeyCode::Char('y'));
    assert!(
        matches!(rest.as_slice(), [Effect::Retry { job: j, selection: Selection::Cause(c) }] if *j == job && c == "missing_product"),
        "{rest:?}"
    );
    assert!(app.is_loading());
    update(&mut app, Action::Retried(Err("the shop did not answer".into())));
    assert!(!app.is_loading());

    // Skip the second order, with a reason.
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('s'));
    assert!(app.typing());
    press(&mut app, KeyCode::Enter);
    assert!(status(&app).1.contains("type why"), "{:?}", status(&app));
    type_text(&mut app, "customer credited it");
    press(&mut app, KeyCode::Enter);
    let store = Store::open(app.store.path()).unwrap();
    let o = store.job_order_by_reference(job, "#1002").unwrap().unwrap();
    assert_eq!((o.state, o.skip_reason.as_deref()), (OrderState::Skipped, Some("customer credited it")));
    assert_eq!(app.failures.groups, vec![("missing_product".to_string(), 2)], "the group shrank");

    // r retries the selected order only.
    let rest = press(&mut app, KeyCode::Char('r'));
    assert!(matches!(rest.as_slice(), [Effect::Retry { selection: Selection::Order(_), .. }]), "{rest:?}");
}

#[test]
fn the_filter_narrows_the_groups() {
    let (_d, mut app) = app();
    running_job(&app, 3, 0);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('5'));
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "#1002");
    assert_eq!(app.failures.groups, vec![("missing_product".to_string(), 1)]);
    assert_eq!(app.failures.rows.len(), 1);
    type_text(&mut app, "x");
    assert!(app.failures.groups.is_empty());
}

#[test]
fn exports_write_the_group_to_a_private_directory_and_name_the_path() {
    let (dir, app) = app();
    let job = running_job(&app, 2, 1);
    let store = Store::open(app.store.path()).unwrap();
    let exports = dir.path().join("home/exports");
    let request = effects::Export { job, cause: Some("missing_product"), predicted: false };
    let path = effects::export(&store, &app.config, &exports, &request, now()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3, "a header and the two failed orders:\n{text}");
    assert!(text.contains("#1001") && text.contains("TSHIRT-BL"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&exports).unwrap().permissions().mode() & 0o777, 0o700);
    }
    let message = effects::export_message(&path, Some(&dir.path().join("home")), Some("missing_product"), false, job);
    assert!(message.starts_with("saved ~/exports/job"), "{message}");
    assert!(message.contains("missing_product group"), "{message}");
    let all = effects::Export { job, cause: None, predicted: false };
    let path = effects::export(&store, &app.config, &exports, &all, now() + Duration::seconds(1)).unwrap();
    assert!(path.file_name().unwrap().to_string_lossy().contains("-all-"), "{}", path.display());
}

#[test]
fn an_unchanged_store_draws_no_frame() {
    let (_d, mut app) = app();
    let job = running_job(&app, 1, 2);
    press(&mut app, KeyCode::Esc);
    for pane in ['4', '5'] {
        press(&mut app, KeyCode::Char(pane));
        app.dirty = false;
        let effects = update(&mut app, Action::Poll(now()));
        assert!(!effects.is_empty(), "pane {pane} reads on the tick");
        settle(&mut app, effects);
        assert!(!app.dirty, "pane {pane}: nothing changed, nothing to draw");
        let store = Store::open(app.store.path()).unwrap();
        store.log_event(job, crate::store::Level::Info, None, "something happened", now()).unwrap();
        let effects = update(&mut app, Action::Poll(now()));
        settle(&mut app, effects);
        if pane == '4' {
            assert!(app.dirty, "a new log line is drawn");
        }
    }
}

/// The screen as text, drawn as the run loop draws it.
fn screen(app: &App) -> String {
    let (w, h) = app.size;
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    terminal.draw(|frame| super::view::draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..h).map(|y| (0..w).map(|x| buffer[(x, y)].symbol()).collect::<String>()).collect::<Vec<_>>().join("\n")
}

/// The row the worker leaves for a single-order import of `#1042`.
fn single_row(job: JobId, state: OrderState) -> crate::store::JobOrder {
    crate::store::JobOrder {
        job_id: job,
        shop_id: "1042".into(),
        reference: "#1042".into(),
        created_at: now() - Duration::days(400),
        state,
        attempts: 1,
        next_attempt_at: None,
        last_attempt_at: Some(now()),
        invoice: None,
        cause: None,
        detail: None,
        value: None,
        fix_hint: None,
        vendor_response: None,
        skip_reason: None,
        transferred_at: None,
    }
}

#[test]
fn one_order_imported_from_the_job_steps_and_its_result_shown_in_one_line() {
    let (_d, mut app) = app();
    in_planner(&mut app);
    press(&mut app, KeyCode::Char('j'));
    assert!(screen(&app).contains("i single"), "the key is in the popup's hints:\n{}", screen(&app));
    press(&mut app, KeyCode::Char('?'));
    assert!(screen(&app).contains("import 1 order (enkeltvis)"), "and in the help:\n{}", screen(&app));
    press(&mut app, KeyCode::Esc);
    assert!(!app.help_open && app.job_menu.open, "Esc closes the help, back to the steps");

    // No job is needed: the import makes a single-order job of its own. The order is required.
    press(&mut app, KeyCode::Char('i'));
    assert!(app.typing(), "the form has the keys");
    assert!(screen(&app).contains("Import one order now"), "{}", screen(&app));
    let rest = press(&mut app, KeyCode::Enter);
    assert!(rest.is_empty());
    assert_eq!(status(&app), (StatusKind::Error, "Order is empty: type the order's number (#1042) or id".into()));
    type_text(&mut app, " #1042 ");
    let rest = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(rest.as_slice(), [Effect::ImportOrder { customer: 1, reference }] if reference == "#1042"),
        "an effect for the run loop, with the customer and the reference: {rest:?}"
    );
    assert!(!app.typing() && app.is_loading(), "a spinner while it runs");
    assert!(screen(&app).contains("importing order #1042"), "{}", screen(&app));
    press(&mut app, KeyCode::Char('n'));
    assert!(status(&app).1.contains("wait for the step in progress"), "{:?}", status(&app));
    press(&mut app, KeyCode::Char('i'));
    assert!(app.job_menu.form.is_none(), "one import at a time");

    // Transferred: the invoice and the job, in the popup and the status line.
    let mut row = single_row(7, OrderState::Transferred);
    row.invoice = Some("10117".into());
    let answer = Action::OrderImported { customer: 1, reference: "#1042".into(), result: Box::new(Ok((7, row))) };
    let effects = update(&mut app, answer);
    assert!(matches!(effects.as_slice(), [Effect::ReadJobs { customer: 1 }]), "the new job is read: {effects:?}");
    settle(&mut app, effects);
    assert!(!app.is_loading());
    assert_eq!(status(&app), (StatusKind::Done, "order #1042 → invoice 10117 (job 7)".into()));
    assert!(screen(&app).contains("│✓ order #1042 → invoice 10117 (job 7)"), "{}", screen(&app));

    // Failed: state, cause, detail and the fix, on one line.
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "1042");
    press(&mut app, KeyCode::Enter);
    assert!(app.job_menu.single.is_none(), "the last result goes while the next runs");
    let mut row = single_row(8, OrderState::Failed);
    row.cause = Some("missing_product".into());
    row.detail = Some("line 1 'T-shirt': product TSHIRT-BL does not exist in e-conomic".into());
    row.fix_hint = Some("create product TSHIRT-BL in e-conomic, then retry".into());
    let answer = Action::OrderImported { customer: 1, reference: "1042".into(), result: Box::new(Ok((8, row))) };
    let effects = update(&mut app, answer);
    settle(&mut app, effects);
    let (kind, text) = status(&app);
    assert_eq!(kind, StatusKind::Error);
    assert_eq!(
        text,
        "order #1042 not transferred (failed, product missing in the accounting system; job 8): \
         line 1 'T-shirt': product TSHIRT-BL does not exist in e-conomic — create product TSHIRT-BL in e-conomic, then retry"
    );
    assert!(screen(&app).contains("│✗ order #1042 not transferred (failed, product missing"), "{}", screen(&app));

    // Not run at all (the shop's 404): the cause in one line, nothing panics.
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "9999");
    press(&mut app, KeyCode::Enter);
    let err = "WooCommerce at hyggehjem.dk: order 9999 not found".to_string();
    let answer = Action::OrderImported { customer: 1, reference: "9999".into(), result: Box::new(Err(err)) };
    let effects = update(&mut app, answer);
    settle(&mut app, effects);
    assert_eq!(
        status(&app),
        (StatusKind::Error, "order 9999 not imported: WooCommerce at hyggehjem.dk: order 9999 not found".into())
    );
    assert!(screen(&app).contains("│✗ order 9999 not imported: WooCommerce at hyggehjem.dk"), "{}", screen(&app));
    assert!(!app.is_loading());
}

#[test]
fn an_import_that_settles_after_the_customer_changed_reports_in_the_status_only() {
    let (_d, mut app) = app();
    in_planner(&mut app);
    press(&mut app, KeyCode::Char('j'));
    app.job_menu.customer = Some(2);
    let answer = Action::OrderImported { customer: 1, reference: "#1042".into(), result: Box::new(Err("down".into())) };
    assert!(update(&mut app, answer).is_empty());
    assert!(app.job_menu.single.is_none(), "not shown with another customer's jobs");
    assert_eq!(status(&app), (StatusKind::Error, "customer 1: order #1042 not imported: down".into()));
}
