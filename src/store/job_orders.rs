//! The orders of a job and their state machine, every transition its own committed
//! transaction; plus the job's event log that the live log pane follows.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;
use std::collections::BTreeMap;

use super::jobs::JobId;
use super::{Doing, Result, Store, StoreError, parse_ts, ts};
use crate::domain::job::OrderState;

/// One order of a job, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobOrder {
    pub job_id: JobId,
    pub shop_id: String,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub state: OrderState,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub invoice: Option<String>,
    pub cause: Option<String>,
    pub detail: Option<String>,
    pub value: Option<String>,
    pub fix_hint: Option<String>,
    pub vendor_response: Option<String>,
    pub skip_reason: Option<String>,
    pub transferred_at: Option<DateTime<Utc>>,
}

/// What a transition writes besides the new state.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub invoice: Option<String>,
    pub cause: Option<String>,
    pub detail: Option<String>,
    pub value: Option<String>,
    pub fix_hint: Option<String>,
    pub vendor_response: Option<String>,
    pub skip_reason: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Count the order in this customer's usage for this month, in the same transaction
    /// (a transferred order is counted once, whatever crashes when).
    pub usage: Option<(crate::domain::customer::CustomerId, crate::domain::calendar::Month)>,
}

/// A new order found in the job's range.
#[derive(Debug, Clone)]
pub struct NewJobOrder {
    pub shop_id: String,
    pub reference: String,
    pub created_at: DateTime<Utc>,
    /// `Skipped` when the integration's settings do not transfer its status.
    pub state: OrderState,
    pub skip_reason: Option<String>,
    /// The normalised order as listed, so the run needs no second read from the shop.
    pub order_json: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
    fn parse(s: &str) -> Level {
        match s {
            "warn" => Level::Warn,
            "error" => Level::Error,
            _ => Level::Info,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: i64,
    pub job_id: JobId,
    pub at: DateTime<Utc>,
    pub level: Level,
    pub reference: Option<String>,
    pub message: String,
}

pub(super) const ORDER_COLUMNS: &str =
    "job_id, shop_id, reference, created_at, state, attempts, next_attempt_at, last_attempt_at,
    invoice, cause, detail, value, fix_hint, vendor_response, skip_reason, transferred_at";

pub(super) fn order_row(r: &Row<'_>) -> rusqlite::Result<JobOrder> {
    let state: String = r.get(4)?;
    Ok(JobOrder {
        job_id: r.get(0)?,
        shop_id: r.get(1)?,
        reference: r.get(2)?,
        created_at: parse_ts(r.get(3)?).unwrap_or_default(),
        state: state
            .parse()
            .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into()))?,
        attempts: r.get::<_, i64>(5)?.max(0) as u32,
        next_attempt_at: parse_ts(r.get(6)?),
        last_attempt_at: parse_ts(r.get(7)?),
        invoice: r.get(8)?,
        cause: r.get(9)?,
        detail: r.get(10)?,
        value: r.get(11)?,
        fix_hint: r.get(12)?,
        vendor_response: r.get(13)?,
        skip_reason: r.get(14)?,
        transferred_at: parse_ts(r.get(15)?),
    })
}

