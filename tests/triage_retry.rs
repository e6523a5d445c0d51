//! Triage after an import with failures: the customer fixes a cause in the simulated systems
//! (creates the missing products through e-conomic's REST API, gives products their SKU
//! through WooCommerce's), `importdesk retry --cause …` sends the group again and each order
//! ends transferred with exactly one booked invoice; `skip` takes an order out of the failures
//! with its reason; `failures --json` and `--csv` explain every failure. Also: a retry follows
//! a job's live worker and takes over when it is gone, and transient errors are retried by the
//! worker on its own before they become failures.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    add_customer, booked_references, create_product, importdesk, ok, range_before_start, test_with_first_good_order,
    woo_customer,
};
use importdesk::config::Config;
use importdesk::domain::job::{JobState, OrderState};
use importdesk::engine::triage::{Selection, retry_orders_with};
use importdesk::engine::worker::{RunEnd, WorkerOptions, add_single, run_job};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{DefectRates, Fault, ManifestCustomer, RunningSim, SimOptions, start_with};
use importdesk::store::{JobKind, Store};
use serde_json::{Value, json};

/// Runs a command that must fail: exit 2 and one line on stderr, returned.
fn refused(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(2), "{:?} should fail: {stderr}", cmd);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

async fn sim_with(defects: DefectRates) -> RunningSim {
    let economic = EconomicOptions { latency: Duration::ZERO, requests_per_second: Some(2000), ..Default::default() };
    start_with(SimOptions { customers: 4, seed: 5, defects, ..Default::default() }, 0, move |data| {
        vec![("/economic".into(), EconomicSim::new(seeds_from(data), economic).router())]
    })
    .await
    .unwrap()
}

/// Customer 1 and a job over about `orders` orders before the integration's start, accepted,
/// tested with the first order that goes through, approved, and run to the end.
async fn imported_job(sim: &RunningSim, db: &Path, orders: u64) -> (ManifestCustomer, String) {
    let c = woo_customer(sim);
    add_customer(db, &c, "Basic", 0);
    let range = range_before_start(sim.data.shop(&c.shop_domain).unwrap(), &c, orders, &["any"]);
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let job = ok(importdesk(db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    test_with_first_good_order(db, &job, range).await;
    ok(importdesk(db).args(["job", "approve", &job, "--by", "Kunde"]));
    let out = ok(importdesk(db).args(["run", &job]));
    assert!(out.contains("Finished"), "{out}");
    (c, job)
}

fn failures(db: &Path, job: &str) -> Value {
    serde_json::from_str(&ok(importdesk(db).args(["failures", job, "--json"]))).unwrap()
}

fn group_counts(failures: &Value) -> BTreeMap<String, u64> {
    failures["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["cause"].as_str().unwrap().to_string(), g["count"].as_u64().unwrap()))
        .collect()
}

fn group<'a>(failures: &'a Value, cause: &str) -> &'a Vec<Value> {
    let g = failures["groups"].as_array().unwrap().iter().find(|g| g["cause"] == cause);
    g.unwrap_or_else(|| panic!("no {cause} group: {failures}"))["orders"].as_array().unwrap()
}

/// `job N: A retried · B transferred · C still failing` → (A, B, C).
fn retry_figures(out: &str) -> (u64, u64, u64) {
    let line = out.lines().next().unwrap();
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .skip(1) // the job id
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 3, "{line}");
    (numbers[0], numbers[1], numbers[2])
}

