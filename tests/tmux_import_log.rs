//! The live import log attaches to a job run by another process: the simulator in the test,
//! a customer registered and a job taken from quote to start by the CLI (`job start`
//! detaches the worker), then the real TUI in tmux at 80×24 with `NO_COLOR=1`, the log pane
//! showing the running job's progress move; after the TUI quits, `job status --json` shows
//! the job going on to the end.
//!
//! Skipped, with a message, where tmux is not installed.

#[path = "support/tmux.rs"]
mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{ManifestCustomer, SimOptions, start_with};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_importdesk");

/// A rate limit well above e-conomic's real one, yet low enough that the import runs for a
/// while: at least two calls an order at 40 a second.
const CONFIG: &str = "[rates.economic]\ncalls_per_order = 3.0\nrequests_per_second = 40.0\n";

fn config_path(db: &Path) -> PathBuf {
    let config = db.with_file_name("config.toml");
    if !config.exists() {
        std::fs::write(&config, CONFIG).unwrap();
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

fn status(db: &Path, job: &str) -> Value {
    serde_json::from_str(&ok(importdesk(db).args(["job", "status", job, "--json"]))).unwrap()
}

/// The done count on the log pane's progress line (`[██░░]  57 %  69 of 120`, or
/// `[░░] 12 of 40 listed so far · listing…`).
fn done_on_screen(screen: &str) -> Option<u64> {
    let line = screen.lines().find(|l| l.trim_start().starts_with('[') && l.contains(" of "))?;
    let after_bar = line.rsplit(']').next()?;
    let words: Vec<&str> = after_bar.split_whitespace().collect();
    let of = words.iter().position(|w| *w == "of")?;
    words.get(of.checked_sub(1)?)?.replace('.', "").parse().ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_follows_a_job_run_by_another_process_which_outlives_the_tui() {
    if !tmux::installed() {
        eprintln!("SKIPPED: tmux is not installed (apt-get install tmux); the import log test needs it");
        return;
    }
    let economic = EconomicOptions { latency: Duration::ZERO, requests_per_second: Some(2000), ..Default::default() };
    let sim = start_with(SimOptions { customers: 3, seed: 11, ..Default::default() }, 0, move |data| {
        vec![("/economic".into(), EconomicSim::new(seeds_from(data), economic).router())]
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let c = sim.manifest.customers.iter().find(|c| c.webshop.as_str() == "woocommerce").unwrap().clone();
    add_customer(&db, &c);

    // About 400 orders before the integration's start.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let to = c.integration_since - chrono::Duration::days(1);
    let mut from = to;
    while shop.count(DateRange::new(from, to).unwrap().to_utc(DEFAULT_TZ), &["any"]) < 400 {
        from -= chrono::Duration::days(1);
    }
    let (from, to) = (from.to_string(), to.to_string());
    let job = ok(importdesk(&db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    // The test transfer with the first order that goes through (seeded defects fail some).
    let store = importdesk::store::Store::open(&db).unwrap();
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
    let started = ok(importdesk(&db).args(["job", "start", &job]));
    assert!(started.contains("worker started"), "{started}");

    // The TUI, opened after the worker: it attaches through the store.
    let home = dir.path().join("home");
    let command = tmux::tui_command(Path::new(BIN), &db, &config_path(&db), &home);
    let tui = tmux::Tmux::start("importlog", 80, 24, &command);
    tui.wait_for("the lookup", |s| s.contains("[1 Lookup]"));
    // Esc alone (followed at once by a key it would read as Alt-key), then the pane's digit.
    tui.keys(&["Escape"]);
    tui.wait_for("the search field to let go", |s| !s.contains("TYPING"));
    tui.keys(&["4"]);
    let screen = tui.wait_for("the running job in the log pane", |s| {
        s.contains("[4 Log]") && s.contains("RUNNING") && done_on_screen(s).is_some_and(|n| n > 0)
    });
    assert!(screen.contains(&format!("Job {job}")), "the job is selected:\n{screen}");
    assert!(screen.contains("worker "), "the other process's worker is named:\n{screen}");
    let seen = done_on_screen(&screen).unwrap();
    // The progress moves while the TUI watches.
    let screen = tui.wait_for("the progress to move", |s| done_on_screen(s).is_some_and(|n| n > seen));
    assert!(screen.contains("transferred"), "{screen}");
    assert!(screen.contains("orders/min"), "the rate shows:\n{screen}");
    assert!(screen.contains("Usage "), "usage against the quota shows:\n{screen}");
    assert!(screen.contains("INFO"), "the log lines show:\n{screen}");

    tui.keys(&["q"]);
    let screen = tui.wait_for("the TUI to exit", |s| s.contains("EXITED"));
    assert!(screen.contains("EXITED 0"), "a clean exit:\n{screen}");
    let at_exit = status(&db, &job);
    assert_eq!(at_exit["state"], "running", "the import was still running when the TUI quit: {at_exit}");

    // The job goes on without the TUI and finishes.
    let deadline = Instant::now() + Duration::from_secs(300);
    let end = loop {
        let s = status(&db, &job);
        if s["state"] == "finished" {
            break s;
        }
        assert!(Instant::now() < deadline, "the import did not finish: {s}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let orders = &end["orders"];
    for open in ["pending", "sending", "unknown"] {
        assert_eq!(orders[open], 0, "{open} left: {end}");
    }
    assert!(orders["transferred"].as_u64().unwrap() > seen, "{end}");
    sim.shutdown().await;
}
