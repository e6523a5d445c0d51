//! The phone-call estimate: count a range at the shop, read usage from the store, price it.
//! One code path for the TUI's planner and `importdesk quote`.

use chrono::{DateTime, Duration, Utc};

use crate::config::Config;
use crate::connect::{ConnectError, OrderQuery, Source};
use crate::domain::calendar::{DateRange, Month};
use crate::domain::customer::{CustomerId, Integration};
use crate::domain::plan::Plan;
use crate::domain::quote::{Quote, QuoteInput};
use crate::store::{CustomerSummary, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("customer {customer} is on plan '{plan}', which the config file does not define; add it under [[plans]]")]
    UnknownPlan { customer: String, plan: String },
    #[error(
        "the whole range is on or after the integration's start {since}: the integration transferred those orders already; pick days before {since}"
    )]
    NothingBeforeStart { since: chrono::NaiveDate },
}

/// What the planner needs to know about a customer before any request is made.
#[derive(Debug, Clone)]
pub struct PlanningContext {
    pub customer: CustomerSummary,
    pub integration: Integration,
    pub plan: Plan,
    pub month: Month,
    pub used_this_month: u64,
}

pub fn load_context(
    store: &Store,
    config: &Config,
    customer_id: CustomerId,
    now: DateTime<Utc>,
) -> Result<PlanningContext, EstimateError> {
    let customer = store.customer(customer_id)?;
    let integration = store.integration(customer_id)?;
    let plan = config.plan(&customer.customer.plan).cloned().ok_or_else(|| EstimateError::UnknownPlan {
        customer: customer.customer.name.clone(),
        plan: customer.customer.plan.clone(),
    })?;
    let month = Month::containing(now, config.user_tz());
    let used_this_month = store.usage(customer_id, month)?;
    Ok(PlanningContext { customer, integration, plan, month, used_this_month })
}

/// Orders in the range, and how many of them the integration already transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeCounts {
    pub in_range: u64,
    pub already_transferred: u64,
}

/// Two count requests at most, sent together: the whole range, and its part from the
/// integration's start on.
pub async fn count_range(
    source: &dyn Source,
    integration: &Integration,
    range: DateRange,
) -> Result<RangeCounts, ConnectError> {
    let tz = integration.timezone;
    let statuses = integration.settings.statuses.clone();
    let whole = OrderQuery { range: range.to_utc(tz), statuses: statuses.clone() };
    if range.to < integration.since {
        let in_range = source.count(&whole).await?;
        return Ok(RangeCounts { in_range, already_transferred: 0 });
    }
    let transferred_part = DateRange { from: range.from.max(integration.since), to: range.to };
    let after = OrderQuery { range: transferred_part.to_utc(tz), statuses };
    let (in_range, already_transferred) = tokio::try_join!(source.count(&whole), source.count(&after))?;
    Ok(RangeCounts { in_range, already_transferred: already_transferred.min(in_range) })
}

/// The quote for a customer's range from counts already made.
pub fn quote(
    ctx: &PlanningContext,
    config: &Config,
    range: DateRange,
    counts: RangeCounts,
    technician_half_hours: u32,
    now: DateTime<Utc>,
) -> Quote {
    Quote::compute(&QuoteInput {
        plan: ctx.plan.clone(),
        pricing: config.pricing.clone(),
        used_this_month: ctx.used_this_month,
        orders_in_range: counts.in_range,
        already_transferred: counts.already_transferred,
        range: Some(range),
        integration_since: Some(ctx.integration.since),
        webshop: Some(ctx.integration.webshop),
        technician_half_hours,
        source_rate: config.rates.source(ctx.integration.webshop),
        sink_rate: config.rates.economic,
        now,
        tz: config.user_tz(),
    })
}

/// The default range a planner opens with: from a year before the integration started to
/// the day before it started.
pub fn default_range(integration: &Integration) -> DateRange {
    let to = integration.since - Duration::days(1);
    let from = to - Duration::days(364);
    DateRange { from, to }
}

/// Everything `importdesk quote --customer` does: load, count at the shop, price.
pub async fn quote_customer(
    store: &Store,
    config: &Config,
    customer_id: CustomerId,
    range: DateRange,
    technician_half_hours: u32,
    now: DateTime<Utc>,
    client: reqwest::Client,
) -> Result<(PlanningContext, Quote), EstimateError> {
    let ctx = load_context(store, config, customer_id, now)?;
    let source = crate::connect::source_for(&ctx.integration, client)?;
    let counts = count_range(source.as_ref(), &ctx.integration, range).await?;
    let q = quote(&ctx, config, range, counts, technician_half_hours, now);
    Ok((ctx, q))
}
