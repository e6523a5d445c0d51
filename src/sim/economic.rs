//! A simulated e-conomic REST API (axum), mounted at `/economic`: agreements chosen by their
//! tokens, customers, products, draft and booked invoices, filters and pagination, validation
//! errors in e-conomic's annotated format, a per-agreement rate limit, latency, and faults
//! that cut the connection after a draft or booking was committed.

mod filter;
mod validate;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

use crate::connect::economic_wire::{
    BookRequest, Collection, Customer, DEFAULT_PAGE_SIZE, ErrorBody, Invoice, MAX_PAGE_SIZE, Pagination, Product,
    ProductGroupRef, decode_product_number,
};
use crate::domain::customer::AccountingKind;
use crate::domain::money::{DANISH_VAT_RATE, round_ore};
use crate::sim::data::SimData;

pub use filter::{Filter, parse as parse_filter};

/// A product that exists in a simulated accounting system.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductSeed {
    pub number: String,
    pub name: String,
    pub price: Decimal,
}

/// A customer that exists in a simulated accounting system (e.g. a shared "webshop" customer).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSeed {
    pub number: u64,
    pub name: String,
    pub email: Option<String>,
}

/// One simulated e-conomic agreement: its tokens and what it holds at the start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgreementSeed {
    pub app_secret: String,
    pub grant_token: String,
    pub products: Vec<ProductSeed>,
    pub customers: Vec<CustomerSeed>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EconomicOptions {
    /// Added to every request, as a real remote API would.
    pub latency: Duration,
    /// Calls per second per agreement before `429`; `None` for no limit.
    pub requests_per_second: Option<u32>,
    /// The `Retry-After` sent with a 429; `None` means "until the current second is over".
    pub retry_after_seconds: Option<u64>,
    /// Share of draft and booking POSTs whose connection is cut after the commit (demo chaos).
    pub drop_after_commit_rate: f64,
    pub seed: u64,
}

impl Default for EconomicOptions {
    fn default() -> Self {
        EconomicOptions {
            latency: Duration::ZERO,
            requests_per_second: None,
            retry_after_seconds: None,
            drop_after_commit_rate: 0.0,
            seed: 7,
        }
    }
}

impl EconomicOptions {
    /// What the demo runs against: a remote API's latency, and a per-second limit a little
    /// above the client's configured pace, so a faster client meets real 429s.
    pub fn realistic() -> EconomicOptions {
        let client_rate = crate::config::Rates::default().economic.requests_per_second;
        EconomicOptions {
            latency: Duration::from_millis(80),
            requests_per_second: Some((client_rate * 1.25).ceil().max(1.0) as u32),
            ..EconomicOptions::default()
        }
    }
}

/// The customer every simulated agreement holds for integrations that book all orders on
/// one shared customer.
pub const SHARED_CUSTOMER_NUMBER: u64 = 1;

/// One agreement per simulated shop, holding the shop's catalogue minus the products marked
/// missing in accounting (and those without a SKU, which cannot be looked up), so the data
/// set's failure causes happen for real.
pub fn seeds_from(data: &SimData) -> Vec<AgreementSeed> {
    data.customers
        .iter()
        .filter(|shop| shop.customer.accounting == AccountingKind::Economic)
        .map(|shop| AgreementSeed {
            app_secret: shop.customer.app_secret.clone(),
            grant_token: shop.customer.grant_token.clone(),
            products: shop
                .products()
                .into_iter()
                .filter(|p| p.in_accounting)
                .filter_map(|p| {
                    let number = p.sku?;
                    // Accounting prices are net; the shop's include Danish VAT.
                    let price = round_ore(p.unit_price_incl_vat / (Decimal::ONE + DANISH_VAT_RATE));
                    Some(ProductSeed { number, name: p.name, price })
                })
                .collect(),
            customers: vec![CustomerSeed {
                number: SHARED_CUSTOMER_NUMBER,
                name: "Webshop customers".into(),
                email: None,
            }],
        })
        .collect()
}

