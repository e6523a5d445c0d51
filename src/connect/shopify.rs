//! Shopify Admin REST API (2025-10) as a source of orders: count, cursor pages and single
//! orders, paced below the shop's leaky bucket, normalised to `Order`.
//!
//! Prices: `price` on lines and shipping is in the shop's basis — gross when
//! `taxes_included`, net otherwise — and `tax_lines` hold the tax actually charged (after
//! discounts). A line's discount (`discount_allocations`) is split off into a discount line,
//! and the tax is shared between the two in proportion to their amounts:
//! with `L` the listed amount, `D` the allocated discount and `t` the tax on `L − D`,
//! the product carries `tax_p = round(L · t / (L − D))` and the discount `t − tax_p`; net
//! amounts are `L − tax_p` and `−D − tax_d` when taxes are included, `L` and `−D` when not.
//! Discount lines are summed per discount application. Lines without `tax_lines` (old
//! documents) take their tax from the order's tax rates when prices include tax, else none.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::header::HeaderValue;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::bucket::{self, LeakyBucket};
use super::http::{self, ConnectError, System};
use super::link;
use super::reply::{self, Context, Reply, VendorError};
use super::retry::{Failure, RetryPolicy, retry_get};
use super::source::{MalformedOrder, OrderQuery, Page, Source};
use super::wire::{self, get, items, money, money_or_zero, text};
use crate::domain::customer::WebshopKind;
use crate::domain::order::{Buyer, LineKind, Order, OrderLine};

const SYSTEM: System = System::Shopify;
pub const API_VERSION: &str = "2025-10";
/// Shopify serves at most 250 orders a page.
pub const MAX_PAGE_SIZE: u32 = 250;
const CALL_LIMIT_HEADER: &str = "x-shopify-shop-api-call-limit";
const TOKEN_HEADER: &str = "x-shopify-access-token";
/// Shop ids are large (450789469); order numbers start at 1001. A bare number this long is
/// taken as an id, a shorter one as an order number.
const MIN_ID_DIGITS: usize = 8;

#[derive(Clone)]
pub struct Shopify {
    client: reqwest::Client,
    /// `…/admin/api/2025-10/`
    api: url::Url,
    host: String,
    token: SecretString,
    token_header: HeaderValue,
    /// Shared by every client of this shop in the process (see `bucket::for_shop`).
    bucket: Arc<LeakyBucket>,
    retry: RetryPolicy,
}

impl fmt::Debug for Shopify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shopify").field("api", &self.api.as_str()).finish_non_exhaustive()
    }
}

impl Shopify {
    /// `base_url` is the shop (`https://butik.myshopify.com/`); a URL that already names the
    /// Admin API (`…/admin/api/…`) is accepted too. `token` is the Admin API access token.
    pub fn new(client: reqwest::Client, base_url: &str, token: SecretString) -> Result<Self, ConnectError> {
        let mut base = http::check_base_url(SYSTEM, base_url)?;
        if let Some(at) = base.path().find("admin/") {
            let path = base.path()[..at].to_string();
            base.set_path(&path);
        }
        let bad = |reason: String| ConnectError::BadUrl { system: SYSTEM, url: http::redact_url(base_url), reason };
        let api = base.join(&format!("admin/api/{API_VERSION}/")).map_err(|e| bad(e.to_string()))?;
        let mut token_header = HeaderValue::from_str(token.expose_secret().trim())
            .map_err(|_| bad("the access token has characters an HTTP header cannot carry; paste it again".into()))?;
        token_header.set_sensitive(true);
        let host = http::host_of(&api);
        let bucket = bucket::for_shop(api.as_str());
        Ok(Shopify { client, api, host, token, token_header, bucket, retry: RetryPolicy::default() })
    }

