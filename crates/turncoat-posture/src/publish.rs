//! Publish steps: the steps that upload a release to npm, PyPI or crates.io.
//!
//! A step publishes when it runs a publishing command (`npm publish`, `pnpm -r publish`,
//! `yarn npm publish`, `bun publish`, `lerna publish`, `changeset publish`, `semantic-release`,
//! `twine upload`, `uv publish`, `poetry|hatch|flit|pdm publish`, `cargo publish`) or uses a
//! publishing action (`pypa/gh-action-pypi-publish`, `JS-DevTools/npm-publish`,
//! `changesets/action` with a `publish:` command, `cycjimmy/semantic-release-action`).
//! Shell is read as words per simple command (split at newlines, `;`, `&&`, `||`, `|`), after
//! dropping leading `VAR=value` assignments and runners (`npx`, `pnpm exec`, `yarn dlx`,
//! `bunx`, `python -m`, `pipx run`). A package script (`pnpm run ci-publish`, `yarn release`) or a
//! repository script (`scripts/publish`) counts when its *name* says publish or release: what
//! it runs (package.json, the script file) is not read; see docs/fortify.md.

use serde::Serialize;

use crate::model::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Npm,
    Pypi,
    Crates,
}

/// One publishing command or action found in a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publish {
    pub ecosystem: Ecosystem,
    /// What publishes, e.g. `npm publish`, `pypa/gh-action-pypi-publish`.
    pub tool: String,
    /// The command line or the action, as written (for provenance flags).
    pub command: String,
}

const RUNNERS: &[&[&str]] = &[
    &["npx"],
    &["bunx"],
    &["pnpx"],
    &["pnpm", "exec"],
    &["pnpm", "dlx"],
    &["yarn", "dlx"],
    &["yarn", "exec"],
    &["npm", "exec", "--"],
    &["npm", "exec"],
    &["python", "-m"],
    &["python3", "-m"],
    &["uvx"],
    &["pipx", "run"],
    &["sudo"],
    &["exec"],
];

/// The simple commands of a shell script, as words, with leading `VAR=value` assignments and
/// runners (`npx`, `sudo`, ...) dropped: the reading `turncoat incident` uses to find install
/// commands (`npm ci`, `pnpm i`, `yarn`).
pub fn simple_commands(script: &str) -> Vec<Vec<&str>> {
    commands(script)
}

/// The simple commands of a shell script, as words.
fn commands(script: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    for line in script.split(['\n', ';']) {
        let line = line.split(" #").next().unwrap_or(line);
        for part in line
            .split("&&")
            .flat_map(|p| p.split("||"))
            .flat_map(|p| p.split('|'))
        {
            let mut words: Vec<&str> = part
                .split_whitespace()
                .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == ')'))
                .filter(|w| !w.is_empty())
                .collect();
            while words.first().is_some_and(|w| is_assignment(w)) {
                words.remove(0);
            }
            'strip: loop {
                for r in RUNNERS {
                    if words.len() > r.len() && words[..r.len()] == **r {
                        words.drain(..r.len());
                        // `npx -y pkg` / `npx --yes pkg`
                        while words.first().is_some_and(|w| w.starts_with('-')) {
                            words.remove(0);
                        }
                        continue 'strip;
                    }
                }
                break;
            }
            if !words.is_empty() {
                out.push(words);
            }
        }
    }
    out
}

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Bare tool name: `./node_modules/.bin/semantic-release` → `semantic-release`,
/// `semantic-release@24` → `semantic-release`.
fn tool_name(w: &str) -> &str {
    let w = w.rsplit('/').next().unwrap_or(w);
    match w.strip_prefix('@') {
        Some(_) => w,
        None => w.split('@').next().unwrap_or(w),
    }
}

/// The publishing commands in a shell script.
pub fn in_script(script: &str) -> Vec<Publish> {
    let mut out = Vec::new();
    for words in commands(script) {
        if words.iter().any(|w| *w == "--dry-run" || *w == "--dryrun") {
            continue;
        }
        // `pn` is pnpm's short alias (pnpm 11; pnpm/pnpm's own release workflow publishes with it).
        let first = match tool_name(words[0]) {
            "pn" => "pnpm",
            other => other,
        };
        let has = |w: &str| words[1..].contains(&w);
        // `npm install -g semantic-release` installs it; it publishes nothing.
        let installs = words[1..]
            .iter()
            .find(|w| !w.starts_with('-'))
            .is_some_and(|w| {
                matches!(
                    *w,
                    "install"
                        | "i"
                        | "add"
                        | "ci"
                        | "uninstall"
                        | "remove"
                        | "rm"
                        | "un"
                        | "update"
                        | "up"
                        | "upgrade"
                        | "link"
                )
            });
        let found = match first {
            "changeset" | "changesets" if has("publish") => {
                Some((Ecosystem::Npm, "changeset publish".to_string()))
            }
            "npm" | "pnpm" | "yarn" | "bun" if has("changeset") && has("publish") => {
                Some((Ecosystem::Npm, "changeset publish".to_string()))
            }
            "npm" | "pnpm" | "yarn" | "bun" | "lerna" if has("publish") => {
                Some((Ecosystem::Npm, format!("{first} publish")))
            }
            "semantic-release" | "@semantic-release/cli" => {
                Some((Ecosystem::Npm, "semantic-release".to_string()))
            }
            "npm" | "pnpm" | "yarn" | "bun" if has("semantic-release") && !installs => {
                Some((Ecosystem::Npm, "semantic-release".to_string()))
            }
            "twine" if has("upload") => Some((Ecosystem::Pypi, "twine upload".to_string())),
            "uv" | "poetry" | "hatch" | "flit" | "pdm" if has("publish") => {
                Some((Ecosystem::Pypi, format!("{first} publish")))
            }
            "cargo" if has("publish") => Some((Ecosystem::Crates, "cargo publish".to_string())),
            "npm" | "pnpm" | "yarn" | "bun" => package_script(&words).map(|name| {
                (
                    Ecosystem::Npm,
                    format!("{first} run {name} (package script)"),
                )
            }),
            _ if words[0].contains('/') && is_release_name(first) => {
                Some((Ecosystem::Npm, format!("{} (release script)", words[0])))
            }
            _ => None,
        };
        if let Some((ecosystem, tool)) = found {
            out.push(Publish {
                ecosystem,
                tool,
                command: words.join(" "),
            });
        }
    }
    out
}

