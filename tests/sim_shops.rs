//! The simulated shops over real HTTP on loopback: determinism, WooCommerce pages and headers,
//! Shopify cursors and the leaky bucket, date and status filters, auth failures, SKU changes,
//! faults, and that simulated orders have the fixtures' shape.

use chrono::{DateTime, Duration, TimeZone, Utc};
use importdesk::domain::calendar::UtcRange;
use importdesk::domain::customer::WebshopKind;
use importdesk::sim::{self, DefectRates, Fault, ManifestCustomer, RunningSim, SimOptions};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

fn opts() -> SimOptions {
    SimOptions { seed: 42, now: now(), customers: 4, shopify_leak_per_second: 1_000.0, ..SimOptions::default() }
}

async fn sim() -> RunningSim {
    sim::start(opts(), 0).await.unwrap()
}

fn first(sim: &RunningSim, kind: WebshopKind) -> ManifestCustomer {
    sim.manifest.customers.iter().find(|c| c.webshop == kind).unwrap().clone()
}

/// A month of orders: a few thousand in the big shops.
fn march_2025() -> (&'static str, &'static str) {
    ("2025-03-01T00:00:00", "2025-04-01T00:00:00")
}

async fn woo(client: &Client, c: &ManifestCustomer, path_and_query: &str) -> reqwest::Response {
    client
        .get(format!("{}/wp-json/wc/v3/{path_and_query}", c.shop_url))
        .basic_auth(&c.shop_key, c.shop_secret.as_deref())
        .send()
        .await
        .unwrap()
}

async fn woo_total(client: &Client, c: &ManifestCustomer, query: &str) -> u64 {
    let r = woo(client, c, &format!("orders?per_page=1&{query}")).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    header(&r, "x-wp-total").parse().unwrap()
}

async fn shopify(client: &Client, c: &ManifestCustomer, path_and_query: &str) -> reqwest::Response {
    client
        .get(format!("{}/admin/api/2025-10/{path_and_query}", c.shop_url))
        .header("X-Shopify-Access-Token", &c.shop_key)
        .send()
        .await
        .unwrap()
}