    /// Replaces the default GET retry policy (tests use short delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn endpoint(&self, path: &str) -> Result<url::Url, ConnectError> {
        self.api.join(path).map_err(|e| self.malformed(format!("cannot form the URL for {path}: {e}")))
    }

    fn malformed(&self, detail: impl Into<String>) -> ConnectError {
        ConnectError::Malformed { system: SYSTEM, host: self.host.clone(), detail: detail.into() }
    }

    async fn get(&self, url: &url::Url, params: &[(&str, String)], what: &str) -> Result<Reply, ConnectError> {
        let secrets = [self.token.expose_secret()];
        let ctx = Context { system: SYSTEM, host: &self.host, what, vendor_error, secrets: &secrets };
        retry_get(&self.retry, || async {
            self.bucket.acquire().await;
            let request = self.client.get(url.clone()).query(params).header(TOKEN_HEADER, self.token_header.clone());
            let response = request.send().await.map_err(|e| http::transport_error(SYSTEM, &self.host, &e))?;
            let call_limit = response.headers().get(CALL_LIMIT_HEADER).and_then(|v| v.to_str().ok());
            if let Some((used, capacity)) = call_limit.and_then(bucket::parse_call_limit) {
                self.bucket.observe(used, capacity, tokio::time::Instant::now());
            }
            let result = reply::read(&ctx, response).await;
            if let Err(Failure { error: ConnectError::RateLimited { .. }, retry_after: Some(wait) }) = &result {
                self.bucket.pause(*wait, tokio::time::Instant::now());
            }
            result
        })
        .await
    }
}

