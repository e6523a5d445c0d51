//! The WooCommerce source against the simulated shop over real HTTP on loopback: counts,
//! paging, single orders, and the ways a host fails.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use importdesk::connect::retry::RetryPolicy;
use importdesk::connect::woocommerce::WooCommerce;
use importdesk::connect::{ConnectError, OrderQuery, Source, http};
use importdesk::domain::calendar::UtcRange;
use importdesk::domain::customer::WebshopKind;
use importdesk::domain::order::Order;
use importdesk::sim::{self, Fault, ManifestCustomer, RunningSim, SimOptions};
use rust_decimal::Decimal;
use secrecy::SecretString;

async fn start() -> RunningSim {
    sim::start(SimOptions { customers: 4, ..Default::default() }, 0).await.unwrap()
}

/// The simulated WooCommerce shop with the fewest orders (the tests page through ranges of it).
fn customer(sim: &RunningSim) -> ManifestCustomer {
    sim.manifest
        .customers
        .iter()
        .filter(|c| c.webshop == WebshopKind::WooCommerce)
        .min_by_key(|c| c.orders)
        .cloned()
        .expect("the simulator has a WooCommerce shop")
}

/// Short backoffs: the tests exercise retries without waiting seconds for them.
fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

fn source_with(url: &str, key: &str, secret: &str) -> WooCommerce {
    WooCommerce::new(http::client(), url, SecretString::from(key), SecretString::from(secret))
        .unwrap()
        .with_retry_policy(fast())
}

fn source(c: &ManifestCustomer) -> WooCommerce {
    source_with(&c.shop_url, &c.shop_key, c.shop_secret.as_deref().unwrap())
}

fn query(start: DateTime<Utc>, end: DateTime<Utc>, statuses: &[&str]) -> OrderQuery {
    OrderQuery { range: UtcRange { start, end }, statuses: statuses.iter().map(|s| s.to_string()).collect() }
}

fn all_time(c: &ManifestCustomer) -> OrderQuery {
    query(c.first_order, c.last_order + chrono::Duration::seconds(1), &[])
}

/// The last ~60 days of the shop: enough pages to page through, quick enough to do so.
fn recent(c: &ManifestCustomer, statuses: &[&str]) -> OrderQuery {
    query(c.last_order - chrono::Duration::days(60), c.last_order + chrono::Duration::seconds(1), statuses)
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

#[tokio::test]
async fn the_count_of_all_time_is_every_order_of_the_shop() {
    let sim = start().await;
    let c = customer(&sim);
    let woo = source(&c);
    assert_eq!(woo.count(&all_time(&c)).await.unwrap(), c.orders);
    let statuses = ["processing", "completed"];
    let q = query(c.first_order, c.last_order + chrono::Duration::seconds(1), &statuses);
    let expected = sim.data.shop(&c.shop_domain).unwrap().count(q.range, &statuses);
    assert_eq!(woo.count(&q).await.unwrap(), expected);
    assert!(expected < c.orders, "the status filter reaches the shop");
}

#[tokio::test]
async fn pages_hold_each_order_once_oldest_first_and_add_up_to_the_count() {
    let sim = start().await;
    let c = customer(&sim);
    let woo = source(&c);
    let q = recent(&c, &["processing", "completed"]);
    let count = woo.count(&q).await.unwrap();
    let (orders, pages) = every_page(&woo, &q, 10).await;
    assert!(pages > 2, "the range spans several pages ({count} orders)");
    assert_eq!(orders.len() as u64, count);
    let ids: HashSet<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), orders.len(), "an order came twice");
    assert!(orders.windows(2).all(|w| w[0].created_at <= w[1].created_at), "not oldest first");
    for o in &orders {
        assert!(q.range.contains(o.created_at), "order {} at {} is outside the range", o.id, o.created_at);
        assert!(o.status == "processing" || o.status == "completed", "{}", o.status);
        assert!(o.product_lines().count() >= 1);
        let net: Decimal = o.lines.iter().map(|l| l.total).sum();
        let tax: Decimal = o.lines.iter().map(|l| l.total_tax).sum();
        assert_eq!((net + tax, tax), (o.total, o.total_tax), "lines of order {} do not add up", o.id);
    }
    let first = woo.page(&q, None, 10).await.unwrap();
    assert_eq!(first.total, Some(count), "X-WP-Total");
}

