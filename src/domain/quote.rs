//! The price and run time of importing a range of previous orders.
//!
//! Price = technician half hours × DKK 600 + orders beyond the monthly quota × the plan's
//! extra-order price, plus 25 % VAT. Pure: the clock and the counts are passed in.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

use super::calendar::{DateRange, Month, local_date};
use super::customer::WebshopKind;
use super::money::{DANISH_VAT_RATE, format_count, format_dkk, round_ore};
use super::plan::Plan;
use super::runtime::{SinkRate, SourceRate, estimated_runtime_seconds};

/// Shopify only exposes this many days of orders without the `read_all_orders` scope.
pub const SHOPIFY_HISTORY_DAYS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    /// Price of each started half hour of technician time (the first is the base fee).
    pub half_hour_fee: Decimal,
    pub vat_rate: Decimal,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing { half_hour_fee: dec!(600), vat_rate: DANISH_VAT_RATE }
    }
}

impl Pricing {
    /// The VAT on an amount excluding VAT, rounded to øre the way the quote rounds it.
    pub fn vat_on(&self, amount_excl_vat: Decimal) -> Decimal {
        round_ore(amount_excl_vat * self.vat_rate)
    }
}

/// Everything a quote is computed from.
#[derive(Debug, Clone)]
pub struct QuoteInput {
    pub plan: Plan,
    pub pricing: Pricing,
    /// Orders already counted against this month's quota.
    pub used_this_month: u64,
    /// Orders the shop has in the range (in the transferred statuses).
    pub orders_in_range: u64,
    /// Of those, the ones on or after the integration's start: already transferred.
    pub already_transferred: u64,
    /// The picked range; `None` for a quote on a bare order count.
    pub range: Option<DateRange>,
    /// The day the integration started transferring, if known.
    pub integration_since: Option<NaiveDate>,
    pub webshop: Option<WebshopKind>,
    /// Planned technician half hours, at least one.
    pub technician_half_hours: u32,
    pub source_rate: SourceRate,
    pub sink_rate: SinkRate,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// The range reaches the integration's start; those orders are excluded.
    ReachesIntegrationStart { since: NaiveDate, excluded: u64 },
    /// Shopify range older than 60 days: the app needs `read_all_orders`.
    ShopifyOldOrders { oldest: NaiveDate },
    /// The import is projected to finish in a later month than it starts.
    CrossesMonthEnd { month_end: NaiveDate },
    /// Nothing to import.
    EmptyRange,
}

impl Warning {
    pub fn message(&self) -> String {
        match self {
            Warning::ReachesIntegrationStart { since, excluded } => format!(
                "range reaches the integration's start {since}: {} orders from then on were already transferred and are excluded",
                format_count(*excluded)
            ),
            Warning::ShopifyOldOrders { oldest } => format!(
                "orders before {} are older than {SHOPIFY_HISTORY_DAYS} days: the Shopify app needs the read_all_orders scope",
                oldest
            ),
            Warning::CrossesMonthEnd { month_end } => format!(
                "the import runs past {month_end}: orders transferred after that count against next month's quota"
            ),
            Warning::EmptyRange => "no orders to import in this range".to_string(),
        }
    }
}

/// The extra orders if the customer's regular sales go on at this month's daily rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    pub daily_rate: Decimal,
    pub days_left_in_month: u32,
    pub regular_orders_until_month_end: u64,
    pub extra_orders_if_continued: u64,
    pub extra_orders_cost_if_continued: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub plan: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub orders_in_range: u64,
    pub already_transferred: u64,
    pub orders_to_import: u64,
    pub used_this_month: u64,
    pub monthly_quota: u64,
    pub used_after_import: u64,
    pub extra_orders: u64,
    pub extra_order_price: Decimal,
    pub extra_orders_cost: Decimal,
    pub technician_half_hours: u32,
    pub base_fee: Decimal,
    pub subtotal_excl_vat: Decimal,
    pub vat: Decimal,
    pub total_incl_vat: Decimal,
    pub estimated_runtime_seconds: u64,
    pub finish_at: DateTime<Utc>,
    pub projection: Projection,
    pub warnings: Vec<Warning>,
    pub computed_at: DateTime<Utc>,
}

