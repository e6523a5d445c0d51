//! A retry driven by keyboard in the real TUI: an import leaves `missing_product` failures,
//! the products are created in the simulated e-conomic (as the customer would fix them), and
//! in the failure inspector — tmux at 80×24, `NO_COLOR=1` — the group is selected, `R` asks
//! with the count, `y` retries; the group empties and every order of it ends transferred
//! with exactly one booked invoice.
//!
//! Skipped, with a message, where tmux is not installed.

#[path = "support/tmux.rs"]
mod tmux;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::domain::job::OrderState;
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{DefectRates, ManifestCustomer, SimOptions, start_with};
use importdesk::store::Store;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_importdesk");

fn config_path(db: &Path) -> PathBuf {
    let config = db.with_file_name("config.toml");
    if !config.exists() {
        std::fs::write(&config, "[rates.economic]\ncalls_per_order = 5.0\nrequests_per_second = 400.0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    config
}

fn importdesk(db: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--db").arg(db).arg("--config").arg(config_path(db));
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

fn economic(c: &ManifestCustomer, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request.header("X-AppSecretToken", &c.app_secret).header("X-AgreementGrantToken", &c.grant_token)
}

/// Every booked invoice's `references.other`, counted, through the simulator's own API.
async fn booked_references(c: &ManifestCustomer) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for page in 0.. {
        let url = format!("{}/invoices/booked?skippages={page}&pagesize=1000", c.accounting_url.trim_end_matches('/'));
        let body: Value = economic(c, reqwest::Client::new().get(url)).send().await.unwrap().json().await.unwrap();
        let items = body["collection"].as_array().cloned().unwrap_or_default();
        for item in &items {
            *seen.entry(item["references"]["other"].as_str().unwrap_or_default().to_string()).or_insert(0) += 1;
        }
        if items.len() < 1000 {
            return seen;
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fixed_group_retried_from_the_inspector_by_keyboard() {
    if !tmux::installed() {
        eprintln!("SKIPPED: tmux is not installed (apt-get install tmux); the retry test needs it");
        return;
    }
    // Products missing in e-conomic are the only defect, so missing_product is the one group.
    let defects = DefectRates { empty_sku: 0.0, no_phone: 0.0, no_name: 0.0, product_missing_in_accounting: 0.1 };
    let options = EconomicOptions { latency: Duration::ZERO, requests_per_second: Some(2000), ..Default::default() };
    let sim = start_with(SimOptions { customers: 3, seed: 7, defects, ..Default::default() }, 0, move |data| {
        vec![("/economic".into(), EconomicSim::new(seeds_from(data), options).router())]
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retry.db");
    let c = sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone();
    add_customer(&db, &c);

    // An import of about 150 orders, run to the end by the CLI.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let to = c.integration_since - chrono::Duration::days(1);
    let mut from = to;
    while shop.count(DateRange::new(from, to).unwrap().to_utc(DEFAULT_TZ), &["any"]) < 150 {
        from -= chrono::Duration::days(1);
    }
    let (from, to) = (from.to_string(), to.to_string());
    let job = ok(importdesk(&db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    let store = Store::open(&db).unwrap();
    let integration = store.integration(1).unwrap();
    drop(store);
    let source = importdesk::connect::source_for(&integration, reqwest::Client::new()).unwrap();
    let range = DateRange::new(from.parse().unwrap(), to.parse().unwrap()).unwrap();
    let query = importdesk::connect::OrderQuery {
        range: range.to_utc(DEFAULT_TZ),
        statuses: integration.settings.statuses.clone(),
    };
    let first = source.page(&query, None, 40).await.unwrap();
    let tested = first.orders.iter().any(|o| {
        importdesk(&db).args(["job", "test", &job, "--order", &o.reference]).output().unwrap().status.success()
    });
    assert!(tested, "no order of the first page transfers");
    ok(importdesk(&db).args(["job", "approve", &job, "--by", "Kunde"]));
    let out = ok(importdesk(&db).args(["run", &job]));
    assert!(out.contains("Finished"), "{out}");

    let job_id: i64 = job.parse().unwrap();
    let store = Store::open(&db).unwrap();
    let groups = store.failure_counts(job_id).unwrap();
    assert_eq!(groups.len(), 1, "only missing products fail: {groups:?}");
    let (cause, count) = groups[0].clone();
    assert_eq!(cause, "missing_product");
    assert!(count > 0);
    let failed: Vec<String> = store
        .failed_orders(job_id, Some(&cause), "", 0, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|f| f.order.reference)
        .collect();
    drop(store);

    // The customer creates the missing products in e-conomic.
    for p in shop.products().into_iter().filter(|p| !p.in_accounting) {
        let Some(sku) = p.sku else { continue };
        let url = format!("{}/products", c.accounting_url.trim_end_matches('/'));
        let body = json!({"productNumber": sku, "name": p.name, "salesPrice": 100.0, "productGroup": {"productGroupNumber": 1}});
        let reply = economic(&c, reqwest::Client::new().post(url)).json(&body).send().await.unwrap();
        assert!(reply.status().is_success(), "creating {sku}: {}", reply.text().await.unwrap());
    }

    // The inspector, by keyboard.
    let home = dir.path().join("home");
    let command = tmux::tui_command(Path::new(BIN), &db, &config_path(&db), &home);
    let tui = tmux::Tmux::start("retry", 80, 24, &command);
    tui.wait_for("the lookup", |s| s.contains("[1 Lookup]"));
    tui.keys(&["Escape"]);
    tui.wait_for("the search field to let go", |s| !s.contains("TYPING"));
    tui.keys(&["5"]);
    let group_line = format!("{count}  product missing in the accounting system");
    let screen = tui.wait_for("the missing_product group", |s| s.contains("[5 Failures]") && s.contains(&group_line));
    assert!(screen.contains(&format!("Failures of job {job}")), "{screen}");
    assert!(screen.contains(&format!("▶ {group_line}")), "the largest group is selected:\n{screen}");
    tui.keys(&["R"]);
    let screen = tui.wait_for("the retry question", |s| s.contains("Retry a group"));
    assert!(screen.contains(&format!("Retry all {count} orders")), "the question states the count:\n{screen}");
    tui.keys(&["y"]);
    let screen = tui.wait_for("the retry to settle", |s| s.contains("retried ") || s.contains("✗"));
    assert!(
        screen.contains(&format!("retried {count}: {count} transferred, 0 still failing")),
        "every order of the group went through:\n{screen}"
    );
    tui.wait_for("the group to empty", |s| s.contains("No failed orders in this job"));
    tui.keys(&["q"]);
    let screen = tui.wait_for("the TUI to exit", |s| s.contains("EXITED"));
    assert!(screen.contains("EXITED 0"), "{screen}");

    // Transferred, with exactly one invoice each.
    let store = Store::open(&db).unwrap();
    assert!(store.failure_counts(job_id).unwrap().is_empty());
    let booked = booked_references(&c).await;
    for reference in &failed {
        let o = store.job_order_by_reference(job_id, reference).unwrap().unwrap();
        assert_eq!(o.state, OrderState::Transferred, "{reference}");
        assert_eq!(booked.get(reference).copied().unwrap_or(0), 1, "{reference} booked once");
    }
    sim.shutdown().await;
}
