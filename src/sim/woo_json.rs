//! Simulated orders and products in WooCommerce REST v3's JSON shape (as in the fixture
//! `woo_order_727_retrieve.json`): money as two-decimal strings, `line_items[].price` a JSON
//! number, local dates without offset beside their `_gmt` twins, `sku` `""` when missing.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use super::data::{SHOP_TZ, SimProduct, SimShop, mix};
use super::order::SimOrder;
use super::query::money;

/// Line slots of an order's item ids (WooCommerce numbers every item of an order).
const SLOT_SHIPPING: u64 = 8;
const SLOT_FEE: u64 = 9;
const SLOT_COUPON: u64 = 10;
const SLOT_TAX: u64 = 11;
const SLOT_REFUND: u64 = 12;

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&SHOP_TZ).format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn local_or_null(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(local(t))).unwrap_or(Value::Null)
}

fn gmt_or_null(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(gmt(t))).unwrap_or(Value::Null)
}

/// A price as a JSON number, as WooCommerce sends `line_items[].price`.
fn number(amount: Decimal) -> Value {
    amount.round_dp(6).to_f64().map(Value::from).unwrap_or(Value::Null)
}

fn taxes(total: Decimal, subtotal: Option<Decimal>) -> Value {
    json!([{"id": 1, "total": money(total), "subtotal": subtotal.map(money).unwrap_or_default()}])
}

