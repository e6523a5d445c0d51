//! WooCommerce REST API v3 as a source of orders: count, page and fetch over
//! `/wp-json/wc/v3/orders`, normalised to `Order`.
//!
//! Prices: WooCommerce stores line `subtotal`/`total`, shipping and fee totals and coupon
//! `discount` **excluding tax**, whatever `prices_include_tax` says (that flag only tells how
//! the shop owner typed prices in). So product lines take `subtotal` (before coupons) and its
//! `subtotal_tax`, each coupon becomes a negative discount line with its `discount` and
//! `discount_tax`, and the lines add up to the order's `total` and `total_tax`.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::http::{self, ConnectError, System};
use super::link;
use super::reply::{self, Context, Reply, VendorError};
use super::retry::{RetryPolicy, retry_get};
use super::source::{MalformedOrder, OrderQuery, Page, Source};
use super::wire::{self, items, money, money_or_zero, text};
use crate::domain::customer::WebshopKind;
use crate::domain::order::{Buyer, LineKind, Order, OrderLine};

const SYSTEM: System = System::WooCommerce;
/// WooCommerce refuses `per_page` above 100 with a 400.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Clone)]
pub struct WooCommerce {
    client: reqwest::Client,
    orders_url: url::Url,
    host: String,
    key: SecretString,
    secret: SecretString,
    retry: RetryPolicy,
}

impl fmt::Debug for WooCommerce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WooCommerce").field("orders_url", &self.orders_url.as_str()).finish_non_exhaustive()
    }
}

impl WooCommerce {
    /// `base_url` is the shop's address (`https://butik.dk/`); a URL that already names the
    /// REST API (`…/wp-json/wc/v3/`) is accepted too.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        key: SecretString,
        secret: SecretString,
    ) -> Result<Self, ConnectError> {
        let mut base = http::check_base_url(SYSTEM, base_url)?;
        if let Some(at) = base.path().find("wp-json/") {
            let path = base.path()[..at].to_string();
            base.set_path(&path);
        }
        let orders_url = base.join("wp-json/wc/v3/orders").map_err(|e| ConnectError::BadUrl {
            system: SYSTEM,
            url: http::redact_url(base_url),
            reason: e.to_string(),
        })?;
        let host = http::host_of(&orders_url);
        Ok(WooCommerce { client, orders_url, host, key, secret, retry: RetryPolicy::default() })
    }

    /// Replaces the default GET retry policy (tests use short delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    async fn get(&self, url: &url::Url, params: &[(&str, String)], what: &str) -> Result<Reply, ConnectError> {
        let (key, secret) = (self.key.expose_secret(), self.secret.expose_secret());
        let secrets = [key, secret];
        let ctx = Context { system: SYSTEM, host: &self.host, what, vendor_error, secrets: &secrets };
        retry_get(&self.retry, || {
            // Basic auth travels in a header marked sensitive; never as query parameters.
            let request = self.client.get(url.clone()).query(params).basic_auth(key, Some(secret));
            reply::get(&ctx, request)
        })
        .await
    }

    fn malformed(&self, detail: impl Into<String>) -> ConnectError {
        ConnectError::Malformed { system: SYSTEM, host: self.host.clone(), detail: detail.into() }
    }
}

/// WooCommerce's error body: `{"code":"…","message":"…","data":{"status":401}}`.
pub fn vendor_error(body: &Value) -> VendorError {
    VendorError { code: text(body, "code"), message: text(body, "message") }
}

fn gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The filter for a query. Woo's `after`/`before` are exclusive: `after = start − 1 s`.
pub fn range_params(query: &OrderQuery) -> Vec<(&'static str, String)> {
    let statuses: Vec<&str> = query.statuses.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    let status = if statuses.is_empty() || statuses.iter().any(|s| s.eq_ignore_ascii_case("any")) {
        "any".to_string()
    } else {
        statuses.join(",")
    };
    vec![
        ("after", gmt(wire::ceil_second(query.range.start) - Duration::seconds(1))),
        ("before", gmt(wire::ceil_second(query.range.end))),
        ("dates_are_gmt", "true".into()),
        ("status", status),
    ]
}

