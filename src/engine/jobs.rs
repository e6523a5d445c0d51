//! The job's lifecycle as support staff drive it: create from a quote, accept, test,
//! approve, bill. The rules are the domain's (`domain::job`); this wires them to the store.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use super::estimate::{self, EstimateError};
use crate::config::Config;
use crate::domain::billing::{BillingSummary, MonthUsage, billing_summary};
use crate::domain::calendar::{DateRange, Month};
use crate::domain::customer::CustomerId;
use crate::domain::job::{JobState, JobStep};
use crate::store::{Job, JobId, JobKind, Store, StoreError};

fn ts(t: DateTime<Utc>) -> Option<String> {
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// The part of a picked range that is imported: up to the day before the integration
/// started (from then on the integration transferred the orders itself).
pub fn import_range(range: DateRange, since: chrono::NaiveDate) -> Option<DateRange> {
    let last = since - Duration::days(1);
    let to = range.to.min(last);
    (range.from <= to).then_some(DateRange { from: range.from, to })
}

/// Counts the range at the shop, prices it, and records a job in state `quoted`.
pub async fn create_job(
    store: &Store,
    config: &Config,
    customer_id: CustomerId,
    range: DateRange,
    technician_half_hours: u32,
    now: DateTime<Utc>,
    client: reqwest::Client,
) -> Result<(JobId, crate::domain::quote::Quote), EstimateError> {
    let (_, quote) =
        estimate::quote_customer(store, config, customer_id, range, technician_half_hours, now, client).await?;
    let id = record_job(store, customer_id, range, &quote, now)?;
    Ok((id, quote))
}

/// Records a job for a quoted range, cut at the integration's start: the orders from then on
/// were transferred by the integration itself and must never be imported again. The TUI and
/// the CLI both create jobs here.
pub fn record_job(
    store: &Store,
    customer_id: CustomerId,
    range: DateRange,
    quote: &crate::domain::quote::Quote,
    now: DateTime<Utc>,
) -> Result<JobId, EstimateError> {
    let since = store.integration(customer_id)?.since;
    let job_range = import_range(range, since).ok_or(EstimateError::NothingBeforeStart { since })?;
    Ok(store.create_job(customer_id, JobKind::Range, Some(job_range), Some(quote), now)?)
}

pub fn accept(
    store: &mut Store,
    job: JobId,
    by: &str,
    reference: &str,
    now: DateTime<Utc>,
) -> Result<JobState, StoreError> {
    store.job_step(
        job,
        JobStep::Accept,
        &[
            ("accepted_by", Some(by.to_string())),
            ("acceptance_reference", Some(reference.to_string())),
            ("accepted_at", ts(now)),
        ],
    )
}

/// Records that the test transfer was made (or that an existing transfer is the reference).
pub fn record_test(
    store: &mut Store,
    job: JobId,
    order: &str,
    invoice: Option<&str>,
    now: DateTime<Utc>,
) -> Result<JobState, StoreError> {
    store.job_step(
        job,
        JobStep::TestTransfer,
        &[("test_order", Some(order.to_string())), ("test_invoice", invoice.map(str::to_string)), ("test_at", ts(now))],
    )
}

pub fn approve(store: &mut Store, job: JobId, by: &str, now: DateTime<Utc>) -> Result<JobState, StoreError> {
    store.job_step(job, JobStep::Approve, &[("approved_by", Some(by.to_string())), ("approved_at", ts(now))])
}

/// The billing figures of a job from its transferred orders and the usage ledger.
pub fn billing(
    store: &Store,
    config: &Config,
    job: &Job,
    half_hours: Option<u32>,
) -> Result<BillingSummary, EstimateError> {
    let customer = store.customer(job.customer_id)?;
    let plan = config.plan(&customer.customer.plan).cloned().ok_or_else(|| EstimateError::UnknownPlan {
        customer: customer.customer.name.clone(),
        plan: customer.customer.plan.clone(),
    })?;
    let tz = config.user_tz();
    let mut per_month: BTreeMap<Month, u64> = BTreeMap::new();
    for t in store.transferred_times(job.id)? {
        *per_month.entry(Month::containing(t, tz)).or_default() += 1;
    }
    let mut months = Vec::with_capacity(per_month.len());
    for (month, job_orders) in per_month {
        let total_usage = store.usage(job.customer_id, month)?.max(job_orders);
        months.push(MonthUsage { month, job_orders, total_usage });
    }
    let planned = job.quote.as_ref().map(|q| q.technician_half_hours).unwrap_or(1);
    Ok(billing_summary(
        &plan,
        &config.pricing,
        job.quoted_orders,
        &months,
        half_hours.unwrap_or(planned),
        config.deviation_threshold,
    ))
}

/// Bills a finished job: the summary, and the job moves to `billed`.
pub fn bill(
    store: &mut Store,
    config: &Config,
    job: JobId,
    half_hours: Option<u32>,
    now: DateTime<Utc>,
) -> Result<BillingSummary, EstimateError> {
    let j = store.job(job)?;
    let summary = billing(store, config, &j, half_hours)?;
    store.job_step(job, JobStep::Bill, &[("billed_at", ts(now))])?;
    Ok(summary)
}

/// `job status --json`: the state and a count per order state.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    pub id: JobId,
    pub customer_id: CustomerId,
    pub customer: String,
    pub state: JobState,
    pub range: Option<DateRange>,
    pub quoted_orders: u64,
    pub listing_done: bool,
    pub orders: BTreeMap<&'static str, u64>,
    pub lease_owner: Option<String>,
    pub accepted_by: Option<String>,
    pub approved_by: Option<String>,
    pub test_order: Option<String>,
}

