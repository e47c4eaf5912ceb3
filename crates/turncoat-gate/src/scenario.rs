//! Scenarios: a small world of package versions plus two lockfiles, turned into a
//! directory-backed registry so the gate can run on it fully offline.
//!
//! The bundled demo, the incident replays under `fixtures/scenarios/` and many tests are
//! scenarios. Format (see `fixtures/README.md`): `scenario.toml` lists every version the
//! registry serves — a real tarball (`tarball`, checked against `sha512` and served byte for
//! byte), a source directory
//! (`dir`), or an earlier version (`base`) with an `overlay` directory on top — plus the root
//! dependencies of the base and head projects and the expected verdicts.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value, json};
use turncoat_npm::{Integrity, PackageName};

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario {scenario}: cannot read {path}: {source}")]
    Read {
        scenario: String,
        path: String,
        source: std::io::Error,
    },
    #[error("scenario {scenario}: scenario.toml: {message}")]
    Toml { scenario: String, message: String },
    #[error("scenario {scenario}: {message}")]
    Invalid { scenario: String, message: String },
    #[error("scenario {scenario}: cannot write {path}: {source}")]
    Write {
        scenario: String,
        path: String,
        source: std::io::Error,
    },
}

/// Where scenario files come from: a directory on disk or one embedded in the binary.
pub enum Source<'a> {
    Disk(PathBuf),
    Embedded(&'a include_dir::Dir<'a>),
}

impl Source<'_> {
    fn name(&self) -> String {
        match self {
            Source::Disk(p) => p.display().to_string(),
            Source::Embedded(d) => d.path().display().to_string(),
        }
    }

    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Source::Disk(root) => std::fs::read(root.join(rel)),
            Source::Embedded(d) => d
                .get_file(d.path().join(rel))
                .map(|f| f.contents().to_vec())
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, rel.to_string())),
        }
    }

    /// Every file below `rel`, as (path relative to `rel`, bytes), sorted.
    fn files_below(&self, rel: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        match self {
            Source::Disk(root) => {
                let base = root.join(rel);
                let mut stack = vec![base.clone()];
                while let Some(dir) = stack.pop() {
                    for entry in std::fs::read_dir(&dir)? {
                        let entry = entry?;
                        let ty = entry.file_type()?;
                        let path = entry.path();
                        if ty.is_dir() {
                            stack.push(path);
                        } else if ty.is_file() {
                            let relp = path
                                .strip_prefix(&base)
                                .map_err(std::io::Error::other)?
                                .to_string_lossy()
                                .replace('\\', "/");
                            out.push((relp, std::fs::read(&path)?));
                        }
                    }
                }
            }
            Source::Embedded(d) => {
                let base = d.path().join(rel);
                let Some(sub) = d.get_dir(&base) else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        rel.to_string(),
                    ));
                };
                let mut stack = vec![sub];
                while let Some(dir) = stack.pop() {
                    for f in dir.files() {
                        let relp = f
                            .path()
                            .strip_prefix(&base)
                            .map_err(std::io::Error::other)?
                            .to_string_lossy()
                            .replace('\\', "/");
                        out.push((relp, f.contents().to_vec()));
                    }
                    stack.extend(dir.dirs());
                }
            }
        }
        if out.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{rel} has no files"),
            ));
        }
        out.sort();
        Ok(out)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionSpec {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub tarball: Option<String>,
    #[serde(default)]
    pub sha512: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub overlay: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub npm_user: Option<Person>,
    #[serde(default)]
    pub maintainers: Vec<Person>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectSpec {
    #[serde(default)]
    pub dependencies: BTreeMap<String, String>,
}

/// Expected verdict: `"block"` or `{ verdict = "block", codes = ["..."] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    Verdict(String),
    Detailed {
        verdict: String,
        #[serde(default)]
        codes: Vec<String>,
    },
}

impl Expect {
    pub fn verdict(&self) -> &str {
        match self {
            Expect::Verdict(v) | Expect::Detailed { verdict: v, .. } => v,
        }
    }

