//! `turncoat index` and `turncoat incident` on a generated organisation: 54 git repositories
//! with package-lock, yarn, pnpm and bun lockfiles, branches, workflows with and without
//! `--ignore-scripts` and secrets references. The expected scope, executions and rotation
//! list are computed from the generator's rules, not from turncoat's output. Every check runs
//! on SQLite and, with `TURNCOAT_TEST_POSTGRES`, on PostgreSQL, and both must agree.
#![allow(clippy::print_stderr)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_turncoat");
const REPOS: usize = 54;
const BAD: &str = "3.1.5";
const GOOD: &str = "3.1.4";
const PKG: &str = "secure-data-sanitizer";
/// A token committed to one repository's .npmrc: it must never appear in any output.
const LEAKED: &str = "npm_LEAKEDVALUE0123456789";
const NOW: &str = "2026-12-07T12:00:00Z";

fn git_available() -> bool {
    Command::new("git").arg("--version").output().is_ok()
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        // Fixed dates: both backends' organisations get the same commit ids.
        .env("GIT_AUTHOR_DATE", "2026-12-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-12-01T00:00:00Z")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fmt {
    Npm,
    Yarn,
    Pnpm,
    Bun,
}

/// What the generator decided for repository `i`.
struct Plan {
    name: String,
    fmt: Fmt,
    /// The lockfile's folder inside the repository ("" or "web").
    dir: &'static str,
    direct: bool,
    main_bad: bool,
    feature: bool,
    old: bool,
    /// 0: `npm ci` + NPM_TOKEN; 1: `npm ci --ignore-scripts` + AWS key; 2: no install;
    /// 3: `yarn install` + SLACK_WEBHOOK + id-token: write.
    workflow: usize,
    npmrc: bool,
    leaked: bool,
}

fn plan(i: usize) -> Plan {
    Plan {
        name: format!("r{i:02}"),
        fmt: [Fmt::Npm, Fmt::Yarn, Fmt::Pnpm, Fmt::Bun][i % 4],
        dir: if i % 9 == 4 { "web" } else { "" },
        direct: i.is_multiple_of(2),
        main_bad: i.is_multiple_of(3),
        feature: i.is_multiple_of(5),
        old: i % 10 == 1,
        workflow: (i / 2) % 4,
        npmrc: i.is_multiple_of(6),
        leaked: i == 9,
    }
}

impl Plan {
    fn lockfile_name(&self) -> &'static str {
        match self.fmt {
            Fmt::Npm => "package-lock.json",
            Fmt::Yarn => "yarn.lock",
            Fmt::Pnpm => "pnpm-lock.yaml",
            Fmt::Bun => "bun.lock",
        }
    }

    fn lockfile_path(&self) -> String {
        if self.dir.is_empty() {
            self.lockfile_name().to_string()
        } else {
            format!("{}/{}", self.dir, self.lockfile_name())
        }
    }

    /// The lockfile text and the 1-based line of the PKG entry.
    fn lockfile(&self, v: &str) -> (String, u32) {
        let sri = |s: &str| format!("sha512-{}", s.replace(['.', '-'], "x"));
        let url = |n: &str, v: &str| format!("https://registry.npmjs.org/{n}/-/{n}-{v}.tgz");
        let root_dep = if self.direct { PKG } else { "wrapper-lib" };
        let text = match self.fmt {
            Fmt::Npm => format!(
                "{{\n  \"name\": \"{n}\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {{\n    \"\": {{\n      \"name\": \"{n}\",\n      \"dependencies\": {{ \"{root_dep}\": \"^1.0.0\", \"left-pad\": \"^1.3.0\" }}\n    }},\n    \"node_modules/left-pad\": {{\n      \"version\": \"1.3.0\",\n      \"resolved\": \"{lpu}\",\n      \"integrity\": \"{lps}\"\n    }},\n    \"node_modules/wrapper-lib\": {{\n      \"version\": \"1.0.0\",\n      \"resolved\": \"{wu}\",\n      \"integrity\": \"{ws}\",\n      \"dependencies\": {{ \"{PKG}\": \"^3.1.0\" }}\n    }},\n    \"node_modules/{PKG}\": {{\n      \"version\": \"{v}\",\n      \"resolved\": \"{pu}\",\n      \"integrity\": \"{ps}\",\n      \"hasInstallScript\": true\n    }}\n  }}\n}}\n",
                n = self.name,
                lpu = url("left-pad", "1.3.0"),
                lps = sri("left-pad-1.3.0"),
                wu = url("wrapper-lib", "1.0.0"),
                ws = sri("wrapper-lib-1.0.0"),
                pu = url(PKG, v),
                ps = sri(&format!("{PKG}-{v}")),
            ),
            Fmt::Yarn => format!(
                "# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n  resolved \"{lpu}\"\n  integrity {lps}\n\n{PKG}@^3.1.0:\n  version \"{v}\"\n  resolved \"{pu}\"\n  integrity {ps}\n\nwrapper-lib@^1.0.0:\n  version \"1.0.0\"\n  resolved \"{wu}\"\n  integrity {ws}\n  dependencies:\n    {PKG} \"^3.1.0\"\n",
                lpu = url("left-pad", "1.3.0"),
                lps = sri("left-pad-1.3.0"),
                wu = url("wrapper-lib", "1.0.0"),
                ws = sri("wrapper-lib-1.0.0"),
                pu = url(PKG, v),
                ps = sri(&format!("{PKG}-{v}")),
            ),
            Fmt::Pnpm => {
                let root_ver = if self.direct { v } else { "1.0.0" };
                format!(
                    "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    dependencies:\n      left-pad:\n        specifier: ^1.3.0\n        version: 1.3.0\n      {root_dep}:\n        specifier: ^1.0.0\n        version: {root_ver}\n\npackages:\n\n  left-pad@1.3.0:\n    resolution: {{integrity: {lps}}}\n\n  {PKG}@{v}:\n    resolution: {{integrity: {ps}}}\n\n  wrapper-lib@1.0.0:\n    resolution: {{integrity: {ws}}}\n\nsnapshots:\n\n  left-pad@1.3.0: {{}}\n\n  {PKG}@{v}: {{}}\n\n  wrapper-lib@1.0.0:\n    dependencies:\n      {PKG}: {v}\n",
                    lps = sri("left-pad-1.3.0"),
                    ws = sri("wrapper-lib-1.0.0"),
                    ps = sri(&format!("{PKG}-{v}")),
                )
            }
            Fmt::Bun => format!(
                "{{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {{\n    \"\": {{\n      \"name\": \"{n}\",\n      \"dependencies\": {{\n        \"left-pad\": \"^1.3.0\",\n        \"{root_dep}\": \"^1.0.0\",\n      }},\n    }},\n  }},\n  \"packages\": {{\n    \"left-pad\": [\"left-pad@1.3.0\", \"\", {{}}, \"{lps}\"],\n\n    \"{PKG}\": [\"{PKG}@{v}\", \"\", {{}}, \"{ps}\"],\n\n    \"wrapper-lib\": [\"wrapper-lib@1.0.0\", \"\", {{ \"dependencies\": {{ \"{PKG}\": \"^3.1.0\" }} }}, \"{ws}\"],\n  }}\n}}\n",
                n = self.name,
                lps = sri("left-pad-1.3.0"),
                ws = sri("wrapper-lib-1.0.0"),
                ps = sri(&format!("{PKG}-{v}")),
            ),
        };
        let marker = match self.fmt {
            Fmt::Npm => format!("\"node_modules/{PKG}\""),
            Fmt::Yarn => format!("{PKG}@^3.1.0:"),
            Fmt::Pnpm => format!("  {PKG}@{v}:"),
            Fmt::Bun => format!("\"{PKG}\": ["),
        };
        let line = text
            .lines()
            .position(|l| l.starts_with(&marker) || l.trim_start().starts_with(marker.trim_start()))
            .expect("marker") as u32
            + 1;
        (text, line)
    }

    fn workflow_text(&self) -> String {
        match self.workflow {
            0 => "name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci\n      - run: npm test\n".into(),
            1 => "name: build\non: push\npermissions:\n  contents: read\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm ci --ignore-scripts\n      - run: aws s3 sync dist s3://bucket\n        env:\n          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n".into(),
            2 => "name: lint\non: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo no install here\n".into(),
            _ => "name: e2e\non: push\npermissions:\n  id-token: write\n  contents: read\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n      - run: yarn install --frozen-lockfile\n      - run: ./notify.sh\n        env:\n          HOOK: ${{ secrets.SLACK_WEBHOOK }}\n".into(),
        }
    }

    fn job(&self) -> Option<&'static str> {
        [Some("test"), Some("build"), None, Some("e2e")][self.workflow]
    }

    fn workflow_file(&self) -> String {
        let n = ["ci", "build", "lint", "e2e"][self.workflow];
        format!(".github/workflows/{n}.yml")
    }
}

