//! The billing summary of a finished job: quoted against actual, and what to invoice.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::calendar::Month;
use super::money::round_ore;
use super::plan::Plan;
use super::quote::{Pricing, extra_orders};

/// The job's transferred orders in one month, and that month's whole usage (the job's
/// orders included), from the usage ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthUsage {
    pub month: Month,
    pub job_orders: u64,
    pub total_usage: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingSummary {
    pub quoted_orders: u64,
    pub actual_orders: u64,
    /// (actual − quoted) / quoted; `None` when nothing was quoted.
    pub deviation_share: Option<Decimal>,
    /// The actual count exceeds the quote by more than the threshold: an extra order fee may
    /// be added (the seed's *ekstra ordretakst*).
    pub deviation_flagged: bool,
    pub deviation_threshold: Decimal,
    pub extra_orders: u64,
    pub extra_order_price: Decimal,
    pub extra_orders_cost: Decimal,
    pub technician_half_hours: u32,
    pub technician_fee: Decimal,
    pub subtotal_excl_vat: Decimal,
    pub vat: Decimal,
    pub total_incl_vat: Decimal,
    pub months: Vec<MonthUsage>,
}

/// Extra orders are counted per month: in each month the job's orders beyond what the quota
/// left after the regular orders of that month.
pub fn billing_summary(
    plan: &Plan,
    pricing: &Pricing,
    quoted_orders: u64,
    months: &[MonthUsage],
    technician_half_hours: u32,
    deviation_threshold: Decimal,
) -> BillingSummary {
    let actual: u64 = months.iter().map(|m| m.job_orders).sum();
    let extra: u64 = months
        .iter()
        .map(|m| extra_orders(m.total_usage.saturating_sub(m.job_orders), m.job_orders, plan.monthly_quota))
        .sum();
    let deviation_share = (quoted_orders > 0)
        .then(|| (Decimal::from(actual) - Decimal::from(quoted_orders)) / Decimal::from(quoted_orders));
    let flagged = deviation_share.is_some_and(|d| d.abs() > deviation_threshold);
    let half_hours = technician_half_hours.max(1);
    let technician_fee = round_ore(pricing.half_hour_fee * Decimal::from(half_hours));
    let extra_cost = plan.top_up_cost(extra);
    let subtotal = round_ore(technician_fee + extra_cost);
    let vat = round_ore(subtotal * pricing.vat_rate);
    BillingSummary {
        quoted_orders,
        actual_orders: actual,
        deviation_share: deviation_share.map(|d| d.round_dp(3)),
        deviation_flagged: flagged,
        deviation_threshold,
        extra_orders: extra,
        extra_order_price: round_ore(plan.extra_order_price),
        extra_orders_cost: extra_cost,
        technician_half_hours: half_hours,
        technician_fee,
        subtotal_excl_vat: subtotal,
        vat,
        total_incl_vat: round_ore(subtotal + vat),
        months: months.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::sample_plans;
    use rust_decimal_macros::dec;

    #[test]
    fn deviation_over_the_threshold_is_flagged() {
        let plan = &sample_plans()[0];
        let dec26 = Month { year: 2026, month: 12 };
        // Quoted 200, actually 260: 30 % over → flagged. 50 regular + 260 = 310 → 110 extra.
        let s = billing_summary(
            plan,
            &Pricing::default(),
            200,
            &[MonthUsage { month: dec26, job_orders: 260, total_usage: 310 }],
            1,
            dec!(0.20),
        );
        assert!(s.deviation_flagged);
        assert_eq!(s.deviation_share, Some(dec!(0.300)));
        assert_eq!(s.extra_orders, 110);
        assert_eq!(s.extra_orders_cost, dec!(330.00));
        assert_eq!(s.total_incl_vat, dec!(1162.50));
        let s = billing_summary(
            plan,
            &Pricing::default(),
            200,
            &[MonthUsage { month: dec26, job_orders: 210, total_usage: 260 }],
            1,
            dec!(0.20),
        );
        assert!(!s.deviation_flagged);
    }

    #[test]
    fn a_job_across_a_month_end_is_counted_per_month() {
        let plan = &sample_plans()[0];
        let m1 = Month { year: 2026, month: 12 };
        let months = [
            MonthUsage { month: m1, job_orders: 150, total_usage: 300 }, // 150 regular → 100 extra
            MonthUsage { month: m1.next(), job_orders: 100, total_usage: 120 }, // fits in January's quota
        ];
        let s = billing_summary(plan, &Pricing::default(), 250, &months, 2, dec!(0.20));
        assert_eq!(s.extra_orders, 100);
        assert_eq!(s.actual_orders, 250);
        assert_eq!(s.technician_fee, dec!(1200.00));
    }
}
