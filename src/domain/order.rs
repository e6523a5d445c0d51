//! The one order type every webshop is normalised to.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::customer::WebshopKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub webshop: WebshopKind,
    /// The shop's internal id (WooCommerce `id`, Shopify `id`).
    pub id: String,
    /// What the customer and support see (`727`, `#1001`); written to `references.other`.
    pub reference: String,
    pub created_at: DateTime<Utc>,
    pub status: String,
    pub currency: String,
    pub prices_include_tax: bool,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub buyer: Buyer,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// Full name, `None` when the order has none (a failure cause).
    pub name: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Product,
    Shipping,
    Fee,
    Discount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub kind: LineKind,
    /// Product number; `None` when the shop has none (empty or null SKU).
    pub sku: Option<String>,
    pub description: String,
    pub quantity: Decimal,
    /// Unit price excluding tax.
    pub unit_price: Decimal,
    /// Line total excluding tax.
    pub total: Decimal,
    pub total_tax: Decimal,
}

/// A blank string from a shop means "none": WooCommerce sends `""`, Shopify `null`.
pub fn non_blank(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl Order {
    pub fn product_lines(&self) -> impl Iterator<Item = (usize, &OrderLine)> {
        self.lines.iter().enumerate().filter(|(_, l)| l.kind == LineKind::Product)
    }
}