    pub fn codes(&self) -> &[String] {
        match self {
            Expect::Verdict(_) => &[],
            Expect::Detailed { codes, .. } => codes,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioSpec {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub incident: Option<String>,
    #[serde(default, rename = "version")]
    pub versions: Vec<VersionSpec>,
    #[serde(default)]
    pub base: ProjectSpec,
    #[serde(default)]
    pub head: ProjectSpec,
    #[serde(default)]
    pub expect: BTreeMap<String, Expect>,
    /// Benign controls: other base/head pairs over the same registry (e.g. the same package with
    /// only the version bumped), each with its own expectations.
    #[serde(default, rename = "control")]
    pub controls: Vec<ControlSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ControlSpec {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub base: ProjectSpec,
    #[serde(default)]
    pub head: ProjectSpec,
    #[serde(default)]
    pub expect: BTreeMap<String, Expect>,
}

/// A base/head lockfile pair written out, with what the gate should say about it.
#[derive(Debug, Clone)]
pub struct LockfilePair {
    pub description: String,
    pub base_lockfile: PathBuf,
    pub head_lockfile: PathBuf,
    pub expect: BTreeMap<String, Expect>,
}

/// A scenario written out to disk.
#[derive(Debug, Clone)]
pub struct Materialized {
    pub spec: ScenarioSpec,
    /// The directory-backed registry (`file://` root).
    pub registry: PathBuf,
    pub base_lockfile: PathBuf,
    pub head_lockfile: PathBuf,
    /// The benign controls, written out like the main pair.
    pub controls: Vec<LockfilePair>,
}

/// npm's fixed tarball mtime (1985-10-26T08:15:00Z), so packing is reproducible.
const NPM_MTIME: u64 = 499_162_500;
/// Tarball URLs point at the public registry, as in real lockfiles; the registry client maps
/// that host to the configured registry (npm's replace-registry-host).
const TARBALL_HOST: &str = "https://registry.npmjs.org";

struct Built {
    files: Vec<(String, Vec<u8>)>,
    manifest: Map<String, Value>,
    tgz: Vec<u8>,
    integrity: Integrity,
}

/// Load `scenario.toml` from `source` and write its registry and lockfiles below `out`.
pub fn materialize(source: &Source<'_>, out: &Path) -> Result<Materialized, ScenarioError> {
    let scenario = source.name();
    let invalid = |message: String| ScenarioError::Invalid {
        scenario: scenario.clone(),
        message,
    };
    let read = |rel: &str| {
        source.read(rel).map_err(|e| ScenarioError::Read {
            scenario: scenario.clone(),
            path: rel.to_string(),
            source: e,
        })
    };
    let text = read("scenario.toml")?;
    let text = String::from_utf8(text).map_err(|_| invalid("scenario.toml is not UTF-8".into()))?;
    let spec: ScenarioSpec = toml::from_str(&text).map_err(|e| ScenarioError::Toml {
        scenario: scenario.clone(),
        message: e.to_string(),
    })?;

    // Build every version; `base` may refer to a version listed later, so resolve lazily.
    let mut built: BTreeMap<(String, String), Built> = BTreeMap::new();
    let mut pending: Vec<&VersionSpec> = spec.versions.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut still = Vec::new();
        for v in pending {
            PackageName::new(&v.name).map_err(|e| invalid(e.to_string()))?;
            let mut original: Option<Vec<u8>> = None;
            let files = if let Some(t) = &v.tarball {
                let bytes = read(t)?;
                if let Some(want) = &v.sha512 {
                    let want = format!("sha512-{}", want.trim_start_matches("sha512-"));
                    let want =
                        Integrity::parse(&want).map_err(|e| invalid(format!("{}: {e}", v.name)))?;
                    want.verify(&bytes)
                        .map_err(|e| invalid(format!("{t}: {e}")))?;
                }
                let archive =
                    turncoat_archive::read_tgz(&bytes, &turncoat_archive::Limits::default())
                        .map_err(|e| invalid(format!("{t}: {e}")))?;
                original = Some(bytes);
                archive
                    .files
                    .into_iter()
                    .map(|f| (f.path, f.data))
                    .collect()
            } else if let Some(d) = &v.dir {
                source.files_below(d).map_err(|e| ScenarioError::Read {
                    scenario: scenario.clone(),
                    path: d.clone(),
                    source: e,
                })?
            } else if let Some(b) = &v.base {
                let (bn, bv) = split_spec(b)
                    .ok_or_else(|| invalid(format!("base {b:?} is not name@version")))?;
                let Some(base) = built.get(&(bn.to_string(), bv.to_string())) else {
                    still.push(v);
                    continue;
                };
                let mut files: BTreeMap<String, Vec<u8>> = base.files.iter().cloned().collect();
                if let Some(o) = &v.overlay {
                    for (p, data) in source.files_below(o).map_err(|e| ScenarioError::Read {
                        scenario: scenario.clone(),
                        path: o.clone(),
                        source: e,
                    })? {
                        files.insert(p, data);
                    }
                }
                files.into_iter().collect()
            } else {
                return Err(invalid(format!(
                    "{}@{}: needs one of tarball, dir or base",
                    v.name, v.version
                )));
            };
            let b = build(v, files, original)
                .map_err(|m| invalid(format!("{}@{}: {m}", v.name, v.version)))?;
            built.insert((v.name.clone(), v.version.clone()), b);
        }
        if still.len() == before {
            let names: Vec<String> = still
                .iter()
                .map(|v| format!("{}@{}", v.name, v.version))
                .collect();
            return Err(invalid(format!(
                "base versions missing for {}",
                names.join(", ")
            )));
        }
        pending = still;
    }

    let write = |path: &Path, bytes: &[u8]| -> Result<(), ScenarioError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ScenarioError::Write {
                scenario: scenario.clone(),
                path: parent.display().to_string(),
                source: e,
            })?;
        }
        std::fs::write(path, bytes).map_err(|e| ScenarioError::Write {
            scenario: scenario.clone(),
            path: path.display().to_string(),
            source: e,
        })
    };

