//! Versioned schema migrations, tracked in `PRAGMA user_version`.

use rusqlite::Connection;
use std::path::Path;

use super::{Doing, Result, StoreError};

/// Each entry upgrades the schema by one version. Never edit a landed entry: add one.
const MIGRATIONS: &[&str] = &[
    // 1: customers, integrations, usage ledger.
    "CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        cvr TEXT,
        email TEXT,
        phone TEXT,
        plan TEXT NOT NULL,
        search_text TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE INDEX customers_name ON customers(name COLLATE NOCASE);
     CREATE INDEX customers_cvr ON customers(cvr);
     CREATE INDEX customers_email ON customers(email COLLATE NOCASE);
     CREATE TABLE integrations (
        customer_id INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
        webshop TEXT NOT NULL,
        shop_url TEXT NOT NULL,
        shop_domain TEXT NOT NULL,
        shop_key TEXT NOT NULL,
        shop_secret TEXT,
        accounting TEXT NOT NULL,
        accounting_url TEXT NOT NULL,
        economic_app_secret TEXT,
        economic_grant TEXT,
        since TEXT NOT NULL,
        timezone TEXT NOT NULL,
        settings TEXT NOT NULL
     );
     CREATE INDEX integrations_domain ON integrations(shop_domain COLLATE NOCASE);
     CREATE TABLE usage (
        customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        month TEXT NOT NULL,
        orders INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (customer_id, month)
     ) WITHOUT ROWID;",
    // 2: import jobs, their orders, the commands written to them, and the event log.
    "CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        kind TEXT NOT NULL,
        range_from TEXT,
        range_to TEXT,
        state TEXT NOT NULL,
        quote TEXT,
        quoted_orders INTEGER NOT NULL DEFAULT 0,
        accepted_by TEXT,
        accepted_at TEXT,
        acceptance_reference TEXT,
        test_order TEXT,
        test_invoice TEXT,
        test_at TEXT,
        approved_by TEXT,
        approved_at TEXT,
        started_at TEXT,
        finished_at TEXT,
        billed_at TEXT,
        listing_done INTEGER NOT NULL DEFAULT 0,
        listing_cursor TEXT,
        command TEXT,
        command_at TEXT,
        lease_owner TEXT,
        lease_until TEXT,
        created_at TEXT NOT NULL
     );
     CREATE INDEX jobs_customer ON jobs(customer_id);
     CREATE TABLE job_orders (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        shop_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_attempt_at TEXT,
        invoice TEXT,
        cause TEXT,
        detail TEXT,
        value TEXT,
        fix_hint TEXT,
        vendor_response TEXT,
        skip_reason TEXT,
        transferred_at TEXT,
        order_json TEXT,
        PRIMARY KEY (job_id, shop_id)
     ) WITHOUT ROWID;
     CREATE INDEX job_orders_state ON job_orders(job_id, state);
     CREATE INDEX job_orders_reference ON job_orders(job_id, reference);
     CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        reference TEXT,
        message TEXT NOT NULL
     );
     CREATE INDEX events_job ON events(job_id, id);",
    // 3: failures grouped by cause; the preflight's predicted failures and its last run; the
    // retry epoch a running worker watches to forget its cached lookups.
    "CREATE INDEX job_orders_cause ON job_orders(job_id, state, cause);
     CREATE TABLE preflight_runs (
        job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
        orders_read INTEGER NOT NULL,
        orders_checked INTEGER NOT NULL,
        orders_skipped INTEGER NOT NULL,
        checked_at TEXT NOT NULL
     );
     CREATE TABLE preflight (
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        shop_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        created_at TEXT NOT NULL,
        customer TEXT,
        cause TEXT NOT NULL,
        detail TEXT NOT NULL,
        value TEXT,
        fix_hint TEXT NOT NULL,
        PRIMARY KEY (job_id, shop_id)
     ) WITHOUT ROWID;
     CREATE INDEX preflight_cause ON preflight(job_id, cause);
     ALTER TABLE jobs ADD COLUMN retry_epoch INTEGER NOT NULL DEFAULT 0;",
];

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).doing("reading the schema version")?;
    if found > known {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx =
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).doing("starting a migration")?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).doing("reading the schema version")?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql).doing(&format!("migrating the schema to version {version}"))?;
        tx.pragma_update(None, "user_version", version).doing("recording the schema version")?;
        tx.commit().doing("committing a migration")?;
    }
    Ok(())
}
