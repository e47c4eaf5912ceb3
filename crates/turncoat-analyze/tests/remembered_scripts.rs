//! An `Analyzer` reuses the script facts of the version it analysed last for byte-identical
//! scripts of the next one. That changes how much is parsed, never the facts: whatever was
//! analysed before, the facts equal those of a fresh analysis.

use turncoat_analyze::{Analyzer, FileRef, Options, VersionFacts, facts};

fn files(v: &[(&str, String)]) -> Vec<(String, String)> {
    v.iter().map(|(p, d)| (p.to_string(), d.clone())).collect()
}

fn refs(v: &[(String, String)]) -> Vec<FileRef<'_>> {
    v.iter()
        .map(|(p, d)| FileRef {
            path: p,
            data: d.as_bytes(),
        })
        .collect()
}

fn module(name: &str) -> String {
    format!(
        "const dns = require('dns');\nfunction {name}(x) {{ return process.env.A + process.env.B + x; }}\n\
         dns.lookup(process.env.HOME + '.{name}.example.invalid', () => {{}});\nmodule.exports = {name};\n"
    )
}

fn fresh(v: &[(String, String)], opts: &Options) -> VersionFacts {
    facts(&refs(v), opts)
}

#[test]
fn remembered_facts_equal_fresh_facts() {
    let manifest = r#"{"name":"p","version":"1.0.0","main":"index.js"}"#.to_string();
    let old = files(&[
        ("package.json", manifest.clone()),
        ("index.js", module("a")),
        ("lib/same.js", module("same")),
        ("lib/moved.js", module("moved")),
        ("lib/typed.ts", "export const x: number = 1;\n".to_string()),
    ]);
    let new = files(&[
        ("package.json", manifest.replace("1.0.0", "1.0.1")),
        // Changed: parsed again.
        (
            "index.js",
            module("a") + "require('child_process').exec(process.env.CMD);\n",
        ),
        // Unchanged: remembered.
        ("lib/same.js", module("same")),
        // Same bytes under another path: remembered, and reported under the new path.
        ("lib/renamed.js", module("moved")),
        // Same bytes, other dialect (type annotations are not JavaScript): parsed again.
        ("lib/typed.js", "export const x: number = 1;\n".to_string()),
        // Same bytes twice in one version.
        ("lib/copy.js", module("same")),
    ]);
    let opts = Options::default();
    let mut analyzer = Analyzer::new();
    assert_eq!(analyzer.facts(&refs(&old), &opts), fresh(&old, &opts));
    assert_eq!(analyzer.remembered_scripts(), 4);
    let new_facts = analyzer.facts(&refs(&new), &opts);
    assert_eq!(new_facts, fresh(&new, &opts));
    assert!(new_facts.js("lib/renamed.js").is_some());
    assert!(
        new_facts
            .js("lib/typed.js")
            .is_some_and(|j| j.parse_error.is_some()),
        "TypeScript parsed as JavaScript fails: the .ts facts were not reused"
    );
    // And back: the old version analysed after the new one.
    assert_eq!(analyzer.facts(&refs(&old), &opts), fresh(&old, &opts));

    // Other options, other facts: nothing remembered under the old ones is reused.
    let capped = Options {
        max_occurrences: 1,
        ..Options::default()
    };
    let capped_facts = analyzer.facts(&refs(&new), &capped);
    assert_eq!(capped_facts, fresh(&new, &capped));
    assert_ne!(capped_facts, new_facts, "the cap shows in the occurrences");
}