    // Registry: one packument per name, tarballs beside it.
    let registry = out.join("registry");
    let mut names: BTreeMap<&str, Vec<&VersionSpec>> = BTreeMap::new();
    for v in &spec.versions {
        names.entry(v.name.as_str()).or_default().push(v);
    }
    for (name, versions) in &names {
        let pkg = PackageName::new(name).map_err(|e| invalid(e.to_string()))?;
        let mut vmap = Map::new();
        let mut time = Map::new();
        let mut latest: Option<node_semver::Version> = None;
        for (i, v) in versions.iter().enumerate() {
            let b = &built[&(v.name.clone(), v.version.clone())];
            let file = pkg.tarball_file_name(&v.version);
            write(&registry.join(name).join("-").join(&file), &b.tgz)?;
            let mut doc = b.manifest.clone();
            doc.insert("_id".into(), json!(format!("{name}@{}", v.version)));
            doc.insert(
                "dist".into(),
                json!({
                    "tarball": format!("{TARBALL_HOST}/{name}/-/{file}"),
                    "integrity": b.integrity.to_string(),
                    "shasum": sha1_hex(&b.tgz),
                    "fileCount": b.files.len(),
                    "unpackedSize": b.files.iter().map(|(_, d)| d.len()).sum::<usize>(),
                }),
            );
            if let Some(u) = &v.npm_user {
                doc.insert("_npmUser".into(), json!({"name": u.name, "email": u.email}));
            }
            if !v.maintainers.is_empty() {
                doc.insert(
                    "maintainers".into(),
                    Value::Array(
                        v.maintainers
                            .iter()
                            .map(|m| json!({"name": m.name, "email": m.email}))
                            .collect(),
                    ),
                );
            }
            vmap.insert(v.version.clone(), Value::Object(doc));
            let published = v
                .published
                .clone()
                .unwrap_or_else(|| format!("2026-01-{:02}T00:00:00.000Z", (i % 28) + 1));
            time.insert(v.version.clone(), json!(published));
            if let Ok(sv) = v.version.parse::<node_semver::Version>()
                && sv.pre_release.is_empty()
                && latest.as_ref().is_none_or(|l| &sv > l)
            {
                latest = Some(sv);
            }
        }
        let mut times: Vec<&str> = time.values().filter_map(Value::as_str).collect();
        times.sort_unstable();
        let created = times.first().map(|s| s.to_string()).unwrap_or_default();
        let modified = times.last().map(|s| s.to_string()).unwrap_or_default();
        time.insert("created".into(), json!(created));
        time.insert("modified".into(), json!(modified));
        let last = versions
            .last()
            .map(|v| v.version.clone())
            .unwrap_or_default();
        let latest = latest.map(|l| l.to_string()).unwrap_or(last);
        let maintainers = versions
            .iter()
            .rev()
            .find(|v| !v.maintainers.is_empty())
            .map(|v| {
                v.maintainers
                    .iter()
                    .map(|m| json!({"name": m.name, "email": m.email}))
                    .collect()
            })
            .unwrap_or_else(Vec::new);
        let packument = json!({
            "_id": name,
            "name": name,
            "dist-tags": {"latest": latest},
            "versions": vmap,
            "time": time,
            "maintainers": maintainers,
        });
        write(
            &registry.join(name).join("index.json"),
            serde_json::to_string_pretty(&packument)
                .unwrap_or_default()
                .as_bytes(),
        )?;
    }

