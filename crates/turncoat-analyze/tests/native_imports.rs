//! Import tables of real native code, compiled here with the system C compiler: an addon that
//! gains `connect`/`getaddrinfo`/`execve` is blocked; one rebuilt with the same imports is not.

use std::path::Path;
use std::process::Command;

use turncoat_analyze::{Capability, DiffContext, FileRef, Options, VersionFacts};

/// Compile `src` as a shared object (a Node addon is one), or `None` when no C compiler is
/// installed (CI sets TURNCOAT_TEST_REQUIRE_TOOLS=1, where that is a failure).
#[allow(clippy::print_stderr)]
fn shared_object(dir: &Path, name: &str, src: &str) -> Option<Vec<u8>> {
    let c = dir.join(format!("{name}.c"));
    let so = dir.join(format!("{name}.node"));
    std::fs::write(&c, src).expect("write C source");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&c)
        .status();
    match status {
        Ok(s) if s.success() => Some(std::fs::read(&so).expect("read addon")),
        other => {
            assert!(
                std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
                "cc failed: {other:?}"
            );
            eprintln!("skipped: no working C compiler ({other:?})");
            None
        }
    }
}

fn facts(addon: &[u8]) -> VersionFacts {
    let manifest = br#"{"name":"pkg","version":"1.0.0","main":"index.js"}"#;
    let files = [
        FileRef {
            path: "package.json",
            data: manifest,
        },
        FileRef {
            path: "index.js",
            data: b"module.exports = require('./build/Release/addon.node');",
        },
        FileRef {
            path: "build/Release/addon.node",
            data: addon,
        },
    ];
    turncoat_analyze::facts(&files, &Options::default())
}

const PLAIN: &str =
    "#include <stdlib.h>\nint add(int a, int b) { void *p = malloc(4); free(p); return a + b; }\n";
const NETWORK: &str = r#"
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>
int beacon(void) {
    struct addrinfo *ai;
    if (getaddrinfo("c2.exfil.invalid", "443", 0, &ai)) return -1;
    int s = socket(ai->ai_family, SOCK_STREAM, 0);
    return connect(s, ai->ai_addr, ai->ai_addrlen);
}
int run(void) { char *argv[] = {"/bin/sh", 0}; return execv("/bin/sh", argv); }
"#;

#[test]
fn addon_gaining_network_and_exec_imports_is_denied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (Some(plain), Some(net)) = (
        shared_object(dir.path(), "plain", PLAIN),
        shared_object(dir.path(), "net", NETWORK),
    ) else {
        return;
    };
    let old = facts(&plain);
    let new = facts(&net);
    let native = &new.files["build/Release/addon.node"].native;
    assert!(
        native[&Capability::Network].iter().any(|n| n == "connect"),
        "{native:?}"
    );
    assert!(native[&Capability::Dns].iter().any(|n| n == "getaddrinfo"));
    assert!(
        native[&Capability::ChildProcess]
            .iter()
            .any(|n| n == "execv")
    );
    assert!(old.files["build/Release/addon.node"].native.is_empty());

    let f = turncoat_analyze::diff(&old, &new, &DiffContext::new("pkg", "1.0.0", "1.0.1"));
    let hits: Vec<_> = f
        .iter()
        .filter(|f| f.code == "new-native-capability")
        .collect();
    assert_eq!(hits.len(), 3, "{f:?}");

    // Rebuilt with the same imports: quiet.
    let again = facts(&net);
    let f = turncoat_analyze::diff(&new, &again, &DiffContext::new("pkg", "1.0.1", "1.0.2"));
    assert!(f.iter().all(|f| f.code != "new-native-capability"), "{f:?}");
}

#[test]
fn garbage_with_an_elf_header_is_harmless() {
    let mut junk = b"\x7fELF\x02\x01\x01".to_vec();
    junk.extend(std::iter::repeat_n(0xffu8, 4096));
    let f = facts(&junk);
    assert!(f.files["build/Release/addon.node"].native.is_empty());
}
