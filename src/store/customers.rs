//! Customers, their integrations and the lookup support staff type into.

use chrono::{NaiveDate, Utc};
use rusqlite::{OptionalExtension, Row, params};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{Doing, Result, Store, StoreError};
use crate::domain::customer::{Customer, CustomerId, Integration, IntegrationSettings, WebshopKind};

/// A customer to register, with the integration that is already running for them.
/// `integration.customer_id` is ignored: the store assigns the id.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: String,
    pub cvr: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub plan: String,
    pub integration: Integration,
}

/// A row of the lookup: the customer and enough of the integration to recognise the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerSummary {
    #[serde(flatten)]
    pub customer: Customer,
    pub webshop: WebshopKind,
    pub shop_domain: String,
    pub since: NaiveDate,
}

const SUMMARY_COLUMNS: &str = "c.id, c.name, c.cvr, c.email, c.phone, c.plan, i.webshop, i.shop_domain, i.since";

fn summary(row: &Row<'_>) -> rusqlite::Result<CustomerSummary> {
    let webshop: String = row.get(6)?;
    let since: String = row.get(8)?;
    Ok(CustomerSummary {
        customer: Customer {
            id: row.get(0)?,
            name: row.get(1)?,
            cvr: row.get(2)?,
            email: row.get(3)?,
            phone: row.get(4)?,
            plan: row.get(5)?,
        },
        webshop: webshop.parse().map_err(|e: String| bad_column(6, e))?,
        shop_domain: row.get(7)?,
        since: since.parse().map_err(|e: chrono::ParseError| bad_column(8, e.to_string()))?,
    })
}

fn bad_column(index: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, message.into())
}

fn search_text(c: &NewCustomer) -> String {
    let digits_only = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    [
        c.name.as_str(),
        c.cvr.as_deref().map(digits_only).as_deref().unwrap_or(""),
        c.email.as_deref().unwrap_or(""),
        &c.integration.shop_domain(),
    ]
    .join(" ")
    .to_lowercase()
}