/// A package script whose name says it publishes: `pnpm run ci-publish`, `yarn release`.
/// What the script runs is in package.json, which is not read; the name is the evidence.
fn package_script<'a>(words: &[&'a str]) -> Option<&'a str> {
    let mut rest = words.get(1..)?.iter().skip_while(|w| w.starts_with('-'));
    let mut name = *rest.next()?;
    if name == "run" || name == "run-script" {
        name = *rest.find(|w| !w.starts_with('-'))?;
    }
    is_release_name(name).then_some(name)
}

/// `publish`, `release`, `ci-publish`, `release.sh` — not `prerelease-check` or `release-notes`.
fn is_release_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
    stem.split([':', '-', '_'])
        .any(|part| part == "publish" || part == "release")
        && ![
            "notes",
            "check",
            "pr",
            "please",
            "changelog",
            "draft",
            "tag",
            "drafter",
            "docs",
        ]
        .iter()
        .any(|w| stem.split([':', '-', '_']).any(|p| p == *w))
}

/// The ecosystem a release script publishes to, from the credentials it is handed.
fn ecosystem_from_env(step: &Step) -> Ecosystem {
    let keys = step.env.iter().map(|p| p.key.to_ascii_uppercase());
    for k in keys {
        if k.starts_with("TWINE") || k.contains("PYPI") || k.starts_with("UV_PUBLISH") {
            return Ecosystem::Pypi;
        }
        if k.starts_with("CARGO") {
            return Ecosystem::Crates;
        }
    }
    Ecosystem::Npm
}

/// The publishing commands or actions of a step.
pub fn in_step(step: &Step) -> Vec<Publish> {
    let mut out = step.run.as_deref().map(in_script).unwrap_or_default();
    for p in &mut out {
        if p.tool.ends_with("(release script)") {
            p.ecosystem = ecosystem_from_env(step);
        }
    }
    let Some(action) = step.action() else {
        return out;
    };
    let uses = step.uses.clone().unwrap_or_default();
    match action.as_str() {
        "pypa/gh-action-pypi-publish" => out.push(Publish {
            ecosystem: Ecosystem::Pypi,
            tool: "pypa/gh-action-pypi-publish".into(),
            command: uses,
        }),
        "js-devtools/npm-publish" => out.push(Publish {
            ecosystem: Ecosystem::Npm,
            tool: "JS-DevTools/npm-publish".into(),
            command: uses,
        }),
        "cycjimmy/semantic-release-action" => out.push(Publish {
            ecosystem: Ecosystem::Npm,
            tool: "semantic-release".into(),
            command: uses,
        }),
        "changesets/action" => {
            if let Some(cmd) = step.with_value("publish") {
                let mut inner = in_script(cmd);
                if inner.is_empty() {
                    // `publish: pnpm release` (a package script): changesets/action publishes.
                    inner.push(Publish {
                        ecosystem: Ecosystem::Npm,
                        tool: "changesets/action".into(),
                        command: cmd.to_string(),
                    });
                }
                out.extend(inner);
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools(s: &str) -> Vec<String> {
        in_script(s).into_iter().map(|p| p.tool).collect()
    }

    #[test]
    fn publish_commands_are_found() {
        assert_eq!(tools("npm publish --access public"), ["npm publish"]);
        assert_eq!(
            tools("cd pkg && pnpm -r publish --no-git-checks"),
            ["pnpm publish"]
        );
        assert_eq!(tools("yarn npm publish"), ["yarn publish"]);
        assert_eq!(
            tools("NODE_AUTH_TOKEN=x npx -y semantic-release"),
            ["semantic-release"]
        );
        assert_eq!(tools("pnpm changeset publish"), ["changeset publish"]);
        assert_eq!(
            tools("pn publish --filter=!pnpm --access=public --provenance"),
            ["pnpm publish"]
        );
        assert_eq!(tools("python -m twine upload dist/*"), ["twine upload"]);
        assert_eq!(
            tools("pipx run twine upload -u __token__ w/*.whl"),
            ["twine upload"]
        );
        assert_eq!(tools("uv publish"), ["uv publish"]);
        assert_eq!(tools("cargo publish -p foo"), ["cargo publish"]);
        assert_eq!(
            tools("./node_modules/.bin/semantic-release"),
            ["semantic-release"]
        );
    }

    #[test]
    fn lookalikes_are_not_publishing() {
        assert!(tools("npm run release-notes").is_empty());
        assert!(tools("pnpm run build").is_empty());
        assert!(tools("./scripts/build.sh").is_empty());
        assert!(tools("npm publish --dry-run").is_empty());
        assert!(tools("echo npm publish is next").is_empty());
        assert!(tools("cargo build --release").is_empty());
        assert!(tools("npm ci && npm test").is_empty());
        assert!(tools("npm install -g semantic-release @semantic-release/gitlab").is_empty());
        assert!(tools("yarn add -D semantic-release").is_empty());
        assert_eq!(tools("yarn semantic-release"), ["semantic-release"]);
    }
}
