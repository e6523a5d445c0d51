//! A simulated Shopify Admin REST API: `orders.json` (filters, `status` defaulting to `open`,
//! cursor pagination through `Link` and `page_info`), `orders/count.json`, `orders/{id}.json`,
//! `variants/{id}.json` (read, set the SKU), the access-token header, and the leaky bucket
//! with `X-Shopify-Shop-Api-Call-Limit` and 429 + `Retry-After`.
//!
//! `created_at_min`/`created_at_max` are inclusive; a value without offset is shop-local time.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::SimState;
use super::data::{SHOP_TZ, SimShop, ceil_seconds};
use super::faults::{self, Vendor};
use super::query::{Params, base64_decode, base64url_encode, parse_instant};
use super::shopify_json::{only_fields, order_json, variant_json};
use super::status::StatusMask;
use crate::domain::customer::WebshopKind;

pub const MAX_LIMIT: i64 = 250;
const DEFAULT_LIMIT: i64 = 50;
const CALL_LIMIT: &str = "X-Shopify-Shop-Api-Call-Limit";

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        .route("/{domain}/admin/api/{version}/orders.json", get(list_orders))
        .route("/{domain}/admin/api/{version}/orders/{file}", get(order_or_count))
        .route("/{domain}/admin/api/{version}/variants/{file}", get(get_variant).put(update_variant))
}

/// Shopify's leaky bucket, one per shop: each call adds one, `leak` drain per second.
pub(crate) struct Buckets {
    capacity: f64,
    leak: f64,
    levels: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    pub fn new(capacity: u32, leak_per_second: f64) -> Buckets {
        Buckets {
            capacity: f64::from(capacity.max(1)),
            leak: if leak_per_second.is_finite() && leak_per_second > 0.0 { leak_per_second } else { 0.001 },
            levels: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one call: the calls now in the bucket, or the seconds to wait before one fits.
    pub fn hit(&self, shop: &str) -> Result<u32, f64> {
        let now = Instant::now();
        let mut levels = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        let (level, at) = levels.entry(shop.to_string()).or_insert((0.0, now));
        *level = (*level - now.duration_since(*at).as_secs_f64() * self.leak).max(0.0);
        *at = now;
        if *level + 1.0 > self.capacity {
            return Err((*level + 1.0 - self.capacity) / self.leak);
        }
        *level += 1.0;
        Ok(level.ceil() as u32)
    }

    fn capacity(&self) -> u32 {
        self.capacity as u32
    }

    fn leak(&self) -> f64 {
        self.leak
    }
}

fn errors(status: StatusCode, errors: Value) -> Response {
    (status, axum::Json(json!({"errors": errors}))).into_response()
}

fn not_found() -> Response {
    errors(StatusCode::NOT_FOUND, json!("Not Found"))
}

fn field_error(field: &str, message: &str) -> Response {
    errors(StatusCode::BAD_REQUEST, json!({ field: message }))
}

/// The shop after the version check, its faults, the token and the bucket. The value is the
/// `X-Shopify-Shop-Api-Call-Limit` every answer carries.
async fn open_shop<'a>(
    state: &'a SimState,
    domain: &str,
    version: &str,
    headers: &HeaderMap,
) -> Result<(&'a SimShop, HeaderValue), Response> {
    let shop = state.data.shop(domain).filter(|s| s.kind() == WebshopKind::Shopify).ok_or_else(not_found)?;
    let dated = version.len() == 7 && version.as_bytes()[4] == b'-' && version.replace('-', "").parse::<u32>().is_ok();
    if !dated && version != "unstable" {
        return Err(not_found());
    }
    if let Some(faulty) = faults::apply(&state.faults, shop.domain(), Vendor::Shopify).await {
        return Err(faulty);
    }
    let token = headers.get("X-Shopify-Access-Token").and_then(|v| v.to_str().ok());
    if token != Some(shop.customer.shop_key.as_str()) {
        let message = "[API] Invalid API key or access token (unrecognized login or wrong password)";
        return Err(errors(StatusCode::UNAUTHORIZED, json!(message)));
    }
    let buckets = &state.buckets;
    match buckets.hit(shop.domain()) {
        Ok(used) => Ok((shop, call_limit(used, buckets.capacity()))),
        Err(wait) => {
            let rate = buckets.leak();
            let rate = if rate.fract() == 0.0 { format!("{rate:.0}") } else { format!("{rate}") };
            let message = format!(
                "Exceeded {rate} calls per second for api client. Reduce request rates to resume uninterrupted service."
            );
            let mut response = errors(StatusCode::TOO_MANY_REQUESTS, json!(message));
            let retry = ((wait * 10.0).ceil() / 10.0).max(0.1);
            let headers = response.headers_mut();
            headers.insert(CALL_LIMIT, call_limit(buckets.capacity(), buckets.capacity()));
            if let Ok(v) = HeaderValue::from_str(&format!("{retry:.1}")) {
                headers.insert(header::RETRY_AFTER, v);
            }
            Err(response)
        }
    }
}

fn call_limit(used: u32, capacity: u32) -> HeaderValue {
    HeaderValue::from_str(&format!("{used}/{capacity}")).unwrap_or(HeaderValue::from_static("1/40"))
}

fn reply(limit: HeaderValue, mut response: Response) -> Response {
    response.headers_mut().insert(CALL_LIMIT, limit);
    response
}

/// The orders a listing covers: indices `[start, end)` with a status in `mask`, in `desc`
/// or ascending order. A cursor carries it, with the page's anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Listing {
    s: usize,
    e: usize,
    m: u16,
    d: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    #[serde(flatten)]
    listing: Listing,
    /// The anchor order: the page goes after it (`p` false) or before it (`p` true).
    a: usize,
    p: bool,
}

