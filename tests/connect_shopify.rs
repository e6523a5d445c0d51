//! The Shopify source against the simulated shop over real HTTP on loopback: counts, cursor
//! paging, the leaky bucket and 429s, single orders, and the ways a host fails.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use importdesk::connect::retry::RetryPolicy;
use importdesk::connect::shopify::Shopify;
use importdesk::connect::{ConnectError, OrderQuery, Source, http};
use importdesk::domain::calendar::UtcRange;
use importdesk::domain::customer::WebshopKind;
use importdesk::domain::order::Order;
use importdesk::sim::{self, Fault, ManifestCustomer, RunningSim, SimOptions};
use rust_decimal::Decimal;
use secrecy::SecretString;

async fn start_with(opts: SimOptions) -> RunningSim {
    sim::start(SimOptions { customers: 4, ..opts }, 0).await.unwrap()
}

async fn start() -> RunningSim {
    start_with(SimOptions::default()).await
}

/// The simulated Shopify shop with the fewest orders (the tests page through ranges of it).
fn customer(sim: &RunningSim) -> ManifestCustomer {
    sim.manifest
        .customers
        .iter()
        .filter(|c| c.webshop == WebshopKind::Shopify)
        .min_by_key(|c| c.orders)
        .cloned()
        .expect("the simulator has a Shopify shop")
}

/// Short backoffs: the tests exercise retries without waiting seconds for them.
fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn source_with(url: &str, token: &str) -> Shopify {
    Shopify::new(http::client(), url, SecretString::from(token)).unwrap().with_retry_policy(fast())
}

fn source(c: &ManifestCustomer) -> Shopify {
    source_with(&c.shop_url, &c.shop_key)
}

fn query(start: DateTime<Utc>, end: DateTime<Utc>) -> OrderQuery {
    OrderQuery { range: UtcRange { start, end }, statuses: vec!["any".into()] }
}

fn all_time(c: &ManifestCustomer) -> OrderQuery {
    query(c.first_order, c.last_order + chrono::Duration::seconds(1))
}

/// The shop's last `hours`: the simulated bucket leaks 2 calls a second, as Shopify's does,
/// so the tests page through short ranges.
fn recent(c: &ManifestCustomer, hours: i64) -> OrderQuery {
    query(c.last_order - chrono::Duration::hours(hours), c.last_order + chrono::Duration::seconds(1))
}

async fn every_page(source: &dyn Source, q: &OrderQuery, page_size: u32) -> (Vec<Order>, usize) {
    let (mut orders, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let page = source.page(q, cursor.as_deref(), page_size).await.unwrap();
        assert!(page.malformed.is_empty(), "{:?}", page.malformed);
        assert!(page.orders.len() <= page_size as usize);
        orders.extend(page.orders);
        pages += 1;
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (orders, pages),
        }
        assert!(pages < 10_000, "paging does not end");
    }
}

fn assert_once_in_order(orders: &[Order], q: &OrderQuery) {
    let ids: HashSet<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), orders.len(), "an order came twice");
    assert!(orders.windows(2).all(|w| w[0].created_at <= w[1].created_at), "not oldest first");
    assert!(orders.iter().all(|o| q.range.contains(o.created_at)), "an order outside the range");
}

#[tokio::test]
async fn the_count_of_all_time_is_every_order_of_the_shop() {
    let sim = start().await;
    let c = customer(&sim);
    let shop = source(&c);
    assert_eq!(shop.count(&all_time(&c)).await.unwrap(), c.orders);
    // Shopify's own status names reach the shop; WooCommerce names mean `any`.
    let mut closed = all_time(&c);
    closed.statuses = vec!["closed".into()];
    let expected = sim.data.shop(&c.shop_domain).unwrap().count(closed.range, &["closed"]);
    assert_eq!(shop.count(&closed).await.unwrap(), expected);
    assert!(expected < c.orders);
    let mut woo_names = all_time(&c);
    woo_names.statuses = vec!["processing".into(), "completed".into()];
    assert_eq!(shop.count(&woo_names).await.unwrap(), c.orders);
}

#[tokio::test]
async fn pages_hold_each_order_once_oldest_first_and_add_up_to_the_count() {
    let sim = start().await;
    let c = customer(&sim);
    let shop = source(&c);
    let q = recent(&c, 72);
    let count = shop.count(&q).await.unwrap();
    let (orders, pages) = every_page(&shop, &q, 10).await;
    assert!(pages > 2, "the range spans several pages ({count} orders)");
    assert_eq!(orders.len() as u64, count);
    assert_once_in_order(&orders, &q);
    for o in &orders {
        assert!(o.reference.starts_with('#'), "{}", o.reference);
        assert!(o.prices_include_tax);
        let net: Decimal = o.lines.iter().map(|l| l.total).sum();
        let tax: Decimal = o.lines.iter().map(|l| l.total_tax).sum();
        assert_eq!((net + tax, tax), (o.total, o.total_tax), "lines of order {} do not add up", o.reference);
    }
}

