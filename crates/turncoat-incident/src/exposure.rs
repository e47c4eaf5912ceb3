//! Where a payload executed and what it could read: the GitHub Actions jobs of a repository
//! that install dependencies, whether install scripts run there, and the credentials each
//! such job holds.
//!
//! Workflows are parsed by `turncoat-posture` (the parser `turncoat fortify` uses); shell is
//! split into simple commands by its `publish::simple_commands`. Judging is sans-IO:
//! [`judge`] takes the parsed repository and its `.npmrc` files. Reading them from a git
//! ref or a folder is [`load_at_commit`] / [`load_from_dir`].
//!
//! A job's credentials are everything any of its steps references: a payload running in one
//! step can read the runner's memory and files, where the other steps' secrets are (the
//! tj-actions payload dumped the runner process). Token values are never read into a report:
//! only names and the file and line where they are used.

use std::path::Path;

use serde::Serialize;
use turncoat_posture::model::Permissions;
use turncoat_posture::{Job, Repo, Workflow};

use crate::Error;

/// Whether install scripts run in a job's install steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "why", rename_all = "kebab-case")]
pub enum Scripts {
    /// The tool runs dependencies' lifecycle scripts.
    Run,
    /// Off (`--ignore-scripts`, `npm_config_ignore_scripts`, `.npmrc ignore-scripts=true`).
    Off(String),
    /// Depends on the tool's version or an allow-list the repository may set (Bun's
    /// `trustedDependencies`, pnpm 10's `onlyBuiltDependencies`): judged as possibly run.
    Maybe(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallStep {
    /// The command as written, e.g. `npm ci`.
    pub command: String,
    pub line: u32,
    pub scripts: Scripts,
}

/// The classes of credential, in rotation order (publish tokens first: they let a worm
/// publish itself into your packages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredKind {
    /// npm/PyPI/crates.io publish tokens, `.npmrc` auth tokens.
    PublishToken,
    /// Cloud credentials and OIDC (`id-token: write`: cloud roles, trusted publishing).
    Cloud,
    /// GitHub personal access tokens and app keys other than the job's own token.
    GithubPat,
    /// Any other secret the job references.
    Secret,
    /// The job's `GITHUB_TOKEN` (expires with the job; check what it did).
    GithubToken,
}

impl CredKind {
    pub fn label(self) -> &'static str {
        match self {
            CredKind::PublishToken => "publish token",
            CredKind::Cloud => "cloud / OIDC",
            CredKind::GithubPat => "GitHub token",
            CredKind::Secret => "secret",
            CredKind::GithubToken => "GITHUB_TOKEN",
        }
    }
}

/// One credential a job could read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// A secret's name, an env var, `GITHUB_TOKEN`, `OIDC id-token`, an action.
    pub name: String,
    pub kind: CredKind,
    /// `file:line` where it is referenced.
    pub location: String,
    pub note: String,
}

/// A job that installs dependencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobExposure {
    pub workflow: String,
    pub job: String,
    pub line: u32,
    pub installs: Vec<InstallStep>,
    pub credentials: Vec<Credential>,
}

impl JobExposure {
    /// The most permissive scripts state of its install steps.
    pub fn scripts(&self) -> Scripts {
        if let Some(s) = self.installs.iter().find(|i| i.scripts == Scripts::Run) {
            return s.scripts.clone();
        }
        if let Some(s) = self
            .installs
            .iter()
            .find(|i| matches!(i.scripts, Scripts::Maybe(_)))
        {
            return s.scripts.clone();
        }
        self.installs
            .first()
            .map(|i| i.scripts.clone())
            .unwrap_or(Scripts::Off("no install step".into()))
    }
}

/// The files of one repository at one ref that the judgement needs.
#[derive(Debug, Clone, Default)]
pub struct RepoFiles {
    pub repo: Repo,
    /// `.npmrc` files: (path, text).
    pub npmrc: Vec<(String, String)>,
    /// Workflow files that could not be read, with the reason.
    pub skipped: Vec<String>,
}

const MAX_FILE: u64 = 1024 * 1024;

