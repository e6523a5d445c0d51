//! Failed orders grouped by cause (the failure inspector and `importdesk failures`), the
//! preflight's predicted failures, and the retry epoch a running worker watches.
//!
//! Interface (for the TUI and the engine):
//! - [`Store::failure_counts`]: `(cause, count)` largest first, one cheap query — per frame.
//! - [`Store::failure_groups`]: every failed order, grouped — for exports and `--json`.
//! - [`Store::failure_groups_matching`]: groups whose counts and rows match a text filter
//!   (reference, customer, detail, value; case-insensitive), at most `limit` rows a group.
//! - [`Store::failed_orders`]: one window (`offset`, `limit`) of one group's rows, filtered —
//!   what a scrolled list shows, never the whole group.
//! - The same for predictions: [`Store::preflight_summary`], [`Store::predicted_groups`],
//!   [`Store::predicted_failures`]; [`Store::save_preflight`] replaces a job's last result.
//!
//! Rows within a group are oldest order first. "Customer" is the buyer's name (or company)
//! from the order as the shop listed it, when the store kept it.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::job_orders::{ORDER_COLUMNS, order_row};
use super::jobs::JobId;
use super::{Doing, JobOrder, Result, Store, parse_ts, ts};
use crate::domain::job::OrderState;

/// A failed order with the buyer's name, for the inspector's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedOrder {
    #[serde(flatten)]
    pub order: JobOrder,
    pub customer: Option<String>,
}

/// The failed orders of one cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    /// The stable cause code (`missing_product`).
    pub cause: String,
    /// Every order of the group (matching the filter, if one was given).
    pub count: u64,
    /// The group's orders, oldest first; fewer than `count` when a limit was given.
    pub orders: Vec<FailedOrder>,
}

/// One order the preflight predicts will fail, and why (its first failure, as the import
/// would record it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PredictedFailure {
    pub shop_id: String,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub customer: Option<String>,
    pub cause: String,
    pub detail: String,
    pub value: Option<String>,
    pub fix_hint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PredictedGroup {
    pub cause: String,
    pub count: u64,
    pub orders: Vec<PredictedFailure>,
}

/// The last preflight of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightSummary {
    pub job_id: JobId,
    /// Orders read from the shop in the job's range.
    pub orders_read: u64,
    /// Orders the import would send (status transferred by the integration's settings).
    pub orders_checked: u64,
    /// Orders the import skips for their status.
    pub orders_skipped: u64,
    pub checked_at: DateTime<Utc>,
    /// `(cause, count)`, largest first.
    pub predicted: Vec<(String, u64)>,
}

impl PreflightSummary {
    pub fn predicted_total(&self) -> u64 {
        self.predicted.iter().map(|(_, n)| n).sum()
    }
}

/// What a preflight run found, to be stored.
#[derive(Debug, Clone)]
pub struct PreflightResult {
    pub orders_read: u64,
    pub orders_checked: u64,
    pub orders_skipped: u64,
    pub checked_at: DateTime<Utc>,
    pub failures: Vec<PredictedFailure>,
}

/// The buyer's name or company from the kept order JSON (NULL when not kept or unreadable).
const CUSTOMER: &str = "CASE WHEN json_valid(order_json) THEN COALESCE(json_extract(order_json, '$.buyer.name'),
    json_extract(order_json, '$.buyer.company')) END";

/// `?2` is the LIKE pattern (`%` alone for no filter), escaped with `\`.
fn failed_filter() -> String {
    format!(
        "job_id = ?1 AND state = 'failed' AND (?2 = '%' OR reference LIKE ?2 ESCAPE '\\' OR detail LIKE ?2 ESCAPE '\\'
         OR value LIKE ?2 ESCAPE '\\' OR ({CUSTOMER}) LIKE ?2 ESCAPE '\\')"
    )
}

const PREDICTED_FILTER: &str =
    "job_id = ?1 AND (?2 = '%' OR reference LIKE ?2 ESCAPE '\\' OR detail LIKE ?2 ESCAPE '\\'
    OR value LIKE ?2 ESCAPE '\\' OR customer LIKE ?2 ESCAPE '\\')";

