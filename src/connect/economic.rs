//! e-conomic as a [`Sink`]: find or create the customer, check or create the products, post a
//! draft invoice carrying the shop reference, book it. Every call waits at the agreement's
//! gate; GETs retry, the draft and booking POSTs never do once they may have been sent.

mod call;
mod draft;
mod failures;

use call::CallError;
use draft::new_customer;
use failures::product_failure;

use async_trait::async_trait;
use chrono_tz::Tz;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::economic_gate::{AccountGate, gate_for};
use super::economic_wire::{
    BookRequest, Collection, Customer, DraftRef, Invoice, Product, ProductGroupRef, encode_product_number, filter_eq,
};
use super::http::{ConnectError, System, check_base_url, host_of};
use super::retry::RetryPolicy;
use super::sink::{InvoiceKind, InvoiceRef, SendStep, Sink, SinkError};
use crate::domain::calendar::DEFAULT_TZ;
use crate::domain::cause::{Cause, Failure, MAX_PRODUCT_NUMBER_CHARS, check_order};
use crate::domain::customer::{CustomerMatching, IntegrationSettings};
use crate::domain::money::round_ore;
use crate::domain::order::{Order, OrderLine};

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
        line: &OrderLine,
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
