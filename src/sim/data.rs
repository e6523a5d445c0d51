//! The simulated data set, deterministic from a seed: customers, their shops' catalogues and
//! order tables. An order is stored as its creation second and a status code only; what it
//! contains is built on demand from (seed, shop, index) by `order.rs`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::ops::Range;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::manifest::{Manifest, ManifestCustomer};
use super::names::{COMPANIES, FAMILIES, FIRST_NAMES, ascii_fold};
use super::status::{ShopifyState, StatusMask, WooStatus};
use super::{DefectRates, SimOptions};
use crate::domain::calendar::{DEFAULT_TZ, Month, UtcRange, local_date, start_of_day};
use crate::domain::customer::{AccountingKind, WebshopKind};

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
    catalogue: RwLock<Vec<SimProduct>>,
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
        let companies = company_names(opts.seed, opts.customers);
        let indexed: Vec<(usize, (String, String))> = companies.into_iter().enumerate().collect();
        // Shops are independent, so the two halves are generated on two threads.
        let half = indexed.len().div_ceil(2).max(1);
        let customers: Vec<SimShop> = std::thread::scope(|scope| {
            let handles: Vec<_> = indexed
                .chunks(half)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk.iter().map(|(i, company)| generate_shop(opts, *i, company, base_url)).collect::<Vec<_>>()
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

/// Unique company names and domains: the word list shuffled by the seed, then again with a
/// number if more customers are asked for than the list holds.
fn company_names(seed: u64, count: usize) -> Vec<(String, String)> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, u64::MAX - 1));
    let mut order: Vec<usize> = (0..COMPANIES.len()).collect();
    order.shuffle(&mut rng);
    (0..count)
        .map(|i| {
            let company = &COMPANIES[order[i % order.len()]];
            let round = i / order.len();
            if round == 0 {
                (company.name.to_string(), format!("{}.dk", company.stem))
            } else {
                (format!("{} {}", company.name, round + 1), format!("{}{}.dk", company.stem, round + 1))
            }
        })
        .collect()
}

fn generate_shop(opts: &SimOptions, index: usize, company: &(String, String), base_url: &str) -> SimShop {
    let seed = mix(opts.seed, index as u64);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kind = if index.is_multiple_of(2) { WebshopKind::WooCommerce } else { WebshopKind::Shopify };
    // The first shop of each kind is large, so benchmarks always have one.
    let volume: usize = if index < 2 {
        rng.random_range(52_000..=68_000)
    } else {
        let (lo, hi) = (250f64.ln(), 30_000f64.ln());
        rng.random_range(lo..hi).exp().round() as usize
    };
    let age_days: i64 = if index < 2 { 1095 } else { rng.random_range(550..=1095) };
    let growth: f64 = rng.random_range(0.9..2.4);
    let (created, status) = generate_orders(&mut rng, kind, volume, age_days, growth, opts.now);
    let catalogue = generate_catalogue(&mut rng, kind, &opts.defects);

    let ids = match kind {
        WebshopKind::WooCommerce => Ids {
            order_base: rng.random_range(100..2_000),
            order_step: 3,
            line_base: rng.random_range(100..5_000),
            customer_base: 2,
            salt: 0,
        },
        WebshopKind::Shopify => Ids {
            order_base: 5_100_000_000_000 + rng.random_range(0..400_000_000_000),
            order_step: 1_000,
            line_base: 13_900_000_000_000 + rng.random_range(0..400_000_000_000),
            customer_base: 6_800_000_000_000 + rng.random_range(0..400_000_000_000),
            salt: 0,
        },
    };
    let ids = Ids { salt: mix(seed, 7), ..ids };

    let (name, domain) = company;
    let owner = FIRST_NAMES.choose(&mut rng).copied().unwrap_or("kontakt");
    let email = match rng.random_range(0..3) {
        0 => format!("kontakt@{domain}"),
        1 => format!("info@{domain}"),
        _ => format!("{}@{domain}", ascii_fold(owner)),
    };
    let (shop_key, shop_secret) = match kind {
        WebshopKind::WooCommerce => (format!("ck_{}", hex(&mut rng, 40)), Some(format!("cs_{}", hex(&mut rng, 40)))),
        WebshopKind::Shopify => (format!("shpat_{}", hex(&mut rng, 32)), None),
    };
    let today = local_date(opts.now, SHOP_TZ);
    let integration_since = today - Duration::days(rng.random_range(30..=425));
    let recent_from = opts.now.timestamp() - 90 * 86_400;
    let recent = created.len() - created.partition_point(|&t| t < recent_from);
    let customer = ManifestCustomer {
        name: name.clone(),
        email,
        cvr: cvr(&mut rng),
        phone: danish_phone(&mut rng),
        plan: plan_for(recent as f64 / 3.0).to_string(),
        webshop: kind,
        shop_domain: domain.clone(),
        shop_url: format!("{base_url}/{domain}"),
        shop_key,
        shop_secret,
        orders: created.len() as u64,
        first_order: created.first().and_then(|&s| DateTime::from_timestamp(s, 0)).unwrap_or(opts.now),
        last_order: created.last().and_then(|&s| DateTime::from_timestamp(s, 0)).unwrap_or(opts.now),
        integration_since,
        accounting: AccountingKind::Economic,
        accounting_url: format!("{base_url}/economic"),
        app_secret: alphanumeric(&mut rng, 43),
        grant_token: alphanumeric(&mut rng, 43),
    };
    SimShop {
        customer,
        seed,
        ids,
        created,
        status,
        buyers: (volume as u32 / 3).max(30),
        defects: opts.defects.clone(),
        now: opts.now,
        catalogue: RwLock::new(catalogue),
    }
}