/// The imported orders beyond the quota: `max(0, used + importing − quota)`, never more than
/// the orders imported — overage the regular orders made already is the subscription's, not
/// the import's, and is not billed twice.
pub fn extra_orders(used_this_month: u64, importing: u64, quota: u64) -> u64 {
    used_this_month.saturating_add(importing).saturating_sub(quota).min(importing)
}

impl Quote {
    pub fn compute(input: &QuoteInput) -> Quote {
        let to_import = input.orders_in_range.saturating_sub(input.already_transferred);
        let quota = input.plan.monthly_quota;
        let extra = extra_orders(input.used_this_month, to_import, quota);
        let extra_cost = input.plan.top_up_cost(extra);
        let half_hours = input.technician_half_hours.max(1);
        let base_fee = round_ore(input.pricing.half_hour_fee * Decimal::from(half_hours));
        let subtotal = round_ore(base_fee + extra_cost);
        let vat = round_ore(subtotal * input.pricing.vat_rate);
        let runtime = estimated_runtime_seconds(to_import, input.source_rate, input.sink_rate);
        let finish_at = input.now + Duration::seconds(i64::try_from(runtime).unwrap_or(i64::MAX / 2));
        let projection = project(input, to_import);
        let warnings = warnings(input, to_import, finish_at);
        Quote {
            plan: input.plan.name.clone(),
            from: input.range.map(|r| r.from),
            to: input.range.map(|r| r.to),
            orders_in_range: input.orders_in_range,
            already_transferred: input.already_transferred.min(input.orders_in_range),
            orders_to_import: to_import,
            used_this_month: input.used_this_month,
            monthly_quota: quota,
            used_after_import: input.used_this_month.saturating_add(to_import),
            extra_orders: extra,
            extra_order_price: round_ore(input.plan.extra_order_price),
            extra_orders_cost: extra_cost,
            technician_half_hours: half_hours,
            base_fee,
            subtotal_excl_vat: subtotal,
            vat,
            total_incl_vat: round_ore(subtotal + vat),
            estimated_runtime_seconds: runtime,
            finish_at,
            projection,
            warnings,
            computed_at: input.now,
        }
    }

    /// The quote as Danish text to send the customer.
    pub fn customer_text_da(&self, customer_name: &str) -> String {
        let mut t = String::new();
        t.push_str(&format!("Tilbud på import af tidligere ordrer — {customer_name}\n\n"));
        if let (Some(from), Some(to)) = (self.from, self.to) {
            t.push_str(&format!("Periode: {} til {}\n", from.format("%d-%m-%Y"), to.format("%d-%m-%Y")));
        }
        t.push_str(&format!("Ordrer der importeres: {}\n", format_count(self.orders_to_import)));
        if self.already_transferred > 0 {
            t.push_str(&format!(
                "(heraf allerede overført af integrationen og ikke medregnet: {})\n",
                format_count(self.already_transferred)
            ));
        }
        t.push_str(&format!(
            "Abonnement {}: {} af {} ordrer brugt denne måned, {} efter importen\n\n",
            self.plan,
            format_count(self.used_this_month),
            format_count(self.monthly_quota),
            format_count(self.used_after_import)
        ));
        t.push_str(&format!(
            "Opstart og koordinering ({} × ½ time teknikertid): {}\n",
            self.technician_half_hours,
            format_dkk(self.base_fee)
        ));
        t.push_str(&format!(
            "Ekstra ordrer: {} × {} = {}\n",
            format_count(self.extra_orders),
            format_dkk(self.extra_order_price),
            format_dkk(self.extra_orders_cost)
        ));
        t.push_str(&format!("I alt ekskl. moms: {}\n", format_dkk(self.subtotal_excl_vat)));
        t.push_str(&format!("Moms 25 %: {}\n", format_dkk(self.vat)));
        t.push_str(&format!("I alt inkl. moms: {}\n\n", format_dkk(self.total_incl_vat)));
        if self.projection.extra_orders_if_continued > self.extra_orders {
            t.push_str(&format!(
                "Fortsætter jeres normale ordrer i samme tempo resten af måneden, bliver det {} ekstra ordrer ({} ekskl. moms).\n",
                format_count(self.projection.extra_orders_if_continued),
                format_dkk(self.projection.extra_orders_cost_if_continued)
            ));
        }
        t.push_str(
            "Overskrides den halve time, tilbydes en halv time til DKK 600,00 på ny. \
             Afviger omfanget væsentligt fra det aftalte, kan der tilskrives en ekstra ordretakst.\n\
             Importen bruger integrationens gældende indstillinger, og der laves en testoverførsel før start.\n",
        );
        t
    }
}

