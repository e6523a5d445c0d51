//! Import jobs: their lifecycle steps, the commands written to them (pause, resume,
//! cancel) and the lease that keeps one worker per job.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::{Doing, Result, Store, StoreError, parse_ts, ts};
use crate::domain::calendar::DateRange;
use crate::domain::customer::CustomerId;
use crate::domain::job::{JobState, JobStep, next_state};
use crate::domain::quote::Quote;

pub type JobId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A full import of a date range (*fuld import fra dato*).
    Range,
    /// Single orders imported one by one (*enkeltvis*).
    Single,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Range => "range",
            JobKind::Single => "single",
        }
    }
}

/// A command a person wrote for the job's worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobCommand {
    Pause,
    Resume,
    Cancel,
}

impl JobCommand {
    fn as_str(self) -> &'static str {
        match self {
            JobCommand::Pause => "pause",
            JobCommand::Resume => "resume",
            JobCommand::Cancel => "cancel",
        }
    }
    fn parse(s: &str) -> Option<JobCommand> {
        match s {
            "pause" => Some(JobCommand::Pause),
            "resume" => Some(JobCommand::Resume),
            "cancel" => Some(JobCommand::Cancel),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: JobId,
    pub customer_id: CustomerId,
    pub kind: JobKind,
    pub range: Option<DateRange>,
    pub state: JobState,
    /// The quote the customer accepted, kept with the job for billing.
    pub quote: Option<Quote>,
    pub quoted_orders: u64,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub acceptance_reference: Option<String>,
    pub test_order: Option<String>,
    pub test_invoice: Option<String>,
    pub test_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub billed_at: Option<DateTime<Utc>>,
    /// Every order of the range has been read from the shop into `job_orders`.
    pub listing_done: bool,
    pub listing_cursor: Option<String>,
    pub command: Option<JobCommand>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "job {job} is already being worked on by {owner} (lease until {until}); stop that worker or wait for its lease to run out"
)]
pub struct LeaseHeld {
    pub job: JobId,
    pub owner: String,
    pub until: DateTime<Utc>,
}

const JOB_COLUMNS: &str = "id, customer_id, kind, range_from, range_to, state, quote, quoted_orders,
    accepted_by, accepted_at, acceptance_reference, test_order, test_invoice, test_at, approved_by, approved_at,
    started_at, finished_at, billed_at, listing_done, listing_cursor, command, lease_owner, lease_until, created_at";

fn job_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let date = |i: usize| -> rusqlite::Result<Option<NaiveDate>> {
        Ok(r.get::<_, Option<String>>(i)?.and_then(|s| s.parse().ok()))
    };
    let kind: String = r.get(2)?;
    let state: String = r.get(5)?;
    let quote: Option<String> = r.get(6)?;
    let range = match (date(3)?, date(4)?) {
        (Some(from), Some(to)) => Some(DateRange { from, to }),
        _ => None,
    };
    Ok(Job {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        kind: if kind == "single" { JobKind::Single } else { JobKind::Range },
        range,
        state: state
            .parse()
            .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, e.into()))?,
        quote: quote.and_then(|q| serde_json::from_str(&q).ok()),
        quoted_orders: r.get::<_, i64>(7)?.max(0) as u64,
        accepted_by: r.get(8)?,
        accepted_at: parse_ts(r.get(9)?),
        acceptance_reference: r.get(10)?,
        test_order: r.get(11)?,
        test_invoice: r.get(12)?,
        test_at: parse_ts(r.get(13)?),
        approved_by: r.get(14)?,
        approved_at: parse_ts(r.get(15)?),
        started_at: parse_ts(r.get(16)?),
        finished_at: parse_ts(r.get(17)?),
        billed_at: parse_ts(r.get(18)?),
        listing_done: r.get::<_, i64>(19)? != 0,
        listing_cursor: r.get(20)?,
        command: r.get::<_, Option<String>>(21)?.as_deref().and_then(JobCommand::parse),
        lease_owner: r.get(22)?,
        lease_until: parse_ts(r.get(23)?),
        created_at: parse_ts(r.get(24)?).unwrap_or_default(),
    })
}

