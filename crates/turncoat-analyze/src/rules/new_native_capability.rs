//! `new-native-capability`: native code whose import table newly reaches the network, the
//! resolver or process creation.

use std::collections::BTreeMap;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::facts::{Capability, VersionFacts};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-native-capability",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "Native code (an addon, executable or library) imports network, DNS or process-creation functions that no binary of the previous version imported.",
    doc: r#"Reads the import table of every ELF, Mach-O (also universal) and PE file in the package and classifies the imported functions: sockets and HTTP clients (`connect`, `sendto`, WinINet/WinHTTP, `URLDownloadToFile`, libcurl, libuv's `uv_tcp_connect`), the resolver (`getaddrinfo`, `res_query`, `DnsQuery_*`, `uv_getaddrinfo`) and process creation (`execve`, `system`, `popen`, `posix_spawn`, `CreateProcess*`, `ShellExecute*`, `uv_spawn`). Fires for each of those capabilities that a binary of the new version imports and no binary of the previous version did. Critical when the binary is loaded at install time.

**Why it matters.** A native addon runs with the full rights of the process that `require`s it, and its code cannot be read like JavaScript: the import table is what it can do. eslint-config-prettier 2025 shipped `node-gyp.dll`; a new addon that links `connect` is a network client whatever its name. Packages that always shipped addons with the same imports (prebuilt binaries for more platforms, rebuilt versions) stay quiet: the comparison is with every binary the previous version shipped.

**Limits.** Statically linked code, or code that resolves functions at run time (`dlsym`, `GetProcAddress`), imports nothing visible here; `new-binary` still reports a new binary, and detonation observes what it does.

**Example.** 2.4.0 ships `build/Release/addon.node` importing only `malloc`; 2.4.1's imports `socket`, `connect` and `getaddrinfo`.

**How to silence.** A policy exception on `new-native-capability` for `name@version`."#,
};

/// Every native capability of a version's binaries, with one file and its names each.
fn native(facts: &VersionFacts) -> BTreeMap<Capability, (&str, &[String])> {
    let mut out = BTreeMap::new();
    for (path, f) in &facts.files {
        for (cap, names) in &f.native {
            out.entry(*cap).or_insert((path.as_str(), names.as_slice()));
        }
    }
    out
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let before = native(cx.old);
    for (cap, (path, names)) in native(cx.new) {
        if before.contains_key(&cap) {
            continue;
        }
        let install_time = cx.new.is_install_time(path);
        let severity = if install_time {
            Severity::Critical
        } else {
            RULE.severity
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} in {} imports {} ({}), which no binary of {} imported{}",
                    cx.to(),
                    match cap {
                        Capability::Network => "network functions",
                        Capability::Dns => "DNS resolver functions",
                        _ => "process-creation functions",
                    },
                    names.join(", "),
                    cx.from(),
                    if install_time {
                        "; it runs at install time"
                    } else {
                        ""
                    },
                ),
            )
            .with_severity(severity)
            .with_evidence(Evidence::new(path).with_snippet(&names.join(" "))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FileFacts;

    fn with_native(files: &[(&str, &[(Capability, &str)])]) -> VersionFacts {
        let mut v = VersionFacts::default();
        for (path, caps) in files {
            let mut f = FileFacts::default();
            for (c, n) in *caps {
                f.native.entry(*c).or_default().push(n.to_string());
            }
            v.files.insert(path.to_string(), f);
        }
        v
    }

    fn run(old: &VersionFacts, new: &VersionFacts) -> Vec<Finding> {
        let ctx = crate::DiffContext::new("pkg", "2.4.0", "2.4.1");
        let mut out = Vec::new();
        diff(&DiffCx::new(old, new, &ctx), &mut out);
        out
    }

    #[test]
    fn addon_gaining_connect_fires() {
        let old = with_native(&[("build/addon.node", &[])]);
        let new = with_native(&[(
            "build/addon.node",
            &[
                (Capability::Network, "connect"),
                (Capability::Dns, "getaddrinfo"),
            ],
        )]);
        let f = run(&old, &new);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].message.contains("connect") || f[1].message.contains("connect"));
    }

    #[test]
    fn same_imports_in_another_platform_build_are_quiet() {
        // Prebuilt binaries for more platforms of an addon that always used the network.
        let old = with_native(&[(
            "prebuilds/linux-x64/a.node",
            &[(Capability::Network, "connect")],
        )]);
        let new = with_native(&[
            (
                "prebuilds/linux-x64/a.node",
                &[(Capability::Network, "connect")],
            ),
            (
                "prebuilds/darwin-arm64/a.node",
                &[(Capability::Network, "connect")],
            ),
        ]);
        assert!(run(&old, &new).is_empty());
    }
}