impl Store {
    /// Adds orders found in the range; an order already there is left as it is, so listing
    /// again after a crash never resets one.
    pub fn add_job_orders(&mut self, job: JobId, orders: &[NewJobOrder]) -> Result<usize> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate).doing("adding orders")?;
        let mut added = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO job_orders (job_id, shop_id, reference, created_at, state, skip_reason, order_json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .doing("adding orders")?;
            for o in orders {
                added += stmt
                    .execute(params![
                        job,
                        o.shop_id,
                        o.reference,
                        ts(o.created_at),
                        o.state.as_str(),
                        o.skip_reason,
                        o.order_json
                    ])
                    .doing("adding orders")?;
            }
        }
        tx.commit().doing("adding orders")?;
        Ok(added)
    }

    pub fn job_order(&self, job: JobId, shop_id: &str) -> Result<Option<JobOrder>> {
        self.conn()
            .query_row(
                &format!("SELECT {ORDER_COLUMNS} FROM job_orders WHERE job_id = ?1 AND shop_id = ?2"),
                params![job, shop_id],
                order_row,
            )
            .optional()
            .doing("reading an order")
    }

    /// By the reference the customer sees (`#1001`) or the shop id.
    pub fn job_order_by_reference(&self, job: JobId, reference: &str) -> Result<Option<JobOrder>> {
        let r = reference.trim();
        self.conn()
            .query_row(
                &format!(
                    "SELECT {ORDER_COLUMNS} FROM job_orders WHERE job_id = ?1
                     AND (reference = ?2 OR shop_id = ?2 OR reference = '#' || ?2) LIMIT 1"
                ),
                params![job, r],
                order_row,
            )
            .optional()
            .doing("reading an order")
    }

    /// The order as it was listed from the shop (normalised JSON), if kept.
    pub fn job_order_json(&self, job: JobId, shop_id: &str) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT order_json FROM job_orders WHERE job_id = ?1 AND shop_id = ?2",
                params![job, shop_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .doing("reading an order")
    }

    /// Replaces the kept order (after fetching it again for a retry).
    pub fn set_job_order_json(&self, job: JobId, shop_id: &str, json: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE job_orders SET order_json = ?3 WHERE job_id = ?1 AND shop_id = ?2",
                params![job, shop_id, json],
            )
            .doing("saving an order")?;
        Ok(())
    }

    pub fn job_orders_in_state(&self, job: JobId, state: OrderState, limit: usize) -> Result<Vec<JobOrder>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM job_orders WHERE job_id = ?1 AND state = ?2 ORDER BY created_at LIMIT ?3"
            ))
            .doing("reading orders")?;
        let rows = stmt.query_map(params![job, state.as_str(), limit as i64], order_row).doing("reading orders")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("reading orders")
    }

    /// Pending orders whose backoff has passed, oldest first.
    pub fn due_orders(&self, job: JobId, now: DateTime<Utc>, limit: usize) -> Result<Vec<JobOrder>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {ORDER_COLUMNS} FROM job_orders WHERE job_id = ?1 AND state = 'pending'
                 AND (next_attempt_at IS NULL OR next_attempt_at <= ?2) ORDER BY created_at LIMIT ?3"
            ))
            .doing("reading due orders")?;
        let rows = stmt.query_map(params![job, ts(now), limit as i64], order_row).doing("reading due orders")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("reading due orders")
    }

    /// Moves one order `from` → `to` in its own committed transaction. Refused (returns
    /// false) if the order is no longer in `from` — someone else moved it — or the move is
    /// not a legal one. Entering `sending` counts an attempt.
    pub fn transition(
        &mut self,
        job: JobId,
        shop_id: &str,
        from: OrderState,
        to: OrderState,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !from.may_become(to) {
            return Err(StoreError::BadValue {
                what: "order transition".into(),
                value: format!("{from} → {to} for order {shop_id}"),
            });
        }
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate).doing("moving an order")?;
        let attempt = i64::from(to == OrderState::Sending);
        let n = tx
            .execute(
                "UPDATE job_orders SET state = ?4, attempts = attempts + ?5,
                    last_attempt_at = CASE WHEN ?5 = 1 THEN ?6 ELSE last_attempt_at END,
                    invoice = COALESCE(?7, invoice),
                    cause = ?8, detail = ?9, value = ?10, fix_hint = ?11,
                    vendor_response = COALESCE(?12, vendor_response), skip_reason = COALESCE(?13, skip_reason),
                    next_attempt_at = ?14,
                    transferred_at = CASE WHEN ?4 = 'transferred' THEN ?6 ELSE transferred_at END
                 WHERE job_id = ?1 AND shop_id = ?2 AND state = ?3",
                params![
                    job,
                    shop_id,
                    from.as_str(),
                    to.as_str(),
                    attempt,
                    ts(now),
                    outcome.invoice,
                    outcome.cause,
                    outcome.detail,
                    outcome.value,
                    outcome.fix_hint,
                    outcome.vendor_response,
                    outcome.skip_reason,
                    outcome.next_attempt_at.map(ts),
                ],
            )
            .doing("moving an order")?;
        if n == 1
            && to == OrderState::Transferred
            && let Some((customer, month)) = outcome.usage
        {
            tx.execute(
                "INSERT INTO usage (customer_id, month, orders) VALUES (?1, ?2, 1)
                 ON CONFLICT (customer_id, month) DO UPDATE SET orders = orders + 1",
                params![customer, month.key()],
            )
            .doing("counting a transferred order in the usage ledger")?;
        }
        tx.commit().doing("moving an order")?;
        Ok(n == 1)
    }

    /// A pending order whose try failed before anything was sent: one attempt more, and not
    /// due again before `next`.
    pub fn postpone_order(&self, job: JobId, shop_id: &str, next: DateTime<Utc>) -> Result<bool> {
        let n = self
            .conn()
            .execute(
                "UPDATE job_orders SET attempts = attempts + 1, next_attempt_at = ?3, last_attempt_at = ?4
                 WHERE job_id = ?1 AND shop_id = ?2 AND state = 'pending'",
                params![job, shop_id, ts(next), ts(Utc::now())],
            )
            .doing("postponing an order")?;
        Ok(n == 1)
    }

    /// Every `sending` order of the job becomes `unknown`: found at start-up, its POST may
    /// have reached the accounting system before the last worker died.
    pub fn sending_to_unknown(&self, job: JobId) -> Result<usize> {
        self.conn()
            .execute("UPDATE job_orders SET state = 'unknown' WHERE job_id = ?1 AND state = 'sending'", [job])
            .doing("recovering orders left sending")
    }

    /// Every pending order of the job becomes cancelled (a cancel without a running worker).
    pub fn cancel_pending(&self, job: JobId) -> Result<usize> {
        self.conn()
            .execute("UPDATE job_orders SET state = 'cancelled' WHERE job_id = ?1 AND state = 'pending'", [job])
            .doing("cancelling pending orders")
    }

    /// Orders per state, every state present (zero when none).
    pub fn order_counts(&self, job: JobId) -> Result<BTreeMap<&'static str, u64>> {
        let mut counts: BTreeMap<&'static str, u64> = OrderState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT state, COUNT(*) FROM job_orders WHERE job_id = ?1 GROUP BY state")
            .doing("counting orders")?;
        let rows =
            stmt.query_map([job], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).doing("counting orders")?;
        for row in rows {
            let (state, n) = row.doing("counting orders")?;
            if let Ok(s) = state.parse::<OrderState>() {
                counts.insert(s.as_str(), n.max(0) as u64);
            }
        }
        Ok(counts)
    }

    /// When each transferred order of the job was transferred (for billing per month).
    pub fn transferred_times(&self, job: JobId) -> Result<Vec<DateTime<Utc>>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT transferred_at FROM job_orders WHERE job_id = ?1 AND state = 'transferred'")
            .doing("reading transfer times")?;
        let rows = stmt.query_map([job], |r| r.get::<_, Option<String>>(0)).doing("reading transfer times")?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(t) = parse_ts(row.doing("reading transfer times")?) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Orders transferred in the last `seconds` seconds, for the orders-per-minute figure.
    pub fn transferred_since(&self, job: JobId, since: DateTime<Utc>) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM job_orders WHERE job_id = ?1 AND state = 'transferred' AND transferred_at >= ?2",
                params![job, ts(since)],
                |r| r.get(0),
            )
            .doing("counting recent transfers")?;
        Ok(n.max(0) as u64)
    }

    pub fn log_event(
        &self,
        job: JobId,
        level: Level,
        reference: Option<&str>,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO events (job_id, at, level, reference, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job, ts(now), level.as_str(), reference, message],
            )
            .doing("writing the job log")?;
        Ok(())
    }

    /// Events after `after_id`, oldest first, at most `limit`.
    pub fn events_after(&self, job: JobId, after_id: i64, limit: usize) -> Result<Vec<Event>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, job_id, at, level, reference, message FROM events WHERE job_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )
            .doing("reading the job log")?;
        let rows = stmt
            .query_map(params![job, after_id, limit as i64], |r| {
                Ok(Event {
                    id: r.get(0)?,
                    job_id: r.get(1)?,
                    at: parse_ts(r.get(2)?).unwrap_or_default(),
                    level: Level::parse(&r.get::<_, String>(3)?),
                    reference: r.get(4)?,
                    message: r.get(5)?,
                })
            })
            .doing("reading the job log")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("reading the job log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobKind;
    use crate::store::customers::tests::sample;

    fn setup() -> (tempfile::TempDir, Store, JobId) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.add_customer(&sample("A", "1", "a@a.dk", "https://a.dk")).unwrap();
        let job = s.create_job(1, JobKind::Range, None, None, Utc::now()).unwrap();
        let orders: Vec<_> = (1..=3)
            .map(|i| NewJobOrder {
                shop_id: i.to_string(),
                reference: format!("#{}", 1000 + i),
                created_at: Utc::now(),
                state: OrderState::Pending,
                skip_reason: None,
                order_json: None,
            })
            .collect();
        assert_eq!(s.add_job_orders(job, &orders).unwrap(), 3);
        assert_eq!(s.add_job_orders(job, &orders).unwrap(), 0, "listing twice adds nothing");
        (dir, s, job)
    }

    #[test]
    fn transitions_are_guarded_by_the_current_state() {
        let (_d, mut s, job) = setup();
        let now = Utc::now();
        assert!(s.transition(job, "1", OrderState::Pending, OrderState::Sending, &Outcome::default(), now).unwrap());
        // A second worker racing for the same order loses.
        assert!(!s.transition(job, "1", OrderState::Pending, OrderState::Sending, &Outcome::default(), now).unwrap());
        let month = crate::domain::calendar::Month { year: 2026, month: 12 };
        let out = Outcome { invoice: Some("20001".into()), usage: Some((1, month)), ..Default::default() };
        assert!(s.transition(job, "1", OrderState::Sending, OrderState::Transferred, &out, now).unwrap());
        assert!(!s.transition(job, "1", OrderState::Sending, OrderState::Transferred, &out, now).unwrap());
        assert_eq!(s.usage(1, month).unwrap(), 1, "counted once");
        let o = s.job_order(job, "1").unwrap().unwrap();
        assert_eq!((o.state, o.attempts, o.invoice.as_deref()), (OrderState::Transferred, 1, Some("20001")));
        assert!(
            s.transition(job, "1", OrderState::Transferred, OrderState::Pending, &Outcome::default(), now).is_err()
        );
        let counts = s.order_counts(job).unwrap();
        assert_eq!((counts["transferred"], counts["pending"], counts["unknown"]), (1, 2, 0));
    }

    #[test]
    fn sending_rows_found_at_startup_become_unknown() {
        let (_d, mut s, job) = setup();
        s.transition(job, "2", OrderState::Pending, OrderState::Sending, &Outcome::default(), Utc::now()).unwrap();
        assert_eq!(s.sending_to_unknown(job).unwrap(), 1);
        assert_eq!(s.job_order_by_reference(job, "1002").unwrap().unwrap().state, OrderState::Unknown);
    }

    #[test]
    fn the_log_is_read_in_order_after_an_id() {
        let (_d, s, job) = setup();
        for i in 0..5 {
            s.log_event(job, Level::Info, None, &format!("event {i}"), Utc::now()).unwrap();
        }
        let first = s.events_after(job, 0, 2).unwrap();
        assert_eq!(first.len(), 2);
        let rest = s.events_after(job, first[1].id, 10).unwrap();
        assert_eq!(rest.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["event 2", "event 3", "event 4"]);
    }
}
