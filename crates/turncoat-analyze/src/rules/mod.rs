//! The rules: history-relative (`diff`, old version → new version) and single-version (`scan`).
//!
//! One rule per file; each declares its [`RuleDoc`] as `RULE` and its own tests.
//!
//! # What "new" means
//!
//! A capability use is *new* when it sits in code the old version did not have:
//! - every use in a file the old version did not ship (a file that only moved, same content
//!   or same file name in a new directory, is compared with where it came from);
//! - in a changed file, the uses of a `(capability, detail, enclosing top-level declaration)`
//!   key beyond the old file's count for that key, preferring those on lines whose
//!   fingerprint the old file did not have. Counting per key keeps a minified bundle, whose
//!   lines all change on every release, from looking entirely new.
//!
//! Single-capability rules (`new-network`, `new-env-read` …) fire only when the *package*
//! gains the capability (no file of the old version had it), or when install-time code gains
//! it. A package that always read `process.env` and always used `https` stays quiet.
//!
//! # Severity policy
//!
//! Each rule has a base severity ([`RuleDoc::severity`]); [`weigh`] adjusts it per finding:
//! - **install time** (the evidence is in a file an install hook runs, or the modules it
//!   loads): single-capability rules go up one step. Install-time code runs on every
//!   `npm install`, in CI, with the CI's tokens.
//! - **major bump**: single-capability rules go down one step, and correlated rules
//!   (`exfiltration-shape`) too unless the evidence is install-time. Majors legitimately
//!   restructure; a takeover wants the widest reach, which is a patch or a minor that every
//!   caret range picks up.
//! - **patch / minor / prerelease**: base severity. `new-install-script` becomes critical in
//!   a patch or minor when the hook's code newly reaches the network or the environment (the
//!   takeover shape: hook + env + network in x.y.z+1).
//! - Shell-download/DNS hooks, decode-then-execute and obfuscation are never lowered.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use turncoat_finding::{Evidence, Finding, RuleDoc, Severity};
use turncoat_npm::semver::Bump;

use crate::DiffContext;
use crate::facts::{Capability, JsFacts, Occurrence, VersionFacts};

pub(crate) mod appended_long_line;
pub(crate) mod became_minified;
pub(crate) mod bundled_binary;
pub(crate) mod changed_install_script;
pub(crate) mod decode_exec;
pub(crate) mod exfiltration_shape;
pub(crate) mod install_script;
pub(crate) mod install_script_dns;
pub(crate) mod install_script_inline_code;
pub(crate) mod install_script_shell_download;
pub(crate) mod new_bin_entry;
pub(crate) mod new_binary;
pub(crate) mod new_child_process;
pub(crate) mod new_decode_exec;
pub(crate) mod new_dependency;
pub(crate) mod new_destination;
pub(crate) mod new_dns;
pub(crate) mod new_dns_from_data;
pub(crate) mod new_dynamic_require;
pub(crate) mod new_encoded_blob;
pub(crate) mod new_env_dump;
pub(crate) mod new_env_read;
pub(crate) mod new_eval;
pub(crate) mod new_git_dependency;
pub(crate) mod new_hidden_load;
pub(crate) mod new_install_script;
pub(crate) mod new_install_script_inert;
pub(crate) mod new_key_material_send;
pub(crate) mod new_native_capability;
pub(crate) mod new_network;
pub(crate) mod new_obfuscation;
pub(crate) mod new_persistence_write;
pub(crate) mod new_prepare_script;
pub(crate) mod new_request_hook;
pub(crate) mod new_sensitive_read;
pub(crate) mod new_top_level_path;
pub(crate) mod new_url_dependency;
pub(crate) mod obfuscated_code;
pub(crate) mod parse_regression;

/// Most evidence entries attached to one finding.
pub(crate) const MAX_EVIDENCE: usize = 5;