/// Read workflows, composite actions and `.npmrc` files from a commit.
pub fn load_at_commit(repo_path: &Path, commit: &str) -> Result<RepoFiles, Error> {
    let repo = crate::index::open_repo(repo_path)?;
    let id = gix::ObjectId::from_hex(commit.as_bytes())
        .map_err(|e| Error::Git(format!("{commit}: {e}")))?;
    let found = crate::index::find_in_commit(&repo, id, &|dir, name| {
        name == ".npmrc"
            || (dir == ".github/workflows" && (name.ends_with(".yml") || name.ends_with(".yaml")))
            || (dir.starts_with(".github/actions/")
                && (name == "action.yml" || name == "action.yaml"))
    })?;
    let mut files = Vec::new();
    for (path, blob) in found {
        match crate::index::read_blob(&repo, blob, MAX_FILE) {
            Ok(bytes) => files.push((path, bytes)),
            Err(e) => files.push((path, format!("\u{0}{e}").into_bytes())),
        }
    }
    Ok(parse_files(files))
}

/// Read them from a folder.
pub fn load_from_dir(dir: &Path) -> RepoFiles {
    let limits = turncoat_posture::yaml::Limits::default();
    let mut out = RepoFiles::default();
    match turncoat_posture::load_repo(dir, &limits) {
        Ok((repo, skipped)) => {
            out.repo = repo;
            out.skipped = skipped
                .into_iter()
                .map(|s| format!("{}: {}", s.file, s.reason))
                .collect();
        }
        Err(e) => out.skipped.push(e.to_string()),
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(".npmrc")) {
        out.npmrc.push((".npmrc".into(), text));
    }
    out
}

fn parse_files(files: Vec<(String, Vec<u8>)>) -> RepoFiles {
    let limits = turncoat_posture::yaml::Limits::default();
    let mut out = RepoFiles::default();
    for (path, bytes) in files {
        if let Some(err) = bytes.strip_prefix(b"\0") {
            out.skipped
                .push(format!("{path}: {}", String::from_utf8_lossy(err)));
            continue;
        }
        if path.ends_with(".npmrc") {
            out.npmrc
                .push((path, String::from_utf8_lossy(&bytes).into_owned()));
        } else if path.starts_with(".github/workflows/") {
            match turncoat_posture::parse_workflow(&path, &bytes, &limits) {
                Ok(Some(w)) => out.repo.workflows.push(w),
                Ok(None) => {}
                Err(e) => out.skipped.push(e.to_string()),
            }
        } else {
            let uses = format!(
                "./{}",
                path.rsplit_once('/').map(|(d, _)| d).unwrap_or(&path)
            );
            match turncoat_posture::load::parse_action(&path, &uses, &bytes, &limits) {
                Ok(Some(a)) => out.repo.actions.push(a),
                Ok(None) => {}
                Err(e) => out.skipped.push(e.to_string()),
            }
        }
    }
    out
}

/// Every job of the repository that installs dependencies, with its credentials.
pub fn judge(files: &RepoFiles) -> Vec<JobExposure> {
    let root_npmrc_off = files
        .npmrc
        .iter()
        .filter(|(p, _)| p == ".npmrc")
        .any(|(_, t)| npmrc_ignore_scripts(t));
    let mut out = Vec::new();
    for w in &files.repo.workflows {
        for job in &w.jobs {
            let installs = installs_of(&files.repo, w, job, root_npmrc_off);
            if installs.is_empty() {
                continue;
            }
            let mut credentials = credentials_of(&files.repo, w, job);
            credentials.extend(npmrc_tokens(&files.npmrc));
            out.push(JobExposure {
                workflow: w.path.clone(),
                job: job.id.clone(),
                line: job.line,
                installs,
                credentials,
            });
        }
    }
    out
}

fn installs_of(repo: &Repo, w: &Workflow, job: &Job, npmrc_off: bool) -> Vec<InstallStep> {
    let mut out = Vec::new();
    for top in &job.steps {
        for (step, _) in repo.expand(top) {
            let Some(run) = &step.run else { continue };
            let env_off = w
                .env_of(job, step)
                .find_map(|p| env_disables(&p.key, &p.value));
            for words in turncoat_posture::publish::simple_commands(run) {
                let Some(tool) = install_tool(&words) else {
                    continue;
                };
                let flag_off = words
                    .iter()
                    .any(|w| *w == "--ignore-scripts" || *w == "--ignore-scripts=true");
                let scripts = if flag_off {
                    Scripts::Off("--ignore-scripts".into())
                } else if let Some(why) = &env_off {
                    Scripts::Off(why.clone())
                } else if npmrc_off && tool != "bun" {
                    Scripts::Off(".npmrc ignore-scripts=true".into())
                } else if tool == "bun" {
                    Scripts::Maybe(
                        "bun runs dependency scripts only for trustedDependencies".into(),
                    )
                } else if tool == "pnpm" {
                    Scripts::Maybe(
                        "pnpm 10+ runs dependency scripts only for onlyBuiltDependencies".into(),
                    )
                } else {
                    Scripts::Run
                };
                out.push(InstallStep {
                    command: words.join(" "),
                    line: step.run_line.max(step.line),
                    scripts,
                });
            }
        }
    }
    out
}

