//! `importdesk demo` and `importdesk sim`: the simulator on loopback, a demo database
//! registered from the simulator's manifest (as any outside client would), and the TUI.

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

use crate::config::Config;
use crate::domain::calendar::{DEFAULT_TZ, Month};
use crate::domain::customer::{AccountingKind, Integration, IntegrationSettings, WebshopKind};
use crate::store::{NewCustomer, Store};

/// One customer of the simulator's manifest, as this client reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct ManifestCustomer {
    pub name: String,
    pub email: Option<String>,
    #[serde(default)]
    pub cvr: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    pub webshop: WebshopKind,
    pub shop_url: String,
    pub shop_key: String,
    pub shop_secret: Option<String>,
    #[serde(default)]
    pub integration_since: Option<NaiveDate>,
    #[serde(default)]
    pub accounting_url: Option<String>,
    #[serde(default)]
    pub app_secret: Option<String>,
    #[serde(default)]
    pub grant_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestFile {
    pub customers: Vec<ManifestCustomer>,
}

impl ManifestCustomer {
    pub fn to_new_customer(&self) -> NewCustomer {
        let since = self.integration_since.unwrap_or_else(|| Utc::now().date_naive());
        NewCustomer {
            name: self.name.clone(),
            cvr: self.cvr.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            plan: self.plan.clone().unwrap_or_else(|| "Basic".into()),
            integration: Integration {
                customer_id: 0,
                webshop: self.webshop,
                shop_url: self.shop_url.clone(),
                shop_key: SecretString::from(self.shop_key.clone()),
                shop_secret: self.shop_secret.clone().map(SecretString::from),
                accounting: AccountingKind::Economic,
                accounting_url: self.accounting_url.clone().unwrap_or_default(),
                economic_app_secret: self.app_secret.clone().map(SecretString::from),
                economic_grant: self.grant_token.clone().map(SecretString::from),
                since,
                timezone: DEFAULT_TZ,
                settings: IntegrationSettings::for_webshop(self.webshop),
            },
        }
    }
}

/// The demo database: `$XDG_DATA_HOME/importdesk/demo.db`, made anew on every start.
pub fn default_demo_path() -> PathBuf {
    Store::default_path().with_file_name("demo.db")
}

/// Registers every simulated customer, or re-points the ones already there (same shop
/// domain) at this run's simulator. Returns how many customers were added.
pub fn register(store: &mut Store, manifest: &ManifestFile) -> anyhow::Result<usize> {
    let existing = store.list_customers()?;
    let mut added = 0;
    for m in &manifest.customers {
        let new = m.to_new_customer();
        let domain = new.integration.shop_domain();
        match existing.iter().find(|c| c.shop_domain == domain) {
            Some(c) => store.set_endpoints(c.customer.id, &new.integration)?,
            None => {
                store.add_customer(&new)?;
                added += 1;
            }
        }
    }
    Ok(added)
}

/// `config_path` is handed on to the workers the TUI starts, so they run with the same rates.
pub async fn run(
    db: Option<PathBuf>,
    config: Config,
    config_path: Option<PathBuf>,
    seed: u64,
    port: u16,
) -> anyhow::Result<()> {
    let fresh = db.is_none();
    let db_path = db.unwrap_or_else(default_demo_path);
    if fresh {
        for suffix in ["", "-wal", "-shm"] {
            let p = PathBuf::from(format!("{}{suffix}", db_path.display()));
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing the old demo database {}", p.display())),
            }
        }
    }
    let opts = crate::sim::SimOptions { seed, ..Default::default() };
    let sim = crate::sim::start(opts, port).await.context("starting the simulator")?;
    let manifest: ManifestFile =
        serde_json::from_value(serde_json::to_value(&sim.manifest)?).context("reading the simulator's manifest")?;
    let mut store = Store::open(&db_path)?;
    let added = register(&mut store, &manifest)?;
    if added > 0 {
        seed_usage(&store, &config, &sim)?;
    }
    drop(store);
    let note = format!(
        "demo: {} simulated customers on {} · database {}",
        manifest.customers.len(),
        sim.addr,
        db_path.display()
    );
    let result = crate::tui::run(crate::tui::TuiOptions { db_path, config, config_path, note: Some(note) }).await;
    sim.shutdown().await;
    result
}

/// The usage ledger as the live integration would have written it: every order in a
/// transferred status, counted in the month it was placed, from the integration's start on.
fn seed_usage(store: &Store, config: &Config, sim: &crate::sim::RunningSim) -> anyhow::Result<()> {
    let tz = config.user_tz();
    let this_month = Month::containing(Utc::now(), tz);
    for summary in store.list_customers()? {
        let integration = store.integration(summary.customer.id)?;
        let since_month = Month::of(integration.since);
        let counts = sim.data.monthly_counts_for_domain(&summary.shop_domain, tz, &integration.settings.statuses);
        for (month, orders) in counts {
            if month < since_month || month > this_month || orders == 0 {
                continue;
            }
            let orders = if month == since_month {
                // Only the part of the first month from the start day on.
                sim.data.count_for_domain_since(
                    &summary.shop_domain,
                    integration.since,
                    month,
                    tz,
                    &integration.settings.statuses,
                )
            } else {
                orders
            };
            store.add_usage(summary.customer.id, month, orders)?;
        }
    }
    Ok(())
}

pub async fn run_sim(seed: u64, port: u16, manifest: Option<PathBuf>) -> anyhow::Result<()> {
    let opts = crate::sim::SimOptions { seed, ..Default::default() };
    crate::sim::run_standalone(opts, port, manifest).await?;
    Ok(())
}
