//! `new-binary`: the version ships a native binary at a new path.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, weigh};
use crate::facts::BinaryKind;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-binary",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The version ships a native executable or library (ELF, PE, Mach-O, .node) at a new path.",
    doc: r#"Files are recognised by magic bytes (`\x7fELF`, `MZ` + PE header, Mach-O and universal Mach-O, WebAssembly) and `.node` addons by extension. Fires for a binary at a path the previous version did not ship as a binary. High when the package shipped no binary at all before (WebAssembly: low).

**Why it matters.** Compiled code cannot be reviewed like JavaScript. eslint-config-prettier 2025 added `node-gyp.dll` and ran it from its install script. Packages that always shipped prebuilt binaries and update them in place stay quiet.

**Example.** 10.1.5 → 10.1.6 adds `node-gyp.dll`.

A new build for another platform or ABI of an addon the previous version already shipped (`prebuilds/linux-arm64/pty.node` next to `prebuilds/linux-x64/pty.node`, `…-abi127.node` after `…-abi115.node`) is `new-platform-build` instead, and WebAssembly is `new-wasm-module`: both are allowed by default.

**How to silence.** A policy exception on `new-binary` for `name@version`."#,
};

pub(crate) const PLATFORM_RULE: RuleDoc = RuleDoc {
    code: "new-platform-build",
    group: "analyze",
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "The version adds a build for another platform or ABI of a native addon it already shipped.",
    doc: r#"Records a native binary at a new path whose name, with platform, architecture, libc, ABI and version tokens removed (`linux`, `arm64`, `musl`, `abi127`, `napi`, `v20`, numbers), matches a binary of the same kind that the previous version shipped.

**Why allow.** Prebuilt addons add platforms and Node ABIs every few releases (node-pty, tree-sitter, newrelic). Allowing them costs nothing an attacker could not already have had: replacing the existing build for the victim's own platform in place is an update of a shipped binary, which `new-binary` never flagged either. What the binary can do is judged from its import table by `new-native-capability`, whatever its name, and a binary under another family name (`evil.node` beside `pty.node`) is still `new-binary`.

**Example.** 1.1.0 ships `prebuilds/win32-x64/pty.node`; 1.1.1 adds `prebuilds/win32-ia32/pty.node`.

**How to silence.** It is `allow` by default; raise it in `turncoat.toml` to review every new platform build."#,
};

pub(crate) const WASM_RULE: RuleDoc = RuleDoc {
    code: "new-wasm-module",
    group: "analyze",
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "The version ships a WebAssembly module at a new path.",
    doc: r#"Records a WebAssembly module (`\0asm` magic) that the previous version did not ship.

**Why allow.** A WebAssembly module has no ambient authority: it can read no file, environment variable or socket except through functions the package's JavaScript passes in when it instantiates it, and that JavaScript is analysed like any other (`new-network`, `new-env-read`, `exfiltration-shape`). Parsers and codecs (tree-sitter grammars, image and compression libraries) add modules routinely.

**Example.** 0.23.0 adds `tree-sitter-typescript.wasm`.

**How to silence.** It is `allow` by default; raise it in `turncoat.toml` to review every new module."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let had_binary = cx.old.files.values().any(|f| f.binary.is_some());
    // A package that compiled an addon at install (`binding.gyp`) already ran native code.
    let had_any = had_binary || cx.old.files.contains_key("binding.gyp");
    for (path, f) in &cx.new.files {
        let Some(kind) = f.binary else { continue };
        if cx.old.files.get(path).is_some_and(|o| o.binary.is_some()) {
            continue;
        }
        // A rebuilt binary whose file name carries the version (`sharp-linux-x64-0.35.5.node`)
        // replaces one of the same kind in the same directory: not a new binary.
        let dir = |p: &str| {
            p.rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default()
        };
        let here = dir(path);
        let replaced = cx.old.files.iter().any(|(p, o)| {
            o.binary == Some(kind) && dir(p) == here && !cx.new.files.contains_key(p)
        });
        if replaced {
            continue;
        }
        if kind == BinaryKind::Wasm {
            out.push(
                Finding::new(
                    &WASM_RULE,
                    format!("{path} ({} bytes) is new in {}", f.size, cx.to()),
                )
                .with_evidence(Evidence::new(path.clone())),
            );
            continue;
        }
        let key = family(path);
        if let Some((sibling, _)) = cx
            .old
            .files
            .iter()
            .find(|(p, o)| o.binary == Some(kind) && family(p) == key)
        {
            out.push(
                Finding::new(
                    &PLATFORM_RULE,
                    format!(
                        "{path} ({}) is a new build of {sibling}, which {} shipped",
                        kind.as_str(),
                        cx.from()
                    ),
                )
                .with_evidence(Evidence::new(path.clone())),
            );
            continue;
        }
        let base = if had_any {
            RULE.severity
        } else {
            Severity::High
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} ({}, {} bytes) is new in {}; {} {}",
                    kind.as_str(),
                    f.size,
                    cx.to(),
                    cx.from(),
                    if had_binary {
                        "shipped other binaries"
                    } else if had_any {
                        "built its addon from source (binding.gyp)"
                    } else {
                        "shipped no binary"
                    }
                ),
            )
            .with_severity(weigh(base, Weight::Single, cx.bump(), false))
            .with_evidence(Evidence::new(path.clone())),
        );
    }
}

