//! e-conomic as a [`Sink`]: find or create the customer, check or create the products, post a
//! draft invoice carrying the shop reference, book it. Every call waits at the agreement's
//! gate; GETs retry, the draft and booking POSTs never do once they may have been sent.

use async_trait::async_trait;
use chrono_tz::Tz;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::economic_gate::{AccountGate, gate_for};
use super::economic_wire::{
    BookRequest, Collection, Customer, CustomerGroupRef, CustomerRef, DraftRef, ErrorBody, FieldError, Invoice,
    InvoiceLine, LayoutRef, Notes, PaymentTermsRef, Product, ProductGroupRef, ProductRef, Recipient, References,
    VatZoneRef, encode_product_number, filter_eq,
};
use super::http::{self, ConnectError, System, check_base_url, host_of};
use super::retry::RetryPolicy;
use super::sink::{InvoiceKind, InvoiceRef, SendStep, Sink, SinkError};
use crate::domain::calendar::{DEFAULT_TZ, local_date};
use crate::domain::cause::{Cause, Failure, MAX_PRODUCT_NUMBER_CHARS, check_order, line_label};
use crate::domain::customer::{CustomerMatching, IntegrationSettings};
use crate::domain::money::round_ore;
use crate::domain::order::{LineKind, Order};

const SYSTEM: System = System::Economic;
const NAME: &str = "e-conomic";
/// e-conomic's code for "does not exist".
const DOES_NOT_EXIST: &str = "E06000";

/// Lookups shared by every clone: a product's existence and an e-mail's customer number.
#[derive(Default)]
struct Cache {
    products: Mutex<HashMap<String, ProductState>>,
    customers: Mutex<HashMap<String, u64>>,
    /// Held while a customer is looked up and maybe created, so two orders from one new
    /// buyer do not create two customers.
    customer_creation: tokio::sync::Mutex<()>,
    product_creation: tokio::sync::Mutex<()>,
}

/// What e-conomic holds for a SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProductState {
    Missing,
    Present,
    /// Exists but may not be sold.
    Barred,
}

/// A client for one e-conomic agreement. Clones share the cache and the agreement's gate.
#[derive(Clone)]
pub struct Economic {
    client: reqwest::Client,
    base: url::Url,
    host: String,
    app_secret: SecretString,
    grant: SecretString,
    gate: Arc<AccountGate>,
    timezone: Tz,
    retry: RetryPolicy,
    cache: Arc<Cache>,
}

/// How one HTTP call went, as far as "was it processed?" is concerned.
#[derive(Debug)]
enum CallError {
    /// Certainly not processed: no connection was made, or the server refused up front
    /// (429, 503).
    NotProcessed { error: ConnectError, retry_after: Option<Duration> },
    /// Sent, and the reply was lost, cut or unreadable: it may have been processed.
    Lost(ConnectError),
    /// The server answered with an error status.
    Status { status: u16, body: Option<ErrorBody>, raw: String, error: ConnectError },
}

impl CallError {
    fn connect_error(&self) -> &ConnectError {
        match self {
            CallError::NotProcessed { error, .. } | CallError::Lost(error) | CallError::Status { error, .. } => error,
        }
    }
}

