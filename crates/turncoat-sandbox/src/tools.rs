//! Trusted host tools for `turncoat drill`: node (Verdaccio), npm, git and the turncoat binary
//! itself. Package code never runs through here: every npm install the drill makes on the host
//! carries `--ignore-scripts` (the caller's duty, checked by [`Tool::run`] for `npm install`
//! and `npm ci`).
//!
//! Every run has a cleared environment (only what the caller passes), no shell, no stdin,
//! output captured up to a bound, and a time limit after which the whole process group is
//! killed. A long-running [`Service`] (the local registry) lives in its own process group that
//! is killed when the handle drops (also on an error path or a panic); its stdin is a pipe
//! held by the handle, so a wrapper that exits on end-of-input dies with turncoat even when
//! turncoat is killed (Ctrl-C, SIGKILL).

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default bound on captured stdout and stderr, each.
pub const DEFAULT_MAX_OUTPUT: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {secs} s and was killed; stderr: {stderr}")]
    Timeout {
        program: String,
        secs: u64,
        stderr: String,
    },
    #[error("refusing to run `npm {0}` on the host without --ignore-scripts")]
    ScriptsOnHost(String),
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

/// One host command, built without a shell.
#[derive(Debug, Clone)]
pub struct Tool {
    program: PathBuf,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
    max_output: usize,
}

/// What a finished [`Tool::run`] left.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Whether stdout or stderr went past the bound (the rest was read and dropped).
    pub truncated: bool,
    pub elapsed: Duration,
}

impl ToolOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code, or 128 + signal for a killed process.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }

    /// The last `n` bytes of stderr as text, for an error message.
    pub fn stderr_tail(&self, n: usize) -> String {
        tail(&self.stderr, n)
    }
}

fn tail(bytes: &[u8], n: usize) -> String {
    let start = bytes.len().saturating_sub(n);
    String::from_utf8_lossy(&bytes[start..]).trim().to_string()
}

