//! The live import log attaches to a job run by another process: the simulator in the test,
//! a customer registered and a job taken from quote to start by the CLI (`job start`
//! detaches the worker), then the real TUI in tmux at 80×24 with `NO_COLOR=1`, the log pane
//! showing the running job's progress move; after the TUI quits, `job status --json` shows
//! the job going on to the end.
//!
//! Skipped, with a message, where tmux is not installed.

mod common;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{add_customer, config_with, importdesk, ok, range_before_start, test_with_first_good_order, woo_customer};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{SimOptions, start_with};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_importdesk");

/// A rate limit well above e-conomic's real one, yet low enough that the import runs for a
/// while: at least two calls an order at 40 a second.
const CONFIG: &str = "[rates.economic]\ncalls_per_order = 3.0\nrequests_per_second = 40.0\n";

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
    config_with(&db, CONFIG); // before any command, so the slower rate is the one used
    let c = woo_customer(&sim);
    add_customer(&db, &c, "Basic", 0);

    // About 400 orders before the integration's start.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = range_before_start(shop, &c, 400, &["any"]);
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let job = ok(importdesk(&db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    test_with_first_good_order(&db, &job, range).await;
    ok(importdesk(&db).args(["job", "approve", &job, "--by", "Kunde"]));
    let started = ok(importdesk(&db).args(["job", "start", &job]));
    assert!(started.contains("worker started"), "{started}");

    // The TUI, opened after the worker: it attaches through the store.
    let home = dir.path().join("home");
    let command = tmux::tui_command(Path::new(BIN), &db, &config_with(&db, CONFIG), &home);
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