/// Shopify's error body: `{"errors":"…"}`, `{"errors":{"field":["…"]}}` or `{"error":"…"}`.
pub fn vendor_error(body: &Value) -> VendorError {
    fn flatten(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Array(list) => wire::join_non_blank(&list.iter().map(flatten).collect::<Vec<_>>(), "; "),
            Value::Object(map) => wire::join_non_blank(
                &map.iter().map(|(k, v)| flatten(v).map(|m| format!("{k}: {m}"))).collect::<Vec<_>>(),
                "; ",
            ),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
    let message = get(body, "errors").or_else(|| get(body, "error")).and_then(flatten);
    VendorError { code: None, message }
}

/// Shopify's `status`: `any`, unless the settings name exactly one of Shopify's own.
pub fn status_param(statuses: &[String]) -> String {
    let own: Vec<String> = statuses
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| matches!(s.as_str(), "open" | "closed" | "cancelled"))
        .collect();
    let any = statuses.iter().any(|s| s.trim().eq_ignore_ascii_case("any"));
    match own.as_slice() {
        [one] if !any => one.clone(),
        // Several of them cannot be asked for in one request; `any` over-counts rather than
        // silently missing orders, and the engine skips the statuses the settings exclude.
        _ => "any".into(),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The filter for a query: `created_at_max` is inclusive, so it is the last second before
/// the range's end.
pub fn range_params(query: &OrderQuery) -> Vec<(&'static str, String)> {
    vec![
        ("status", status_param(&query.statuses)),
        ("created_at_min", stamp(wire::ceil_second(query.range.start))),
        ("created_at_max", stamp(wire::ceil_second(query.range.end) - Duration::seconds(1))),
    ]
}

#[async_trait]
impl Source for Shopify {
    fn kind(&self) -> WebshopKind {
        WebshopKind::Shopify
    }

    fn max_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    async fn count(&self, query: &OrderQuery) -> Result<u64, ConnectError> {
        if query.range.is_empty() {
            return Ok(0);
        }
        let url = self.endpoint("orders/count.json")?;
        let reply = self.get(&url, &range_params(query), "the order count API (orders/count.json)").await?;
        parse_count_value(&reply.body).map_err(|d| self.malformed(d))
    }

    async fn page(&self, query: &OrderQuery, cursor: Option<&str>, page_size: u32) -> Result<Page, ConnectError> {
        if query.range.is_empty() {
            return Ok(Page::default());
        }
        let limit = page_size.clamp(1, MAX_PAGE_SIZE).to_string();
        let params = match cursor {
            // A page_info request may carry nothing but `limit` (and `fields`): the filter
            // and the order live in the cursor.
            Some(page_info) => vec![("limit", limit), ("page_info", page_info.to_string())],
            None => {
                let mut p = range_params(query);
                p.extend([("limit", limit), ("order", "created_at asc".to_string())]);
                p
            }
        };
        let url = self.endpoint("orders.json")?;
        let reply = self.get(&url, &params, "the orders API (orders.json)").await?;
        let (orders, malformed) = normalise_list(&reply.body).map_err(|d| self.malformed(d))?;
        let next = link::find(&reply.headers, "next").and_then(|target| link::query_param(&target, "page_info"));
        Ok(Page { orders, malformed, next, total: None })
    }

    async fn order(&self, id_or_reference: &str) -> Result<Order, ConnectError> {
        let reference = id_or_reference.trim();
        let digits = !reference.is_empty() && reference.bytes().all(|b| b.is_ascii_digit());
        if digits && reference.len() >= MIN_ID_DIGITS {
            let url = self.endpoint(&format!("orders/{reference}.json"))?;
            let reply = self.get(&url, &[], &format!("order {reference}")).await?;
            let order = get(&reply.body, "order").ok_or_else(|| self.malformed("the reply has no \"order\""))?;
            return normalise(order).map_err(|m| self.malformed(format!("order {reference}: {}", m.detail)));
        }
        let name = if digits { format!("#{reference}") } else { reference.to_string() };
        let not_found =
            || ConnectError::NotFound { system: SYSTEM, host: self.host.clone(), what: format!("order {name}") };
        if name.is_empty() {
            return Err(not_found());
        }
        let url = self.endpoint("orders.json")?;
        let params = [("name", name.clone()), ("status", "any".to_string())];
        let reply = self.get(&url, &params, &format!("order {name}")).await?;
        let list =
            get(&reply.body, "orders").and_then(Value::as_array).ok_or_else(|| self.malformed("no \"orders\""))?;
        // The name filter may match loosely; take the exact name when it is there.
        let found = list
            .iter()
            .find(|o| text(o, "name").is_some_and(|n| n.eq_ignore_ascii_case(&name)))
            .or_else(|| list.first())
            .ok_or_else(not_found)?;
        normalise(found).map_err(|m| self.malformed(format!("order {name}: {}", m.detail)))
    }
}

/// Parses `{"order": {…}}` (`GET orders/{id}.json`).
pub fn parse_order(json: &str) -> Result<Order, MalformedOrder> {
    let malformed = |detail: String| MalformedOrder { id: None, reference: None, detail };
    let value: Value = serde_json::from_str(json).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let order = get(&value, "order").ok_or_else(|| malformed("the document has no \"order\"".into()))?;
    normalise(order)
}

/// Parses `{"orders": […]}`: the orders that normalise, and those that do not.
pub fn parse_orders(json: &str) -> Result<(Vec<Order>, Vec<MalformedOrder>), String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    normalise_list(&value)
}

/// Parses `{"count": N}` (`GET orders/count.json`).
pub fn parse_count(json: &str) -> Result<u64, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    parse_count_value(&value)
}

fn parse_count_value(value: &Value) -> Result<u64, String> {
    get(value, "count").and_then(Value::as_u64).ok_or_else(|| "the count reply has no \"count\" number".into())
}

fn normalise_list(value: &Value) -> Result<(Vec<Order>, Vec<MalformedOrder>), String> {
    let list = get(value, "orders").and_then(Value::as_array).ok_or("the reply has no \"orders\" list")?;
    let (mut orders, mut malformed) = (Vec::with_capacity(list.len()), Vec::new());
    for item in list {
        match normalise(item) {
            Ok(order) => orders.push(order),
            Err(m) => malformed.push(m),
        }
    }
    Ok((orders, malformed))
}