impl Tool {
    /// A command with an empty environment, a 120 s limit and [`DEFAULT_MAX_OUTPUT`].
    pub fn new(program: impl Into<PathBuf>) -> Tool {
        Tool {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            timeout: Duration::from_secs(120),
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Tool {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Tool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Tool {
        self.cwd = Some(dir.into());
        self
    }

    /// Set one environment variable (the environment starts empty).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Tool {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Pass these variables through from turncoat's own environment, where set.
    pub fn pass_env(mut self, names: &[&str]) -> Tool {
        for name in names {
            if let Some(v) = std::env::var_os(name) {
                self.env.push((OsString::from(name), v));
            }
        }
        self
    }

    pub fn timeout(mut self, t: Duration) -> Tool {
        self.timeout = t;
        self
    }

    pub fn max_output(mut self, bytes: usize) -> Tool {
        self.max_output = bytes;
        self
    }

    fn name(&self) -> String {
        self.program
            .file_name()
            .unwrap_or(self.program.as_os_str())
            .to_string_lossy()
            .into_owned()
    }

    /// `npm install` / `npm ci` / `npm i` / `npm update` on the host must not run scripts.
    /// Fail closed: any argument naming an installing subcommand (an option's value could
    /// hide the real subcommand's position) needs a plain `--ignore-scripts`, and nothing may
    /// turn it back off.
    fn check_npm_scripts(&self) -> Result<(), ToolError> {
        let name = self.name();
        if name != "npm" && name != "npm-cli.js" {
            return Ok(());
        }
        let installs = [
            "install",
            "i",
            "ci",
            "update",
            "add",
            "rebuild",
            "isntall",
            "clean-install",
        ];
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let Some(sub) = args.iter().find(|a| installs.contains(&a.as_str())) else {
            return Ok(());
        };
        let ignored = args.iter().any(|a| a == "--ignore-scripts");
        let undone = args
            .iter()
            .any(|a| a.starts_with("--ignore-scripts=") || a == "--no-ignore-scripts")
            || self.env.iter().any(|(k, _)| {
                k.to_string_lossy()
                    .eq_ignore_ascii_case("npm_config_ignore_scripts")
            });
        if !ignored || undone {
            return Err(ToolError::ScriptsOnHost(sub.clone()));
        }
        Ok(())
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).env_clear();
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        // Its own process group: a timeout kills everything it started.
        cmd.process_group(0);
        cmd
    }

    fn spawn_error(&self, source: std::io::Error) -> ToolError {
        ToolError::Spawn {
            program: self.program.display().to_string(),
            source,
        }
    }

    /// Run to completion (or the time limit), capturing bounded stdout and stderr.
    pub fn run(&self) -> Result<ToolOutput, ToolError> {
        self.check_npm_scripts()?;
        let start = Instant::now();
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let out = Capture::start(child.stdout.take(), self.max_output);
        let err = Capture::start(child.stderr.take(), self.max_output);
        let status = match wait_until(&mut child, start + self.timeout) {
            Ok(Some(status)) => status,
            Ok(None) => {
                kill_group(&child);
                let _ = child.wait();
                let (stderr, _) = err.finish();
                let _ = out.finish();
                return Err(ToolError::Timeout {
                    program: self.name(),
                    secs: self.timeout.as_secs(),
                    stderr: tail(&stderr, 2000),
                });
            }
            Err(source) => {
                kill_group(&child);
                let _ = child.wait();
                return Err(ToolError::Wait {
                    program: self.name(),
                    source,
                });
            }
        };
        // The direct child is done; anything it left behind in its group goes too.
        kill_group(&child);
        let (stdout, t1) = out.finish();
        let (stderr, t2) = err.finish();
        Ok(ToolOutput {
            status,
            stdout,
            stderr,
            truncated: t1 || t2,
            elapsed: start.elapsed(),
        })
    }

    /// Start a long-running service. Its stdout and stderr are kept (bounded) for
    /// [`Service::log_tail`]; stdin is a pipe held until the handle drops.
    pub fn spawn_service(&self) -> Result<Service, ToolError> {
        self.check_npm_scripts()?;
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            let max = self.max_output;
            std::thread::spawn(move || drain_into(pipe, &log, max));
        }
        let stdin = child.stdin.take();
        Ok(Service {
            name: self.name(),
            child,
            stdin,
            log,
        })
    }
}

/// Reads a pipe on a thread, keeping at most `max` bytes and draining the rest.
struct Capture(Option<std::sync::mpsc::Receiver<(Vec<u8>, bool)>>);

/// How long to wait for a pipe to close once the process group is gone: a process that left
/// the group (setsid) may hold it open forever.
const PIPE_GRACE: Duration = Duration::from_secs(2);

impl Capture {
    fn start<R: Read + Send + 'static>(pipe: Option<R>, max: usize) -> Capture {
        Capture(pipe.map(|p| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let log = Mutex::new(Vec::new());
                let truncated = drain_into(p, &log, max);
                let _ = tx.send((log.into_inner().unwrap_or_default(), truncated));
            });
            rx
        }))
    }

    /// What was read; after [`PIPE_GRACE`] without end-of-file, nothing (marked truncated).
    fn finish(self) -> (Vec<u8>, bool) {
        match self.0 {
            None => (Vec::new(), false),
            Some(rx) => rx.recv_timeout(PIPE_GRACE).unwrap_or((Vec::new(), true)),
        }
    }
}

/// Copy `pipe` into `log` up to `max` bytes; returns whether anything was dropped.
fn drain_into<R: Read>(mut pipe: R, log: &Mutex<Vec<u8>>, max: usize) -> bool {
    let mut buf = [0u8; 8192];
    let mut truncated = false;
    loop {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => return truncated,
            Ok(n) => {
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                let room = max.saturating_sub(log.len());
                log.extend_from_slice(&buf[..n.min(room)]);
                truncated |= n > room;
            }
        }
    }
}

fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill_group(child: &Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        // The group may be gone already; nothing to do then.
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// A running service in its own process group, killed (group and all) on drop.
#[derive(Debug)]
pub struct Service {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Service {
    /// The exit status if the service has stopped.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `n` bytes of its output.
    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log.lock().unwrap_or_else(|e| e.into_inner()), n)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Kill the process group and reap the process.
    pub fn stop(&mut self) {
        self.stdin.take();
        kill_group(&self.child);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first executable `name` on `PATH` (no shell lookup rules beyond that).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Tool {
        Tool::new("/bin/sh").pass_env(&["PATH"])
    }

    #[test]
    fn the_environment_starts_empty() {
        assert!(std::env::var_os("PATH").is_some());
        let out = Tool::new("/usr/bin/env").run().unwrap();
        assert!(out.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        let out = Tool::new("/usr/bin/env").env("A", "1").run().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "A=1\n");
    }

    #[test]
    fn output_is_bounded_and_drained() {
        let out = sh()
            .args(["-c", "head -c 1000000 /dev/zero; echo done >&2"])
            .max_output(1000)
            .run()
            .unwrap();
        assert!(out.success(), "the child must not block on a full pipe");
        assert_eq!(out.stdout.len(), 1000);
        assert!(out.truncated);
        assert_eq!(out.stderr_tail(100), "done");
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let start = Instant::now();
        let err = sh()
            .args(["-c", &script])
            .timeout(Duration::from_millis(300))
            .run()
            .unwrap_err();
        assert!(matches!(err, ToolError::Timeout { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[test]
    fn a_finished_command_leaves_no_background_child() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let script = format!("(sleep 1; touch {}) &", marker.display());
        assert!(sh().args(["-c", &script]).run().unwrap().success());
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists());
    }

    #[test]
    fn a_process_that_leaves_the_group_cannot_hold_the_run_open() {
        let Some(setsid) = find_on_path("setsid") else {
            return;
        };
        let script = format!("{} sleep 30 & echo started", setsid.display());
        let start = Instant::now();
        let out = sh().args(["-c", &script]).run().unwrap();
        assert!(out.success());
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "run() waited for a detached process holding stdout"
        );
    }

    #[test]
    fn npm_installs_on_the_host_need_ignore_scripts() {
        for args in [
            vec!["install"],
            vec!["--prefix", "x", "ci"],
            vec!["i", "pkg@1.0.1"],
        ] {
            let err = Tool::new("npm").args(&args).run().unwrap_err();
            assert!(
                matches!(err, ToolError::ScriptsOnHost(_)),
                "{args:?}: {err}"
            );
        }
        // The path form of the program name is caught too.
        let err = Tool::new("/usr/bin/npm").arg("ci").run().unwrap_err();
        assert!(matches!(err, ToolError::ScriptsOnHost(_)));
        // Turned back off after the flag, by option or by environment.
        for tool in [
            Tool::new("npm").args(["ci", "--ignore-scripts", "--ignore-scripts=false"]),
            Tool::new("npm").args(["ci", "--ignore-scripts", "--no-ignore-scripts"]),
            Tool::new("npm")
                .args(["ci", "--ignore-scripts"])
                .env("npm_config_ignore_scripts", "false"),
        ] {
            assert!(matches!(
                tool.run().unwrap_err(),
                ToolError::ScriptsOnHost(_)
            ));
        }
    }

    #[test]
    fn a_service_group_dies_with_its_handle() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let script = format!("echo up; (sleep 1; touch {}) & sleep 30", marker.display());
        let mut svc = sh().args(["-c", &script]).spawn_service().unwrap();
        let start = Instant::now();
        while !svc.log_tail(100).contains("up") && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(svc.log_tail(100).contains("up"));
        assert!(svc.exited().is_none());
        drop(svc);
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "a child of the service outlived it");
    }

    #[test]
    fn finds_programs_on_path() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("no-such-program-turncoat").is_none());
    }
}