    let lock = |deps: &BTreeMap<String, String>| -> Result<Value, ScenarioError> {
        package_lock(deps, &built).map_err(&invalid)
    };
    let base_dir = out.join("base");
    let head_dir = out.join("head");
    let mut pairs: Vec<(PathBuf, &ProjectSpec)> = vec![
        (base_dir.clone(), &spec.base),
        (head_dir.clone(), &spec.head),
    ];
    let mut controls = Vec::new();
    for (i, c) in spec.controls.iter().enumerate() {
        let dir = out.join(format!("control-{}", i + 1));
        pairs.push((dir.join("base"), &c.base));
        pairs.push((dir.join("head"), &c.head));
        controls.push(LockfilePair {
            description: c.description.clone(),
            base_lockfile: dir.join("base/package-lock.json"),
            head_lockfile: dir.join("head/package-lock.json"),
            expect: c.expect.clone(),
        });
    }
    for (dir, project) in pairs {
        let lockfile = lock(&project.dependencies)?;
        write(
            &dir.join("package-lock.json"),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&lockfile).unwrap_or_default()
            )
            .as_bytes(),
        )?;
        let manifest = json!({
            "name": "demo-app",
            "version": "1.0.0",
            "private": true,
            "dependencies": project.dependencies,
        });
        write(
            &dir.join("package.json"),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&manifest).unwrap_or_default()
            )
            .as_bytes(),
        )?;
    }
    Ok(Materialized {
        spec,
        registry,
        base_lockfile: base_dir.join("package-lock.json"),
        head_lockfile: head_dir.join("package-lock.json"),
        controls,
    })
}

