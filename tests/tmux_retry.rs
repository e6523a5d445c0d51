//! A retry driven by keyboard in the real TUI: an import leaves `missing_product` failures,
//! the products are created in the simulated e-conomic (as the customer would fix them), and
//! in the failure inspector — tmux at 80×24, `NO_COLOR=1` — the group is selected, `R` asks
//! with the count, `y` retries; the group empties and every order of it ends transferred
//! with exactly one booked invoice.
//!
//! Skipped, with a message, where tmux is not installed.

mod common;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;
use std::time::Duration;

use common::{
    FAST_RATES, add_customer, booked_references, config_with, create_product, importdesk, ok, range_before_start,
    test_with_first_good_order, woo_customer,
};
use importdesk::domain::job::OrderState;
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{DefectRates, SimOptions, start_with};
use importdesk::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_importdesk");

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
    let c = woo_customer(&sim);
    add_customer(&db, &c, "Basic", 0);

    // An import of about 150 orders, run to the end by the CLI.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = range_before_start(shop, &c, 150, &["any"]);
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let job = ok(importdesk(&db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    test_with_first_good_order(&db, &job, range).await;
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
        create_product(&c, &sku, &p.name).await;
    }

    // The inspector, by keyboard.
    let home = dir.path().join("home");
    let command = tmux::tui_command(Path::new(BIN), &db, &config_with(&db, FAST_RATES), &home);
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
