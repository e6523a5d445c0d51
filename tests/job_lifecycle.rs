//! The job from the command line: steps in order (and refused out of order, naming the
//! missing step), a detached worker steered by pause / resume, a second worker refused,
//! the usage ledger rising, and the bill with quoted beside actual orders.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{ManifestCustomer, SimOptions, start_with};
use serde_json::Value;

fn importdesk(db: &Path) -> Command {
    let config = db.with_file_name("config.toml");
    if !config.exists() {
        std::fs::write(&config, "[rates.economic]\nrequests_per_second = 200.0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_importdesk"));
    cmd.arg("--db").arg(db).arg("--config").arg(config);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{:?}: {}", cmd, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn refused(cmd: &mut Command, expected: &str) {
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
    assert!(err.contains(expected), "{cmd:?}: expected '{expected}' in {err}");
}

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

fn add_customer(db: &Path, c: &ManifestCustomer) {
    let since = c.integration_since.to_string();
    ok(importdesk(db)
        .args([
            "customer",
            "add",
            "--name",
            &c.name,
            "--plan",
            "Basic",
            "--used",
            "150",
            "--webshop",
            c.webshop.as_str(),
        ])
        .args(["--shop-url", &c.shop_url, "--accounting-url", &c.accounting_url, "--since", &since])
        .env("IMPORTDESK_SHOP_KEY", &c.shop_key)
        .env("IMPORTDESK_SHOP_SECRET", c.shop_secret.as_deref().unwrap_or(""))
        .env("IMPORTDESK_ECONOMIC_APP_SECRET", &c.app_secret)
        .env("IMPORTDESK_ECONOMIC_GRANT", &c.grant_token));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_from_quote_to_bill() {
    let economic = EconomicOptions {
        latency: Duration::from_millis(20),
        requests_per_second: Some(1000),
        ..EconomicOptions::default()
    };
    let sim = start_with(SimOptions { customers: 4, ..Default::default() }, 0, move |data| {
        vec![("/economic".into(), EconomicSim::new(seeds_from(data), economic).router())]
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let c = sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone();
    add_customer(&db, &c);
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let to = c.integration_since - chrono::Duration::days(1);
    let mut from = to;
    while shop.count(DateRange::new(from, to).unwrap().to_utc(DEFAULT_TZ), &["processing", "completed"]) < 300 {
        from -= chrono::Duration::days(1);
    }
    let (from, to) = (from.to_string(), to.to_string());

    let job = ok(importdesk(&db).args(["job", "create", "--customer", &c.name, "--from", &from, "--to", &to]));
    assert!(job.parse::<i64>().is_ok(), "job create prints the id alone: {job}");
    refused(importdesk(&db).args(["job", "start", &job]), "the offer must be accepted first");
    refused(importdesk(&db).args(["job", "approve", &job, "--by", "X"]), "the offer must be accepted first");
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Mette", "--reference", "mail 3/12"]));
    refused(importdesk(&db).args(["job", "approve", &job, "--by", "X"]), "a test transfer must be made first");
    // The test transfer: the first order that goes through.
    let window = DateRange::new(from.parse().unwrap(), to.parse().unwrap()).unwrap().to_utc(DEFAULT_TZ);
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
