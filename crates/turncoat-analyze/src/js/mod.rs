//! Static facts of one JavaScript/TypeScript file: parse with oxc, walk once, measure the text.

mod bindings;
mod depth;
mod flow;
pub(crate) mod fold;
pub(crate) mod patterns;
mod string_table;
pub(crate) mod text;
mod walker;

pub(crate) use walker::FROM_STRING_TABLE;

use std::borrow::Cow;

use oxc_allocator::Allocator;
use oxc_ast_visit::Visit;
use oxc_parser::{ParseOptions, Parser};
use oxc_span::SourceType;

pub use text::LONG_LINE;

use crate::Options;
use crate::facts::{Dialect, JsFacts, Metrics};

/// Files smaller than this cannot nest deeply enough to exhaust the analysis stack (see
/// [`crate::analyzer::STACK_SIZE`]), so the nesting pre-scan is skipped for them.
const PRESCAN_MIN_BYTES: usize = 32 * 1024;
/// Longest parse error message kept.
const MAX_ERROR_CHARS: usize = 200;

/// The dialect of a script path, or `None` when the path is not a script. `.d.ts` files are
/// scripts for nothing: they cannot run.
pub(crate) fn dialect(path: &str) -> Option<Dialect> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".d.ts") || lower.ends_with(".d.mts") || lower.ends_with(".d.cts") {
        return None;
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "js" => Dialect::Js,
        "cjs" => Dialect::Cjs,
        "mjs" => Dialect::Mjs,
        "jsx" => Dialect::Jsx,
        "ts" | "mts" | "cts" => Dialect::Ts,
        "tsx" => Dialect::Tsx,
        _ => return None,
    })
}

pub(crate) fn is_declaration(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".d.ts") || lower.ends_with(".d.mts") || lower.ends_with(".d.cts")
}

fn source_type(d: Dialect) -> SourceType {
    match d {
        Dialect::Js => SourceType::unambiguous(),
        Dialect::Cjs => SourceType::cjs(),
        Dialect::Mjs => SourceType::mjs(),
        Dialect::Jsx => SourceType::jsx(),
        Dialect::Ts => SourceType::ts(),
        Dialect::Tsx => SourceType::tsx(),
    }
}

/// Analyse one script. Must run on a thread with a large stack (see `analyzer`).
pub(crate) fn analyze(
    alloc: &mut Allocator,
    dialect: Dialect,
    data: &[u8],
    opts: &Options,
    prescan_all: bool,
) -> JsFacts {
    let (text, invalid_utf8) = match std::str::from_utf8(data) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(data), true),
    };
    let src: &str = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let index = text::LineIndex::new(src.as_bytes());
    let stats = text::text_stats(src, &index);

    let mut facts = JsFacts {
        dialect,
        parse_error: None,
        too_deep: false,
        invalid_utf8,
        capabilities: Default::default(),
        metrics: Metrics {
            lines: stats.lines,
            max_line_len: stats.max_line_len,
            p99_line_len: stats.p99_line_len,
            whitespace_ratio: stats.whitespace_ratio,
            long_line_share: stats.long_line_share,
            hex_escapes_per_kb: stats.hex_escapes_per_kb,
            ..Metrics::default()
        },
        long_lines: stats.long_lines,
        blobs: Vec::new(),
        top_level_functions: Default::default(),
        hosts: Default::default(),
        hosts_overflow: false,
        destinations: Vec::new(),
        local_imports: Default::default(),
        minified: false,
        obfuscated: false,
    };

    if prescan_all || src.len() >= PRESCAN_MIN_BYTES {
        let est = depth::estimate(src.as_bytes(), opts.max_nesting);
        if est > opts.max_nesting {
            facts.too_deep = true;
            classify(&mut facts, src.len());
            return facts;
        }
    }

    alloc.reset();
    let options = ParseOptions {
        // `get_inner_expression` looks through parentheses anyway; fewer nodes, faster walk.
        preserve_parens: false,
        // Only semantic analysis uses identifier hashes; we never run it.
        enable_ident_hashes: false,
        ..ParseOptions::default()
    };
    let ret = Parser::new(alloc, src, source_type(dialect))
        .with_options(options)
        .parse();
    if let Some(first) = ret.diagnostics.first() {
        let msg = first.to_string();
        let mut cut: String = msg.chars().take(MAX_ERROR_CHARS).collect();
        if cut.len() < msg.len() {
            cut.push('…');
        }
        facts.parse_error = Some(turncoat_finding::sanitize_snippet(&cut));
    }
    let mut walked = None;
    if !ret.panicked {
        let mut w = walker::Walker::new(src, &index, opts.max_occurrences);
        w.visit_program(&ret.program);
        w.finish();
        let m = &mut facts.metrics;
        m.identifiers = w.identifiers;
        m.short_identifier_ratio = if w.identifiers == 0 {
            0.0
        } else {
            w.short_identifiers as f32 / w.identifiers as f32
        };
        m.identifier_entropy = w.identifier_entropy();
        m.obfuscator_identifiers = w.obfuscator_identifiers;
        m.largest_string_array = w.largest_string_array;
        m.string_array_rotation = w.string_array_rotation;
        if is_obfuscated(m, src.len()) {
            w.infer_from_string_table();
        }
        walked = Some(w);
    }
    drop(ret);
    if let Some(mut w) = walked {
        if w.env_escapes {
            // The environment object went into a binding or a call: follow it (a second
            // parse, with the identifier hashes semantic analysis needs).
            for hit in flow::env_uses(alloc, src, source_type(dialect)) {
                w.occur_at(hit.cap, hit.offset, hit.detail);
            }
        }
        facts.capabilities = std::mem::take(&mut w.caps);
        facts.blobs = std::mem::take(&mut w.blobs);
        facts.top_level_functions = std::mem::take(&mut w.top_level_functions);
        facts.hosts = std::mem::take(&mut w.hosts);
        facts.hosts_overflow = w.hosts_overflow;
        facts.destinations = std::mem::take(&mut w.destinations);
        facts.local_imports = std::mem::take(&mut w.local_imports);
    }
    alloc.reset();
    classify(&mut facts, src.len());
    facts
}