/// The e-conomic router for the simulated shops' agreements, with realistic latency and
/// rate limit; the shop server mounts it at `/economic`.
pub fn router_for(data: &Arc<SimData>) -> Router {
    EconomicSim::new(seeds_from(data), EconomicOptions { seed: data.seed, ..EconomicOptions::realistic() }).router()
}

/// A fault armed for the next matching request of one agreement; each fires once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Commit the draft, then cut the connection in the middle of the reply.
    DropAfterDraft,
    /// Book the draft, then cut the connection in the middle of the reply.
    DropAfterBook,
    /// Book the draft, then answer 201 with a truncated JSON body.
    GarbleAfterBook,
    /// Answer the next request `503` without doing anything.
    Unavailable,
}

/// What the simulator counted for one agreement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    pub requests: u64,
    pub rate_limited: u64,
    pub drafts_created: u64,
    pub invoices_booked: u64,
}

struct Agreement {
    app_secret: String,
    customers: BTreeMap<u64, Customer>,
    products: BTreeMap<String, Product>,
    drafts: BTreeMap<u64, Invoice>,
    booked: BTreeMap<u64, Invoice>,
    next_draft: u64,
    next_booked: u64,
    window: Option<(Instant, u32)>,
    faults: Vec<Fault>,
    stats: SimStats,
}

impl Agreement {
    fn from_seed(seed: AgreementSeed) -> Agreement {
        let products =
            seed.products.into_iter().map(|p| (p.number.clone(), product_from_seed(p))).collect::<BTreeMap<_, _>>();
        let customers = seed
            .customers
            .into_iter()
            .map(|c| {
                let customer = Customer {
                    customer_number: Some(c.number),
                    name: Some(c.name),
                    email: c.email,
                    currency: Some("DKK".into()),
                    ..Customer::default()
                };
                (c.number, customer)
            })
            .collect();
        Agreement {
            app_secret: seed.app_secret,
            customers,
            products,
            drafts: BTreeMap::new(),
            booked: BTreeMap::new(),
            next_draft: 1,
            // Booked numbers far from draft numbers, so a mix-up shows in tests.
            next_booked: 10_001,
            window: None,
            faults: Vec::new(),
            stats: SimStats::default(),
        }
    }

    fn take_fault(&mut self, wanted: &[Fault]) -> Option<Fault> {
        let at = self.faults.iter().position(|f| wanted.contains(f))?;
        Some(self.faults.remove(at))
    }
}

fn product_from_seed(p: ProductSeed) -> Product {
    Product {
        product_number: Some(p.number),
        name: Some(p.name),
        sales_price: Some(p.price),
        product_group: Some(ProductGroupRef { product_group_number: Some(1) }),
        barred: false,
    }
}

struct Inner {
    agreements: Mutex<HashMap<String, Agreement>>,
    options: EconomicOptions,
    rng: Mutex<ChaCha8Rng>,
    log_ids: AtomicU64,
}

/// The simulator; clones share state.
#[derive(Clone)]
pub struct EconomicSim {
    inner: Arc<Inner>,
}

impl EconomicSim {
    pub fn new(agreements: Vec<AgreementSeed>, options: EconomicOptions) -> EconomicSim {
        let agreements = agreements.into_iter().map(|s| (s.grant_token.clone(), Agreement::from_seed(s))).collect();
        let rng = ChaCha8Rng::seed_from_u64(options.seed);
        EconomicSim {
            inner: Arc::new(Inner {
                agreements: Mutex::new(agreements),
                options,
                rng: Mutex::new(rng),
                log_ids: AtomicU64::new(1),
            }),
        }
    }

