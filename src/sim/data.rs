//! The simulated data set, deterministic from a seed: customers, their shops' catalogues and
//! order tables. An order is stored as its creation second and a status code only; what it
//! contains is built on demand from (seed, shop, index) by `order.rs`.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::ops::Range;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::generate;
use super::manifest::{Manifest, ManifestCustomer};
use super::status::StatusMask;
use super::{DefectRates, SimOptions};
use crate::domain::calendar::{DEFAULT_TZ, Month, UtcRange, start_of_day};
use crate::domain::customer::WebshopKind;

/// The time zone of every simulated shop (WooCommerce local dates, Shopify offsets).
pub const SHOP_TZ: Tz = DEFAULT_TZ;

/// Every simulated customer and shop.
pub struct SimData {
    pub seed: u64,
    pub now: DateTime<Utc>,
    pub customers: Vec<SimShop>,
}

/// A product in a shop's catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimProduct {
    /// WooCommerce product id, or Shopify product id.
    pub id: u64,
    /// Shopify variant id (each simulated product has one variant); 0 in WooCommerce.
    pub variant_id: u64,
    /// `None` is the "no product number" defect: WooCommerce shows `""`, Shopify `null`.
    pub sku: Option<String>,
    pub name: String,
    pub unit_price_incl_vat: Decimal,
    /// Whether the accounting system holds a product with this product's generated SKU.
    /// `false` is the "product missing in the accounting system" defect.
    pub in_accounting: bool,
}

/// Turns an order index into the shop's ids and back: ids grow with creation time, with gaps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ids {
    pub order_base: u64,
    pub order_step: u64,
    pub line_base: u64,
    pub customer_base: u64,
    pub salt: u64,
}

/// Ids of an order's lines: `line_base + index * LINE_STRIDE + slot`.
pub(crate) const LINE_STRIDE: u64 = 16;

impl Ids {
    pub fn order_id(&self, index: usize) -> u64 {
        let i = index as u64;
        self.order_base + i * self.order_step + mix(self.salt, i) % self.order_step
    }

    pub fn order_index(&self, id: u64, len: usize) -> Option<usize> {
        let index = usize::try_from(id.checked_sub(self.order_base)? / self.order_step).ok()?;
        (index < len && self.order_id(index) == id).then_some(index)
    }

    pub fn line_id(&self, index: usize, slot: u64) -> u64 {
        self.line_base + index as u64 * LINE_STRIDE + slot
    }

    pub fn customer_id(&self, buyer: u32) -> u64 {
        self.customer_base + u64::from(buyer) * 7 + mix(self.salt, u64::from(buyer) + 1) % 7
    }
}

/// One simulated shop and its customer.
pub struct SimShop {
    /// The manifest entry.
    pub customer: ManifestCustomer,
    pub(crate) seed: u64,
    pub(crate) ids: Ids,
    /// Creation second of each order, ascending.
    pub(crate) created: Vec<i64>,
    /// Status code of each order (see `status.rs`), interpreted per shop kind.
    pub(crate) status: Vec<u8>,
    /// Size of the pool of returning buyers orders are drawn from.
    pub(crate) buyers: u32,
    pub(crate) defects: DefectRates,
    pub(crate) now: DateTime<Utc>,
    pub(super) catalogue: RwLock<Vec<SimProduct>>,
}

impl SimShop {
    pub fn kind(&self) -> WebshopKind {
        self.customer.webshop
    }

    pub fn domain(&self) -> &str {
        &self.customer.shop_domain
    }

    pub fn order_count(&self) -> usize {
        self.created.len()
    }

    pub fn created_at(&self, index: usize) -> Option<DateTime<Utc>> {
        self.created.get(index).and_then(|&s| DateTime::from_timestamp(s, 0))
    }

    /// The shop's order id of the order at `index` (WooCommerce `id`, Shopify `id`).
    pub fn order_id(&self, index: usize) -> u64 {
        self.ids.order_id(index)
    }

    /// The index of the order with this shop id.
    pub fn order_index(&self, id: u64) -> Option<usize> {
        self.ids.order_index(id, self.created.len())
    }

    /// The catalogue as it is now (SKUs may change at run time).
    pub fn catalogue(&self) -> RwLockReadGuard<'_, Vec<SimProduct>> {
        // A panic while holding the lock leaves the data valid: every write is one assignment.
        self.catalogue.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn catalogue_mut(&self) -> RwLockWriteGuard<'_, Vec<SimProduct>> {
        self.catalogue.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn products(&self) -> Vec<SimProduct> {
        self.catalogue().clone()
    }

