//! What the end-to-end tests share: the real binary with a fast config beside its database,
//! customers registered from the simulator's manifest, and a simulator whose e-conomic is
//! quick enough for tests.
#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{ManifestCustomer, RunningSim, SimOptions, SimShop, start_with};

/// e-conomic's rate for most tests: far above the real one, so they run in seconds.
pub const FAST_RATES: &str = "[rates.economic]\ncalls_per_order = 5.0\nrequests_per_second = 400.0\n";

/// The config file beside the database (mode 0600), written with `rates` unless one is
/// already there — so a test that wants other rates writes its own first.
pub fn config_with(db: &Path, rates: &str) -> std::path::PathBuf {
    let config = db.with_file_name("config.toml");
    if !config.exists() {
        std::fs::write(&config, rates).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    config
}

/// `importdesk --db DB --config …` with the config beside the database.
pub fn importdesk(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_importdesk"));
    cmd.arg("--db").arg(db).arg("--config").arg(config_with(db, FAST_RATES));
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

/// Runs a command that must succeed; its stdout, trimmed.
pub fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{:?}: {}", cmd, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs a command that must fail: exit 2, one line on stderr containing `expected`.
pub fn refused(cmd: &mut Command, expected: &str) -> String {
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(out.status.code(), Some(2), "{cmd:?} should fail: {err}");
    assert_eq!(err.lines().count(), 1, "{cmd:?}: one line, got {err}");
    assert!(err.contains(expected), "{cmd:?}: expected '{expected}' in {err}");
    err
}

/// `importdesk customer add` for a simulated customer, secrets from the environment.
pub fn add_customer(db: &Path, c: &ManifestCustomer, plan: &str, used: u64) {
    let (since, used) = (c.integration_since.to_string(), used.to_string());
    ok(importdesk(db)
        .args(["customer", "add", "--name", &c.name, "--plan", plan, "--used", &used, "--webshop", c.webshop.as_str()])
        .args(["--shop-url", &c.shop_url, "--accounting-url", &c.accounting_url, "--since", &since])
        .env("IMPORTDESK_SHOP_KEY", &c.shop_key)
        .env("IMPORTDESK_SHOP_SECRET", c.shop_secret.as_deref().unwrap_or(""))
        .env("IMPORTDESK_ECONOMIC_APP_SECRET", &c.app_secret)
        .env("IMPORTDESK_ECONOMIC_GRANT", &c.grant_token));
}

/// The simulator with an e-conomic of the given latency and share of replies cut after commit.
pub async fn sim_with_economic(opts: SimOptions, latency: Duration, drop_after_commit_rate: f64) -> RunningSim {
    let economic = EconomicOptions {
        latency,
        requests_per_second: Some(1000),
        drop_after_commit_rate,
        ..EconomicOptions::default()
    };
    start_with(opts, 0, move |data| vec![("/economic".into(), EconomicSim::new(seeds_from(data), economic).router())])
        .await
        .unwrap()
}

/// The first WooCommerce customer of the simulator.
pub fn woo_customer(sim: &RunningSim) -> ManifestCustomer {
    sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone()
}

/// A range ending the day before the integration started that holds at least `n` orders in
/// `statuses`.
pub fn range_before_start(shop: &SimShop, c: &ManifestCustomer, n: u64, statuses: &[&str]) -> DateRange {
    let to = c.integration_since - chrono::Duration::days(1);
    let mut from = to;
    while shop.count(DateRange { from, to }.to_utc(DEFAULT_TZ), statuses) < n {
        from -= chrono::Duration::days(1);
    }
    DateRange { from, to }
}

/// Every booked invoice's `references.other`, counted, through the simulator's e-conomic API.
pub async fn booked_references(c: &ManifestCustomer) -> std::collections::HashMap<String, usize> {
    let client = reqwest::Client::new();
    let mut seen = std::collections::HashMap::new();
    for page in 0.. {
        let url = format!("{}/invoices/booked?skippages={page}&pagesize=1000", c.accounting_url.trim_end_matches('/'));
        let body: serde_json::Value = client
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

/// The job's test transfer with the first order of the range that goes through (seeded
/// defects make some fail, as they would for a real shop). Customer 1's integration.
pub async fn test_with_first_good_order(db: &Path, job: &str, range: DateRange) {
    let store = importdesk::store::Store::open(db).unwrap();
    let integration = store.integration(1).unwrap();
    drop(store);
    let source = importdesk::connect::source_for(&integration, reqwest::Client::new()).unwrap();
    let query = importdesk::connect::OrderQuery {
        range: range.to_utc(DEFAULT_TZ),
        statuses: integration.settings.statuses.clone(),
    };
    let first = source.page(&query, None, 40).await.unwrap();
    let tested = first
        .orders
        .iter()
        .any(|o| run(importdesk(db).args(["job", "test", job, "--order", &o.reference])).status.success());
    assert!(tested, "no order of the first page transfers");
}

/// Creates a product through the simulator's e-conomic REST API, as the customer would.
pub async fn create_product(c: &ManifestCustomer, number: &str, name: &str) {
    let url = format!("{}/products", c.accounting_url.trim_end_matches('/'));
    let body = serde_json::json!({
        "productNumber": number, "name": name, "salesPrice": 100.0, "productGroup": {"productGroupNumber": 1}
    });
    let reply = reqwest::Client::new()
        .post(url)
        .header("X-AppSecretToken", &c.app_secret)
        .header("X-AgreementGrantToken", &c.grant_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "creating {number}: {}", reply.text().await.unwrap());
}