/// A text filter as a LIKE pattern: `%text%`, with the wildcards in the text taken literally.
pub fn like_pattern(filter: &str) -> String {
    let text = filter.trim();
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    if !text.is_empty() {
        out.push('%');
    }
    out
}

fn failed_row(r: &Row<'_>) -> rusqlite::Result<FailedOrder> {
    let customer: Option<String> = r.get(16)?;
    Ok(FailedOrder { order: order_row(r)?, customer })
}

fn predicted_row(r: &Row<'_>) -> rusqlite::Result<PredictedFailure> {
    Ok(PredictedFailure {
        shop_id: r.get(0)?,
        reference: r.get(1)?,
        created_at: parse_ts(r.get::<_, Option<String>>(2)?).unwrap_or_default(),
        customer: r.get(3)?,
        cause: r.get(4)?,
        detail: r.get(5)?,
        value: r.get(6)?,
        fix_hint: r.get(7)?,
    })
}

fn counts(rows: impl Iterator<Item = rusqlite::Result<(String, i64)>>) -> Result<Vec<(String, u64)>> {
    rows.map(|row| row.map(|(cause, n)| (cause, n.max(0) as u64)).doing("counting failures")).collect()
}

impl Store {
    /// Failed orders per cause, largest group first (ties by cause code). An order failed
    /// without a recorded cause is counted under `accounting_validation`, as the worker would.
    pub fn failure_counts(&self, job: JobId) -> Result<Vec<(String, u64)>> {
        self.failure_counts_matching(job, "")
    }