impl Economic {
    /// A client for the agreement at `base_url` (`https://restapi.e-conomic.com`, or the
    /// simulator on loopback). The tokens travel in headers only.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        app_secret: SecretString,
        grant_token: SecretString,
    ) -> Result<Economic, ConnectError> {
        let base = check_base_url(SYSTEM, base_url)?;
        let host = host_of(&base);
        let rate = crate::config::Rates::default().economic.requests_per_second;
        let gate = gate_for(&base, &grant_token, rate);
        Ok(Economic {
            client,
            base,
            host,
            app_secret,
            grant: grant_token,
            gate,
            timezone: DEFAULT_TZ,
            retry: RetryPolicy::default(),
            cache: Arc::new(Cache::default()),
        })
    }

    /// Paces calls to the agreement at this many per second (for every client of it).
    pub fn with_rate(self, requests_per_second: f64) -> Economic {
        self.gate.set_rate(requests_per_second);
        self
    }

    /// The shop's time zone: an invoice is dated with the order's local date.
    pub fn with_timezone(mut self, timezone: Tz) -> Economic {
        self.timezone = timezone;
        self
    }

    /// How GETs are retried.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Economic {
        self.retry = retry;
        self
    }

    /// The agreement's gate (its pause and pacing), shared with every client of the agreement.
    pub fn gate(&self) -> &AccountGate {
        &self.gate
    }

    /// Forgets whether a product exists, e.g. after the customer created it.
    pub fn forget_product(&self, sku: &str) {
        self.cache.products.lock().unwrap_or_else(PoisonError::into_inner).remove(sku);
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, ConnectError> {
        let mut url = self.base.join(path).map_err(|e| ConnectError::BadUrl {
            system: SYSTEM,
            url: http::redact_url(self.base.as_str()),
            reason: e.to_string(),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Never lets a token into a message, even if a server echoes it.
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in [self.app_secret.expose_secret(), self.grant.expose_secret()] {
            if !secret.is_empty() {
                out = out.replace(secret, "[redacted]");
            }
        }
        out
    }

    /// One request: wait at the gate, send, read the whole body, classify.
    async fn call(&self, method: Method, url: url::Url, body: Option<Vec<u8>>) -> Result<Vec<u8>, CallError> {
        self.gate.ready().await;
        let mut request = self
            .client
            .request(method, url)
            .header("X-AppSecretToken", self.app_secret.expose_secret())
            .header("X-AgreementGrantToken", self.grant.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(|e| {
            let error = http::transport_error(SYSTEM, &self.host, &e);
            // Only a failed connect proves the request never left.
            if e.is_connect() { CallError::NotProcessed { error, retry_after: None } } else { CallError::Lost(error) }
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes =
            response.bytes().await.map_err(|e| CallError::Lost(http::transport_error(SYSTEM, &self.host, &e)))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let code = status.as_u16();
        let raw = self.scrub(&String::from_utf8_lossy(&bytes));
        let parsed: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        let message = self.scrub(
            parsed
                .as_ref()
                .map(|b| b.message.trim())
                .filter(|m| !m.is_empty())
                .or(status.canonical_reason())
                .unwrap_or("no message"),
        );
        if code == 429 || code == 503 {
            let seconds = http::retry_after_seconds(&headers, 2);
            let wait = Duration::from_secs(seconds);
            let error = if code == 429 {
                // Everyone using this agreement waits, not just this task.
                self.gate.pause_for(wait);
                ConnectError::RateLimited { system: SYSTEM, host: self.host.clone(), retry_after_seconds: seconds }
            } else {
                ConnectError::ServerError { system: SYSTEM, host: self.host.clone(), status: code, message }
            };
            return Err(CallError::NotProcessed { error, retry_after: Some(wait) });
        }
        let host = self.host.clone();
        let error = match code {
            401 | 403 => ConnectError::Unauthorized { system: SYSTEM, host, status: code, message },
            404 => ConnectError::NotFound { system: SYSTEM, host, what: message },
            500..=599 => ConnectError::ServerError { system: SYSTEM, host, status: code, message },
            _ => {
                let first = parsed.as_ref().and_then(|b| b.field_errors().into_iter().next());
                let code_text =
                    first.as_ref().and_then(|f| f.code.clone()).or(parsed.as_ref().and_then(|b| b.error_code.clone()));
                let message = match &first {
                    Some(f) => format!("{message} {}: {}", f.path, f.message),
                    None => message,
                };
                ConnectError::Rejected { system: SYSTEM, host, status: code, code: code_text, message }
            }
        };
        Err(CallError::Status { status: code, body: parsed, raw, error })
    }

    /// A GET with retries; `Ok(None)` on 404.
    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<Option<T>, CallError> {
        let url = self.url(path, query).map_err(|error| CallError::NotProcessed { error, retry_after: None })?;
        let (mut retries, mut rate_limit_retries) = (0u32, 0u32);
        loop {
            let outcome = match self.call(Method::GET, url.clone(), None).await {
                Ok(bytes) => match serde_json::from_slice::<T>(&bytes) {
                    Ok(value) => return Ok(Some(value)),
                    Err(e) => CallError::Lost(ConnectError::Malformed {
                        system: SYSTEM,
                        host: self.host.clone(),
                        detail: format!("{path}: {e}"),
                    }),
                },
                Err(CallError::Status { status: 404, .. }) => return Ok(None),
                Err(e) => e,
            };
            let retryable = match &outcome {
                CallError::NotProcessed { .. } | CallError::Lost(_) => true,
                CallError::Status { status, .. } => *status >= 500,
            };
            let rate_limited = matches!(outcome.connect_error(), ConnectError::RateLimited { .. });
            let exhausted = if rate_limited {
                rate_limit_retries += 1;
                rate_limit_retries > self.retry.max_rate_limit_retries
            } else {
                retries += 1;
                retries > self.retry.max_retries
            };
            if !retryable || exhausted {
                return Err(outcome);
            }
            // After a 429 the gate already holds everyone back for Retry-After.
            if !rate_limited {
                tokio::time::sleep(self.retry.backoff(retries - 1)).await;
            }
            tracing::debug!(error = %outcome.connect_error(), "retrying e-conomic GET");
        }
    }

    /// A POST, sent once.
    async fn post<B: Serialize + Sync, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, CallError> {
        let url = self.url(path, &[]).map_err(|error| CallError::NotProcessed { error, retry_after: None })?;
        let body = serde_json::to_vec(body).map_err(|e| CallError::NotProcessed {
            error: ConnectError::Malformed { system: SYSTEM, host: self.host.clone(), detail: e.to_string() },
            retry_after: None,
        })?;
        let bytes = self.call(Method::POST, url, Some(body)).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            CallError::Lost(ConnectError::Malformed {
                system: SYSTEM,
                host: self.host.clone(),
                detail: format!("the reply to POST {path} cannot be read: {e}"),
            })
        })
    }

    /// What a failed call means for an order, outside the draft and booking POSTs (where a
    /// lost reply is only a lost lookup, or a customer or product found next time).
    fn lookup_error(&self, order: &Order, error: CallError) -> SinkError {
        match error {
            CallError::NotProcessed { error, retry_after } => {
                SinkError::Transient { order: order.reference.clone(), error, retry_after }
            }
            CallError::Lost(error) => SinkError::Transient { order: order.reference.clone(), error, retry_after: None },
            CallError::Status { status, error, .. } if status >= 500 => {
                SinkError::Transient { order: order.reference.clone(), error, retry_after: None }
            }
            other => self.rejection(order, other),
        }
    }

    /// A 4xx as the order's failures.
    fn rejection(&self, order: &Order, error: CallError) -> SinkError {
        let failures = match error {
            CallError::Status { status: 401 | 403, error, raw, .. } => vec![
                Failure::new(
                    Cause::Auth,
                    &order.reference,
                    error.to_string(),
                    "renew the integration's e-conomic grant (the agreement may have revoked it) and check the app secret, then retry",
                )
                .with_vendor(None, None, Some(raw)),
            ],
            CallError::Status { body, raw, error, .. } => {
                let fields = body.map(|b| b.field_errors()).unwrap_or_default();
                let mut failures: Vec<Failure> = fields.iter().map(|f| self.field_failure(order, f, &raw)).collect();
                if failures.is_empty() {
                    failures.push(
                        Failure::new(
                            Cause::AccountingValidation,
                            &order.reference,
                            error.to_string(),
                            "correct the order or the integration's settings as the message says, then retry",
                        )
                        .with_vendor(None, None, Some(raw)),
                    );
                }
                failures
            }
            CallError::NotProcessed { error, .. } | CallError::Lost(error) => vec![Failure::new(
                Cause::Network,
                &order.reference,
                error.to_string(),
                "nothing to fix if it passes on retry",
            )],
        };
        SinkError::Rejected { system: SYSTEM, order: order.reference.clone(), failures }
    }

    /// One field error of an annotated 400, as a failure the customer can act on.
    fn field_failure(&self, order: &Order, f: &FieldError, raw: &str) -> Failure {
        let code = f.code.clone();
        let code_text = code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        let line = f.line_index.and_then(|i| order.lines.get(i).map(|l| (i, l)));
        let vendor = |failure: Failure| failure.with_vendor(code.clone(), Some(f.path.clone()), Some(raw.to_string()));
        if let (Some((i, l)), "product", Some(DOES_NOT_EXIST)) = (line, f.property.as_str(), code.as_deref()) {
            let sku = f.value.clone().or_else(|| l.sku.clone()).unwrap_or_default();
            self.forget_product(&sku);
            let failure = Failure::missing_product(order, i, &sku, NAME);
            let detail = format!("{}: product {sku} does not exist{code_text}", line_label(i, l));
            return vendor(Failure { detail, ..failure });
        }
        let place = match line {
            Some((i, l)) => line_label(i, l),
            None => f.path.clone(),
        };
        let value = f.value.as_deref().map(|v| format!(" (sent: {v})")).unwrap_or_default();
        let detail = format!("{place}: {}{value}{code_text}", f.message.trim_end_matches('.'));
        let fix_hint = if f.path == "customer" && code.as_deref() == Some(DOES_NOT_EXIST) {
            self.cache.customers.lock().unwrap_or_else(PoisonError::into_inner).clear();
            "the customer does not exist in e-conomic: create it, or correct the integration's shared customer number, then retry".to_string()
        } else {
            format!(
                "correct {} as e-conomic says ({}), in the webshop or the integration's settings, then retry",
                f.path,
                f.message.trim_end_matches('.')
            )
        };
        let mut failure = vendor(Failure::new(Cause::AccountingValidation, &order.reference, detail, fix_hint));
        if let Some((i, _)) = line {
            failure = failure.at_line(i + 1);
        }
        failure.value = f.value.clone();
        failure
    }

    async fn find_in(&self, path: &str, reference: &str) -> Result<Option<Invoice>, CallError> {
        let filter = filter_eq("references.other", reference);
        let page: Option<Collection<Invoice>> = self.get(path, &[("filter", &filter), ("pagesize", "100")]).await?;
        // Filters compare strings case-insensitively; a reference must match exactly.
        let mut matching: Vec<Invoice> = page
            .map(|p| p.collection)
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.reference() == Some(reference))
            .collect();
        matching.sort_by_key(|i| i.booked_invoice_number.or(i.draft_invoice_number));
        Ok(matching.into_iter().next())
    }

    async fn find(&self, reference: &str) -> Result<Option<InvoiceRef>, CallError> {
        if let Some(booked) = self.find_in("invoices/booked", reference).await?
            && let Some(number) = booked.booked_invoice_number
        {
            return Ok(Some(InvoiceRef { kind: InvoiceKind::Booked, number, reference: reference.to_string() }));
        }
        if let Some(draft) = self.find_in("invoices/drafts", reference).await?
            && let Some(number) = draft.draft_invoice_number
        {
            return Ok(Some(InvoiceRef { kind: InvoiceKind::Draft, number, reference: reference.to_string() }));
        }
        Ok(None)
    }

    /// The customer number to book the order on: the shared one, or the buyer's by e-mail
    /// (created when missing).
    async fn customer_number(&self, order: &Order, settings: &IntegrationSettings) -> Result<u64, SinkError> {
        let email = match &settings.customer_matching {
            CustomerMatching::Shared { customer_number } => return Ok(u64::from(*customer_number)),
            CustomerMatching::Email => order.buyer.email.clone().unwrap_or_default(),
        };
        let key = email.trim().to_lowercase();
        let cached = |cache: &Cache| cache.customers.lock().unwrap_or_else(PoisonError::into_inner).get(&key).copied();
        if let Some(n) = cached(&self.cache) {
            return Ok(n);
        }
        let _creating = self.cache.customer_creation.lock().await;
        if let Some(n) = cached(&self.cache) {
            return Ok(n);
        }
        let filter = filter_eq("email", email.trim());
        let found: Option<Collection<Customer>> = self
            .get("customers", &[("filter", &filter), ("pagesize", "1")])
            .await
            .map_err(|e| self.lookup_error(order, e))?;
        let existing = found.and_then(|page| page.collection.into_iter().find_map(|c| c.customer_number));
        let number = match existing {
            Some(n) => n,
            None => {
                let created: Customer = self
                    .post("customers", &new_customer(order, settings))
                    .await
                    .map_err(|e| self.lookup_error(order, e))?;
                created.customer_number.ok_or_else(|| SinkError::Transient {
                    order: order.reference.clone(),
                    error: ConnectError::Malformed {
                        system: SYSTEM,
                        host: self.host.clone(),
                        detail: "the created customer has no customerNumber".into(),
                    },
                    retry_after: None,
                })?
            }
        };
        self.cache.customers.lock().unwrap_or_else(PoisonError::into_inner).insert(key, number);
        Ok(number)
    }

    async fn product_state(&self, sku: &str) -> Result<ProductState, CallError> {
        if let Some(known) = self.cache.products.lock().unwrap_or_else(PoisonError::into_inner).get(sku).copied() {
            return Ok(known);
        }
        let path = format!("products/{}", encode_product_number(sku));
        let state = match self.get::<Product>(&path, &[]).await? {
            None => ProductState::Missing,
            Some(p) if p.barred => ProductState::Barred,
            Some(_) => ProductState::Present,
        };
        self.cache.products.lock().unwrap_or_else(PoisonError::into_inner).insert(sku.to_string(), state);
        Ok(state)
    }

    /// Every product line's SKU exists and may be sold afterwards, or the order is rejected
    /// naming each line at fault. Missing products are created only when the settings allow.
    async fn ensure_products(&self, order: &Order, settings: &IntegrationSettings) -> Result<(), SinkError> {
        let mut failures = Vec::new();
        for (index, line) in order.product_lines() {
            let Some(sku) = line.sku.as_deref() else { continue };
            let mut state = self.product_state(sku).await.map_err(|e| self.lookup_error(order, e))?;
            if state == ProductState::Missing && settings.create_missing_products {
                let _creating = self.cache.product_creation.lock().await;
                // Another task may have created it while this one waited.
                self.forget_product(sku);
                state = self.product_state(sku).await.map_err(|e| self.lookup_error(order, e))?;
                if state == ProductState::Missing {
                    failures.extend(self.create_product(order, sku, line, settings).await?);
                    continue;
                }
            }
            failures.extend(product_failure(order, index, sku, state, settings));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(SinkError::Rejected { system: SYSTEM, order: order.reference.clone(), failures })
        }
    }

    /// Creates a product for a line; a 4xx comes back as the line's failures.
    async fn create_product(
        &self,
        order: &Order,
        sku: &str,
        line: &crate::domain::order::OrderLine,
        settings: &IntegrationSettings,
    ) -> Result<Vec<Failure>, SinkError> {
        let product = Product {
            product_number: Some(sku.to_string()),
            name: Some(line.description.trim().to_string()).filter(|d| !d.is_empty()).or_else(|| Some(sku.to_string())),
            sales_price: Some(round_ore(line.unit_price)),
            product_group: Some(ProductGroupRef { product_group_number: Some(settings.product_group_number) }),
            barred: false,
        };
        match self.post::<_, Product>("products", &product).await {
            Ok(_) => {
                self.cache
                    .products
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(sku.to_string(), ProductState::Present);
                Ok(Vec::new())
            }
            Err(e @ CallError::Status { status: 400..=499, .. }) => match self.rejection(order, e) {
                SinkError::Rejected { failures, .. } => Ok(failures),
                other => Err(other),
            },
            // A lost reply to a product POST is harmless: the next attempt looks it up first.
            Err(e) => Err(self.lookup_error(order, e)),
        }
    }

    /// The draft invoice for an order: every line, the shop reference in `references.other`.
    pub fn draft_for(&self, order: &Order, settings: &IntegrationSettings, customer_number: u64) -> Invoice {
        let buyer = &order.buyer;
        let lines = order
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let product = match (line.kind, &line.sku) {
                    (LineKind::Product, Some(sku)) => Some(ProductRef { product_number: Some(sku.clone()) }),
                    _ => None,
                };
                // A discount lowers the invoice whichever sign the shop used.
                let price = match line.kind {
                    LineKind::Discount => -line.unit_price.abs(),
                    _ => line.unit_price,
                };
                let description = Some(line.description.trim())
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| default_description(line.kind, line.sku.as_deref()));
                InvoiceLine {
                    line_number: Some(i as u32 + 1),
                    sort_key: Some(i as u32 + 1),
                    product,
                    description: Some(description),
                    quantity: Some(line.quantity),
                    unit_net_price: Some(round_ore(price)),
                    ..InvoiceLine::default()
                }
            })
            .collect();
        Invoice {
            date: Some(local_date(order.created_at, self.timezone).format("%Y-%m-%d").to_string()),
            currency: Some(order.currency.clone()),
            customer: Some(CustomerRef { customer_number: Some(customer_number) }),
            recipient: Some(Recipient {
                name: buyer.company.clone().or_else(|| buyer.name.clone()),
                address: buyer.address.clone(),
                zip: buyer.postcode.clone(),
                city: buyer.city.clone(),
                country: buyer.country.clone(),
                vat_zone: Some(VatZoneRef { vat_zone_number: Some(settings.vat_zone_number) }),
            }),
            layout: Some(LayoutRef { layout_number: Some(settings.layout_number) }),
            payment_terms: Some(PaymentTermsRef { payment_terms_number: Some(settings.payment_terms_number) }),
            references: Some(References { other: Some(order.reference.clone()) }),
            notes: Some(Notes { heading: Some(format!("{} order {}", order.webshop.display_name(), order.reference)) }),
            lines,
            ..Invoice::default()
        }
    }

    /// The draft and booking POSTs: a lost reply means the invoice may exist.
    fn send_error(&self, order: &Order, step: SendStep, error: CallError) -> SinkError {
        match error {
            CallError::NotProcessed { error, retry_after } => {
                SinkError::Transient { order: order.reference.clone(), error, retry_after }
            }
            CallError::Lost(error) => {
                SinkError::OutcomeUnknown { system: SYSTEM, order: order.reference.clone(), step, error }
            }
            CallError::Status { status, error, .. } if status >= 500 => {
                SinkError::OutcomeUnknown { system: SYSTEM, order: order.reference.clone(), step, error }
            }
            other => self.rejection(order, other),
        }
    }

    async fn book(&self, order: &Order, draft_number: u64) -> Result<InvoiceRef, SinkError> {
        let request = BookRequest { draft_invoice: DraftRef { draft_invoice_number: draft_number } };
        let booked: Invoice =
            self.post("invoices/booked", &request).await.map_err(|e| self.send_error(order, SendStep::Book, e))?;
        let number = booked.booked_invoice_number.ok_or_else(|| SinkError::OutcomeUnknown {
            system: SYSTEM,
            order: order.reference.clone(),
            step: SendStep::Book,
            error: ConnectError::Malformed {
                system: SYSTEM,
                host: self.host.clone(),
                detail: "the booking reply has no bookedInvoiceNumber".into(),
            },
        })?;
        Ok(InvoiceRef { kind: InvoiceKind::Booked, number, reference: order.reference.clone() })
    }
}

