//! Simulated orders and variants in the Shopify Admin REST 2025-10 JSON shape (as in the
//! fixture `shopify_orders_list_2025-10_shopify-app-js.json`): money as strings with `*_set`
//! twins, `created_at` with the shop's offset, taxes included, `sku` null when missing, and
//! `customer`/`billing_address` null on orders without a name.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::data::{SHOP_TZ, SimProduct, SimShop, mix};
use super::order::{SimLine, SimOrder, phone_at};
use super::query::money;

const SLOT_SHIPPING: u64 = 8;
const SLOT_FULFILLMENT: u64 = 9;
const SLOT_REFUND: u64 = 10;
const SLOT_TRANSACTION: u64 = 11;
const SLOT_REFUND_LINE: u64 = 12;
const TAX_TITLE: &str = "DK Moms";

fn time(t: DateTime<Utc>) -> String {
    t.with_timezone(&SHOP_TZ).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn time_or_null(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(time(t))).unwrap_or(Value::Null)
}

/// `{"shop_money":{…},"presentment_money":{…}}` in DKK.
fn set(amount: Decimal) -> Value {
    let m = json!({"amount": money(amount), "currency_code": "DKK"});
    json!({"shop_money": m, "presentment_money": m})
}

fn tax_line(tax: Decimal) -> Value {
    json!({"channel_liable": false, "price": money(tax), "price_set": set(tax), "rate": 0.25, "title": TAX_TITLE})
}

fn hex32(salt: u64) -> String {
    format!("{:016x}{:016x}", salt, mix(salt, 2))
}

fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_string(), value);
}

fn line_json(shop: &SimShop, o: &SimOrder, k: usize, line: &SimLine) -> Value {
    let m = o.line_money(line);
    let id = shop.ids.line_id(o.index, k as u64);
    let state = o.shopify_state();
    let gone = state.is_cancelled() || state.is_refunded();
    let fulfilled = state.fulfillment_status().is_some();
    let allocations: Vec<Value> = if m.discount.is_zero() {
        Vec::new()
    } else {
        vec![json!({"amount": money(m.discount), "amount_set": set(m.discount), "discount_application_index": 0})]
    };
    json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/LineItem/{id}"),
        "attributed_staffs": [],
        "current_quantity": if gone { 0 } else { line.quantity },
        "fulfillable_quantity": if gone || fulfilled { 0 } else { line.quantity },
        "fulfillment_service": "manual",
        "fulfillment_status": if fulfilled { json!("fulfilled") } else { Value::Null },
        "gift_card": false,
        "grams": 500,
        "name": line.name,
        "price": money(line.unit_price_incl_vat),
        "price_set": set(line.unit_price_incl_vat),
        "product_exists": true,
        "product_id": line.product_id,
        "properties": [],
        "quantity": line.quantity,
        "requires_shipping": true,
        "sku": line.sku,
        "taxable": true,
        "title": line.name,
        "total_discount": "0.00",
        "total_discount_set": set(Decimal::ZERO),
        "variant_id": line.variant_id,
        "variant_inventory_management": "shopify",
        "variant_title": null,
        "vendor": shop.customer.name,
        "tax_lines": [tax_line(m.total_tax)],
        "duties": [],
        "discount_allocations": allocations,
    })
}

fn address(o: &SimOrder, with_phone: bool) -> Value {
    let b = &o.buyer;
    json!({
        "first_name": b.first_name,
        "address1": b.address,
        "phone": if with_phone { json!(b.phone) } else { Value::Null },
        "city": b.city,
        "zip": b.postcode,
        "province": null,
        "country": "Denmark",
        "last_name": b.last_name,
        "address2": "",
        "company": b.company,
        "latitude": null,
        "longitude": null,
        "name": format!("{} {}", b.first_name, b.last_name),
        "country_code": "DK",
        "province_code": null,
    })
}

