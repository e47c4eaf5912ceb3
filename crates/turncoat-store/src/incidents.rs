//! Incidents: what was declared malicious, when the incident was opened and closed, and
//! its checklist (rotation items and steps) with check-off times.

use serde::Serialize;

use crate::backend::Val;
use crate::{Error, Store};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentItem {
    pub item: String,
    pub position: i64,
    pub checked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    /// The affected packages, `name@range` each.
    pub spec: Vec<String>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub reason: Option<String>,
    pub forced: bool,
    /// What the command that opened it keeps (the `--since` time, advisories, output path).
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub items: Vec<IncidentItem>,
}

impl Store {
    /// Open an incident. The id must be new.
    pub fn open_incident(
        &mut self,
        id: &str,
        spec: &[String],
        meta: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<(), Error> {
        let spec = serde_json::to_string(spec).map_err(|e| Error::Invalid(e.to_string()))?;
        let meta = serde_json::Value::Object(meta.clone()).to_string();
        self.tx(|c| {
            let exists = !c
                .query(
                    "SELECT id FROM incidents WHERE id = $1",
                    &[Val::T(id.into())],
                )?
                .is_empty();
            if exists {
                return Err(Error::Invalid(format!("incident {id} already exists")));
            }
            c.exec(
                "INSERT INTO incidents (id, spec, opened_at, forced, meta) \
                 VALUES ($1, $2, $3, 0, $4)",
                &[Val::T(id.into()), Val::T(spec), Val::I(now), Val::T(meta)],
            )?;
            Ok(())
        })
    }

    /// Add checklist items not yet present (kept in the given order after existing ones).
    pub fn add_items(&mut self, id: &str, items: &[String]) -> Result<(), Error> {
        self.tx(|c| {
            let have = c.query(
                "SELECT COALESCE(MAX(position), 0) FROM incident_items WHERE incident_id = $1",
                &[Val::T(id.into())],
            )?;
            let mut pos = have.first().and_then(|r| r[0].int()).unwrap_or(0);
            for item in items {
                let present = !c
                    .query(
                        "SELECT item FROM incident_items WHERE incident_id = $1 AND item = $2",
                        &[Val::T(id.into()), Val::T(item.clone())],
                    )?
                    .is_empty();
                if !present {
                    pos += 1;
                    c.exec(
                        "INSERT INTO incident_items (incident_id, item, position) \
                         VALUES ($1, $2, $3)",
                        &[Val::T(id.into()), Val::T(item.clone()), Val::I(pos)],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Check an item off (its first check-off time is kept). False if no such item.
    pub fn check_item(&mut self, id: &str, item: &str, now: i64) -> Result<bool, Error> {
        let n = self.conn.exec(
            "UPDATE incident_items SET checked_at = COALESCE(checked_at, $3) \
             WHERE incident_id = $1 AND item = $2",
            &[Val::T(id.into()), Val::T(item.into()), Val::I(now)],
        )?;
        Ok(n > 0)
    }

    /// Close an incident. False if it does not exist or is already closed.
    pub fn close_incident(
        &mut self,
        id: &str,
        now: i64,
        reason: Option<&str>,
        forced: bool,
    ) -> Result<bool, Error> {
        let n = self.conn.exec(
            "UPDATE incidents SET closed_at = $2, reason = $3, forced = $4 \
             WHERE id = $1 AND closed_at IS NULL",
            &[
                Val::T(id.into()),
                Val::I(now),
                Val::OT(reason.map(str::to_string)),
                Val::I(i64::from(forced)),
            ],
        )?;
        Ok(n > 0)
    }

    pub fn incident(&mut self, id: &str) -> Result<Option<Incident>, Error> {
        Ok(self.load_incidents(Some(id))?.into_iter().next())
    }

    /// Every incident, oldest first, with its items.
    pub fn incidents(&mut self) -> Result<Vec<Incident>, Error> {
        self.load_incidents(None)
    }

    fn load_incidents(&mut self, only: Option<&str>) -> Result<Vec<Incident>, Error> {
        let (filter, params) = match only {
            Some(id) => (" WHERE id = $1", vec![Val::T(id.into())]),
            None => ("", vec![]),
        };
        let rows = self.conn.query(
            &format!(
                "SELECT id, spec, opened_at, closed_at, reason, forced, meta FROM incidents{filter} \
                 ORDER BY opened_at, id"
            ),
            &params,
        )?;
        let mut out = Vec::new();
        for r in rows {
            let id = r[0].string();
            let items = self
                .conn
                .query(
                    "SELECT item, position, checked_at FROM incident_items \
                     WHERE incident_id = $1 ORDER BY position",
                    &[Val::T(id.clone())],
                )?
                .into_iter()
                .map(|i| IncidentItem {
                    item: i[0].string(),
                    position: i[1].int().unwrap_or(0),
                    checked_at: i[2].int(),
                })
                .collect();
            out.push(Incident {
                spec: serde_json::from_str(r[1].text().unwrap_or("[]")).unwrap_or_default(),
                id,
                opened_at: r[2].int().unwrap_or(0),
                closed_at: r[3].int(),
                reason: r[4].text().map(str::to_string),
                forced: r[5].int() == Some(1),
                meta: match serde_json::from_str(r[6].text().unwrap_or("{}")) {
                    Ok(serde_json::Value::Object(m)) => m,
                    _ => serde_json::Map::new(),
                },
                items,
            });
        }
        Ok(out)
    }
}
