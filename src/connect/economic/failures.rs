//! What e-conomic's answers mean for an order: transient, outcome unknown, or rejected with
//! failures the customer can act on (annotated field errors mapped to causes).

use std::sync::PoisonError;

use super::call::CallError;
use super::{DOES_NOT_EXIST, Economic, NAME, ProductState, SYSTEM};
use crate::connect::economic_wire::FieldError;
use crate::connect::sink::{SendStep, SinkError};
use crate::domain::cause::{Cause, Failure, line_label};
use crate::domain::customer::IntegrationSettings;
use crate::domain::order::Order;

impl Economic {
    /// What a failed call means for an order, outside the draft and booking POSTs (where a
    /// lost reply is only a lost lookup, or a customer or product found next time).
    pub(super) fn lookup_error(&self, order: &Order, error: CallError) -> SinkError {
        match error {
            CallError::NotProcessed { error, retry_after } => {
                SinkError::Transient { order: order.reference.clone(), error, retry_after }
            }
            CallError::Lost(error) => SinkError::Transient { order: order.reference.clone(), error, retry_after: None },
            CallError::Status { status, error, .. } if status >= 500 => {
                SinkError::Transient { order: order.reference.clone(), error, retry_after: None }
            }
            other => self.rejection(order, other),
        }
    }

    /// A 4xx as the order's failures.
    pub(super) fn rejection(&self, order: &Order, error: CallError) -> SinkError {
        let failures = match error {
            CallError::Status { status: 401 | 403, error, raw, .. } => vec![
                Failure::new(
                    Cause::Auth,
                    &order.reference,
                    error.to_string(),
                    "renew the integration's e-conomic grant (the agreement may have revoked it) and check the app secret, then retry",
                )
                .with_vendor(None, None, Some(raw)),
            ],
            CallError::Status { body, raw, error, .. } => {
                let fields = body.map(|b| b.field_errors()).unwrap_or_default();
                let mut failures: Vec<Failure> = fields.iter().map(|f| self.field_failure(order, f, &raw)).collect();
                if failures.is_empty() {
                    failures.push(
                        Failure::new(
                            Cause::AccountingValidation,
                            &order.reference,
                            error.to_string(),
                            "correct the order or the integration's settings as the message says, then retry",
                        )
                        .with_vendor(None, None, Some(raw)),
                    );
                }
                failures
            }
            CallError::NotProcessed { error, .. } | CallError::Lost(error) => vec![Failure::new(
                Cause::Network,
                &order.reference,
                error.to_string(),
                "nothing to fix if it passes on retry",
            )],
        };
        SinkError::Rejected { system: SYSTEM, order: order.reference.clone(), failures }
    }

    /// One field error of an annotated 400, as a failure the customer can act on.
    pub(super) fn field_failure(&self, order: &Order, f: &FieldError, raw: &str) -> Failure {
        let code = f.code.clone();
        let code_text = code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        let line = f.line_index.and_then(|i| order.lines.get(i).map(|l| (i, l)));
        let vendor = |failure: Failure| failure.with_vendor(code.clone(), Some(f.path.clone()), Some(raw.to_string()));
        if let (Some((i, l)), "product", Some(DOES_NOT_EXIST)) = (line, f.property.as_str(), code.as_deref()) {
            let sku = f.value.clone().or_else(|| l.sku.clone()).unwrap_or_default();
            self.forget_product(&sku);
            let failure = Failure::missing_product(order, i, &sku, NAME);
            let detail = format!("{}: product {sku} does not exist{code_text}", line_label(i, l));
            return vendor(Failure { detail, ..failure });
        }
        let place = match line {
            Some((i, l)) => line_label(i, l),
            None => f.path.clone(),
        };
        let value = f.value.as_deref().map(|v| format!(" (sent: {v})")).unwrap_or_default();
        let detail = format!("{place}: {}{value}{code_text}", f.message.trim_end_matches('.'));
        let fix_hint = if f.path == "customer" && code.as_deref() == Some(DOES_NOT_EXIST) {
            self.cache.customers.lock().unwrap_or_else(PoisonError::into_inner).clear();
            "the customer does not exist in e-conomic: create it, or correct the integration's shared customer number, then retry".to_string()
        } else {
            format!(
                "correct {} as e-conomic says ({}), in the webshop or the integration's settings, then retry",
                f.path,
                f.message.trim_end_matches('.')
            )
        };
        let mut failure = vendor(Failure::new(Cause::AccountingValidation, &order.reference, detail, fix_hint));
        if let Some((i, _)) = line {
            failure = failure.at_line(i + 1);
        }
        failure.value = f.value.clone();
        failure
    }

    /// The draft and booking POSTs: a lost reply means the invoice may exist.
    pub(super) fn send_error(&self, order: &Order, step: SendStep, error: CallError) -> SinkError {
        match error {
            CallError::NotProcessed { error, retry_after } => {
                SinkError::Transient { order: order.reference.clone(), error, retry_after }
            }
            CallError::Lost(error) => {
                SinkError::OutcomeUnknown { system: SYSTEM, order: order.reference.clone(), step, error }
            }
            CallError::Status { status, error, .. } if status >= 500 => {
                SinkError::OutcomeUnknown { system: SYSTEM, order: order.reference.clone(), step, error }
            }
            other => self.rejection(order, other),
        }
    }
}

/// What is wrong with a product line given what e-conomic holds (a missing product that will
/// be created is fine).
pub(super) fn product_failure(
    order: &Order,
    index: usize,
    sku: &str,
    state: ProductState,
    settings: &IntegrationSettings,
) -> Option<Failure> {
    match state {
        ProductState::Present => None,
        ProductState::Missing if settings.create_missing_products => None,
        ProductState::Missing => Some(Failure::missing_product(order, index, sku, NAME)),
        ProductState::Barred => {
            let label = order.lines.get(index).map_or_else(|| format!("line {}", index + 1), |l| line_label(index, l));
            Some(
                Failure::new(
                    Cause::AccountingValidation,
                    &order.reference,
                    format!("{label}: product {sku} is barred in e-conomic"),
                    format!(
                        "lift the bar on product {sku} in e-conomic (or correct the SKU in the webshop), then retry"
                    ),
                )
                .at_line(index + 1)
                .with_value(sku)
                .with_vendor(None, Some(format!("lines[{index}].product")), None),
            )
        }
    }
}
