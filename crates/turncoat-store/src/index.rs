//! The lockfile index: per (repository, ref) the commit indexed and its lockfiles; per
//! lockfile the packages it locks.
//!
//! Incremental by construction: the caller asks [`Store::ref_state`] first and skips a ref
//! whose commit is unchanged, then hands [`Store::put_ref`] only the lockfiles whose blob
//! changed (others are passed with `packages: None` and keep their rows).

use std::collections::HashMap;

use serde::Serialize;

use crate::backend::{Conn, Val};
use crate::{Error, Store};

/// One package row, as the indexer hands it over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexedPackage {
    pub name: String,
    pub version: String,
    pub integrity: Option<String>,
    pub dev: bool,
    pub optional: bool,
    /// Whether the lockfile says it has an install script (None: the format does not say).
    pub install_script: Option<bool>,
    /// `root > a > b`: how the project reaches it.
    pub dep_path: String,
    /// 1-based line in the lockfile.
    pub line: u32,
}

/// One lockfile of a ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedLockfile {
    /// Path inside the repository.
    pub path: String,
    /// Content id (a git blob id, or a hash of a file's bytes).
    pub blob: String,
    /// The format id (`package-lock-v3`, ...).
    pub format: String,
    /// None: unchanged since the last index (the blob matches), keep its rows.
    pub packages: Option<Vec<IndexedPackage>>,
}

/// What the index holds for one (repo, ref).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefState {
    pub commit: Option<String>,
    /// Lockfile path → blob id.
    pub lockfiles: HashMap<String, String>,
}

/// A lockfile as the index knows it (for `incident`, which reads each scoped repo's files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockfileState {
    pub repo: String,
    pub ref_name: String,
    pub commit: String,
    pub path: String,
}

/// What one `put_ref` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    pub lockfiles_written: usize,
    pub lockfiles_kept: usize,
    pub lockfiles_removed: usize,
    pub packages_written: usize,
}

/// What `who_has` looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// These exact versions of `name` (a range is resolved to versions by the caller).
    Versions { name: String, versions: Vec<String> },
    /// An integrity string (one of the hashes of an SRI).
    Integrity(String),
}

/// One place a package is locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub repo: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub commit: String,
    pub lockfile: String,
    pub format: String,
    pub line: u32,
    pub name: String,
    pub version: String,
    pub integrity: Option<String>,
    pub dev: bool,
    pub optional: bool,
    pub install_script: Option<bool>,
    pub dep_path: String,
}

const ROWS_PER_INSERT: usize = 300;

impl Store {
    /// The commit and lockfile blobs indexed for (repo, ref).
    pub fn ref_state(&mut self, repo: &str, ref_name: &str) -> Result<RefState, Error> {
        let key = [Val::T(repo.into()), Val::T(ref_name.into())];
        let commit = self
            .conn
            .query(
                "SELECT commit_id FROM refs WHERE repo = $1 AND ref_name = $2",
                &key,
            )?
            .first()
            .map(|r| r[0].string());
        let lockfiles = self
            .conn
            .query(
                "SELECT path, blob FROM lockfiles WHERE repo = $1 AND ref_name = $2",
                &key,
            )?
            .into_iter()
            .map(|r| (r[0].string(), r[1].string()))
            .collect();
        Ok(RefState { commit, lockfiles })
    }

    /// Record what (repo, ref) holds at `commit`: lockfiles not listed are removed.
    pub fn put_ref(
        &mut self,
        repo: &str,
        ref_name: &str,
        commit: &str,
        lockfiles: &[IndexedLockfile],
        now: i64,
    ) -> Result<IndexStats, Error> {
        self.tx(|c| put_ref(c, repo, ref_name, commit, lockfiles, now))
    }