/// What is wrong with a product line given what e-conomic holds (a missing product that will
/// be created is fine).
fn product_failure(
    order: &Order,
    index: usize,
    sku: &str,
    state: ProductState,
    settings: &IntegrationSettings,
) -> Option<Failure> {
    match state {
        ProductState::Present => None,
        ProductState::Missing if settings.create_missing_products => None,
        ProductState::Missing => Some(Failure::missing_product(order, index, sku, NAME)),
        ProductState::Barred => {
            let label = order.lines.get(index).map_or_else(|| format!("line {}", index + 1), |l| line_label(index, l));
            Some(
                Failure::new(
                    Cause::AccountingValidation,
                    &order.reference,
                    format!("{label}: product {sku} is barred in e-conomic"),
                    format!(
                        "lift the bar on product {sku} in e-conomic (or correct the SKU in the webshop), then retry"
                    ),
                )
                .at_line(index + 1)
                .with_value(sku)
                .with_vendor(None, Some(format!("lines[{index}].product")), None),
            )
        }
    }
}

fn default_description(kind: LineKind, sku: Option<&str>) -> String {
    match (kind, sku) {
        (LineKind::Product, Some(sku)) => format!("Product {sku}"),
        (LineKind::Product, None) => "Product".into(),
        (LineKind::Shipping, _) => "Shipping".into(),
        (LineKind::Fee, _) => "Fee".into(),
        (LineKind::Discount, _) => "Discount".into(),
    }
}