    /// The routes, to be nested at `/economic`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/customers", get(list_customers).post(create_customer))
            .route("/customers/{number}", get(get_customer))
            .route("/products", get(list_products).post(create_product))
            .route("/products/{number}", get(get_product))
            .route("/invoices/drafts", get(list_drafts).post(create_draft))
            .route("/invoices/drafts/{number}", get(get_draft))
            .route("/invoices/booked", get(list_booked).post(book))
            .route("/invoices/booked/{number}", get(get_booked))
            .fallback(not_found_route)
            .with_state(self.clone())
    }

    /// Serves the simulator alone on a loopback port, at `/economic`; returns the base URL
    /// (`http://127.0.0.1:PORT/economic/`). For tests; the demo mounts it beside the shops.
    pub async fn serve_on_loopback(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().nest("/economic", self.router());
        let handle = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "e-conomic simulator stopped");
            }
        });
        Ok((format!("http://{addr}/economic/"), handle))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Agreement>> {
        self.inner.agreements.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with<T>(&self, grant: &str, f: impl FnOnce(&mut Agreement) -> T) -> Option<T> {
        self.lock().get_mut(grant).map(f)
    }

    /// Every booked invoice of an agreement, by number.
    pub fn booked_invoices(&self, grant: &str) -> Vec<Invoice> {
        self.with(grant, |a| a.booked.values().cloned().collect()).unwrap_or_default()
    }

    pub fn draft_invoices(&self, grant: &str) -> Vec<Invoice> {
        self.with(grant, |a| a.drafts.values().cloned().collect()).unwrap_or_default()
    }

    pub fn customers(&self, grant: &str) -> Vec<Customer> {
        self.with(grant, |a| a.customers.values().cloned().collect()).unwrap_or_default()
    }

    pub fn products(&self, grant: &str) -> Vec<Product> {
        self.with(grant, |a| a.products.values().cloned().collect()).unwrap_or_default()
    }

    /// Creates (or replaces) a product, as the customer fixing a "missing product" would.
    /// False when there is no such agreement.
    pub fn add_product(&self, grant: &str, product: ProductSeed) -> bool {
        self.with(grant, |a| {
            a.products.insert(product.number.clone(), product_from_seed(product));
        })
        .is_some()
    }

    /// Deletes a product, as someone tidying the accounting system might mid-import.
    pub fn remove_product(&self, grant: &str, number: &str) -> bool {
        self.with(grant, |a| a.products.remove(number).is_some()).unwrap_or(false)
    }

    /// Arms a fault for the agreement's next matching request.
    pub fn inject(&self, grant: &str, fault: Fault) -> bool {
        self.with(grant, |a| a.faults.push(fault)).is_some()
    }

    pub fn stats(&self, grant: &str) -> SimStats {
        self.with(grant, |a| a.stats).unwrap_or_default()
    }

    /// Latency, then the tokens, then the rate limit: the agreement's grant, or the error reply.
    async fn enter(&self, headers: &HeaderMap) -> Result<String, Response> {
        if !self.inner.options.latency.is_zero() {
            tokio::time::sleep(self.inner.options.latency).await;
        }
        let token = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let (secret, grant) = (token("X-AppSecretToken"), token("X-AgreementGrantToken"));
        let limit = self.inner.options.requests_per_second;
        let verdict = self.with(&grant, |a| {
            if a.app_secret != secret || secret.is_empty() {
                return Err(None);
            }
            a.stats.requests += 1;
            if a.take_fault(&[Fault::Unavailable]).is_some() {
                return Err(Some((StatusCode::SERVICE_UNAVAILABLE, 1)));
            }
            let Some(limit) = limit else { return Ok(()) };
            let now = Instant::now();
            let (start, count) = match a.window {
                Some((start, count)) if now.duration_since(start) < Duration::from_secs(1) => (start, count),
                _ => (now, 0),
            };
            if count >= limit {
                a.stats.rate_limited += 1;
                let left = Duration::from_secs(1).saturating_sub(now.duration_since(start));
                return Err(Some((StatusCode::TOO_MANY_REQUESTS, left.as_secs_f64().ceil().max(1.0) as u64)));
            }
            a.window = Some((start, count + 1));
            Ok(())
        });
        match verdict {
            Some(Ok(())) => Ok(grant),
            None | Some(Err(None)) => Err(self.error(
                StatusCode::UNAUTHORIZED,
                "The app secret token or the agreement grant token is missing or not valid.",
                "Send valid X-AppSecretToken and X-AgreementGrantToken headers.",
                None,
            )),
            Some(Err(Some((status, window_left)))) => {
                let retry_after = self.inner.options.retry_after_seconds.unwrap_or(window_left);
                let message = if status == StatusCode::TOO_MANY_REQUESTS {
                    format!("Too many requests: the agreement may make {} calls a second.", limit.unwrap_or_default())
                } else {
                    "The service is temporarily unavailable.".to_string()
                };
                let mut response = self.error(status, &message, "Wait for Retry-After seconds and try again.", None);
                if let Ok(v) = retry_after.to_string().parse() {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
                Err(response)
            }
        }
    }

    fn error(&self, status: StatusCode, message: &str, hint: &str, errors: Option<Value>) -> Response {
        let n = self.inner.log_ids.fetch_add(1, Ordering::Relaxed);
        let body = ErrorBody {
            message: message.to_string(),
            error_code: None,
            developer_hint: Some(hint.to_string()),
            log_id: Some(format!("{:08x}-0000-4000-8000-{n:012x}", self.inner.options.seed as u32)),
            http_status_code: status.as_u16(),
            errors,
            log_time: Some(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()),
        };
        (status, axum::Json(body)).into_response()
    }

    fn validation_error(&self, errors: validate::Errors) -> Response {
        self.error(
            StatusCode::BAD_REQUEST,
            "Validation error.",
            "Inspect validation errors and correct your request.",
            Some(errors.into_value()),
        )
    }

    fn not_found(&self, what: &str) -> Response {
        self.error(StatusCode::NOT_FOUND, &format!("{what} not found."), "Check the resource's number.", None)
    }

    /// Whether this commit's reply is cut: an armed fault, or chance when the demo asks for it.
    fn reply_fault(&self, grant: &str, armed: &[Fault]) -> Option<Fault> {
        if let Some(f) = self.with(grant, |a| a.take_fault(armed)).flatten() {
            return Some(f);
        }
        let rate = self.inner.options.drop_after_commit_rate;
        if rate > 0.0 {
            let mut rng = self.inner.rng.lock().unwrap_or_else(|p| p.into_inner());
            if rng.random_bool(rate.clamp(0.0, 1.0)) {
                return armed.first().copied();
            }
        }
        None
    }

    /// A JSON body: parsed, or the 400/415 e-conomic sends (boxed: a response is large).
    fn read_body<T: serde::de::DeserializeOwned>(&self, headers: &HeaderMap, body: &Bytes) -> Result<T, Box<Response>> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
        if !json {
            return Err(Box::new(self.error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The request must have Content-Type: application/json.",
                "Set the Content-Type header.",
                None,
            )));
        }
        serde_json::from_slice(body).map_err(|e| {
            Box::new(self.error(
                StatusCode::BAD_REQUEST,
                &format!("The request body could not be read: {e}"),
                "Send a JSON document matching the schema.",
                None,
            ))
        })
    }
}

