//! Metric samples ([`turncoat_metrics::Sample`]): recorded by every measuring command, read
//! back by `turncoat metrics` and the dashboard.

use time::OffsetDateTime;
use turncoat_metrics::Sample;

use crate::backend::Val;
use crate::{Error, Store};

/// Which samples to read; every field narrows (None: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleFilter {
    pub metric: Option<String>,
    pub scope: Option<String>,
    pub source: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
}

impl Store {
    /// Record samples in one transaction. Times are kept to the second.
    pub fn record(&mut self, samples: &[Sample]) -> Result<(), Error> {
        self.tx(|c| {
            for s in samples {
                c.exec(
                    "INSERT INTO samples (metric, value, at, scope, source, detail) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[
                        Val::T(s.metric.clone()),
                        Val::F(s.value),
                        Val::I(s.at.unix_timestamp()),
                        Val::T(s.scope.clone()),
                        Val::T(s.source.clone()),
                        Val::T(serde_json::Value::Object(s.detail.clone()).to_string()),
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// Samples matching `filter`, oldest first (ties in recording order).
    pub fn samples(&mut self, filter: &SampleFilter) -> Result<Vec<Sample>, Error> {
        let mut sql = String::from(
            "SELECT metric, value, at, scope, source, detail FROM samples WHERE 1 = 1",
        );
        let mut params = Vec::new();
        let mut add = |col: &str, v: Val, op: &str| {
            params.push(v);
            sql.push_str(&format!(" AND {col} {op} ${}", params.len()));
        };
        if let Some(m) = &filter.metric {
            add("metric", Val::T(m.clone()), "=");
        }
        if let Some(s) = &filter.scope {
            add("scope", Val::T(s.clone()), "=");
        }
        if let Some(s) = &filter.source {
            add("source", Val::T(s.clone()), "=");
        }
        if let Some(t) = filter.since {
            add("at", Val::I(t), ">=");
        }
        sql.push_str(" ORDER BY at, id");
        self.conn
            .query(&sql, &params)?
            .into_iter()
            .map(|r| {
                let at = OffsetDateTime::from_unix_timestamp(r[2].int().unwrap_or(0))
                    .map_err(|e| Error::Invalid(format!("sample time: {e}")))?;
                let detail = match serde_json::from_str(r[5].text().unwrap_or("{}")) {
                    Ok(serde_json::Value::Object(m)) => m,
                    _ => serde_json::Map::new(),
                };
                Ok(Sample {
                    metric: r[0].string(),
                    value: r[1].float().unwrap_or(0.0),
                    at,
                    scope: r[3].string(),
                    source: r[4].string(),
                    detail,
                })
            })
            .collect()
    }

    /// The newest sample of each (metric, scope), ordered by metric then scope.
    pub fn latest_samples(&mut self) -> Result<Vec<Sample>, Error> {
        let all = self.samples(&SampleFilter::default())?;
        let mut latest: std::collections::BTreeMap<(String, String), Sample> =
            std::collections::BTreeMap::new();
        for s in all {
            // Oldest first: a later sample replaces an earlier one.
            latest.insert((s.metric.clone(), s.scope.clone()), s);
        }
        Ok(latest.into_values().collect())
    }
}
