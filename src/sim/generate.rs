//! The seeded generator behind [`SimData`](super::SimData): companies, order tables with
//! growth and seasons, catalogues, keys. Each customer has its own random stream, so one
//! customer's data does not depend on the others or on how many there are.

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::sync::RwLock;

use super::data::{Ids, SHOP_TZ, SimProduct, SimShop, mix};
use super::manifest::ManifestCustomer;
use super::names::{COMPANIES, FAMILIES, FIRST_NAMES, ascii_fold};
use super::status::{ShopifyState, WooStatus};
use super::{DefectRates, SimOptions};
use crate::domain::calendar::{local_date, start_of_day};
use crate::domain::customer::{AccountingKind, WebshopKind};

/// Unique company names and domains: the word list shuffled by the seed, then again with a
/// number if more customers are asked for than the list holds.
pub(super) fn company_names(seed: u64, count: usize) -> Vec<(String, String)> {
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

pub(super) fn shop(opts: &SimOptions, index: usize, company: &(String, String), base_url: &str) -> SimShop {
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
}