/// A reply whose connection is cut after the headers and part of the body.
fn dropped_reply(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_default();
    let partial = Bytes::copy_from_slice(&text[..text.len() / 2]);
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        vec![Ok(partial), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "simulated connection drop"))];
    let mut response = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

/// A complete HTTP reply whose JSON is cut short.
fn garbled_reply(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_default();
    let partial = text[..text.len() / 2].to_vec();
    (status, [(header::CONTENT_TYPE, "application/json")], partial).into_response()
}

fn created(body: &impl Serialize) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

fn ok(body: &impl Serialize) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `http://host/economic/customers`, for self links.
fn link_base(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}{}", uri.path())
}

type Lookup<T> = fn(&T, &str) -> Option<Option<String>>;

fn customer_field(c: &Customer, property: &str) -> Option<Option<String>> {
    Some(match property {
        "customerNumber" => c.customer_number.map(|n| n.to_string()),
        "email" => c.email.clone(),
        "name" => c.name.clone(),
        "telephoneAndFaxNumber" => c.telephone_and_fax_number.clone(),
        "currency" => c.currency.clone(),
        _ => return None,
    })
}

fn product_field(p: &Product, property: &str) -> Option<Option<String>> {
    Some(match property {
        "productNumber" => p.product_number.clone(),
        "name" => p.name.clone(),
        _ => return None,
    })
}

