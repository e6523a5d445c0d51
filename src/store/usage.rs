//! The usage ledger: orders counted against the quota, per customer and month.

use rusqlite::params;

use super::{Doing, Result, Store};
use crate::domain::calendar::Month;
use crate::domain::customer::CustomerId;

impl Store {
    /// Adds `orders` to a month's usage (negative corrections are not allowed).
    pub fn add_usage(&self, customer: CustomerId, month: Month, orders: u64) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO usage (customer_id, month, orders) VALUES (?1, ?2, ?3)
                 ON CONFLICT (customer_id, month) DO UPDATE SET orders = orders + excluded.orders",
                params![customer, month.key(), orders as i64],
            )
            .doing("recording usage")?;
        Ok(())
    }

    pub fn usage(&self, customer: CustomerId, month: Month) -> Result<u64> {
        let n: Option<i64> = self
            .conn()
            .query_row(
                "SELECT orders FROM usage WHERE customer_id = ?1 AND month = ?2",
                params![customer, month.key()],
                |r| r.get(0),
            )
            .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })
            .doing("reading usage")?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    /// Usage of the `n` months ending with `last`, oldest first; months without usage are 0.
    pub fn usage_history(&self, customer: CustomerId, last: Month, n: usize) -> Result<Vec<(Month, u64)>> {
        let months = last.trailing(n);
        let first = months.first().copied().unwrap_or(last);
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT month, orders FROM usage WHERE customer_id = ?1 AND month >= ?2 AND month <= ?3")
            .doing("reading usage history")?;
        let rows = stmt
            .query_map(params![customer, first.key(), last.key()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .doing("reading usage history")?;
        let mut found = std::collections::HashMap::new();
        for row in rows {
            let (key, orders) = row.doing("reading usage history")?;
            if let Some(m) = Month::parse_key(&key) {
                found.insert(m, orders.max(0) as u64);
            }
        }
        Ok(months.into_iter().map(|m| (m, found.get(&m).copied().unwrap_or(0))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::customers::tests::sample;

    #[test]
    fn ledger_adds_up_per_month() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let id = s.add_customer(&sample("A", "1", "a@a.dk", "https://a.dk")).unwrap();
        let dec = Month { year: 2026, month: 12 };
        s.add_usage(id, dec, 40).unwrap();
        s.add_usage(id, dec, 10).unwrap();
        s.add_usage(id, dec.prev(), 7).unwrap();
        assert_eq!(s.usage(id, dec).unwrap(), 50);
        assert_eq!(s.usage(id, dec.next()).unwrap(), 0);
        let h = s.usage_history(id, dec, 3).unwrap();
        assert_eq!(h, vec![(Month { year: 2026, month: 10 }, 0), (dec.prev(), 7), (dec, 50)]);
    }
}