type DiffRule = fn(&DiffCx<'_>, &mut Vec<Finding>);
type ScanRule = fn(&ScanCx<'_>, &mut Vec<Finding>);

/// History-relative rules, in report order.
const DIFF_RULES: &[DiffRule] = &[
    exfiltration_shape::diff,
    new_key_material_send::diff,
    new_install_script::diff,
    changed_install_script::diff,
    install_script_shell_download::diff,
    install_script_dns::diff,
    install_script_inline_code::diff,
    new_decode_exec::diff,
    new_obfuscation::diff,
    appended_long_line::diff,
    new_dns_from_data::diff,
    new_dns::diff,
    new_env_dump::diff,
    new_env_read::diff,
    new_sensitive_read::diff,
    new_persistence_write::diff,
    new_request_hook::diff,
    new_network::diff,
    new_destination::diff,
    new_child_process::diff,
    new_eval::diff,
    new_dynamic_require::diff,
    new_hidden_load::diff,
    new_encoded_blob::diff,
    became_minified::diff,
    parse_regression::diff,
    new_binary::diff,
    new_native_capability::diff,
    new_git_dependency::diff,
    new_url_dependency::diff,
    new_dependency::diff,
    new_bin_entry::diff,
    new_top_level_path::diff,
];

/// Single-version rules.
const SCAN_RULES: &[ScanRule] = &[
    exfiltration_shape::scan,
    install_script_shell_download::scan,
    install_script_dns::scan,
    install_script_inline_code::scan,
    install_script::scan,
    decode_exec::scan,
    obfuscated_code::scan,
    bundled_binary::scan,
];

/// Every rule of this crate, analysis and metadata.
pub(crate) fn docs() -> Vec<&'static RuleDoc> {
    vec![
        &exfiltration_shape::RULE,
        &new_key_material_send::RULE,
        &new_install_script::RULE,
        &new_install_script_inert::RULE,
        &new_prepare_script::RULE,
        &changed_install_script::RULE,
        &install_script_shell_download::RULE,
        &install_script_dns::RULE,
        &install_script_inline_code::RULE,
        &new_decode_exec::RULE,
        &new_obfuscation::RULE,
        &appended_long_line::RULE,
        &new_dns_from_data::RULE,
        &new_dns::RULE,
        &new_env_dump::RULE,
        &new_env_read::RULE,
        &new_sensitive_read::RULE,
        &new_persistence_write::RULE,
        &new_request_hook::RULE,
        &new_network::RULE,
        &new_destination::RULE,
        &new_destination::INSTALL_RULE,
        &new_child_process::RULE,
        &new_eval::RULE,
        &new_dynamic_require::RULE,
        &new_hidden_load::RULE,
        &new_encoded_blob::RULE,
        &became_minified::RULE,
        &parse_regression::RULE,
        &new_binary::RULE,
        &new_binary::PLATFORM_RULE,
        &new_binary::WASM_RULE,
        &new_native_capability::RULE,
        &new_git_dependency::RULE,
        &new_url_dependency::RULE,
        &new_dependency::RULE,
        &new_bin_entry::RULE,
        &new_top_level_path::RULE,
        &install_script::RULE,
        &decode_exec::RULE,
        &obfuscated_code::RULE,
        &bundled_binary::RULE,
    ]
}

pub(crate) fn run_diff(cx: &DiffCx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in DIFF_RULES {
        rule(cx, &mut out);
    }
    out
}

pub(crate) fn run_scan(cx: &ScanCx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in SCAN_RULES {
        rule(cx, &mut out);
    }
    out
}

/// How a rule's severity reacts to context; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    /// One capability on its own.
    Single,
    /// Several capabilities together.
    Correlated,
    /// Never adjusted.
    Fixed,
}

pub(crate) fn raise(s: Severity) -> Severity {
    match s {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

pub(crate) fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

/// The severity policy (module docs).
pub(crate) fn weigh(base: Severity, weight: Weight, bump: Bump, install_time: bool) -> Severity {
    let mut s = base;
    if weight == Weight::Single && install_time {
        s = raise(s);
    }
    if bump == Bump::Major {
        match weight {
            Weight::Single => s = lower(s),
            Weight::Correlated if !install_time => s = lower(s),
            _ => {}
        }
    }
    s
}

/// One capability use in new code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewUse<'a> {
    pub path: &'a str,
    pub occ: &'a Occurrence,
    pub install_time: bool,
}

impl NewUse<'_> {
    pub(crate) fn evidence(&self) -> Evidence {
        Evidence::at(self.path, self.occ.line).with_snippet(&self.occ.snippet)
    }
}

/// Context of a history-relative comparison.
pub(crate) struct DiffCx<'a> {
    pub old: &'a VersionFacts,
    pub new: &'a VersionFacts,
    pub ctx: &'a DiffContext,
    /// New script path → the old script it is compared with (same path, or where it moved
    /// from). Absent: the file is new.
    baselines: HashMap<&'a str, &'a JsFacts>,
}