fn write(repo: &Path, rel: &str, text: &str) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Build the organisation under `root`; the paths of its repositories.
fn generate(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for i in 0..REPOS {
        let p = plan(i);
        let repo = root.join(&p.name);
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        write(&repo, &p.workflow_file(), &p.workflow_text());
        if p.npmrc {
            write(
                &repo,
                ".npmrc",
                "//registry.npmjs.org/:_authToken=${NPM_PUBLISH}\n",
            );
        }
        if p.leaked {
            write(
                &repo,
                ".npmrc",
                &format!("//registry.npmjs.org/:_authToken={LEAKED}\n"),
            );
        }
        let v = if p.main_bad { BAD } else { GOOD };
        write(&repo, &p.lockfile_path(), &p.lockfile(v).0);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "init"]);
        if p.feature {
            git(&repo, &["checkout", "-q", "-b", "feature"]);
            write(&repo, &p.lockfile_path(), &p.lockfile(BAD).0);
            write(&repo, "feature.txt", "x");
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-q", "-m", "feature"]);
            git(&repo, &["checkout", "-q", "main"]);
        }
        if p.old {
            git(&repo, &["branch", "old"]);
        }
        out.push(repo);
    }
    out
}

/// Expected hits: (repo, ref, lockfile, line).
fn expected_scope(root: &Path) -> BTreeSet<(String, String, String, u32)> {
    let mut s = BTreeSet::new();
    for i in 0..REPOS {
        let p = plan(i);
        let repo = std::fs::canonicalize(root.join(&p.name))
            .unwrap()
            .display()
            .to_string();
        let line = p.lockfile(BAD).1;
        if p.main_bad {
            s.insert((repo.clone(), "main".into(), p.lockfile_path(), line));
        }
        if p.old && p.main_bad {
            // `old` was branched from a main that locks the bad version.
            s.insert((repo.clone(), "old".into(), p.lockfile_path(), line));
        }
        if p.feature {
            s.insert((repo, "feature".into(), p.lockfile_path(), line));
        }
    }
    s
}