fn customer(shop: &SimShop, o: &SimOrder) -> Value {
    let b = &o.buyer;
    let id = o.customer_id;
    let with_phone = o.phone_places & phone_at::CUSTOMER != 0;
    let phone = if with_phone { json!(b.phone) } else { Value::Null };
    // The buyer's account is as old as the shop's first order at most, and never younger than this order.
    let since = shop.customer.first_order
        + chrono::Duration::seconds((mix(id, 3) % (86_400 * 365)) as i64).min(o.created - shop.customer.first_order);
    let created = time(since.min(o.created));
    let marketing = json!({"state": "not_subscribed", "opt_in_level": "single_opt_in", "consent_updated_at": null});
    json!({
        "id": id,
        "email": b.email,
        "created_at": created,
        "updated_at": time(o.created),
        "first_name": b.first_name,
        "last_name": b.last_name,
        "state": if mix(id, 4).is_multiple_of(3) { "enabled" } else { "disabled" },
        "note": null,
        "verified_email": true,
        "multipass_identifier": null,
        "tax_exempt": false,
        "phone": phone,
        "email_marketing_consent": marketing,
        "sms_marketing_consent": if with_phone { marketing.clone() } else { Value::Null },
        "tags": "",
        "currency": "DKK",
        "tax_exemptions": [],
        "admin_graphql_api_id": format!("gid://shopify/Customer/{id}"),
        "default_address": {
            "id": id + 1,
            "customer_id": id,
            "first_name": b.first_name,
            "last_name": b.last_name,
            "company": b.company,
            "address1": b.address,
            "address2": "",
            "city": b.city,
            "province": null,
            "country": "Denmark",
            "zip": b.postcode,
            "phone": phone,
            "name": format!("{} {}", b.first_name, b.last_name),
            "province_code": null,
            "country_code": "DK",
            "country_name": "Denmark",
            "default": true,
        },
    })
}

