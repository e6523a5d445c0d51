//! A 500-order import while the worker is killed with SIGKILL at 10 random moments and
//! restarted: afterwards the accounting system (read through the simulator's own
//! `GET /invoices/booked`) holds exactly one invoice per order the job reports transferred,
//! none for any other, and every order of the job has exactly one final state.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{
    add_customer, booked_references, importdesk, ok, range_before_start, sim_with_economic, test_with_first_good_order,
    woo_customer,
};
use importdesk::sim::SimOptions;
use rand::{Rng, SeedableRng};
use serde_json::Value;

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
    let sim =
        sim_with_economic(SimOptions { customers: 4, ..Default::default() }, Duration::from_millis(15), 0.02).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill9.db");
    let c = woo_customer(&sim);
    add_customer(&db, &c, "Basic", 0);

    // A range of about 500 orders ending the day before the integration started.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = range_before_start(shop, &c, 500, &["any"]);
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let job = ok(importdesk(&db).args(["job", "create", "--customer", "1", "--from", &from, "--to", &to]));
    ok(importdesk(&db).args(["job", "accept", &job, "--by", "Test", "--reference", "mail"]));
    test_with_first_good_order(&db, &job, range).await;
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
