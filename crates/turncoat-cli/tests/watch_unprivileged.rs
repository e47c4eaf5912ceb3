//! `turncoat watch` as an ordinary user: the full tier through unprivileged user namespaces
//! (what CI runners without sudo get). Runs when the test itself runs as root (it drops to
//! `nobody` with setpriv); CI runs as root and sets TURNCOAT_TEST_REQUIRE_TOOLS.

#![allow(clippy::print_stderr)]

use std::os::unix::fs::chown;
use std::process::Command;

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn an_unprivileged_user_gets_the_full_tier() {
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !is_root() || !setpriv.exists() {
        assert!(
            std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
            "needs root and setpriv to drop to nobody"
        );
        eprintln!("SKIPPED: needs root (to drop to nobody) and /usr/bin/setpriv");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    chown(dir.path(), Some(65534), Some(65534)).unwrap();
    let out = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_turncoat"))
        .args(["watch", "--", "sh", "-c"])
        .arg("id -u; echo ok > written; getent hosts unpriv.exfil.invalid; cat /proc/1/environ; echo done")
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .env("TURNCOAT_TEST_SECRET", "unpriv-secret-marker")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ctx = format!("\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.starts_with("65534\n"),
        "the command runs as the caller{ctx}"
    );
    assert!(stdout.contains("done"), "{ctx}");
    assert!(
        dir.path().join("written").exists(),
        "the project is writable{ctx}"
    );
    assert!(
        stderr.contains("namespaces (user, mount, network, pid"),
        "full tier{ctx}"
    );
    assert!(
        stderr.contains("unpriv.exfil.invalid"),
        "the DNS query is reported as stopped{ctx}"
    );
    assert!(
        !stdout.contains("unpriv-secret-marker"),
        "the host environment never shows{ctx}"
    );
    // getent's own failure (NXDOMAIN) is the last status before `echo done`: exit 0.
    assert_eq!(out.status.code(), Some(0), "{ctx}");
}