/// A minimal RFC 4180 reader: quoted fields with doubled quotes, CRLF records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(row.is_empty() && field.is_empty(), "the last record ends with CRLF");
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn fixed_causes_retried_book_one_invoice_each() {
    let defects = DefectRates { empty_sku: 0.06, no_phone: 0.0, no_name: 0.05, product_missing_in_accounting: 0.08 };
    let sim = sim_with(defects).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("triage.db");
    let (c, job) = imported_job(&sim, &db, 200).await;

    // Every failure explained, in JSON and in the customer's CSV.
    let before = failures(&db, &job);
    let counts = group_counts(&before);
    eprintln!("failures after the import: {counts:?}");
    for cause in ["missing_product", "missing_sku", "missing_customer_name"] {
        assert!(counts.get(cause).copied().unwrap_or(0) > 0, "no {cause}: {before}");
    }
    let sizes: Vec<u64> = counts.values().copied().collect();
    let listed: Vec<u64> = before["groups"].as_array().unwrap().iter().map(|g| g["count"].as_u64().unwrap()).collect();
    assert!(listed.windows(2).all(|w| w[0] >= w[1]), "largest first: {listed:?}");
    assert_eq!(listed.iter().sum::<u64>(), sizes.iter().sum::<u64>());
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let missing_in_accounting: Vec<String> =
        shop.products().into_iter().filter(|p| !p.in_accounting).filter_map(|p| p.sku).collect();
    for o in group(&before, "missing_product") {
        let sku = o["value"].as_str().unwrap();
        assert!(missing_in_accounting.iter().any(|s| s == sku), "{o}");
        assert!(o["detail"].as_str().unwrap().contains(&format!("product {sku} does not exist")), "{o}");
        assert!(o["fix_hint"].as_str().unwrap().contains(&format!("create product {sku}")), "{o}");
        assert!(o["attempts"].as_u64().unwrap() >= 1 && o["last_attempt"].is_string(), "{o}");
    }
    for o in group(&before, "missing_sku") {
        assert_eq!(o["value"], "sku");
        assert!(o["detail"].as_str().unwrap().contains(": no SKU"), "{o}");
    }
    assert!(group(&before, "missing_customer_name").iter().all(|o| o["value"] == "name"));

    let csv_path = dir.path().join("for the customer.csv");
    ok(importdesk(&db).args(["failures", &job, "--csv"]).arg(&csv_path));
    let rows = parse_csv(&std::fs::read_to_string(&csv_path).unwrap());
    assert_eq!(
        rows[0],
        ["order", "date", "customer", "cause", "detail", "value", "fix_hint", "attempts", "last_attempt"]
    );
    assert_eq!(rows.len() as u64 - 1, sizes.iter().sum::<u64>());
    let by_ref: HashMap<&str, (&str, &Value)> = before["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["orders"].as_array().unwrap().iter().map(move |o| (g["cause"].as_str().unwrap(), o)))
        .map(|(cause, o)| (o["order"].as_str().unwrap(), (cause, o)))
        .collect();
    for row in &rows[1..] {
        let (cause, o) = by_ref[row[0].as_str()];
        assert_eq!(row[3], cause);
        assert_eq!(row[4], o["detail"].as_str().unwrap());
        assert_eq!(row[5], o["value"].as_str().unwrap_or(""));
        assert_eq!(row[6], o["fix_hint"].as_str().unwrap());
        assert_eq!(row[7], o["attempts"].to_string());
    }

    // The customer creates the missing products in e-conomic; the group is retried.
    for p in shop.products().into_iter().filter(|p| !p.in_accounting) {
        if let Some(sku) = &p.sku {
            create_product(&c, sku, &p.name).await;
        }
    }
    let n_missing = counts["missing_product"];
    let out = ok(importdesk(&db).args(["retry", &job, "--cause", "missing_product"]));
    assert_eq!(retry_figures(&out), (n_missing, n_missing, 0), "{out}");
    let after = failures(&db, &job);
    assert!(!group_counts(&after).contains_key("missing_product"), "the group emptied itself: {after}");

    // The customer gives the products without SKU one in WooCommerce (and creates them in
    // e-conomic); the group is retried.
    let client = reqwest::Client::new();
    for p in shop.products().into_iter().filter(|p| p.sku.is_none()) {
        let sku = format!("FIXED-{}", p.id);
        let url = format!("{}/wp-json/wc/v3/products/{}", c.shop_url.trim_end_matches('/'), p.id);
        let reply = client
            .put(url)
            .basic_auth(&c.shop_key, c.shop_secret.as_deref())
            .json(&json!({"sku": sku}))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{}", reply.text().await.unwrap());
        create_product(&c, &sku, &p.name).await;
    }
    let n_sku = counts["missing_sku"];
    let out = ok(importdesk(&db).args(["retry", &job, "--cause", "missing_sku"]));
    assert_eq!(retry_figures(&out), (n_sku, n_sku, 0), "{out}");

    // One nameless order is skipped with a reason; another is retried unfixed and fails again.
    let nameless = group(&after, "missing_customer_name");
    let skipped = nameless[0]["order"].as_str().unwrap().to_string();
    let out = ok(importdesk(&db).args(["skip", &job, "--order", &skipped, "--reason", "booked by hand"]));
    assert!(out.contains("skipped (booked by hand)"), "{out}");
    let still = failures(&db, &job);
    assert_eq!(group_counts(&still)["missing_customer_name"], counts["missing_customer_name"] - 1);
    let store = Store::open(&db).unwrap();
    let job_id: i64 = job.parse().unwrap();
    let row = store.job_order_by_reference(job_id, &skipped).unwrap().unwrap();
    assert_eq!((row.state, row.skip_reason.as_deref()), (OrderState::Skipped, Some("booked by hand")));
    drop(store);
    if nameless.len() > 1 {
        let again = nameless[1]["order"].as_str().unwrap();
        let attempts = nameless[1]["attempts"].as_u64().unwrap();
        let out = ok(importdesk(&db).args(["retry", &job, "--order", again]));
        assert_eq!(retry_figures(&out), (1, 0, 1), "{out}");
        let row = Store::open(&db).unwrap().job_order_by_reference(job_id, again).unwrap().unwrap();
        assert_eq!((row.state, row.cause.as_deref()), (OrderState::Failed, Some("missing_customer_name")));
        assert_eq!(u64::from(row.attempts), attempts + 1);
    }

    // Refusals are one clear line.
    let err = refused(importdesk(&db).args(["retry", &job, "--cause", "missing_product"]));
    assert!(err.contains("has no failed orders with cause missing_product"), "{err}");
    let err = refused(importdesk(&db).args(["retry", &job, "--order", &skipped]));
    assert!(err.contains("is skipped, not failed"), "{err}");
    let err = refused(importdesk(&db).args(["skip", &job, "--order", &skipped, "--reason", "twice"]));
    assert!(err.contains("not failed"), "{err}");
    let err = refused(importdesk(&db).args(["retry", &job, "--cause", "broken"]));
    assert!(err.contains("unknown failure cause 'broken'"), "{err}");

    // Exactly one invoice per transferred order, none for the others; the job stays finished.
    let booked = booked_references(&c).await;
    let store = Store::open(&db).unwrap();
    let mut transferred = 0;
    for state in OrderState::ALL {
        for o in store.job_orders_in_state(job_id, state, 100_000).unwrap() {
            let n = booked.get(&o.reference).copied().unwrap_or(0);
            if state == OrderState::Transferred {
                transferred += 1;
                assert_eq!(n, 1, "order {} transferred with {n} invoices", o.reference);
            } else {
                assert_eq!(n, 0, "order {} is {state} with {n} invoices", o.reference);
            }
        }
    }
    assert_eq!(booked.values().sum::<usize>(), transferred);
    assert_eq!(store.job(job_id).unwrap().state, JobState::Finished);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_follows_a_live_worker_and_takes_over_when_it_is_gone() {
    let defects = DefectRates { empty_sku: 0.0, no_phone: 0.0, no_name: 0.0, product_missing_in_accounting: 0.1 };
    let sim = sim_with(defects).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("follow.db");
    let (c, job) = imported_job(&sim, &db, 100).await;
    let job_id: i64 = job.parse().unwrap();
    let n = group_counts(&failures(&db, &job))["missing_product"];
    assert!(n > 0);
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    for p in shop.products().into_iter().filter(|p| !p.in_accounting) {
        create_product(&c, p.sku.as_deref().unwrap(), &p.name).await;
    }

    // Another worker holds the job's lease (as a `run` on another host would).
    let mut store = Store::open(&db).unwrap();
    let epoch = store.retry_epoch(job_id).unwrap();
    store.acquire_lease(job_id, "elsewhere pid 1", chrono::Duration::seconds(60), chrono::Utc::now()).unwrap();
    let config = Config::default();
    let retry = {
        let (db, config) = (db.clone(), config.clone());
        let opts = WorkerOptions { poll: Duration::from_millis(100), ..WorkerOptions::default() };
        tokio::spawn(async move {
            let selection = Selection::Cause("missing_product".into());
            retry_orders_with(&db, &config, job_id, selection, opts, reqwest::Client::new()).await
        })
    };
    // The retry moves the group to pending, due after the worker's next polls, and waits.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = store.order_counts(job_id).unwrap();
        if counts["pending"] == n {
            break;
        }
        assert!(Instant::now() < deadline, "never moved to pending: {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.retry_epoch(job_id).unwrap(), epoch + 1, "the worker is told to forget its cache");
    let pending = store.job_orders_in_state(job_id, OrderState::Pending, 1000).unwrap();
    assert!(pending.iter().all(|o| o.next_attempt_at.is_some()), "due only after the worker saw the epoch");
    assert!(!retry.is_finished(), "the retry waits for the worker");

    // That worker goes away without sending them: the retry takes over.
    store.release_lease(job_id, "elsewhere pid 1").unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(120), retry).await.unwrap().unwrap().unwrap();
    assert_eq!((summary.retried, summary.transferred, summary.still_failing, summary.pending), (n, n, 0, 0));
    let booked = booked_references(&c).await;
    for o in store.job_orders_in_state(job_id, OrderState::Transferred, 100_000).unwrap() {
        assert_eq!(booked.get(&o.reference), Some(&1), "{}", o.reference);
    }
    assert_eq!(store.job(job_id).unwrap().lease_owner, None, "the retry gave its lease back");
    assert_eq!(store.job(job_id).unwrap().state, JobState::Finished);
    sim.shutdown().await;
}

/// A single-order job, running, with the shop's `index`th order as the shop has it now.
async fn single_job(db: &Path, c: &ManifestCustomer, sim: &RunningSim, index: usize) -> (i64, String) {
    let mut store = Store::open(db).unwrap();
    let integration = store.integration(1).unwrap();
    let source = importdesk::connect::source_for(&integration, reqwest::Client::new()).unwrap();
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let order = source.order(&shop.order_id(index).to_string()).await.unwrap();
    let job = store.create_job(1, JobKind::Single, None, None, chrono::Utc::now()).unwrap();
    store.force_job_state(job, JobState::Running).unwrap();
    add_single(&mut store, job, &order).unwrap();
    store.set_listing(job, None, true).unwrap();
    (job, order.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_errors_are_retried_by_the_worker_before_they_fail() {
    let defects = DefectRates { empty_sku: 0.0, no_phone: 0.0, no_name: 0.0, product_missing_in_accounting: 0.0 };
    let sim = sim_with(defects).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("transient.db");
    let c = woo_customer(&sim);
    add_customer(&db, &c, "Basic", 0);
    let config = Config::default();
    let opts = WorkerOptions { max_attempts: 2, poll: Duration::from_millis(100), ..WorkerOptions::default() };
    let unavailable = Fault { status: Some(503), retry_after: Some(0), ..Fault::default() };

    // e-conomic unavailable for a while: the order waits and goes through on a later attempt.
    let (job, id) = single_job(&db, &c, &sim, 0).await;
    sim.set_fault("economic", unavailable.clone().times(7));
    let end = run_job(&db, &config, job, opts.clone(), reqwest::Client::new()).await.unwrap();
    assert_eq!(end, RunEnd::Finished);
    let row = Store::open(&db).unwrap().job_order(job, &id).unwrap().unwrap();
    assert_eq!(row.state, OrderState::Transferred, "{row:?}");
    assert!(row.attempts >= 2, "retried on its own: {row:?}");
    let events = Store::open(&db).unwrap().events_after(job, 0, 100).unwrap();
    assert!(events.iter().any(|e| e.message.contains("will be retried")), "{events:?}");

    // Unavailable for good: after the configured attempts it is a network failure.
    let (job, id) = single_job(&db, &c, &sim, 1).await;
    sim.set_fault("economic", unavailable);
    run_job(&db, &config, job, opts.clone(), reqwest::Client::new()).await.unwrap();
    sim.clear_fault("economic");
    let row = Store::open(&db).unwrap().job_order(job, &id).unwrap().unwrap();
    assert_eq!((row.state, row.cause.as_deref()), (OrderState::Failed, Some("network")), "{row:?}");
    eprintln!("failed after {} attempts with max_attempts {}", row.attempts, opts.max_attempts);
    assert_eq!(row.attempts, opts.max_attempts, "a failure after exactly the configured attempts: {row:?}");
    assert!(row.fix_hint.as_deref().unwrap_or("").contains("nothing to fix"), "{row:?}");
    sim.shutdown().await;
}