fn project(input: &QuoteInput, to_import: u64) -> Projection {
    let today = local_date(input.now, input.tz);
    let month = Month::of(today);
    let elapsed = (today - month.first_day()).num_days() + 1;
    let days_left = (month.last_day() - today).num_days().max(0) as u32;
    let daily_rate = Decimal::from(input.used_this_month) / Decimal::from(elapsed.max(1));
    let regular = (daily_rate * Decimal::from(days_left)).round().to_u64().unwrap_or(0);
    // The month's whole overage, regular orders included: what the customer will see billed.
    let extra = (input.used_this_month + regular + to_import).saturating_sub(input.plan.monthly_quota);
    Projection {
        daily_rate: daily_rate.round_dp(1),
        days_left_in_month: days_left,
        regular_orders_until_month_end: regular,
        extra_orders_if_continued: extra,
        extra_orders_cost_if_continued: input.plan.top_up_cost(extra),
    }
}

fn warnings(input: &QuoteInput, to_import: u64, finish_at: DateTime<Utc>) -> Vec<Warning> {
    let mut out = Vec::new();
    if let (Some(range), Some(since)) = (input.range, input.integration_since)
        && range.to >= since
    {
        out.push(Warning::ReachesIntegrationStart { since, excluded: input.already_transferred });
    }
    if let (Some(range), Some(WebshopKind::Shopify)) = (input.range, input.webshop) {
        let oldest_readable = local_date(input.now, input.tz) - Duration::days(SHOPIFY_HISTORY_DAYS);
        if range.from < oldest_readable {
            out.push(Warning::ShopifyOldOrders { oldest: oldest_readable });
        }
    }
    let start_month = Month::containing(input.now, input.tz);
    if to_import > 0 && Month::containing(finish_at, input.tz) != start_month {
        out.push(Warning::CrossesMonthEnd { month_end: start_month.last_day() });
    }
    if to_import == 0 {
        out.push(Warning::EmptyRange);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::DEFAULT_TZ;
    use crate::domain::plan::sample_plans;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn input(used: u64, in_range: u64) -> QuoteInput {
        QuoteInput {
            plan: sample_plans()[0].clone(),
            pricing: Pricing::default(),
            used_this_month: used,
            orders_in_range: in_range,
            already_transferred: 0,
            range: None,
            integration_since: None,
            webshop: None,
            technician_half_hours: 1,
            source_rate: SourceRate { page_size: 100, requests_per_second: 2.0 },
            sink_rate: SinkRate { calls_per_order: 3.0, requests_per_second: 10.0, daily_call_limit: Some(50_000) },
            // 10 December 2026, 10:00 in Copenhagen.
            now: Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap(),
            tz: DEFAULT_TZ,
        }
    }

    #[test]
    fn the_seeds_example() {
        // Basic 200, 50 used, 200 imported → 250/200 → 50 extra orders.
        let q = Quote::compute(&input(50, 200));
        assert_eq!(q.extra_orders, 50);
        assert_eq!(q.used_after_import, 250);
        assert_eq!(q.base_fee, dec!(600));
        assert_eq!(q.extra_orders_cost, dec!(150.00));
        assert_eq!(q.subtotal_excl_vat, dec!(750.00));
        assert_eq!(q.vat, dec!(187.50));
        assert_eq!(q.total_incl_vat, dec!(937.50));
    }

    #[test]
    fn vat_on_matches_the_quotes_vat() {
        let p = Pricing::default();
        assert_eq!(p.vat_on(dec!(150.00)), dec!(37.50));
        assert_eq!(p.vat_on(dec!(0.02)), dec!(0.01));
        assert_eq!(p.vat_on(Quote::compute(&input(50, 200)).subtotal_excl_vat), Quote::compute(&input(50, 200)).vat);
    }

    #[test]
    fn further_half_hours_cost_600_each() {
        let mut i = input(0, 10);
        i.technician_half_hours = 3;
        assert_eq!(Quote::compute(&i).base_fee, dec!(1800));
        i.technician_half_hours = 0; // never below the base fee
        assert_eq!(Quote::compute(&i).base_fee, dec!(600));
    }

    #[test]
    fn already_transferred_orders_are_excluded_and_warned() {
        let mut i = input(0, 300);
        i.already_transferred = 120;
        let since = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        i.integration_since = Some(since);
        i.range = Some(
            DateRange::new(
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            )
            .unwrap(),
        );
        let q = Quote::compute(&i);
        assert_eq!(q.orders_to_import, 180);
        assert!(q.warnings.contains(&Warning::ReachesIntegrationStart { since, excluded: 120 }));
    }

    #[test]
    fn shopify_ranges_older_than_60_days_warn() {
        let mut i = input(0, 10);
        i.webshop = Some(WebshopKind::Shopify);
        i.range = Some(
            DateRange::new(NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(), NaiveDate::from_ymd_opt(2026, 9, 30).unwrap())
                .unwrap(),
        );
        assert!(Quote::compute(&i).warnings.iter().any(|w| matches!(w, Warning::ShopifyOldOrders { .. })));
        i.webshop = Some(WebshopKind::WooCommerce);
        assert!(!Quote::compute(&i).warnings.iter().any(|w| matches!(w, Warning::ShopifyOldOrders { .. })));
    }

    #[test]
    fn empty_range_and_month_end_warnings() {
        assert!(Quote::compute(&input(0, 0)).warnings.contains(&Warning::EmptyRange));
        // 50,000 orders take two days: started 30 December they run into January.
        let mut late = input(0, 50_000);
        late.now = Utc.with_ymd_and_hms(2026, 12, 30, 9, 0, 0).unwrap();
        let q = Quote::compute(&late);
        assert!(q.warnings.iter().any(|w| matches!(w, Warning::CrossesMonthEnd { .. })));
        assert!(!Quote::compute(&input(0, 100)).warnings.iter().any(|w| matches!(w, Warning::CrossesMonthEnd { .. })));
    }

    #[test]
    fn projection_continues_this_months_daily_rate() {
        // 100 used by day 10 → 10 a day; 21 days left → 210 more; 100+210+0 - 200 = 110 extra.
        let q = Quote::compute(&input(100, 0));
        assert_eq!(q.projection.days_left_in_month, 21);
        assert_eq!(q.projection.regular_orders_until_month_end, 210);
        assert_eq!(q.projection.extra_orders_if_continued, 110);
        assert_eq!(q.extra_orders, 0);
    }

    #[test]
    fn danish_text_names_the_totals() {
        let text = Quote::compute(&input(50, 200)).customer_text_da("Hygge ApS");
        assert!(text.contains("Ekstra ordrer: 50 × DKK 3,00 = DKK 150,00"), "{text}");
        assert!(text.contains("I alt inkl. moms: DKK 937,50"), "{text}");
    }

    proptest! {
        #[test]
        fn quote_invariants(used in 0u64..100_000, in_range in 0u64..100_000, transferred in 0u64..100_000, halves in 0u32..10) {
            let mut i = input(used, in_range);
            i.already_transferred = transferred;
            i.technician_half_hours = halves;
            let q = Quote::compute(&i);
            prop_assert!(q.orders_to_import <= q.orders_in_range);
            prop_assert_eq!(q.orders_to_import + q.already_transferred, q.orders_in_range);
            prop_assert!(q.extra_orders <= q.orders_to_import);
            prop_assert_eq!(q.extra_orders, (used + q.orders_to_import).saturating_sub(q.monthly_quota).min(q.orders_to_import));
            if used <= q.monthly_quota {
                prop_assert_eq!(q.extra_orders, (used + q.orders_to_import).saturating_sub(q.monthly_quota));
            }
            prop_assert!(q.base_fee >= dec!(600));
            prop_assert_eq!(q.subtotal_excl_vat, q.base_fee + q.extra_orders_cost);
            prop_assert_eq!(q.total_incl_vat, q.subtotal_excl_vat + q.vat);
            prop_assert_eq!(q.vat, round_ore(q.subtotal_excl_vat * dec!(0.25)));
            prop_assert!(q.projection.extra_orders_if_continued >= q.extra_orders);
            prop_assert!(q.finish_at >= q.computed_at);
            prop_assert_eq!(q.orders_to_import == 0, q.warnings.contains(&Warning::EmptyRange));
        }

        #[test]
        fn more_orders_never_cost_less(used in 0u64..10_000, a in 0u64..10_000, b in 0u64..10_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(Quote::compute(&input(used, lo)).total_incl_vat <= Quote::compute(&input(used, hi)).total_incl_vat);
        }
    }
}