fn header_u64(reply: &Reply, name: &str) -> Option<u64> {
    reply.headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[async_trait]
impl Source for WooCommerce {
    fn kind(&self) -> WebshopKind {
        WebshopKind::WooCommerce
    }

    fn max_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    async fn count(&self, query: &OrderQuery) -> Result<u64, ConnectError> {
        if query.range.is_empty() {
            return Ok(0);
        }
        let mut params = range_params(query);
        params.extend([("per_page", "1".to_string()), ("page", "1".to_string())]);
        let reply = self.get(&self.orders_url, &params, "the orders API (wp-json/wc/v3/orders)").await?;
        header_u64(&reply, "x-wp-total").ok_or_else(|| self.malformed("the order list has no X-WP-Total header"))
    }

    async fn page(&self, query: &OrderQuery, cursor: Option<&str>, page_size: u32) -> Result<Page, ConnectError> {
        if query.range.is_empty() {
            return Ok(Page { total: Some(0), ..Page::default() });
        }
        let page: u32 = match cursor {
            None => 1,
            Some(c) => c
                .trim()
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| self.malformed(format!("page cursor '{c}' is not a page number")))?,
        };
        let per_page = page_size.clamp(1, MAX_PAGE_SIZE);
        let mut params = range_params(query);
        params.extend([
            ("orderby", "date".to_string()),
            ("order", "asc".to_string()),
            ("per_page", per_page.to_string()),
            ("page", page.to_string()),
        ]);
        let reply = self.get(&self.orders_url, &params, "the orders API (wp-json/wc/v3/orders)").await?;
        let (orders, malformed) = normalise_list(&reply.body).map_err(|d| self.malformed(d))?;
        let next = match header_u64(&reply, "x-wp-totalpages") {
            Some(pages) => (u64::from(page) < pages).then(|| page + 1),
            None => match link::find(&reply.headers, "next") {
                Some(target) => link::query_param(&target, "page").and_then(|p| p.parse().ok()),
                // No paging headers at all: a full page may have a successor; an empty page
                // past the end is harmless.
                None => (orders.len() + malformed.len() >= per_page as usize).then(|| page + 1),
            },
        };
        Ok(Page { orders, malformed, next: next.map(|p| p.to_string()), total: header_u64(&reply, "x-wp-total") })
    }

    async fn order(&self, id_or_reference: &str) -> Result<Order, ConnectError> {
        let reference = id_or_reference.trim().trim_start_matches('#');
        if reference.is_empty() || !reference.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectError::NotFound {
                system: SYSTEM,
                host: self.host.clone(),
                what: format!("order '{id_or_reference}' (WooCommerce orders are looked up by number, e.g. 727)"),
            });
        }
        let url = self.orders_url.join(&format!("orders/{reference}")).map_err(|e| self.malformed(e.to_string()))?;
        let reply = self.get(&url, &[], &format!("order {reference}")).await?;
        normalise(&reply.body).map_err(|m| self.malformed(format!("order {reference}: {}", m.detail)))
    }
}

/// Parses one order document (`GET /orders/<id>`).
pub fn parse_order(json: &str) -> Result<Order, MalformedOrder> {
    let value: Value = serde_json::from_str(json).map_err(|e| MalformedOrder {
        id: None,
        reference: None,
        detail: format!("not JSON: {e}"),
    })?;
    normalise(&value)
}

/// Parses a list document (`GET /orders`): the orders that normalise, and those that do not.
pub fn parse_orders(json: &str) -> Result<(Vec<Order>, Vec<MalformedOrder>), String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    normalise_list(&value)
}

fn normalise_list(value: &Value) -> Result<(Vec<Order>, Vec<MalformedOrder>), String> {
    let list = value.as_array().ok_or("the order list is not a JSON array")?;
    let (mut orders, mut malformed) = (Vec::with_capacity(list.len()), Vec::new());
    for item in list {
        match normalise(item) {
            Ok(order) => orders.push(order),
            Err(m) => malformed.push(m),
        }
    }
    Ok((orders, malformed))
}

/// Normalises one WooCommerce order object.
pub fn normalise(v: &Value) -> Result<Order, MalformedOrder> {
    let id = text(v, "id");
    let reference = text(v, "number").or_else(|| id.clone());
    let fail = |detail: String| MalformedOrder { id: id.clone(), reference: reference.clone(), detail };
    if !v.is_object() {
        return Err(fail("the order is not a JSON object".into()));
    }
    let order_id = id.clone().ok_or_else(|| fail("the order has no id".into()))?;
    let created_at = created_at(v).map_err(&fail)?;
    let prices_include_tax = wire::flag(v, "prices_include_tax", false);
    let total = money(v, "total", "order").map_err(&fail)?.ok_or_else(|| fail("the order has no total".into()))?;
    let total_tax = money_or_zero(v, "total_tax", "order").map_err(&fail)?;
    let lines = lines(v).map_err(&fail)?;
    Ok(Order {
        webshop: WebshopKind::WooCommerce,
        id: order_id.clone(),
        reference: reference.clone().unwrap_or(order_id),
        created_at,
        status: text(v, "status").unwrap_or_default(),
        currency: text(v, "currency").unwrap_or_default(),
        prices_include_tax,
        total,
        total_tax,
        buyer: buyer(v),
        lines,
    })
}