/// Normalises one Shopify order object.
pub fn normalise(v: &Value) -> Result<Order, MalformedOrder> {
    let id = text(v, "id");
    let reference = text(v, "name").or_else(|| text(v, "order_number").map(|n| format!("#{n}")));
    let fail = |detail: String| MalformedOrder { id: id.clone(), reference: reference.clone(), detail };
    if !v.is_object() {
        return Err(fail("the order is not a JSON object".into()));
    }
    let order_id = id.clone().ok_or_else(|| fail("the order has no id".into()))?;
    let raw_created = text(v, "created_at").ok_or_else(|| fail("the order has no created_at".into()))?;
    let created_at =
        wire::instant(&raw_created, false).ok_or_else(|| fail(format!("created_at '{raw_created}' is not a date")))?;
    let taxes_included = wire::flag(v, "taxes_included", false);
    let total =
        money(v, "total_price", "order").map_err(&fail)?.ok_or_else(|| fail("the order has no total_price".into()))?;
    let total_tax = money_or_zero(v, "total_tax", "order").map_err(&fail)?;
    let status = if get(v, "cancelled_at").is_some() {
        "cancelled"
    } else if get(v, "closed_at").is_some() {
        "closed"
    } else {
        "open"
    };
    Ok(Order {
        webshop: WebshopKind::Shopify,
        id: order_id.clone(),
        reference: reference.clone().unwrap_or(order_id),
        created_at,
        status: status.into(),
        currency: text(v, "currency").unwrap_or_default(),
        prices_include_tax: taxes_included,
        total,
        total_tax,
        buyer: buyer(v),
        lines: lines(v, taxes_included).map_err(&fail)?,
    })
}

fn buyer(v: &Value) -> Buyer {
    let empty = Value::Null;
    let billing = get(v, "billing_address").unwrap_or(&empty);
    let shipping = get(v, "shipping_address").unwrap_or(&empty);
    let customer = get(v, "customer").unwrap_or(&empty);
    let full_name = |a: &Value| {
        text(a, "name").or_else(|| wire::join_non_blank(&[text(a, "first_name"), text(a, "last_name")], " "))
    };
    // The address comes from the billing address, else shipping, else the customer's default.
    let address = [billing, shipping, get(customer, "default_address").unwrap_or(&empty)]
        .into_iter()
        .find(|a| text(a, "address1").is_some() || text(a, "city").is_some())
        .unwrap_or(&empty);
    Buyer {
        name: full_name(billing).or_else(|| full_name(customer)),
        company: text(billing, "company").or_else(|| text(shipping, "company")),
        email: text(v, "email").or_else(|| text(v, "contact_email")).or_else(|| text(customer, "email")),
        phone: text(v, "phone")
            .or_else(|| text(billing, "phone"))
            .or_else(|| text(shipping, "phone"))
            .or_else(|| text(customer, "phone")),
        address: wire::join_non_blank(&[text(address, "address1"), text(address, "address2")], ", "),
        postcode: text(address, "zip"),
        city: text(address, "city"),
        country: text(address, "country_code").or_else(|| text(address, "country")),
    }
}

/// A discount line being summed across the lines its application was allocated to.
struct DiscountSum {
    index: Option<u64>,
    net: Decimal,
    tax: Decimal,
}