impl Cursor {
    fn encode(&self) -> String {
        base64url_encode(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }

    fn decode(text: &str, shop: &SimShop) -> Option<Cursor> {
        let cursor: Cursor = serde_json::from_slice(&base64_decode(text)?).ok()?;
        let l = cursor.listing;
        (l.s <= l.e && l.e <= shop.order_count() && cursor.a < shop.order_count()).then_some(cursor)
    }
}

/// A parameter Shopify refuses, and why.
type BadParam = (&'static str, &'static str);

/// Reads the filters of `orders.json` and `count.json`.
fn read_listing(shop: &SimShop, params: &Params, ordered: bool) -> Result<Listing, BadParam> {
    let status = params.get("status").unwrap_or("open");
    let mut mask = StatusMask::shopify_status(status).ok_or(("status", "must be open, closed, cancelled or any"))?;
    if let Some(f) = params.get("financial_status") {
        mask =
            mask.intersect(StatusMask::shopify_financial(f).ok_or(("financial_status", "is not a financial status"))?);
    }
    if let Some(f) = params.get("fulfillment_status") {
        let m = StatusMask::shopify_fulfillment(f)
            .ok_or(("fulfillment_status", "must be shipped, partial, unshipped, unfulfilled or any"))?;
        mask = mask.intersect(m);
    }
    for name in ["updated_at_min", "updated_at_max"] {
        if params.get(name).is_some() {
            return Err((name, "is not supported by the simulator"));
        }
    }
    let instant = |name: &'static str| -> Result<Option<chrono::DateTime<chrono::Utc>>, BadParam> {
        match params.get(name) {
            None => Ok(None),
            Some(raw) => parse_instant(raw, SHOP_TZ).map(Some).ok_or((name, "is not a valid ISO 8601 date")),
        }
    };
    // Inclusive on both ends; orders are created on whole seconds. Orders are processed when created.
    let mut lo = i64::MIN;
    let mut hi = i64::MAX;
    for name in ["created_at_min", "processed_at_min"] {
        if let Some(t) = instant(name)? {
            lo = lo.max(ceil_seconds(t));
        }
    }
    for name in ["created_at_max", "processed_at_max"] {
        if let Some(t) = instant(name)? {
            hi = hi.min(t.timestamp() + 1);
        }
    }
    let span = shop.index_range(lo, hi);
    let (mut s, mut e) = (span.start, span.end);
    if let Some(raw) = params.get("since_id") {
        let since: u64 = raw.trim().parse().map_err(|_| ("since_id", "is not an integer"))?;
        let first_after = partition(shop.order_count(), |i| shop.order_id(i) <= since);
        s = s.max(first_after);
    }
    if let Some(raw) = params.get("name") {
        let number = raw.trim().trim_start_matches('#').parse::<usize>().ok().and_then(|n| n.checked_sub(1001));
        match number {
            Some(i) if i < shop.order_count() => {
                s = s.max(i);
                e = e.min(i + 1);
            }
            _ => e = s,
        }
    }
    let desc = if !ordered {
        true
    } else {
        match params.get("order").map(str::trim) {
            // With since_id, Shopify lists by id ascending.
            None => params.get("since_id").is_none(),
            Some(o) => match o.split_once(' ').map(|(f, d)| (f, d.trim())).unwrap_or((o, "desc")) {
                ("created_at" | "processed_at" | "id", "desc" | "DESC") => true,
                ("created_at" | "processed_at" | "id", "asc" | "ASC") => false,
                _ => return Err(("order", "must be created_at, processed_at or id, then asc or desc")),
            },
        }
    };
    Ok(Listing { s, e: e.max(s), m: mask.bits(), d: desc })
}