fn invoice_field(i: &Invoice, property: &str) -> Option<Option<String>> {
    Some(match property {
        "references.other" => i.reference().map(str::to_string),
        "customer.customerNumber" => i.customer.as_ref().and_then(|c| c.customer_number).map(|n| n.to_string()),
        "date" => i.date.clone(),
        "currency" => i.currency.clone(),
        "draftInvoiceNumber" => i.draft_invoice_number.map(|n| n.to_string()),
        "bookedInvoiceNumber" => i.booked_invoice_number.map(|n| n.to_string()),
        "recipient.name" => i.recipient.as_ref().and_then(|r| r.name.clone()),
        _ => return None,
    })
}

/// One page of a collection, filtered, in e-conomic's `{"collection","pagination","self"}`.
fn list<T: Serialize + Clone>(
    sim: &EconomicSim,
    items: Vec<T>,
    lookup: Lookup<T>,
    query: &HashMap<String, String>,
    base: &str,
) -> Response {
    let number = |key: &str, default: u64| -> Result<u64, String> {
        match query.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse::<u64>().map_err(|_| format!("{key} must be a whole number, not '{v}'")),
        }
    };
    let paging = number("skippages", 0).and_then(|skip| Ok((skip, number("pagesize", DEFAULT_PAGE_SIZE)?)));
    let (skip, size) = match paging {
        Ok((_, 0)) => return sim.error(StatusCode::BAD_REQUEST, "pagesize must be at least 1.", "", None),
        Ok((_, size)) if size > MAX_PAGE_SIZE => {
            return sim.error(
                StatusCode::BAD_REQUEST,
                &format!("pagesize cannot be greater than {MAX_PAGE_SIZE}."),
                "Use skippages to page through larger collections.",
                None,
            );
        }
        Ok(p) => p,
        Err(message) => return sim.error(StatusCode::BAD_REQUEST, &message, "", None),
    };
    let raw_filter = query.get("filter").filter(|f| !f.is_empty());
    let filter = match raw_filter.map(|f| filter::parse(f)).transpose() {
        Ok(f) => f,
        Err(message) => {
            return sim.error(StatusCode::BAD_REQUEST, &format!("The filter is not valid: {message}"), "", None);
        }
    };
    if let Some(f) = &filter
        && let Some(sample) = items.first()
        && let Some(bad) = f.properties().into_iter().find(|p| lookup(sample, p).is_none())
    {
        return sim.error(
            StatusCode::BAD_REQUEST,
            &format!("Filtering on {bad} is not allowed."),
            "See the collection's schema for filterable properties.",
            None,
        );
    }
    let total = items.len() as u64;
    let matching: Vec<T> = match &filter {
        Some(f) => items.into_iter().filter(|item| f.matches(&|p| lookup(item, p).flatten())).collect(),
        None => items,
    };
    let results = matching.len() as u64;
    let page: Vec<T> = matching.into_iter().skip((skip * size) as usize).take(size as usize).collect();
    let last = results.div_ceil(size).saturating_sub(1);
    let filter_part = raw_filter.map(|f| format!("&filter={}", urlencoding::encode(f))).unwrap_or_default();
    let link = |n: u64| format!("{base}?skippages={n}&pagesize={size}{filter_part}");
    let collection = Collection {
        collection: page,
        pagination: Pagination {
            skip_pages: skip,
            page_size: size,
            max_page_size_allowed: MAX_PAGE_SIZE,
            results,
            results_without_filter: total,
            first_page: link(0),
            next_page: (skip < last).then(|| link(skip + 1)),
            last_page: link(last),
        },
        self_link: link(skip),
    };
    ok(&collection)
}