/// The tax basis of one line: the rate sum of its tax lines (or the order's), and the tax
/// actually charged.
fn tax_of(item: &Value, path: &str, order_rate: Option<Decimal>) -> Result<(Option<Decimal>, Option<Decimal>), String> {
    let tax_lines = items(item, "tax_lines");
    if tax_lines.is_empty() {
        return Ok((order_rate, None));
    }
    let (mut rate, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    for (i, t) in tax_lines.iter().enumerate() {
        let p = format!("{path}.tax_lines[{i}]");
        rate += money_or_zero(t, "rate", &p)?;
        tax += money_or_zero(t, "price", &p)?;
    }
    Ok((Some(rate), Some(tax)))
}

/// Splits a listed amount `listed` with allocated discount `discount` and charged tax into
/// the product's (net, tax) and the discount's (net, tax); see the module comment.
fn split(
    listed: Decimal,
    discount: Decimal,
    rate: Option<Decimal>,
    tax: Option<Decimal>,
    taxes_included: bool,
) -> ((Decimal, Decimal), (Decimal, Decimal)) {
    let rate_share = |r: Decimal| if taxes_included { r / (Decimal::ONE + r) } else { r };
    let base = listed - discount;
    let tax = match tax {
        Some(t) => t,
        // No tax lines: only a gross price needs its tax taken out.
        None if taxes_included => rate.map(|r| wire::cents(base * rate_share(r))).unwrap_or_default(),
        None => Decimal::ZERO,
    };
    let tax_product = if discount.is_zero() {
        tax
    } else if !base.is_zero() {
        wire::cents(listed * tax / base)
    } else {
        rate.map(|r| wire::cents(listed * rate_share(r))).unwrap_or_default()
    };
    let tax_discount = tax - tax_product;
    if taxes_included {
        ((listed - tax_product, tax_product), (-discount - tax_discount, tax_discount))
    } else {
        ((listed, tax_product), (-discount, tax_discount))
    }
}

fn lines(v: &Value, taxes_included: bool) -> Result<Vec<OrderLine>, String> {
    let order_rate = {
        let (rate, _) = tax_of(v, "order", None)?;
        rate.filter(|r| !r.is_zero())
    };
    let mut lines = Vec::new();
    let mut discounts: Vec<DiscountSum> = Vec::new();
    let mut add_discounts = |item: &Value, path: &str, net: Decimal, tax: Decimal, total: Decimal| {
        // One line's discount may come from several applications: share it by amount.
        let allocations = items(item, "discount_allocations");
        let (mut net_left, mut tax_left) = (net, tax);
        for (i, a) in allocations.iter().enumerate() {
            let amount = money_or_zero(a, "amount", &format!("{path}.discount_allocations[{i}]"))?;
            let (n, t) = if i + 1 == allocations.len() || total.is_zero() {
                (net_left, tax_left)
            } else {
                (wire::cents(net * amount / total), wire::cents(tax * amount / total))
            };
            net_left -= n;
            tax_left -= t;
            let index = get(a, "discount_application_index").and_then(Value::as_u64);
            match discounts.iter_mut().find(|d| d.index == index) {
                Some(d) => {
                    d.net += n;
                    d.tax += t;
                }
                None => discounts.push(DiscountSum { index, net: n, tax: t }),
            }
        }
        Ok::<(), String>(())
    };
    for (i, item) in items(v, "line_items").iter().enumerate() {
        let path = format!("line_items[{i}]");
        let quantity = money(item, "quantity", &path)?.ok_or_else(|| format!("{path} has no quantity"))?;
        let price = money(item, "price", &path)?.ok_or_else(|| format!("{path} has no price"))?;
        let listed = price * quantity;
        let discount = allocated(item, &path)?;
        let (rate, tax) = tax_of(item, &path, order_rate)?;
        let ((net, net_tax), (d_net, d_tax)) = split(listed, discount, rate, tax, taxes_included);
        add_discounts(item, &path, d_net, d_tax, discount)?;
        let description = text(item, "name").or_else(|| text(item, "title")).unwrap_or_else(|| "Product".into());
        lines.push(OrderLine {
            kind: LineKind::Product,
            sku: text(item, "sku"),
            description,
            quantity,
            unit_price: wire::unit_price(net, quantity),
            total: net,
            total_tax: net_tax,
        });
    }
    for (i, item) in items(v, "shipping_lines").iter().enumerate() {
        let path = format!("shipping_lines[{i}]");
        let listed = money_or_zero(item, "price", &path)?;
        let discount = allocated(item, &path)?;
        let (rate, tax) = tax_of(item, &path, order_rate)?;
        let ((net, net_tax), (d_net, d_tax)) = split(listed, discount, rate, tax, taxes_included);
        add_discounts(item, &path, d_net, d_tax, discount)?;
        let description = text(item, "title").or_else(|| text(item, "code")).unwrap_or_else(|| "Shipping".into());
        lines.push(OrderLine {
            kind: LineKind::Shipping,
            sku: None,
            description,
            quantity: Decimal::ONE,
            unit_price: net,
            total: net,
            total_tax: net_tax,
        });
    }
    let applications = items(v, "discount_applications");
    for d in discounts.into_iter().filter(|d| !(d.net.is_zero() && d.tax.is_zero())) {
        let application = d.index.and_then(|i| applications.get(usize::try_from(i).ok()?));
        let name = application
            .and_then(|a| text(a, "code").or_else(|| text(a, "title")).or_else(|| text(a, "description")))
            .unwrap_or_else(|| "Discount".into());
        lines.push(discount_line(format!("Discount {name}"), d.net, d.tax));
    }
    if !lines.iter().any(|l| l.kind == LineKind::Discount) {
        lines.extend(unallocated_discounts(v, taxes_included, order_rate)?);
    }
    Ok(lines)
}

/// Old documents have `discount_codes` but no allocations; they count only when the order
/// says a discount was given (`total_discounts`), as some list a code that was not applied.
fn unallocated_discounts(v: &Value, taxes_included: bool, rate: Option<Decimal>) -> Result<Vec<OrderLine>, String> {
    if money_or_zero(v, "total_discounts", "order")?.is_zero() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (i, code) in items(v, "discount_codes").iter().enumerate() {
        let amount = money_or_zero(code, "amount", &format!("discount_codes[{i}]"))?;
        let tax = match rate {
            Some(r) if taxes_included => wire::cents(amount * r / (Decimal::ONE + r)),
            _ => Decimal::ZERO,
        };
        let name = text(code, "code").unwrap_or_else(|| "code".into());
        out.push(discount_line(format!("Discount {name}"), -(amount - tax), -tax));
    }
    Ok(out)
}

fn allocated(item: &Value, path: &str) -> Result<Decimal, String> {
    let mut sum = Decimal::ZERO;
    for (i, a) in items(item, "discount_allocations").iter().enumerate() {
        sum += money_or_zero(a, "amount", &format!("{path}.discount_allocations[{i}]"))?;
    }
    Ok(sum)
}

fn discount_line(description: String, net: Decimal, tax: Decimal) -> OrderLine {
    OrderLine {
        kind: LineKind::Discount,
        sku: None,
        description,
        quantity: Decimal::ONE,
        unit_price: net,
        total: net,
        total_tax: tax,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::UtcRange;
    use chrono::TimeZone;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn statuses() {
        let s = |v: &[&str]| status_param(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]), "any");
        assert_eq!(s(&["any"]), "any");
        assert_eq!(s(&["processing", "completed"]), "any");
        assert_eq!(s(&["Closed"]), "closed");
        assert_eq!(s(&["open", "closed"]), "any");
    }

    #[test]
    fn range_is_inclusive_on_both_ends() {
        let start = Utc.with_ymd_and_hms(2025, 2, 28, 23, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2025, 3, 31, 22, 0, 0).unwrap();
        let q = OrderQuery { range: UtcRange { start, end }, statuses: vec!["any".into()] };
        assert_eq!(
            range_params(&q),
            vec![
                ("status", "any".to_string()),
                ("created_at_min", "2025-02-28T23:00:00Z".to_string()),
                ("created_at_max", "2025-03-31T21:59:59Z".to_string()),
            ]
        );
    }

    #[test]
    fn gross_prices_with_a_discount_split_into_net_lines() {
        // 25 % VAT included: 2 × 125.00 gross, 25.00 off; tax on 225.00 is 45.00.
        let order = json!({
            "id": 1, "name": "#1001", "created_at": "2025-04-02T11:31:26+02:00", "taxes_included": true,
            "total_price": "225.00", "total_tax": "45.00", "currency": "DKK", "cancelled_at": null,
            "customer": {"first_name": "Ida", "last_name": "Holm", "phone": "+4512345678"},
            "discount_applications": [{"type": "discount_code", "code": "VINTER"}],
            "line_items": [{"name": "Mug", "sku": "MUG", "quantity": 2, "price": "125.00",
                "tax_lines": [{"price": "45.00", "rate": 0.25}],
                "discount_allocations": [{"amount": "25.00", "discount_application_index": 0}]}],
            "shipping_lines": [{"title": "Pickup", "price": "0.00", "tax_lines": []}]
        });
        let o = normalise(&order).unwrap();
        assert_eq!(o.buyer.name.as_deref(), Some("Ida Holm"));
        assert_eq!(o.buyer.phone.as_deref(), Some("+4512345678"));
        assert_eq!(o.status, "open");
        let product = &o.lines[0];
        assert_eq!((product.total, product.total_tax, product.unit_price), (dec!(200.00), dec!(50.00), dec!(100.00)));
        let discount = o.lines.iter().find(|l| l.kind == LineKind::Discount).unwrap();
        assert_eq!(discount.description, "Discount VINTER");
        assert_eq!((discount.total, discount.total_tax), (dec!(-20.00), dec!(-5.00)));
        let sum: Decimal = o.lines.iter().map(|l| l.total + l.total_tax).sum();
        assert_eq!(sum, o.total);
    }

    #[test]
    fn old_documents_without_line_taxes() {
        let order = json!({
            "id": 2, "order_number": 1002, "created_at": "2025-04-02T11:31:26Z", "taxes_included": true,
            "total_price": "100.00", "total_tax": "20.00", "total_discounts": "0.00",
            "tax_lines": [{"price": "20.00", "rate": 0.25}], "discount_codes": [{"code": "X", "amount": "5.00"}],
            "closed_at": "2025-04-03T00:00:00Z",
            "line_items": [{"title": "Book", "quantity": 1, "price": "100.00", "sku": ""}]
        });
        let o = normalise(&order).unwrap();
        assert_eq!(o.reference, "#1002");
        assert_eq!(o.status, "closed");
        assert_eq!((o.lines[0].total, o.lines[0].total_tax), (dec!(80.00), dec!(20.00)));
        assert_eq!(o.lines[0].sku, None);
        assert_eq!(o.lines.len(), 1, "an unapplied code is not a discount");
    }

    #[test]
    fn broken_orders_are_malformed_with_a_reason() {
        let m = normalise(&json!({"id": 3, "name": "#3", "created_at": "soon", "total_price": "1"})).unwrap_err();
        assert_eq!(m.reference.as_deref(), Some("#3"));
        assert!(m.detail.contains("created_at 'soon'"), "{}", m.detail);
        let m = normalise(&json!({"id": 3, "created_at": "2025-01-01T00:00:00Z", "total_price": "1",
            "line_items": [{"quantity": 1, "price": true}]}))
        .unwrap_err();
        assert!(m.detail.contains("line_items[0].price"), "{}", m.detail);
        assert!(parse_count(r#"{"count": "many"}"#).is_err());
        assert!(parse_orders(r#"[]"#).is_err());
    }

    #[test]
    fn vendor_errors() {
        let e = vendor_error(
            &json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        );
        assert!(e.message.unwrap().contains("Invalid API key"));
        let e = vendor_error(&json!({"errors": {"created_at_min": ["is invalid"]}}));
        assert_eq!(e.message.as_deref(), Some("created_at_min: is invalid"));
        assert_eq!(vendor_error(&json!({"other": 1})).message, None);
    }

    #[test]
    fn debug_hides_the_token_and_clients_share_a_bucket() {
        let token = SecretString::from("shpat_visible_token");
        let a = Shopify::new(reqwest::Client::new(), "https://butik.myshopify.com", token.clone()).unwrap();
        let b = Shopify::new(reqwest::Client::new(), "https://butik.myshopify.com/admin/api/2024-01/", token).unwrap();
        let shown = format!("{a:?}");
        assert!(!shown.contains("shpat_visible"), "{shown}");
        assert_eq!(a.api.as_str(), "https://butik.myshopify.com/admin/api/2025-10/");
        assert!(Arc::ptr_eq(&a.bucket, &b.bucket));
        assert!(Arc::ptr_eq(&a.bucket, &a.clone().bucket));
    }
}
