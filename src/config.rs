//! The config file: plans and prices, fees, and the rate model of each remote system.
//!
//! Everything has a built-in default, so the file is optional. Plans other than Basic's quota
//! and every per-order price are sample values until the file sets them.

use chrono_tz::Tz;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::domain::calendar::DEFAULT_TZ;
use crate::domain::customer::WebshopKind;
use crate::domain::plan::{Plan, sample_plans};
use crate::domain::quote::Pricing;
use crate::domain::runtime::{SinkRate, SourceRate};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("the config file {path} can be read by other users (mode {mode:o}); run `chmod 600 {path}` first")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("the config file {path} names an unknown time zone '{zone}' (use e.g. Europe/Copenhagen)")]
    TimeZone { path: PathBuf, zone: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "RatesFile")]
pub struct Rates {
    pub woocommerce: SourceRate,
    pub shopify: SourceRate,
    pub economic: SinkRate,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            // No documented limit; shared hosts throttle bulk reads, so we pace ourselves.
            woocommerce: SourceRate { page_size: 100, requests_per_second: 4.0 },
            // The leaky bucket leaks 2 requests a second on standard plans.
            shopify: SourceRate { page_size: 250, requests_per_second: 2.0 },
            // Measured by `cargo bench --bench worker`: 6.4–7.0 calls an order (two lookups by
            // reference, the customer by e-mail, products until cached, draft, book).
            economic: SinkRate { calls_per_order: 6.5, requests_per_second: 8.0, daily_call_limit: Some(50_000) },
        }
    }
}

/// The `[rates.*]` tables as written: any field may be left out and keeps its default.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RatesFile {
    woocommerce: SourceRateFile,
    shopify: SourceRateFile,
    economic: SinkRateFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SourceRateFile {
    page_size: Option<u32>,
    requests_per_second: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SinkRateFile {
    calls_per_order: Option<f64>,
    requests_per_second: Option<f64>,
    daily_call_limit: Option<u64>,
}

impl From<RatesFile> for Rates {
    fn from(file: RatesFile) -> Rates {
        let d = Rates::default();
        let source = |f: SourceRateFile, d: SourceRate| SourceRate {
            page_size: f.page_size.unwrap_or(d.page_size),
            requests_per_second: f.requests_per_second.unwrap_or(d.requests_per_second),
        };
        Rates {
            woocommerce: source(file.woocommerce, d.woocommerce),
            shopify: source(file.shopify, d.shopify),
            economic: SinkRate {
                calls_per_order: file.economic.calls_per_order.unwrap_or(d.economic.calls_per_order),
                requests_per_second: file.economic.requests_per_second.unwrap_or(d.economic.requests_per_second),
                daily_call_limit: file.economic.daily_call_limit.or(d.economic.daily_call_limit),
            },
        }
    }
}

impl Rates {
    pub fn source(&self, kind: WebshopKind) -> SourceRate {
        match kind {
            WebshopKind::WooCommerce => self.woocommerce,
            WebshopKind::Shopify => self.shopify,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The user's time zone, for clocks shown and "this month".
    pub timezone: String,
    pub pricing: Pricing,
    pub plans: Vec<Plan>,
    pub rates: Rates,
    /// Share by which the actual order count may exceed the quoted one before it is flagged.
    pub deviation_threshold: Decimal,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timezone: DEFAULT_TZ.name().to_string(),
            pricing: Pricing::default(),
            plans: sample_plans(),
            rates: Rates::default(),
            deviation_threshold: dec!(0.20),
        }
    }
}

impl Config {
    /// Loads the file if it exists; built-in defaults otherwise.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(ConfigError::Read { path: path.into(), source }),
        };
        check_private(path)?;
        let config: Config =
            toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        config.tz().map_err(|zone| ConfigError::TimeZone { path: path.into(), zone })?;
        Ok(config)
    }

    pub fn tz(&self) -> Result<Tz, String> {
        self.timezone.parse::<Tz>().map_err(|_| self.timezone.clone())
    }

    /// The configured zone, or Copenhagen if the text was never validated.
    pub fn user_tz(&self) -> Tz {
        self.tz().unwrap_or(DEFAULT_TZ)
    }

    pub fn plan(&self, name: &str) -> Option<&Plan> {
        crate::domain::plan::find_plan(&self.plans, name)
    }

    /// `$XDG_CONFIG_HOME/importdesk/config.toml`.
    pub fn default_path() -> PathBuf {
        directories::ProjectDirs::from("", "", "importdesk")
            .map(|d| d.config_dir().join("config.toml"))
            .unwrap_or_else(|| PathBuf::from("importdesk.toml"))
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::TooOpen { path: path.into(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), ConfigError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn missing_file_gives_defaults() {
        let c = Config::load(Path::new("/nonexistent/importdesk.toml")).unwrap();
        assert_eq!(c.plan("Basic").map(|p| p.monthly_quota), Some(200));
    }

    #[test]
    fn file_overrides_plans_and_is_refused_when_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[[plans]]\nname = \"Basic\"\nmonthly_quota = 250\nextra_order_price = \"4.50\"\n")
            .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.plans.len(), 1);
        assert_eq!(c.plans[0].extra_order_price, dec!(4.50));
        assert!(!c.plans[0].sample);
    }

    #[test]
    fn a_partial_rates_table_keeps_the_other_defaults() {
        let c: Config = toml::from_str("[rates.economic]\nrequests_per_second = 200.0\n").unwrap();
        assert_eq!(c.rates.economic.requests_per_second, 200.0);
        assert_eq!(c.rates.economic.daily_call_limit, Some(50_000));
        assert_eq!(c.rates.shopify.page_size, 250);
        assert!(toml::from_str::<Config>("[rates.economic]\nrequests_per_secnd = 2.0\n").is_err(), "typos are refused");
    }

    #[test]
    fn bad_toml_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "plans = 7").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml is not valid"), "{err}");
    }
}