impl<'a> DiffCx<'a> {
    pub(crate) fn new(old: &'a VersionFacts, new: &'a VersionFacts, ctx: &'a DiffContext) -> Self {
        let mut by_hash: HashMap<&str, &JsFacts> = HashMap::new();
        let mut by_name: HashMap<&str, Vec<&JsFacts>> = HashMap::new();
        for (path, f) in &old.files {
            if let Some(js) = &f.js {
                by_hash.insert(f.blake3.as_str(), js);
                by_name.entry(file_name(path)).or_default().push(js);
            }
        }
        let mut baselines = HashMap::new();
        for (path, f) in &new.files {
            if f.js.is_none() {
                continue;
            }
            let base = old
                .js(path)
                .or_else(|| by_hash.get(f.blake3.as_str()).copied())
                .or_else(|| match by_name.get(file_name(path)).map(Vec::as_slice) {
                    Some([only]) if !old.files.contains_key(path.as_str()) => Some(*only),
                    _ => None,
                });
            if let Some(b) = base {
                baselines.insert(path.as_str(), b);
            }
        }
        DiffCx {
            old,
            new,
            ctx,
            baselines,
        }
    }

    pub(crate) fn bump(&self) -> Bump {
        self.ctx.bump
    }

    /// `name from_version`, for messages.
    pub(crate) fn from(&self) -> String {
        format!("{} {}", self.ctx.name, self.ctx.from_version)
    }

    pub(crate) fn to(&self) -> &str {
        &self.ctx.to_version
    }

    /// The old script `path` is compared with.
    pub(crate) fn baseline(&self, path: &str) -> Option<&'a JsFacts> {
        self.baselines.get(path).copied()
    }

    /// Uses of `cap` in new code, across the package.
    pub(crate) fn new_uses(&self, cap: Capability) -> Vec<NewUse<'a>> {
        let mut out = Vec::new();
        for (path, f) in &self.new.files {
            let Some(js) = &f.js else { continue };
            let unchanged = self
                .old
                .files
                .get(path)
                .is_some_and(|o| o.blake3 == f.blake3);
            if unchanged || !js.has(cap) {
                continue;
            }
            let install_time = self.new.is_install_time(path);
            for occ in new_in_file(js, self.baseline(path), cap) {
                out.push(NewUse {
                    path: path.as_str(),
                    occ,
                    install_time,
                });
            }
        }
        out
    }

    /// Hosts of URL literals anywhere in the old version.
    pub(crate) fn old_hosts(&self) -> BTreeSet<&'a str> {
        self.old
            .scripts()
            .flat_map(|(_, js)| js.hosts.iter().map(String::as_str))
            .collect()
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

type UseKey<'a> = (Option<&'a str>, Option<&'a str>);

fn key(o: &Occurrence) -> UseKey<'_> {
    (o.detail.as_deref(), o.scope.as_deref())
}

/// The occurrences of `cap` in `new` that are not in `old` (see the module docs).
pub(crate) fn new_in_file<'n>(
    new: &'n JsFacts,
    old: Option<&JsFacts>,
    cap: Capability,
) -> Vec<&'n Occurrence> {
    let uses = new.uses(cap);
    let Some(old) = old else {
        return uses.iter().collect();
    };
    let old_uses = old.uses(cap);
    let mut old_counts: BTreeMap<UseKey<'_>, usize> = BTreeMap::new();
    for o in old_uses {
        *old_counts.entry(key(o)).or_default() += 1;
    }
    let old_lines: BTreeSet<&str> = old_uses.iter().map(|o| o.line_hash.as_str()).collect();
    let mut groups: BTreeMap<UseKey<'_>, Vec<&Occurrence>> = BTreeMap::new();
    for o in uses {
        groups.entry(key(o)).or_default().push(o);
    }
    let mut out = Vec::new();
    for (k, group) in groups {
        let excess = group
            .len()
            .saturating_sub(old_counts.get(&k).copied().unwrap_or(0));
        if excess == 0 {
            continue;
        }
        let mut picked: Vec<&Occurrence> = group
            .iter()
            .copied()
            .filter(|o| !old_lines.contains(o.line_hash.as_str()))
            .take(excess)
            .collect();
        if picked.len() < excess {
            for o in group.iter().rev() {
                if picked.len() >= excess {
                    break;
                }
                if !picked.iter().any(|p| std::ptr::eq(*p, *o)) {
                    picked.push(o);
                }
            }
        }
        out.extend(picked);
    }
    out.sort_by_key(|o| (o.line, o.column));
    out
}