    /// Forget the refs of `repo` not in `keep` (branches deleted since the last index).
    pub fn retain_refs(&mut self, repo: &str, keep: &[String]) -> Result<usize, Error> {
        let have: Vec<String> = self
            .conn
            .query(
                "SELECT ref_name FROM refs WHERE repo = $1",
                &[Val::T(repo.into())],
            )?
            .into_iter()
            .map(|r| r[0].string())
            .collect();
        let gone: Vec<String> = have.into_iter().filter(|r| !keep.contains(r)).collect();
        for r in &gone {
            self.tx(|c| {
                put_ref(c, repo, r, "", &[], 0)?;
                c.exec(
                    "DELETE FROM refs WHERE repo = $1 AND ref_name = $2",
                    &[Val::T(repo.into()), Val::T(r.clone())],
                )
            })?;
        }
        Ok(gone.len())
    }

    /// Every place the query's package is locked, ordered by repo, ref, lockfile, line.
    pub fn who_has(&mut self, q: &Query) -> Result<Vec<Hit>, Error> {
        const COLS: &str = "l.repo, l.ref_name, r.commit_id, l.path, l.format, p.line, p.name, \
             p.version, p.integrity, p.dev, p.optional, p.install_script, p.dep_path";
        const FROM: &str = "FROM packages p JOIN lockfiles l ON l.id = p.lockfile_id \
             JOIN refs r ON r.repo = l.repo AND r.ref_name = l.ref_name";
        let mut rows = Vec::new();
        match q {
            Query::Versions { name, versions } => {
                for v in versions {
                    rows.extend(self.conn.query(
                        &format!("SELECT {COLS} {FROM} WHERE p.name = $1 AND p.version = $2"),
                        &[Val::T(name.clone()), Val::T(v.clone())],
                    )?);
                }
            }
            Query::Integrity(sri) => {
                // An SRI may list several hashes: exact match on the column (indexed), plus
                // entries that hold it among others.
                rows.extend(self.conn.query(
                    &format!(
                        "SELECT {COLS} {FROM} WHERE p.integrity = $1 \
                         OR (p.integrity LIKE $2 AND p.integrity <> $1)"
                    ),
                    &[Val::T(sri.clone()), Val::T(format!("%{sri}%"))],
                )?);
            }
        }
        let mut hits: Vec<Hit> = rows.into_iter().map(hit).collect();
        hits.sort_by(|a, b| {
            (&a.repo, &a.ref_name, &a.lockfile, a.line, &a.version).cmp(&(
                &b.repo,
                &b.ref_name,
                &b.lockfile,
                b.line,
                &b.version,
            ))
        });
        hits.dedup();
        Ok(hits)
    }

    /// The distinct versions of `name` in the index (to resolve a range).
    pub fn versions_of(&mut self, name: &str) -> Result<Vec<String>, Error> {
        let mut v: Vec<String> = self
            .conn
            .query(
                "SELECT DISTINCT version FROM packages WHERE name = $1",
                &[Val::T(name.into())],
            )?
            .into_iter()
            .map(|r| r[0].string())
            .collect();
        v.sort();
        Ok(v)
    }

    /// Every indexed lockfile.
    pub fn lockfiles(&mut self) -> Result<Vec<LockfileState>, Error> {
        Ok(self
            .conn
            .query(
                "SELECT l.repo, l.ref_name, r.commit_id, l.path FROM lockfiles l \
                 JOIN refs r ON r.repo = l.repo AND r.ref_name = l.ref_name \
                 ORDER BY l.repo, l.ref_name, l.path",
                &[],
            )?
            .into_iter()
            .map(|r| LockfileState {
                repo: r[0].string(),
                ref_name: r[1].string(),
                commit: r[2].string(),
                path: r[3].string(),
            })
            .collect())
    }

    /// Row counts: (refs, lockfiles, packages).
    pub fn index_counts(&mut self) -> Result<(i64, i64, i64), Error> {
        let mut n = |t: &str| -> Result<i64, Error> {
            Ok(self
                .conn
                .query(&format!("SELECT COUNT(*) FROM {t}"), &[])?
                .first()
                .and_then(|r| r[0].int())
                .unwrap_or(0))
        };
        Ok((n("refs")?, n("lockfiles")?, n("packages")?))
    }
}

fn flag(b: bool) -> Val {
    Val::I(i64::from(b))
}