#[tokio::test]
async fn a_range_split_in_two_counts_the_same_as_the_whole() {
    let sim = start().await;
    let c = customer(&sim);
    let shop = source(&c);
    let q = recent(&c, 7 * 24);
    let (orders, _) = every_page(&shop, &q, 250).await;
    // Split exactly at an order's creation second: it belongs to the second half only.
    let at = orders[orders.len() / 2].created_at;
    let (first, second) = (query(q.range.start, at), query(at, q.range.end));
    let whole = shop.count(&q).await.unwrap();
    let (a, b) = (shop.count(&first).await.unwrap(), shop.count(&second).await.unwrap());
    assert_eq!(a + b, whole);
    assert_eq!(a, orders.iter().filter(|o| o.created_at < at).count() as u64);
    let halves = (every_page(&shop, &first, 250).await.0, every_page(&shop, &second, 250).await.0);
    assert!(halves.0.iter().all(|o| o.created_at < at) && halves.1.iter().all(|o| o.created_at >= at));
    assert_eq!(halves.0.len() + halves.1.len(), orders.len());
    assert_eq!(shop.count(&all_time(&c)).await.unwrap(), c.orders);
}

#[tokio::test]
async fn paging_under_a_tight_bucket_completes() {
    // Two calls of room, leaking one a second: slower than the client assumes (2/s), so
    // it runs into 429s and must wait them out.
    let sim = start_with(SimOptions { shopify_bucket: 2, shopify_leak_per_second: 1.0, ..SimOptions::default() }).await;
    let c = customer(&sim);
    let q = recent(&c, 24);
    let expected = sim.data.shop(&c.shop_domain).unwrap().count(q.range, &["any"]);
    // Two clients of the same shop and a clone of one: all share the shop's bucket.
    let (a, b) = (source(&c), source(&c));
    let mid = q.range.start + (q.range.end - q.range.start) / 2;
    let (qa, qb) = (query(q.range.start, mid), query(mid, q.range.end));
    let a2 = a.clone();
    let (left, right, counted) =
        tokio::join!(every_page(&a, &qa, 5), every_page(&b, &qb, 5), async { a2.count(&q).await.unwrap() });
    assert_eq!(counted, expected);
    assert_eq!((left.0.len() + right.0.len()) as u64, expected);
    let mut all = left.0;
    all.extend(right.0);
    assert_once_in_order(&all, &q);
}

#[tokio::test]
async fn a_429_is_waited_out_and_a_long_one_returned() {
    let sim = start().await;
    let c = customer(&sim);
    let shop = source(&c);
    sim.set_fault(&c.shop_domain, Fault { retry_after: Some(1), ..Fault::status(429) }.times(2));
    assert_eq!(shop.count(&all_time(&c)).await.unwrap(), c.orders);
    sim.set_fault(&c.shop_domain, Fault { retry_after: Some(3600), ..Fault::status(429) });
    let err = source(&c).count(&all_time(&c)).await.unwrap_err();
    assert!(matches!(err, ConnectError::RateLimited { retry_after_seconds: 3600, .. }), "{err}");
}

#[tokio::test]
async fn one_order_by_name_or_id() {
    let sim = start().await;
    let c = customer(&sim);
    let shop = source(&c);
    let listed = shop.page(&recent(&c, 24), None, 5).await.unwrap().orders.remove(0);
    assert_eq!(shop.order(&listed.reference).await.unwrap(), listed, "by name {}", listed.reference);
    assert_eq!(shop.order(&listed.id).await.unwrap(), listed, "by id {}", listed.id);
    let number = listed.reference.trim_start_matches('#');
    assert_eq!(shop.order(number).await.unwrap().id, listed.id, "by order number {number}");
    let err = shop.order("#99999999").await.unwrap_err();
    assert!(matches!(err, ConnectError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("order #99999999 not found"), "{err}");
    let err = shop.order("1000000000001").await.unwrap_err();
    assert!(err.to_string().contains("order 1000000000001 not found"), "{err}");
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_with_the_shops_reason_and_no_secret() {
    let sim = start().await;
    let c = customer(&sim);
    let shop = source_with(&c.shop_url, "shpat_wrong_token_000");
    let err = shop.count(&all_time(&c)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectError::Unauthorized { status: 401, .. }), "{text}");
    assert!(text.contains("Invalid API key or access token"), "{text}");
    assert!(!text.contains("shpat_wrong_token_000"), "{text}");
    assert!(!format!("{:?}", source(&c)).contains(&c.shop_key));
}

#[tokio::test]
async fn an_html_captcha_page_is_not_json() {
    let sim = start().await;
    let c = customer(&sim);
    sim.set_fault(&c.shop_domain, Fault::html_captcha());
    let err = source(&c).page(&all_time(&c), None, 10).await.unwrap_err();
    assert!(matches!(err, ConnectError::NotJson { status: 200, .. }), "{err}");
    assert!(err.to_string().contains("text/html"), "{err}");
}

#[tokio::test]
async fn a_cut_connection_is_retried_then_reported() {
    let sim = start().await;
    let c = customer(&sim);
    sim.set_fault(&c.shop_domain, Fault::drop_connection().times(1));
    assert_eq!(source(&c).count(&all_time(&c)).await.unwrap(), c.orders);
    sim.set_fault(&c.shop_domain, Fault::drop_connection());
    let err = source(&c).count(&all_time(&c)).await.unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let shop = source_with(&format!("http://127.0.0.1:{port}/butik.myshopify.com"), "shpat_x");
    let err = shop.count(&query(Utc::now() - chrono::Duration::days(1), Utc::now())).await.unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
}