    /// Gives the product at `index` a new SKU (`None` removes it). Orders fetched afterwards
    /// show it, as a shop's orders show the product's current data.
    pub fn set_sku(&self, index: usize, sku: Option<String>) -> bool {
        match self.catalogue_mut().get_mut(index) {
            Some(p) => {
                p.sku = sku;
                true
            }
            None => false,
        }
    }

    /// Orders created in `range` with one of `statuses` (empty or `any`: every order).
    /// WooCommerce takes its status names, Shopify `open`/`closed`/`cancelled`; a name the
    /// shop does not know matches nothing.
    pub fn count<S: AsRef<str>>(&self, range: UtcRange, statuses: &[S]) -> u64 {
        let mask = StatusMask::lenient(self.kind(), statuses);
        let span = self.index_range(ceil_seconds(range.start), ceil_seconds(range.end));
        self.count_matching(span, mask)
    }

    /// Orders per calendar month in `tz`, from the first order's month to the current one.
    pub fn monthly_counts<S: AsRef<str>>(&self, tz: Tz, statuses: &[S]) -> Vec<(Month, u64)> {
        let Some(first) = self.created_at(0) else { return Vec::new() };
        let mask = StatusMask::lenient(self.kind(), statuses);
        let last = Month::containing(self.now, tz);
        let mut month = Month::containing(first, tz);
        let mut out = Vec::new();
        while month <= last {
            let lo = start_of_day(month.first_day(), tz).timestamp();
            let hi = start_of_day(month.next().first_day(), tz).timestamp();
            out.push((month, self.count_matching(self.index_range(lo, hi), mask)));
            month = month.next();
        }
        out
    }

    /// Orders with index in `[lo_second, hi_second)` creation seconds: two binary searches.
    pub(crate) fn index_range(&self, lo_second: i64, hi_second: i64) -> Range<usize> {
        let lo = self.created.partition_point(|&t| t < lo_second);
        let hi = self.created.partition_point(|&t| t < hi_second).max(lo);
        lo..hi
    }

    pub(crate) fn count_matching(&self, span: Range<usize>, mask: StatusMask) -> u64 {
        if mask.is_all() {
            return span.len() as u64;
        }
        self.status[span].iter().filter(|&&code| mask.contains(code)).count() as u64
    }

    pub(crate) fn status_code(&self, index: usize) -> u8 {
        self.status[index]
    }

    pub(crate) fn order_seed(&self, index: usize) -> u64 {
        mix(self.seed ^ 0x006f_7264_6572, index as u64)
    }
}