/// A single-capability rule: fires when the package, or its install-time code, gains `cap`.
/// `keep` narrows which uses count.
pub(crate) fn capability_rule(
    cx: &DiffCx<'_>,
    rule: &RuleDoc,
    cap: Capability,
    weight: Weight,
    keep: impl Fn(&Occurrence) -> bool,
) -> Option<Finding> {
    let old_any = cx
        .old
        .scripts()
        .any(|(_, js)| js.uses(cap).iter().any(&keep) || (js.has(cap) && js.uses(cap).is_empty()));
    let old_install = cx
        .old
        .scripts()
        .any(|(p, js)| cx.old.is_install_time(p) && js.uses(cap).iter().any(&keep));
    let uses: Vec<NewUse<'_>> = cx
        .new_uses(cap)
        .into_iter()
        .filter(|u| keep(u.occ))
        .collect();
    let (evidence, since): (Vec<NewUse<'_>>, &str) = if !old_any && !uses.is_empty() {
        (uses, "never did")
    } else if !old_install {
        let it: Vec<NewUse<'_>> = uses.into_iter().filter(|u| u.install_time).collect();
        if it.is_empty() {
            return None;
        }
        (it, "did not at install time")
    } else {
        return None;
    };
    let install_time = evidence.iter().any(|u| u.install_time);
    let first = evidence.first()?;
    let detail = first
        .occ
        .detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let when = if install_time { " at install time" } else { "" };
    let more = if evidence.len() > 1 {
        format!(" and {} more place(s)", evidence.len() - 1)
    } else {
        String::new()
    };
    let message = format!(
        "{}:{} {}{detail}{when}{more}; {} {since}",
        first.path,
        first.occ.line,
        cap.describe(),
        cx.from(),
    );
    Some(
        Finding::new(rule, message)
            .with_severity(weigh(rule.severity, weight, cx.bump(), install_time))
            .with_evidence_all(distinct_lines(evidence.iter().map(NewUse::evidence))),
    )
}

/// Up to [`MAX_EVIDENCE`] distinct items: two uses on one short line (`require('net')` and its
/// `.connect`) quote the same snippet and are one piece of evidence; on a long minified line
/// each use has its own snippet and stays.
fn distinct_lines(items: impl Iterator<Item = Evidence>) -> Vec<Evidence> {
    let mut out: Vec<Evidence> = Vec::new();
    for e in items {
        if out
            .iter()
            .any(|o| o.path == e.path && o.line == e.line && o.snippet == e.snippet)
        {
            continue;
        }
        out.push(e);
        if out.len() == MAX_EVIDENCE {
            break;
        }
    }
    out
}

/// Context of a single-version scan.
pub(crate) struct ScanCx<'a> {
    pub facts: &'a VersionFacts,
    pub name: &'a str,
    pub version: &'a str,
    /// The package is installed from git, so `prepare` runs too.
    pub from_git: bool,
}