/// The package manager when `words` is an install command.
fn install_tool(words: &[&str]) -> Option<&'static str> {
    let tool = words.first()?.rsplit('/').next()?;
    // The subcommand is the first word that is neither an option nor an option's value
    // (`npm --prefix web ci`, `yarn --cwd web install`, `pnpm --filter app i`).
    const WITH_VALUE: &[&str] = &[
        "--prefix",
        "-C",
        "--dir",
        "--cwd",
        "--filter",
        "-F",
        "--workspace",
        "-w",
        "--registry",
        "--userconfig",
        "--cache",
        "--loglevel",
    ];
    let mut sub = None;
    let mut rest = words[1..].iter();
    while let Some(w) = rest.next() {
        if WITH_VALUE.contains(w) {
            rest.next();
        } else if !w.starts_with('-') {
            sub = Some(*w);
            break;
        }
    }
    match tool {
        "npm" => matches!(
            sub?,
            "install"
                | "i"
                | "ci"
                | "add"
                | "in"
                | "ins"
                | "inst"
                | "insta"
                | "instal"
                | "isnt"
                | "isnta"
                | "isntal"
                | "isntall"
                | "install-test"
                | "it"
                | "cit"
                | "install-ci-test"
                | "clean-install"
                | "rebuild"
                | "update"
                | "up"
        )
        .then_some("npm"),
        "pnpm" => {
            matches!(sub?, "install" | "i" | "add" | "rebuild" | "update" | "up").then_some("pnpm")
        }
        // A bare `yarn` installs.
        "yarn" => matches!(sub, None | Some("install" | "add" | "upgrade")).then_some("yarn"),
        "bun" => matches!(sub?, "install" | "i" | "add").then_some("bun"),
        _ => None,
    }
}

/// `npm_config_ignore_scripts: true` / `YARN_ENABLE_SCRIPTS: false` in an env.
fn env_disables(key: &str, value: &str) -> Option<String> {
    let v = value.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    let k = key.to_ascii_lowercase();
    let on = v == "true" || v == "1";
    let off = v == "false" || v == "0";
    if (k == "npm_config_ignore_scripts" && on) || (k == "yarn_enable_scripts" && off) {
        return Some(format!("env {key}={value}"));
    }
    None
}

fn npmrc_ignore_scripts(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.split_once('=').is_some_and(|(k, v)| {
            k.trim() == "ignore-scripts" && v.trim().eq_ignore_ascii_case("true")
        })
    })
}

/// Auth entries of `.npmrc` files, by name and line only.
pub fn npmrc_tokens(files: &[(String, String)]) -> Vec<Credential> {
    let mut out = Vec::new();
    for (path, text) in files {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            let field = key.rsplit(':').next().unwrap_or(key);
            if !matches!(field, "_authToken" | "_auth" | "_password") {
                continue;
            }
            let registry = key
                .strip_suffix(field)
                .map(|r| r.trim_end_matches(':').trim_start_matches("//"))
                .filter(|r| !r.is_empty())
                .unwrap_or("default registry");
            let value = value.trim();
            let (name, note) = match value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                Some(var) => (
                    var.to_string(),
                    format!("{field} for {registry}, from env {var}"),
                ),
                None => (
                    format!("{field} committed in {path}"),
                    format!(
                        "{field} for {registry} is committed in the repository: revoke it and remove it from history"
                    ),
                ),
            };
            out.push(Credential {
                name,
                kind: CredKind::PublishToken,
                location: format!("{path}:{}", i + 1),
                note,
            });
        }
    }
    out
}