/// A customer for the order's buyer, with every field e-conomic requires.
fn new_customer(order: &Order, settings: &IntegrationSettings) -> Customer {
    let b = &order.buyer;
    Customer {
        customer_number: None,
        name: b.company.clone().or_else(|| b.name.clone()),
        email: b.email.as_deref().map(str::trim).map(str::to_string),
        currency: Some(order.currency.clone()),
        customer_group: Some(CustomerGroupRef { customer_group_number: Some(settings.customer_group_number) }),
        payment_terms: Some(PaymentTermsRef { payment_terms_number: Some(settings.payment_terms_number) }),
        vat_zone: Some(VatZoneRef { vat_zone_number: Some(settings.vat_zone_number) }),
        address: b.address.clone(),
        zip: b.postcode.clone(),
        city: b.city.clone(),
        country: b.country.clone(),
        telephone_and_fax_number: b.phone.clone(),
    }
}

#[async_trait]
impl Sink for Economic {
    fn system(&self) -> System {
        SYSTEM
    }

    async fn find_invoice(&self, reference: &str) -> Result<Option<InvoiceRef>, SinkError> {
        self.find(reference).await.map_err(|e| match e {
            CallError::NotProcessed { error, retry_after } => {
                SinkError::Transient { order: reference.to_string(), error, retry_after }
            }
            CallError::Status { status: 401 | 403, error, raw, .. } => SinkError::Rejected {
                system: SYSTEM,
                order: reference.to_string(),
                failures: vec![
                    Failure::new(
                        Cause::Auth,
                        reference,
                        error.to_string(),
                        "renew the integration's e-conomic grant and check the app secret, then retry",
                    )
                    .with_vendor(None, None, Some(raw)),
                ],
            },
            CallError::Status { status: 400..=499, error, raw, .. } => SinkError::Rejected {
                system: SYSTEM,
                order: reference.to_string(),
                failures: vec![
                    Failure::new(
                        Cause::AccountingValidation,
                        reference,
                        format!("looking the invoice up by its reference failed: {error}"),
                        "check that the reference can be searched in e-conomic; report it if the message makes no sense",
                    )
                    .with_value(reference)
                    .with_vendor(None, Some("references.other".into()), Some(raw)),
                ],
            },
            other => SinkError::Transient {
                order: reference.to_string(),
                error: other.connect_error().clone(),
                retry_after: None,
            },
        })
    }

