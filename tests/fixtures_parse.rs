//! Every webshop document in `tests/fixtures/` (the vendors' own examples) parses and
//! normalises, with the figures a support person would check.

use std::path::Path;

use chrono::{TimeZone, Utc};
use importdesk::connect::{shopify, woocommerce};
use importdesk::domain::customer::WebshopKind;
use importdesk::domain::order::{LineKind, Order};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn of_kind(order: &Order, kind: LineKind) -> Vec<&importdesk::domain::order::OrderLine> {
    order.lines.iter().filter(|l| l.kind == kind).collect()
}

/// The lines' net amounts plus their tax give the order's total.
fn lines_add_up(order: &Order) {
    let net: Decimal = order.lines.iter().map(|l| l.total).sum();
    let tax: Decimal = order.lines.iter().map(|l| l.total_tax).sum();
    assert_eq!(tax, order.total_tax, "tax of order {}", order.reference);
    assert_eq!(net + tax, order.total, "total of order {}", order.reference);
}

fn assert_order_727(o: &Order) {
    assert_eq!(o.webshop, WebshopKind::WooCommerce);
    assert_eq!((o.id.as_str(), o.reference.as_str()), ("727", "727"));
    assert_eq!(o.created_at, Utc.with_ymd_and_hms(2017, 3, 22, 19, 28, 2).unwrap());
    assert_eq!((o.status.as_str(), o.currency.as_str()), ("processing", "USD"));
    assert!(!o.prices_include_tax);
    assert_eq!((o.total, o.total_tax), (dec!(29.35), dec!(1.35)));
    assert_eq!(o.buyer.name.as_deref(), Some("John Doe"));
    assert_eq!(o.buyer.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(o.buyer.phone.as_deref(), Some("(555) 555-5555"));
    assert_eq!(o.buyer.company, None, "a blank company is none");
    assert_eq!(o.buyer.address.as_deref(), Some("969 Market"));
    assert_eq!((o.buyer.postcode.as_deref(), o.buyer.city.as_deref()), (Some("94103"), Some("San Francisco")));
    assert_eq!(o.buyer.country.as_deref(), Some("US"));

    let products = of_kind(o, LineKind::Product);
    assert_eq!(products.len(), 2);
    assert_eq!(products[0].sku, None, "sku \"\" is none");
    assert_eq!(products[0].description, "Woo Single #1");
    assert_eq!((products[0].quantity, products[0].unit_price), (dec!(2), dec!(3)));
    assert_eq!((products[0].total, products[0].total_tax), (dec!(6.00), dec!(0.45)));
    assert_eq!(products[1].sku.as_deref(), Some("Bar3"));
    assert_eq!(products[1].description, "Ship Your Idea – Color: Black, Size: M Test");
    assert_eq!(products[1].unit_price, dec!(12));
    let shipping = of_kind(o, LineKind::Shipping);
    assert_eq!(shipping.len(), 1);
    assert_eq!((shipping[0].description.as_str(), shipping[0].total), ("Flat Rate", dec!(10.00)));
    assert!(of_kind(o, LineKind::Discount).is_empty() && of_kind(o, LineKind::Fee).is_empty());
    lines_add_up(o);
}

#[test]
fn woo_single_order_727() {
    let order = woocommerce::parse_order(&fixture("woo_order_727_retrieve.json")).unwrap();
    assert_order_727(&order);
}

#[test]
fn woo_list_727_723() {
    let (orders, malformed) = woocommerce::parse_orders(&fixture("woo_orders_list_727_723.json")).unwrap();
    assert!(malformed.is_empty(), "{malformed:?}");
    assert_eq!(orders.len(), 2);
    assert_order_727(&orders[0]);
    let o = &orders[1];
    assert_eq!((o.id.as_str(), o.status.as_str()), ("723", "completed"));
    assert_eq!(o.created_at, Utc.with_ymd_and_hms(2017, 3, 21, 19, 16, 0).unwrap());
    assert_eq!((o.total, o.total_tax), (dec!(39.00), dec!(0.00)));
    assert_eq!(o.buyer.name.as_deref(), Some("João Silva"));
    let products = of_kind(o, LineKind::Product);
    assert_eq!(products.len(), 2);
    assert!(products.iter().all(|l| l.sku.is_none()));
    assert_eq!((products[0].unit_price, products[1].unit_price), (dec!(9), dec!(20)));
    assert_eq!(of_kind(o, LineKind::Shipping)[0].total, dec!(10.00));
    lines_add_up(o);
}

#[test]
fn shopify_single_order_python_api() {
    let o = shopify::parse_order(&fixture("shopify_order_450789469_python_api.json")).unwrap();
    assert_eq!(o.webshop, WebshopKind::Shopify);
    assert_eq!((o.id.as_str(), o.reference.as_str()), ("450789469", "#1001"));
    // 11:00 at −05:00.
    assert_eq!(o.created_at, Utc.with_ymd_and_hms(2008, 1, 10, 16, 0, 0).unwrap());
    assert_eq!((o.status.as_str(), o.currency.as_str()), ("open", "USD"));
    assert_eq!((o.total, o.total_tax), (dec!(409.94), dec!(11.94)));
    assert_eq!(o.buyer.name.as_deref(), Some("Bob Norman"));
    assert_eq!(o.buyer.phone.as_deref(), Some("555-625-1199"), "no order phone: the billing address's");
    assert_eq!(o.buyer.email.as_deref(), Some("bob.norman@hostmail.com"));
    assert_eq!(o.buyer.country.as_deref(), Some("US"));
    let products = of_kind(&o, LineKind::Product);
    let skus: Vec<Option<&str>> = products.iter().map(|l| l.sku.as_deref()).collect();
    assert_eq!(skus, [Some("IPOD2008GREEN"), Some("IPOD2008RED"), Some("IPOD2008BLACK")]);
    assert!(products.iter().all(|l| l.unit_price == dec!(199.00) && l.quantity == dec!(1)));
    assert_eq!(products[0].description, "IPod Nano - 8gb - green");
    assert_eq!(of_kind(&o, LineKind::Shipping)[0].total, dec!(0.00));
    // The document lists code TENOFF, but total_discounts is 0.00: it was not applied.
    assert!(of_kind(&o, LineKind::Discount).is_empty());
}

#[test]
fn shopify_list_python_api_without_line_items() {
    let (orders, malformed) = shopify::parse_orders(&fixture("shopify_orders_list_python_api.json")).unwrap();
    assert!(malformed.is_empty(), "{malformed:?}");
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!((o.reference.as_str(), o.total), ("#1001", dec!(598.94)));
    assert_eq!(o.buyer.phone.as_deref(), Some("+557734881234"), "the order's own phone comes first");
    assert!(of_kind(o, LineKind::Product).is_empty());
}

#[test]
fn shopify_list_2025_10() {
    let (orders, malformed) =
        shopify::parse_orders(&fixture("shopify_orders_list_2025-10_shopify-app-js.json")).unwrap();
    assert!(malformed.is_empty(), "{malformed:?}");
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!((o.id.as_str(), o.reference.as_str()), ("450789469", "#1001"));
    assert_eq!((o.total, o.total_tax), (dec!(598.94), dec!(11.94)));
    assert_eq!(o.buyer.name.as_deref(), Some("Bob Norman"));
    assert_eq!(o.buyer.phone.as_deref(), Some("+557734881234"));
    assert_eq!(o.buyer.email.as_deref(), Some("bob.norman@mail.example.com"));
    let products = of_kind(o, LineKind::Product);
    assert_eq!(products.len(), 3);
    assert!(products.iter().all(|l| l.total == dec!(199.00)), "taxes are not included: net is the price");
    // TENOFF was allocated 3.34 + 3.33 + 3.33 across the three lines: one discount line.
    let discounts = of_kind(o, LineKind::Discount);
    assert_eq!(discounts.len(), 1);
    assert_eq!((discounts[0].description.as_str(), discounts[0].total), ("Discount TENOFF", dec!(-10.00)));
    lines_add_up(o);
}

#[test]
fn shopify_order_without_customer_or_sku() {
    let o = shopify::parse_order(&fixture("shopify_order_no_customer_no_sku_2025-10_shopify-app-js.json")).unwrap();
    assert_eq!((o.id.as_str(), o.reference.as_str(), o.currency.as_str()), ("1073459976", "#1002", "EUR"));
    assert_eq!(o.created_at, Utc.with_ymd_and_hms(2025, 4, 2, 16, 31, 26).unwrap());
    assert_eq!(o.buyer.name, None);
    assert_eq!(o.buyer.email, None, "email \"\" is none");
    assert_eq!(o.buyer.phone, None);
    assert_eq!(o.buyer.address, None);
    let products = of_kind(&o, LineKind::Product);
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].sku, None);
    assert_eq!(products[0].description, "Big Brown Bear Boots");
    assert_eq!((products[0].quantity, products[0].unit_price), (dec!(3), dec!(74.99)));
    assert_eq!((products[0].total, products[0].total_tax), (dec!(224.97), dec!(13.50)));
    assert!(of_kind(&o, LineKind::Shipping).is_empty());
    lines_add_up(&o);
}

#[test]
fn shopify_count() {
    assert_eq!(shopify::parse_count(&fixture("shopify_orders_count_2025-10_shopify-app-js.json")).unwrap(), 1);
}

/// A new webshop fixture must get a test above: this fails when one is not covered.
#[test]
fn every_webshop_fixture_is_covered() {
    let covered = [
        "woo_order_727_retrieve.json",
        "woo_orders_list_727_723.json",
        "shopify_order_450789469_python_api.json",
        "shopify_orders_list_python_api.json",
        "shopify_orders_list_2025-10_shopify-app-js.json",
        "shopify_order_no_customer_no_sku_2025-10_shopify-app-js.json",
        "shopify_orders_count_2025-10_shopify-app-js.json",
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if (name.starts_with("woo") || name.starts_with("shopify")) && name.ends_with(".json") {
            assert!(covered.contains(&name.as_str()), "fixture {name} has no parsing test");
        }
    }
}
