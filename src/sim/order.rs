//! One simulated order's contents, vendor-neutral, built on demand from (seed, shop, index):
//! the buyer, product lines from the catalogue, shipping, coupon and fee, dates and money.
//! `woo.rs` and `shopify.rs` render it in their vendor's JSON.

use chrono::{DateTime, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::data::{SimShop, mix};
use super::generate::danish_phone;
use super::names::{CITIES, COMPANY_SUFFIXES, COUPONS, FEES, FIRST_NAMES, LAST_NAMES, MAIL_HOSTS, SHIPPING, STREETS};
use super::names::{PAYMENTS, ascii_fold};
use super::status::{ShopifyState, WooStatus};
use crate::domain::customer::WebshopKind;
use crate::domain::money::round_ore;

/// Where an order carries the buyer's phone (Shopify has four places; WooCommerce one).
pub mod phone_at {
    pub const ORDER: u8 = 1;
    pub const BILLING: u8 = 2;
    pub const SHIPPING: u8 = 4;
    pub const CUSTOMER: u8 = 8;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimBuyer {
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub postcode: String,
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimLine {
    /// Index into the shop's catalogue.
    pub product_index: usize,
    pub product_id: u64,
    pub variant_id: u64,
    /// The product's SKU when the order was read.
    pub sku: Option<String>,
    pub name: String,
    pub quantity: u32,
    pub unit_price_incl_vat: Decimal,
    pub in_accounting: bool,
}

/// Money of one product line; all amounts in DKK, rounded to øre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMoney {
    /// Unit price × quantity, incl. VAT, before discount.
    pub gross: Decimal,
    pub discount: Decimal,
    /// After discount, incl. VAT.
    pub total_incl: Decimal,
    /// Before discount, excl. VAT, and its VAT.
    pub subtotal: Decimal,
    pub subtotal_tax: Decimal,
    /// After discount, excl. VAT, and its VAT.
    pub total: Decimal,
    pub total_tax: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub incl: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
}

impl Net {
    /// Splits an amount incl. 25 % VAT into net and VAT.
    pub fn of(incl: Decimal) -> Net {
        let net = round_ore(incl / Decimal::new(125, 2));
        Net { incl, net, tax: incl - net }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub products_gross: Decimal,
    pub discount: Net,
    pub shipping: Net,
    pub fee: Net,
    /// VAT on products and fees (WooCommerce `cart_tax`).
    pub cart_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrder {
    pub index: usize,
    pub id: u64,
    pub kind: WebshopKind,
    pub created: DateTime<Utc>,
    pub status_code: u8,
    pub buyer_index: u32,
    pub buyer: SimBuyer,
    /// WooCommerce user id (0 for a guest) or Shopify customer id.
    pub customer_id: u64,
    /// `false` is the "no name" defect: no name anywhere on the order.
    pub has_name: bool,
    /// Where the phone is (`phone_at` bits); 0 is the "no phone" defect.
    pub phone_places: u8,
    pub lines: Vec<SimLine>,
    pub shipping_method: (&'static str, &'static str),
    pub coupon: Option<(&'static str, u32)>,
    pub fee: Option<(&'static str, Decimal)>,
    /// WooCommerce id, title, Shopify gateway.
    pub payment: (&'static str, &'static str, &'static str),
    pub note: &'static str,
    pub paid_at: Option<DateTime<Utc>>,
    /// WooCommerce `date_completed`; Shopify `closed_at`.
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub modified: DateTime<Utc>,
    totals: Totals,
    shipping_incl: Decimal,
}

impl SimOrder {
    pub fn woo_status(&self) -> WooStatus {
        WooStatus::from_code(self.status_code)
    }

    pub fn shopify_state(&self) -> ShopifyState {
        ShopifyState::from_code(self.status_code)
    }

    /// Shopify's order number (`#1001` is the first order); WooCommerce numbers are ids.
    pub fn order_number(&self) -> u64 {
        match self.kind {
            WebshopKind::WooCommerce => self.id,
            WebshopKind::Shopify => 1001 + self.index as u64,
        }
    }

    /// What the customer sees: `727`, `#1001`.
    pub fn reference(&self) -> String {
        match self.kind {
            WebshopKind::WooCommerce => self.id.to_string(),
            WebshopKind::Shopify => format!("#{}", self.order_number()),
        }
    }

    pub fn has_phone(&self) -> bool {
        self.phone_places != 0
    }

    pub fn line_money(&self, line: &SimLine) -> LineMoney {
        let gross = line.unit_price_incl_vat * Decimal::from(line.quantity);
        let discount =
            self.coupon.map(|(_, pct)| round_ore(gross * Decimal::new(i64::from(pct), 2))).unwrap_or_default();
        let before = Net::of(gross);
        let after = Net::of(gross - discount);
        LineMoney {
            gross,
            discount,
            total_incl: after.incl,
            subtotal: before.net,
            subtotal_tax: before.tax,
            total: after.net,
            total_tax: after.tax,
        }
    }

    pub fn totals(&self) -> Totals {
        self.totals
    }

    fn compute_totals(&self) -> Totals {
        let (mut gross, mut discount_incl, mut discount_net, mut line_tax, mut line_incl) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for line in &self.lines {
            let m = self.line_money(line);
            gross += m.gross;
            discount_incl += m.discount;
            discount_net += m.subtotal - m.total;
            line_tax += m.total_tax;
            line_incl += m.total_incl;
        }
        let shipping = Net::of(self.shipping_incl);
        let fee = Net::of(self.fee.map(|(_, a)| a).unwrap_or_default());
        let discount = Net { incl: discount_incl, net: discount_net, tax: discount_incl - discount_net };
        Totals {
            products_gross: gross,
            discount,
            shipping,
            fee,
            cart_tax: line_tax + fee.tax,
            total: line_incl + shipping.incl + fee.incl,
            total_tax: line_tax + fee.tax + shipping.tax,
        }
    }
}

impl SimShop {
    /// The order at `index` in the shop's own JSON shape, as its API serves it.
    pub fn order_json(&self, index: usize) -> Option<serde_json::Value> {
        let order = self.order(index)?;
        Some(match self.kind() {
            WebshopKind::WooCommerce => super::woo_json::order_json(self, &order),
            WebshopKind::Shopify => super::shopify_json::order_json(self, &order),
        })
    }

    /// The order at `index` as the shop holds it now (current product SKUs).
    pub fn order(&self, index: usize) -> Option<SimOrder> {
        let created = self.created_at(index)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.order_seed(index));
        let kind = self.kind();
        let status_code = self.status_code(index);
        let buyer_index = rng.random_range(0..self.buyers);
        let buyer = self.buyer(buyer_index);
        let has_name = !rng.random_bool(self.defects.no_name.clamp(0.0, 1.0));
        let has_phone = !rng.random_bool(self.defects.no_phone.clamp(0.0, 1.0));
        let phone_places = match (has_phone, kind, has_name) {
            (false, _, _) => 0,
            (true, WebshopKind::WooCommerce, _) => phone_at::BILLING,
            // Without a name the order has no customer and no addresses: only the order's phone.
            (true, WebshopKind::Shopify, false) => phone_at::ORDER,
            (true, WebshopKind::Shopify, true) => rng.random_range(1..16),
        };
        let customer_id = match kind {
            WebshopKind::WooCommerce if mix(self.seed, u64::from(buyer_index)) % 10 < 6 => 2 + u64::from(buyer_index),
            WebshopKind::WooCommerce => 0,
            WebshopKind::Shopify => self.ids.customer_id(buyer_index),
        };

        let lines = self.pick_lines(&mut rng);
        let products_gross: Decimal =
            lines.iter().map(|l| l.unit_price_incl_vat * Decimal::from(l.quantity)).sum::<Decimal>();
        let (method_id, title, price_ore) = *SHIPPING.choose(&mut rng).unwrap_or(&SHIPPING[0]);
        // Free shipping above DKK 499.
        let shipping_incl =
            if products_gross > Decimal::from(499) { Decimal::ZERO } else { Decimal::new(price_ore, 2) };
        let coupon = rng.random_bool(0.12).then(|| *COUPONS.choose(&mut rng).unwrap_or(&COUPONS[0]));
        let fee = (kind == WebshopKind::WooCommerce && rng.random_bool(0.1))
            .then(|| FEES.choose(&mut rng).map(|(n, ore)| (*n, Decimal::new(*ore, 2))))
            .flatten();
        let payment = *PAYMENTS.choose(&mut rng).unwrap_or(&PAYMENTS[0]);
        let note = if rng.random_bool(0.05) { "Må gerne stilles ved døren." } else { "" };

        let dates = self.dates(&mut rng, created, status_code);
        let mut order = SimOrder {
            index,
            id: self.order_id(index),
            kind,
            created,
            status_code,
            buyer_index,
            buyer,
            customer_id,
            has_name,
            phone_places,
            lines,
            shipping_method: (method_id, title),
            coupon,
            fee,
            payment,
            note,
            paid_at: dates.paid,
            completed_at: dates.completed,
            cancelled_at: dates.cancelled,
            refunded_at: dates.refunded,
            modified: dates.modified,
            totals: Totals {
                products_gross,
                discount: Net::of(Decimal::ZERO),
                shipping: Net::of(Decimal::ZERO),
                fee: Net::of(Decimal::ZERO),
                cart_tax: Decimal::ZERO,
                total: Decimal::ZERO,
                total_tax: Decimal::ZERO,
            },
            shipping_incl,
        };
        order.totals = order.compute_totals();
        Some(order)
    }

    /// A returning buyer: the same index is always the same person.
    pub fn buyer(&self, buyer_index: u32) -> SimBuyer {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed ^ 0x0062_7579_6572, u64::from(buyer_index)));
        let first = *FIRST_NAMES.choose(&mut rng).unwrap_or(&"Anne");
        let last = *LAST_NAMES.choose(&mut rng).unwrap_or(&"Hansen");
        let host = *MAIL_HOSTS.choose(&mut rng).unwrap_or(&"gmail.com");
        let (f, l) = (ascii_fold(first), ascii_fold(last));
        // The buyer index keeps e-mails unique within a shop.
        let email = match rng.random_range(0..3) {
            0 => format!("{f}.{l}{buyer_index}@{host}"),
            1 => format!("{f}{l}{buyer_index}@{host}"),
            _ => format!("{}{l}.{buyer_index}@{host}", &f[..1]),
        };
        let (postcode, city) = *CITIES.choose(&mut rng).unwrap_or(&CITIES[0]);
        let street = *STREETS.choose(&mut rng).unwrap_or(&STREETS[0]);
        let company = rng
            .random_bool(0.08)
            .then(|| format!("{last} {}", COMPANY_SUFFIXES.choose(&mut rng).copied().unwrap_or(COMPANY_SUFFIXES[0])));
        SimBuyer {
            first_name: first.to_string(),
            last_name: last.to_string(),
            company,
            email,
            phone: danish_phone(&mut rng),
            address: format!("{street} {}", rng.random_range(1..140)),
            postcode: postcode.to_string(),
            city: city.to_string(),
        }
    }

    /// 1–4 distinct products, popular ones more often, mostly one of each.
    fn pick_lines(&self, rng: &mut ChaCha8Rng) -> Vec<SimLine> {
        let catalogue = self.catalogue();
        let n = catalogue.len();
        let count = match rng.random_range(0..100) {
            0..50 => 1,
            50..78 => 2,
            78..92 => 3,
            _ => 4,
        }
        .min(n);
        let mut picked: Vec<usize> = Vec::with_capacity(count);
        while picked.len() < count {
            let index = ((n as f64) * rng.random::<f64>().powf(1.6)) as usize % n.max(1);
            if !picked.contains(&index) {
                picked.push(index);
            }
        }
        picked
            .into_iter()
            .filter_map(|index| {
                let p = catalogue.get(index)?;
                let quantity = match rng.random_range(0..100) {
                    0..75 => 1,
                    75..93 => 2,
                    _ => 3,
                };
                Some(SimLine {
                    product_index: index,
                    product_id: p.id,
                    variant_id: p.variant_id,
                    sku: p.sku.clone(),
                    name: p.name.clone(),
                    quantity,
                    unit_price_incl_vat: p.unit_price_incl_vat,
                    in_accounting: p.in_accounting,
                })
            })
            .collect()
    }

    /// Payment, completion, cancellation and refund times consistent with the status; never
    /// after the simulation's `now`.
    fn dates(&self, rng: &mut ChaCha8Rng, created: DateTime<Utc>, code: u8) -> Dates {
        let age = (self.now - created).num_seconds().max(0);
        let mut within = |cap: i64| created + chrono::Duration::seconds(rng.random_range(0..=age.min(cap).max(0)));
        let mut d = Dates { paid: None, completed: None, cancelled: None, refunded: None, modified: created };
        match self.kind() {
            WebshopKind::WooCommerce => {
                let status = WooStatus::from_code(code);
                if status.is_paid() {
                    d.paid = Some(within(600));
                }
                if matches!(status, WooStatus::Completed | WooStatus::Refunded) {
                    d.completed = Some(within(4 * 86_400).max(d.paid.unwrap_or(created)));
                }
                if status == WooStatus::Refunded {
                    d.refunded = Some(within(30 * 86_400).max(d.completed.unwrap_or(created)));
                }
                if matches!(status, WooStatus::Cancelled | WooStatus::Failed) {
                    d.cancelled = Some(within(2 * 86_400));
                }
            }
            WebshopKind::Shopify => {
                let state = ShopifyState::from_code(code);
                if state.financial_status() != "pending" && state != ShopifyState::CancelledVoided {
                    d.paid = Some(created);
                }
                if state.is_cancelled() {
                    d.cancelled = Some(within(2 * 86_400));
                }
                if state.is_closed() {
                    d.completed = Some(within(3 * 86_400).max(d.cancelled.unwrap_or(created)));
                }
                if state.is_refunded() {
                    d.refunded = d.completed;
                }
            }
        }
        d.modified = [d.paid, d.completed, d.cancelled, d.refunded].into_iter().flatten().fold(created, DateTime::max);
        d
    }
}

struct Dates {
    paid: Option<DateTime<Utc>>,
    completed: Option<DateTime<Utc>>,
    cancelled: Option<DateTime<Utc>>,
    refunded: Option<DateTime<Utc>>,
    modified: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimOptions;
    use crate::sim::data::SimData;
    use chrono::TimeZone;

    fn data() -> SimData {
        let opts = SimOptions {
            now: Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap(),
            customers: 4,
            ..SimOptions::default()
        };
        SimData::generate(&opts, "http://127.0.0.1:1")
    }

    #[test]
    fn vat_split_adds_up() {
        let n = Net::of(Decimal::new(4995, 2));
        assert_eq!(n.net + n.tax, n.incl);
        assert_eq!(n.net, Decimal::new(3996, 2));
    }

    #[test]
    fn orders_are_deterministic_and_consistent() {
        let data = data();
        for shop in &data.customers {
            for i in (0..shop.order_count()).step_by(997) {
                let o = shop.order(i).unwrap();
                assert_eq!(shop.order(i).unwrap(), o);
                assert!((1..=4).contains(&o.lines.len()));
                let t = o.totals();
                let lines: Decimal = o.lines.iter().map(|l| o.line_money(l).total_incl).sum();
                assert_eq!(t.total, lines + t.shipping.incl + t.fee.incl);
                assert!(o.modified <= data.now && o.modified >= o.created);
                if let Some(c) = o.completed_at {
                    assert!(c >= o.created && c <= data.now);
                }
                if o.kind == WebshopKind::Shopify && o.shopify_state().is_closed() {
                    assert!(o.completed_at.is_some());
                }
            }
        }
    }

    #[test]
    fn defect_rates_show_in_orders() {
        let data = data();
        let shop = &data.customers[0];
        let orders: Vec<SimOrder> = (0..4000).filter_map(|i| shop.order(i)).collect();
        let no_phone = orders.iter().filter(|o| !o.has_phone()).count();
        let no_name = orders.iter().filter(|o| !o.has_name).count();
        // Defaults: 4 % without phone, 1 % without name.
        assert!((80..260).contains(&no_phone), "{no_phone}");
        assert!((10..90).contains(&no_name), "{no_name}");
    }

    fn amount(v: &serde_json::Value) -> Decimal {
        v.as_str().unwrap().parse().unwrap()
    }

    fn sum(items: &serde_json::Value, f: impl Fn(&serde_json::Value) -> Decimal) -> Decimal {
        items.as_array().unwrap().iter().map(f).sum()
    }

    #[test]
    fn vendor_json_money_adds_up() {
        let data = data();
        let woo = &data.customers[0];
        for i in (0..woo.order_count()).step_by(1_303) {
            let o = woo.order_json(i).unwrap();
            let lines = sum(&o["line_items"], |l| amount(&l["total"]) + amount(&l["total_tax"]));
            let fees = sum(&o["fee_lines"], |l| amount(&l["total"]) + amount(&l["total_tax"]));
            let shipping = amount(&o["shipping_total"]) + amount(&o["shipping_tax"]);
            assert_eq!(amount(&o["total"]), lines + fees + shipping, "{}", o["id"]);
            let discount = sum(&o["line_items"], |l| amount(&l["subtotal"]) - amount(&l["total"]));
            assert_eq!(amount(&o["discount_total"]), discount);
            let tax = sum(&o["line_items"], |l| amount(&l["total_tax"]))
                + sum(&o["fee_lines"], |l| amount(&l["total_tax"]))
                + amount(&o["shipping_tax"]);
            assert_eq!(amount(&o["total_tax"]), tax);
        }
        let shopify = &data.customers[1];
        for i in (0..shopify.order_count()).step_by(1_301) {
            let o = shopify.order_json(i).unwrap();
            let shipping = sum(&o["shipping_lines"], |l| amount(&l["price"]));
            assert_eq!(amount(&o["total_price"]), amount(&o["subtotal_price"]) + shipping, "{}", o["id"]);
            assert_eq!(
                amount(&o["subtotal_price"]),
                amount(&o["total_line_items_price"]) - amount(&o["total_discounts"])
            );
            let tax = sum(&o["line_items"], |l| sum(&l["tax_lines"], |t| amount(&t["price"])))
                + sum(&o["shipping_lines"], |l| sum(&l["tax_lines"], |t| amount(&t["price"])));
            assert_eq!(amount(&o["total_tax"]), tax);
            let gross = sum(&o["line_items"], |l| amount(&l["price"]) * Decimal::from(l["quantity"].as_u64().unwrap()));
            assert_eq!(amount(&o["total_line_items_price"]), gross);
        }
    }

    #[test]
    fn a_changed_sku_shows_in_orders_read_afterwards() {
        let data = data();
        let shop = &data.customers[1];
        let order = shop.order(10).unwrap();
        let product = order.lines[0].product_index;
        assert!(shop.set_sku(product, Some("NY-SKU-1".into())));
        assert_eq!(shop.order(10).unwrap().lines[0].sku.as_deref(), Some("NY-SKU-1"));
        assert!(shop.set_sku(product, None));
        assert_eq!(shop.order(10).unwrap().lines[0].sku, None);
    }
}