/// Expected executions: (repo, ref, job, status).
fn expected_executions(root: &Path) -> BTreeSet<(String, String, String, String)> {
    let mut s = BTreeSet::new();
    for i in 0..REPOS {
        let p = plan(i);
        let Some(job) = p.job() else { continue };
        let repo = std::fs::canonicalize(root.join(&p.name))
            .unwrap()
            .display()
            .to_string();
        let status = if p.workflow == 1 {
            "scripts-off"
        } else if p.fmt == Fmt::Npm {
            // package-lock records hasInstallScript: the script ran.
            "ran"
        } else {
            // yarn classic, pnpm v9 and bun do not record install scripts: fail closed.
            "may-have-run"
        };
        for (r, on) in [
            ("main", p.main_bad),
            ("feature", p.feature),
            ("old", p.old && p.main_bad),
        ] {
            if on {
                s.insert((
                    repo.clone(),
                    r.to_string(),
                    job.to_string(),
                    status.to_string(),
                ));
            }
        }
    }
    s
}

/// Expected rotation list, in order: (name, kind).
fn expected_rotation() -> Vec<(String, String)> {
    // name -> (kind rank, kind, executed anywhere, number of scoped jobs using it)
    let mut m: BTreeMap<String, (u8, &str, bool, usize)> = BTreeMap::new();
    for i in 0..REPOS {
        let p = plan(i);
        if p.job().is_none() {
            continue;
        }
        let refs =
            usize::from(p.main_bad) + usize::from(p.feature) + usize::from(p.old && p.main_bad);
        if refs == 0 {
            continue;
        }
        let ran = p.workflow != 1;
        let mut creds: Vec<(&str, u8, &str)> = match p.workflow {
            0 => vec![("NPM_TOKEN", 0, "publish-token")],
            1 => vec![("AWS_SECRET_ACCESS_KEY", 1, "cloud")],
            _ => vec![
                ("SLACK_WEBHOOK", 3, "secret"),
                ("OIDC id-token", 1, "cloud"),
            ],
        };
        creds.push(("GITHUB_TOKEN", 4, "github-token"));
        if p.npmrc {
            creds.push(("NPM_PUBLISH", 0, "publish-token"));
        }
        if p.leaked {
            creds.push(("_authToken committed in .npmrc", 0, "publish-token"));
        }
        for (name, rank, kind) in creds {
            let e = m.entry(name.to_string()).or_insert((rank, kind, false, 0));
            e.2 |= ran;
            e.3 += refs;
        }
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| {
        (a.1.0, !a.1.2, std::cmp::Reverse(a.1.3), &a.0).cmp(&(
            b.1.0,
            !b.1.2,
            std::cmp::Reverse(b.1.3),
            &b.0,
        ))
    });
    v.into_iter()
        .map(|(n, (_, k, _, _))| (n, k.to_string()))
        .collect()
}

