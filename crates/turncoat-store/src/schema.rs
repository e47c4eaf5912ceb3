//! Versioned migrations, the same on both backends.
//!
//! `schema_version` holds one row per applied migration. Each migration runs in one
//! transaction with the version row, under a lock (SQLite `BEGIN IMMEDIATE`, PostgreSQL an
//! advisory transaction lock), so eight processes opening an empty store at once apply each
//! migration exactly once. A store written by a newer turncoat (a version we do not know) is
//! refused rather than misread.

use crate::Error;
use crate::backend::{Conn, Val};

/// Migrations in order; `{serial}` becomes the backend's auto-numbered key.
const MIGRATIONS: &[&str] = &[
    // 1: the lockfile index.
    "CREATE TABLE refs (
        repo TEXT NOT NULL,
        ref_name TEXT NOT NULL,
        commit_id TEXT NOT NULL,
        indexed_at BIGINT NOT NULL,
        PRIMARY KEY (repo, ref_name)
    );
    CREATE TABLE lockfiles (
        id {serial},
        repo TEXT NOT NULL,
        ref_name TEXT NOT NULL,
        path TEXT NOT NULL,
        blob TEXT NOT NULL,
        format TEXT NOT NULL,
        UNIQUE (repo, ref_name, path)
    );
    CREATE TABLE packages (
        lockfile_id BIGINT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        integrity TEXT,
        dev BIGINT NOT NULL,
        optional BIGINT NOT NULL,
        install_script BIGINT,
        dep_path TEXT NOT NULL,
        line BIGINT NOT NULL
    );
    CREATE INDEX packages_name_version ON packages (name, version);
    CREATE INDEX packages_integrity ON packages (integrity);
    CREATE INDEX packages_lockfile ON packages (lockfile_id);",
    // 2: metric samples.
    "CREATE TABLE samples (
        id {serial},
        metric TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        at BIGINT NOT NULL,
        scope TEXT NOT NULL,
        source TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX samples_metric_at ON samples (metric, at);",
    // 3: incidents and their checklists.
    "CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        opened_at BIGINT NOT NULL,
        closed_at BIGINT,
        reason TEXT,
        forced BIGINT NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE incident_items (
        incident_id TEXT NOT NULL,
        item TEXT NOT NULL,
        position BIGINT NOT NULL,
        checked_at BIGINT,
        PRIMARY KEY (incident_id, item)
    );",
    // 4: `turncoat monitor`: per followed package the last snapshot, its ETag and the backoff.
    "CREATE TABLE monitor_packages (
        ecosystem TEXT NOT NULL,
        name TEXT NOT NULL,
        etag TEXT,
        snapshot TEXT,
        last_poll BIGINT NOT NULL,
        failures BIGINT NOT NULL DEFAULT 0,
        next_poll BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        PRIMARY KEY (ecosystem, name)
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

fn begin(conn: &mut Conn) -> Result<(), Error> {
    if conn.is_postgres() {
        conn.batch("BEGIN; SELECT pg_advisory_xact_lock(7412851);")
    } else {
        conn.batch("BEGIN IMMEDIATE")
    }
}

/// The applied version (0 for an empty store).
fn current(conn: &mut Conn) -> Result<i64, Error> {
    let rows = conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Val::int)
        .unwrap_or(0))
}

/// Bring the store to [`SCHEMA_VERSION`].
pub fn migrate(conn: &mut Conn, now: i64) -> Result<(), Error> {
    begin(conn)?;
    let result = (|| {
        conn.batch(
            "CREATE TABLE IF NOT EXISTS schema_version (
                version BIGINT PRIMARY KEY,
                applied_at BIGINT NOT NULL
            )",
        )?;
        let have = current(conn)?;
        if have > SCHEMA_VERSION {
            return Err(Error::Schema(format!(
                "the store is at schema version {have}, newer than this turncoat knows \
                 ({SCHEMA_VERSION}); upgrade turncoat"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(have as usize) {
            let sql = sql.replace("{serial}", conn.serial());
            conn.batch(&sql)?;
            conn.exec(
                "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                &[Val::I(i as i64 + 1), Val::I(now)],
            )?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.batch("COMMIT"),
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The version recorded in the store.
pub fn version(conn: &mut Conn) -> Result<i64, Error> {
    current(conn)
}