impl ScanCx<'_> {
    /// Whether `path` runs when this package is installed.
    pub(crate) fn is_install_time(&self, path: &str) -> bool {
        self.facts.is_install_time(path)
            || (self.from_git && self.facts.prepare_files.contains(path))
    }

    pub(crate) fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The hooks that run when this package is installed.
    pub(crate) fn hooks(&self) -> Vec<(&str, &crate::facts::HookFacts)> {
        let Some(m) = &self.facts.manifest else {
            return Vec::new();
        };
        let mut v: Vec<(&str, &crate::facts::HookFacts)> = m
            .install_hooks
            .iter()
            .map(|(k, h)| (k.as_str(), h))
            .collect();
        if self.from_git
            && let Some(p) = &m.prepare
        {
            v.push(("prepare", p));
        }
        v
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Build packages in memory for rule tests.

    use turncoat_finding::Finding;
    use turncoat_npm::semver::bump;

    use crate::facts::VersionFacts;
    use crate::{DiffContext, FileRef, Options};

    pub(crate) fn pkg(files: &[(&str, &str)]) -> VersionFacts {
        let refs: Vec<FileRef<'_>> = files
            .iter()
            .map(|(p, d)| FileRef {
                path: p,
                data: d.as_bytes(),
            })
            .collect();
        crate::facts(&refs, &Options::default())
    }

    pub(crate) fn manifest(version: &str, extra: &str) -> String {
        let sep = if extra.is_empty() { "" } else { "," };
        format!(r#"{{"name":"pkg","version":"{version}"{sep}{extra}}}"#)
    }

    /// A patch release 1.0.0 → 1.0.1 of `pkg` whose only module, `index.js`, changes from
    /// `old` to `new`.
    pub(crate) fn diff_index(old: &str, new: &str) -> Vec<Finding> {
        diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", "")), ("index.js", old)],
            "1.0.1",
            &[("package.json", &manifest("1.0.1", "")), ("index.js", new)],
        )
    }

    /// A patch release 1.0.0 → 1.0.1 of `pkg` from a bare manifest to one with `extra` fields.
    pub(crate) fn diff_manifest(extra: &str) -> Vec<Finding> {
        diff_versions(
            "1.0.0",
            &[("package.json", &manifest("1.0.0", ""))],
            "1.0.1",
            &[("package.json", &manifest("1.0.1", extra))],
        )
    }

    pub(crate) fn diff_versions(
        from: &str,
        old: &[(&str, &str)],
        to: &str,
        new: &[(&str, &str)],
    ) -> Vec<Finding> {
        let ctx = DiffContext {
            name: "pkg".into(),
            from_version: from.into(),
            to_version: to.into(),
            bump: bump(from, to),
        };
        crate::diff(&pkg(old), &pkg(new), &ctx)
    }

    /// The javascript-obfuscator shape: a string table (here `\x`-escaped and base64 entries),
    /// rotated with `push(shift())`, read through an accessor.
    pub(crate) fn obfuscated(table: &[&str], body: &str) -> String {
        let entries: Vec<String> = table
            .iter()
            .map(|s| {
                let hex: String = s.bytes().map(|b| format!("\\x{b:02x}")).collect();
                format!("'{hex}'")
            })
            .collect();
        format!(
            "var _0x4f2a=[{}];(function(_0x1b7c3e,_0x2a91f4){{var _0x5d0e8b=function(_0x3c6a21){{while(--_0x3c6a21){{_0x1b7c3e['push'](_0x1b7c3e['shift']());}}}};_0x5d0e8b(++_0x2a91f4);}}(_0x4f2a,0x8f));var _0x1e9b=function(_0x1b7c3e){{return _0x4f2a[_0x1b7c3e-0x0];}};{body}",
            entries.join(",")
        )
    }

    /// Ordinary entries to pad a string table with.
    pub(crate) const FILLER: [&str; 8] = [
        "toString", "length", "slice", "forEach", "random", "from", "replace", "match",
    ];

    pub(crate) fn codes(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.code.as_str()).collect()
    }

    pub(crate) fn find<'f>(findings: &'f [Finding], code: &str) -> Option<&'f Finding> {
        findings.iter().find(|f| f.code == code)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use turncoat_finding::{Severity, is_kebab_case};
    use turncoat_npm::semver::Bump;

    use super::*;

    #[test]
    fn codes_are_unique_kebab_and_documented() {
        let mut seen = HashSet::new();
        for r in crate::rules() {
            assert!(is_kebab_case(r.code), "{}", r.code);
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(!r.summary.is_empty() && r.doc.len() > 80, "{}", r.code);
            assert!(r.group == "analyze" || r.group == "metadata", "{}", r.code);
            assert!(
                r.doc.contains("silence"),
                "{} doc says how to silence",
                r.code
            );
        }
    }

    #[test]
    fn weighing() {
        use Weight::*;
        assert_eq!(
            weigh(Severity::Medium, Single, Bump::Patch, true),
            Severity::High
        );
        assert_eq!(
            weigh(Severity::Medium, Single, Bump::Major, false),
            Severity::Low
        );
        assert_eq!(
            weigh(Severity::Critical, Correlated, Bump::Major, false),
            Severity::High
        );
        assert_eq!(
            weigh(Severity::Critical, Correlated, Bump::Major, true),
            Severity::Critical
        );
        assert_eq!(
            weigh(Severity::Critical, Fixed, Bump::Major, false),
            Severity::Critical
        );
    }

    fn occ(line: u32, detail: &str, scope: Option<&str>, hash: &str) -> Occurrence {
        Occurrence {
            line,
            column: 1,
            snippet: String::new(),
            detail: Some(detail.into()),
            scope: scope.map(str::to_string),
            line_hash: hash.into(),
        }
    }

    fn js_with(cap: Capability, occs: Vec<Occurrence>) -> JsFacts {
        let mut f = testing::pkg(&[("a.js", "1")]).js("a.js").cloned().unwrap();
        f.capabilities.insert(
            cap,
            crate::facts::CapabilityUse {
                count: occs.len() as u32,
                occurrences: occs,
            },
        );
        f
    }

    #[test]
    fn new_occurrences_by_key_count_then_line() {
        let cap = Capability::Network;
        let old = js_with(cap, vec![occ(3, "https", None, "h1")]);
        // Same key, same count, different line text (a minified rebuild): not new.
        let moved = js_with(cap, vec![occ(9, "https", None, "zz")]);
        assert!(new_in_file(&moved, Some(&old), cap).is_empty());
        // A new scope: new.
        let grown = js_with(
            cap,
            vec![
                occ(3, "https", None, "h1"),
                occ(40, "https", Some("send"), "h2"),
            ],
        );
        let n = new_in_file(&grown, Some(&old), cap);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].line, 40);
        // Brand-new file: everything.
        assert_eq!(new_in_file(&grown, None, cap).len(), 2);
    }
}