fn run(cwd: &Path, db: &str, args: &[&str]) -> Output {
    let home = cwd.join("home");
    std::fs::create_dir_all(&home).unwrap();
    Command::new(BIN)
        .args(args)
        .arg("--database")
        .arg(db)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .env("TURNCOAT_NOW", NOW)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run turncoat")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(o: &Output, code: i32) -> String {
    assert_eq!(
        o.status.code(),
        Some(code),
        "--- stdout\n{}\n--- stderr\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(!text(&o.stdout).contains(LEAKED) && !text(&o.stderr).contains(LEAKED));
    text(&o.stdout)
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o, 0)).expect("JSON")
}

/// A fresh PostgreSQL database URL, or None (skip) when no server is configured.
fn postgres(test: &str) -> Option<String> {
    let Ok(dsn) = std::env::var("TURNCOAT_TEST_POSTGRES") else {
        assert!(
            std::env::var("TURNCOAT_TEST_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "TURNCOAT_TEST_POSTGRES is not set and TURNCOAT_TEST_REQUIRE_TOOLS=1"
        );
        eprintln!("skipping {test} on PostgreSQL: TURNCOAT_TEST_POSTGRES is not set");
        return None;
    };
    let db = format!("cli_{test}_{}", std::process::id());
    let mut admin = postgres_admin(&dsn);
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        admin(&sql);
    }
    let base = dsn.rsplit_once('/').map(|(b, _)| b).unwrap_or(&dsn);
    Some(format!("{base}/{db}"))
}

