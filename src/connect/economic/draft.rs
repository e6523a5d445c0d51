//! The documents the e-conomic client posts for an order: the draft invoice with every line,
//! and a customer for its buyer.

use super::Economic;
use crate::connect::economic_wire::{
    Customer, CustomerGroupRef, CustomerRef, Invoice, InvoiceLine, LayoutRef, Notes, PaymentTermsRef, ProductRef,
    Recipient, References, VatZoneRef,
};
use crate::domain::calendar::local_date;
use crate::domain::customer::IntegrationSettings;
use crate::domain::money::round_ore;
use crate::domain::order::{LineKind, Order};

impl Economic {
    /// The draft invoice for an order: every line, the shop reference in `references.other`.
    pub fn draft_for(&self, order: &Order, settings: &IntegrationSettings, customer_number: u64) -> Invoice {
        let buyer = &order.buyer;
        let lines = order
            .lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let product = match (line.kind, &line.sku) {
                    (LineKind::Product, Some(sku)) => Some(ProductRef { product_number: Some(sku.clone()) }),
                    _ => None,
                };
                // A discount lowers the invoice whichever sign the shop used.
                let price = match line.kind {
                    LineKind::Discount => -line.unit_price.abs(),
                    _ => line.unit_price,
                };
                let description = Some(line.description.trim())
                    .filter(|d| !d.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| default_description(line.kind, line.sku.as_deref()));
                InvoiceLine {
                    line_number: Some(i as u32 + 1),
                    sort_key: Some(i as u32 + 1),
                    product,
                    description: Some(description),
                    quantity: Some(line.quantity),
                    unit_net_price: Some(round_ore(price)),
                    ..InvoiceLine::default()
                }
            })
            .collect();
        Invoice {
            date: Some(local_date(order.created_at, self.timezone).format("%Y-%m-%d").to_string()),
            currency: Some(order.currency.clone()),
            customer: Some(CustomerRef { customer_number: Some(customer_number) }),
            recipient: Some(Recipient {
                name: buyer.company.clone().or_else(|| buyer.name.clone()),
                address: buyer.address.clone(),
                zip: buyer.postcode.clone(),
                city: buyer.city.clone(),
                country: buyer.country.clone(),
                vat_zone: Some(VatZoneRef { vat_zone_number: Some(settings.vat_zone_number) }),
            }),
            layout: Some(LayoutRef { layout_number: Some(settings.layout_number) }),
            payment_terms: Some(PaymentTermsRef { payment_terms_number: Some(settings.payment_terms_number) }),
            references: Some(References { other: Some(order.reference.clone()) }),
            notes: Some(Notes { heading: Some(format!("{} order {}", order.webshop.display_name(), order.reference)) }),
            lines,
            ..Invoice::default()
        }
    }
}

fn default_description(kind: LineKind, sku: Option<&str>) -> String {
    match (kind, sku) {
        (LineKind::Product, Some(sku)) => format!("Product {sku}"),
        (LineKind::Product, None) => "Product".into(),
        (LineKind::Shipping, _) => "Shipping".into(),
        (LineKind::Fee, _) => "Fee".into(),
        (LineKind::Discount, _) => "Discount".into(),
    }
}

/// A customer for the order's buyer, with every field e-conomic requires.
pub(super) fn new_customer(order: &Order, settings: &IntegrationSettings) -> Customer {
    let b = &order.buyer;
    Customer {
        customer_number: None,
        name: b.company.clone().or_else(|| b.name.clone()),
        email: b.email.as_deref().map(str::trim).map(str::to_string),
        currency: Some(order.currency.clone()),
        customer_group: Some(CustomerGroupRef { customer_group_number: Some(settings.customer_group_number) }),
        payment_terms: Some(PaymentTermsRef { payment_terms_number: Some(settings.payment_terms_number) }),
        vat_zone: Some(VatZoneRef { vat_zone_number: Some(settings.vat_zone_number) }),
        address: b.address.clone(),
        zip: b.postcode.clone(),
        city: b.city.clone(),
        country: b.country.clone(),
        telephone_and_fax_number: b.phone.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::WebshopKind;
    use crate::domain::order::{Buyer, OrderLine};
    use chrono::{TimeZone, Utc};
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use secrecy::SecretString;

    fn order() -> Order {
        let line = |kind, sku: Option<&str>, description: &str, price: Decimal| OrderLine {
            kind,
            sku: sku.map(str::to_string),
            description: description.into(),
            quantity: dec!(1),
            unit_price: price,
            total: price,
            total_tax: Decimal::ZERO,
        };
        Order {
            webshop: WebshopKind::WooCommerce,
            id: "1042".into(),
            reference: "#1042".into(),
            // 23:30 UTC on the last of February is 1 March in Copenhagen.
            created_at: Utc.with_ymd_and_hms(2026, 2, 28, 23, 30, 0).unwrap(),
            status: "completed".into(),
            currency: "DKK".into(),
            prices_include_tax: false,
            total: dec!(0),
            total_tax: dec!(0),
            buyer: Buyer { name: Some("Mette Hansen".into()), email: Some("m@example.dk".into()), ..Buyer::default() },
            lines: vec![
                line(LineKind::Product, Some("TSHIRT-BL"), "T-shirt, blue", dec!(159.96)),
                line(LineKind::Shipping, None, "", dec!(39.2)),
                line(LineKind::Discount, None, "Coupon SPRING", dec!(20.005)),
            ],
        }
    }

    #[test]
    fn the_draft_carries_every_line_the_reference_and_the_local_date() {
        let economic = Economic::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/economic",
            SecretString::from("s"),
            SecretString::from("g"),
        )
        .unwrap();
        let settings = IntegrationSettings::default();
        let draft = economic.draft_for(&order(), &settings, 7);
        assert_eq!(draft.date.as_deref(), Some("2026-03-01"));
        assert_eq!(draft.reference(), Some("#1042"));
        assert_eq!(draft.customer.as_ref().and_then(|c| c.customer_number), Some(7));
        assert_eq!(draft.layout.as_ref().and_then(|l| l.layout_number), Some(settings.layout_number));
        assert_eq!(draft.lines.len(), 3);
        assert_eq!(draft.lines[0].product.as_ref().and_then(|p| p.product_number.as_deref()), Some("TSHIRT-BL"));
        assert_eq!(draft.lines[1].product, None);
        assert_eq!(draft.lines[1].description.as_deref(), Some("Shipping"), "a description is always set");
        assert_eq!(draft.lines[2].unit_net_price, Some(dec!(-20.01)), "discounts lower the total, in øre");
        let json = serde_json::to_value(&draft).unwrap();
        assert_eq!(json["lines"][0]["unitNetPrice"], 159.96);
        assert_eq!(json["references"]["other"], "#1042");
    }
}