pub(crate) fn order_json(shop: &SimShop, o: &SimOrder) -> Value {
    let t = o.totals();
    let state = o.shopify_state();
    let salt = shop.order_seed(o.index);
    let line_items: Vec<Value> = o.lines.iter().enumerate().map(|(k, l)| line_json(shop, o, k, l)).collect();
    let subtotal = t.products_gross - t.discount.incl;
    let gone = state.is_cancelled() || state.is_refunded();
    let current = |amount: Decimal| if gone { Decimal::ZERO } else { amount };
    let outstanding = if state.financial_status() == "pending" { t.total } else { Decimal::ZERO };
    let number = o.order_number();
    let name = o.reference();
    let phone = |bit: u8| o.phone_places & bit != 0;
    let named = o.has_name;

    // Order-level tax lines sum the products' and the shipping's VAT by rate.
    let tax_lines = json!([{
        "price": money(t.total_tax), "rate": 0.25, "title": TAX_TITLE, "price_set": set(t.total_tax),
        "channel_liable": false,
    }]);
    let discount_codes: Vec<Value> = o
        .coupon
        .iter()
        .map(|(code, _)| json!({"code": code.to_uppercase(), "amount": money(t.discount.incl), "type": "percentage"}))
        .collect();
    let discount_applications: Vec<Value> = o
        .coupon
        .iter()
        .map(|(code, pct)| {
            json!({
                "target_type": "line_item", "type": "discount_code", "value": format!("{pct}.0"),
                "value_type": "percentage", "allocation_method": "across", "target_selection": "all",
                "code": code.to_uppercase(),
            })
        })
        .collect();
    let fulfillments: Vec<Value> = if state.fulfillment_status().is_some() {
        let id = shop.ids.line_id(o.index, SLOT_FULFILLMENT);
        let at = time(o.completed_at.unwrap_or(o.modified));
        let tracking = format!("{:014}", salt % 100_000_000_000_000);
        vec![json!({
            "id": id,
            "admin_graphql_api_id": format!("gid://shopify/Fulfillment/{id}"),
            "created_at": at,
            "location_id": 655_441_491,
            "name": format!("{name}.1"),
            "order_id": o.id,
            "origin_address": {},
            "receipt": {},
            "service": "manual",
            "shipment_status": null,
            "status": "success",
            "tracking_company": "GLS",
            "tracking_number": tracking,
            "tracking_numbers": [tracking],
            "tracking_url": format!("https://gls-group.eu/track/{tracking}"),
            "tracking_urls": [format!("https://gls-group.eu/track/{tracking}")],
            "updated_at": at,
            "line_items": line_items.clone(),
        })]
    } else {
        Vec::new()
    };
    let refunds: Vec<Value> = match o.refunded_at.filter(|_| state.is_refunded()) {
        Some(at) => {
            let id = shop.ids.line_id(o.index, SLOT_REFUND);
            let tx = shop.ids.line_id(o.index, SLOT_TRANSACTION);
            let refund_lines: Vec<Value> = o
                .lines
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    let m = o.line_money(l);
                    json!({
                        "id": shop.ids.line_id(o.index, SLOT_REFUND_LINE) * 10 + k as u64,
                        "line_item_id": shop.ids.line_id(o.index, k as u64),
                        "location_id": null,
                        "quantity": l.quantity,
                        "restock_type": "return",
                        "subtotal": rust_decimal::prelude::ToPrimitive::to_f64(&m.total).unwrap_or_default(),
                        "subtotal_set": set(m.total),
                        "total_tax": rust_decimal::prelude::ToPrimitive::to_f64(&m.total_tax).unwrap_or_default(),
                        "total_tax_set": set(m.total_tax),
                        "line_item": line_items.get(k).cloned().unwrap_or(Value::Null),
                    })
                })
                .collect();
            vec![json!({
                "id": id,
                "admin_graphql_api_id": format!("gid://shopify/Refund/{id}"),
                "created_at": time(at),
                "note": "Varen er returneret",
                "order_id": o.id,
                "processed_at": time(at),
                "restock": true,
                "total_additional_fees_set": set(Decimal::ZERO),
                "total_duties_set": set(Decimal::ZERO),
                "user_id": null,
                "order_adjustments": [],
                "transactions": [{
                    "id": tx,
                    "admin_graphql_api_id": format!("gid://shopify/OrderTransaction/{tx}"),
                    "amount": money(t.total),
                    "authorization": null,
                    "created_at": time(at),
                    "currency": "DKK",
                    "device_id": null,
                    "error_code": null,
                    "gateway": o.payment.2,
                    "kind": "refund",
                    "location_id": null,
                    "message": null,
                    "order_id": o.id,
                    "parent_id": null,
                    "payment_id": format!("{name}.2"),
                    "processed_at": time(at),
                    "receipt": {},
                    "source_name": "web",
                    "status": "success",
                    "test": false,
                    "user_id": null,
                }],
                "refund_line_items": refund_lines,
                "duties": [],
                "additional_fees": [],
            })]
        }
        None => Vec::new(),
    };
    let shipping_id = shop.ids.line_id(o.index, SLOT_SHIPPING);
    let shipping_lines = json!([{
        "id": shipping_id,
        "carrier_identifier": null,
        "code": o.shipping_method.1,
        "discounted_price": money(t.shipping.incl),
        "discounted_price_set": set(t.shipping.incl),
        "is_removed": false,
        "phone": null,
        "price": money(t.shipping.incl),
        "price_set": set(t.shipping.incl),
        "requested_fulfillment_service_id": null,
        "source": "shopify",
        "title": o.shipping_method.1,
        "tax_lines": if t.shipping.tax.is_zero() { json!([]) } else { json!([tax_line(t.shipping.tax)]) },
        "discount_allocations": [],
    }]);
    let token = hex32(salt);
    let grams: u32 = o.lines.iter().map(|l| 500 * l.quantity).sum();
    let ip = format!("87.{}.{}.{}", 48 + salt % 16, (salt >> 8) % 256, (salt >> 16) % 254 + 1);

    let mut m = Map::new();
    put(&mut m, "id", json!(o.id));
    put(&mut m, "admin_graphql_api_id", json!(format!("gid://shopify/Order/{}", o.id)));
    put(&mut m, "app_id", json!(580_111));
    put(&mut m, "browser_ip", json!(ip));
    put(&mut m, "buyer_accepts_marketing", json!(salt.is_multiple_of(4)));
    put(
        &mut m,
        "cancel_reason",
        if state.is_cancelled() {
            json!(if o.refunded_at.is_some() { "customer" } else { "declined" })
        } else {
            Value::Null
        },
    );
    put(&mut m, "cancelled_at", time_or_null(o.cancelled_at));
    put(&mut m, "cart_token", json!(hex32(salt ^ 1)));
    put(&mut m, "checkout_id", json!(o.id + 7_000_000_000));
    put(&mut m, "checkout_token", json!(hex32(salt ^ 2)));
    put(
        &mut m,
        "client_details",
        json!({
            "accept_language": "da-DK", "browser_height": null, "browser_ip": ip, "browser_width": null,
            "session_hash": null, "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)",
        }),
    );
    put(&mut m, "closed_at", time_or_null(o.completed_at.filter(|_| state.is_closed())));
    put(&mut m, "confirmation_number", json!(format!("{:09X}", salt % 0xF_FFFF_FFFF)));
    put(&mut m, "confirmed", json!(true));
    put(&mut m, "contact_email", json!(o.buyer.email));
    put(&mut m, "created_at", json!(time(o.created)));
    put(&mut m, "currency", json!("DKK"));
    put(&mut m, "current_subtotal_price", json!(money(current(subtotal))));
    put(&mut m, "current_subtotal_price_set", set(current(subtotal)));
    put(&mut m, "current_total_additional_fees_set", Value::Null);
    put(&mut m, "current_total_discounts", json!(money(current(t.discount.incl))));
    put(&mut m, "current_total_discounts_set", set(current(t.discount.incl)));
    put(&mut m, "current_total_duties_set", Value::Null);
    put(&mut m, "current_total_price", json!(money(current(t.total))));
    put(&mut m, "current_total_price_set", set(current(t.total)));
    put(&mut m, "current_total_tax", json!(money(current(t.total_tax))));
    put(&mut m, "current_total_tax_set", set(current(t.total_tax)));
    put(&mut m, "customer_locale", json!("da-DK"));
    put(&mut m, "device_id", Value::Null);
    put(&mut m, "discount_codes", Value::Array(discount_codes));
    put(&mut m, "duties_included", json!(false));
    put(&mut m, "email", json!(o.buyer.email));
    put(&mut m, "estimated_taxes", json!(false));
    put(&mut m, "financial_status", json!(state.financial_status()));
    put(&mut m, "fulfillment_status", json!(state.fulfillment_status()));
    put(&mut m, "landing_site", json!("/"));
    put(&mut m, "landing_site_ref", Value::Null);
    put(&mut m, "location_id", Value::Null);
    put(&mut m, "merchant_business_entity_id", json!(format!("MT{:x}", shop.ids.salt % 0xFFFF_FFFF)));
    put(&mut m, "merchant_of_record_app_id", Value::Null);
    put(&mut m, "name", json!(name));
    put(&mut m, "note", if o.note.is_empty() { Value::Null } else { json!(o.note) });
    put(&mut m, "note_attributes", json!([]));
    put(&mut m, "number", json!(o.index + 1));
    put(&mut m, "order_number", json!(number));
    put(
        &mut m,
        "order_status_url",
        json!(format!(
            "https://{}/{}/orders/{token}/authenticate?key={}",
            shop.domain(),
            shop.ids.salt % 1_000_000_000,
            hex32(salt ^ 3)
        )),
    );
    put(&mut m, "original_total_additional_fees_set", Value::Null);
    put(&mut m, "original_total_duties_set", Value::Null);
    put(&mut m, "payment_gateway_names", json!([o.payment.2]));
    put(&mut m, "phone", if phone(phone_at::ORDER) { json!(o.buyer.phone) } else { Value::Null });
    put(&mut m, "po_number", Value::Null);
    put(&mut m, "presentment_currency", json!("DKK"));
    put(&mut m, "processed_at", json!(time(o.created)));
    put(&mut m, "reference", Value::Null);
    put(&mut m, "referring_site", json!(""));
    put(&mut m, "source_identifier", Value::Null);
    put(&mut m, "source_name", json!("web"));
    put(&mut m, "source_url", Value::Null);
    put(&mut m, "subtotal_price", json!(money(subtotal)));
    put(&mut m, "subtotal_price_set", set(subtotal));
    put(&mut m, "tags", json!(""));
    put(&mut m, "tax_exempt", json!(false));
    put(&mut m, "tax_lines", tax_lines);
    put(&mut m, "taxes_included", json!(true));
    put(&mut m, "test", json!(false));
    put(&mut m, "token", json!(token));
    put(&mut m, "total_cash_rounding_payment_adjustment_set", set(Decimal::ZERO));
    put(&mut m, "total_cash_rounding_refund_adjustment_set", set(Decimal::ZERO));
    put(&mut m, "total_discounts", json!(money(t.discount.incl)));
    put(&mut m, "total_discounts_set", set(t.discount.incl));
    put(&mut m, "total_line_items_price", json!(money(t.products_gross)));
    put(&mut m, "total_line_items_price_set", set(t.products_gross));
    put(&mut m, "total_outstanding", json!(money(outstanding)));
    put(&mut m, "total_price", json!(money(t.total)));
    put(&mut m, "total_price_set", set(t.total));
    put(&mut m, "total_shipping_price_set", set(t.shipping.incl));
    put(&mut m, "total_tax", json!(money(t.total_tax)));
    put(&mut m, "total_tax_set", set(t.total_tax));
    put(&mut m, "total_tip_received", json!("0.00"));
    put(&mut m, "total_weight", json!(grams));
    put(&mut m, "updated_at", json!(time(o.modified)));
    put(&mut m, "user_id", Value::Null);
    put(&mut m, "billing_address", if named { address(o, phone(phone_at::BILLING)) } else { Value::Null });
    put(&mut m, "customer", if named { customer(shop, o) } else { Value::Null });
    put(&mut m, "discount_applications", Value::Array(discount_applications));
    put(&mut m, "fulfillments", Value::Array(fulfillments));
    put(&mut m, "line_items", Value::Array(line_items));
    put(&mut m, "payment_terms", Value::Null);
    put(&mut m, "refunds", Value::Array(refunds));
    put(&mut m, "shipping_address", if named { address(o, phone(phone_at::SHIPPING)) } else { Value::Null });
    put(&mut m, "shipping_lines", shipping_lines);
    Value::Object(m)
}