/// The plan a customer with this many orders a month would be on.
fn plan_for(monthly_orders: f64) -> &'static str {
    match monthly_orders {
        m if m <= 170.0 => "Basic",
        m if m <= 850.0 => "Plus",
        m if m <= 4_250.0 => "Pro",
        _ => "Enterprise",
    }
}

const WEEKDAY_WEIGHT: [f64; 7] = [1.1, 1.0, 1.0, 1.0, 0.9, 0.85, 1.15];
const MONTH_WEIGHT: [f64; 12] = [0.95, 0.85, 0.9, 0.95, 0.95, 0.9, 0.75, 0.85, 0.95, 1.0, 1.35, 1.45];
/// Orders by local hour: few at night, a peak in the evening.
const HOUR_WEIGHT: [f64; 24] = [
    0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 2.0, 2.1, 2.2, 2.0, 1.9, 1.9, 2.0, 2.2, 2.5, 2.9, 3.2, 3.0, 2.2,
    1.0,
];

/// `volume` creation seconds over the `age_days` before `now` (ascending), with growth, a
/// weekly and seasonal wobble and daily noise, and a status for each.
fn generate_orders(
    rng: &mut ChaCha8Rng,
    kind: WebshopKind,
    volume: usize,
    age_days: i64,
    growth: f64,
    now: DateTime<Utc>,
) -> (Vec<i64>, Vec<u8>) {
    let now_s = now.timestamp();
    let first_day = local_date(now, SHOP_TZ) - Duration::days(age_days);
    let mut days: Vec<(i64, i64, f64)> = Vec::with_capacity(age_days as usize + 1);
    let mut total_weight = 0.0;
    for d in 0..=age_days {
        let date = first_day + Duration::days(d);
        let start = start_of_day(date, SHOP_TZ).timestamp();
        let end = start_of_day(date + Duration::days(1), SHOP_TZ).timestamp().min(now_s);
        if end <= start {
            continue;
        }
        let weight = growth.powf(d as f64 / 365.25)
            * WEEKDAY_WEIGHT[date.weekday().num_days_from_monday() as usize]
            * MONTH_WEIGHT[date.month0() as usize]
            * rng.random_range(0.8..1.2)
            * ((end - start) as f64 / 86_400.0);
        total_weight += weight;
        days.push((start, end, weight));
    }
    let hour_total: f64 = HOUR_WEIGHT.iter().sum();
    let mut created = Vec::with_capacity(volume);
    let (mut cumulative, mut placed) = (0.0, 0usize);
    let last = days.len().saturating_sub(1);
    for (i, &(start, end, weight)) in days.iter().enumerate() {
        cumulative += weight;
        // Rounding the running total keeps the sum exactly `volume`.
        let target = if i == last { volume } else { ((cumulative / total_weight) * volume as f64).round() as usize };
        let count = target.saturating_sub(placed).min(volume - placed);
        placed += count;
        let len = end - start;
        let day_from = created.len();
        for _ in 0..count {
            let mut pick = rng.random_range(0.0..hour_total);
            let mut hour = 0i64;
            for (h, w) in HOUR_WEIGHT.iter().enumerate() {
                if pick < *w {
                    hour = h as i64;
                    break;
                }
                pick -= w;
            }
            let offset = hour * 3_600 + rng.random_range(0..3_600);
            created.push(start + if offset < len { offset } else { rng.random_range(0..len) });
        }
        created[day_from..].sort_unstable();
    }
    let status = created
        .iter()
        .map(|&t| match kind {
            WebshopKind::WooCommerce => WooStatus::pick(rng, now_s - t).code(),
            WebshopKind::Shopify => ShopifyState::pick(rng, now_s - t).code(),
        })
        .collect();
    (created, status)
}

