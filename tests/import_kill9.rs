//! A 500-order import while the worker is killed with SIGKILL at 10 random moments and
//! restarted: afterwards the accounting system (read through the simulator's own
//! `GET /invoices/booked`) holds exactly one invoice per order the job reports transferred,
//! none for any other, and every order of the job has exactly one final state.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{ManifestCustomer, SimOptions, start_with};
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The config beside the database: the simulator takes far more than e-conomic's real rate,
/// so the test runs in seconds rather than the quarter hour 500 orders take at 8 calls/s.
fn importdesk(db: &Path) -> Command {
    let config = db.with_file_name("config.toml");
    if !config.exists() {
        std::fs::write(&config, "[rates.economic]\ncalls_per_order = 5.0\nrequests_per_second = 400.0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_importdesk"));
    cmd.arg("--db").arg(db).arg("--config").arg(config);
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the binary runs");
    assert!(out.status.success(), "{:?}: {}", cmd, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn add_customer(db: &Path, c: &ManifestCustomer) {
    let since = c.integration_since.to_string();
    ok(importdesk(db)
        .args(["customer", "add", "--name", &c.name, "--plan", "Basic", "--webshop", c.webshop.as_str()])
        .args(["--shop-url", &c.shop_url, "--accounting-url", &c.accounting_url, "--since", &since])
        .env("IMPORTDESK_SHOP_KEY", &c.shop_key)
        .env("IMPORTDESK_SHOP_SECRET", c.shop_secret.as_deref().unwrap_or(""))
        .env("IMPORTDESK_ECONOMIC_APP_SECRET", &c.app_secret)
        .env("IMPORTDESK_ECONOMIC_GRANT", &c.grant_token));
}

/// Every booked invoice's `references.other`, through the simulator's e-conomic API.
async fn booked_references(c: &ManifestCustomer) -> HashMap<String, usize> {
    let client = reqwest::Client::new();
    let mut seen = HashMap::new();
    for page in 0.. {
        let url = format!("{}/invoices/booked?skippages={page}&pagesize=1000", c.accounting_url.trim_end_matches('/'));
        let body: Value = client
            .get(url)
            .header("X-AppSecretToken", &c.app_secret)
            .header("X-AgreementGrantToken", &c.grant_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = body["collection"].as_array().cloned().unwrap_or_default();
        for item in &items {
            let r = item["references"]["other"].as_str().unwrap_or_default().to_string();
            *seen.entry(r).or_insert(0) += 1;
        }
        if items.len() < 1000 {
            break;
        }
    }
    seen
}

fn status(db: &Path, job: &str) -> Value {
    serde_json::from_str(&ok(importdesk(db).args(["job", "status", job, "--json"]))).unwrap()
}

fn spawn_worker(db: &Path, job: &str, log: &Path) -> Child {
    importdesk(db).args(["run", job, "--log"]).arg(log).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_nine_ten_times_books_each_order_exactly_once() {
    // e-conomic with a little latency and 2 % of draft and booking replies cut after the
    // commit, so "outcome unknown" happens besides the kills.
    let economic = EconomicOptions {
        latency: Duration::from_millis(15),
        requests_per_second: Some(400),
        drop_after_commit_rate: 0.02,
        ..EconomicOptions::default()
    };
    let sim = start_with(SimOptions { customers: 4, ..Default::default() }, 0, move |data| {
        vec![("/economic".into(), EconomicSim::new(seeds_from(data), economic).router())]
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill9.db");
    let c = sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone();
    add_customer(&db, &c);

    // A range of about 500 orders ending the day before the integration started.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let to = c.integration_since - chrono::Duration::days(1);
    let mut from = to;
    while shop.count(DateRange::new(from, to).unwrap().to_utc(DEFAULT_TZ), &["any"]) < 500 {
        from -= chrono::Duration::days(1);
    }
    let (from, to) = (from.to_string(), to.to_string());
    let job = ok(importdesk(&db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    // The test transfer: the first order of the range that goes through (seeded defects make
    // some fail, as they would for a real shop).
    let store = importdesk::store::Store::open(&db).unwrap();
    let integration = store.integration(1).unwrap();
    drop(store);
    let source = importdesk::connect::source_for(&integration, reqwest::Client::new()).unwrap();
    let range = DateRange::new(from.parse().unwrap(), to.parse().unwrap()).unwrap();
    let query = importdesk::connect::OrderQuery {
        range: range.to_utc(DEFAULT_TZ),
        statuses: integration.settings.statuses.clone(),
    };
    let first = source.page(&query, None, 20).await.unwrap();
    let tested = first.orders.iter().any(|o| {
        importdesk(&db).args(["job", "test", &job, "--order", &o.reference]).output().unwrap().status.success()
    });
    assert!(tested, "no order of the first page transfers");
    ok(importdesk(&db).args(["job", "approve", &job, "--by", "Kunde"]));

    let log = dir.path().join("worker.log");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for kill in 0..10 {
        let mut child = spawn_worker(&db, &job, &log);
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..1500))).await;
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let s = status(&db, &job);
        eprintln!("after kill {kill}: {}", s["orders"]);
    }
    // The last worker runs to the end.
    let mut child = spawn_worker(&db, &job, &log);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "worker failed: {}", std::fs::read_to_string(&log).unwrap_or_default());
            break;
        }
        assert!(Instant::now() < deadline, "the import did not finish in time: {}", status(&db, &job));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let s = status(&db, &job);
    assert_eq!(s["state"], "finished", "{s}");
    let orders = &s["orders"];
    for open in ["pending", "sending", "unknown"] {
        assert_eq!(orders[open], 0, "{open} left: {s}");
    }
    let total: u64 =
        ["transferred", "failed", "skipped", "cancelled"].iter().map(|k| orders[*k].as_u64().unwrap()).sum();
    assert!(total >= 500, "every order listed once: {s}");

    let store = importdesk::store::Store::open(&db).unwrap();
    let booked = booked_references(&c).await;
    let job_id: i64 = job.parse().unwrap();
    let mut transferred = 0;
    for state in importdesk::domain::job::OrderState::ALL {
        for o in store.job_orders_in_state(job_id, state, 100_000).unwrap() {
            let n = booked.get(&o.reference).copied().unwrap_or(0);
            if state == importdesk::domain::job::OrderState::Transferred {
                transferred += 1;
                assert_eq!(n, 1, "order {} transferred with {n} invoices", o.reference);
            } else {
                assert_eq!(n, 0, "order {} is {state} but has {n} invoices", o.reference);
            }
        }
    }
    assert_eq!(transferred, orders["transferred"].as_u64().unwrap());
    assert_eq!(booked.values().sum::<usize>(), transferred as usize, "no invoice for an order outside the job");
    sim.shutdown().await;
}