/// A binary's name with the tokens that vary between builds of one addon removed: platform,
/// architecture, libc, ABI and version (`prebuilds/linux-x64/pty.node` and
/// `prebuilds/win32-ia32/pty.node` are both `prebuilds/pty/node`).
fn family(path: &str) -> String {
    const VARYING: &[&str] = &[
        "linux",
        "darwin",
        "win32",
        "win",
        "windows",
        "macos",
        "mac",
        "osx",
        "freebsd",
        "openbsd",
        "netbsd",
        "android",
        "sunos",
        "aix",
        "ios",
        "musl",
        "glibc",
        "gnu",
        "gnueabihf",
        "msvc",
        "uclibc",
        "x64",
        "ia32",
        "x86",
        "amd64",
        "i386",
        "i686",
        "arm",
        "arm64",
        "armv6",
        "armv7",
        "armv7l",
        "armhf",
        "aarch64",
        "ppc64",
        "ppc64le",
        "s390x",
        "riscv64",
        "loong64",
        "mips64el",
        "universal",
        "napi",
        "node",
        "electron",
        "nw",
        "release",
        "debug",
    ];
    let varying = |t: &str| {
        t.is_empty()
            || t.bytes().all(|b| b.is_ascii_digit())
            || VARYING.contains(&t)
            || ["abi", "v", "node", "napi"].iter().any(|p| {
                t.strip_prefix(p)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
    };
    path.to_ascii_lowercase()
        .split('/')
        .map(|part| {
            part.split(['-', '_', '.', '@', '+'])
                .filter(|t| !varying(t))
                .collect::<Vec<_>>()
                .join(".")
        })
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn new_elf_fires() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", "1")],
            "1.0.1",
            &[("a.js", "1"), ("bin/x", "\x7fELF....")],
        );
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    #[test]
    fn a_prebuilt_addon_after_binding_gyp_is_medium() {
        let f = diff_versions(
            "1.0.0",
            &[("binding.gyp", "{}")],
            "1.0.1",
            &[
                ("binding.gyp", "{}"),
                ("prebuilds/linux-x64/x.node", "\x7fELF...."),
            ],
        );
        let hit = find(&f, RULE.code).expect("new-binary");
        assert_eq!(hit.severity, Severity::Medium);
        assert!(hit.message.contains("binding.gyp"), "{}", hit.message);
    }

    #[test]
    fn updated_binary_is_quiet() {
        let f = diff_versions(
            "1.0.0",
            &[("build/a.node", "old")],
            "1.0.1",
            &[("build/a.node", "new")],
        );
        assert!(find(&f, RULE.code).is_none());
    }

    #[test]
    fn another_platform_of_a_shipped_addon_is_a_platform_build() {
        let f = diff_versions(
            "1.0.0",
            &[("prebuilds/win32-x64/pty.node", "\x7fELF..a")],
            "1.0.1",
            &[
                ("prebuilds/win32-x64/pty.node", "\x7fELF..a"),
                ("prebuilds/win32-ia32/pty.node", "\x7fELF..b"),
                ("prebuilds/win32-x64/pty-abi127.node", "\x7fELF..c"),
            ],
        );
        assert!(find(&f, RULE.code).is_none(), "{:?}", codes(&f));
        assert_eq!(
            f.iter().filter(|x| x.code == PLATFORM_RULE.code).count(),
            2,
            "{:?}",
            codes(&f)
        );
    }

    #[test]
    fn a_binary_of_another_family_is_still_new() {
        // Named like a platform build, but not of anything shipped before.
        let f = diff_versions(
            "1.0.0",
            &[("prebuilds/linux-x64/pty.node", "\x7fELF..a")],
            "1.0.1",
            &[
                ("prebuilds/linux-x64/pty.node", "\x7fELF..a"),
                ("prebuilds/linux-arm64/helper.node", "\x7fELF..b"),
                ("prebuilds/linux-x64/pty.so", "\x7fELF..c"),
            ],
        );
        assert!(find(&f, RULE.code).is_some(), "{:?}", codes(&f));
        assert!(find(&f, PLATFORM_RULE.code).is_none(), "{:?}", codes(&f));
        assert_eq!(
            family("prebuilds/linux-arm64/helper.node"),
            "prebuilds/helper"
        );
        assert_eq!(
            family("prebuilds/darwin-x64+arm64/pty.node"),
            "prebuilds/pty"
        );
    }

    #[test]
    fn webassembly_is_its_own_allowed_code() {
        let f = diff_versions(
            "1.0.0",
            &[("a.js", "1")],
            "1.0.1",
            &[("a.js", "1"), ("grammar.wasm", "\0asm\x01\0\0\0")],
        );
        assert!(find(&f, RULE.code).is_none(), "{:?}", codes(&f));
        assert!(find(&f, WASM_RULE.code).is_some(), "{:?}", codes(&f));
    }
}
