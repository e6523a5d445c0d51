//! An accounting system as the destination of orders: find an invoice by the shop's order
//! reference, check an order read-only, transfer it; and errors that tell the worker's state
//! machine whether the invoice may exist (reconcile) or certainly does not (retry).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

use super::economic::Economic;
use super::http::{ConnectError, System};
use crate::domain::cause::{Cause, Failure};
use crate::domain::customer::{AccountingKind, Integration, IntegrationSettings};
use crate::domain::order::Order;
use crate::domain::runtime::SinkRate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// Created but not booked: booking it finishes the transfer (never make a second draft).
    Draft,
    Booked,
}

/// An invoice in the accounting system that carries a shop order's reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvoiceRef {
    pub kind: InvoiceKind,
    /// The draft number or the booked invoice number.
    pub number: u64,
    /// The shop reference it carries (`references.other` in e-conomic).
    pub reference: String,
}

impl InvoiceRef {
    pub fn is_booked(&self) -> bool {
        self.kind == InvoiceKind::Booked
    }
}

impl fmt::Display for InvoiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            InvoiceKind::Draft => write!(f, "draft invoice {}", self.number),
            InvoiceKind::Booked => write!(f, "invoice {}", self.number),
        }
    }
}

/// Which POST's reply was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStep {
    Draft,
    Book,
}

impl fmt::Display for SendStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendStep::Draft => "created a draft for",
            SendStep::Book => "booked",
        })
    }
}

/// Why a sink call did not succeed, in the three kinds the worker must tell apart.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SinkError {
    /// Nothing was booked: the call never reached the system, or it refused before doing
    /// anything (429, 503). Safe to retry; the order goes back to pending.
    #[error("{error}; order {order} was not transferred and will be retried")]
    Transient { order: String, error: ConnectError, retry_after: Option<Duration> },
    /// A draft or booking POST was sent and its reply was lost or unreadable: the invoice may
    /// exist. Reconcile with `find_invoice` before anything is sent again; never retry blindly.
    #[error(
        "{system} may have {step} order {order}, but the reply was lost ({error}); it will be looked up by its reference before anything is sent again"
    )]
    OutcomeUnknown { system: System, order: String, step: SendStep, error: ConnectError },
    /// Permanent until someone fixes the cause (a product, a field, the credentials).
    #[error("{}", rejected_message(*system, order, failures))]
    Rejected { system: System, order: String, failures: Vec<Failure> },
}

fn rejected_message(system: System, order: &str, failures: &[Failure]) -> String {
    let Some(first) = failures.first() else { return format!("{system} rejected order {order}") };
    let by_vendor = first.vendor_code.is_some() || first.vendor_response.is_some();
    let head = if by_vendor {
        format!("{system} rejected order {order}: {}", first.detail)
    } else {
        format!("order {order} cannot be transferred to {system}: {}", first.detail)
    };
    match failures.len() {
        1 => head,
        n => format!("{head} (and {} more)", n - 1),
    }
}

impl SinkError {
    /// The cause to group the order under.
    pub fn cause(&self) -> Cause {
        match self {
            SinkError::Transient { error: ConnectError::RateLimited { .. }, .. } => Cause::RateLimited,
            SinkError::Transient { .. } | SinkError::OutcomeUnknown { .. } => Cause::Network,
            SinkError::Rejected { failures, .. } => failures.first().map_or(Cause::AccountingValidation, |f| f.cause),
        }
    }

    /// How long the remote asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SinkError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The failures to record: a rejection's own, or one describing the transient error.
    pub fn failures(&self) -> Vec<Failure> {
        match self {
            SinkError::Rejected { failures, .. } if !failures.is_empty() => failures.clone(),
            SinkError::Rejected { order, .. } => vec![Failure::new(
                Cause::AccountingValidation,
                order,
                self.to_string(),
                "open the order in the accounting system's log, correct it, then retry",
            )],
            SinkError::Transient { order, error, .. } => {
                let hint = match error {
                    ConnectError::RateLimited { .. } => "nothing to fix: the import waits and retries by itself",
                    _ => "nothing to fix if it passes on retry; if it persists, check the accounting system's status",
                };
                vec![Failure::new(self.cause(), order, error.to_string(), hint)]
            }
            SinkError::OutcomeUnknown { order, .. } => vec![Failure::new(
                Cause::Network,
                order,
                self.to_string(),
                "nothing to fix: the order is reconciled by its reference before it is sent again",
            )],
        }
    }
}

