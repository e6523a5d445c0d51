//! A simulated WooCommerce REST v3 API: `orders` (list with pages, date and status filters,
//! `X-WP-Total`/`X-WP-TotalPages`/`Link` headers; single), `products` (list, get, set the SKU),
//! HTTP Basic or query-string keys, and WooCommerce's error bodies.
//!
//! `after`/`before` are exclusive. A value without offset is shop-local time
//! (Europe/Copenhagen), or GMT with `dates_are_gmt=true`; a value with an offset or `Z` is that
//! instant.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono_tz::Tz;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::ops::Range;

use super::SimState;
use super::data::{SHOP_TZ, SimShop, ceil_seconds};
use super::faults::{self, Vendor};
use super::query::{Params, basic_credentials, parse_instant};
use super::status::StatusMask;
use super::woo_json::{order_json, product_json};
use crate::domain::customer::WebshopKind;

pub const MAX_PER_PAGE: i64 = 100;
const STATUSES: &str =
    "any, trash, pending, processing, on-hold, completed, cancelled, refunded, failed, checkout-draft";

pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        .route("/{domain}/wp-json/wc/v3/orders", get(list_orders))
        .route("/{domain}/wp-json/wc/v3/orders/{id}", get(get_order))
        .route("/{domain}/wp-json/wc/v3/products", get(list_products))
        .route(
            "/{domain}/wp-json/wc/v3/products/{id}",
            get(get_product).put(update_product).post(update_product).patch(update_product),
        )
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({"code": code, "message": message, "data": {"status": status.as_u16()}}))).into_response()
}

pub(crate) fn no_route() -> Response {
    error(StatusCode::NOT_FOUND, "rest_no_route", "No route was found matching the URL and request method.")
}

/// `rest_invalid_param`, naming every invalid parameter as WordPress does.
fn invalid_params(invalid: &BTreeMap<&str, (&str, String)>) -> Response {
    let names: Vec<&str> = invalid.keys().copied().collect();
    let params: serde_json::Map<String, Value> = invalid.iter().map(|(k, (_, m))| (k.to_string(), json!(m))).collect();
    let details: serde_json::Map<String, Value> = invalid
        .iter()
        .map(|(k, (code, m))| (k.to_string(), json!({"code": code, "message": m, "data": null})))
        .collect();
    let body = json!({
        "code": "rest_invalid_param",
        "message": format!("Invalid parameter(s): {}", names.join(", ")),
        "data": {"status": 400, "params": params, "details": details},
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// The shop, after its faults and the credentials: HTTP Basic, or the query-string keys.
async fn open_shop<'a>(
    state: &'a SimState,
    domain: &str,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a SimShop, Response> {
    let shop = state.data.shop(domain).filter(|s| s.kind() == WebshopKind::WooCommerce).ok_or_else(no_route)?;
    if let Some(faulty) = faults::apply(&state.faults, shop.domain(), Vendor::WooCommerce).await {
        return Err(faulty);
    }
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(basic_credentials);
    let (key, secret) = match basic {
        Some((k, s)) => (Some(k), Some(s)),
        None => (params.get("consumer_key").map(str::to_string), params.get("consumer_secret").map(str::to_string)),
    };
    let unauthorized = |m: &str| error(StatusCode::UNAUTHORIZED, "woocommerce_rest_authentication_error", m);
    match key {
        None => Err(unauthorized("Consumer key is missing.")),
        Some(k) if k != shop.customer.shop_key => Err(unauthorized("Consumer key is invalid.")),
        Some(_) if secret.as_deref() != shop.customer.shop_secret.as_deref() => {
            Err(unauthorized("Consumer secret is invalid."))
        }
        Some(_) => Ok(shop),
    }
}

/// Paging parameters common to the collections.
struct Paging {
    per_page: u64,
    page: u64,
    offset: Option<u64>,
    desc: bool,
}

impl Paging {
    fn read(params: &Params, invalid: &mut BTreeMap<&'static str, (&'static str, String)>) -> Paging {
        let mut integer = |name: &'static str, default: i64, min: i64, max: Option<i64>| -> i64 {
            let Some(raw) = params.get(name) else { return default };
            match raw.trim().parse::<i64>() {
                Ok(n) if n >= min && max.is_none_or(|m| n <= m) => n,
                Ok(_) => {
                    let message = match max {
                        Some(m) => format!("{name} must be between {min} (inclusive) and {m} (inclusive)"),
                        None => format!("{name} must be greater than or equal to {min}"),
                    };
                    invalid.insert(name, ("rest_out_of_bounds", message));
                    default
                }
                Err(_) => {
                    invalid.insert(name, ("rest_invalid_type", format!("{name} is not of type integer.")));
                    default
                }
            }
        };
        let per_page = integer("per_page", 10, 1, Some(MAX_PER_PAGE)) as u64;
        let page = integer("page", 1, 1, None) as u64;
        let offset = params.get("offset").map(|_| integer("offset", 0, 0, None) as u64);
        let desc = match params.get("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                invalid.insert("order", ("rest_not_in_enum", "order is not one of asc and desc.".into()));
                true
            }
        };
        Paging { per_page, page, offset, desc }
    }

    fn skip(&self) -> u64 {
        self.offset.unwrap_or((self.page - 1) * self.per_page)
    }
}