fn created_at(v: &Value) -> Result<DateTime<Utc>, String> {
    // `date_created_gmt` is UTC without an offset; `date_created` is shop-local and only
    // usable when it carries an offset.
    if let Some(raw) = text(v, "date_created_gmt") {
        return wire::instant(&raw, true).ok_or_else(|| format!("date_created_gmt '{raw}' is not a date"));
    }
    text(v, "date_created")
        .and_then(|raw| wire::instant(&raw, false))
        .ok_or_else(|| "the order has no date_created_gmt".to_string())
}

fn buyer(v: &Value) -> Buyer {
    let empty = Value::Null;
    let billing = wire::get(v, "billing").unwrap_or(&empty);
    let shipping = wire::get(v, "shipping").unwrap_or(&empty);
    let name = wire::join_non_blank(&[text(billing, "first_name"), text(billing, "last_name")], " ")
        .or_else(|| wire::join_non_blank(&[text(shipping, "first_name"), text(shipping, "last_name")], " "));
    Buyer {
        name,
        company: text(billing, "company").or_else(|| text(shipping, "company")),
        email: text(billing, "email"),
        phone: text(billing, "phone").or_else(|| text(shipping, "phone")),
        address: wire::join_non_blank(&[text(billing, "address_1"), text(billing, "address_2")], ", "),
        postcode: text(billing, "postcode"),
        city: text(billing, "city"),
        country: text(billing, "country"),
    }
}

fn lines(v: &Value) -> Result<Vec<OrderLine>, String> {
    let mut lines = Vec::new();
    for (i, item) in items(v, "line_items").iter().enumerate() {
        let path = format!("line_items[{i}]");
        let quantity = money(item, "quantity", &path)?.ok_or_else(|| format!("{path} has no quantity"))?;
        // `subtotal` is before coupons; the coupons follow as their own lines.
        let (total, total_tax) = match money(item, "subtotal", &path)? {
            Some(subtotal) => (subtotal, money_or_zero(item, "subtotal_tax", &path)?),
            None => match money(item, "total", &path)? {
                Some(total) => (total, money_or_zero(item, "total_tax", &path)?),
                None => {
                    let price = money(item, "price", &path)?.ok_or_else(|| format!("{path} has no price"))?;
                    (price * quantity, Decimal::ZERO)
                }
            },
        };
        let description = text(item, "name")
            .map(|n| wire::decode_entities(&n))
            .or_else(|| text(item, "product_id").map(|p| format!("Product {p}")))
            .unwrap_or_else(|| "Product".into());
        lines.push(OrderLine {
            kind: LineKind::Product,
            sku: text(item, "sku"),
            description,
            quantity,
            unit_price: wire::unit_price(total, quantity),
            total,
            total_tax,
        });
    }
    for (i, item) in items(v, "shipping_lines").iter().enumerate() {
        let path = format!("shipping_lines[{i}]");
        let name = text(item, "method_title").map(|t| wire::decode_entities(&t)).unwrap_or_else(|| "Shipping".into());
        lines.push(single(LineKind::Shipping, name, money_or_zero(item, "total", &path)?, item, &path)?);
    }
    for (i, item) in items(v, "fee_lines").iter().enumerate() {
        let path = format!("fee_lines[{i}]");
        let name = text(item, "name").map(|t| wire::decode_entities(&t)).unwrap_or_else(|| "Fee".into());
        lines.push(single(LineKind::Fee, name, money_or_zero(item, "total", &path)?, item, &path)?);
    }
    for (i, item) in items(v, "coupon_lines").iter().enumerate() {
        let path = format!("coupon_lines[{i}]");
        let discount = money_or_zero(item, "discount", &path)?;
        let tax = money_or_zero(item, "discount_tax", &path)?;
        let name = text(item, "code").map(|c| format!("Coupon {c}")).unwrap_or_else(|| "Coupon".into());
        lines.push(OrderLine {
            kind: LineKind::Discount,
            sku: None,
            description: name,
            quantity: Decimal::ONE,
            unit_price: -discount,
            total: -discount,
            total_tax: -tax,
        });
    }
    Ok(lines)
}