/// 30–300 products from a few product families, each with a unique SKU like `KOP-BL-25`.
fn generate_catalogue(rng: &mut ChaCha8Rng, kind: WebshopKind, defects: &DefectRates) -> Vec<SimProduct> {
    let wanted = rng.random_range(30..=300usize);
    let mut families: Vec<usize> = (0..FAMILIES.len()).collect();
    families.shuffle(rng);
    let mut combos = Vec::new();
    for f in families {
        let family = &FAMILIES[f];
        for kind_attr in family.kinds {
            for size in family.sizes {
                combos.push((family, kind_attr, size));
            }
        }
        if combos.len() >= wanted {
            break;
        }
    }
    combos.shuffle(rng);
    combos.truncate(wanted);
    let (mut id, step_max, mut variant) = match kind {
        WebshopKind::WooCommerce => (rng.random_range(10..400u64), 6, 0u64),
        WebshopKind::Shopify => (
            7_100_000_000_000 + rng.random_range(0..100_000_000_000u64),
            50_000,
            41_000_000_000_000 + rng.random_range(0..100_000_000_000u64),
        ),
    };
    combos
        .into_iter()
        .map(|(family, (kind_name, kind_code), (size_name, size_code, factor))| {
            let raw = f64::from(family.base_price) * factor * rng.random_range(0.9..1.15);
            let kroner = ((raw / 10.0).round() as i64 * 10 - 1).max(19);
            let ore = kroner * 100 - if rng.random_bool(0.25) { 5 } else { 0 };
            let sku = format!("{}-{}-{}", family.code, kind_code, size_code);
            let product = SimProduct {
                id,
                variant_id: variant,
                sku: (!rng.random_bool(defects.empty_sku.clamp(0.0, 1.0))).then_some(sku),
                name: format!("{}, {kind_name}, {size_name}", family.stem),
                unit_price_incl_vat: Decimal::new(ore, 2),
                in_accounting: !rng.random_bool(defects.product_missing_in_accounting.clamp(0.0, 1.0)),
            };
            id += rng.random_range(1..=step_max);
            if variant > 0 {
                variant += rng.random_range(1_000..=step_max);
            }
            product
        })
        .collect()
}

/// An 8-digit CVR number with a valid modulus-11 check digit.
fn cvr(rng: &mut ChaCha8Rng) -> String {
    const WEIGHTS: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];
    loop {
        let mut digits: Vec<u32> = (0..7).map(|_| rng.random_range(0..10)).collect();
        digits[0] = rng.random_range(1..10);
        let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
        let check = (11 - sum % 11) % 11;
        if check < 10 {
            digits.push(check);
            return digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
        }
    }
}

/// `+45 21 43 65 87`.
pub(crate) fn danish_phone(rng: &mut ChaCha8Rng) -> String {
    let first = rng.random_range(2..10);
    format!(
        "+45 {first}{} {:02} {:02} {:02}",
        rng.random_range(0..10),
        rng.random_range(0..100),
        rng.random_range(0..100),
        rng.random_range(0..100)
    )
}

fn hex(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect()
}

fn alphanumeric(rng: &mut ChaCha8Rng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn cvr_numbers_pass_modulus_11() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let n = cvr(&mut rng);
            assert_eq!(n.len(), 8);
            let sum: u32 = n.chars().zip([2, 7, 6, 5, 4, 3, 2, 1]).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
            assert_eq!(sum % 11, 0, "{n}");
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
