//! The simulator's manifest: every simulated customer with its shop URL, keys and order
//! figures, as JSON for the demo, the tests and `importdesk sim --manifest FILE`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::SimError;
use crate::domain::customer::{AccountingKind, WebshopKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub customers: Vec<ManifestCustomer>,
}

/// One simulated customer. For Shopify the access token is `shop_key` and `shop_secret` is null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestCustomer {
    pub name: String,
    pub email: String,
    pub cvr: String,
    pub phone: String,
    /// Subscription plan fitting the shop's recent monthly volume (Basic/Plus/Pro/Enterprise).
    pub plan: String,
    pub webshop: WebshopKind,
    pub shop_domain: String,
    pub shop_url: String,
    pub shop_key: String,
    pub shop_secret: Option<String>,
    /// Orders in the shop, all statuses.
    pub orders: u64,
    pub first_order: DateTime<Utc>,
    pub last_order: DateTime<Utc>,
    /// The day the live integration started transferring orders.
    pub integration_since: NaiveDate,
    pub accounting: AccountingKind,
    pub accounting_url: String,
    pub app_secret: String,
    pub grant_token: String,
}

impl Manifest {
    pub fn to_json(&self) -> Result<String, SimError> {
        serde_json::to_string_pretty(self).map_err(|e| SimError::Manifest { detail: e.to_string() })
    }

    pub fn from_json(text: &str) -> Result<Manifest, SimError> {
        serde_json::from_str(text).map_err(|e| SimError::Manifest { detail: e.to_string() })
    }

    /// Writes the manifest, readable by the owner only: it holds the simulated shops' keys.
    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        let io = |source| SimError::Io { path: path.to_path_buf(), source };
        let text = self.to_json()?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
        std::io::Write::write_all(&mut file, b"\n").map_err(io)
    }

    pub fn read(path: &Path) -> Result<Manifest, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io { path: path.to_path_buf(), source })?;
        Manifest::from_json(&text)
    }

    pub fn customer(&self, shop_domain: &str) -> Option<&ManifestCustomer> {
        self.customers.iter().find(|c| c.shop_domain == shop_domain)
    }
}