/// The first index in `0..n` for which `before` is false (`before` holds for a prefix).
fn partition(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

/// Orders of the listing after `after` (or from its start) in list order.
fn forward<'a>(shop: &'a SimShop, l: Listing, after: Option<usize>) -> Box<dyn Iterator<Item = usize> + 'a> {
    let mask = StatusMask::from_bits(l.m);
    let keep = move |i: &usize| mask.contains(shop.status_code(*i));
    match (l.d, after) {
        (false, None) => Box::new((l.s..l.e).filter(keep)),
        (false, Some(a)) => Box::new((a.saturating_add(1).max(l.s)..l.e).filter(keep)),
        (true, None) => Box::new((l.s..l.e).rev().filter(keep)),
        (true, Some(a)) => Box::new((l.s..a.min(l.e)).rev().filter(keep)),
    }
}

/// Orders of the listing before `before` in reverse list order.
fn backward<'a>(shop: &'a SimShop, l: Listing, before: usize) -> Box<dyn Iterator<Item = usize> + 'a> {
    let flipped = Listing { d: !l.d, ..l };
    forward(shop, flipped, Some(before))
}

async fn list_orders(
    State(state): State<SimState>,
    Path((domain, version)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let (shop, limit_header) = match open_shop(&state, &domain, &version, &headers).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let limit = match params.get("limit").map(|v| v.trim().parse::<i64>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return reply(limit_header, field_error("limit", "must be an integer between 1 and 250"));
        }
    } as usize;
    let (listing, anchor) = match params.get("page_info") {
        Some(token) => {
            if let Some(other) = params.keys().find(|k| !matches!(*k, "page_info" | "limit" | "fields")) {
                let message = format!(
                    "cannot be combined with {other}: a request with page_info may carry only limit and fields"
                );
                return reply(limit_header, field_error("page_info", &message));
            }
            match Cursor::decode(token, shop) {
                Some(c) => (c.listing, Some((c.a, c.p))),
                None => return reply(limit_header, field_error("page_info", "Invalid value.")),
            }
        }
        None => match read_listing(shop, &params, true) {
            Ok(l) => (l, None),
            Err((field, message)) => return reply(limit_header, field_error(field, message)),
        },
    };
    let mut page: Vec<usize> = match anchor {
        None => forward(shop, listing, None).take(limit).collect(),
        Some((a, false)) => forward(shop, listing, Some(a)).take(limit).collect(),
        Some((a, true)) => backward(shop, listing, a).take(limit).collect(),
    };
    if matches!(anchor, Some((_, true))) {
        page.reverse();
    }
    let fields = params.list("fields");
    let orders: Vec<Value> = page
        .iter()
        .filter_map(|&i| shop.order(i))
        .map(|o| only_fields(order_json(shop, &o), fields.as_deref()))
        .collect();

    let mut links = Vec::new();
    let url = format!("{}/admin/api/{version}/orders.json", shop.customer.shop_url);
    let link = |cursor: Cursor, rel: &str| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("page_info", &cursor.encode()).append_pair("limit", &limit.to_string());
        if let Some(f) = params.get("fields") {
            query.append_pair("fields", f);
        }
        format!("<{url}?{}>; rel=\"{rel}\"", query.finish())
    };
    if let (Some(&first), Some(&last)) = (page.first(), page.last()) {
        if anchor.is_some() && backward(shop, listing, first).next().is_some() {
            links.push(link(Cursor { listing, a: first, p: true }, "previous"));
        }
        if forward(shop, listing, Some(last)).next().is_some() {
            links.push(link(Cursor { listing, a: last, p: false }, "next"));
        }
    }
    let mut response = axum::Json(json!({ "orders": orders })).into_response();
    if let Ok(value) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        response.headers_mut().insert(header::LINK, value);
    }
    reply(limit_header, response)
}