/// Keeps only the top-level `fields` asked for (`fields=id,name,created_at`).
pub(crate) fn only_fields(order: Value, fields: Option<&[String]>) -> Value {
    match (order, fields) {
        (Value::Object(map), Some(fields)) if !fields.is_empty() => {
            Value::Object(map.into_iter().filter(|(k, _)| fields.iter().any(|f| f == k)).collect())
        }
        (order, _) => order,
    }
}

pub(crate) fn variant_json(shop: &SimShop, p: &SimProduct) -> Value {
    let at = time(shop.customer.first_order - chrono::Duration::days(30));
    json!({
        "id": p.variant_id,
        "product_id": p.id,
        "title": "Default Title",
        "price": money(p.unit_price_incl_vat),
        "position": 1,
        "inventory_policy": "deny",
        "compare_at_price": null,
        "option1": "Default Title",
        "option2": null,
        "option3": null,
        "created_at": at,
        "updated_at": at,
        "taxable": true,
        "barcode": null,
        "sku": p.sku,
        "grams": 500,
        "weight": 0.5,
        "weight_unit": "kg",
        "inventory_item_id": p.variant_id + 1_000_000_000_000,
        "inventory_quantity": 25,
        "old_inventory_quantity": 25,
        "requires_shipping": true,
        "admin_graphql_api_id": format!("gid://shopify/ProductVariant/{}", p.variant_id),
        "image_id": null,
    })
}