pub fn status(store: &Store, job: JobId) -> Result<JobStatus, StoreError> {
    let j = store.job(job)?;
    let customer = store.customer(j.customer_id)?;
    let lease_live = j.lease_until.is_some_and(|u| u > Utc::now());
    Ok(JobStatus {
        id: j.id,
        customer_id: j.customer_id,
        customer: customer.customer.name,
        state: j.state,
        range: j.range,
        quoted_orders: j.quoted_orders,
        listing_done: j.listing_done,
        orders: store.order_counts(job)?,
        lease_owner: j.lease_owner.filter(|_| lease_live),
        accepted_by: j.accepted_by,
        approved_by: j.approved_by,
        test_order: j.test_order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn a_recorded_job_never_reaches_the_integrations_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        // The sample integration started 2026-06-01.
        let id =
            store.add_customer(&crate::store::customers::tests::sample("A", "1", "a@a.dk", "https://a.dk")).unwrap();
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let quote = crate::domain::quote::Quote::compute(&crate::domain::quote::QuoteInput {
            plan: crate::domain::plan::sample_plans()[0].clone(),
            pricing: Default::default(),
            used_this_month: 0,
            orders_in_range: 10,
            already_transferred: 4,
            range: None,
            integration_since: None,
            webshop: None,
            technician_half_hours: 1,
            source_rate: crate::config::Rates::default().woocommerce,
            sink_rate: crate::config::Rates::default().economic,
            now: Utc::now(),
            tz: crate::domain::calendar::DEFAULT_TZ,
        });
        let job = record_job(&store, id, DateRange { from: d(5, 1), to: d(6, 30) }, &quote, Utc::now()).unwrap();
        assert_eq!(store.job(job).unwrap().range, Some(DateRange { from: d(5, 1), to: d(5, 31) }));
        let err = record_job(&store, id, DateRange { from: d(6, 1), to: d(6, 30) }, &quote, Utc::now()).unwrap_err();
        assert!(err.to_string().contains("pick days before 2026-06-01"), "{err}");
    }

    #[test]
    fn import_range_stops_the_day_before_the_integration() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let since = d(6, 1);
        assert_eq!(
            import_range(DateRange { from: d(1, 1), to: d(12, 1) }, since),
            Some(DateRange { from: d(1, 1), to: d(5, 31) })
        );
        assert_eq!(import_range(DateRange { from: d(7, 1), to: d(8, 1) }, since), None);
    }
}