/// Run SQL through psql (the CLI crate does not link a PostgreSQL client).
fn postgres_admin(dsn: &str) -> impl FnMut(&str) + '_ {
    move |sql: &str| {
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let out = Command::new("psql")
            .args([dsn, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql (install postgresql-client)");
        assert!(out.status.success(), "psql {sql}: {}", text(&out.stderr));
    }
}

fn databases(dir: &Path, test: &str) -> Vec<String> {
    let mut v = vec![dir.join("store.sqlite").display().to_string()];
    v.extend(postgres(test));
    v
}

fn hits_of(v: &Value) -> BTreeSet<(String, String, String, u32)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["repo"].as_str().unwrap().to_string(),
                h["ref"].as_str().unwrap().to_string(),
                h["lockfile"].as_str().unwrap().to_string(),
                h["line"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

/// The whole flow on one database; returns the JSON answers to compare across backends.
fn scenario(root: &Path, repos: &[PathBuf], db: &str) -> Vec<Value> {
    let paths: Vec<String> = repos.iter().map(|p| p.display().to_string()).collect();
    let mut add: Vec<&str> = vec!["index", "add", "--format", "json"];
    add.extend(paths.iter().map(String::as_str));
    let first = json(&run(root, db, &add));
    let refs_read: u64 = first["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["refs_indexed"].as_u64().unwrap())
        .sum();
    let expected_refs = (0..REPOS)
        .map(|i| {
            let p = plan(i);
            1 + usize::from(p.feature) + usize::from(p.old)
        })
        .sum::<usize>();
    assert_eq!(refs_read as usize, expected_refs);

    // Incremental: nothing changed, nothing read.
    let again = json(&run(root, db, &add));
    for p in again["paths"].as_array().unwrap() {
        assert_eq!(p["refs_indexed"], 0, "{p}");
        assert_eq!(p["packages_written"], 0, "{p}");
    }

    // who-has: exact, range, integrity.
    let want = expected_scope(root);
    let exact = json(&run(
        root,
        db,
        &[
            "index",
            "who-has",
            &format!("{PKG}@{BAD}"),
            "--format",
            "json",
        ],
    ));
    assert_eq!(hits_of(&exact["hits"]), want);
    for h in exact["hits"].as_array().unwrap() {
        let i: usize = Path::new(h["repo"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()[1..]
            .parse()
            .unwrap();
        let p = plan(i);
        let tail = if p.direct {
            format!("> {PKG}")
        } else {
            format!("wrapper-lib > {PKG}")
        };
        let path = h["dep_path"].as_str().unwrap();
        assert!(
            path.ends_with(&tail) || (p.direct && path == PKG),
            "{path} for {}",
            p.name
        );
        if p.fmt == Fmt::Npm {
            let root_label = if p.direct {
                format!("{} > {PKG}", p.name)
            } else {
                format!("{} > wrapper-lib > {PKG}", p.name)
            };
            assert_eq!(path, root_label);
        }
    }
    let range = json(&run(
        root,
        db,
        &[
            "index",
            "who-has",
            &format!("{PKG}@>3.1.4 <4"),
            "--format",
            "json",
        ],
    ));
    assert_eq!(hits_of(&range["hits"]), want);
    let sri = format!("sha512-{}", format!("{PKG}-{BAD}").replace(['.', '-'], "x"));
    let by_sri = json(&run(
        root,
        db,
        &["index", "who-has", &sri, "--format", "json"],
    ));
    assert_eq!(hits_of(&by_sri["hits"]), want);
    let human = ok(
        &run(root, db, &["index", "who-has", &format!("{PKG}@{BAD}")]),
        0,
    );
    assert_eq!(
        human
            .lines()
            .filter(|l| l.contains(&format!("{PKG}@{BAD}")))
            .count(),
        want.len()
    );

    // incident open.
    let out = root.join("INC-T.md");
    let opened = json(&run(
        root,
        db,
        &[
            "incident",
            "open",
            &format!("{PKG}@{BAD}"),
            "--id",
            "INC-T",
            "--since",
            "2026-12-07T06:00:00Z",
            "--output",
            &out.display().to_string(),
            "--format",
            "json",
        ],
    ));
    let scope = &opened["scope"];
    let got: BTreeSet<_> = scope["repos"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| hits_of(&r["hits"]))
        .collect();
    assert_eq!(got, want);
    let execs: BTreeSet<(String, String, String, String)> = scope["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["repo"].as_str().unwrap().into(),
                e["ref"].as_str().unwrap().into(),
                e["job"].as_str().unwrap().into(),
                e["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(execs, expected_executions(root));
    let rotation: Vec<(String, String)> = scope["rotation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(rotation, expected_rotation());
    let doc = std::fs::read_to_string(&out).unwrap();
    assert!(!doc.contains(LEAKED));
    assert!(doc.contains("# Incident INC-T"), "{doc}");
    assert!(
        doc.contains("2026-12-07T06:00:00Z | affected version(s)"),
        "{doc}"
    );
    assert_eq!(
        // Scope rows (execution rows name a workflow, not a lockfile).
        doc.lines()
            .filter(|l| l.contains(&format!("| {PKG}@{BAD}")))
            .filter(|l| ["lock.json", "yarn.lock", "lock.yaml", "bun.lock"]
                .iter()
                .any(|n| l.contains(n)))
            .count(),
        want.len(),
        "{doc}"
    );
    assert!(
        doc.contains("- [ ] **NPM_TOKEN** (publish token), exposed where the payload ran"),
        "{doc}"
    );

    // close is refused while the version is still locked.
    let refused = run(root, db, &["incident", "close", "INC-T"]);
    assert!(ok(&refused, 1).contains("refusing to close INC-T"));
    // --force needs a reason.
    assert_eq!(
        run(root, db, &["incident", "close", "INC-T", "--force"])
            .status
            .code(),
        Some(2)
    );

    // Check an item off: recorded with its time.
    ok(&run(root, db, &["incident", "check", "INC-T", "1"]), 0);

    // Fix: good version on main, feature branches deleted; re-index; status re-renders.
    for i in 0..REPOS {
        let p = plan(i);
        let repo = root.join(&p.name);
        if p.feature {
            git(&repo, &["branch", "-q", "-D", "feature"]);
        }
        if p.old && p.main_bad {
            git(&repo, &["branch", "-q", "-D", "old"]);
        }
        if p.main_bad {
            write(&repo, &p.lockfile_path(), &p.lockfile(GOOD).0);
            git(&repo, &["commit", "-q", "-am", "revert"]);
        }
    }
    let third = json(&run(root, db, &add));
    let removed: u64 = third["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["refs_removed"].as_u64().unwrap())
        .sum();
    assert_eq!(
        removed as usize,
        (0..REPOS)
            .map(plan)
            .map(|p| usize::from(p.feature) + usize::from(p.old && p.main_bad))
            .sum::<usize>()
    );
    let status = json(&run(
        root,
        db,
        &["incident", "status", "INC-T", "--format", "json"],
    ));
    assert_eq!(status["scope"]["repos"].as_array().unwrap().len(), 0);
    assert!(status["incident"]["items"][0]["checked_at"].is_i64());
    let doc = std::fs::read_to_string(&out).unwrap();
    assert!(
        doc.contains("No indexed repository locks an affected version"),
        "{doc}"
    );
    assert!(
        // Item 1 (checked above) is the first of the rotation order.
        doc.contains(&format!(
            "- [x] rotate {} (publish token): exposed earlier",
            expected_rotation()[0].0
        )),
        "{doc}"
    );

    ok(&run(root, db, &["incident", "close", "INC-T"]), 0);
    let metrics = json(&run(root, db, &["metrics", "--format", "json"]));
    let ttr: Vec<&Value> = metrics["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["metric"] == "time-to-remediate")
        .collect();
    assert_eq!(ttr.len(), 1);
    assert_eq!(ttr[0]["scope"], "INC-T");
    assert_eq!(ttr[0]["detail"]["event"], "close");
    assert_eq!(ttr[0]["meets_target"], true);

    // Answers to compare across backends (without the store's own location).
    vec![exact, range, scope.clone(), status["scope"].clone()]
}

#[test]
fn a_generated_organisation_end_to_end_on_both_backends() {
    if !git_available() {
        assert!(
            std::env::var("TURNCOAT_TEST_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "git missing"
        );
        eprintln!("SKIPPED: git is not on PATH");
        return;
    }
    let mut answers: Vec<(String, Vec<Value>)> = Vec::new();
    let dbdir = tempfile::tempdir().unwrap();
    for db in databases(dbdir.path(), "org") {
        // A fresh organisation per backend: the scenario changes it.
        let dir = tempfile::tempdir().unwrap();
        let repos = generate(dir.path());
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let mut got = scenario(&root, &repos, &db);
        // Paths differ between the two organisations: compare with the root stripped.
        let prefix = root.display().to_string();
        for v in &mut got {
            *v = serde_json::from_str(&v.to_string().replace(&prefix, "ROOT")).unwrap();
        }
        answers.push((db.split('@').next_back().unwrap_or(&db).to_string(), got));
    }
    for w in answers.windows(2) {
        assert_eq!(w[0].1, w[1].1, "{} and {} differ", w[0].0, w[1].0);
    }
}

#[test]
fn eight_concurrent_index_add_processes_lose_nothing() {
    if !git_available() {
        eprintln!("SKIPPED: git is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repos = generate(dir.path());
    let root = std::fs::canonicalize(dir.path()).unwrap();
    for db in databases(&root, "conc") {
        let children: Vec<_> = (0..8)
            .map(|k| {
                let mut cmd = Command::new(BIN);
                cmd.args(["index", "add", "--database", &db]);
                for (i, r) in repos.iter().enumerate() {
                    if i % 8 == k {
                        cmd.arg(r);
                    }
                }
                cmd.env("HOME", &root)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
        // Every lockfile of every branch holds left-pad@1.3.0 once.
        let v = json(&run(
            &root,
            &db,
            &["index", "who-has", "left-pad@1.3.0", "--format", "json"],
        ));
        let want = (0..REPOS)
            .map(|i| {
                let p = plan(i);
                1 + usize::from(p.feature) + usize::from(p.old)
            })
            .sum::<usize>();
        assert_eq!(v["hits"].as_array().unwrap().len(), want, "{db}");
    }
}
