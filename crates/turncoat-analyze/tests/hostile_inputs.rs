//! Inputs real packages (and attackers) ship: deep nesting, megabyte lines, broken encodings,
//! BOMs, hashbangs, top-level await. Facts must come back for all of them, never a crash.

use turncoat_analyze::{Capability, FileKind, FileRef, Options, VersionFacts};

fn one(path: &str, data: &[u8]) -> VersionFacts {
    turncoat_analyze::facts(&[FileRef { path, data }], &Options::default())
}

#[test]
fn deep_nesting_is_a_fact_not_a_crash() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{a:", "}"), ("`${", "}`")] {
        let src = format!("x = {}1{};", open.repeat(100_000), close.repeat(100_000));
        let f = one("deep.js", src.as_bytes());
        let js = f.js("deep.js").expect("js facts");
        assert!(js.too_deep, "{open}: estimated and skipped");
        assert!(!js.parsed());
    }
    let generics = format!(
        "let x: {}B{} = 1;",
        "A<".repeat(100_000),
        ">".repeat(100_000)
    );
    assert!(
        one("g.ts", generics.as_bytes())
            .js("g.ts")
            .expect("js")
            .too_deep
    );
    let jsx = format!("x = {}{};", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert!(
        one("j.jsx", jsx.as_bytes())
            .js("j.jsx")
            .expect("js")
            .too_deep
    );
    let nots = format!("x = {}1;", "!".repeat(1_000_000));
    assert!(
        one("n.js", nots.as_bytes())
            .js("n.js")
            .expect("js")
            .too_deep
    );
}

#[test]
fn moderate_nesting_below_the_prescan_parses_on_the_big_stack() {
    // Under the pre-scan threshold: parsed for real, on the analysis thread's stack.
    let parens = format!("x = {}1{};", "(".repeat(15_000), ")".repeat(15_000));
    let js = one("p.js", parens.as_bytes())
        .js("p.js")
        .cloned()
        .expect("js");
    assert!(js.parsed(), "{:?}", js.parse_error);
    let chain = format!("x = a{};", " + a".repeat(7_000));
    assert!(
        one("c.js", chain.as_bytes())
            .js("c.js")
            .expect("js")
            .parsed()
    );
}

#[test]
fn five_megabyte_single_line() {
    let mut src = "var a=1;".repeat(5 * 1024 * 1024 / 8);
    src.push_str("require('https').get(process.env.NPM_TOKEN);");
    let f = one("dist/bundle.js", src.as_bytes());
    let js = f.js("dist/bundle.js").expect("js");
    assert!(js.parsed());
    assert_eq!(js.metrics.lines, 1);
    assert!(js.minified);
    let env = js.uses(Capability::EnvRead);
    assert_eq!(env.len(), 1);
    assert!(env[0].snippet.chars().count() <= 161, "snippet is a window");
    assert!(env[0].column > 5_000_000);
    assert_eq!(js.long_lines.len(), 1);
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let f = one("bad.js", b"const a = '\xff\xfe'; eval(a);");
    let js = f.js("bad.js").expect("js");
    assert!(js.invalid_utf8);
    assert!(js.has(Capability::Eval));
}

#[test]
fn bom_hashbang_and_top_level_await() {
    let bom = one(
        "bom.js",
        "\u{FEFF}const t = process.env.NPM_TOKEN;\n".as_bytes(),
    );
    let js = bom.js("bom.js").expect("js");
    assert!(js.parsed(), "{:?}", js.parse_error);
    assert_eq!(js.uses(Capability::EnvRead)[0].line, 1);

    let bin = one(
        "cli.js",
        b"#!/usr/bin/env node\nrequire('child_process').execSync('id');\n",
    );
    let js = bin.js("cli.js").expect("js");
    assert!(js.parsed());
    assert_eq!(js.uses(Capability::ChildProcess)[0].line, 2);

    let tla = one(
        "main.mjs",
        b"const r = await fetch('https://api.example.com/x');\nexport default r;\n",
    );
    let js = tla.js("main.mjs").expect("js");
    assert!(js.parsed(), "{:?}", js.parse_error);
    assert!(js.has(Capability::Network));
    assert!(js.hosts.contains("api.example.com"));
}

#[test]
fn oversized_declarations_and_garbage() {
    let opts = Options {
        max_file_size: 1000,
        ..Options::default()
    };
    let big = "x".repeat(2000);
    let files = [
        FileRef {
            path: "big.js",
            data: big.as_bytes(),
        },
        FileRef {
            path: "types/index.d.ts",
            data: b"declare const x: number; eval('1');",
        },
        FileRef {
            path: "lib/native.node",
            data: &[0, 159, 146, 150],
        },
        FileRef {
            path: "package.json",
            data: b"[not an object]",
        },
    ];
    let f = turncoat_analyze::facts(&files, &opts);
    let big = &f.files["big.js"];
    assert!(
        big.skipped
            .as_deref()
            .is_some_and(|s| s.contains("too large"))
    );
    assert_eq!(big.blake3.len(), 64);
    assert!(big.js.is_none());
    assert_eq!(f.files["types/index.d.ts"].kind, FileKind::Declaration);
    assert_eq!(f.files["lib/native.node"].kind, FileKind::Binary);
    assert!(f.manifest.as_ref().is_some_and(|m| m.parse_error.is_some()));
}

#[test]
fn syntax_errors_are_facts() {
    let f = one("broken.ts", b"function (: {{{ ");
    let js = f.js("broken.ts").expect("js");
    assert!(js.parse_error.is_some());
    assert!(!js.parsed());
}

#[test]
fn one_analyzer_many_packages() {
    let mut a = turncoat_analyze::Analyzer::new();
    for i in 0..20 {
        let src = format!("module.exports = {i}; require('dns').lookup('x.example', () => {{}});");
        let f = a.facts(
            &[FileRef {
                path: "index.js",
                data: src.as_bytes(),
            }],
            &Options::default(),
        );
        assert!(f.js("index.js").expect("js").has(Capability::Dns));
    }
}