/// Install hooks of the new version that are new or whose command changed, with the old
/// hook of the same name.
pub(crate) fn changed_hooks<'a>(
    cx: &DiffCx<'a>,
) -> Vec<(
    &'a str,
    &'a crate::facts::HookFacts,
    Option<&'a crate::facts::HookFacts>,
)> {
    let Some(new) = &cx.new.manifest else {
        return Vec::new();
    };
    let old = cx.old.manifest.as_ref();
    new.install_hooks
        .iter()
        .filter_map(|(name, hook)| {
            let before = old.and_then(|m| m.install_hooks.get(name));
            match before {
                Some(b) if b.command == hook.command => None,
                _ => Some((name.as_str(), hook, before)),
            }
        })
        .collect()
}

/// Shell features of every install hook of the old version.
pub(crate) fn old_hook_features(cx: &DiffCx<'_>) -> BTreeSet<crate::facts::ShellFeature> {
    cx.old
        .manifest
        .iter()
        .flat_map(|m| m.install_hooks.values())
        .flat_map(|h| h.features.iter().copied())
        .collect()
}

/// `diff` of a hook-feature rule: hooks new or changed in this version that have any of
/// `features` no hook of the previous version had.
pub(crate) fn hook_rule_diff(
    cx: &DiffCx<'_>,
    rule: &RuleDoc,
    features: &[crate::facts::ShellFeature],
    severity: impl Fn(&BTreeSet<crate::facts::ShellFeature>) -> Severity,
) -> Vec<Finding> {
    let hooks: Vec<_> = changed_hooks(cx)
        .into_iter()
        .map(|(n, h, _)| (n, h))
        .collect();
    let suffix = format!(" (new in {}; {} did not)", cx.to(), cx.from());
    hook_feature_findings(
        rule,
        &hooks,
        features,
        &old_hook_features(cx),
        severity,
        &suffix,
    )
}

/// `scan` of a hook-feature rule: every install hook with any of `features`.
pub(crate) fn hook_rule_scan(
    cx: &ScanCx<'_>,
    rule: &RuleDoc,
    features: &[crate::facts::ShellFeature],
    severity: impl Fn(&BTreeSet<crate::facts::ShellFeature>) -> Severity,
) -> Vec<Finding> {
    let suffix = format!(" ({})", cx.id());
    hook_feature_findings(
        rule,
        &cx.hooks(),
        features,
        &Default::default(),
        severity,
        &suffix,
    )
}

/// Shared body of the hook-feature rules: fire for hooks (new/changed in `diff`, all in
/// `scan`) having any of `features` (and, in `diff`, not already in an old hook).
pub(crate) fn hook_feature_findings(
    rule: &RuleDoc,
    hooks: &[(&str, &crate::facts::HookFacts)],
    features: &[crate::facts::ShellFeature],
    known: &BTreeSet<crate::facts::ShellFeature>,
    severity: impl Fn(&BTreeSet<crate::facts::ShellFeature>) -> Severity,
    suffix: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, hook) in hooks {
        let hits: BTreeSet<crate::facts::ShellFeature> = features
            .iter()
            .copied()
            .filter(|f| hook.features.contains(f) && !known.contains(f))
            .collect();
        if hits.is_empty() {
            continue;
        }
        let what: Vec<&str> = hits.iter().map(|f| f.describe()).collect();
        let message = format!("the {name} hook {}{suffix}", what.join(" and "));
        out.push(
            Finding::new(rule, message)
                .with_severity(severity(&hits))
                .with_evidence(
                    Evidence::new("package.json")
                        .with_snippet(&format!("\"{name}\": {:?}", hook.command)),
                ),
        );
    }
    out
}