macro_rules! enter {
    ($sim:expr, $headers:expr) => {
        match $sim.enter(&$headers).await {
            Ok(grant) => grant,
            Err(response) => return response,
        }
    };
}

async fn not_found_route(State(sim): State<EconomicSim>, headers: HeaderMap) -> Response {
    let _grant = enter!(sim, headers);
    sim.not_found("Resource")
}

async fn list_customers(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.customers(&grant);
    list(&sim, items, customer_field, &query, &link_base(&headers, &uri))
}

async fn get_customer(State(sim): State<EconomicSim>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let found = number.parse::<u64>().ok().and_then(|n| sim.with(&grant, |a| a.customers.get(&n).cloned()).flatten());
    match found {
        Some(c) => ok(&c),
        None => sim.not_found(&format!("Customer {number}")),
    }
}

async fn create_customer(State(sim): State<EconomicSim>, headers: HeaderMap, body: Bytes) -> Response {
    let grant = enter!(sim, headers);
    let mut customer: Customer = match sim.read_body(&headers, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let outcome = sim.with(&grant, |a| {
        let errors = validate::customer(&customer, &|n| a.customers.contains_key(&n));
        if !errors.is_empty() {
            return Err(errors);
        }
        let number = customer.customer_number.unwrap_or_else(|| a.customers.keys().max().map_or(1, |n| n + 1));
        customer.customer_number = Some(number);
        a.customers.insert(number, customer.clone());
        Ok(customer)
    });
    match outcome {
        Some(Ok(c)) => created(&c),
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}

async fn list_products(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.products(&grant);
    list(&sim, items, product_field, &query, &link_base(&headers, &uri))
}

async fn get_product(State(sim): State<EconomicSim>, headers: HeaderMap, Path(segment): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let number = decode_product_number(&segment);
    match sim.with(&grant, |a| a.products.get(&number).cloned()).flatten() {
        Some(p) => ok(&p),
        None => sim.not_found(&format!("Product {number}")),
    }
}

async fn create_product(State(sim): State<EconomicSim>, headers: HeaderMap, body: Bytes) -> Response {
    let grant = enter!(sim, headers);
    let product: Product = match sim.read_body(&headers, &body) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let outcome = sim.with(&grant, |a| {
        let errors = validate::product(&product, &|n| a.products.contains_key(n));
        if !errors.is_empty() {
            return Err(errors);
        }
        let number = product.product_number.clone().unwrap_or_default();
        a.products.insert(number, product.clone());
        Ok(product)
    });
    match outcome {
        Some(Ok(p)) => created(&p),
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}

async fn list_drafts(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.draft_invoices(&grant);
    list(&sim, items, invoice_field, &query, &link_base(&headers, &uri))
}

async fn list_booked(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let grant = enter!(sim, headers);
    let items = sim.booked_invoices(&grant);
    list(&sim, items, invoice_field, &query, &link_base(&headers, &uri))
}

async fn get_draft(State(sim): State<EconomicSim>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let found = number.parse::<u64>().ok().and_then(|n| sim.with(&grant, |a| a.drafts.get(&n).cloned()).flatten());
    match found {
        Some(i) => ok(&i),
        None => sim.not_found(&format!("Draft invoice {number}")),
    }
}

async fn get_booked(State(sim): State<EconomicSim>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let grant = enter!(sim, headers);
    let found = number.parse::<u64>().ok().and_then(|n| sim.with(&grant, |a| a.booked.get(&n).cloned()).flatten());
    match found {
        Some(i) => ok(&i),
        None => sim.not_found(&format!("Booked invoice {number}")),
    }
}

/// Line totals, net, VAT (domestic zone 1 pays Danish VAT) and gross, as e-conomic fills them in.
fn fill_totals(invoice: &mut Invoice) {
    let mut net = Decimal::ZERO;
    for (index, line) in invoice.lines.iter_mut().enumerate() {
        line.line_number.get_or_insert(index as u32 + 1);
        let total = round_ore(line.quantity.unwrap_or(Decimal::ONE) * line.unit_net_price.unwrap_or_default());
        line.total_net_amount = Some(total);
        net += total;
    }
    let domestic =
        invoice.recipient.as_ref().and_then(|r| r.vat_zone.as_ref()).and_then(|v| v.vat_zone_number) == Some(1);
    let vat = if domestic { round_ore(net * DANISH_VAT_RATE) } else { Decimal::ZERO };
    invoice.net_amount = Some(net);
    invoice.vat_amount = Some(vat);
    invoice.gross_amount = Some(net + vat);
}

async fn create_draft(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let grant = enter!(sim, headers);
    let mut invoice: Invoice = match sim.read_body(&headers, &body) {
        Ok(i) => i,
        Err(r) => return *r,
    };
    let base = link_base(&headers, &uri);
    let outcome = sim.with(&grant, |a| {
        let errors = validate::draft(&invoice, &|n| a.customers.contains_key(&n), &|p| a.products.contains_key(p));
        if !errors.is_empty() {
            return Err(errors);
        }
        let number = a.next_draft;
        a.next_draft += 1;
        invoice.draft_invoice_number = Some(number);
        invoice.booked_invoice_number = None;
        invoice.self_link = Some(format!("{base}/{number}"));
        fill_totals(&mut invoice);
        a.drafts.insert(number, invoice.clone());
        a.stats.drafts_created += 1;
        Ok(invoice)
    });
    match outcome {
        Some(Ok(invoice)) => match sim.reply_fault(&grant, &[Fault::DropAfterDraft]) {
            Some(_) => dropped_reply(StatusCode::CREATED, &invoice),
            None => created(&invoice),
        },
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}

async fn book(
    State(sim): State<EconomicSim>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Response {
    let grant = enter!(sim, headers);
    let request: Value = match sim.read_body(&headers, &body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Ok(request) = serde_json::from_value::<BookRequest>(request) else {
        let mut errors = validate::Errors::default();
        errors.add(
            &["draftInvoice", "draftInvoiceNumber"],
            validate::REQUIRED,
            "Property draftInvoice.draftInvoiceNumber is required.",
            None,
            "Post {\"draftInvoice\":{\"draftInvoiceNumber\":N}}.",
        );
        return sim.validation_error(errors);
    };
    let number = request.draft_invoice.draft_invoice_number;
    let base = link_base(&headers, &uri);
    let outcome = sim.with(&grant, |a| {
        let Some(mut invoice) = a.drafts.remove(&number) else {
            let mut errors = validate::Errors::default();
            errors.add(
                &["draftInvoice", "draftInvoiceNumber"],
                validate::DOES_NOT_EXIST,
                "draft invoice does not exist.",
                Some(json!(number)),
                "Find a list of resources at https://restapi.e-conomic.com/invoices/drafts.",
            );
            return Err(errors);
        };
        let booked = a.next_booked;
        a.next_booked += 1;
        invoice.draft_invoice_number = None;
        invoice.booked_invoice_number = Some(booked);
        invoice.self_link = Some(format!("{base}/{booked}"));
        a.booked.insert(booked, invoice.clone());
        a.stats.invoices_booked += 1;
        Ok(invoice)
    });
    match outcome {
        Some(Ok(invoice)) => match sim.reply_fault(&grant, &[Fault::DropAfterBook, Fault::GarbleAfterBook]) {
            Some(Fault::GarbleAfterBook) => garbled_reply(StatusCode::CREATED, &invoice),
            Some(_) => dropped_reply(StatusCode::CREATED, &invoice),
            None => created(&invoice),
        },
        Some(Err(errors)) => sim.validation_error(errors),
        None => sim.not_found("Agreement"),
    }
}
