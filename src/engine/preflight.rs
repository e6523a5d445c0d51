//! Preflight: before an import, read every order of the job's range and predict which will
//! fail and why — the same pre-check the sink makes, plus read-only lookups in the
//! accounting system (products cached per SKU; nothing is created).
//!
//! Interface (for the TUI, the planner and the CLI):
//! - [`preflight`]`(db_path, config, job, client, &Cancel, progress) -> PreflightSummary`:
//!   progress after every order ([`PreflightProgress`]: checked, read, total, predicted);
//!   cancel with [`Cancel::cancel`] (or drop the future). The result replaces the job's last
//!   preflight in the store (`Store::preflight_summary`, `Store::predicted_groups`); a
//!   cancelled run stores nothing.
//! - [`chargeable_without_predicted`]: the planner's "chargeable orders without the predicted
//!   failures" (pure).
//!
//! A prediction is the order's first failure, as the worker records it, and orders whose
//! status the integration does not transfer are skipped as the import skips them, so the
//! predicted count per cause equals the failures the import then finds (tests/preflight.rs).

use chrono::Utc;
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::Config;
use crate::connect::sink::{Sink, SinkError, sink_for};
use crate::connect::{ConnectError, OrderQuery, source_for};
use crate::domain::cause::{Cause, Failure};
use crate::domain::customer::IntegrationSettings;
use crate::domain::job::JobState;
use crate::domain::money::round_ore;
use crate::domain::order::Order;
use crate::domain::quote::{Quote, extra_orders};
use crate::store::{JobId, PredictedFailure, PreflightResult, PreflightSummary, Store, StoreError};

/// Attempts at a transient error of one lookup before the preflight gives up.
const MAX_ATTEMPTS: u32 = 5;

/// Stops a running preflight at the next order; clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How far a preflight is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PreflightProgress {
    /// Orders checked (those the import would send).
    pub checked: u64,
    /// Orders read from the shop, including those skipped for their status.
    pub read: u64,
    /// Orders in the range, when the shop said.
    pub total: Option<u64>,
    /// Orders predicted to fail so far.
    pub predicted: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the preflight could not look order {order} up in the accounting system: {error}")]
    Sink { order: String, error: SinkError },
    #[error("job {job} imports single orders and has no date range to preflight")]
    NoRange { job: JobId },
    #[error("job {job} was cancelled; create a new job to preflight its range")]
    JobCancelled { job: JobId },
    #[error("the preflight of job {job} was cancelled after {checked} orders; nothing was saved")]
    Cancelled { job: JobId, checked: u64 },
}

