//! The SQLite store: the single source of truth, and the only bus between the TUI, the CLI
//! and the workers.

pub(crate) mod customers;
mod failures;
mod job_orders;
mod jobs;
mod migrations;
mod usage;

pub use customers::{CustomerSummary, NewCustomer};
pub use failures::{
    FailedOrder, FailureGroup, PredictedFailure, PredictedGroup, PreflightResult, PreflightSummary, like_pattern,
};
pub use job_orders::{Event, JobOrder, Level, NewJobOrder, Outcome};
pub use jobs::{Job, JobCommand, JobId, JobKind, LeaseHeld};

use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error(
        "the database {path} was written by a newer importdesk (schema {found}, this one knows {known}); upgrade importdesk"
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error("database error while {doing}: {source}")]
    Sqlite { doing: String, source: rusqlite::Error },
    #[error("no customer matches '{0}': try `importdesk customer list`")]
    CustomerNotFound(String),
    #[error("'{query}' matches {count} customers ({names}); give the id instead")]
    AmbiguousCustomer { query: String, count: usize, names: String },
    #[error("customer {0} has no integration set up")]
    NoIntegration(i64),
    #[error("no job {0}: see `importdesk job list`")]
    JobNotFound(i64),
    #[error(transparent)]
    Step(crate::domain::job::StepRefused),
    #[error(transparent)]
    LeaseHeld(jobs::LeaseHeld),
    #[error("the database holds a bad value for {what}: {value}")]
    BadValue { what: String, value: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Adds "while …" context to rusqlite errors.
pub(crate) trait Doing<T> {
    fn doing(self, what: &str) -> Result<T>;
}

impl<T> Doing<T> for std::result::Result<T, rusqlite::Error> {
    fn doing(self, what: &str) -> Result<T> {
        self.map_err(|source| StoreError::Sqlite { doing: what.to_string(), source })
    }
}

/// Timestamps are stored as RFC 3339 UTC with milliseconds, so they sort as text.
pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: Option<String>) -> Option<chrono::DateTime<chrono::Utc>> {
    s.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok()).map(|t| t.with_timezone(&chrono::Utc))
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating it 0600 if new) and migrates the database.
    pub fn open(path: &Path) -> Result<Store> {
        let open_err = |message: String| StoreError::Open { path: path.to_path_buf(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        create_private(path).map_err(|e| open_err(e.to_string()))?;
        let conn = Connection::open(path).map_err(|e| open_err(e.to_string()))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(|e| open_err(e.to_string()))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(|e| open_err(format!("not an importdesk database? {e}")))?;
        let mut store = Store { conn, path: path.to_path_buf() };
        migrations::migrate(&mut store.conn, path)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The default database: `$XDG_DATA_HOME/importdesk/importdesk.db`.
    pub fn default_path() -> PathBuf {
        directories::ProjectDirs::from("", "", "importdesk")
            .map(|d| d.data_dir().join("importdesk.db"))
            .unwrap_or_else(|| PathBuf::from("importdesk.db"))
    }
}

/// Creates the file with mode 0600 before SQLite does, so credentials are never world-readable.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_database_is_private_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/importdesk.db");
        let store = Store::open(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        Store::open(&path).unwrap(); // reopening migrates nothing twice
    }

    #[test]
    fn a_file_that_is_not_a_database_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "this is not sqlite, just some text that is long enough to matter....................................................").unwrap();
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("notes.txt"), "{err}");
    }
}
