//! The job from the command line: steps in order (and refused out of order, naming the
//! missing step), a detached worker steered by pause / resume, a second worker refused,
//! the usage ledger rising, and the bill with quoted beside actual orders.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{add_customer, importdesk, ok, range_before_start, refused, run, sim_with_economic, woo_customer};
use importdesk::domain::calendar::DEFAULT_TZ;
use importdesk::sim::SimOptions;
use serde_json::Value;

fn status(db: &Path, job: &str) -> Value {
    serde_json::from_str(&ok(importdesk(db).args(["job", "status", job, "--json"]))).unwrap()
}

fn wait_for(db: &Path, job: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = status(db, job);
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_from_quote_to_bill() {
    let sim =
        sim_with_economic(SimOptions { customers: 4, ..Default::default() }, Duration::from_millis(20), 0.0).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let c = woo_customer(&sim);
    add_customer(&db, &c, "Basic", 150);
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = range_before_start(shop, &c, 300, &["processing", "completed"]);
    let (from, to) = (range.from.to_string(), range.to.to_string());

    let job = ok(importdesk(&db).args(["job", "create", "--customer", &c.name, "--from", &from, "--to", &to]));
    assert!(job.parse::<i64>().is_ok(), "job create prints the id alone: {job}");
    refused(importdesk(&db).args(["job", "start", &job]), "the offer must be accepted first");
    refused(importdesk(&db).args(["job", "approve", &job, "--by", "X"]), "the offer must be accepted first");
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Mette", "--reference", "mail 3/12"]));
    refused(importdesk(&db).args(["job", "approve", &job, "--by", "X"]), "a test transfer must be made first");
    // The test transfer: the first order that goes through.
    let window = range.to_utc(DEFAULT_TZ);
    let refs: Vec<String> = (0..shop.order_count())
        .filter(|i| shop.created_at(*i).is_some_and(|t| window.contains(t)))
        .take(30)
        .map(|i| shop.order_id(i).to_string())
        .collect();
    assert!(
        refs.iter().any(|r| run(importdesk(&db).args(["job", "test", &job, "--order", r])).status.success()),
        "one of the first orders transfers"
    );
    refused(importdesk(&db).args(["job", "start", &job]), "the customer must approve the test transfer first");
    ok(importdesk(&db).args(["job", "approve", &job, "--by", "Kunden"]));
    assert_eq!(status(&db, &job)["state"], "approved");

    let started = ok(importdesk(&db).args(["job", "start", &job]));
    assert!(started.contains("worker started"), "{started}");
    wait_for(&db, &job, "a live worker", |s| !s["lease_owner"].is_null());
    refused(importdesk(&db).args(["run", &job]), "is already being worked on by");

    ok(importdesk(&db).args(["job", "pause", &job]));
    let paused = wait_for(&db, &job, "paused", |s| s["state"] == "paused");
    std::thread::sleep(Duration::from_millis(800));
    let still = status(&db, &job);
    let settled = |s: &Value| s["orders"]["transferred"].as_u64().unwrap() + s["orders"]["failed"].as_u64().unwrap();
    assert!(settled(&still) <= settled(&paused) + 8, "nothing new starts while paused: {paused} then {still}");
    ok(importdesk(&db).args(["job", "resume", &job]));
    let done = wait_for(&db, &job, "finished", |s| s["state"] == "finished");
    for open in ["pending", "sending", "unknown"] {
        assert_eq!(done["orders"][open], 0, "{done}");
    }

    // Usage rose by every transferred order, in this month.
    let list: Value = serde_json::from_str(&ok(importdesk(&db).args(["customer", "list", "--json"]))).unwrap();
    assert_eq!(list["customers"][0]["name"], c.name.as_str());
    let transferred = done["orders"]["transferred"].as_u64().unwrap();
    let store = importdesk::store::Store::open(&db).unwrap();
    let month = importdesk::domain::calendar::Month::containing(chrono::Utc::now(), DEFAULT_TZ);
    assert_eq!(store.usage(1, month).unwrap(), 150 + transferred);

    let bill: Value = serde_json::from_str(&ok(importdesk(&db).args(["job", "bill", &job, "--json"]))).unwrap();
    assert_eq!(bill["actual_orders"], transferred);
    assert!(bill["quoted_orders"].as_u64().unwrap() >= 300);
    assert_eq!(bill["extra_orders"], (150 + transferred).saturating_sub(200).min(transferred));
    assert_eq!(status(&db, &job)["state"], "billed");
    refused(importdesk(&db).args(["job", "cancel", &job]), "it has been billed");
    sim.shutdown().await;
}
