//! The import worker's throughput as a fraction of the accounting system's rate limit, with
//! 80 ms simulated latency, beside a one-order-at-a-time baseline, in the same run.
//!
//! `cargo bench --bench worker`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use importdesk::config::Config;
use importdesk::domain::calendar::{DEFAULT_TZ, DateRange};
use importdesk::domain::customer::WebshopKind;
use importdesk::domain::job::JobStep;
use importdesk::engine::worker::{WorkerOptions, run_job};
use importdesk::sim::economic::{EconomicOptions, EconomicSim, seeds_from};
use importdesk::sim::{SimOptions, start_with};
use importdesk::store::{JobKind, Store};

/// e-conomic's per-second limit in the simulator; the client's limiter is set a little below.
const SINK_LIMIT: u32 = 20;

struct Run {
    orders: u64,
    seconds: f64,
    calls: u64,
}

async fn import(
    db: &std::path::Path,
    config: &Config,
    sim: &EconomicSim,
    grant: &str,
    customer: i64,
    range: DateRange,
    concurrency: usize,
) -> anyhow::Result<Run> {
    let mut store = Store::open(db)?;
    let job = store.create_job(customer, JobKind::Range, Some(range), None, Utc::now())?;
    store.job_step(job, JobStep::Accept, &[])?;
    store.job_step(job, JobStep::TestTransfer, &[])?;
    store.job_step(job, JobStep::Approve, &[])?;
    let before = sim.stats(grant).requests;
    let t = Instant::now();
    let opts = WorkerOptions { concurrency, ..Default::default() };
    run_job(db, config, job, opts, importdesk::connect::http::client()).await?;
    let seconds = t.elapsed().as_secs_f64();
    let counts = store.order_counts(job)?;
    Ok(Run { orders: counts["transferred"] + counts["failed"], seconds, calls: sim.stats(grant).requests - before })
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let handle: Arc<Mutex<Option<EconomicSim>>> = Arc::default();
        let keep = handle.clone();
        let economic = EconomicOptions {
            latency: Duration::from_millis(80),
            requests_per_second: Some(SINK_LIMIT),
            ..EconomicOptions::default()
        };
        let sim = start_with(SimOptions { customers: 4, ..Default::default() }, 0, move |data| {
            let e = EconomicSim::new(seeds_from(data), economic);
            if let Ok(mut slot) = keep.lock() {
                *slot = Some(e.clone());
            }
            vec![("/economic".into(), e.router())]
        })
        .await?;
        let economic = handle.lock().ok().and_then(|s| s.clone()).ok_or_else(|| anyhow::anyhow!("no e-conomic sim"))?;
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("bench.db");
        let mut store = Store::open(&db)?;
        let manifest: importdesk::demo::ManifestFile = serde_json::from_value(serde_json::to_value(&sim.manifest)?)?;
        importdesk::demo::register(&mut store, &manifest)?;
        let (index, shop) = sim
            .manifest
            .customers
            .iter()
            .enumerate()
            .find(|(_, c)| c.webshop == WebshopKind::WooCommerce)
            .ok_or_else(|| anyhow::anyhow!("no WooCommerce shop"))?;
        let data = sim.data.shop(&shop.shop_domain).ok_or_else(|| anyhow::anyhow!("no shop data"))?;
        // Two disjoint ranges: ~200 orders for the concurrent worker, ~30 for the baseline.
        let range_of = |to: chrono::NaiveDate, n: u64| {
            let mut from = to;
            while data.count(DateRange { from, to }.to_utc(DEFAULT_TZ), &["processing", "completed"]) < n {
                from -= chrono::Duration::days(1);
            }
            DateRange { from, to }
        };
        let last = shop.integration_since - chrono::Duration::days(1);
        let big = range_of(last, 200);
        let small = range_of(big.from - chrono::Duration::days(1), 30);
        let mut config = Config::default();
        config.rates.economic.requests_per_second = f64::from(SINK_LIMIT) * 0.9;
        let customer = index as i64 + 1;

        let serial = import(&db, &config, &economic, &shop.grant_token, customer, small, 1).await?;
        let parallel = import(&db, &config, &economic, &shop.grant_token, customer, big, 8).await?;
        let report = |name: &str, r: &Run| {
            let calls_per_s = r.calls as f64 / r.seconds;
            println!(
                "  {name:<28} {:>4} orders in {:>6.1} s = {:>5.2} orders/s, {:>5.1} calls/s = {:>5.1} % of the {SINK_LIMIT}/s limit ({:.1} calls/order)",
                r.orders,
                r.seconds,
                r.orders as f64 / r.seconds,
                calls_per_s,
                100.0 * calls_per_s / f64::from(SINK_LIMIT),
                r.calls as f64 / r.orders.max(1) as f64
            );
        };
        println!("worker throughput against e-conomic with 80 ms latency and a {SINK_LIMIT} calls/s limit:");
        report("one order at a time", &serial);
        report("worker (8 in flight)", &parallel);
        println!(
            "  speed-up: {:.1}× (orders/s)",
            (parallel.orders as f64 / parallel.seconds) / (serial.orders as f64 / serial.seconds).max(1e-9)
        );
        sim.shutdown().await;
        anyhow::Ok(())
    })
}