/// Minified vs obfuscated. Minifiers shorten names and drop whitespace; obfuscators leave
/// `_0x…` names, rotated string tables and walls of `\x` escapes. Only the latter counts as
/// obfuscation, so the big libraries that always ship minified bundles stay quiet.
fn classify(f: &mut JsFacts, len: usize) {
    let m = &f.metrics;
    f.minified = len >= 1024 && m.long_line_share >= 0.3 && m.whitespace_ratio < 0.15;
    f.obfuscated = is_obfuscated(m, len);
}

fn is_obfuscated(m: &Metrics, len: usize) -> bool {
    m.obfuscator_identifiers >= 20
        || (m.string_array_rotation && m.largest_string_array >= 10)
        || (len >= 512 && m.hex_escapes_per_kb >= 50.0)
}

#[cfg(test)]
mod tests {
    use oxc_allocator::Allocator;

    use super::analyze;
    use crate::Options;
    use crate::facts::{Capability, Dialect, JsFacts};
    use crate::rules::testing::{FILLER, obfuscated};

    fn facts(src: &str) -> JsFacts {
        analyze(
            &mut Allocator::default(),
            Dialect::Js,
            src.as_bytes(),
            &Options::default(),
            false,
        )
    }

    fn detail(f: &JsFacts, cap: Capability) -> Option<String> {
        f.uses(cap).first().and_then(|o| o.detail.clone())
    }

    fn env_reads(f: &JsFacts) -> Vec<&str> {
        f.uses(Capability::EnvRead)
            .iter()
            .filter_map(|o| o.detail.as_deref())
            .collect()
    }

    #[test]
    fn the_environment_is_followed_through_aliases() {
        for src in [
            "var env = process.env;\nmodule.exports = env.GITHUB_TOKEN;",
            "const {env} = process;\nmodule.exports = env.GITHUB_TOKEN;",
            "const { env: e = {} } = process;\nmodule.exports = e['GITHUB_TOKEN'];",
            "const {GITHUB_TOKEN} = process.env;\nmodule.exports = GITHUB_TOKEN;",
            "const p = process;\nconst t = p.env['GITHUB_TOKEN'];",
            "const p = globalThis.process;\nconst t = p.env.GITHUB_TOKEN;",
            "function send(e) { return e.GITHUB_TOKEN; }\nsend(process.env);",
            "send(process.env);\nfunction send({ GITHUB_TOKEN }) { return GITHUB_TOKEN; }",
            "const e = process.env || {};\nlet x;\nx = e;\nx.GITHUB_TOKEN;",
            "(function (e) { return e.GITHUB_TOKEN; })(process.env);",
            "const send = (e) => e.GITHUB_TOKEN;\nsend(global.process.env);",
            "const { A, ...rest } = process.env;\nrest.GITHUB_TOKEN;",
        ] {
            let f = facts(src);
            assert!(
                env_reads(&f).contains(&"GITHUB_TOKEN"),
                "{src}: {:?}",
                f.uses(Capability::EnvRead)
            );
        }
    }

