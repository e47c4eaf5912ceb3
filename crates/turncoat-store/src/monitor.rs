//! `turncoat monitor`'s state: per followed package (ecosystem, name) the last snapshot the
//! monitor accepted (JSON, owned by `turncoat-monitor`), the ETag the registry sent with it,
//! when it was polled, and the failures and backoff since the last good poll.
//!
//! This is the monitor's trusted state: only the monitor writes it, in the store the team
//! chose (their SQLite file or their PostgreSQL), never the package cache, which any process of
//! the user (and so any install script) can rewrite. The ETag is only ever sent back to the
//! registry: a 304 means "unchanged since the document we stored with it".

use serde::Serialize;

use crate::backend::Val;
use crate::{Error, Store};

/// One followed package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonitorState {
    /// `npm` (or `pypi`).
    pub ecosystem: String,
    pub name: String,
    /// The ETag of the stored snapshot's document.
    pub etag: Option<String>,
    /// The last accepted snapshot (None until a first poll succeeds).
    pub snapshot: Option<String>,
    /// Unix seconds of the last poll attempt.
    pub last_poll: i64,
    /// Consecutive failed polls.
    pub failures: i64,
    /// Unix seconds before which the package is not polled again (backoff).
    pub next_poll: i64,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "ecosystem, name, etag, snapshot, last_poll, failures, next_poll, last_error";

impl Store {
    /// The state of one package, None when it was never followed.
    pub fn monitor_state(
        &mut self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<MonitorState>, Error> {
        let rows = self.conn.query(
            &format!("SELECT {COLUMNS} FROM monitor_packages WHERE ecosystem = $1 AND name = $2"),
            &[Val::T(ecosystem.into()), Val::T(name.into())],
        )?;
        Ok(rows.first().map(|r| MonitorState {
            ecosystem: r[0].string(),
            name: r[1].string(),
            etag: r[2].text().map(str::to_string),
            snapshot: r[3].text().map(str::to_string),
            last_poll: r[4].int().unwrap_or(0),
            failures: r[5].int().unwrap_or(0),
            next_poll: r[6].int().unwrap_or(0),
            last_error: r[7].text().map(str::to_string),
        }))
    }

    /// Insert or replace the state of `s.ecosystem`/`s.name`.
    pub fn put_monitor_state(&mut self, s: &MonitorState) -> Result<(), Error> {
        self.tx(|c| {
            c.exec(
                &format!(
                    "INSERT INTO monitor_packages ({COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (ecosystem, name) DO UPDATE SET \
                     etag = excluded.etag, snapshot = excluded.snapshot, \
                     last_poll = excluded.last_poll, failures = excluded.failures, \
                     next_poll = excluded.next_poll, last_error = excluded.last_error"
                ),
                &[
                    Val::T(s.ecosystem.clone()),
                    Val::T(s.name.clone()),
                    Val::OT(s.etag.clone()),
                    Val::OT(s.snapshot.clone()),
                    Val::I(s.last_poll),
                    Val::I(s.failures),
                    Val::I(s.next_poll),
                    Val::OT(s.last_error.clone()),
                ],
            )?;
            Ok(())
        })
    }

    /// Every followed package of `ecosystem`, by name.
    pub fn monitor_states(&mut self, ecosystem: &str) -> Result<Vec<MonitorState>, Error> {
        let names: Vec<String> = self
            .conn
            .query(
                "SELECT name FROM monitor_packages WHERE ecosystem = $1 ORDER BY name",
                &[Val::T(ecosystem.into())],
            )?
            .into_iter()
            .map(|r| r[0].string())
            .collect();
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            out.extend(self.monitor_state(ecosystem, &n)?);
        }
        Ok(out)
    }
}
