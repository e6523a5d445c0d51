//! Order statuses of the simulated shops, stored as one byte per order, and the filters the
//! vendors' `status` parameters select with.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::domain::customer::WebshopKind;

const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WooStatus {
    Pending,
    Processing,
    OnHold,
    Completed,
    Cancelled,
    Refunded,
    Failed,
}

impl WooStatus {
    pub const ALL: [WooStatus; 7] = [
        WooStatus::Pending,
        WooStatus::Processing,
        WooStatus::OnHold,
        WooStatus::Completed,
        WooStatus::Cancelled,
        WooStatus::Refunded,
        WooStatus::Failed,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> WooStatus {
        WooStatus::ALL.get(usize::from(code)).copied().unwrap_or(WooStatus::Completed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WooStatus::Pending => "pending",
            WooStatus::Processing => "processing",
            WooStatus::OnHold => "on-hold",
            WooStatus::Completed => "completed",
            WooStatus::Cancelled => "cancelled",
            WooStatus::Refunded => "refunded",
            WooStatus::Failed => "failed",
        }
    }

    /// Whether the buyer paid (WooCommerce sets `date_paid`).
    pub fn is_paid(self) -> bool {
        matches!(self, WooStatus::Processing | WooStatus::Completed | WooStatus::Refunded)
    }

    /// Mostly completed; recent orders are often still processing.
    pub(crate) fn pick(rng: &mut ChaCha8Rng, age_seconds: i64) -> WooStatus {
        use WooStatus::*;
        let table: &[(WooStatus, f64)] = if age_seconds < 2 * DAY {
            &[(Processing, 0.55), (Completed, 0.30), (Pending, 0.05), (OnHold, 0.04), (Failed, 0.03), (Cancelled, 0.03)]
        } else {
            &[
                (Completed, 0.895),
                (Cancelled, 0.03),
                (Refunded, 0.025),
                (Failed, 0.015),
                (Pending, 0.013),
                (Processing, 0.012),
                (OnHold, 0.01),
            ]
        };
        pick_weighted(rng, table)
    }
}

/// A Shopify order's state: its financial and fulfilment status and whether it is closed
/// (archived) or cancelled. Every cancelled order is also closed, so `status=open` and
/// `status=closed` split the orders in two and `cancelled` is part of `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopifyState {
    /// Paid, fulfilled and archived: most orders.
    Closed,
    /// Paid and fulfilled, not archived.
    Fulfilled,
    /// Paid, not shipped yet.
    Unfulfilled,
    /// Awaiting payment (bank transfer).
    Pending,
    /// Refunded after shipping, archived.
    Refunded,
    /// Cancelled before the payment was captured.
    CancelledVoided,
    /// Cancelled and refunded.
    CancelledRefunded,
}

impl ShopifyState {
    pub const ALL: [ShopifyState; 7] = [
        ShopifyState::Closed,
        ShopifyState::Fulfilled,
        ShopifyState::Unfulfilled,
        ShopifyState::Pending,
        ShopifyState::Refunded,
        ShopifyState::CancelledVoided,
        ShopifyState::CancelledRefunded,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> ShopifyState {
        ShopifyState::ALL.get(usize::from(code)).copied().unwrap_or(ShopifyState::Closed)
    }

    pub fn financial_status(self) -> &'static str {
        match self {
            ShopifyState::Closed | ShopifyState::Fulfilled | ShopifyState::Unfulfilled => "paid",
            ShopifyState::Pending => "pending",
            ShopifyState::Refunded | ShopifyState::CancelledRefunded => "refunded",
            ShopifyState::CancelledVoided => "voided",
        }
    }

    pub fn fulfillment_status(self) -> Option<&'static str> {
        match self {
            ShopifyState::Closed | ShopifyState::Fulfilled | ShopifyState::Refunded => Some("fulfilled"),
            _ => None,
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(
            self,
            ShopifyState::Closed
                | ShopifyState::Refunded
                | ShopifyState::CancelledVoided
                | ShopifyState::CancelledRefunded
        )
    }

    pub fn is_cancelled(self) -> bool {
        matches!(self, ShopifyState::CancelledVoided | ShopifyState::CancelledRefunded)
    }

    pub fn is_refunded(self) -> bool {
        matches!(self, ShopifyState::Refunded | ShopifyState::CancelledRefunded)
    }

    /// Mostly closed; recent orders are open (nothing is closed before it could be).
    pub(crate) fn pick(rng: &mut ChaCha8Rng, age_seconds: i64) -> ShopifyState {
        use ShopifyState::*;
        let table: &[(ShopifyState, f64)] = if age_seconds < 3 * DAY {
            &[(Unfulfilled, 0.55), (Fulfilled, 0.30), (Pending, 0.10), (CancelledVoided, 0.05)]
        } else {
            &[
                (Closed, 0.85),
                (Fulfilled, 0.04),
                (Refunded, 0.04),
                (CancelledVoided, 0.025),
                (CancelledRefunded, 0.02),
                (Unfulfilled, 0.015),
                (Pending, 0.01),
            ]
        };
        pick_weighted(rng, table)
    }
}

fn pick_weighted<T: Copy>(rng: &mut ChaCha8Rng, table: &[(T, f64)]) -> T {
    let total: f64 = table.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0.0..total);
    for &(item, w) in table {
        if r < w {
            return item;
        }
        r -= w;
    }
    table[table.len() - 1].0
}