    #[test]
    fn whole_environment_uses_through_aliases() {
        for (src, kind) in [
            (
                "const e = process.env;\npost(JSON.stringify(e));",
                "serialize",
            ),
            (
                "const {env: e} = process;\nObject.keys(e).forEach(k => k);",
                "enumerate",
            ),
            (
                "function f(o) { return { ...o }; }\nf(process.env);",
                "spread",
            ),
            ("const e = process.env;\nfor (const k in e) {}", "enumerate"),
        ] {
            let f = facts(src);
            let dumps: Vec<&str> = f
                .uses(Capability::EnvDump)
                .iter()
                .filter_map(|o| o.detail.as_deref())
                .collect();
            assert!(dumps.contains(&kind), "{src}: {dumps:?}");
        }
    }

    #[test]
    fn other_bindings_of_the_same_name_are_not_the_environment() {
        // Scopes are resolved: the outer `env` is a plain object, and a local `process`
        // parameter is not the global.
        let src = "const env = { GITHUB_TOKEN: 1 };\nfunction f() { const env = process.env; return env.HOME; }\nmodule.exports = env.GITHUB_TOKEN;\nfunction g(process) { const { env } = process; return env.NPM_TOKEN; }\n";
        let f = facts(src);
        let reads = env_reads(&f);
        assert!(reads.contains(&"HOME"), "{reads:?}");
        assert!(!reads.contains(&"GITHUB_TOKEN"), "{reads:?}");
        assert!(!reads.contains(&"NPM_TOKEN"), "{reads:?}");
    }

    fn has_detail(f: &JsFacts, cap: Capability, d: &str) -> bool {
        f.uses(cap).iter().any(|o| o.detail.as_deref() == Some(d))
    }

    #[test]
    fn execution_not_called_eval() {
        for (src, what) in [
            (
                "const Module = require('module');\nModule.prototype._compile.call(m, code, 'x.js');",
                "Module._compile",
            ),
            ("module._compile(src, __filename);", "Module._compile"),
            (
                "const { Worker } = require('worker_threads');\nnew Worker(code, { eval: true });",
                "Worker eval",
            ),
            (
                "const vm = require('vm');\nnew vm.SourceTextModule(code);",
                "vm.SourceTextModule",
            ),
            (
                "import('data:text/javascript,console.log(1)');",
                "import(data: URL)",
            ),
        ] {
            let f = facts(src);
            assert!(
                has_detail(&f, Capability::Eval, what),
                "{src}: {:?}",
                f.capabilities
            );
        }
        let f = facts("const { Worker } = require('worker_threads');\nnew Worker('./worker.js');");
        assert!(!f.has(Capability::Eval), "{:?}", f.capabilities);
    }

    #[test]
    fn data_decrypted_decompressed_or_read_from_data_files_then_run() {
        for src in [
            "const fs = require('fs');\nconst c = fs.readFileSync(__dirname + '/logo.png', 'utf8');\neval(c);",
            "const fs = require('fs'), path = require('path');\nnew Function(fs.readFileSync(path.join(__dirname, 'data.json'), 'utf8'))();",
            "const crypto = require('crypto');\nconst d = crypto.createDecipheriv('aes-256-cbc', k, iv);\nlet code = d.update(blob, 'hex', 'utf8');\ncode += d.final('utf8');\nmodule._compile(code, 'x.js');",
            "const z = require('zlib');\neval(z.inflateSync(Buffer.from(b)).toString());",
            "import('data:text/javascript;base64,Y29uc29sZS5sb2coMSk=');",
        ] {
            let f = facts(src);
            assert!(f.has(Capability::DecodeExec), "{src}: {:?}", f.capabilities);
        }
        // A loader evaluating a file it was given is execution, not hidden code.
        let f = facts("const fs = require('fs');\neval(fs.readFileSync(process.argv[2], 'utf8'));");
        assert!(f.has(Capability::Eval) && !f.has(Capability::DecodeExec));
    }

    #[test]
    fn decode_exec_needs_the_decoded_value_itself() {
        // setImmediate polyfills: `new Function("" + e)` where `e` is the callback parameter,
        // in a file where another `e` holds a decoded string.
        let polyfill = "var e = String.fromCharCode(65);\nfunction setImmediate(e) { if (typeof e !== 'function') { e = new Function('' + e); } return e; }\nconst f = (e) => new Function('' + e);\n";
        let f = facts(polyfill);
        assert!(f.has(Capability::Eval), "{:?}", f.capabilities);
        assert!(!f.has(Capability::DecodeExec), "{:?}", f.capabilities);
        let f = facts("var e = atob(d);\nfunction run() { return new Function('' + e); }\n");
        assert!(f.has(Capability::DecodeExec), "{:?}", f.capabilities);
    }