fn hit(r: Vec<Val>) -> Hit {
    Hit {
        repo: r[0].string(),
        ref_name: r[1].string(),
        commit: r[2].string(),
        lockfile: r[3].string(),
        format: r[4].string(),
        line: r[5].int().unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
        name: r[6].string(),
        version: r[7].string(),
        integrity: r[8].text().map(str::to_string),
        dev: r[9].int() == Some(1),
        optional: r[10].int() == Some(1),
        install_script: r[11].int().map(|i| i == 1),
        dep_path: r[12].string(),
    }
}

fn put_ref(
    c: &mut Conn,
    repo: &str,
    ref_name: &str,
    commit: &str,
    lockfiles: &[IndexedLockfile],
    now: i64,
) -> Result<IndexStats, Error> {
    let mut stats = IndexStats::default();
    let key = [Val::T(repo.into()), Val::T(ref_name.into())];
    c.exec(
        "INSERT INTO refs (repo, ref_name, commit_id, indexed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (repo, ref_name) DO UPDATE SET commit_id = excluded.commit_id, \
         indexed_at = excluded.indexed_at",
        &[
            key[0].clone(),
            key[1].clone(),
            Val::T(commit.into()),
            Val::I(now),
        ],
    )?;
    let existing: HashMap<String, (i64, String)> = c
        .query(
            "SELECT path, id, blob FROM lockfiles WHERE repo = $1 AND ref_name = $2",
            &key,
        )?
        .into_iter()
        .map(|r| (r[0].string(), (r[1].int().unwrap_or(0), r[2].string())))
        .collect();
    for (path, (id, _)) in &existing {
        if !lockfiles.iter().any(|l| &l.path == path) {
            c.exec(
                "DELETE FROM packages WHERE lockfile_id = $1",
                &[Val::I(*id)],
            )?;
            c.exec("DELETE FROM lockfiles WHERE id = $1", &[Val::I(*id)])?;
            stats.lockfiles_removed += 1;
        }
    }
    for lf in lockfiles {
        let old = existing.get(&lf.path);
        let Some(packages) = &lf.packages else {
            if old.is_some_and(|(_, blob)| blob == &lf.blob) {
                stats.lockfiles_kept += 1;
                continue;
            }
            return Err(Error::Invalid(format!(
                "{repo} {ref_name} {}: no packages given for a lockfile the index does not hold",
                lf.path
            )));
        };
        if let Some((id, _)) = old {
            c.exec(
                "DELETE FROM packages WHERE lockfile_id = $1",
                &[Val::I(*id)],
            )?;
        }
        let id = c
            .query(
                "INSERT INTO lockfiles (repo, ref_name, path, blob, format) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repo, ref_name, path) \
                 DO UPDATE SET blob = excluded.blob, format = excluded.format RETURNING id",
                &[
                    key[0].clone(),
                    key[1].clone(),
                    Val::T(lf.path.clone()),
                    Val::T(lf.blob.clone()),
                    Val::T(lf.format.clone()),
                ],
            )?
            .first()
            .and_then(|r| r[0].int())
            .ok_or_else(|| Error::Invalid("insert returned no id".into()))?;
        insert_packages(c, id, packages)?;
        stats.lockfiles_written += 1;
        stats.packages_written += packages.len();
    }
    Ok(stats)
}

/// Multi-row inserts: one round trip per few hundred packages on PostgreSQL.
fn insert_packages(c: &mut Conn, id: i64, packages: &[IndexedPackage]) -> Result<(), Error> {
    for chunk in packages.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO packages (lockfile_id, name, version, integrity, dev, optional, \
             install_script, dep_path, line) VALUES ",
        );
        let mut params = Vec::with_capacity(chunk.len() * 9);
        for (i, p) in chunk.iter().enumerate() {
            let b = i * 9;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
            params.extend([
                Val::I(id),
                Val::T(p.name.clone()),
                Val::T(p.version.clone()),
                Val::OT(p.integrity.clone()),
                flag(p.dev),
                flag(p.optional),
                Val::OI(p.install_script.map(i64::from)),
                Val::T(p.dep_path.clone()),
                Val::I(i64::from(p.line)),
            ]);
        }
        c.exec(&sql, &params)?;
    }
    Ok(())
}
