//! How long an import runs: the shop's paging rate against the accounting system's call rate.

use serde::{Deserialize, Serialize};

/// Reading orders from a webshop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceRate {
    /// Orders per page when listing (WooCommerce max 100, Shopify max 250).
    pub page_size: u32,
    /// Sustained list requests per second.
    pub requests_per_second: f64,
}

/// Writing orders to an accounting system.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SinkRate {
    /// API calls per transferred order (lookup by reference, customer, draft, book, …).
    pub calls_per_order: f64,
    /// Sustained calls per second allowed.
    pub requests_per_second: f64,
    /// Fair-use ceiling per 24 hours (e-conomic: 50,000 per agreement), if any.
    pub daily_call_limit: Option<u64>,
}

const DAY_SECONDS: f64 = 86_400.0;

/// Seconds to read and write `orders` orders; reading and writing overlap, so the slower
/// side sets the pace.
pub fn estimated_runtime_seconds(orders: u64, source: SourceRate, sink: SinkRate) -> u64 {
    if orders == 0 {
        return 0;
    }
    let pages = orders.div_ceil(u64::from(source.page_size.max(1))) as f64;
    let read = pages / source.requests_per_second.max(f64::MIN_POSITIVE);
    let calls = orders as f64 * sink.calls_per_order.max(0.0);
    let per_second = sink.requests_per_second.max(f64::MIN_POSITIVE);
    let write = match sink.daily_call_limit {
        Some(limit) if limit > 0 && calls > limit as f64 => {
            // Each full day's budget is spent as fast as allowed, then waits for the window.
            let full_days = (calls / limit as f64).floor();
            let rest = calls - full_days * limit as f64;
            let rest_time = rest / per_second;
            if rest_time > 0.0 {
                full_days * DAY_SECONDS + rest_time
            } else {
                (full_days - 1.0) * DAY_SECONDS + limit as f64 / per_second
            }
        }
        _ => calls / per_second,
    };
    read.max(write).ceil() as u64
}

/// `2 t 5 min`, `45 s`, `3 d 4 t`: short Danish duration.
pub fn format_duration_da(seconds: u64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3_600, seconds % 3_600 / 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) => format!("{m} min {s:02} s"),
        (0, _, _) => format!("{h} t {m:02} min"),
        _ => format!("{d} d {h} t {m:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WOO: SourceRate = SourceRate { page_size: 100, requests_per_second: 2.0 };
    const ECONOMIC: SinkRate =
        SinkRate { calls_per_order: 3.0, requests_per_second: 10.0, daily_call_limit: Some(50_000) };

    #[test]
    fn slower_side_sets_the_pace() {
        // 1,000 orders: 10 pages at 2/s = 5 s to read; 3,000 calls at 10/s = 300 s to write.
        assert_eq!(estimated_runtime_seconds(1_000, WOO, ECONOMIC), 300);
        let slow_shop = SourceRate { page_size: 10, requests_per_second: 0.1 };
        assert_eq!(estimated_runtime_seconds(1_000, slow_shop, ECONOMIC), 1_000);
        assert_eq!(estimated_runtime_seconds(0, WOO, ECONOMIC), 0);
    }

    #[test]
    fn daily_fair_use_limit_stretches_big_imports_over_days() {
        // 50,000 orders = 150,000 calls = three days' budgets.
        let secs = estimated_runtime_seconds(50_000, WOO, ECONOMIC);
        assert_eq!(secs, 2 * 86_400 + 5_000);
    }

    #[test]
    fn durations_in_danish() {
        assert_eq!(format_duration_da(45), "45 s");
        assert_eq!(format_duration_da(125), "2 min 05 s");
        assert_eq!(format_duration_da(7_500), "2 t 05 min");
        assert_eq!(format_duration_da(90_000), "1 d 1 t 00 min");
    }
}