    /// [`Store::failure_counts`] of the orders matching a text filter.
    pub fn failure_counts_matching(&self, job: JobId, filter: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT COALESCE(cause, 'accounting_validation') AS c, COUNT(*) AS n FROM job_orders
                 WHERE {} GROUP BY c ORDER BY n DESC, c",
                failed_filter()
            ))
            .doing("counting failures")?;
        let rows = stmt
            .query_map(params![job, like_pattern(filter)], |r| Ok((r.get(0)?, r.get(1)?)))
            .doing("counting failures")?;
        counts(rows)
    }

    /// Every failed order of the job, grouped by cause, largest group first.
    pub fn failure_groups(&self, job: JobId) -> Result<Vec<FailureGroup>> {
        self.failure_groups_matching(job, "", usize::MAX)
    }

    /// Groups of the failed orders matching `filter` (empty: all), each with at most `limit`
    /// of its orders; `count` is the whole group's.
    pub fn failure_groups_matching(&self, job: JobId, filter: &str, limit: usize) -> Result<Vec<FailureGroup>> {
        let mut groups = Vec::new();
        for (cause, count) in self.failure_counts_matching(job, filter)? {
            let orders = if limit == 0 { Vec::new() } else { self.failed_orders(job, Some(&cause), filter, 0, limit)? };
            groups.push(FailureGroup { cause, count, orders });
        }
        Ok(groups)
    }

    /// One window of failed orders (of one cause, or all), matching `filter`, oldest first.
    pub fn failed_orders(
        &self,
        job: JobId,
        cause: Option<&str>,
        filter: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<FailedOrder>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS}, {CUSTOMER} FROM job_orders
                 WHERE {} AND (?3 IS NULL OR COALESCE(cause, 'accounting_validation') = ?3)
                 ORDER BY created_at, reference LIMIT ?4 OFFSET ?5",
                failed_filter()
            ))
            .doing("reading failed orders")?;
        let rows = stmt
            .query_map(params![job, like_pattern(filter), cause, clamp(limit), clamp(offset)], failed_row)
            .doing("reading failed orders")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("reading failed orders")
    }

    /// Replaces the job's last preflight with this one, in one transaction.
    pub fn save_preflight(&mut self, job: JobId, result: &PreflightResult) -> Result<()> {
        let tx =
            self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate).doing("saving a preflight")?;
        tx.execute("DELETE FROM preflight WHERE job_id = ?1", [job]).doing("saving a preflight")?;
        tx.execute(
            "INSERT OR REPLACE INTO preflight_runs (job_id, orders_read, orders_checked, orders_skipped, checked_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                job,
                result.orders_read as i64,
                result.orders_checked as i64,
                result.orders_skipped as i64,
                ts(result.checked_at)
            ],
        )
        .doing("saving a preflight")?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO preflight (job_id, shop_id, reference, created_at, customer, cause, detail, value, fix_hint)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .doing("saving a preflight")?;
            for f in &result.failures {
                stmt.execute(params![
                    job,
                    f.shop_id,
                    f.reference,
                    ts(f.created_at),
                    f.customer,
                    f.cause,
                    f.detail,
                    f.value,
                    f.fix_hint
                ])
                .doing("saving a preflight")?;
            }
        }
        tx.commit().doing("saving a preflight")
    }

    /// The job's last preflight, if one ran to the end.
    pub fn preflight_summary(&self, job: JobId) -> Result<Option<PreflightSummary>> {
        let run = self
            .conn()
            .query_row(
                "SELECT orders_read, orders_checked, orders_skipped, checked_at FROM preflight_runs WHERE job_id = ?1",
                [job],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?)),
            )
            .optional()
            .doing("reading the preflight")?;
        let Some((read, checked, skipped, at)) = run else { return Ok(None) };
        Ok(Some(PreflightSummary {
            job_id: job,
            orders_read: read.max(0) as u64,
            orders_checked: checked.max(0) as u64,
            orders_skipped: skipped.max(0) as u64,
            checked_at: parse_ts(Some(at)).unwrap_or_default(),
            predicted: self.predicted_counts_matching(job, "")?,
        }))
    }

    /// Predicted failures per cause matching a text filter, largest first.
    pub fn predicted_counts_matching(&self, job: JobId, filter: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT cause, COUNT(*) AS n FROM preflight WHERE {PREDICTED_FILTER} GROUP BY cause ORDER BY n DESC, cause"
            ))
            .doing("counting predicted failures")?;
        let rows = stmt
            .query_map(params![job, like_pattern(filter)], |r| Ok((r.get(0)?, r.get(1)?)))
            .doing("counting predicted failures")?;
        counts(rows)
    }

    /// The predicted failures grouped by cause, like [`Store::failure_groups_matching`].
    pub fn predicted_groups(&self, job: JobId, filter: &str, limit: usize) -> Result<Vec<PredictedGroup>> {
        let mut groups = Vec::new();
        for (cause, count) in self.predicted_counts_matching(job, filter)? {
            let orders =
                if limit == 0 { Vec::new() } else { self.predicted_failures(job, Some(&cause), filter, 0, limit)? };
            groups.push(PredictedGroup { cause, count, orders });
        }
        Ok(groups)
    }

    /// One window of predicted failures (of one cause, or all), matching `filter`, oldest first.
    pub fn predicted_failures(
        &self,
        job: JobId,
        cause: Option<&str>,
        filter: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<PredictedFailure>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT shop_id, reference, created_at, customer, cause, detail, value, fix_hint FROM preflight
                 WHERE {PREDICTED_FILTER} AND (?3 IS NULL OR cause = ?3)
                 ORDER BY created_at, reference LIMIT ?4 OFFSET ?5"
            ))
            .doing("reading predicted failures")?;
        let rows = stmt
            .query_map(params![job, like_pattern(filter), cause, clamp(limit), clamp(offset)], predicted_row)
            .doing("reading predicted failures")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("reading predicted failures")
    }

    /// The states of these orders of the job (the retry follows the orders it moved), read in
    /// chunks so thousands cost a few queries. Unknown ids are left out.
    pub fn job_order_states(&self, job: JobId, shop_ids: &[String]) -> Result<Vec<(String, OrderState)>> {
        let mut out = Vec::with_capacity(shop_ids.len());
        for chunk in shop_ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("SELECT shop_id, state FROM job_orders WHERE job_id = ? AND shop_id IN ({marks})");
            let mut stmt = self.conn().prepare_cached(&sql).doing("reading order states")?;
            let values = std::iter::once(rusqlite::types::Value::Integer(job))
                .chain(chunk.iter().map(|id| rusqlite::types::Value::Text(id.clone())));
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .doing("reading order states")?;
            for row in rows {
                let (id, state) = row.doing("reading order states")?;
                let state = state
                    .parse()
                    .map_err(|_| super::StoreError::BadValue { what: "order state".into(), value: state.clone() })?;
                out.push((id, state));
            }
        }
        Ok(out)
    }

    /// Counts a retry: a running worker that sees the epoch change forgets its cached lookups
    /// (products, customers), so a fix made in the accounting system is seen. Returns the new epoch.
    pub fn bump_retry_epoch(&self, job: JobId) -> Result<i64> {
        self.conn()
            .query_row(
                "UPDATE jobs SET retry_epoch = retry_epoch + 1 WHERE id = ?1 RETURNING retry_epoch",
                [job],
                |r| r.get(0),
            )
            .optional()
            .doing("recording a retry")?
            .ok_or(super::StoreError::JobNotFound(job))
    }

    pub fn retry_epoch(&self, job: JobId) -> Result<i64> {
        self.conn()
            .query_row("SELECT retry_epoch FROM jobs WHERE id = ?1", [job], |r| r.get(0))
            .optional()
            .doing("reading the retry epoch")?
            .ok_or(super::StoreError::JobNotFound(job))
    }
}

