//! Subscription plans: a monthly order quota and the price of each order beyond it.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

use super::money::round_ore;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    /// Orders a month included in the subscription.
    pub monthly_quota: u64,
    /// Price, excluding VAT, of each order beyond the quota.
    pub extra_order_price: Decimal,
    /// True for the built-in figures that are not from the business (only Basic's quota is).
    #[serde(default)]
    pub sample: bool,
}

impl Plan {
    /// The *Tank op* calculator: what `extra_orders` orders beyond the quota cost, excl. VAT.
    pub fn top_up_cost(&self, extra_orders: u64) -> Decimal {
        round_ore(self.extra_order_price * Decimal::from(extra_orders))
    }
}

/// The built-in plan table. Basic's 200 orders a month is the seed's figure; every other
/// number here is a sample value meant to be replaced in the config file.
pub fn sample_plans() -> Vec<Plan> {
    vec![
        Plan { name: "Basic".into(), monthly_quota: 200, extra_order_price: dec!(3.00), sample: true },
        Plan { name: "Plus".into(), monthly_quota: 1_000, extra_order_price: dec!(2.50), sample: true },
        Plan { name: "Pro".into(), monthly_quota: 5_000, extra_order_price: dec!(2.00), sample: true },
        Plan { name: "Enterprise".into(), monthly_quota: 20_000, extra_order_price: dec!(1.50), sample: true },
    ]
}

/// Finds a plan by name, ignoring case.
pub fn find_plan<'a>(plans: &'a [Plan], name: &str) -> Option<&'a Plan> {
    plans.iter().find(|p| p.name.eq_ignore_ascii_case(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_has_the_seeds_quota() {
        let plans = sample_plans();
        let basic = find_plan(&plans, "basic").map(|p| p.monthly_quota);
        assert_eq!(basic, Some(200));
    }

    #[test]
    fn top_up_multiplies_by_the_plans_price() {
        let plans = sample_plans();
        let basic = &plans[0];
        assert_eq!(basic.top_up_cost(50), dec!(150.00));
        assert_eq!(basic.top_up_cost(0), dec!(0));
    }
}
