//! Customers of the integration company and the integration each one has.

use chrono::NaiveDate;
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub type CustomerId = i64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    /// Danish company number (CVR), 8 digits, when the customer is a company.
    pub cvr: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Name of the subscription plan.
    pub plan: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebshopKind {
    WooCommerce,
    Shopify,
}

impl WebshopKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WebshopKind::WooCommerce => "woocommerce",
            WebshopKind::Shopify => "shopify",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            WebshopKind::WooCommerce => "WooCommerce",
            WebshopKind::Shopify => "Shopify",
        }
    }
}

impl fmt::Display for WebshopKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WebshopKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "woocommerce" | "woo" => Ok(WebshopKind::WooCommerce),
            "shopify" => Ok(WebshopKind::Shopify),
            other => Err(format!("unknown webshop '{other}': use woocommerce or shopify")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountingKind {
    Economic,
}

impl AccountingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountingKind::Economic => "economic",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            AccountingKind::Economic => "e-conomic",
        }
    }
}

impl fmt::Display for AccountingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountingKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "economic" | "e-conomic" => Ok(AccountingKind::Economic),
            other => Err(format!("unknown accounting system '{other}': use economic")),
        }
    }
}

/// How an order's buyer is matched to a customer in the accounting system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum CustomerMatching {
    /// Find the accounting customer by the order's e-mail; create one when missing.
    Email,
    /// Book every order on one shared customer (e.g. "Webshop customers").
    Shared { customer_number: u32 },
}

/// The integration's settings; an import uses whatever they are when it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSettings {
    /// Order statuses that are transferred (WooCommerce status names; Shopify uses `any`).
    pub statuses: Vec<String>,
    pub customer_matching: CustomerMatching,
    /// Create products missing in the accounting system (needs a SKU).
    pub create_missing_products: bool,
    /// Refuse orders without a phone number.
    pub require_phone: bool,
    pub layout_number: u32,
    pub payment_terms_number: u32,
    pub vat_zone_number: u32,
    pub customer_group_number: u32,
    pub product_group_number: u32,
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        IntegrationSettings {
            statuses: vec!["processing".into(), "completed".into()],
            customer_matching: CustomerMatching::Email,
            create_missing_products: false,
            require_phone: false,
            layout_number: 19,
            payment_terms_number: 1,
            vat_zone_number: 1,
            customer_group_number: 1,
            product_group_number: 1,
        }
    }
}

impl IntegrationSettings {
    /// The defaults for a shop kind: Shopify has no WooCommerce statuses.
    pub fn for_webshop(kind: WebshopKind) -> IntegrationSettings {
        let mut settings = IntegrationSettings::default();
        if kind == WebshopKind::Shopify {
            settings.statuses = vec!["any".into()];
        }
        settings
    }
}

/// A customer's integration: where the orders come from and where they go.
#[derive(Debug, Clone)]
pub struct Integration {
    pub customer_id: CustomerId,
    pub webshop: WebshopKind,
    pub shop_url: String,
    /// WooCommerce consumer key, or the Shopify access token.
    pub shop_key: SecretString,
    /// WooCommerce consumer secret; unused for Shopify.
    pub shop_secret: Option<SecretString>,
    pub accounting: AccountingKind,
    pub accounting_url: String,
    pub economic_app_secret: Option<SecretString>,
    pub economic_grant: Option<SecretString>,
    /// The day transfers started: orders from this day on are already transferred.
    pub since: NaiveDate,
    /// The shop's time zone, in which dates are picked.
    pub timezone: Tz,
    pub settings: IntegrationSettings,
}

impl Integration {
    /// Domain of the shop, for display and search (`butik.dk`).
    pub fn shop_domain(&self) -> String {
        shop_domain(&self.shop_url)
    }
}

/// The shop's domain from its base URL. A shop served on loopback (the simulator) carries its
/// domain as the first path segment: `http://127.0.0.1:8080/hyggehjem.dk`.
pub fn shop_domain(shop_url: &str) -> String {
    let Ok(url) = url::Url::parse(shop_url) else {
        return shop_url.to_string();
    };
    let host = url.host_str().unwrap_or_default().to_string();
    let loopback =
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()) || host == "[::1]";
    let first_segment = url.path_segments().and_then(|mut s| s.next()).unwrap_or_default();
    if loopback && first_segment.contains('.') { first_segment.to_string() } else { host }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domain_of_real_and_simulated_shops() {
        assert_eq!(shop_domain("https://butik.dk/"), "butik.dk");
        assert_eq!(shop_domain("https://shop.example.com/wp"), "shop.example.com");
        assert_eq!(shop_domain("http://127.0.0.1:8080/hyggehjem.dk"), "hyggehjem.dk");
        assert_eq!(shop_domain("http://127.0.0.1:8080/"), "127.0.0.1");
    }
}