/// An accounting system orders are transferred to.
#[async_trait]
pub trait Sink: Send + Sync {
    fn system(&self) -> System;

    /// An invoice already booked or drafted for this shop reference (reconcile, and the check
    /// before creating). A booked one wins over a draft.
    async fn find_invoice(&self, reference: &str) -> Result<Option<InvoiceRef>, SinkError>;

    /// Read-only check of an order against the accounting system (preflight): the pre-check,
    /// plus products and the shared customer exist.
    async fn check(&self, order: &Order, settings: &IntegrationSettings) -> Result<Vec<Failure>, SinkError>;

    /// Transfers one order: customer, products, a draft with every line, booked. An order
    /// already booked returns its invoice; one left as a draft has that draft booked.
    async fn transfer(&self, order: &Order, settings: &IntegrationSettings) -> Result<InvoiceRef, SinkError>;

    /// Forgets cached lookups (products, customers), so a retry after a fix sees the fix.
    fn forget_cache(&self);
}

/// The sink for a customer's integration, paced at `rate`.
pub fn sink_for(
    integration: &Integration,
    client: reqwest::Client,
    rate: SinkRate,
) -> Result<Box<dyn Sink>, ConnectError> {
    match integration.accounting {
        AccountingKind::Economic => {
            let missing = |what: &str| ConnectError::BadUrl {
                system: System::Economic,
                url: integration.accounting_url.clone(),
                reason: format!("the integration has no e-conomic {what}; add it to the customer's integration"),
            };
            let secret = integration.economic_app_secret.clone().ok_or_else(|| missing("app secret token"))?;
            let grant = integration.economic_grant.clone().ok_or_else(|| missing("agreement grant token"))?;
            let economic = Economic::new(client, &integration.accounting_url, secret, grant)?
                .with_rate(rate.requests_per_second)
                .with_timezone(integration.timezone);
            Ok(Box::new(economic))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(vendor: bool) -> Failure {
        let f = Failure::new(
            Cause::MissingProduct,
            "#1042",
            "line 1 'T-shirt, blue': product TSHIRT-BL does not exist (E06000)",
            "create it",
        );
        if vendor { f.with_vendor(Some("E06000".into()), Some("lines[0].product".into()), None) } else { f }
    }

    #[test]
    fn rejections_read_as_one_sentence() {
        let e = SinkError::Rejected { system: System::Economic, order: "#1042".into(), failures: vec![failure(true)] };
        assert_eq!(
            e.to_string(),
            "e-conomic rejected order #1042: line 1 'T-shirt, blue': product TSHIRT-BL does not exist (E06000)"
        );
        assert_eq!(e.cause(), Cause::MissingProduct);
        let e = SinkError::Rejected {
            system: System::Economic,
            order: "#1042".into(),
            failures: vec![failure(false), failure(false)],
        };
        assert!(e.to_string().starts_with("order #1042 cannot be transferred to e-conomic: line 1"), "{e}");
        assert!(e.to_string().ends_with("(and 1 more)"), "{e}");
    }

    #[test]
    fn transient_and_unknown_errors_are_network_or_rate_limit_failures() {
        let limited = SinkError::Transient {
            order: "#1".into(),
            error: ConnectError::RateLimited { system: System::Economic, host: "h".into(), retry_after_seconds: 2 },
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(limited.cause(), Cause::RateLimited);
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(2)));
        assert!(limited.failures()[0].is_transient());
        let lost = SinkError::OutcomeUnknown {
            system: System::Economic,
            order: "#1".into(),
            step: SendStep::Book,
            error: ConnectError::Timeout { system: System::Economic, host: "h".into(), seconds: 30 },
        };
        assert_eq!(lost.cause(), Cause::Network);
        assert!(lost.to_string().starts_with("e-conomic may have booked order #1"), "{lost}");
    }

    #[test]
    fn invoice_refs_name_their_kind() {
        let r = InvoiceRef { kind: InvoiceKind::Booked, number: 10001, reference: "#1".into() };
        assert_eq!(r.to_string(), "invoice 10001");
        assert!(r.is_booked());
        let d = InvoiceRef { kind: InvoiceKind::Draft, number: 3, reference: "#1".into() };
        assert_eq!(d.to_string(), "draft invoice 3");
    }
}
