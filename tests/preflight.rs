//! The preflight predicts the import's failures: on a shop with every seeded defect (products
//! without SKU, products missing in e-conomic, orders without name or phone), the predicted
//! count per cause equals the count per cause the import then records; the preflight creates
//! nothing in e-conomic, reports progress, and a cancelled one saves nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{add_customer, importdesk};
use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::engine::preflight::{Cancel, PreflightError, preflight};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{DefectRates, ManifestCustomer, RunningSim, SimOptions, start_with};
use importdesk::store::Store;
use serde_json::Value;

fn run(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{:?}: {stderr}", cmd);
    (String::from_utf8_lossy(&out.stdout).trim().to_string(), stderr)
}

fn ok(cmd: &mut Command) -> String {
    run(cmd).0
}

/// A simulator whose shops have every seeded defect often, and a fast e-conomic.
async fn defective_sim() -> (RunningSim, EconomicSim) {
    let defects = DefectRates { empty_sku: 0.06, no_phone: 0.08, no_name: 0.06, product_missing_in_accounting: 0.08 };
    let economic_opts =
        EconomicOptions { latency: Duration::ZERO, requests_per_second: Some(2000), ..Default::default() };
    let mut economic = None;
    let sim = start_with(SimOptions { customers: 4, seed: 11, defects, ..Default::default() }, 0, |data| {
        let sim = EconomicSim::new(seeds_from(data), economic_opts);
        economic = Some(sim.clone());
        vec![("/economic".into(), sim.router())]
    })
    .await
    .unwrap();
    (sim, economic.unwrap())
}

/// Customer 1 (the first WooCommerce shop) with phone numbers required, and a job over about
/// `orders` orders ending the day before the integration started, accepted, tested, approved.
fn job_for(sim: &RunningSim, db: &Path, orders: u64) -> (ManifestCustomer, String) {
    let c = sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone();
    add_customer(db, &c, "Basic", 0);
    let mut store = Store::open(db).unwrap();
    let mut settings = store.integration(1).unwrap().settings;
    settings.require_phone = true;
    store.update_settings(1, &settings).unwrap();
    drop(store);
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let to = c.integration_since - chrono::Duration::days(1);
    let mut from = to;
    while shop.count(DateRange::new(from, to).unwrap().to_utc(DEFAULT_TZ), &["any"]) < orders {
        from -= chrono::Duration::days(1);
    }
    let (from, to) = (from.to_string(), to.to_string());
    let job = ok(importdesk(db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    (c, job)
}

/// Makes the test transfer with the first order of the range (in a transferred status) that
/// goes through.
async fn test_and_approve(db: &Path, job: &str) {
    let store = Store::open(db).unwrap();
    let integration = store.integration(1).unwrap();
    let range = store.job(job.parse().unwrap()).unwrap().range.unwrap();
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
        .any(|o| importdesk(db).args(["job", "test", job, "--order", &o.reference]).output().unwrap().status.success());
    assert!(tested, "no order of the first page transfers");
    ok(importdesk(db).args(["job", "approve", job, "--by", "Kunde"]));
}

fn counts_of(list: &Value, key: &str) -> BTreeMap<String, u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|g| (g["cause"].as_str().unwrap().to_string(), g[key].as_u64().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn predicted_failures_per_cause_equal_the_imports() {
    let (sim, economic) = defective_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("preflight.db");
    let (c, job) = job_for(&sim, &db, 300);
    test_and_approve(&db, &job).await;

    let products_before = economic.products(&c.grant_token).len();
    let customers_before = economic.customers(&c.grant_token).len();
    let (stdout, stderr) = run(importdesk(&db).args(["job", "preflight", &job, "--json"]));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(stderr.contains("orders read"), "progress on stderr: {stderr}");
    assert_eq!(economic.products(&c.grant_token).len(), products_before, "the preflight creates no product");
    assert_eq!(economic.customers(&c.grant_token).len(), customers_before, "nor a customer");
    let predicted = counts_of(&report["predicted"], "count");
    for cause in ["missing_product", "missing_sku", "missing_customer_name", "missing_phone"] {
        assert!(predicted.get(cause).copied().unwrap_or(0) > 0, "no {cause} predicted: {report}");
    }
    let checked = report["orders_checked"].as_u64().unwrap();
    eprintln!("{checked} orders checked, predicted failures: {predicted:?}");
    assert!(checked >= 250, "{report}");

    let (stdout, _) = run(importdesk(&db).args(["run", &job]));
    assert!(stdout.contains("Finished"), "{stdout}");
    let failures: Value = serde_json::from_str(&ok(importdesk(&db).args(["failures", &job, "--json"]))).unwrap();
    let actual = counts_of(&failures["groups"], "count");
    assert_eq!(predicted, actual, "predicted (left) against the import's failures (right)");

    let status: Value = serde_json::from_str(&ok(importdesk(&db).args(["job", "status", &job, "--json"]))).unwrap();
    let orders = &status["orders"];
    assert_eq!(orders["failed"].as_u64().unwrap(), actual.values().sum::<u64>());
    assert_eq!(
        orders["transferred"].as_u64().unwrap() + orders["failed"].as_u64().unwrap(),
        checked,
        "every checked order was sent: {status}"
    );
    assert_eq!(report["orders_skipped"].as_u64().unwrap(), orders["skipped"].as_u64().unwrap(), "{status}");

    // The predictions stay listed, per order, with the same causes.
    let listed: Value =
        serde_json::from_str(&ok(importdesk(&db).args(["failures", &job, "--predicted", "--json"]))).unwrap();
    assert_eq!(counts_of(&listed["groups"], "count"), predicted);
    let first = &listed["groups"][0]["orders"][0];
    assert!(first["detail"].as_str().unwrap().contains("line") || first["value"].is_string(), "{first}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_preflight_saves_nothing() {
    let (sim, _economic) = defective_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cancel.db");
    let (_c, job) = job_for(&sim, &db, 120);
    let job: i64 = job.parse().unwrap();
    let config = importdesk::config::Config::default();
    let client = reqwest::Client::new();

    let cancel = Cancel::new();
    let mut seen = Vec::new();
    let stop = cancel.clone();
    let err = preflight(&db, &config, job, client.clone(), &cancel, |p| {
        seen.push(p.checked);
        if p.checked == 10 {
            stop.cancel();
        }
    })
    .await
    .unwrap_err();
    assert!(matches!(err, PreflightError::Cancelled { checked: 10, .. }), "{err}");
    assert!(err.to_string().contains("nothing was saved"), "{err}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress only grows");
    assert_eq!(Store::open(&db).unwrap().preflight_summary(job).unwrap(), None);

    // Run to the end, it is saved, with progress up to the total.
    let mut last = None;
    let summary = preflight(&db, &config, job, client, &Cancel::new(), |p| last = Some(*p)).await.unwrap();
    let last = last.unwrap();
    assert_eq!(last.read, summary.orders_read);
    assert_eq!(last.total, Some(summary.orders_read));
    assert_eq!(last.predicted, summary.predicted_total());
    assert_eq!(Store::open(&db).unwrap().preflight_summary(job).unwrap(), Some(summary));
    sim.shutdown().await;
}