/// A one-off line (shipping, fee): quantity 1 at its net total.
fn single(kind: LineKind, description: String, total: Decimal, item: &Value, path: &str) -> Result<OrderLine, String> {
    Ok(OrderLine {
        kind,
        sku: None,
        description,
        quantity: Decimal::ONE,
        unit_price: total,
        total,
        total_tax: money_or_zero(item, "total_tax", path)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::UtcRange;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn query(start: DateTime<Utc>, end: DateTime<Utc>, statuses: &[&str]) -> OrderQuery {
        OrderQuery { range: UtcRange { start, end }, statuses: statuses.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn range_is_sent_as_exclusive_gmt_bounds() {
        let start = Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2024, 2, 29, 23, 0, 0).unwrap();
        let params = range_params(&query(start, end, &["processing", "completed"]));
        assert_eq!(
            params,
            vec![
                ("after", "2024-01-31T22:59:59".to_string()),
                ("before", "2024-02-29T23:00:00".to_string()),
                ("dates_are_gmt", "true".to_string()),
                ("status", "processing,completed".to_string()),
            ]
        );
        assert_eq!(range_params(&query(start, end, &[]))[3].1, "any");
        assert_eq!(range_params(&query(start, end, &["completed", "any"]))[3].1, "any");
    }

    #[test]
    fn sub_second_bounds_round_up() {
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap() + Duration::milliseconds(500);
        let params = range_params(&query(start, start + Duration::seconds(10), &[]));
        assert_eq!(params[0].1, "2024-01-01T10:00:00");
        assert_eq!(params[1].1, "2024-01-01T10:00:11");
    }

    #[test]
    fn coupons_and_fees_become_lines_that_add_up() {
        let order = json!({
            "id": 9, "number": "9", "status": "completed", "currency": "DKK",
            "date_created_gmt": "2024-05-01T10:00:00", "prices_include_tax": true,
            "total": "115.00", "total_tax": "23.00",
            "billing": {"first_name": "", "last_name": "", "company": "Firma ApS", "email": "", "phone": null},
            "line_items": [{"name": "Kaffe &amp; te", "quantity": 2, "sku": "KT-1", "price": 40,
                            "subtotal": "80.00", "subtotal_tax": "20.00", "total": "72.00", "total_tax": "18.00"}],
            "shipping_lines": [{"method_title": "GLS", "total": "20.00", "total_tax": "5.00"}],
            "fee_lines": [{"name": "Gebyr", "total": "0.00", "total_tax": "0.00"}],
            "coupon_lines": [{"code": "SOMMER", "discount": "8.00", "discount_tax": "2.00"}]
        });
        let o = normalise(&order).unwrap();
        assert_eq!(o.buyer.name, None);
        assert_eq!(o.buyer.email, None);
        assert_eq!(o.buyer.company.as_deref(), Some("Firma ApS"));
        let kinds: Vec<LineKind> = o.lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [LineKind::Product, LineKind::Shipping, LineKind::Fee, LineKind::Discount]);
        assert_eq!(o.lines[0].description, "Kaffe & te");
        assert_eq!(o.lines[0].unit_price, dec!(40));
        assert_eq!(o.lines[3].total, dec!(-8.00));
        let net: Decimal = o.lines.iter().map(|l| l.total).sum();
        let tax: Decimal = o.lines.iter().map(|l| l.total_tax).sum();
        assert_eq!(tax, o.total_tax);
        assert_eq!(net + tax, o.total);
    }

    #[test]
    fn broken_orders_are_malformed_with_a_reason() {
        let m = normalise(&json!({"id": 5, "number": "5", "total": "1.00"})).unwrap_err();
        assert_eq!(m.id.as_deref(), Some("5"));
        assert!(m.detail.contains("date_created_gmt"), "{}", m.detail);
        let m = normalise(&json!({"id": 5, "date_created_gmt": "2024-01-01T00:00:00", "total": "x"})).unwrap_err();
        assert!(m.detail.contains("order.total is 'x'"), "{}", m.detail);
        let m = normalise(&json!({"id": 5, "date_created_gmt": "2024-01-01T00:00:00", "total": "1",
            "line_items": [{"name": "a", "quantity": 1, "subtotal": {"x": 1}}]}))
        .unwrap_err();
        assert!(m.detail.contains("line_items[0].subtotal"), "{}", m.detail);
        assert!(normalise(&json!("text")).is_err());
        assert!(normalise(&json!({"number": "5"})).is_err());
        let (ok, bad) = parse_orders(r#"[{"id": 1}, 3, null]"#).unwrap();
        assert!(ok.is_empty());
        assert_eq!(bad.len(), 3);
        assert!(parse_orders(r#"{"orders": []}"#).is_err());
    }

    #[test]
    fn debug_hides_the_credentials() {
        let woo = WooCommerce::new(
            reqwest::Client::new(),
            "https://butik.dk/wp-json/wc/v3/",
            SecretString::from("ck_visible_key"),
            SecretString::from("cs_visible_secret"),
        )
        .unwrap();
        let shown = format!("{woo:?}");
        assert!(!shown.contains("ck_visible") && !shown.contains("cs_visible"), "{shown}");
        assert_eq!(woo.orders_url.as_str(), "https://butik.dk/wp-json/wc/v3/orders");
    }
}