#[tokio::test]
async fn a_range_split_in_two_counts_the_same_as_the_whole() {
    let sim = start().await;
    let c = customer(&sim);
    let woo = source(&c);
    let q = recent(&c, &[]);
    // Split exactly at an order's creation second: it belongs to the second half only.
    let (orders, _) = every_page(&woo, &q, 100).await;
    let at = orders[orders.len() / 2].created_at;
    let first = query(q.range.start, at, &[]);
    let second = query(at, q.range.end, &[]);
    let (whole, a, b) =
        (woo.count(&q).await.unwrap(), woo.count(&first).await.unwrap(), woo.count(&second).await.unwrap());
    assert_eq!(a + b, whole);
    assert_eq!(a, orders.iter().filter(|o| o.created_at < at).count() as u64);
    assert!(a > 0 && b > 0);
    let halves = (every_page(&woo, &first, 100).await.0, every_page(&woo, &second, 100).await.0);
    assert!(halves.0.iter().all(|o| o.created_at < at) && halves.1.iter().all(|o| o.created_at >= at));
    assert_eq!(halves.0.len() + halves.1.len(), orders.len());
}

#[tokio::test]
async fn one_order_by_its_reference() {
    let sim = start().await;
    let c = customer(&sim);
    let woo = source(&c);
    let listed = woo.page(&recent(&c, &[]), None, 5).await.unwrap().orders.remove(0);
    let fetched = woo.order(&listed.reference).await.unwrap();
    assert_eq!(fetched, listed);
    assert_eq!(woo.order(&format!("#{}", listed.reference)).await.unwrap().id, listed.id);
    let missing = woo.order("999999999").await.unwrap_err();
    assert!(matches!(missing, ConnectError::NotFound { .. }), "{missing}");
    assert!(missing.to_string().contains("order 999999999 not found"), "{missing}");
    let not_a_number = woo.order("abc").await.unwrap_err();
    assert!(matches!(not_a_number, ConnectError::NotFound { .. }), "{not_a_number}");
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_with_the_shops_reason_and_no_secret() {
    let sim = start().await;
    let c = customer(&sim);
    let secret = c.shop_secret.clone().unwrap();
    let woo = source_with(&c.shop_url, "ck_wrong_key_0000", &secret);
    let err = woo.count(&all_time(&c)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectError::Unauthorized { status: 401, .. }), "{text}");
    assert!(text.contains("Consumer key is invalid"), "{text}");
    assert!(text.contains("check the customer's keys"), "{text}");
    assert!(!text.contains("ck_wrong_key_0000") && !text.contains(&secret), "{text}");
    let wrong_secret = source_with(&c.shop_url, &c.shop_key, "cs_wrong").count(&all_time(&c)).await.unwrap_err();
    assert!(wrong_secret.to_string().contains("Consumer secret is invalid"), "{wrong_secret}");
    assert!(!format!("{woo:?}").contains(&secret));
}

#[tokio::test]
async fn an_html_captcha_page_is_not_json() {
    let sim = start().await;
    let c = customer(&sim);
    sim.set_fault(&c.shop_domain, Fault::html_captcha());
    let woo = source(&c);
    let err = woo.count(&all_time(&c)).await.unwrap_err();
    assert!(matches!(err, ConnectError::NotJson { status: 200, .. }), "{err}");
    assert!(err.to_string().contains("text/html"), "{err}");
    let err = woo.page(&all_time(&c), None, 10).await.unwrap_err();
    assert!(matches!(err, ConnectError::NotJson { .. }), "{err}");
}

#[tokio::test]
async fn brief_server_errors_are_retried_and_lasting_ones_returned() {
    let sim = start().await;
    let c = customer(&sim);
    let woo = source(&c);
    sim.set_fault(&c.shop_domain, Fault::status(503).times(2));
    assert_eq!(woo.count(&all_time(&c)).await.unwrap(), c.orders);
    sim.set_fault(&c.shop_domain, Fault::status(502));
    let err = woo.count(&all_time(&c)).await.unwrap_err();
    assert!(matches!(err, ConnectError::ServerError { status: 502, .. }), "{err}");
    sim.set_fault(&c.shop_domain, Fault::status(400));
    let err = woo.count(&all_time(&c)).await.unwrap_err();
    assert!(matches!(err, ConnectError::Rejected { status: 400, .. }), "{err}");
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let woo = source_with(&format!("http://127.0.0.1:{port}/butik.dk"), "ck_x", "cs_x");
    let range = query(Utc::now() - chrono::Duration::days(1), Utc::now(), &[]);
    let err = woo.count(&range).await.unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[tokio::test]
async fn a_url_that_is_no_woocommerce_shop_is_named() {
    let sim = start().await;
    let c = customer(&sim);
    let woo = source_with(&sim.shop_url("no-such-shop.dk"), &c.shop_key, c.shop_secret.as_deref().unwrap());
    let err = woo.count(&all_time(&c)).await.unwrap_err();
    assert!(matches!(err, ConnectError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("orders API"), "{err}");
}
