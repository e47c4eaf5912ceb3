//! Splitting one package's scripts across threads changes how fast, never what: the facts are
//! identical with one thread and with several.

use turncoat_analyze::{FileRef, Options, facts};

fn script(i: usize, kb: usize) -> String {
    let mut s =
        String::from("const cp = require('child_process');\nconst https = require('https');\n");
    let mut n = 0;
    while s.len() < kb * 1024 {
        s.push_str(&format!(
            "function f{i}_{n}(a) {{ if (a > {n}) {{ return process.env.HOME + String(a * {n}); }} return [a, {{ k: '{n}' }}]; }}\n"
        ));
        n += 1;
    }
    s.push_str(&format!(
        "cp.exec('echo {i}'); https.get('https://h{i}.example.invalid/');\n"
    ));
    s
}

#[test]
fn facts_are_the_same_on_one_thread_and_on_several() {
    let sources: Vec<(String, String)> = (0..7)
        .map(|i| (format!("lib/m{i}.js"), script(i, 60 + 90 * i)))
        .chain(std::iter::once((
            "package.json".to_string(),
            r#"{"name":"p","version":"1.0.0","main":"lib/m0.js","scripts":{"postinstall":"node lib/m1.js"}}"#.to_string(),
        )))
        .collect();
    let files: Vec<FileRef<'_>> = sources
        .iter()
        .map(|(p, d)| FileRef {
            path: p,
            data: d.as_bytes(),
        })
        .collect();
    let total: usize = sources.iter().map(|(_, d)| d.len()).sum();
    assert!(total > 2 << 20, "big enough to be split ({total} bytes)");
    let one = facts(
        &files,
        &Options {
            file_threads: 1,
            ..Options::default()
        },
    );
    for threads in [2, 3, 8] {
        let many = facts(
            &files,
            &Options {
                file_threads: threads,
                ..Options::default()
            },
        );
        assert_eq!(one, many, "file_threads = {threads}");
    }
    let m6 = one.js("lib/m6.js").expect("every script analysed");
    assert!(format!("{m6:?}").contains("h6.example.invalid"));
    assert_eq!(
        one.install_time_files.iter().collect::<Vec<_>>(),
        vec!["lib/m1.js"]
    );
}