pub(crate) fn order_json(shop: &SimShop, o: &SimOrder) -> Value {
    let base = &shop.customer.shop_url;
    let totals = o.totals();
    let b = &o.buyer;
    let (first, last, company) = if o.has_name {
        (b.first_name.as_str(), b.last_name.as_str(), b.company.as_deref().unwrap_or_default())
    } else {
        ("", "", "")
    };
    let phone = if o.has_phone() { b.phone.as_str() } else { "" };
    let ids = shop.ids;
    let line_items: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(k, line)| {
            let m = o.line_money(line);
            json!({
                "id": ids.line_id(o.index, k as u64),
                "name": line.name,
                "product_id": line.product_id,
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": money(m.subtotal),
                "subtotal_tax": money(m.subtotal_tax),
                "total": money(m.total),
                "total_tax": money(m.total_tax),
                "taxes": taxes(m.total_tax, Some(m.subtotal_tax)),
                "meta_data": [],
                "sku": line.sku.clone().unwrap_or_default(),
                "price": number(m.total / Decimal::from(line.quantity)),
            })
        })
        .collect();
    let shipping_lines = json!([{
        "id": ids.line_id(o.index, SLOT_SHIPPING),
        "method_title": o.shipping_method.1,
        "method_id": o.shipping_method.0,
        "total": money(totals.shipping.net),
        "total_tax": money(totals.shipping.tax),
        "taxes": if totals.shipping.tax.is_zero() { json!([]) } else { taxes(totals.shipping.tax, None) },
        "meta_data": [],
    }]);
    let fee_lines: Vec<Value> = o
        .fee
        .iter()
        .map(|(name, _)| {
            json!({
                "id": ids.line_id(o.index, SLOT_FEE),
                "name": name,
                "tax_class": "",
                "tax_status": "taxable",
                "total": money(totals.fee.net),
                "total_tax": money(totals.fee.tax),
                "taxes": taxes(totals.fee.tax, None),
                "meta_data": [],
            })
        })
        .collect();
    let coupon_lines: Vec<Value> = o
        .coupon
        .iter()
        .map(|(code, _)| {
            json!({
                "id": ids.line_id(o.index, SLOT_COUPON),
                "code": code,
                "discount": money(totals.discount.net),
                "discount_tax": money(totals.discount.tax),
                "meta_data": [],
            })
        })
        .collect();
    let refunds: Vec<Value> = o
        .refunded_at
        .iter()
        .map(|_| json!({"id": ids.line_id(o.index, SLOT_REFUND), "reason": "Varen er returneret", "total": format!("-{}", money(totals.total))}))
        .collect();
    let salt = shop.order_seed(o.index);
    let paid = o.paid_at.is_some();

    let mut map = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        map.insert(k.to_string(), v);
    };
    put("id", json!(o.id));
    put("parent_id", json!(0));
    put("number", json!(o.reference()));
    put("order_key", json!(format!("wc_order_{:013x}", salt >> 12)));
    put("created_via", json!("checkout"));
    put("version", json!("8.9.3"));
    put("status", json!(o.woo_status().as_str()));
    put("currency", json!("DKK"));
    put("date_created", json!(local(o.created)));
    put("date_created_gmt", json!(gmt(o.created)));
    put("date_modified", json!(local(o.modified)));
    put("date_modified_gmt", json!(gmt(o.modified)));
    put("discount_total", json!(money(totals.discount.net)));
    put("discount_tax", json!(money(totals.discount.tax)));
    put("shipping_total", json!(money(totals.shipping.net)));
    put("shipping_tax", json!(money(totals.shipping.tax)));
    put("cart_tax", json!(money(totals.cart_tax)));
    put("total", json!(money(totals.total)));
    put("total_tax", json!(money(totals.total_tax)));
    put("prices_include_tax", json!(true));
    put("customer_id", json!(o.customer_id));
    put(
        "customer_ip_address",
        json!(format!("87.{}.{}.{}", 48 + salt % 16, (salt >> 8) % 256, (salt >> 16) % 254 + 1)),
    );
    put(
        "customer_user_agent",
        json!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"),
    );
    put("customer_note", json!(o.note));
    put(
        "billing",
        json!({
            "first_name": first, "last_name": last, "company": company,
            "address_1": b.address, "address_2": "", "city": b.city, "state": "", "postcode": b.postcode,
            "country": "DK", "email": b.email, "phone": phone,
        }),
    );
    put(
        "shipping",
        json!({
            "first_name": first, "last_name": last, "company": company,
            "address_1": b.address, "address_2": "", "city": b.city, "state": "", "postcode": b.postcode,
            "country": "DK",
        }),
    );
    put("payment_method", json!(o.payment.0));
    put("payment_method_title", json!(o.payment.1));
    put(
        "transaction_id",
        json!(if paid && o.payment.0 != "bacs" {
            format!("{}", 300_000_000 + salt % 99_999_999)
        } else {
            String::new()
        }),
    );
    put("date_paid", local_or_null(o.paid_at));
    put("date_paid_gmt", gmt_or_null(o.paid_at));
    put("date_completed", local_or_null(o.completed_at));
    put("date_completed_gmt", gmt_or_null(o.completed_at));
    put("cart_hash", json!(format!("{:016x}{:016x}", salt, mix(salt, 1))));
    put("meta_data", json!([{"id": ids.line_id(o.index, 13), "key": "_order_stock_reduced", "value": "yes"}]));
    put("line_items", Value::Array(line_items));
    put(
        "tax_lines",
        json!([{
            "id": ids.line_id(o.index, SLOT_TAX), "rate_code": "DK-MOMS-1", "rate_id": 1, "label": "Moms",
            "compound": false, "tax_total": money(totals.cart_tax), "shipping_tax_total": money(totals.shipping.tax),
            "meta_data": [],
        }]),
    );
    put("shipping_lines", shipping_lines);
    put("fee_lines", Value::Array(fee_lines));
    put("coupon_lines", Value::Array(coupon_lines));
    put("refunds", Value::Array(refunds));
    put(
        "_links",
        json!({
            "self": [{"href": format!("{base}/wp-json/wc/v3/orders/{}", o.id)}],
            "collection": [{"href": format!("{base}/wp-json/wc/v3/orders")}],
        }),
    );
    Value::Object(map)
}

pub(crate) fn product_json(shop: &SimShop, p: &SimProduct) -> Value {
    let base = &shop.customer.shop_url;
    let created = shop.customer.first_order - Duration::days(30 + (p.id % 60) as i64);
    let slug = super::names::ascii_fold(&p.name.replace([',', ' '], "-"));
    let price = money(p.unit_price_incl_vat);
    json!({
        "id": p.id,
        "name": p.name,
        "slug": slug,
        "permalink": format!("{base}/produkt/{slug}/"),
        "date_created": local(created),
        "date_created_gmt": gmt(created),
        "date_modified": local(created),
        "date_modified_gmt": gmt(created),
        "type": "simple",
        "status": "publish",
        "featured": false,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": p.sku.clone().unwrap_or_default(),
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "on_sale": false,
        "purchasable": true,
        "total_sales": 0,
        "virtual": false,
        "downloadable": false,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": false,
        "stock_quantity": null,
        "stock_status": "instock",
        "categories": [],
        "tags": [],
        "images": [],
        "attributes": [],
        "variations": [],
        "meta_data": [],
        "_links": {
            "self": [{"href": format!("{base}/wp-json/wc/v3/products/{}", p.id)}],
            "collection": [{"href": format!("{base}/wp-json/wc/v3/products")}],
        },
    })
}
