//! The full-import job's lifecycle (DOMAIN.md, "The rules of a full import job") and the
//! per-order state machine that makes "never booked twice, never lost" true.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a job is. The order is the business's: an offer must be accepted in writing, a test
/// transfer reviewed and approved, before the import may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Quoted,
    OfferAccepted,
    TestTransferred,
    Approved,
    Running,
    Paused,
    Finished,
    Billed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 9] = [
        JobState::Quoted,
        JobState::OfferAccepted,
        JobState::TestTransferred,
        JobState::Approved,
        JobState::Running,
        JobState::Paused,
        JobState::Finished,
        JobState::Billed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Quoted => "quoted",
            JobState::OfferAccepted => "offer_accepted",
            JobState::TestTransferred => "test_transferred",
            JobState::Approved => "approved",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Finished => "finished",
            JobState::Billed => "billed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Human words for messages and the TUI.
    pub fn label(self) -> &'static str {
        match self {
            JobState::Quoted => "quoted",
            JobState::OfferAccepted => "offer accepted",
            JobState::TestTransferred => "test transfer done",
            JobState::Approved => "customer approved",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Finished => "finished",
            JobState::Billed => "billed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// A worker may process orders in this state (running, or approved and about to start).
    pub fn is_active(self) -> bool {
        matches!(self, JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL.into_iter().find(|j| j.as_str() == s).ok_or_else(|| format!("unknown job state '{s}'"))
    }
}

/// A step a user takes on a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStep {
    Accept,
    TestTransfer,
    Approve,
    Start,
    Pause,
    Resume,
    Finish,
    Bill,
    Cancel,
}

impl JobStep {
    fn name(self) -> &'static str {
        match self {
            JobStep::Accept => "accept the offer",
            JobStep::TestTransfer => "make the test transfer",
            JobStep::Approve => "record the customer's approval",
            JobStep::Start => "start the import",
            JobStep::Pause => "pause",
            JobStep::Resume => "resume",
            JobStep::Finish => "finish",
            JobStep::Bill => "bill",
            JobStep::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} for job {job}, which is {}: {missing}", step.name(), state.label())]
pub struct StepRefused {
    pub job: i64,
    pub step: JobStep,
    pub state: JobState,
    /// What must happen first, in words (`the offer must be accepted first: importdesk job accept …`).
    pub missing: String,
}

/// The state a step leads to, or why it is refused (naming the missing step).
pub fn next_state(job: i64, state: JobState, step: JobStep) -> Result<JobState, StepRefused> {
    use JobState as S;
    use JobStep as T;
    let to = match (state, step) {
        (S::Quoted, T::Accept) => Some(S::OfferAccepted),
        (S::OfferAccepted | S::TestTransferred, T::TestTransfer) => Some(S::TestTransferred),
        (S::TestTransferred, T::Approve) => Some(S::Approved),
        (S::Approved | S::Paused, T::Start) => Some(S::Running),
        (S::Running, T::Pause) => Some(S::Paused),
        (S::Paused, T::Resume) => Some(S::Running),
        (S::Running | S::Paused, T::Finish) => Some(S::Finished),
        (S::Finished, T::Bill) => Some(S::Billed),
        (S::Quoted | S::OfferAccepted | S::TestTransferred | S::Approved | S::Running | S::Paused, T::Cancel) => {
            Some(S::Cancelled)
        }
        _ => None,
    };
    to.ok_or_else(|| StepRefused { job, step, state, missing: missing_step(job, state, step) })
}

fn missing_step(job: i64, state: JobState, step: JobStep) -> String {
    use JobState as S;
    match state {
        S::Quoted => {
            format!("the offer must be accepted first: importdesk job accept {job} --by NAME --reference TEXT")
        }
        S::OfferAccepted => format!("a test transfer must be made first: importdesk job test {job} [--order REF]"),
        S::TestTransferred => {
            format!("the customer must approve the test transfer first: importdesk job approve {job} --by NAME")
        }
        S::Approved => format!("the import has not started: importdesk job start {job}"),
        S::Running if step == JobStep::Resume => "it is already running".to_string(),
        S::Running => "it is running; pause it first if needed".to_string(),
        S::Paused => format!("it is paused: importdesk job resume {job}"),
        S::Finished if step == JobStep::Bill => String::new(),
        S::Finished => format!("it has finished; bill it with importdesk job bill {job}"),
        S::Billed => "it has been billed; nothing more can be done".to_string(),
        S::Cancelled => "it was cancelled; create a new job".to_string(),
    }
}

/// Where one order of a job is. Every transition is committed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Waiting to be sent (again, after a transient error).
    Pending,
    /// Committed before the invoice POST: the POST may or may not have reached the sink.
    Sending,
    /// The POST's outcome is not known: must be reconciled by reference before anything else.
    Unknown,
    Transferred,
    Failed,
    /// Status not transferred by the integration's settings, or skipped by a person.
    Skipped,
    Cancelled,
}

impl OrderState {
    pub const ALL: [OrderState; 7] = [
        OrderState::Pending,
        OrderState::Sending,
        OrderState::Unknown,
        OrderState::Transferred,
        OrderState::Failed,
        OrderState::Skipped,
        OrderState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::Sending => "sending",
            OrderState::Unknown => "unknown",
            OrderState::Transferred => "transferred",
            OrderState::Failed => "failed",
            OrderState::Skipped => "skipped",
            OrderState::Cancelled => "cancelled",
        }
    }

    /// No more work for the worker (a failed order waits for a person's retry).
    pub fn is_final(self) -> bool {
        matches!(self, OrderState::Transferred | OrderState::Failed | OrderState::Skipped | OrderState::Cancelled)
    }

    /// The transitions the worker and the retry commands may make.
    pub fn may_become(self, to: OrderState) -> bool {
        use OrderState as O;
        matches!(
            (self, to),
            (O::Pending, O::Sending | O::Skipped | O::Cancelled | O::Failed)
                | (O::Sending, O::Transferred | O::Failed | O::Unknown | O::Pending)
                | (O::Unknown, O::Transferred | O::Pending)
                | (O::Failed, O::Pending | O::Skipped)
        )
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderState::ALL.into_iter().find(|o| o.as_str() == s).ok_or_else(|| format!("unknown order state '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path() {
        let mut s = JobState::Quoted;
        for step in [
            JobStep::Accept,
            JobStep::TestTransfer,
            JobStep::Approve,
            JobStep::Start,
            JobStep::Pause,
            JobStep::Resume,
            JobStep::Finish,
            JobStep::Bill,
        ] {
            s = next_state(7, s, step).unwrap();
        }
        assert_eq!(s, JobState::Billed);
    }

    #[test]
    fn out_of_order_names_the_missing_step() {
        let err = next_state(7, JobState::Quoted, JobStep::Start).unwrap_err().to_string();
        assert!(err.contains("offer must be accepted first"), "{err}");
        let err = next_state(7, JobState::OfferAccepted, JobStep::Approve).unwrap_err().to_string();
        assert!(err.contains("test transfer must be made first"), "{err}");
        let err = next_state(7, JobState::TestTransferred, JobStep::Start).unwrap_err().to_string();
        assert!(err.contains("customer must approve"), "{err}");
        assert!(next_state(7, JobState::Billed, JobStep::Cancel).is_err());
    }

    #[test]
    fn order_states_round_trip_and_only_legal_moves() {
        for s in OrderState::ALL {
            assert_eq!(s.as_str().parse::<OrderState>().unwrap(), s);
        }
        assert!(OrderState::Pending.may_become(OrderState::Sending));
        assert!(!OrderState::Pending.may_become(OrderState::Transferred), "never transferred without sending");
        assert!(!OrderState::Unknown.may_become(OrderState::Sending), "unknown must reconcile first");
        assert!(!OrderState::Transferred.may_become(OrderState::Pending), "a booked order is never resent");
    }
}
