//! A webshop as a source of orders: count a range in one request, list it page by page,
//! fetch one order.

use async_trait::async_trait;

use super::http::{ConnectError, System};
use super::{shopify::Shopify, woocommerce::WooCommerce};
use crate::domain::calendar::UtcRange;
use crate::domain::customer::{Integration, WebshopKind};
use crate::domain::order::Order;

/// Which orders: created in `range`, in one of `statuses` (WooCommerce status names; for
/// Shopify `any` or Shopify's own `open`/`closed`/`cancelled`). Empty `statuses` means any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    pub range: UtcRange,
    pub statuses: Vec<String>,
}

/// An order the shop sent that could not be normalised (the import records it as a
/// "malformed shop data" failure instead of stopping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedOrder {
    pub id: Option<String>,
    pub reference: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub orders: Vec<Order>,
    pub malformed: Vec<MalformedOrder>,
    /// Opaque cursor for the next page; `None` on the last page.
    pub next: Option<String>,
    /// Total matching orders when the shop says (WooCommerce `X-WP-Total`).
    pub total: Option<u64>,
}

#[async_trait]
pub trait Source: Send + Sync {
    fn kind(&self) -> WebshopKind;

    /// The largest page the shop serves (WooCommerce 100, Shopify 250).
    fn max_page_size(&self) -> u32;

    /// Orders matching the query, with a single request.
    async fn count(&self, query: &OrderQuery) -> Result<u64, ConnectError>;

    /// One page of orders, oldest first. `cursor` is `None` for the first page, then the
    /// previous page's `next`.
    async fn page(&self, query: &OrderQuery, cursor: Option<&str>, page_size: u32) -> Result<Page, ConnectError>;

    /// One order by the shop's id or by the reference the customer sees (`727`, `#1001`).
    async fn order(&self, id_or_reference: &str) -> Result<Order, ConnectError>;
}

/// The source for a customer's integration.
pub fn source_for(integration: &Integration, client: reqwest::Client) -> Result<Box<dyn Source>, ConnectError> {
    Ok(match integration.webshop {
        WebshopKind::WooCommerce => {
            let secret = integration.shop_secret.clone().ok_or_else(|| ConnectError::BadUrl {
                system: System::WooCommerce,
                url: integration.shop_url.clone(),
                reason: "the integration has no consumer secret; set IMPORTDESK_SHOP_SECRET and re-add the customer"
                    .into(),
            })?;
            Box::new(WooCommerce::new(client, &integration.shop_url, integration.shop_key.clone(), secret)?)
        }
        WebshopKind::Shopify => Box::new(Shopify::new(client, &integration.shop_url, integration.shop_key.clone())?),
    })
}