/// `orders/count.json` or `orders/{id}.json`.
async fn order_or_count(
    State(state): State<SimState>,
    Path((domain, version, file)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let Some(stem) = file.strip_suffix(".json") else { return not_found() };
    let (shop, limit_header) = match open_shop(&state, &domain, &version, &headers).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    if stem == "count" {
        if params.get("page_info").is_some() {
            return reply(limit_header, field_error("page_info", "is not accepted by count.json"));
        }
        return match read_listing(shop, &params, false) {
            Ok(l) => {
                let span = l.s..l.e;
                let count = shop.count_matching(span, StatusMask::from_bits(l.m));
                reply(limit_header, axum::Json(json!({ "count": count })).into_response())
            }
            Err((field, message)) => reply(limit_header, field_error(field, message)),
        };
    }
    let order = stem.parse::<u64>().ok().and_then(|id| shop.order_index(id)).and_then(|i| shop.order(i));
    match order {
        Some(o) => {
            let body = only_fields(order_json(shop, &o), params.list("fields").as_deref());
            reply(limit_header, axum::Json(json!({ "order": body })).into_response())
        }
        None => reply(limit_header, not_found()),
    }
}

fn variant_index(shop: &SimShop, file: &str) -> Option<usize> {
    let id = file.strip_suffix(".json")?.parse::<u64>().ok()?;
    shop.catalogue().iter().position(|p| p.variant_id == id)
}

async fn get_variant(
    State(state): State<SimState>,
    Path((domain, version, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (shop, limit_header) = match open_shop(&state, &domain, &version, &headers).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let Some(index) = variant_index(shop, &file) else { return reply(limit_header, not_found()) };
    let body = json!({ "variant": variant_json(shop, &shop.catalogue()[index]) });
    reply(limit_header, axum::Json(body).into_response())
}

/// `PUT variants/{id}.json` with `{"variant":{"sku":"…"}}`: sets the SKU (`""` or null removes it).
async fn update_variant(
    State(state): State<SimState>,
    Path((domain, version, file)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (shop, limit_header) = match open_shop(&state, &domain, &version, &headers).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let Some(index) = variant_index(shop, &file) else { return reply(limit_header, not_found()) };
    let variant = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("variant").cloned());
    let Some(Value::Object(fields)) = variant else {
        return reply(limit_header, field_error("variant", "Required parameter missing or invalid"));
    };
    match fields.get("sku") {
        None => {}
        Some(Value::Null) => {
            shop.set_sku(index, None);
        }
        Some(Value::String(sku)) => {
            let sku = sku.trim();
            shop.set_sku(index, (!sku.is_empty()).then(|| sku.to_string()));
        }
        Some(_) => return reply(limit_header, field_error("sku", "must be a string")),
    }
    let body = json!({ "variant": variant_json(shop, &shop.catalogue()[index]) });
    reply(limit_header, axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_fills_and_says_how_long_to_wait() {
        let buckets = Buckets::new(3, 0.5);
        assert_eq!(buckets.hit("a.dk"), Ok(1));
        assert_eq!(buckets.hit("a.dk"), Ok(2));
        assert_eq!(buckets.hit("a.dk"), Ok(3));
        let wait = buckets.hit("a.dk").unwrap_err();
        assert!(wait > 1.5 && wait <= 2.0, "{wait}");
        // Another shop has its own bucket.
        assert_eq!(buckets.hit("b.dk"), Ok(1));
    }

    #[test]
    fn partition_finds_the_first_false() {
        assert_eq!(partition(10, |i| i < 4), 4);
        assert_eq!(partition(10, |_| true), 10);
        assert_eq!(partition(0, |_| true), 0);
    }
}
