//! The turncoat store: one API over an embedded SQLite file and a shared PostgreSQL database.
//!
//! It keeps what commands record for later: the **lockfile index** (`turncoat index`, which
//! repository, ref and lockfile locks which package version, and by which dependency path),
//! **metric samples** ([`turncoat_metrics::Sample`], from `recon`, `evaluate`, `drill`,
//! `incident`, ...), **incidents** with their checklists and the **monitor state**
//! (`turncoat monitor`: per followed package its last snapshot, ETag and backoff). `turncoat metrics` and the
//! dashboard read it back.
//!
//! [`Store::open`] takes a file path (SQLite, created on first use, WAL mode so that several
//! processes can feed it) or a `postgres://` / `postgresql://` URL. The schema is versioned
//! ([`schema`]); opening a store applies the missing migrations. Times are Unix seconds.

mod backend;
mod incidents;
mod index;
mod monitor;
mod samples;
pub mod schema;

use std::path::{Path, PathBuf};

pub use incidents::{Incident, IncidentItem};
pub use index::{Hit, IndexStats, IndexedLockfile, IndexedPackage, LockfileState, Query, RefState};
pub use monitor::MonitorState;
pub use samples::SampleFilter;

use backend::Conn;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgresql: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("store schema: {0}")]
    Schema(String),
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Where a store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    /// A libpq-style URL. Never printed whole: it may hold a password.
    Postgres(String),
}

impl Location {
    /// `postgres://…` / `postgresql://…` is PostgreSQL; anything else a SQLite file.
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_string())
        } else {
            Location::Sqlite(PathBuf::from(s))
        }
    }

    /// The default: `$TURNCOAT_DATA_DIR/store.sqlite`, else `$XDG_DATA_HOME/turncoat/…`, else
    /// `~/.local/share/turncoat/…`. None when none of those is set.
    pub fn default_sqlite() -> Option<Location> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = env("TURNCOAT_DATA_DIR")
            .or_else(|| env("XDG_DATA_HOME").map(|d| d.join("turncoat")))
            .or_else(|| env("HOME").map(|h| h.join(".local/share/turncoat")))?;
        Some(Location::Sqlite(dir.join("store.sqlite")))
    }

    /// For messages: the file, or the PostgreSQL URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://***".into();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    // Query parameters may carry `password=`.
    let host = host.split('?').next().unwrap_or(host);
    match auth {
        Some(a) => {
            let user = a.split(':').next().unwrap_or("");
            if a.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => format!("{scheme}://{host}"),
    }
}

/// An open store.
pub struct Store {
    conn: Conn,
    location: Location,
}

impl Store {
    /// Open (creating and migrating as needed). `now` stamps the migrations.
    pub fn open(location: &Location, now: i64) -> Result<Store, Error> {
        let mut conn = match location {
            Location::Sqlite(path) => Conn::Sqlite(open_sqlite(path)?),
            Location::Postgres(url) => {
                Conn::Postgres(Box::new(postgres::Client::connect(url, postgres::NoTls)?))
            }
        };
        schema::migrate(&mut conn, now)?;
        Ok(Store {
            conn,
            location: location.clone(),
        })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn schema_version(&mut self) -> Result<i64, Error> {
        schema::version(&mut self.conn)
    }

    /// Run `f` in one transaction (SQLite: taking the write lock up front, so two writers
    /// wait for each other instead of failing on an upgrade).
    fn tx<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T, Error>) -> Result<T, Error> {
        let begin = if self.conn.is_postgres() {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        };
        self.conn.batch(begin)?;
        match f(&mut self.conn) {
            Ok(v) => {
                self.conn.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let conn = rusqlite::Connection::open(path)?;
    // Concurrent writers wait (up to a minute) rather than fail; WAL lets readers go on.
    let wait = std::time::Duration::from_secs(60);
    conn.busy_timeout(wait)?;
    // Switching a new database to WAL needs an exclusive lock, and SQLite can answer "busy"
    // there at once instead of waiting (several processes opening a new store together, as
    // concurrent `turncoat index add` runs do): retry for as long as the busy timeout.
    let deadline = std::time::Instant::now() + wait;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => break r?,
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_redaction() {
        assert_eq!(
            Location::parse("postgresql://u:p@h/db"),
            Location::Postgres("postgresql://u:p@h/db".into())
        );
        assert_eq!(
            Location::parse("idx.sqlite"),
            Location::Sqlite("idx.sqlite".into())
        );
        assert_eq!(
            redact("postgres://alice:hunter2@db.internal:5432/idx?password=x"),
            "postgres://alice:***@db.internal:5432/idx"
        );
        assert_eq!(redact("postgres://db/idx"), "postgres://db/idx");
        assert!(
            !Location::parse("postgres://a:s3cr3t@h/d")
                .display()
                .contains("s3cr3t")
        );
    }
}