/// Reads and checks every order of the job's range, stores the predicted failures, and
/// returns the stored summary.
pub async fn preflight(
    db_path: &Path,
    config: &Config,
    job_id: JobId,
    client: reqwest::Client,
    cancel: &Cancel,
    mut progress: impl FnMut(&PreflightProgress) + Send,
) -> Result<PreflightSummary, PreflightError> {
    let store = Store::open(db_path)?;
    let job = store.job(job_id)?;
    if job.state == JobState::Cancelled {
        return Err(PreflightError::JobCancelled { job: job_id });
    }
    let range = job.range.ok_or(PreflightError::NoRange { job: job_id })?;
    let integration = store.integration(job.customer_id)?;
    drop(store);
    let source = source_for(&integration, client.clone())?;
    let sink = sink_for(&integration, client, config.rates.economic)?;
    let settings = &integration.settings;
    // Every status, as the worker lists them: those not transferred are skipped, not checked.
    let query = OrderQuery { range: range.to_utc(integration.timezone), statuses: Vec::new() };
    let mut state = PreflightProgress { total: source.count(&query).await.ok(), ..Default::default() };
    progress(&state);
    let mut failures = Vec::new();
    let mut skipped = 0u64;
    let mut cursor: Option<String> = None;
    let cancelled = |checked| PreflightError::Cancelled { job: job_id, checked };
    loop {
        if cancel.is_cancelled() {
            return Err(cancelled(state.checked));
        }
        let page = source.page(&query, cursor.as_deref(), source.max_page_size()).await?;
        if state.total.is_none() {
            state.total = page.total;
        }
        for order in &page.orders {
            if cancel.is_cancelled() {
                return Err(cancelled(state.checked));
            }
            state.read += 1;
            if !transfers_status(settings, &order.status) {
                skipped += 1;
                progress(&state);
                continue;
            }
            let found = check(sink.as_ref(), order, settings, cancel).await?;
            state.checked += 1;
            if let Some(predicted) = prediction(order, &found) {
                failures.push(predicted);
                state.predicted += 1;
            }
            progress(&state);
        }
        for m in &page.malformed {
            state.read += 1;
            state.checked += 1;
            state.predicted += 1;
            let id = m.id.clone().or_else(|| m.reference.clone()).unwrap_or_else(|| format!("unknown-{}", state.read));
            failures.push(PredictedFailure {
                reference: m.reference.clone().unwrap_or_else(|| id.clone()),
                shop_id: id,
                created_at: Utc::now(),
                customer: None,
                cause: Cause::MalformedShopData.as_str().to_string(),
                detail: m.detail.clone(),
                value: None,
                fix_hint: "correct the order in the webshop, then retry".to_string(),
            });
            progress(&state);
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let result = PreflightResult {
        orders_read: state.read,
        orders_checked: state.checked,
        orders_skipped: skipped,
        checked_at: Utc::now(),
        failures,
    };
    let mut store = Store::open(db_path)?;
    store.save_preflight(job_id, &result)?;
    let summary = store.preflight_summary(job_id)?;
    Ok(summary.unwrap_or(PreflightSummary {
        job_id,
        orders_read: result.orders_read,
        orders_checked: result.orders_checked,
        orders_skipped: result.orders_skipped,
        checked_at: result.checked_at,
        predicted: Vec::new(),
    }))
}

/// Whether the import sends an order of this status (the worker's rule: no statuses or
/// `any` in the settings means every status).
pub fn transfers_status(settings: &IntegrationSettings, status: &str) -> bool {
    let allowed: Vec<String> = settings.statuses.iter().map(|s| s.to_ascii_lowercase()).collect();
    allowed.is_empty() || allowed.iter().any(|s| s == "any" || *s == status.to_ascii_lowercase())
}

/// The sink's read-only check, waiting out transient errors (a 429, a dropped connection);
/// a rejection (e.g. credentials refused) is the order's predicted failure.
async fn check(
    sink: &dyn Sink,
    order: &Order,
    settings: &IntegrationSettings,
    cancel: &Cancel,
) -> Result<Vec<Failure>, PreflightError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match sink.check(order, settings).await {
            Ok(failures) => return Ok(failures),
            Err(SinkError::Rejected { failures, .. }) if !failures.is_empty() => return Ok(failures),
            Err(error) if attempt >= MAX_ATTEMPTS || matches!(error, SinkError::Rejected { .. }) => {
                return Err(PreflightError::Sink { order: order.reference.clone(), error });
            }
            Err(error) => {
                let wait = error.retry_after().unwrap_or_else(|| Duration::from_millis(500 * 2u64.pow(attempt)));
                tokio::time::sleep(wait).await;
                if cancel.is_cancelled() {
                    return Ok(Vec::new());
                }
            }
        }
    }
}

/// The order's predicted failure: its first, with every detail, as the worker records it.
fn prediction(order: &Order, failures: &[Failure]) -> Option<PredictedFailure> {
    let first = failures.first()?;
    Some(PredictedFailure {
        shop_id: order.id.clone(),
        reference: order.reference.clone(),
        created_at: order.created_at,
        customer: order.buyer.name.clone().or_else(|| order.buyer.company.clone()),
        cause: first.cause.as_str().to_string(),
        detail: failures.iter().map(|f| f.detail.as_str()).collect::<Vec<_>>().join("; "),
        value: first.value.clone(),
        fix_hint: first.fix_hint.clone(),
    })
}

/// What the customer is charged for if the predicted failures are not fixed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Chargeable {
    /// Orders to import minus those predicted to fail.
    pub orders: u64,
    pub extra_orders: u64,
    /// Excluding VAT.
    pub extra_orders_cost: Decimal,
}