async fn shopify_count(client: &Client, c: &ManifestCustomer, query: &str) -> u64 {
    let r = shopify(client, c, &format!("orders/count.json?{query}")).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json::<Value>().await.unwrap()["count"].as_u64().unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The URL of `rel` in a `Link` header.
fn link(r: &reqwest::Response, rel: &str) -> Option<String> {
    let value = header(r, "link");
    value.split(", <").find(|part| part.ends_with(&format!("rel=\"{rel}\""))).map(|part| {
        let start = part.find('<').map(|i| i + 1).unwrap_or(0);
        part[start..part.find('>').unwrap()].to_string()
    })
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_manifest() {
    let (a, b) = (sim().await, sim().await);
    let strip = |s: &RunningSim| {
        let text = serde_json::to_string(&s.manifest).unwrap();
        text.replace(&s.addr.to_string(), "HOST")
    };
    assert_eq!(strip(&a), strip(&b));
    let other = sim::start(SimOptions { seed: 43, ..opts() }, 0).await.unwrap();
    assert_ne!(a.manifest.customers[0].shop_key, other.manifest.customers[0].shop_key);

    let c = &a.manifest.customers[0];
    assert_eq!(c.webshop, WebshopKind::WooCommerce);
    assert!(c.orders >= 50_000);
    assert!(first(&a, WebshopKind::Shopify).orders >= 50_000);
    assert!(c.shop_key.starts_with("ck_") && c.shop_secret.as_deref().unwrap().starts_with("cs_"));
    assert_eq!(first(&a, WebshopKind::Shopify).shop_secret, None);
    assert_eq!(c.cvr.len(), 8);
    assert!(["Basic", "Plus", "Pro", "Enterprise"].contains(&c.plan.as_str()));
    assert_eq!(c.accounting_url, format!("{}/economic", a.base_url()));
    assert_eq!(c.shop_url, format!("{}/{}", a.base_url(), c.shop_domain));
    let age = now().date_naive() - c.integration_since;
    assert!(age.num_days() >= 28 && age.num_days() <= 14 * 31, "{age}");

    let json = serde_json::to_value(&a.manifest).unwrap();
    let entry = &json["customers"][0];
    for key in ["name", "email", "webshop", "shop_url", "shop_key", "shop_secret", "orders", "first_order"] {
        assert!(entry.get(key).is_some(), "{key}");
    }
    assert_eq!(entry["webshop"], "woocommerce");
    assert_eq!(entry["accounting"], "economic");
    let served: Value =
        Client::new().get(format!("{}/_sim/manifest", a.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, json);
}

#[tokio::test]
async fn woo_pages_walk_to_the_total_with_link_headers() {
    let sim = sim().await;
    let c = first(&sim, WebshopKind::WooCommerce);
    let client = Client::new();
    let (after, before) = march_2025();
    let mut url =
        format!("{}/wp-json/wc/v3/orders?after={after}&before={before}&per_page=100&order=asc&status=any", c.shop_url);
    let (mut ids, mut pages, mut last_created) = (BTreeSet::new(), 0u64, String::new());
    let mut total: Option<u64> = None;
    loop {
        let r = client.get(&url).basic_auth(&c.shop_key, c.shop_secret.as_deref()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        pages += 1;
        let this_total: u64 = header(&r, "x-wp-total").parse().unwrap();
        let total_pages: u64 = header(&r, "x-wp-totalpages").parse().unwrap();
        assert_eq!(total_pages, this_total.div_ceil(100));
        assert_eq!(link(&r, "prev").is_some(), pages > 1);
        assert!(total.is_none_or(|t| t == this_total), "the same total on every page");
        total = Some(this_total);
        let next = link(&r, "next");
        let orders: Vec<Value> = r.json().await.unwrap();
        for o in &orders {
            let created = o["date_created_gmt"].as_str().unwrap().to_string();
            assert!(created >= last_created, "ascending by date");
            last_created = created;
            assert!(ids.insert(o["id"].as_u64().unwrap()), "no order twice");
        }
        match next {
            Some(n) => url = n,
            None => {
                assert_eq!(pages, total_pages);
                break;
            }
        }
    }
    let total = total.unwrap();
    assert!(total > 500, "{total}");
    assert_eq!(ids.len() as u64, total);

    // The same count as the data set says, and a page past the end is an empty list.
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = UtcRange {
        start: Utc.with_ymd_and_hms(2025, 2, 28, 23, 0, 1).unwrap(),
        end: Utc.with_ymd_and_hms(2025, 3, 31, 22, 0, 0).unwrap(),
    };
    assert_eq!(shop.count(range, &["any"]), total);
    let r = woo(&client, &c, &format!("orders?after={after}&before={before}&per_page=100&page=999")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(link(&r, "prev").unwrap().contains("page=") && link(&r, "next").is_none());
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 0);

    // Default order is newest first, ten a page.
    let r = woo(&client, &c, "orders").await;
    let orders: Vec<Value> = r.json().await.unwrap();
    assert_eq!(orders.len(), 10);
    assert!(orders[0]["date_created_gmt"].as_str() >= orders[9]["date_created_gmt"].as_str());
    assert_eq!(orders[0]["id"].as_u64(), Some(shop.order_id(shop.order_count() - 1)));
}

#[tokio::test]
async fn woo_dates_are_exclusive_and_local_unless_gmt() {
    let sim = sim().await;
    let c = first(&sim, WebshopKind::WooCommerce);
    let client = Client::new();
    let whole = woo_total(&client, &c, "after=2025-03-01T00:00:00&before=2025-04-01T00:00:00").await;
    // The split point itself belongs to neither side: (a, m) + [m, m] + (m, b) = (a, b).
    let mid = "2025-03-15T12:00:00";
    let left = woo_total(&client, &c, &format!("after=2025-03-01T00:00:00&before={mid}")).await;
    let at = woo_total(&client, &c, "after=2025-03-15T11:59:59&before=2025-03-15T12:00:01").await;
    let right = woo_total(&client, &c, &format!("after={mid}&before=2025-04-01T00:00:00")).await;
    assert_eq!(left + at + right, whole);
    assert!(left > 0 && right > 0);

    // Local March 1st 00:00 is 23:00 GMT the day before (UTC+1 in winter); an offset is honoured.
    let gmt = woo_total(&client, &c, "after=2025-02-28T23:00:00&before=2025-03-31T22:00:00&dates_are_gmt=true").await;
    assert_eq!(gmt, whole);
    let with_offset =
        woo_total(&client, &c, "after=2025-03-01T00:00:00%2B01:00&before=2025-04-01T00:00:00%2B02:00").await;
    assert_eq!(with_offset, whole);

    let r = woo(&client, &c, "orders?after=yesterday").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rest_invalid_param");
    assert!(body["data"]["params"]["after"].is_string());
}

#[tokio::test]
async fn shopify_dates_are_inclusive() {
    let sim = sim().await;
    let c = first(&sim, WebshopKind::Shopify);
    let client = Client::new();
    let q = |min: &str, max: &str| format!("status=any&created_at_min={min}&created_at_max={max}");
    let whole = shopify_count(&client, &c, &q("2025-03-01T00:00:00%2B01:00", "2025-03-31T23:59:59%2B02:00")).await;
    let left = shopify_count(&client, &c, &q("2025-03-01T00:00:00%2B01:00", "2025-03-15T11:59:59Z")).await;
    let right = shopify_count(&client, &c, &q("2025-03-15T12:00:00Z", "2025-03-31T23:59:59%2B02:00")).await;
    assert_eq!(left + right, whole);
    assert!(left > 0 && right > 0);
    let shop = sim.data.shop(&c.shop_domain).unwrap();
    let range = UtcRange {
        start: Utc.with_ymd_and_hms(2025, 2, 28, 23, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2025, 3, 31, 22, 0, 0).unwrap(),
    };
    assert_eq!(shop.count(range, &["any"]), whole);
    // Without an offset a time is the shop's local time.
    let local = shopify_count(&client, &c, &q("2025-03-01T00:00:00", "2025-03-31T23:59:59")).await;
    assert_eq!(local, whole);
}

#[tokio::test]
async fn status_filters_partition_the_orders() {
    let sim = sim().await;
    let client = Client::new();
    let w = first(&sim, WebshopKind::WooCommerce);
    let range = "after=2025-01-01T00:00:00&before=2025-07-01T00:00:00";
    let any = woo_total(&client, &w, range).await;
    let mut sum = 0;
    for status in ["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"] {
        sum += woo_total(&client, &w, &format!("{range}&status={status}")).await;
    }
    assert_eq!(sum, any);
    let completed = woo_total(&client, &w, &format!("{range}&status=completed")).await;
    let processing = woo_total(&client, &w, &format!("{range}&status=processing")).await;
    assert!(completed > any * 8 / 10, "mostly completed: {completed} of {any}");
    assert_eq!(woo_total(&client, &w, &format!("{range}&status=processing,completed")).await, completed + processing);
    assert_eq!(
        woo_total(&client, &w, &format!("{range}&status[]=processing&status[]=completed")).await,
        completed + processing
    );
    let r = woo(&client, &w, "orders?status=shipped").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let s = first(&sim, WebshopKind::Shopify);
    let range = "created_at_min=2025-01-01T00:00:00Z&created_at_max=2025-06-30T23:59:59Z";
    let any = shopify_count(&client, &s, &format!("status=any&{range}")).await;
    let open = shopify_count(&client, &s, &format!("status=open&{range}")).await;
    let closed = shopify_count(&client, &s, &format!("status=closed&{range}")).await;
    let cancelled = shopify_count(&client, &s, &format!("status=cancelled&{range}")).await;
    assert_eq!(open + closed, any);
    assert!(cancelled > 0 && cancelled < closed);
    // Shopify's default is open orders only.
    assert_eq!(shopify_count(&client, &s, range).await, open);
    let r = shopify(&client, &s, &format!("orders.json?limit=250&{range}")).await;
    let orders = r.json::<Value>().await.unwrap()["orders"].as_array().unwrap().clone();
    assert!(orders.iter().all(|o| o["closed_at"].is_null() && o["cancelled_at"].is_null()));
    let refunded = shopify_count(&client, &s, &format!("status=any&financial_status=refunded&{range}")).await;
    assert!(refunded > 0 && refunded < any);
}

#[tokio::test]
async fn woo_rejects_bad_parameters_and_credentials() {
    let sim = sim().await;
    let c = first(&sim, WebshopKind::WooCommerce);
    let client = Client::new();
    let r = woo(&client, &c, "orders?per_page=101").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rest_invalid_param");
    assert_eq!(body["data"]["status"], 400);
    assert!(body["data"]["params"]["per_page"].as_str().unwrap().contains("between 1"));
    assert_eq!(woo(&client, &c, "orders?per_page=100").await.status(), StatusCode::OK);
    assert_eq!(woo(&client, &c, "orders?page=0").await.status(), StatusCode::BAD_REQUEST);

    let url = format!("{}/wp-json/wc/v3/orders", c.shop_url);
    for request in [
        client.get(&url),
        client.get(&url).basic_auth(&c.shop_key, Some("cs_wrong")),
        client.get(&url).basic_auth("ck_wrong", c.shop_secret.as_deref()),
    ] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "woocommerce_rest_authentication_error");
        assert_eq!(body["data"]["status"], 401);
        assert!(body["message"].is_string());
    }
    // Some hosts drop the Authorization header: the keys in the query string work too.
    let r = client
        .get(&url)
        .query(&[("consumer_key", c.shop_key.as_str()), ("consumer_secret", c.shop_secret.as_deref().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn shopify_rejects_a_bad_token_and_limit() {
    let sim = sim().await;
    let c = first(&sim, WebshopKind::Shopify);
    let client = Client::new();
    let url = format!("{}/admin/api/2025-10/orders.json?status=any", c.shop_url);
    for request in [client.get(&url), client.get(&url).header("X-Shopify-Access-Token", "shpat_wrong")] {
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"], "[API] Invalid API key or access token (unrecognized login or wrong password)");
    }
    let r = shopify(&client, &c, "orders.json?status=any&limit=251").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["errors"]["limit"].is_string());
    let r = shopify(&client, &c, "orders.json?status=any").await;
    assert_eq!(r.json::<Value>().await.unwrap()["orders"].as_array().unwrap().len(), 50);
    assert_eq!(shopify(&client, &c, "orders.json?status=any&limit=250").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn shopify_bucket_overflows_into_429_with_retry_after() {
    let opts = SimOptions { shopify_bucket: 4, shopify_leak_per_second: 0.5, ..opts() };
    let sim = sim::start(opts, 0).await.unwrap();
    let c = first(&sim, WebshopKind::Shopify);
    let client = Client::new();
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..12 {
        let r = shopify(&client, &c, "orders/count.json?status=any").await;
        let used = header(&r, "x-shopify-shop-api-call-limit");
        assert!(used.ends_with("/4"), "{used}");
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                let wait: f64 = header(&r, "retry-after").parse().unwrap();
                assert!(wait > 0.0);
                let body: Value = r.json().await.unwrap();
                assert!(body["errors"].as_str().unwrap().starts_with("Exceeded 0.5 calls per second"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(ok >= 4 && limited > 0, "{ok} ok, {limited} limited");
}

#[tokio::test]
async fn shopify_cursors_walk_forward_and_back() {
    let sim = sim().await;
    let c = first(&sim, WebshopKind::Shopify);
    let client = Client::new();
    let range = "status=any&created_at_min=2025-03-01T00:00:00Z&created_at_max=2025-03-10T23:59:59Z";
    let expected = shopify_count(&client, &c, range).await;
    let r = shopify(&client, &c, &format!("orders.json?{range}&limit=100&fields=id,name,created_at")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(link(&r, "previous").is_none(), "no previous link on the first page");
    let mut next = link(&r, "next");
    let first_page: Value = r.json().await.unwrap();
    let first_ids: Vec<u64> =
        first_page["orders"].as_array().unwrap().iter().map(|o| o["id"].as_u64().unwrap()).collect();
    assert_eq!(keys(&first_page["orders"][0]), ["created_at", "id", "name"].map(String::from).into());
    let mut seen: BTreeSet<u64> = first_ids.iter().copied().collect();
    let mut second_page_previous = None;
    let mut pages = 1;
    while let Some(url) = next {
        assert!(url.contains("page_info=") && url.contains("limit=100") && url.contains("fields="), "{url}");
        let r = client.get(&url).header("X-Shopify-Access-Token", &c.shop_key).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        pages += 1;
        if pages == 2 {
            second_page_previous = link(&r, "previous");
        }
        next = link(&r, "next");
        let body: Value = r.json().await.unwrap();
        for o in body["orders"].as_array().unwrap() {
            assert!(seen.insert(o["id"].as_u64().unwrap()), "no order twice");
        }
    }
    assert!(pages > 2, "{pages}");
    assert_eq!(seen.len() as u64, expected);

    // `previous` from page two is page one again.
    let back = second_page_previous.expect("page two links back");
    let r = client.get(&back).header("X-Shopify-Access-Token", &c.shop_key).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    let back_ids: Vec<u64> = body["orders"].as_array().unwrap().iter().map(|o| o["id"].as_u64().unwrap()).collect();
    assert_eq!(back_ids, first_ids);

    // A page_info request may carry only limit and fields.
    let token = back.split("page_info=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let r = shopify(&client, &c, &format!("orders.json?page_info={token}&status=any")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["errors"]["page_info"].as_str().unwrap().contains("status"));
    let r = shopify(&client, &c, &format!("orders.json?page_info={token}&limit=5")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = shopify(&client, &c, "orders.json?page_info=not-a-cursor").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn single_orders_and_not_found() {
    let sim = sim().await;
    let client = Client::new();
    let w = first(&sim, WebshopKind::WooCommerce);
    let listed: Vec<Value> = woo(&client, &w, "orders?per_page=3").await.json().await.unwrap();
    let id = listed[1]["id"].as_u64().unwrap();
    let r = woo(&client, &w, &format!("orders/{id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), listed[1]);
    let r = woo(&client, &w, "orders/1").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "woocommerce_rest_shop_order_invalid_id");
    assert_eq!(body["message"], "Invalid ID.");

    let s = first(&sim, WebshopKind::Shopify);
    let list: Value = shopify(&client, &s, "orders.json?status=any&limit=2").await.json().await.unwrap();
    let order = &list["orders"][0];
    let r = shopify(&client, &s, &format!("orders/{}.json", order["id"])).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.json::<Value>().await.unwrap()["order"], order);
    let r = shopify(&client, &s, "orders/123.json").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({"errors": "Not Found"}));
    let name = order["name"].as_str().unwrap().trim_start_matches('#').to_string();
    let by_name: Value =
        shopify(&client, &s, &format!("orders.json?status=any&name={name}")).await.json().await.unwrap();
    assert_eq!(by_name["orders"].as_array().unwrap().len(), 1);
    assert_eq!(&by_name["orders"][0], order);
}

#[tokio::test]
async fn putting_a_sku_changes_what_orders_show() {
    let sim = sim().await;
    let client = Client::new();
    let w = first(&sim, WebshopKind::WooCommerce);
    let orders: Vec<Value> = woo(&client, &w, "orders?per_page=1").await.json().await.unwrap();
    let (order_id, product_id) =
        (orders[0]["id"].as_u64().unwrap(), orders[0]["line_items"][0]["product_id"].as_u64().unwrap());
    let r = client
        .put(format!("{}/wp-json/wc/v3/products/{product_id}", w.shop_url))
        .basic_auth(&w.shop_key, w.shop_secret.as_deref())
        .json(&serde_json::json!({"sku": "NY-SKU-42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["sku"], "NY-SKU-42");
    let order: Value = woo(&client, &w, &format!("orders/{order_id}")).await.json().await.unwrap();
    assert_eq!(order["line_items"][0]["sku"], "NY-SKU-42");
    let product: Value = woo(&client, &w, &format!("products/{product_id}")).await.json().await.unwrap();
    assert_eq!(product["sku"], "NY-SKU-42");
    let found: Vec<Value> = woo(&client, &w, "products?sku=NY-SKU-42").await.json().await.unwrap();
    assert_eq!(found.len(), 1);

    // Another product may not take the same SKU.
    let other = sim.data.shop(&w.shop_domain).unwrap().products().into_iter().find(|p| p.id != product_id).unwrap();
    let r = client
        .put(format!("{}/wp-json/wc/v3/products/{}", w.shop_url, other.id))
        .basic_auth(&w.shop_key, w.shop_secret.as_deref())
        .json(&serde_json::json!({"sku": "NY-SKU-42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "product_invalid_sku");

    let s = first(&sim, WebshopKind::Shopify);
    let list: Value = shopify(&client, &s, "orders.json?status=any&limit=1").await.json().await.unwrap();
    let order = &list["orders"][0];
    let variant = order["line_items"][0]["variant_id"].as_u64().unwrap();
    let r = client
        .put(format!("{}/admin/api/2025-10/variants/{variant}.json", s.shop_url))
        .header("X-Shopify-Access-Token", &s.shop_key)
        .json(&serde_json::json!({"variant": {"id": variant, "sku": "NY-SKU-7"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["variant"]["sku"], "NY-SKU-7");
    let again: Value = shopify(&client, &s, &format!("orders/{}.json", order["id"])).await.json().await.unwrap();
    assert_eq!(again["order"]["line_items"][0]["sku"], "NY-SKU-7");
    let r = client
        .put(format!("{}/admin/api/2025-10/variants/{variant}.json", s.shop_url))
        .header("X-Shopify-Access-Token", &s.shop_key)
        .json(&serde_json::json!({"variant": {"sku": null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = shopify(&client, &s, &format!("orders/{}.json", order["id"])).await.json().await.unwrap();
    assert!(again["order"]["line_items"][0]["sku"].is_null());
}

#[tokio::test]
async fn faults_make_shops_misbehave_until_cleared() {
    let sim = sim().await;
    let client = Client::new();
    let w = first(&sim, WebshopKind::WooCommerce);
    let s = first(&sim, WebshopKind::Shopify);

    sim.set_fault(&w.shop_domain, Fault::html_captcha());
    let r = woo(&client, &w, "orders").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("<html"));

    sim.set_fault(&w.shop_domain, Fault::status(503));
    let r = woo(&client, &w, "orders").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["status"], 503);
    sim.set_fault(&s.shop_domain, Fault::status(503));
    let r = shopify(&client, &s, "orders.json?status=any").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.json::<Value>().await.unwrap()["errors"].is_string());
    sim.set_fault(&s.shop_domain, Fault { empty_body: true, ..Fault::status(502) });
    let r = shopify(&client, &s, "orders.json?status=any").await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.bytes().await.unwrap().is_empty());

    sim.set_fault(&w.shop_domain, Fault::drop_connection());
    let result = client.get(format!("{}/wp-json/wc/v3/orders", w.shop_url)).send().await;
    let failed = match result {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a dropped connection is an error for the client");

    // A fault for the next N requests only, set over HTTP.
    let control = format!("{}/_sim/faults/{}", sim.base_url(), w.shop_domain);
    let r = client.post(&control).body(r#"{"status":429,"times":2,"latency_ms":5}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..2 {
        let r = woo(&client, &w, "orders").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(!header(&r, "retry-after").is_empty());
    }
    assert_eq!(woo(&client, &w, "orders").await.status(), StatusCode::OK);

    let r = client.post(&control).body(r#"{"html_captcha":true}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(woo(&client, &w, "orders").await.status(), StatusCode::OK);
    assert!(header(&woo(&client, &w, "orders").await, "content-type").starts_with("text/html"));
    client.post(&control).body("{}").send().await.unwrap();
    assert!(header(&woo(&client, &w, "orders").await, "content-type").starts_with("application/json"));

    let r = client.post(&control).body(r#"{"latency":80}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = client.post(format!("{}/_sim/faults/nosuchshop.dk", sim.base_url())).body("{}").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    sim.clear_fault(&s.shop_domain);
    assert_eq!(shopify(&client, &s, "orders.json?status=any").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn simulated_orders_have_the_fixtures_shape() {
    let sim = sim().await;
    let client = Client::new();

    let woo_fixture = fixture("woo_order_727_retrieve.json");
    let w = first(&sim, WebshopKind::WooCommerce);
    let orders: Vec<Value> = woo(&client, &w, "orders?per_page=100&status=any").await.json().await.unwrap();
    for o in &orders {
        assert_eq!(keys(o), keys(&woo_fixture));
        assert_eq!(keys(&o["billing"]), keys(&woo_fixture["billing"]));
        assert_eq!(keys(&o["shipping"]), keys(&woo_fixture["shipping"]));
        assert_eq!(keys(&o["line_items"][0]), keys(&woo_fixture["line_items"][0]));
        assert_eq!(keys(&o["shipping_lines"][0]), keys(&woo_fixture["shipping_lines"][0]));
        assert_eq!(keys(&o["tax_lines"][0]), keys(&woo_fixture["tax_lines"][0]));
        assert!(o["number"].is_string() && o["line_items"][0]["price"].is_number());
        assert_eq!(o["currency"], "DKK");
        assert_eq!(o["prices_include_tax"], true);
        let total = o["total"].as_str().unwrap();
        assert_eq!(total.split('.').nth(1).map(str::len), Some(2), "{total}");
        assert!(!o["date_created"].as_str().unwrap().contains('+'));
    }

    let shopify_fixture = fixture("shopify_orders_list_2025-10_shopify-app-js.json")["orders"][0].clone();
    let s = first(&sim, WebshopKind::Shopify);
    let body: Value = shopify(&client, &s, "orders.json?status=any&limit=250").await.json().await.unwrap();
    let orders = body["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 250);
    let (mut fulfilled, mut refunded) = (false, false);
    for o in orders {
        assert_eq!(keys(o), keys(&shopify_fixture));
        assert_eq!(keys(&o["line_items"][0]), keys(&shopify_fixture["line_items"][0]));
        assert_eq!(keys(&o["shipping_lines"][0]), keys(&shopify_fixture["shipping_lines"][0]));
        if !o["customer"].is_null() {
            assert_eq!(keys(&o["customer"]), keys(&shopify_fixture["customer"]));
            assert_eq!(keys(&o["customer"]["default_address"]), keys(&shopify_fixture["customer"]["default_address"]));
            assert_eq!(keys(&o["billing_address"]), keys(&shopify_fixture["billing_address"]));
            assert_eq!(keys(&o["shipping_address"]), keys(&shopify_fixture["shipping_address"]));
        }
        if let Some(f) = o["fulfillments"].get(0) {
            fulfilled = true;
            assert_eq!(keys(f), keys(&shopify_fixture["fulfillments"][0]));
        }
        if let Some(r) = o["refunds"].get(0) {
            refunded = true;
            let want = &shopify_fixture["refunds"][0];
            assert_eq!(keys(r), keys(want));
            assert_eq!(keys(&r["transactions"][0]), keys(&want["transactions"][0]));
            assert_eq!(keys(&r["refund_line_items"][0]), keys(&want["refund_line_items"][0]));
        }
        assert!(o["id"].as_u64().unwrap() > 1_000_000_000);
        assert!(o["name"].as_str().unwrap().starts_with('#'));
        assert_eq!(o["taxes_included"], true);
        assert!(DateTime::parse_from_rfc3339(o["created_at"].as_str().unwrap()).is_ok());
        assert!(o["total_price"].is_string());
    }
    assert!(fulfilled && refunded);
}

#[tokio::test]
async fn defects_show_in_both_vendors_shapes() {
    let defects = DefectRates { empty_sku: 0.5, no_phone: 0.5, no_name: 0.3, product_missing_in_accounting: 0.5 };
    let sim = sim::start(SimOptions { defects, ..opts() }, 0).await.unwrap();
    let client = Client::new();

    let w = first(&sim, WebshopKind::WooCommerce);
    let orders: Vec<Value> = woo(&client, &w, "orders?per_page=100").await.json().await.unwrap();
    assert!(orders.iter().any(|o| o["line_items"].as_array().unwrap().iter().any(|l| l["sku"] == "")));
    assert!(orders.iter().any(|o| o["billing"]["phone"] == ""));
    assert!(orders.iter().any(|o| o["billing"]["first_name"] == "" && o["billing"]["last_name"] == ""));
    assert!(orders.iter().any(|o| o["billing"]["first_name"] != ""));

    let s = first(&sim, WebshopKind::Shopify);
    let body: Value = shopify(&client, &s, "orders.json?status=any&limit=250").await.json().await.unwrap();
    let orders = body["orders"].as_array().unwrap();
    assert!(orders.iter().any(|o| o["line_items"].as_array().unwrap().iter().any(|l| l["sku"].is_null())));
    let no_phone = |o: &&Value| {
        o["phone"].is_null()
            && o["billing_address"].get("phone").is_none_or(Value::is_null)
            && o["shipping_address"].get("phone").is_none_or(Value::is_null)
            && o["customer"].get("phone").is_none_or(Value::is_null)
    };
    assert!(orders.iter().any(|o| no_phone(&o)));
    assert!(orders.iter().any(|o| o["customer"].is_null() && o["billing_address"].is_null()));

    let shop = sim.data.shop(&s.shop_domain).unwrap();
    let products = shop.products();
    assert!(products.iter().any(|p| !p.in_accounting) && products.iter().any(|p| p.in_accounting));
}

#[tokio::test]
async fn other_systems_mount_beside_the_shops() {
    use axum::routing::get;
    let sim = sim::start_with(opts(), 0, |data| {
        let shops = data.customers.len();
        vec![(
            "/economic".to_string(),
            axum::Router::new().route("/ping", get(move || async move { format!("{shops}") })),
        )]
    })
    .await
    .unwrap();
    let client = Client::new();
    let r = client.get(format!("{}/economic/ping", sim.base_url())).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "4");
    let w = first(&sim, WebshopKind::WooCommerce);
    assert_eq!(woo(&client, &w, "orders").await.status(), StatusCode::OK);
    let r = client.get(format!("{}/nowhere", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A mounted system answers the faults set for its name, in e-conomic's error shape.
    let control = format!("{}/_sim/faults/economic", sim.base_url());
    let r = client.post(&control).body(r#"{"status":503,"times":1}"#).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client.get(format!("{}/economic/ping", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["httpStatusCode"], 503);
    assert!(body["message"].is_string() && body["logId"].is_string());
    let r = client.get(format!("{}/economic/ping", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client.post(format!("{}/_sim/faults/dinero", sim.base_url())).body("{}").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    sim.shutdown().await;
}

#[tokio::test]
async fn monthly_counts_match_what_the_shop_serves() {
    let sim = sim().await;
    let client = Client::new();
    let w = first(&sim, WebshopKind::WooCommerce);
    let tz = importdesk::sim::SHOP_TZ;
    let statuses = ["processing".to_string(), "completed".to_string()];
    let months = sim.data.monthly_counts_for_domain(&w.shop_domain, tz, &statuses);
    assert!(months.len() >= 36);
    let (month, expected) = months[months.len() - 3];
    let from = month.first_day().format("%Y-%m-%dT00:00:00");
    let to = month.next().first_day().format("%Y-%m-%dT00:00:00");
    // `after` is exclusive: start a second before midnight.
    let after = (month.first_day().and_hms_opt(0, 0, 0).unwrap() - Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%S");
    let served = woo_total(&client, &w, &format!("after={after}&before={to}&status=processing,completed")).await;
    assert_eq!(served, expected, "{from}..{to}");
    let since = month.first_day() + Duration::days(10);
    let part = sim.data.count_for_domain_since(&w.shop_domain, since, month, tz, &statuses);
    assert!(part < expected && part > 0);
}