    async fn check(&self, order: &Order, settings: &IntegrationSettings) -> Result<Vec<Failure>, SinkError> {
        let mut failures = check_order(order, settings);
        if let CustomerMatching::Shared { customer_number } = settings.customer_matching {
            let path = format!("customers/{customer_number}");
            let found: Option<Customer> = self.get(&path, &[]).await.map_err(|e| self.lookup_error(order, e))?;
            if found.is_none() {
                failures.push(Failure::new(
                    Cause::AccountingValidation,
                    &order.reference,
                    format!("the shared customer {customer_number} does not exist in e-conomic"),
                    format!("create customer {customer_number} in e-conomic, or correct the integration's shared customer number, then retry"),
                ).with_value(customer_number.to_string()).with_vendor(None, Some("customer".into()), None));
            }
        }
        for (index, line) in order.product_lines() {
            let Some(sku) = line.sku.as_deref().filter(|s| s.chars().count() <= MAX_PRODUCT_NUMBER_CHARS) else {
                continue;
            };
            let state = self.product_state(sku).await.map_err(|e| self.lookup_error(order, e))?;
            failures.extend(product_failure(order, index, sku, state, settings));
        }
        Ok(failures)
    }

    async fn transfer(&self, order: &Order, settings: &IntegrationSettings) -> Result<InvoiceRef, SinkError> {
        let failures = check_order(order, settings);
        if !failures.is_empty() {
            return Err(SinkError::Rejected { system: SYSTEM, order: order.reference.clone(), failures });
        }
        // No idempotency key: the reference is the only guard against a second invoice.
        match self.find_invoice(&order.reference).await? {
            Some(invoice) if invoice.is_booked() => return Ok(invoice),
            Some(draft) => return self.book(order, draft.number).await,
            None => {}
        }
        let customer = self.customer_number(order, settings).await?;
        self.ensure_products(order, settings).await?;
        let draft = self.draft_for(order, settings, customer);
        let created: Invoice =
            self.post("invoices/drafts", &draft).await.map_err(|e| self.send_error(order, SendStep::Draft, e))?;
        let number = created.draft_invoice_number.ok_or_else(|| SinkError::OutcomeUnknown {
            system: SYSTEM,
            order: order.reference.clone(),
            step: SendStep::Draft,
            error: ConnectError::Malformed {
                system: SYSTEM,
                host: self.host.clone(),
                detail: "the draft reply has no draftInvoiceNumber".into(),
            },
        })?;
        self.book(order, number).await
    }

