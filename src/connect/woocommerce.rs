//! PLACEHOLDER being written by the connectors helper.

use async_trait::async_trait;
use secrecy::SecretString;

use super::http::ConnectError;
use super::source::{OrderQuery, Page, Source};
use crate::domain::customer::WebshopKind;
use crate::domain::order::Order;

pub struct WooCommerce {
    _client: reqwest::Client,
}

impl WooCommerce {
    pub fn new(
        client: reqwest::Client,
        _base_url: &str,
        _key: SecretString,
        _secret: SecretString,
    ) -> Result<Self, ConnectError> {
        Ok(WooCommerce { _client: client })
    }
}

#[async_trait]
impl Source for WooCommerce {
    fn kind(&self) -> WebshopKind {
        WebshopKind::WooCommerce
    }
    fn max_page_size(&self) -> u32 {
        100
    }
    async fn count(&self, _query: &OrderQuery) -> Result<u64, ConnectError> {
        Ok(0)
    }
    async fn page(&self, _query: &OrderQuery, _cursor: Option<&str>, _page_size: u32) -> Result<Page, ConnectError> {
        Ok(Page::default())
    }
    async fn order(&self, _id: &str) -> Result<Order, ConnectError> {
        Err(ConnectError::NotFound { system: super::System::WooCommerce, host: String::new(), what: String::new() })
    }
}