/// SQLite's LIMIT and OFFSET are signed; `usize::MAX` means "no limit".
fn clamp(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::customers::tests::sample;
    use crate::store::{JobKind, NewJobOrder, Outcome};
    use chrono::Duration;

    fn order_json(name: Option<&str>) -> String {
        serde_json::json!({"buyer": {"name": name, "company": null}}).to_string()
    }

    /// A job with 6 orders: 3 missing_product, 2 missing_sku, 1 transferred.
    fn setup() -> (tempfile::TempDir, Store, JobId) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.add_customer(&sample("A", "1", "a@a.dk", "https://a.dk")).unwrap();
        let job = s.create_job(1, JobKind::Range, None, None, Utc::now()).unwrap();
        let t0 = Utc::now() - Duration::days(10);
        let names = ["Mette Hansen", "Jens 100% Jensen", "Anna_Berg", "Ole Olsen", "Kim Kold", "Bo Bak"];
        let orders: Vec<_> = (0..6)
            .map(|i| NewJobOrder {
                shop_id: format!("{}", 700 + i),
                reference: format!("#{}", 1000 + i),
                created_at: t0 + Duration::hours(i64::from(6 - i)),
                state: OrderState::Pending,
                skip_reason: None,
                order_json: Some(order_json(Some(names[i as usize]))),
            })
            .collect();
        s.add_job_orders(job, &orders).unwrap();
        let now = Utc::now();
        for (i, cause, value) in [
            (0, "missing_product", "TSHIRT-BL"),
            (1, "missing_sku", "sku"),
            (2, "missing_product", "MUG"),
            (3, "missing_product", "TSHIRT-BL"),
            (4, "missing_sku", "sku"),
        ] {
            let id = format!("{}", 700 + i);
            s.transition(job, &id, OrderState::Pending, OrderState::Sending, &Outcome::default(), now).unwrap();
            let out = Outcome {
                cause: Some(cause.into()),
                detail: Some(format!("line 1: {value} at fault")),
                value: Some(value.into()),
                fix_hint: Some("fix it".into()),
                ..Default::default()
            };
            s.transition(job, &id, OrderState::Sending, OrderState::Failed, &out, now).unwrap();
        }
        s.transition(job, "705", OrderState::Pending, OrderState::Sending, &Outcome::default(), now).unwrap();
        let out = Outcome { invoice: Some("1".into()), ..Default::default() };
        s.transition(job, "705", OrderState::Sending, OrderState::Transferred, &out, now).unwrap();
        (dir, s, job)
    }

    #[test]
    fn groups_are_largest_first_with_oldest_orders_first() {
        let (_d, s, job) = setup();
        assert_eq!(s.failure_counts(job).unwrap(), [("missing_product".into(), 3), ("missing_sku".into(), 2)]);
        let groups = s.failure_groups(job).unwrap();
        assert_eq!(groups.len(), 2);
        let refs: Vec<&str> = groups[0].orders.iter().map(|o| o.order.reference.as_str()).collect();
        // Created later for a lower index: #1003 is the oldest.
        assert_eq!(refs, ["#1003", "#1002", "#1000"]);
        assert_eq!(groups[0].orders[2].customer.as_deref(), Some("Mette Hansen"));
        assert_eq!(groups[0].orders[2].order.value.as_deref(), Some("TSHIRT-BL"));
        assert_eq!(groups[0].orders[2].order.attempts, 1);
        assert!(groups[0].orders[2].order.last_attempt_at.is_some());
    }

    #[test]
    fn filters_match_reference_customer_detail_and_value_and_limits_rows() {
        let (_d, s, job) = setup();
        let g = s.failure_groups_matching(job, "tshirt", 10).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].cause.as_str(), g[0].count), ("missing_product", 2));
        let g = s.failure_groups_matching(job, "ole", 10).unwrap();
        assert_eq!(g[0].orders[0].order.reference, "#1003");
        let g = s.failure_groups_matching(job, "#1004", 10).unwrap();
        assert_eq!((g[0].cause.as_str(), g[0].count), ("missing_sku", 1));
        // Wildcards are literal.
        assert_eq!(s.failure_counts_matching(job, "100%").unwrap(), [("missing_sku".into(), 1)]);
        assert_eq!(s.failure_counts_matching(job, "a_b").unwrap(), [("missing_product".into(), 1)]);
        let g = s.failure_groups_matching(job, "", 1).unwrap();
        assert_eq!((g[0].count, g[0].orders.len()), (3, 1));
        let window = s.failed_orders(job, Some("missing_product"), "", 1, 1).unwrap();
        assert_eq!(window[0].order.reference, "#1002");
        assert_eq!(s.failed_orders(job, None, "", 0, 100).unwrap().len(), 5);
    }

    #[test]
    fn a_preflight_replaces_the_last_one() {
        let (_d, mut s, job) = setup();
        assert_eq!(s.preflight_summary(job).unwrap(), None);
        let f = |shop_id: &str, cause: &str| PredictedFailure {
            shop_id: shop_id.into(),
            reference: format!("#{shop_id}"),
            created_at: Utc::now(),
            customer: Some("Mette".into()),
            cause: cause.into(),
            detail: "line 1 'Mug': no SKU".into(),
            value: Some("sku".into()),
            fix_hint: "give it a SKU".into(),
        };
        let mut result = PreflightResult {
            orders_read: 10,
            orders_checked: 9,
            orders_skipped: 1,
            checked_at: Utc::now(),
            failures: vec![f("1", "missing_sku"), f("2", "missing_sku"), f("3", "missing_phone")],
        };
        s.save_preflight(job, &result).unwrap();
        let summary = s.preflight_summary(job).unwrap().unwrap();
        assert_eq!(summary.orders_checked, 9);
        assert_eq!(summary.predicted, [("missing_sku".into(), 2), ("missing_phone".into(), 1)]);
        assert_eq!(summary.predicted_total(), 3);
        let groups = s.predicted_groups(job, "#3", 10).unwrap();
        assert_eq!((groups.len(), groups[0].orders[0].cause.as_str()), (1, "missing_phone"));
        result.failures.truncate(1);
        s.save_preflight(job, &result).unwrap();
        assert_eq!(s.preflight_summary(job).unwrap().unwrap().predicted, [("missing_sku".into(), 1)]);
        assert_eq!(s.predicted_failures(job, None, "", 0, 10).unwrap().len(), 1);
    }

    #[test]
    fn the_retry_epoch_counts_up() {
        let (_d, s, job) = setup();
        assert_eq!(s.retry_epoch(job).unwrap(), 0);
        assert_eq!(s.bump_retry_epoch(job).unwrap(), 1);
        assert_eq!(s.retry_epoch(job).unwrap(), 1);
        assert!(s.bump_retry_epoch(999).is_err());
    }

    #[test]
    fn states_of_many_orders_in_few_queries() {
        let (_d, s, job) = setup();
        let mut ids: Vec<String> = (0..1200).map(|i| format!("x{i}")).collect();
        ids.push("700".into());
        ids.push("705".into());
        let mut states = s.job_order_states(job, &ids).unwrap();
        states.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(states, [("700".into(), OrderState::Failed), ("705".into(), OrderState::Transferred)]);
    }
}
