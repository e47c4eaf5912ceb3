//! `watch` fails with a clear error, never a silent empty run, when it cannot do its job.

use turncoat_sandbox::{SandboxError, WatchOptions, watch};

fn opts(cmd: &[&str]) -> (tempfile::TempDir, WatchOptions) {
    let dir = tempfile::tempdir().unwrap();
    let o = WatchOptions::new(
        cmd.iter().map(|s| s.to_string()).collect(),
        dir.path().to_path_buf(),
    );
    (dir, o)
}

#[test]
fn an_init_binary_that_is_not_turncoat_is_an_error() {
    let (_d, mut o) = opts(&["true"]);
    // /bin/true ignores the init argument and exits: the command never ran.
    o.init_exe = Some("/bin/true".into());
    match watch(o) {
        Err(SandboxError::Setup(msg)) => {
            assert!(msg.contains("init_main_if_requested"), "{msg}");
        }
        other => panic!("expected a setup error, got {other:?}"),
    }
}

#[test]
fn a_missing_command_is_named() {
    let (_d, o) = opts(&["definitely-not-a-command-turncoat"]);
    match watch(o) {
        Err(SandboxError::NotFound(name)) => assert_eq!(name, "definitely-not-a-command-turncoat"),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn an_empty_command_and_a_bad_allowlist_are_refused() {
    let (_d, o) = opts(&[]);
    assert!(matches!(watch(o), Err(SandboxError::NoCommand)));
    let (_d, mut o) = opts(&["true"]);
    o.allow_hosts = vec!["https://exa mple.invalid".into()];
    assert!(matches!(watch(o), Err(SandboxError::Allow(_))));
}