impl Store {
    pub fn add_customer(&mut self, new: &NewCustomer) -> Result<CustomerId> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .doing("adding a customer")?;
        tx.execute(
            "INSERT INTO customers (name, cvr, email, phone, plan, search_text, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![new.name, new.cvr, new.email, new.phone, new.plan, search_text(new), Utc::now().to_rfc3339()],
        )
        .doing("adding a customer")?;
        let id = tx.last_insert_rowid();
        let i = &new.integration;
        let settings = serde_json::to_string(&i.settings).unwrap_or_else(|_| "{}".into());
        tx.execute(
            "INSERT INTO integrations (customer_id, webshop, shop_url, shop_domain, shop_key, shop_secret,
                accounting, accounting_url, economic_app_secret, economic_grant, since, timezone, settings)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                i.webshop.as_str(),
                i.shop_url,
                i.shop_domain(),
                i.shop_key.expose_secret(),
                i.shop_secret.as_ref().map(|s| s.expose_secret().to_string()),
                i.accounting.as_str(),
                i.accounting_url,
                i.economic_app_secret.as_ref().map(|s| s.expose_secret().to_string()),
                i.economic_grant.as_ref().map(|s| s.expose_secret().to_string()),
                i.since.to_string(),
                i.timezone.name(),
                settings,
            ],
        )
        .doing("adding the customer's integration")?;
        tx.commit().doing("adding a customer")?;
        Ok(id)
    }

    pub fn customer(&self, id: CustomerId) -> Result<CustomerSummary> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM customers c JOIN integrations i ON i.customer_id = c.id WHERE c.id = ?1"
        );
        self.conn()
            .query_row(&sql, [id], summary)
            .optional()
            .doing("reading a customer")?
            .ok_or_else(|| StoreError::CustomerNotFound(id.to_string()))
    }

    pub fn list_customers(&self) -> Result<Vec<CustomerSummary>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM customers c JOIN integrations i ON i.customer_id = c.id ORDER BY c.name COLLATE NOCASE"
        );
        let mut stmt = self.conn().prepare_cached(&sql).doing("listing customers")?;
        let rows = stmt.query_map([], summary).doing("listing customers")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("listing customers")
    }

    /// The lookup as you type: name, CVR, e-mail, shop domain or id. Exact id first, then
    /// names starting with the query, then any other match; at most `limit` rows.
    pub fn search_customers(&self, query: &str, limit: usize) -> Result<Vec<CustomerSummary>> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM customers c JOIN integrations i ON i.customer_id = c.id
                 ORDER BY c.name COLLATE NOCASE LIMIT ?1"
            );
            let mut stmt = self.conn().prepare_cached(&sql).doing("listing customers")?;
            let rows = stmt.query_map([limit as i64], summary).doing("listing customers")?;
            return rows.collect::<rusqlite::Result<Vec<_>>>().doing("listing customers");
        }
        let id: i64 = q.parse().unwrap_or(-1);
        let like = format!("%{}%", escape_like(&q));
        let prefix = format!("{}%", escape_like(&q));
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM customers c JOIN integrations i ON i.customer_id = c.id
             WHERE c.id = ?1 OR c.search_text LIKE ?2 ESCAPE '\\'
             ORDER BY (c.id = ?1) DESC, (lower(c.name) LIKE ?3 ESCAPE '\\') DESC, c.name COLLATE NOCASE
             LIMIT ?4"
        );
        let mut stmt = self.conn().prepare_cached(&sql).doing("searching customers")?;
        let rows = stmt.query_map(params![id, like, prefix, limit as i64], summary).doing("searching customers")?;
        rows.collect::<rusqlite::Result<Vec<_>>>().doing("searching customers")
    }

    /// One customer from what a user typed on the command line: an id, an exact name, or a
    /// search that matches exactly one customer.
    pub fn find_customer(&self, query: &str) -> Result<CustomerSummary> {
        if let Ok(id) = query.trim().parse::<i64>()
            && let Ok(found) = self.customer(id)
        {
            return Ok(found);
        }
        let matches = self.search_customers(query, 50)?;
        let exact: Vec<_> = matches.iter().filter(|m| m.customer.name.eq_ignore_ascii_case(query.trim())).collect();
        match (exact.as_slice(), matches.as_slice()) {
            ([one], _) => Ok((*one).clone()),
            (_, [one]) => Ok(one.clone()),
            (_, []) => Err(StoreError::CustomerNotFound(query.to_string())),
            (_, many) => Err(StoreError::AmbiguousCustomer {
                query: query.to_string(),
                count: many.len(),
                names: many
                    .iter()
                    .take(4)
                    .map(|m| format!("{} {}", m.customer.id, m.customer.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    pub fn integration(&self, customer_id: CustomerId) -> Result<Integration> {
        let row = self
            .conn()
            .query_row(
                "SELECT webshop, shop_url, shop_key, shop_secret, accounting, accounting_url,
                        economic_app_secret, economic_grant, since, timezone, settings
                 FROM integrations WHERE customer_id = ?1",
                [customer_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, String>(9)?,
                        r.get::<_, String>(10)?,
                    ))
                },
            )
            .optional()
            .doing("reading an integration")?
            .ok_or(StoreError::NoIntegration(customer_id))?;
        let bad = |what: &str, value: &str| StoreError::BadValue { what: what.into(), value: value.into() };
        let secret = |s: String| SecretString::from(s);
        Ok(Integration {
            customer_id,
            webshop: row.0.parse().map_err(|_| bad("webshop", &row.0))?,
            shop_url: row.1,
            shop_key: secret(row.2),
            shop_secret: row.3.map(secret),
            accounting: row.4.parse().map_err(|_| bad("accounting system", &row.4))?,
            accounting_url: row.5,
            economic_app_secret: row.6.map(secret),
            economic_grant: row.7.map(secret),
            since: row.8.parse().map_err(|_| bad("integration start date", &row.8))?,
            timezone: row.9.parse().map_err(|_| bad("time zone", &row.9))?,
            settings: serde_json::from_str::<IntegrationSettings>(&row.10)
                .map_err(|e| bad("integration settings", &e.to_string()))?,
        })
    }

    /// Points an existing integration at new URLs and credentials (the demo's simulator moves
    /// to a new port on every start; a customer may rotate keys).
    pub fn set_endpoints(&mut self, customer_id: CustomerId, i: &Integration) -> Result<()> {
        let changed = self
            .conn()
            .execute(
                "UPDATE integrations SET shop_url = ?2, shop_domain = ?3, shop_key = ?4, shop_secret = ?5,
                    accounting_url = ?6, economic_app_secret = ?7, economic_grant = ?8
                 WHERE customer_id = ?1",
                params![
                    customer_id,
                    i.shop_url,
                    i.shop_domain(),
                    i.shop_key.expose_secret(),
                    i.shop_secret.as_ref().map(|s| s.expose_secret().to_string()),
                    i.accounting_url,
                    i.economic_app_secret.as_ref().map(|s| s.expose_secret().to_string()),
                    i.economic_grant.as_ref().map(|s| s.expose_secret().to_string()),
                ],
            )
            .doing("updating an integration's endpoints")?;
        if changed == 0 {
            return Err(StoreError::NoIntegration(customer_id));
        }
        Ok(())
    }

    pub fn update_settings(&mut self, customer_id: CustomerId, settings: &IntegrationSettings) -> Result<()> {
        let json = serde_json::to_string(settings).unwrap_or_else(|_| "{}".into());
        let changed = self
            .conn()
            .execute("UPDATE integrations SET settings = ?2 WHERE customer_id = ?1", params![customer_id, json])
            .doing("saving integration settings")?;
        if changed == 0 {
            return Err(StoreError::NoIntegration(customer_id));
        }
        Ok(())
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::calendar::DEFAULT_TZ;
    use crate::domain::customer::AccountingKind;

    pub(crate) fn sample(name: &str, cvr: &str, email: &str, url: &str) -> NewCustomer {
        NewCustomer {
            name: name.into(),
            cvr: Some(cvr.into()),
            email: Some(email.into()),
            phone: None,
            plan: "Basic".into(),
            integration: Integration {
                customer_id: 0,
                webshop: WebshopKind::WooCommerce,
                shop_url: url.into(),
                shop_key: SecretString::from("ck_test"),
                shop_secret: Some(SecretString::from("cs_test")),
                accounting: AccountingKind::Economic,
                accounting_url: "http://127.0.0.1:1/".into(),
                economic_app_secret: None,
                economic_grant: None,
                since: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
                timezone: DEFAULT_TZ,
                settings: IntegrationSettings::default(),
            },
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        s.add_customer(&sample("Hyggehjem ApS", "12345678", "ordre@hyggehjem.dk", "https://hyggehjem.dk")).unwrap();
        s.add_customer(&sample("Nordlys Keramik", "87654321", "info@nordlys.dk", "https://shop.nordlys.dk")).unwrap();
        s.add_customer(&sample("Hygge & Co", "11112222", "hej@hyggeco.dk", "https://hyggeco.dk")).unwrap();
        (dir, s)
    }

    #[test]
    fn search_by_every_key() {
        let (_d, s) = store();
        let names =
            |q: &str| s.search_customers(q, 10).unwrap().into_iter().map(|c| c.customer.name).collect::<Vec<_>>();
        assert_eq!(names("nordlys"), ["Nordlys Keramik"]);
        assert_eq!(names("8765"), ["Nordlys Keramik"]);
        assert_eq!(names("ORDRE@"), ["Hyggehjem ApS"]);
        assert_eq!(names("shop.nordlys"), ["Nordlys Keramik"]);
        assert!(names("2").contains(&"Nordlys Keramik".to_string()));
        assert_eq!(names("hygge").len(), 2);
        assert_eq!(names("100%"), Vec::<String>::new());
    }

    #[test]
    fn exact_id_ranks_first() {
        let (_d, s) = store();
        assert_eq!(s.search_customers("2", 10).unwrap()[0].customer.id, 2);
    }

    #[test]
    fn find_customer_is_strict() {
        let (_d, s) = store();
        assert_eq!(s.find_customer("2").unwrap().customer.name, "Nordlys Keramik");
        assert_eq!(s.find_customer("hyggehjem aps").unwrap().customer.id, 1);
        let err = s.find_customer("hygge").unwrap_err().to_string();
        assert!(err.contains("matches 2 customers"), "{err}");
        assert!(matches!(s.find_customer("nobody"), Err(StoreError::CustomerNotFound(_))));
    }

    #[test]
    fn integration_round_trips_with_secrets() {
        let (_d, s) = store();
        let i = s.integration(1).unwrap();
        assert_eq!(i.shop_key.expose_secret(), "ck_test");
        assert_eq!(i.shop_domain(), "hyggehjem.dk");
        assert_eq!(i.settings, IntegrationSettings::default());
        assert!(matches!(s.integration(99), Err(StoreError::NoIntegration(99))));
    }
}
