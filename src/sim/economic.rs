//! A simulated e-conomic REST API (axum), mounted at `/economic`: agreements chosen by their
//! tokens, customers, products, draft and booked invoices, filters and pagination, validation
//! errors in e-conomic's annotated format, a per-agreement rate limit, latency, and faults
//! that cut the connection after a draft or booking was committed.

mod filter;
mod reply;
mod routes;
mod validate;

use axum::Router;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

use crate::connect::economic_wire::{Customer, Invoice, Product, ProductGroupRef};
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
}
