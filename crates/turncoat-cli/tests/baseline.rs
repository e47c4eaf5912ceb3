//! `turncoat watch --baseline FILE`: the first run writes the baseline, an identical run finds
//! nothing new, a run that asks for a new name exits 1 and lists it, and a baseline that is not
//! one is a tool error (exit 2) that runs nothing and leaves the file alone.
//!
//! Hermetic: the only names asked for are under `.invalid`, and the sandbox answers them itself.
//! Needs `sh` and `getent` (glibc's resolver client); skips with a message on stderr without
//! them (`TURNCOAT_TEST_REQUIRE_TOOLS=1` turns the skip into a failure).

#![allow(
    clippy::print_stderr,
    reason = "a skipped test says why on stderr instead of passing silently"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_turncoat");

use common::have_tools;

/// A run's scratch space: `root/home` (HOME), `root/tmp` (TMPDIR), `root/project` (the cwd).
struct World {
    dir: tempfile::TempDir,
}

/// One finished `turncoat watch`.
struct Run {
    cmd: String,
    out: Output,
    events: String,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn report(&self) -> String {
        format!(
            "\n--- turncoat watch ... -- {}\n--- exit status: {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- events\n{}\n",
            self.cmd,
            self.out.status,
            String::from_utf8_lossy(&self.out.stdout),
            self.stderr(),
            self.events
        )
    }

    #[track_caller]
    fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.out.status.code(),
            Some(code),
            "exit status{}",
            self.report()
        );
    }

    /// The lines of the "new since the baseline" section of the summary, if any.
    fn novelties(&self) -> Option<Vec<String>> {
        let err = self.stderr();
        let mut lines = err
            .lines()
            .skip_while(|l| !l.contains("new since the baseline"));
        lines.next()?;
        Some(
            lines
                .take_while(|l| l.starts_with("    "))
                .map(|l| l.trim().to_string())
                .collect(),
        )
    }
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "tmp", "project"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        World { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    /// `turncoat watch --baseline <baseline> --events <file> -- sh -c <script>` in the project
    /// directory, with nothing from the test's environment but PATH.
    fn watch(&self, baseline: &Path, script: &str) -> Run {
        let events = self.root().join("events.jsonl");
        let _ = std::fs::remove_file(&events);
        let out = Command::new(BIN)
            .arg("watch")
            .arg("--baseline")
            .arg(baseline)
            .arg("--events")
            .arg(&events)
            .args(["--timeout", "15", "--", "sh", "-c", script])
            .current_dir(self.project())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root().join("home"))
            .env("TMPDIR", self.root().join("tmp"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run turncoat watch");
        let run = Run {
            cmd: format!("sh -c {script:?}"),
            out,
            events: std::fs::read_to_string(&events).unwrap_or_default(),
        };
        if std::env::var_os("TURNCOAT_WATCH_TEST_DUMP").is_some() {
            eprintln!("{}", run.report());
        }
        run
    }
}

fn lookup(name: &str) -> String {
    format!("getent hosts {name} || true")
}

#[test]
fn a_baseline_is_written_then_holds_then_catches_a_new_domain() {
    if !have_tools("baseline_cycle", &["sh", "getent"]) {
        return;
    }
    let world = World::new();
    let baseline = world.root().join("turncoat-baseline.json");
    let a = lookup("a.example.invalid");

    // 1. No baseline yet: this run writes it.
    let first = world.watch(&baseline, &a);
    let r = first.report();
    first.assert_exit(0);
    let written = std::fs::read_to_string(&baseline)
        .unwrap_or_else(|e| panic!("{} was not written ({e}){r}", baseline.display()));
    let doc: Value = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("the baseline is not JSON ({e}):\n{written}"));
    assert_eq!(doc["version"], 1, "{written}");
    let domains: Vec<&str> = doc["domains"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(domains, ["a.example.invalid"], "{written}{r}");
    for key in [
        "endpoints",
        "executables",
        "sensitive_reads",
        "persistence_writes",
    ] {
        assert!(doc[key].is_array(), "no {key} list:\n{written}");
    }
    assert!(
        doc["executables"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e == "-: getent")),
        "getent is not among the executables:\n{written}"
    );
    assert!(first.novelties().is_none(), "novelties on the first run{r}");

    // 2. The same command again: nothing new, and the baseline stays as it was.
    let second = world.watch(&baseline, &a);
    let r = second.report();
    second.assert_exit(0);
    assert!(
        second.novelties().is_none(),
        "novelties on an identical run{r}"
    );
    assert!(second.stderr().contains("nothing new"), "{r}");
    assert_eq!(
        std::fs::read_to_string(&baseline).ok().as_deref(),
        Some(written.as_str()),
        "the baseline changed{r}"
    );

    // 3. A new name: listed under "new since the baseline", exit 1, baseline untouched.
    let third = world.watch(&baseline, &lookup("b.example.invalid"));
    let r = third.report();
    third.assert_exit(1);
    let novel = third
        .novelties()
        .unwrap_or_else(|| panic!("no \"new since the baseline\" section{r}"));
    assert_eq!(
        novel
            .iter()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [["domain", "b.example.invalid"]],
        "{r}"
    );
    assert_eq!(
        std::fs::read_to_string(&baseline).ok().as_deref(),
        Some(written.as_str()),
        "a run with novelties rewrote the baseline{r}"
    );
}

#[test]
fn a_baseline_that_is_not_one_is_a_tool_error() {
    if !have_tools("baseline_corrupt", &["sh"]) {
        return;
    }
    let world = World::new();
    let marker = world.project().join("ran");
    let script = format!("touch {}", marker.display());
    for (what, text, says) in [
        (
            "truncated JSON",
            "{\"version\": 1, \"domains\": [",
            "not a turncoat watch baseline",
        ),
        (
            "another file",
            "# not JSON at all\n",
            "not a turncoat watch baseline",
        ),
        (
            "a future version",
            r#"{"version":99,"domains":[],"endpoints":[],"executables":[],"sensitive_reads":[],"persistence_writes":[]}"#,
            "baseline version 99 is not supported",
        ),
    ] {
        let baseline = world.root().join("baseline.json");
        std::fs::write(&baseline, text).expect("write baseline");
        let run = world.watch(&baseline, &script);
        let r = run.report();
        run.assert_exit(2);
        let err = run.stderr();
        assert!(
            err.contains(says),
            "{what}: stderr does not say {says:?}{r}"
        );
        assert!(
            err.contains(&baseline.display().to_string()),
            "{what}: stderr does not name the file{r}"
        );
        assert!(!marker.exists(), "{what}: the command ran anyway{r}");
        assert_eq!(
            std::fs::read_to_string(&baseline).ok().as_deref(),
            Some(text),
            "{what}: the baseline was overwritten{r}"
        );
    }
    // Control: with a usable (here: missing) baseline the same command does run.
    let fresh = world.watch(&world.root().join("fresh.json"), &script);
    fresh.assert_exit(0);
    assert!(
        marker.exists(),
        "the control run did not run the command{}",
        fresh.report()
    );
}