    fn forget_cache(&self) {
        self.cache.products.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.cache.customers.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::WebshopKind;
    use crate::domain::order::{Buyer, OrderLine};
    use chrono::{TimeZone, Utc};
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    fn order() -> Order {
        let line = |kind, sku: Option<&str>, description: &str, price: Decimal| OrderLine {
            kind,
            sku: sku.map(str::to_string),
            description: description.into(),
            quantity: dec!(1),
            unit_price: price,
            total: price,
            total_tax: Decimal::ZERO,
        };
        Order {
            webshop: WebshopKind::WooCommerce,
            id: "1042".into(),
            reference: "#1042".into(),
            // 23:30 UTC on the last of February is 1 March in Copenhagen.
            created_at: Utc.with_ymd_and_hms(2026, 2, 28, 23, 30, 0).unwrap(),
            status: "completed".into(),
            currency: "DKK".into(),
            prices_include_tax: false,
            total: dec!(0),
            total_tax: dec!(0),
            buyer: Buyer { name: Some("Mette Hansen".into()), email: Some("m@example.dk".into()), ..Buyer::default() },
            lines: vec![
                line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(159.96)),
                line(LineKind::Shipping, None, "", dec!(39.2)),
                line(LineKind::Discount, None, "Coupon SPRING", dec!(20.005)),
            ],
        }
    }