    #[test]
    fn table_names_become_uses_at_the_lookups() {
        let mut table = vec!["ZG5z", "env", ".exfil.example", "zg5Z"];
        table.extend(FILLER);
        let src = obfuscated(
            &table,
            "var _0x5e21a7=require(_0x1e9b('0x0'));\nvar _0x2b8e=JSON[_0x1e9b('0x3')](process[_0x1e9b('0x1')]);",
        );
        let f = facts(&src);
        assert!(f.obfuscated, "{:?}", f.metrics);
        let dns = detail(&f, Capability::Dns).expect("dns use");
        assert_eq!(dns, "'dns' from an obfuscated string table");
        assert_eq!(f.uses(Capability::Dns)[0].line, 1, "at the require");
        let env = detail(&f, Capability::EnvRead).expect("env read");
        assert_eq!(env, "'env' from an obfuscated string table");
        assert_eq!(f.uses(Capability::EnvRead)[0].line, 2, "at process[…]");
        assert!(f.hosts.contains("exfil.example"), "{:?}", f.hosts);
    }

    #[test]
    fn the_newer_shape_with_base64_entries() {
        // javascript-obfuscator 4: the table lives in a function, entries are base64 in its
        // lower-case-first alphabet ('y2HPBgrFChjVy2vZCW' is `child_process`), the accessor
        // subtracts an offset, and a checksum loop rotates the table.
        let src = "function _0x2c1f(){const _0x51a4=['y2HPBgrFChjVy2vZCW','zxHLyW','mtaWmde','DgHLBG','mJe0mti','Bg9N'];_0x2c1f=function(){return _0x51a4;};return _0x2c1f();}function _0x3e2d(_0x1b5f2a,_0x4a0c1e){const _0x2c1f0b=_0x2c1f();return _0x3e2d=function(_0x3e2d4b,_0x58a1c2){_0x3e2d4b=_0x3e2d4b-0x1a0;let _0x17d3a9=_0x2c1f0b[_0x3e2d4b];return _0x17d3a9;},_0x3e2d(_0x1b5f2a,_0x4a0c1e);}(function(_0x4c1d2e,_0x1f0a3b){const _0x5b6c7d=_0x3e2d,_0x2e3f4a=_0x4c1d2e();while(!![]){try{const _0x3a4b5c=parseInt(_0x5b6c7d(0x1a2))/0x1;if(_0x3a4b5c===_0x1f0a3b)break;else _0x2e3f4a['push'](_0x2e3f4a['shift']());}catch(_0x6d7e8f){_0x2e3f4a['push'](_0x2e3f4a['shift']());}}}(_0x2c1f,0x1e240));const _0x9a8b7c=_0x3e2d;require(_0x9a8b7c(0x1a0))[_0x9a8b7c(0x1a1)]('id');";
        let f = facts(src);
        assert!(f.obfuscated, "{:?}", f.metrics);
        assert_eq!(
            detail(&f, Capability::ChildProcess).as_deref(),
            Some("'child_process' from an obfuscated string table")
        );
    }

    #[test]
    fn readable_lists_of_module_names_name_nothing() {
        // A list of builtins, a loader by computed name and `process[key]`: not obfuscated,
        // so the list is data, not a hidden table.
        let src = "const builtins = ['assert', 'buffer', 'child_process', 'dns', 'http', 'https', 'env', 'net'];\nmodule.exports = (n) => builtins.includes(n) ? require(n) : process[n];\n";
        let f = facts(src);
        assert!(!f.obfuscated);
        for cap in [
            Capability::Dns,
            Capability::Network,
            Capability::ChildProcess,
            Capability::EnvRead,
        ] {
            assert!(!f.has(cap), "{cap:?}: {:?}", f.capabilities);
        }
    }

    #[test]
    fn a_table_without_computed_lookups_names_nothing() {
        let mut table = vec!["dns", "env", "child_process"];
        table.extend(FILLER);
        let src = obfuscated(&table, "console[_0x1e9b('0x4')](_0x1e9b('0x5'));");
        let f = facts(&src);
        assert!(f.obfuscated);
        for cap in [
            Capability::Dns,
            Capability::ChildProcess,
            Capability::EnvRead,
        ] {
            assert!(!f.has(cap), "{cap:?}: {:?}", f.capabilities);
        }
    }
}