/// `name@version` (the name may be scoped).
pub fn split_spec(s: &str) -> Option<(&str, &str)> {
    let i = s
        .char_indices()
        .skip(1)
        .filter(|(_, c)| *c == '@')
        .last()?
        .0;
    Some((&s[..i], &s[i + 1..])).filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

fn sha1_hex(bytes: &[u8]) -> String {
    let mut c = turncoat_npm::IntegrityChecker::new(turncoat_npm::Algorithm::Sha1);
    c.update(bytes);
    c.result().hex()
}

/// Pack a version. A real tarball (`original`) is served byte for byte, so its integrity is the
/// one the public registry publishes; everything else is packed here with `name` and `version`
/// set in its package.json.
fn build(
    v: &VersionSpec,
    files: Vec<(String, Vec<u8>)>,
    original: Option<Vec<u8>>,
) -> Result<Built, String> {
    let mut files: BTreeMap<String, Vec<u8>> = files.into_iter().collect();
    let pj = files.get("package.json").ok_or("no package.json")?;
    let mut manifest: Map<String, Value> = match serde_json::from_slice(pj) {
        Ok(Value::Object(m)) => m,
        _ => return Err("package.json is not a JSON object".into()),
    };
    if let Some(tgz) = original {
        let integrity = Integrity::sha512_of(&tgz);
        return Ok(Built {
            files: files.into_iter().collect(),
            manifest,
            tgz,
            integrity,
        });
    }
    manifest.insert("name".into(), json!(v.name));
    manifest.insert("version".into(), json!(v.version));
    let pj = format!(
        "{}\n",
        serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?
    );
    files.insert("package.json".into(), pj.into_bytes());
    let files: Vec<(String, Vec<u8>)> = files.into_iter().collect();
    let tgz = pack(&files).map_err(|e| e.to_string())?;
    let integrity = Integrity::sha512_of(&tgz);
    Ok(Built {
        files,
        manifest,
        tgz,
        integrity,
    })
}

/// Pack files as npm does: `package/` prefix, fixed mtime, sorted.
pub fn pack(files: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(if path.starts_with("bin/") {
            0o755
        } else {
            0o644
        });
        header.set_mtime(NPM_MTIME);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("package/{path}"), data.as_slice())?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// A package-lock.json v3 for root `deps`, adding every dependency transitively (highest
/// available version satisfying each range; nested when a name is already taken).
fn package_lock(
    deps: &BTreeMap<String, String>,
    built: &BTreeMap<(String, String), Built>,
) -> Result<Value, String> {
    let mut packages = Map::new();
    packages.insert(
        String::new(),
        json!({"name": "demo-app", "version": "1.0.0", "dependencies": deps}),
    );
    // (install path, name, version) work list.
    let mut queue: Vec<(String, String, String)> = deps
        .iter()
        .map(|(n, v)| (format!("node_modules/{n}"), n.clone(), v.clone()))
        .collect();
    let mut guard = 0;
    while let Some((path, name, version)) = queue.pop() {
        guard += 1;
        if guard > 10_000 {
            return Err("dependency graph too large".into());
        }
        if packages.contains_key(&path) {
            continue;
        }
        let Some(b) = built.get(&(name.clone(), version.clone())) else {
            return Err(format!(
                "{name}@{version} is locked but not listed as a [[version]]"
            ));
        };
        let mut entry = Map::new();
        entry.insert("version".into(), json!(version));
        let pkg = PackageName::new(&name).map_err(|e| e.to_string())?;
        entry.insert(
            "resolved".into(),
            json!(format!(
                "{TARBALL_HOST}/{name}/-/{}",
                pkg.tarball_file_name(&version)
            )),
        );
        entry.insert("integrity".into(), json!(b.integrity.to_string()));
        let manifest = turncoat_npm::Manifest::from_value(&Value::Object(b.manifest.clone()));
        let has_gyp = b.files.iter().any(|(p, _)| p == "binding.gyp");
        if !manifest.install_hooks(has_gyp).is_empty() {
            entry.insert("hasInstallScript".into(), json!(true));
        }
        let mut child_deps = Map::new();
        let mut optional = Map::new();
        for (kind, map) in [
            ("dep", &manifest.dependencies),
            ("opt", &manifest.optional_dependencies),
        ] {
            for (dn, range) in map {
                if kind == "opt" {
                    optional.insert(dn.clone(), json!(range));
                } else {
                    child_deps.insert(dn.clone(), json!(range));
                }
                let top = format!("node_modules/{dn}");
                if is_git_spec(range) {
                    if !packages.contains_key(&top) {
                        packages.insert(
                            top,
                            json!({
                                "version": "0.0.0",
                                "resolved": git_resolved(range),
                                "optional": kind == "opt",
                            }),
                        );
                    }
                    continue;
                }
                let chosen = pick(dn, range, built).ok_or_else(|| {
                    format!(
                        "{name}@{version} depends on {dn}@{range}, which no [[version]] satisfies"
                    )
                })?;
                let taken = packages
                    .get(&top)
                    .and_then(|e| e.get("version"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| {
                        queue
                            .iter()
                            .find(|(p, _, _)| p == &top)
                            .map(|(_, _, v)| v.clone())
                    });
                let dest = match taken {
                    Some(v) if v != chosen => format!("{path}/node_modules/{dn}"),
                    _ => top,
                };
                queue.push((dest, dn.clone(), chosen));
            }
        }
        if !child_deps.is_empty() {
            entry.insert("dependencies".into(), Value::Object(child_deps));
        }
        if !optional.is_empty() {
            entry.insert("optionalDependencies".into(), Value::Object(optional));
        }
        packages.insert(path, Value::Object(entry));
    }
    // Stable order: root first, then by path.
    let mut sorted: Vec<(String, Value)> = packages.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(json!({
        "name": "demo-app",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": true,
        "packages": Map::from_iter(sorted),
    }))
}

fn is_git_spec(range: &str) -> bool {
    range.starts_with("git") || range.starts_with("github:") || range.contains(".git#") || {
        // `owner/repo#ref` shorthand
        let r = range.split('#').next().unwrap_or_default();
        r.contains('/') && !r.starts_with('@') && !r.contains(':') && !r.starts_with('.')
    }
}

fn git_resolved(spec: &str) -> String {
    let spec = spec.trim_start_matches("github:");
    if spec.starts_with("git") {
        return spec.to_string();
    }
    let (repo, rev) = spec.split_once('#').unwrap_or((spec, "HEAD"));
    format!("git+ssh://git@github.com/{repo}.git#{rev}")
}

fn pick(name: &str, range: &str, built: &BTreeMap<(String, String), Built>) -> Option<String> {
    let range = node_semver::Range::parse(range).ok()?;
    built
        .keys()
        .filter(|(n, _)| n == name)
        .filter_map(|(_, v)| v.parse::<node_semver::Version>().ok())
        .filter(|v| range.satisfies(v))
        .max()
        .map(|v| v.to_string())
}