fn classify(name: &str) -> CredKind {
    let n = name.to_ascii_uppercase();
    if n == "GITHUB_TOKEN" {
        CredKind::GithubToken
    } else if turncoat_posture::expr::is_registry_secret(&n) {
        CredKind::PublishToken
    } else if [
        "AWS",
        "AZURE",
        "ARM_CLIENT",
        "GCP",
        "GOOGLE",
        "GCLOUD",
        "CLOUDFLARE",
    ]
    .iter()
    .any(|c| n.contains(c))
    {
        CredKind::Cloud
    } else if (n.contains("GITHUB") || n.starts_with("GH_") || n.contains("_GH_"))
        && (n.contains("TOKEN") || n.contains("PAT") || n.contains("KEY"))
    {
        CredKind::GithubPat
    } else {
        CredKind::Secret
    }
}

const CLOUD_ACTIONS: &[&str] = &[
    "aws-actions/configure-aws-credentials",
    "google-github-actions/auth",
    "azure/login",
];

fn credentials_of(repo: &Repo, w: &Workflow, job: &Job) -> Vec<Credential> {
    let mut out: Vec<Credential> = Vec::new();
    let mut add = |name: String, kind: CredKind, line: u32, note: String| {
        if !out.iter().any(|c| c.name == name && c.kind == kind) {
            out.push(Credential {
                name,
                kind,
                location: format!("{}:{line}", w.path),
                note,
            });
        }
    };
    let mut texts: Vec<(&str, u32)> = Vec::new();
    for p in w.env.iter().chain(&job.env).chain(&job.secrets) {
        texts.push((&p.value, p.line));
    }
    for top in &job.steps {
        for (step, _) in repo.expand(top) {
            for p in step.env.iter().chain(&step.with) {
                texts.push((&p.value, p.line));
            }
            if let Some(run) = &step.run {
                texts.push((run, step.run_line.max(step.line)));
            }
            if let Some(uses) = &step.uses {
                let action = uses.split('@').next().unwrap_or(uses).to_ascii_lowercase();
                if CLOUD_ACTIONS.contains(&action.as_str()) {
                    add(
                        action.clone(),
                        CredKind::Cloud,
                        step.line,
                        "cloud credentials in the job's environment from this action".into(),
                    );
                }
            }
        }
    }
    for (text, line) in texts {
        for name in turncoat_posture::expr::secrets(text) {
            let kind = classify(&name);
            add(name, kind, line, "referenced by the job".into());
        }
    }
    if job.secrets_inherit {
        add(
            "secrets: inherit".into(),
            CredKind::Secret,
            job.line,
            "every repository and organisation secret is passed to the called workflow".into(),
        );
    }
    let perms = w.job_permissions(job);
    if perms.is_some_and(|p| p.writes("id-token")) {
        add(
            "OIDC id-token".into(),
            CredKind::Cloud,
            job.permissions.as_ref().or(w.permissions.as_ref()).map_or(job.line, |p| p.1),
            "id-token: write: the job can mint OIDC tokens for cloud roles and trusted publishing; review the trust policies".into(),
        );
    }
    let (note, line) = match perms {
        None => (
            "default permissions (the repository's setting: read-only or write-all)".to_string(),
            job.line,
        ),
        Some(p) => (
            github_token_note(p),
            job.permissions
                .as_ref()
                .or(w.permissions.as_ref())
                .map_or(job.line, |p| p.1),
        ),
    };
    add("GITHUB_TOKEN".into(), CredKind::GithubToken, line, note);
    out
}