struct OrderFilter {
    lo: i64,
    hi: i64,
    mask: StatusMask,
}

fn read_order_filter(params: &Params, invalid: &mut BTreeMap<&'static str, (&'static str, String)>) -> OrderFilter {
    let gmt = match params.get("dates_are_gmt").map(str::trim) {
        None | Some("false") | Some("0") | Some("") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            invalid.insert("dates_are_gmt", ("rest_invalid_type", "dates_are_gmt is not of type boolean.".into()));
            false
        }
    };
    let tz: Tz = if gmt { chrono_tz::UTC } else { SHOP_TZ };
    let mut instant = |name: &'static str| {
        let raw = params.get(name)?;
        let parsed = parse_instant(raw, tz);
        if parsed.is_none() {
            invalid.insert(name, ("rest_invalid_date", "Invalid date.".into()));
        }
        parsed
    };
    // Exclusive on both ends; orders are created on whole seconds.
    let lo = instant("after").map(|t| t.timestamp() + 1).unwrap_or(i64::MIN);
    let hi = instant("before").map(ceil_seconds).unwrap_or(i64::MAX);
    let mut mask = StatusMask::ALL;
    if let Some(names) = params.list("status") {
        mask = StatusMask::NONE;
        for (i, name) in names.iter().enumerate() {
            match StatusMask::woo(name) {
                Some(m) if m.is_all() => mask = StatusMask::ALL,
                Some(m) if !mask.is_all() => mask = mask.union(m),
                Some(_) => {}
                None => {
                    invalid.insert("status", ("rest_not_in_enum", format!("status[{i}] is not one of {STATUSES}.")));
                }
            }
        }
    }
    match params.get("orderby") {
        None | Some("date") | Some("id") => {}
        Some(other @ ("include" | "title" | "slug" | "modified")) => {
            let message = format!("orderby={other} is valid in WooCommerce; the simulator orders by date or id only.");
            invalid.insert("orderby", ("rest_not_in_enum", message));
        }
        Some(_) => {
            let message = "orderby is not one of date, id, include, title, slug, modified.".to_string();
            invalid.insert("orderby", ("rest_not_in_enum", message));
        }
    }
    for name in ["modified_after", "modified_before"] {
        if params.get(name).is_some() {
            invalid.insert(name, ("rest_invalid_param", format!("{name} is not supported by the simulator.")));
        }
    }
    OrderFilter { lo, hi, mask }
}

/// `skip`/`take` over the orders of `span` whose status is in `mask`, in list order.
fn select(shop: &SimShop, span: Range<usize>, mask: StatusMask, desc: bool, skip: u64, take: u64) -> Vec<usize> {
    if mask.is_all() {
        let len = span.len() as u64;
        let n = take.min(len.saturating_sub(skip)) as usize;
        let skip = skip as usize;
        return if desc {
            (0..n).map(|k| span.end - 1 - skip - k).collect()
        } else {
            (0..n).map(|k| span.start + skip + k).collect()
        };
    }
    let keep = |i: &usize| mask.contains(shop.status_code(*i));
    let (skip, take) = (skip as usize, take as usize);
    if desc {
        span.rev().filter(keep).skip(skip).take(take).collect()
    } else {
        span.filter(keep).skip(skip).take(take).collect()
    }
}

/// `X-WP-Total`, `X-WP-TotalPages` and `Link` (`prev`/`next`, full URLs, same query).
fn pagination_headers(url: &str, params: &Params, paging: &Paging, total: u64) -> HeaderMap {
    let pages = total.div_ceil(paging.per_page);
    let mut headers = HeaderMap::new();
    headers.insert("X-WP-Total", HeaderValue::from(total));
    headers.insert("X-WP-TotalPages", HeaderValue::from(pages));
    let mut links = Vec::new();
    if paging.page > 1 {
        let prev = (paging.page - 1).min(pages.max(1));
        links.push(format!("<{url}?{}>; rel=\"prev\"", params.with("page", &prev.to_string())));
    }
    if pages > paging.page {
        links.push(format!("<{url}?{}>; rel=\"next\"", params.with("page", &(paging.page + 1).to_string())));
    }
    if let Ok(value) = HeaderValue::from_str(&links.join(", "))
        && !links.is_empty()
    {
        headers.insert(header::LINK, value);
    }
    headers
}