/// The quote's orders without the predicted failures, and the extra orders they make.
pub fn chargeable_without_predicted(quote: &Quote, predicted_failures: u64) -> Chargeable {
    let orders = quote.orders_to_import.saturating_sub(predicted_failures);
    let extra = extra_orders(quote.used_this_month, orders, quote.monthly_quota);
    Chargeable {
        orders,
        extra_orders: extra,
        extra_orders_cost: round_ore(quote.extra_order_price * Decimal::from(extra)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cause::check_order;
    use crate::domain::customer::WebshopKind;
    use crate::domain::order::{Buyer, LineKind, OrderLine};
    use crate::domain::quote::QuoteInput;
    use rust_decimal_macros::dec;

    #[test]
    fn statuses_follow_the_worker() {
        let mut s = IntegrationSettings::default();
        assert!(transfers_status(&s, "Completed"));
        assert!(!transfers_status(&s, "on-hold"));
        s.statuses = vec!["any".into()];
        assert!(transfers_status(&s, "on-hold"));
        s.statuses.clear();
        assert!(transfers_status(&s, "refunded"));
    }

    #[test]
    fn a_prediction_is_the_first_failure_with_every_detail() {
        let order = Order {
            webshop: WebshopKind::WooCommerce,
            id: "55".into(),
            reference: "1055".into(),
            created_at: Utc::now(),
            status: "completed".into(),
            currency: "DKK".into(),
            prices_include_tax: false,
            total: dec!(100),
            total_tax: dec!(25),
            buyer: Buyer { email: Some("a@b.dk".into()), company: Some("Hansen ApS".into()), ..Buyer::default() },
            lines: vec![OrderLine {
                kind: LineKind::Product,
                sku: None,
                description: "Hoodie, navy".into(),
                quantity: dec!(0),
                unit_price: dec!(100),
                total: dec!(0),
                total_tax: dec!(0),
            }],
        };
        let failures = check_order(&order, &IntegrationSettings::default());
        let p = prediction(&order, &failures).unwrap();
        assert_eq!(p.cause, "missing_sku");
        assert_eq!(
            p.detail,
            "line 1 'Hoodie, navy': no SKU; line 1 'Hoodie, navy': quantity is 0, which the accounting system refuses"
        );
        assert_eq!(p.value.as_deref(), Some("sku"));
        assert_eq!(p.customer.as_deref(), Some("Hansen ApS"));
        assert!(prediction(&order, &[]).is_none());
    }

    #[test]
    fn chargeable_orders_leave_the_predicted_failures_out() {
        let plans = crate::domain::plan::sample_plans();
        let quote = Quote::compute(&QuoteInput {
            plan: plans[0].clone(),
            pricing: crate::domain::quote::Pricing::default(),
            used_this_month: 50,
            orders_in_range: 200,
            already_transferred: 0,
            range: None,
            integration_since: None,
            webshop: Some(WebshopKind::WooCommerce),
            technician_half_hours: 1,
            source_rate: crate::config::Rates::default().woocommerce,
            sink_rate: crate::config::Rates::default().economic,
            now: Utc::now(),
            tz: crate::domain::calendar::DEFAULT_TZ,
        });
        assert_eq!(quote.extra_orders, 50);
        let c = chargeable_without_predicted(&quote, 20);
        assert_eq!((c.orders, c.extra_orders, c.extra_orders_cost), (180, 30, dec!(90.00)));
        let c = chargeable_without_predicted(&quote, 500);
        assert_eq!((c.orders, c.extra_orders), (0, 0));
    }

    #[test]
    fn cancel_is_shared_by_clones() {
        let c = Cancel::new();
        let d = c.clone();
        assert!(!d.is_cancelled());
        c.cancel();
        assert!(d.is_cancelled());
    }

    #[test]
    fn the_preflight_future_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let config = Config::default();
        let cancel = Cancel::new();
        let fut = preflight(Path::new("x.db"), &config, 1, reqwest::Client::new(), &cancel, |_| {});
        assert_send(&fut);
    }
}