impl Store {
    /// A new job in state `quoted`, keeping the quote it was made from.
    pub fn create_job(
        &self,
        customer_id: CustomerId,
        kind: JobKind,
        range: Option<DateRange>,
        quote: Option<&Quote>,
        now: DateTime<Utc>,
    ) -> Result<JobId> {
        self.customer(customer_id)?;
        let quote_json = quote.and_then(|q| serde_json::to_string(q).ok());
        self.conn()
            .execute(
                "INSERT INTO jobs (customer_id, kind, range_from, range_to, state, quote, quoted_orders, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    customer_id,
                    kind.as_str(),
                    range.map(|r| r.from.to_string()),
                    range.map(|r| r.to.to_string()),
                    JobState::Quoted.as_str(),
                    quote_json,
                    quote.map(|q| q.orders_to_import as i64).unwrap_or(0),
                    ts(now),
                ],
            )
            .doing("creating a job")?;
        Ok(self.conn().last_insert_rowid())
    }

    pub fn job(&self, id: JobId) -> Result<Job> {
        self.conn()
            .query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), [id], job_row)
            .optional()
            .doing("reading a job")?
            .ok_or(StoreError::JobNotFound(id))
    }

    /// Jobs, newest first; of one customer if given.
    pub fn list_jobs(&self, customer: Option<CustomerId>) -> Result<Vec<Job>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE ?1 IS NULL OR customer_id = ?1 ORDER BY id DESC"
            ))
            .doing("listing jobs")?;
        let rows = stmt.query_map([customer], job_row).doing("listing jobs")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("listing jobs")
    }

    /// Takes a lifecycle step, checked against the job's state inside one write transaction;
    /// `fill` sets the step's own columns (who, when, reference).
    pub fn job_step(&mut self, id: JobId, step: JobStep, fill: &[(&str, Option<String>)]) -> Result<JobState> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate).doing("updating a job")?;
        let state: String = tx
            .query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .doing("reading a job")?
            .ok_or(StoreError::JobNotFound(id))?;
        let state: JobState =
            state.parse().map_err(|_| StoreError::BadValue { what: "job state".into(), value: state.clone() })?;
        let to = next_state(id, state, step).map_err(StoreError::Step)?;
        tx.execute("UPDATE jobs SET state = ?2 WHERE id = ?1", params![id, to.as_str()]).doing("updating a job")?;
        for (column, value) in fill {
            // Column names come from this crate only, never from input.
            debug_assert!(column.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            tx.execute(&format!("UPDATE jobs SET {column} = ?2 WHERE id = ?1"), params![id, value])
                .doing("updating a job")?;
        }
        tx.commit().doing("updating a job")?;
        Ok(to)
    }

    /// Sets the state without the lifecycle check: only for single-order jobs, which skip
    /// the offer and approval steps by design (*enkeltvis* is the support desk's own tool).
    pub fn force_job_state(&self, id: JobId, state: JobState) -> Result<()> {
        self.conn()
            .execute("UPDATE jobs SET state = ?2 WHERE id = ?1 AND kind = 'single'", params![id, state.as_str()])
            .doing("updating a job")?;
        Ok(())
    }

    /// Writes a command for the worker; it obeys within a second.
    pub fn send_command(&self, id: JobId, command: JobCommand, now: DateTime<Utc>) -> Result<()> {
        let n = self
            .conn()
            .execute(
                "UPDATE jobs SET command = ?2, command_at = ?3 WHERE id = ?1",
                params![id, command.as_str(), ts(now)],
            )
            .doing("sending a command to a job")?;
        if n == 0 {
            return Err(StoreError::JobNotFound(id));
        }
        Ok(())
    }

    /// Reads and clears the pending command, if any.
    pub fn take_command(&mut self, id: JobId) -> Result<Option<JobCommand>> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate).doing("reading commands")?;
        let c: Option<String> = tx
            .query_row("SELECT command FROM jobs WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .doing("reading commands")?
            .flatten();
        if c.is_some() {
            tx.execute("UPDATE jobs SET command = NULL WHERE id = ?1", [id]).doing("clearing a command")?;
        }
        tx.commit().doing("reading commands")?;
        Ok(c.as_deref().and_then(JobCommand::parse))
    }

    /// Takes (or renews) the job's lease for `owner`, refused while another owner's lease runs.
    pub fn acquire_lease(&mut self, id: JobId, owner: &str, ttl: Duration, now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn_mut().transaction_with_behavior(TransactionBehavior::Immediate).doing("taking a lease")?;
        let held: Option<(Option<String>, Option<String>)> = tx
            .query_row("SELECT lease_owner, lease_until FROM jobs WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .doing("taking a lease")?;
        let Some((holder, until)) = held else {
            return Err(StoreError::JobNotFound(id));
        };
        if let (Some(holder), Some(until)) = (holder, parse_ts(until))
            && holder != owner
            && until > now
        {
            return Err(StoreError::LeaseHeld(LeaseHeld { job: id, owner: holder, until }));
        }
        tx.execute(
            "UPDATE jobs SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1",
            params![id, owner, ts(now + ttl)],
        )
        .doing("taking a lease")?;
        tx.commit().doing("taking a lease")?;
        Ok(())
    }

    /// Gives the lease up, if `owner` still holds it.
    pub fn release_lease(&self, id: JobId, owner: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2",
                params![id, owner],
            )
            .doing("releasing a lease")?;
        Ok(())
    }

    pub fn set_listing(&self, id: JobId, cursor: Option<&str>, done: bool) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE jobs SET listing_cursor = ?2, listing_done = ?3 WHERE id = ?1",
                params![id, cursor, done as i64],
            )
            .doing("recording listing progress")?;
        Ok(())
    }

    /// Sets a timestamp column of the job (`started_at`, `finished_at`) if not yet set.
    pub fn mark_job_time(&self, id: JobId, column: &str, now: DateTime<Utc>) -> Result<()> {
        debug_assert!(matches!(column, "started_at" | "finished_at" | "billed_at"));
        self.conn()
            .execute(&format!("UPDATE jobs SET {column} = COALESCE({column}, ?2) WHERE id = ?1"), params![id, ts(now)])
            .doing("recording a job time")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::customers::tests::sample;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.add_customer(&sample("A", "1", "a@a.dk", "https://a.dk")).unwrap();
        (dir, s)
    }

    #[test]
    fn steps_in_order_and_refused_out_of_order() {
        let (_d, mut s) = store();
        let id = s.create_job(1, JobKind::Range, None, None, Utc::now()).unwrap();
        let err = s.job_step(id, JobStep::Start, &[]).unwrap_err().to_string();
        assert!(err.contains("offer must be accepted first"), "{err}");
        s.job_step(id, JobStep::Accept, &[("accepted_by", Some("Mette".into()))]).unwrap();
        let job = s.job(id).unwrap();
        assert_eq!(job.state, JobState::OfferAccepted);
        assert_eq!(job.accepted_by.as_deref(), Some("Mette"));
    }

    #[test]
    fn one_lease_holder_at_a_time() {
        let (_d, mut s) = store();
        let id = s.create_job(1, JobKind::Range, None, None, Utc::now()).unwrap();
        let now = Utc::now();
        s.acquire_lease(id, "host-a pid 1", Duration::seconds(15), now).unwrap();
        let err = s.acquire_lease(id, "host-b pid 2", Duration::seconds(15), now).unwrap_err().to_string();
        assert!(err.contains("host-a pid 1"), "{err}");
        s.acquire_lease(id, "host-a pid 1", Duration::seconds(15), now).unwrap(); // heartbeat
        // An expired lease can be taken over (the holder died).
        s.acquire_lease(id, "host-b pid 2", Duration::seconds(15), now + Duration::seconds(16)).unwrap();
        s.release_lease(id, "host-b pid 2").unwrap();
        assert_eq!(s.job(id).unwrap().lease_owner, None);
    }

    #[test]
    fn commands_are_taken_once() {
        let (_d, mut s) = store();
        let id = s.create_job(1, JobKind::Range, None, None, Utc::now()).unwrap();
        s.send_command(id, JobCommand::Pause, Utc::now()).unwrap();
        assert_eq!(s.take_command(id).unwrap(), Some(JobCommand::Pause));
        assert_eq!(s.take_command(id).unwrap(), None);
    }
}