async fn list_orders(
    State(state): State<SimState>,
    Path(domain): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let shop = match open_shop(&state, &domain, &headers, &params).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    let mut invalid = BTreeMap::new();
    let paging = Paging::read(&params, &mut invalid);
    let filter = read_order_filter(&params, &mut invalid);
    if !invalid.is_empty() {
        return invalid_params(&invalid);
    }
    let span = shop.index_range(filter.lo, filter.hi);
    let total = shop.count_matching(span.clone(), filter.mask);
    let indices = select(shop, span, filter.mask, paging.desc, paging.skip(), paging.per_page);
    let orders: Vec<Value> = indices.into_iter().filter_map(|i| shop.order(i)).map(|o| order_json(shop, &o)).collect();
    let url = format!("{}/wp-json/wc/v3/orders", shop.customer.shop_url);
    (pagination_headers(&url, &params, &paging, total), axum::Json(Value::Array(orders))).into_response()
}

async fn get_order(
    State(state): State<SimState>,
    Path((domain, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let Ok(id) = id.parse::<u64>() else { return no_route() };
    let shop = match open_shop(&state, &domain, &headers, &params).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    match shop.order_index(id).and_then(|i| shop.order(i)) {
        Some(order) => axum::Json(order_json(shop, &order)).into_response(),
        None => error(StatusCode::NOT_FOUND, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
    }
}

async fn list_products(
    State(state): State<SimState>,
    Path(domain): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let shop = match open_shop(&state, &domain, &headers, &params).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    let mut invalid = BTreeMap::new();
    let paging = Paging::read(&params, &mut invalid);
    if !invalid.is_empty() {
        return invalid_params(&invalid);
    }
    let skus = params.list("sku");
    let search = params.get("search").map(str::to_lowercase);
    let catalogue = shop.catalogue();
    let mut matching: Vec<&super::SimProduct> = catalogue
        .iter()
        .filter(|p| match &skus {
            Some(list) => p.sku.as_deref().is_some_and(|s| list.iter().any(|w| w.eq_ignore_ascii_case(s))),
            None => true,
        })
        .filter(|p| search.as_deref().is_none_or(|q| p.name.to_lowercase().contains(q)))
        .collect();
    matching.sort_by_key(|p| p.id);
    if paging.desc {
        matching.reverse();
    }
    let total = matching.len() as u64;
    let page: Vec<Value> = matching
        .into_iter()
        .skip(paging.skip() as usize)
        .take(paging.per_page as usize)
        .map(|p| product_json(shop, p))
        .collect();
    let url = format!("{}/wp-json/wc/v3/products", shop.customer.shop_url);
    (pagination_headers(&url, &params, &paging, total), axum::Json(Value::Array(page))).into_response()
}

fn invalid_product_id() -> Response {
    error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

async fn get_product(
    State(state): State<SimState>,
    Path((domain, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let Ok(id) = id.parse::<u64>() else { return no_route() };
    let shop = match open_shop(&state, &domain, &headers, &params).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    let catalogue = shop.catalogue();
    match catalogue.iter().find(|p| p.id == id) {
        Some(p) => axum::Json(product_json(shop, p)).into_response(),
        None => invalid_product_id(),
    }
}

/// `PUT products/<id>` with `{"sku":"…"}`: sets the SKU (`""` removes it). WooCommerce
/// refuses a SKU another product has.
async fn update_product(
    State(state): State<SimState>,
    Path((domain, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let Ok(id) = id.parse::<u64>() else { return no_route() };
    let shop = match open_shop(&state, &domain, &headers, &params).await {
        Ok(shop) => shop,
        Err(response) => return response,
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "rest_invalid_json", "Invalid JSON body passed.");
    };
    let mut catalogue = shop.catalogue_mut();
    let Some(index) = catalogue.iter().position(|p| p.id == id) else { return invalid_product_id() };
    match fields.get("sku") {
        None => {}
        Some(Value::String(sku)) => {
            let sku = sku.trim();
            let taken = catalogue.iter().any(|p| {
                p.id != id && p.sku.as_deref().is_some_and(|s| !sku.is_empty() && s.eq_ignore_ascii_case(sku))
            });
            if taken {
                let body = json!({
                    "code": "product_invalid_sku",
                    "message": "Invalid or duplicated SKU.",
                    "data": {"status": 400, "resource_id": id, "unique_sku": sku},
                });
                return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
            }
            catalogue[index].sku = (!sku.is_empty()).then(|| sku.to_string());
        }
        Some(_) => {
            let mut invalid = BTreeMap::new();
            invalid.insert("sku", ("rest_invalid_type", "sku is not of type string.".to_string()));
            return invalid_params(&invalid);
        }
    }
    axum::Json(product_json(shop, &catalogue[index])).into_response()
}
