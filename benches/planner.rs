//! The planner's time to a quote for a range of 50,000+ orders (two count requests), against
//! a baseline that pages through every order of the range, both on the simulator in this run.
//!
//! `cargo bench --bench planner`

use std::time::{Duration, Instant};

use chrono::Utc;
use importdesk::config::Config;
use importdesk::connect::{OrderQuery, source_for};
use importdesk::domain::calendar::DateRange;
use importdesk::domain::customer::WebshopKind;
use importdesk::engine::estimate;
use importdesk::sim::{SimOptions, start};
use importdesk::store::Store;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let sim = start(SimOptions { customers: 4, ..Default::default() }, 0).await?;
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(&dir.path().join("bench.db"))?;
        let manifest: importdesk::demo::ManifestFile = serde_json::from_value(serde_json::to_value(&sim.manifest)?)?;
        importdesk::demo::register(&mut store, &manifest)?;
        let config = Config::default();
        let (i, big) = manifest
            .customers
            .iter()
            .enumerate()
            .find(|(_, c)| c.webshop == WebshopKind::WooCommerce)
            .ok_or_else(|| anyhow::anyhow!("the simulator has no WooCommerce shop"))?;
        let customer_id = i as i64 + 1;
        let integration = store.integration(customer_id)?;
        let shop = &sim.manifest.customers[i];
        let tz = integration.timezone;
        let range = DateRange::new(
            shop.first_order.with_timezone(&tz).date_naive(),
            shop.last_order.with_timezone(&tz).date_naive(),
        )?;
        let client = importdesk::connect::http::client();

        let mut quote_times = Vec::new();
        let mut orders = 0;
        for _ in 0..21 {
            let t = Instant::now();
            let (_, q) =
                estimate::quote_customer(&store, &config, customer_id, range, 1, Utc::now(), client.clone()).await?;
            quote_times.push(t.elapsed());
            orders = q.orders_in_range;
        }

        let source = source_for(&integration, client.clone())?;
        let query = OrderQuery { range: range.to_utc(tz), statuses: integration.settings.statuses.clone() };
        let mut baseline_times = Vec::new();
        let mut paged = 0;
        let mut pages = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let (mut cursor, mut n, mut p) = (None::<String>, 0u64, 0u64);
            loop {
                let page = source.page(&query, cursor.as_deref(), source.max_page_size()).await?;
                n += page.orders.len() as u64 + page.malformed.len() as u64;
                p += 1;
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            baseline_times.push(t.elapsed());
            paged = n;
            pages = p;
        }
        let q = median(quote_times);
        let b = median(baseline_times);
        println!("planner quote, {} ({}): {} orders in range", big.name, big.shop_url, orders);
        println!("  quote (count requests + pricing), median of 21: {:>10.2} ms", q.as_secs_f64() * 1e3);
        println!(
            "  baseline (page through {paged} orders in {pages} pages), median of 3: {:>10.2} ms",
            b.as_secs_f64() * 1e3
        );
        println!("  ratio baseline / quote: {:.0}×", b.as_secs_f64() / q.as_secs_f64().max(1e-9));
        if paged != orders {
            println!("  note: paging saw {paged} orders, the count said {orders}");
        }
        sim.shutdown().await;
        anyhow::Ok(())
    })
}