/// A set of status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusMask(u16);

impl StatusMask {
    pub const ALL: StatusMask = StatusMask(u16::MAX);
    pub const NONE: StatusMask = StatusMask(0);

    pub fn contains(self, code: u8) -> bool {
        code < 16 && self.0 & (1 << code) != 0
    }

    pub fn is_all(self) -> bool {
        self == StatusMask::ALL
    }

    pub fn bits(self) -> u16 {
        self.0
    }

    pub fn from_bits(bits: u16) -> StatusMask {
        StatusMask(bits)
    }

    pub fn union(self, other: StatusMask) -> StatusMask {
        StatusMask(self.0 | other.0)
    }

    pub fn intersect(self, other: StatusMask) -> StatusMask {
        if self.is_all() {
            other
        } else if other.is_all() {
            self
        } else {
            StatusMask(self.0 & other.0)
        }
    }

    fn of<T: Copy>(all: &[T], code: impl Fn(T) -> u8, keep: impl Fn(T) -> bool) -> StatusMask {
        StatusMask(all.iter().filter(|s| keep(**s)).fold(0, |m, s| m | (1 << code(*s))))
    }

    /// A WooCommerce `status` value; `None` when WooCommerce would reject it.
    pub fn woo(name: &str) -> Option<StatusMask> {
        match name {
            "any" => Some(StatusMask::ALL),
            // Valid statuses no simulated order has.
            "trash" | "checkout-draft" => Some(StatusMask::NONE),
            _ => WooStatus::ALL
                .iter()
                .find(|s| s.as_str() == name)
                .map(|s| StatusMask::of(&[*s], WooStatus::code, |_| true)),
        }
    }

    /// A Shopify `status` value (`open`, `closed`, `cancelled`, `any`).
    pub fn shopify_status(name: &str) -> Option<StatusMask> {
        let all = &ShopifyState::ALL;
        match name {
            "any" => Some(StatusMask::ALL),
            "open" => Some(StatusMask::of(all, ShopifyState::code, |s| !s.is_closed() && !s.is_cancelled())),
            "closed" => Some(StatusMask::of(all, ShopifyState::code, ShopifyState::is_closed)),
            "cancelled" => Some(StatusMask::of(all, ShopifyState::code, ShopifyState::is_cancelled)),
            _ => None,
        }
    }

    /// A Shopify `financial_status` value.
    pub fn shopify_financial(name: &str) -> Option<StatusMask> {
        let all = &ShopifyState::ALL;
        match name {
            "any" => Some(StatusMask::ALL),
            "authorized" | "partially_paid" | "partially_refunded" | "unpaid" => Some(StatusMask::NONE),
            "paid" | "pending" | "refunded" | "voided" => {
                Some(StatusMask::of(all, ShopifyState::code, |s| s.financial_status() == name))
            }
            _ => None,
        }
    }

    /// A Shopify `fulfillment_status` value.
    pub fn shopify_fulfillment(name: &str) -> Option<StatusMask> {
        let all = &ShopifyState::ALL;
        match name {
            "any" => Some(StatusMask::ALL),
            "shipped" => Some(StatusMask::of(all, ShopifyState::code, |s| s.fulfillment_status().is_some())),
            "partial" => Some(StatusMask::NONE),
            "unshipped" | "unfulfilled" => {
                Some(StatusMask::of(all, ShopifyState::code, |s| s.fulfillment_status().is_none()))
            }
            _ => None,
        }
    }

    /// The statuses a list of names selects in a shop of this kind: empty or `any` is every
    /// order, an unknown name selects nothing.
    pub fn lenient<S: AsRef<str>>(kind: WebshopKind, statuses: &[S]) -> StatusMask {
        if statuses.is_empty() {
            return StatusMask::ALL;
        }
        statuses.iter().fold(StatusMask::NONE, |mask, name| {
            let name = name.as_ref().trim();
            let one = match kind {
                WebshopKind::WooCommerce => StatusMask::woo(name),
                WebshopKind::Shopify => StatusMask::shopify_status(name),
            };
            if mask.is_all() { mask } else { one.map(|m| mask.union(m)).unwrap_or(mask) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_open_and_closed_split_every_order() {
        let open = StatusMask::shopify_status("open").unwrap();
        let closed = StatusMask::shopify_status("closed").unwrap();
        let cancelled = StatusMask::shopify_status("cancelled").unwrap();
        for s in ShopifyState::ALL {
            assert_ne!(open.contains(s.code()), closed.contains(s.code()), "{s:?}");
            if cancelled.contains(s.code()) {
                assert!(closed.contains(s.code()));
            }
        }
    }

    #[test]
    fn lenient_masks() {
        let m = StatusMask::lenient(WebshopKind::WooCommerce, &["processing", "completed"]);
        assert!(m.contains(WooStatus::Completed.code()) && m.contains(WooStatus::Processing.code()));
        assert!(!m.contains(WooStatus::Cancelled.code()));
        assert!(StatusMask::lenient(WebshopKind::WooCommerce, &["any"]).is_all());
        assert_eq!(StatusMask::lenient(WebshopKind::WooCommerce, &["bogus"]), StatusMask::NONE);
        assert!(StatusMask::lenient::<&str>(WebshopKind::Shopify, &[]).is_all());
        assert!(StatusMask::woo("on-hold").is_some() && StatusMask::woo("onhold").is_none());
    }
}