fn github_token_note(p: &Permissions) -> String {
    match p {
        Permissions::WriteAll => {
            "write-all: expired with the job; audit pushes, releases and workflow changes it made"
                .into()
        }
        Permissions::ReadAll => "read-all".into(),
        Permissions::Scopes(s) => {
            let w: Vec<&str> = s
                .iter()
                .filter(|p| p.value == "write")
                .map(|p| p.key.as_str())
                .collect();
            if w.is_empty() {
                "read-only scopes".into()
            } else {
                format!(
                    "write: {}; expired with the job, audit what it did",
                    w.join(", ")
                )
            }
        }
        Permissions::Other(o) => format!("permissions: {o}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(workflow: &str, npmrc: Option<&str>) -> RepoFiles {
        let mut f = vec![(
            ".github/workflows/ci.yml".to_string(),
            workflow.as_bytes().to_vec(),
        )];
        if let Some(n) = npmrc {
            f.push((".npmrc".to_string(), n.as_bytes().to_vec()));
        }
        parse_files(f)
    }

    #[test]
    fn install_commands_and_scripts() {
        let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: npm ci\n  b:\n    runs-on: x\n    steps:\n      - run: |\n          echo hi && npm  install --ignore-scripts\n  c:\n    runs-on: x\n    env:\n      npm_config_ignore_scripts: 'true'\n    steps:\n      - run: npm ci\n  d:\n    runs-on: x\n    steps:\n      - run: npm test\n      - run: yarn\n  e:\n    runs-on: x\n    steps:\n      - run: npx npm-check\n";
        let j = judge(&files(wf, None));
        let got: Vec<(&str, Scripts)> = j.iter().map(|e| (e.job.as_str(), e.scripts())).collect();
        assert_eq!(
            got,
            vec![
                ("a", Scripts::Run),
                ("b", Scripts::Off("--ignore-scripts".into())),
                (
                    "c",
                    Scripts::Off("env npm_config_ignore_scripts=true".into())
                ),
                ("d", Scripts::Run),
            ]
        );
        // The repository's .npmrc turns scripts off for npm.
        let j = judge(&files(wf, Some("ignore-scripts=true\n")));
        assert_eq!(
            j[0].scripts(),
            Scripts::Off(".npmrc ignore-scripts=true".into())
        );
    }

    #[test]
    fn installs_hidden_from_a_naive_reader_are_found() {
        // Options with values before the subcommand, a shell wrapper, a composite action.
        let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: npm --prefix web ci\n  b:\n    runs-on: x\n    steps:\n      - run: bash -c 'cd web && npm i'\n  c:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/setup\n  d:\n    runs-on: x\n    steps:\n      - run: pnpm --filter app install\n  e:\n    runs-on: x\n    steps:\n      - run: npm run ci\n";
        let action = "runs:\n  using: composite\n  steps:\n    - run: yarn --cwd web install\n      shell: bash\n";
        let f = parse_files(vec![
            (".github/workflows/ci.yml".into(), wf.as_bytes().to_vec()),
            (
                ".github/actions/setup/action.yml".into(),
                action.as_bytes().to_vec(),
            ),
        ]);
        assert!(f.skipped.is_empty(), "{:?}", f.skipped);
        let judged = judge(&f);
        let jobs: Vec<&str> = judged.iter().map(|j| j.job.as_str()).collect();
        // `npm run ci` runs a package script named ci, not an install.
        assert_eq!(jobs, vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn credentials_never_values() {
        let wf = "on: push\npermissions:\n  contents: write\n  id-token: write\njobs:\n  a:\n    runs-on: x\n    env:\n      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n      - run: npm ci\n        env:\n          SLACK: ${{ secrets.SLACK_WEBHOOK }}\n          GH: ${{ secrets.GH_PAT }}\n";
        let npmrc = "//registry.npmjs.org/:_authToken=npm_SECRETVALUE123\n//npm.pkg.github.com/:_authToken=${GH_PKG}\n";
        let j = judge(&files(wf, Some(npmrc)));
        let creds: Vec<(String, CredKind)> = j[0]
            .credentials
            .iter()
            .map(|c| (c.name.clone(), c.kind))
            .collect();
        assert!(
            creds.contains(&("NPM_TOKEN".into(), CredKind::PublishToken)),
            "{creds:?}"
        );
        assert!(creds.contains(&("SLACK_WEBHOOK".into(), CredKind::Secret)));
        assert!(creds.contains(&("GH_PAT".into(), CredKind::GithubPat)));
        assert!(creds.contains(&(
            "aws-actions/configure-aws-credentials".into(),
            CredKind::Cloud
        )));
        assert!(creds.contains(&("OIDC id-token".into(), CredKind::Cloud)));
        assert!(creds.contains(&("GITHUB_TOKEN".into(), CredKind::GithubToken)));
        assert!(creds.contains(&("GH_PKG".into(), CredKind::PublishToken)));
        let all = serde_json::to_string(&j).unwrap();
        assert!(!all.contains("SECRETVALUE"), "a token value leaked: {all}");
        assert!(all.contains(".npmrc:1"));
    }
}