    #[test]
    fn the_draft_carries_every_line_the_reference_and_the_local_date() {
        let economic = Economic::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/economic",
            SecretString::from("s"),
            SecretString::from("g"),
        )
        .unwrap();
        let settings = IntegrationSettings::default();
        let draft = economic.draft_for(&order(), &settings, 7);
        assert_eq!(draft.date.as_deref(), Some("2026-03-01"));
        assert_eq!(draft.reference(), Some("#1042"));
        assert_eq!(draft.customer.as_ref().and_then(|c| c.customer_number), Some(7));
        assert_eq!(draft.layout.as_ref().and_then(|l| l.layout_number), Some(settings.layout_number));
        assert_eq!(draft.lines.len(), 3);
        assert_eq!(draft.lines[0].product.as_ref().and_then(|p| p.product_number.as_deref()), Some("TSHIRT-BL"));
        assert_eq!(draft.lines[1].product, None);
        assert_eq!(draft.lines[1].description.as_deref(), Some("Shipping"), "a description is always set");
        assert_eq!(draft.lines[2].unit_net_price, Some(dec!(-20.01)), "discounts lower the total, in øre");
        let json = serde_json::to_value(&draft).unwrap();
        assert_eq!(json["lines"][0]["unitNetPrice"], 159.96);
        assert_eq!(json["references"]["other"], "#1042");
    }

    #[test]
    fn secrets_never_reach_urls_or_debug_output() {
        let economic = Economic::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/economic/",
            SecretString::from("app-secret-123"),
            SecretString::from("grant-456"),
        )
        .unwrap();
        let url = economic.url("customers", &[("filter", "email$eq:a@b.dk")]).unwrap();
        assert!(!url.as_str().contains("secret") && !url.as_str().contains("grant-456"));
        assert_eq!(economic.scrub("echo grant-456 and app-secret-123"), "echo [redacted] and [redacted]");
        assert!(
            Economic::new(
                reqwest::Client::new(),
                "http://example.com",
                SecretString::from("a"),
                SecretString::from("b")
            )
            .is_err()
        );
    }
}