impl SimData {
    /// Generates the data set; `base_url` is the server's (`http://127.0.0.1:40123`).
    pub fn generate(opts: &SimOptions, base_url: &str) -> SimData {
        let companies = generate::company_names(opts.seed, opts.customers);
        let indexed: Vec<(usize, (String, String))> = companies.into_iter().enumerate().collect();
        // Shops are independent, so the two halves are generated on two threads.
        let half = indexed.len().div_ceil(2).max(1);
        let customers: Vec<SimShop> = std::thread::scope(|scope| {
            let handles: Vec<_> = indexed
                .chunks(half)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk.iter().map(|(i, company)| generate::shop(opts, *i, company, base_url)).collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        SimData { seed: opts.seed, now: opts.now, customers }
    }

    pub fn shop(&self, domain: &str) -> Option<&SimShop> {
        self.customers.iter().find(|s| s.customer.shop_domain.eq_ignore_ascii_case(domain))
    }

    pub fn manifest(&self) -> Manifest {
        Manifest { customers: self.customers.iter().map(|s| s.customer.clone()).collect() }
    }

    /// [`SimShop::monthly_counts`] of the shop with this domain; empty when there is none.
    pub fn monthly_counts_for_domain<S: AsRef<str>>(&self, domain: &str, tz: Tz, statuses: &[S]) -> Vec<(Month, u64)> {
        self.shop(domain).map(|s| s.monthly_counts(tz, statuses)).unwrap_or_default()
    }

    /// Orders of `month` created on or after the local day `since` (the part of the month
    /// the live integration transferred when it started mid-month).
    pub fn count_for_domain_since<S: AsRef<str>>(
        &self,
        domain: &str,
        since: NaiveDate,
        month: Month,
        tz: Tz,
        statuses: &[S],
    ) -> u64 {
        let Some(shop) = self.shop(domain) else { return 0 };
        let from = since.max(month.first_day());
        let range = UtcRange { start: start_of_day(from, tz), end: start_of_day(month.next().first_day(), tz) };
        if range.is_empty() { 0 } else { shop.count(range, statuses) }
    }
}

/// The first whole second at or after `t`: orders are created on whole seconds.
pub(crate) fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// SplitMix64 of two words: independent, well-spread seeds from (seed, index).
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::local_date;
    use chrono::TimeZone;

    fn opts(customers: usize) -> SimOptions {
        SimOptions {
            seed: 7,
            now: Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap(),
            customers,
            ..SimOptions::default()
        }
    }

    #[test]
    fn shops_are_deterministic_and_independent_of_the_customer_count() {
        let a = SimData::generate(&opts(4), "http://127.0.0.1:1");
        let b = SimData::generate(&opts(6), "http://127.0.0.1:1");
        for (x, y) in a.customers.iter().zip(&b.customers) {
            assert_eq!(x.customer, y.customer);
            assert_eq!(x.created, y.created);
            assert_eq!(x.status, y.status);
            assert_eq!(*x.catalogue(), *y.catalogue());
        }
    }

    #[test]
    fn first_shop_of_each_kind_is_large_and_orders_are_sorted_before_now() {
        let o = opts(4);
        let data = SimData::generate(&o, "http://127.0.0.1:1");
        assert_eq!(data.customers[0].kind(), WebshopKind::WooCommerce);
        assert_eq!(data.customers[1].kind(), WebshopKind::Shopify);
        for shop in &data.customers[..2] {
            assert!(shop.order_count() >= 50_000, "{}", shop.order_count());
        }
        for shop in &data.customers {
            assert!(shop.created.windows(2).all(|w| w[0] <= w[1]));
            assert!(*shop.created.last().unwrap() < o.now.timestamp());
            assert!(*shop.created.first().unwrap() >= o.now.timestamp() - 1_096 * 86_400 - 86_400);
            let n = shop.catalogue().len();
            assert!((30..=300).contains(&n), "{n}");
            assert!(shop.customer.integration_since > local_date(shop.customer.first_order, SHOP_TZ));
            assert_eq!(shop.customer.orders, shop.order_count() as u64);
        }
    }

    #[test]
    fn names_domains_and_skus_are_unique() {
        let data = SimData::generate(&opts(60), "http://127.0.0.1:1");
        let mut names: Vec<_> = data.customers.iter().map(|s| s.customer.name.clone()).collect();
        let mut domains: Vec<_> = data.customers.iter().map(|s| s.domain().to_string()).collect();
        names.sort();
        names.dedup();
        domains.sort();
        domains.dedup();
        assert_eq!(names.len(), 60);
        assert_eq!(domains.len(), 60);
        for shop in &data.customers {
            let mut skus: Vec<_> = shop.catalogue().iter().filter_map(|p| p.sku.clone()).collect();
            let n = skus.len();
            skus.sort();
            skus.dedup();
            assert_eq!(skus.len(), n);
        }
    }

    #[test]
    fn ids_round_trip() {
        let data = SimData::generate(&opts(2), "http://127.0.0.1:1");
        for shop in &data.customers {
            let n = shop.order_count();
            for i in [0, 1, 2, n / 2, n - 1] {
                assert_eq!(shop.order_index(shop.order_id(i)), Some(i));
                assert!(shop.order_id(i) < shop.order_id(i + 1));
            }
            assert_eq!(shop.order_index(shop.order_id(0) - 1), None);
        }
    }

    #[test]
    fn monthly_counts_add_up_to_the_total() {
        let data = SimData::generate(&opts(4), "http://127.0.0.1:1");
        for shop in &data.customers {
            let months = shop.monthly_counts(SHOP_TZ, &["any"]);
            assert_eq!(months.iter().map(|(_, n)| n).sum::<u64>(), shop.order_count() as u64);
            let by_status: u64 = shop.monthly_counts::<&str>(SHOP_TZ, &[]).iter().map(|(_, n)| n).sum();
            assert_eq!(by_status, shop.order_count() as u64);
        }
    }
}
