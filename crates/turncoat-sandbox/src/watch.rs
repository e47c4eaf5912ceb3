//! `watch`: run a command in the recording, blocking sandbox and collect what it did.
//!
//! The supervisor (this process) re-executes the turncoat binary as the sandbox init
//! ([`crate::init`]), hands it the configuration over a control socket, then serves what the
//! init hands back: the DNS and proxy sockets bound on the sandbox's loopback (served from the
//! host network namespace, so only allowlisted hosts are reachable) and the seccomp listener.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::allow::{AllowError, Allowlist};
use crate::cgroup::{Cgroup, LimitReport, Limits};
use crate::event::{Event, EventKind, Recorder, Source, Verdict};
use crate::init::{self, InitConfig, PROXY_PORT};
use crate::supervisor::Supervisor;
use crate::{dns, paths, proxy, sys};

/// Audit records and lets through what the namespaces allow; block also fails, at the syscall,
/// sensitive reads, persistence writes and connections out, and makes the run fail (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Audit,
    Block,
}

/// Where the command's standard output and error go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Inherit,
    Null,
}

pub struct WatchOptions {
    pub mode: Mode,
    /// Program and arguments.
    pub command: Vec<String>,
    pub cwd: PathBuf,
    /// Hosts the resolver answers and the proxy reaches (see [`Allowlist::parse`]).
    pub allow_hosts: Vec<String>,
    /// Extra directories the command may write.
    pub allow_write: Vec<PathBuf>,
    /// Directories inside the writable places that the command may only read (full tier:
    /// each bind-mounted read-only onto itself; a link is refused). `turncoat install` shows
    /// an approved package the packages nested in its directory this way.
    pub read_only: Vec<PathBuf>,
    /// Extra environment variables passed through unchanged.
    pub pass_env: Vec<String>,
    /// Variables set for the command (after scrubbing), e.g. honeytokens.
    pub set_env: Vec<(String, String)>,
    /// `$HOME` for the command (default: the caller's).
    pub home: Option<PathBuf>,
    /// Secret paths to show unmasked (e.g. `~/.npmrc` for a private registry's token).
    pub unmask: Vec<PathBuf>,
    /// Honeytoken files: reads become `canary-read` events.
    pub canaries: Vec<PathBuf>,
    /// JSON Lines sink for events as they happen.
    pub events: Option<Box<dyn Write + Send>>,
    /// The binary that runs the sandbox init (default: this executable).
    pub init_exe: Option<PathBuf>,
    /// Kill the sandbox after this long.
    pub timeout: Option<Duration>,
    /// Address-space limit (RLIMIT_AS) for the command and its children.
    pub memory_limit: Option<u64>,
    /// Memory and process limits of the whole sandboxed tree (a cgroup, where one can be made).
    pub limits: Limits,
    pub output: Output,
    /// Run without namespaces (where they are unavailable): recording, Landlock for writes and
    /// TCP (only the proxy's port, ABI 4+); DNS, UDP and secret reads are not enforced.
    pub degraded: bool,
}

impl WatchOptions {
    pub fn new(command: Vec<String>, cwd: PathBuf) -> Self {
        WatchOptions {
            mode: Mode::Audit,
            command,
            cwd,
            allow_hosts: Vec::new(),
            allow_write: Vec::new(),
            read_only: Vec::new(),
            pass_env: Vec::new(),
            set_env: Vec::new(),
            home: None,
            unmask: Vec::new(),
            canaries: Vec::new(),
            events: None,
            init_exe: None,
            timeout: None,
            memory_limit: None,
            limits: Limits::defaults(),
            output: Output::Inherit,
            degraded: false,
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct WatchOutcome {
    /// The command's exit code (128 + signal when killed).
    pub exit_code: i32,
    pub events: Vec<Event>,
    /// `--block` stopped something.
    pub blocked: bool,
    pub timed_out: bool,
    pub duration: Duration,
    /// The isolation actually in force, for the report header.
    pub tier: String,
    /// Degradations worth telling the user (a mask that could not be applied, ...).
    pub warnings: Vec<String>,
    pub home: PathBuf,
    pub project: PathBuf,
    /// The cgroup limits: what enforced them, what they refused, or why none could be made.
    pub limits: LimitReport,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("{0}")]
    Unavailable(String),
    #[error("command not found: {0} (looked in the sandbox's PATH)")]
    NotFound(String),
    #[error("no command given")]
    NoCommand,
    #[error("setting up the sandbox failed: {0}")]
    Setup(String),
    #[error("invalid --allow-host: {0}")]
    Allow(#[from] AllowError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SandboxError {
    let what = what.into();
    move |source| SandboxError::Io { what, source }
}

/// Environment variables the command keeps; everything else (tokens, cloud keys, CI secrets)
/// is dropped unless named with `pass_env`.
const ENV_KEEP: &[&str] = &[
    "PATH",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "FORCE_COLOR",
    "LANG",
    "LANGUAGE",
    "TZ",
    "CI",
    "NODE_ENV",
    "NODE_OPTIONS",
    "NVM_DIR",
    "NVM_BIN",
    "COREPACK_HOME",
];

fn keep_env(key: &str) -> bool {
    if ENV_KEEP.contains(&key) || key.starts_with("LC_") {
        return true;
    }
    // npm settings pass, credentials among them do not.
    let lower = key.to_ascii_lowercase();
    lower.starts_with("npm_config_")
        && !["auth", "token", "password", "_pass", "cert", "key", "otp"]
            .iter()
            .any(|s| lower.contains(s))
        && !lower.contains("proxy")
}

/// Does `value` carry a URL with credentials in it (`https://user:TOKEN@host/`, or a bare
/// `https://TOKEN@host/`)? Anywhere in the value: `NODE_OPTIONS` and friends embed URLs too.
fn has_url_credentials(value: &str) -> bool {
    let mut rest = value;
    while let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        if after[..authority_end].contains('@') {
            return true;
        }
        rest = after;
    }
    false
}

/// Socket files of host daemons that resolve names or start containers outside the sandbox.
fn host_sockets(uid: u32) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [
        "/var/run/nscd/socket",
        "/run/nscd/socket",
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/run/containerd/containerd.sock",
        "/run/podman/podman.sock",
        "/run/dbus/system_bus_socket",
        "/var/run/dbus/system_bus_socket",
        "/run/systemd/resolve/io.systemd.Resolve",
        "/run/systemd/userdb/io.systemd.Multiplexer",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    v.push(PathBuf::from(format!("/run/user/{uid}/bus")));
    v.push(PathBuf::from(format!("/run/user/{uid}/docker.sock")));
    v.push(PathBuf::from(format!("/run/user/{uid}/podman/podman.sock")));
    v
}

/// Secret files and directories under `$HOME` that get an empty decoy.
const HOME_MASKS: &[&str] = &[
    ".npmrc",
    ".yarnrc",
    ".yarnrc.yml",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".docker/config.json",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".config/gh",
    ".config/configstore",
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".bitcoin",
    ".electrum",
    ".ethereum",
    ".config/Exodus",
    ".config/solana",
    ".local/share/keyrings",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".mozilla",
];

/// Private tmpfs directories of the full tier, with their size caps.
const PRIVATE_DIRS: &[(&str, &str)] = &[("/tmp", "1g"), ("/var/tmp", "1g"), ("/dev/shm", "256m")];

/// Package managers' caches under the home shown copy-on-write in an empty home (node-gyp's
/// headers, yarn, pnpm, bun): what the command reads is the user's, what it writes is dropped.
const HOME_CACHES: &[&str] = &[
    ".cache/node-gyp",
    ".node-gyp",
    ".cache/yarn",
    ".yarn/berry/cache",
    ".local/share/pnpm/store",
    ".pnpm-store",
    ".bun/install/cache",
];

/// Size caps of the private home and of each copy-on-write cache's private layer.
const HOME_SIZE: &str = "2g";
const CACHE_SIZE: &str = "4g";

/// The caller's own home, which the command must not see (a home given with
/// [`WatchOptions::home`] is a throwaway already), when it is a directory that holds neither
/// the project nor a temp directory: the full tier mounts an empty private tmpfs over it, the
/// degraded tier keeps its files from being read (Landlock).
fn own_home(opts: &WatchOptions, home: &Path, project: &Path) -> Option<PathBuf> {
    if opts.home.is_some() {
        return None;
    }
    let h = home.canonicalize().ok().filter(|h| h.is_dir())?;
    // Not the project or above it, not `/` or above a private temp directory.
    if h.starts_with(project)
        || PRIVATE_DIRS
            .iter()
            .any(|(d, _)| Path::new(d).starts_with(&h))
    {
        return None;
    }
    Some(h)
}

/// What the tools on PATH need from a private home: for a `bin` directory under it, the
/// directory above (`~/.nvm/versions/node/v22/bin` links into `../lib`), else the entry.
fn home_tools(home: &Path, path_var: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::env::split_paths(path_var)
        .filter(|p| p.is_absolute())
        .filter_map(|p| p.canonicalize().ok())
        .filter(|p| p.starts_with(home) && p != home)
        .map(|p| match p.parent() {
            Some(parent) if p.file_name() == Some("bin".as_ref()) && parent != home => {
                parent.to_path_buf()
            }
            _ => p,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// RLIMIT_NPROC of the command (a fork bomb stops here, not at the host's limit).
const PROCESS_LIMIT: u64 = 4096;

/// The paths under a private directory that must stay visible (the project, the homes, the
/// run directory, the program), each writable when Landlock lets the command write it: the
/// shallowest first, a path left out when an ancestor is kept the same way.
fn kept_paths<'a>(
    private: &[PathBuf],
    writable: &'a [PathBuf],
    candidates: impl IntoIterator<Item = &'a PathBuf>,
) -> Vec<(PathBuf, bool)> {
    let is_private = |p: &Path| private.iter().any(|d| d == p);
    let mut paths: Vec<(PathBuf, bool)> = candidates
        .into_iter()
        .chain(writable.iter())
        .filter_map(|p| p.canonicalize().ok())
        .filter(|p| private.iter().any(|d| p.starts_with(d) && p != d))
        .map(|p| {
            let rw = writable.iter().any(|w| !is_private(w) && p.starts_with(w));
            (p, rw)
        })
        .collect();
    paths.sort();
    paths.dedup();
    let mut out: Vec<(PathBuf, bool)> = Vec::new();
    for (p, rw) in paths {
        // An ancestor bound the same way covers `p`, unless a private directory between them
        // (a home under a private /tmp) hides that bind.
        let covered = out
            .iter()
            .rev()
            .find(|(q, _)| p.starts_with(q))
            .is_some_and(|(q, qrw)| {
                *qrw == rw && !private.iter().any(|d| p.starts_with(d) && d.starts_with(q))
            });
        if !covered {
            out.push((p, rw));
        }
    }
    out
}

const RESOLV_CONF: &str = "# turncoat watch: the sandbox's resolver (every name is logged)\nnameserver 127.0.0.1\noptions edns0\n";
const NSSWITCH: &str = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n";

/// Run the command in the sandbox, in stages: who it runs as, the view it gets (files, masks,
/// writable places), its environment, the init spawned with that configuration, the run
/// served until the init exits, then what the run left behind and the outcome.
pub fn watch(mut opts: WatchOptions) -> Result<WatchOutcome, SandboxError> {
    let started = Instant::now();
    if opts.command.is_empty() {
        return Err(SandboxError::NoCommand);
    }
    let allow = Arc::new(Allowlist::parse(&opts.allow_hosts)?);
    let project = opts
        .cwd
        .canonicalize()
        .map_err(io_err(format!("project directory {}", opts.cwd.display())))?;
    let mut warnings = Vec::new();
    let mut limits_unavailable = None;
    let id = identity(&opts, &project, &mut warnings);
    let run = RunDir::create(id.run_as)?;
    let mut view = prepare_view(&opts, &project, &id, &run)?;
    // Removed on every way out of here, early errors included.
    let mut placeholders = Placeholders(std::mem::take(&mut view.placeholders));
    warnings.extend(view.notes.iter().cloned());

    // Degraded tier: the proxy listens on a free port of the host's loopback.
    let host_proxy = if opts.degraded {
        let l =
            std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(io_err("binding the proxy"))?;
        let port = l.local_addr().map_err(io_err("binding the proxy"))?.port();
        Some((l, port))
    } else {
        None
    };
    let proxy_port = host_proxy.as_ref().map_or(PROXY_PORT, |(_, p)| *p);
    let env = command_env(&opts, &id.home, &run.tmp, proxy_port, &view.npm_cache);
    let cfg = init_config(&opts, &project, &id, &run, view.clone(), env, proxy_port)?;

    // Under --block the files' contents are kept too: what a race gets past is put back.
    let persistence_before = if opts.mode == Mode::Block {
        crate::persist::Snapshot::take_keeping(&project, view.linked_entries.clone())
    } else {
        crate::persist::Snapshot::take_with(&project, view.linked_entries.clone())
    };
    let recorder = match opts.events.take() {
        Some(sink) => Recorder::with_sink(sink),
        None => Recorder::new(),
    };
    let cgroup = match Cgroup::create(opts.limits) {
        Ok(cg) => cg,
        Err(crate::cgroup::Unavailable(why)) => {
            warnings.push(format!(
                "memory and process limits are not enforced by a cgroup here ({why}); only \
                 RLIMIT_NPROC applies"
            ));
            limits_unavailable = Some(why);
            None
        }
    };
    let (mut child, sup_end, init_exe) = spawn_init(&opts, &cfg, cgroup.as_ref())?;

    // Kill the whole sandbox on timeout: the init dies, and with it (PDEATHSIG, pid namespace)
    // everything inside.
    let timed_out = Arc::new(AtomicBool::new(false));
    let child_pid = child.id() as i32;
    // Dropping `done_tx` (when the command has ended) wakes the timer at once.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let timer = opts.timeout.map(|t| {
        let timed_out = timed_out.clone();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(t) {
                timed_out.store(true, Ordering::Relaxed);
                kill_tree(child_pid);
            }
        })
    });

    let supervisor = supervisor_for(&opts, &project, &id, &view, &cfg, &allow, &recorder);
    let mut served = Served::new(host_proxy.map(|(l, _)| l), &allow, &recorder);
    served.serve(&sup_end, child_pid, &cfg, &allow, &recorder, supervisor)?;
    let status = child.wait().map_err(io_err("waiting for the sandbox"))?;
    drop(done_tx);
    served.shut_down();
    if let Some(t) = timer {
        let _ = t.join();
    }
    served.into_result(&status, &init_exe, &mut warnings)?;
    let limits = match cgroup {
        Some(cg) => {
            let report = cg.report();
            warnings.extend(cg.finish());
            report
        }
        None => LimitReport {
            memory_max: opts.limits.memory_max,
            pids_max: opts.limits.pids_max,
            unavailable: limits_unavailable,
            ..LimitReport::default()
        },
    };
    record_limits(&limits, &recorder);

    use std::os::unix::process::ExitStatusExt;
    let exit_code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    if let Some(e) = recorder.sink_error() {
        warnings.push(format!("writing the events file: {e}"));
    }
    warnings.extend(record_persistence_changes(
        &persistence_before,
        opts.mode,
        &recorder,
    ));
    warnings.extend(placeholders.remove_all());
    let events = recorder.events();
    let blocked = opts.mode == Mode::Block && events.iter().any(|e| e.verdict == Verdict::Deny);
    Ok(WatchOutcome {
        exit_code,
        events,
        blocked,
        timed_out: timed_out.load(Ordering::Relaxed),
        duration: started.elapsed(),
        tier: tier_label(opts.degraded, view.unread_home.is_some()),
        warnings,
        home: id.home,
        project,
        limits,
    })
}

/// A limit the tree reached is an event (in the events file, failing `--block`).
fn record_limits(r: &LimitReport, recorder: &Recorder) {
    if r.pids_max_hits > 0 {
        recorder.record(
            Event::new(
                EventKind::Limit,
                "pids.max".to_string(),
                Verdict::Deny,
                Source::Supervisor,
            )
            .detail(format!(
                "{} fork/clone refused at the limit of {} processes",
                r.pids_max_hits,
                r.pids_max.unwrap_or(0)
            )),
        );
    }
    if r.oom_kills > 0 || r.memory_max_hits > 0 {
        recorder.record(
            Event::new(
                EventKind::Limit,
                "memory.max".to_string(),
                Verdict::Deny,
                Source::Supervisor,
            )
            .detail(format!(
                "memory limit of {} bytes reached {} time(s); {} process(es) killed by the OOM killer",
                r.memory_max.unwrap_or(0),
                r.memory_max_hits,
                r.oom_kills
            )),
        );
    }
}

/// Who runs the command, and the home it is given.
struct Identity {
    uid: u32,
    euid: u32,
    /// The ids the command drops to (a root supervisor: the sudo invoker or the project's owner).
    run_as: Option<(u32, u32)>,
    /// Root with no one to drop to: uid 0 without capabilities, root-only files masked.
    stays_root: bool,
    real_home: PathBuf,
    home: PathBuf,
}

fn identity(opts: &WatchOptions, project: &Path, warnings: &mut Vec<String>) -> Identity {
    let uid = sys::getuid();
    let euid = sys::geteuid();
    // Root never runs the command as root when it can help it: the invoking user (sudo), else
    // the project's owner. A project owned by root leaves uid 0 (without any capability) and
    // root-only files masked; the summary says so.
    let run_as = if euid == 0 {
        sudo_invoker().or_else(|| project_owner(project))
    } else {
        None
    };
    let stays_root = euid == 0 && run_as.is_none();
    if stays_root {
        warnings.push(
            "the command runs as uid 0 (no capabilities) because turncoat runs as root and the project \
             belongs to root: files only root may read are masked where known, not all. Run turncoat \
             as the project's owner, or give the checkout to an unprivileged user."
                .to_string(),
        );
    }
    let real_home = match run_as {
        Some((u, _)) => sys::home_of(u),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .or_else(|| sys::home_of(uid)),
    }
    .unwrap_or_else(|| PathBuf::from("/"));
    let home = opts.home.clone().unwrap_or_else(|| real_home.clone());
    Identity {
        uid,
        euid,
        run_as,
        stays_root,
        real_home,
        home,
    }
}

/// The run directory: the files bound into the sandbox and its private TMPDIR. Removed when
/// dropped (after the run).
struct RunDir {
    dir: tempfile::TempDir,
    resolv: PathBuf,
    nsswitch: PathBuf,
    socket_mask: PathBuf,
    decoy: PathBuf,
    tmp: PathBuf,
}

impl RunDir {
    fn create(run_as: Option<(u32, u32)>) -> Result<RunDir, SandboxError> {
        let dir = tempfile::Builder::new()
            .prefix("turncoat-watch-")
            .tempdir()
            .map_err(io_err("creating the sandbox run directory"))?;
        let write = |name: &str, text: &str, mode: u32| -> Result<PathBuf, SandboxError> {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join(name);
            std::fs::write(&p, text).map_err(io_err(format!("writing {}", p.display())))?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                .map_err(io_err(format!("chmod {}", p.display())))?;
            Ok(p)
        };
        let resolv = write("resolv.conf", RESOLV_CONF, 0o444)?;
        let nsswitch = write("nsswitch.conf", NSSWITCH, 0o444)?;
        let socket_mask = write("masked-socket", "", 0o000)?;
        let decoy = write("decoy", "", 0o444)?;
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).map_err(io_err("creating the sandbox TMPDIR"))?;
        if let Some((u, g)) = run_as {
            // The command runs as the invoking user: it must own its TMPDIR.
            let _ = std::os::unix::fs::chown(&tmp, Some(u), Some(g));
        }
        Ok(RunDir {
            dir,
            resolv,
            nsswitch,
            socket_mask,
            decoy,
            tmp,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The filesystem the command sees: what is bound, masked, private, copy-on-write, writable.
#[derive(Clone)]
struct View {
    binds: Vec<(PathBuf, PathBuf, bool)>,
    mask_dirs: Vec<PathBuf>,
    /// Paths the command cannot read or reach (for the supervisor's verdicts).
    masked: Vec<PathBuf>,
    private_dirs: Vec<(PathBuf, String)>,
    overlays: Vec<(PathBuf, String)>,
    writable: Vec<PathBuf>,
    /// Where the sandbox's own unix sockets may live: not the host's /tmp (ssh-agent, X11).
    own_dirs: Vec<PathBuf>,
    npm_cache: PathBuf,
    private_home: Option<PathBuf>,
    /// Degraded tier: the home whose files the command may not read (Landlock).
    unread_home: Option<PathBuf>,
    exposed_in_home: Vec<PathBuf>,
    /// Empty entries made in the project for the run (see [`host_masks`]).
    placeholders: Vec<Placeholder>,
    /// Where the project's persistence entries that are links point.
    linked_entries: Vec<(PathBuf, &'static str)>,
    /// What the summary should say about the view (a configured npm cache not shown, ...).
    notes: Vec<String>,
}

/// An empty file or directory turncoat made in the project to mount read-only over, and
/// removes after the run if it is still that same empty entry.
#[derive(Clone)]
struct Placeholder {
    path: PathBuf,
    ino: u64,
    dir: bool,
}

impl Placeholder {
    fn create(path: &Path, dir: bool) -> Option<Placeholder> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
        let made = if dir {
            std::fs::DirBuilder::new().mode(0o555).create(path)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
                .map(drop)
        };
        made.ok()?;
        let ino = path.symlink_metadata().ok()?.ino();
        Some(Placeholder {
            path: path.to_path_buf(),
            ino,
            dir,
        })
    }

    /// After the run (every sandboxed process gone): remove it unless something replaced or
    /// filled it, which is then said.
    fn remove(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let same = self.path.symlink_metadata().is_ok_and(|m| {
            m.ino() == self.ino
                && if self.dir {
                    m.is_dir()
                        && std::fs::read_dir(&self.path).is_ok_and(|mut d| d.next().is_none())
                } else {
                    m.is_file() && m.len() == 0
                }
        });
        let removed = same
            && if self.dir {
                std::fs::remove_dir(&self.path).is_ok()
            } else {
                std::fs::remove_file(&self.path).is_ok()
            };
        (!removed).then(|| {
            format!(
                "{} was an empty read-only placeholder during the run and is no longer (left in place)",
                self.path.display()
            )
        })
    }
}

/// The run's placeholders, removed when dropped if not before.
struct Placeholders(Vec<Placeholder>);

impl Placeholders {
    fn remove_all(&mut self) -> Vec<String> {
        self.0.drain(..).filter_map(|p| p.remove()).collect()
    }
}

impl Drop for Placeholders {
    fn drop(&mut self) {
        self.remove_all();
    }
}

fn prepare_view(
    opts: &WatchOptions,
    project: &Path,
    id: &Identity,
    run: &RunDir,
) -> Result<View, SandboxError> {
    // Full tier, the caller's own home: the command sees an empty private home (a tmpfs)
    // instead of the real one minus a list, with only the project, the tools on PATH under
    // it, what --allow-write/--allow-read name and a copy-on-write npm cache shown through.
    let own = own_home(opts, &id.home, project);
    let exposed_in_home = match &own {
        Some(h) => exposed_in_home(opts, project, h),
        None => Vec::new(),
    };
    let (private_home, unread_home) = if opts.degraded {
        // Without Landlock nothing keeps it unread: the reads are only recorded.
        (None, own.filter(|_| crate::fence::kernel_abi() > 0))
    } else {
        (own, None)
    };
    let mut view = View {
        binds: Vec::new(),
        mask_dirs: Vec::new(),
        masked: Vec::new(),
        private_dirs: Vec::new(),
        overlays: Vec::new(),
        writable: Vec::new(),
        own_dirs: Vec::new(),
        npm_cache: PathBuf::new(),
        private_home,
        unread_home,
        exposed_in_home,
        placeholders: Vec::new(),
        linked_entries: linked_entries(project, &id.home, run.path()),
        notes: Vec::new(),
    };
    host_masks(&mut view, opts, project, id, run);
    if !opts.degraded {
        // The degraded tier has no mount namespace: nothing can be masked, only recorded.
        home_masks(&mut view, opts, project, id, run);
    }
    writable_places(&mut view, opts, project, id, run)?;
    if !opts.degraded {
        for p in &opts.read_only {
            match std::fs::symlink_metadata(p) {
                Ok(m) if m.is_dir() => view.binds.push((p.clone(), p.clone(), true)),
                Ok(_) => {
                    return Err(SandboxError::Setup(format!(
                        "{} is not a directory; cannot show it read-only",
                        p.display()
                    )));
                }
                Err(_) => {}
            }
        }
    }
    Ok(view)
}

/// [`paths::linked_persistence_entries`], less a target that holds a place the command must
/// write (the home, a temp directory, the run directory): a link planted in an earlier run
/// must not freeze those under `--block`.
fn linked_entries(project: &Path, home: &Path, rundir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut must_write: Vec<PathBuf> = PRIVATE_DIRS.iter().map(|(d, _)| PathBuf::from(d)).collect();
    must_write.extend([home.to_path_buf(), rundir.to_path_buf()]);
    let must_write: Vec<PathBuf> = must_write
        .iter()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect();
    paths::linked_persistence_entries(project)
        .into_iter()
        .filter(|(t, _)| !must_write.iter().any(|w| w.starts_with(t)))
        .collect()
}

fn exposed_in_home(opts: &WatchOptions, project: &Path, home: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    // A command named by its path (`~/.nvm/versions/node/v22/bin/npm`) is a tool too.
    if let Some(cmd) = opts.command.first().filter(|c| c.contains('/'))
        && let Some(dir) = project.join(cmd).parent()
    {
        dirs.push(dir.to_path_buf());
    }
    let path_var = std::env::join_paths(dirs).unwrap_or_default();
    let mut v = home_tools(home, &path_var.to_string_lossy());
    v.push(project.to_path_buf());
    v.extend(
        opts.allow_write
            .iter()
            .chain(&opts.unmask)
            .map(|p| paths::normalise(&project.join(p))),
    );
    v.retain(|p| p.starts_with(home));
    v
}

/// The resolver configuration, host daemon sockets, root-only files, the project's
/// persistence entries under --block, host resolver directories.
fn host_masks(view: &mut View, opts: &WatchOptions, project: &Path, id: &Identity, run: &RunDir) {
    for (src, target) in [
        (&run.resolv, "/etc/resolv.conf"),
        (&run.nsswitch, "/etc/nsswitch.conf"),
    ] {
        if Path::new(target).exists() {
            view.binds.push((src.clone(), PathBuf::from(target), true));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for sock in host_sockets(id.run_as.map_or(id.uid, |(u, _)| u)) {
        // Absent or masked, a connect to these must never reach the host: always a denial.
        view.masked.push(sock.clone());
        if sock.symlink_metadata().is_err() {
            continue;
        }
        let real = sock.canonicalize().unwrap_or_else(|_| sock.clone());
        view.masked.push(real.clone());
        if seen.insert(real.clone()) {
            view.binds.push((run.socket_mask.clone(), real, true));
        }
    }
    if id.stays_root {
        for f in root_only_files() {
            view.binds.push((run.decoy.clone(), f.clone(), true));
            view.masked.push(f);
        }
    }
    // Under --block the project's persistence entries are read-only mounts: the kernel refuses
    // every write, whatever path, link, fd or race leads there. The top-level directory is
    // mounted (`.git`, not `.git/hooks`): a mount point cannot be renamed away. An entry that
    // does not exist gets an empty placeholder for the run (removed after it), mounted the
    // same way, so that it cannot be created either.
    if opts.mode == Mode::Block && !opts.degraded {
        for root in paths::project_persistence_roots() {
            let p = project.join(root);
            let exists = match p.symlink_metadata() {
                Ok(m) => !m.file_type().is_symlink(),
                Err(_) => {
                    match Placeholder::create(&p, paths::project_persistence_root_is_dir(root)) {
                        Some(ph) => {
                            view.placeholders.push(ph);
                            true
                        }
                        None => false,
                    }
                }
            };
            if exists {
                view.binds.push((p.clone(), p, true));
            }
        }
        for (target, _) in view.linked_entries.clone() {
            view.binds.push((target.clone(), target, true));
        }
    }
    // cgroup file systems: the command must not move itself out of the run's cgroup, raise its
    // limits or read the host's (an empty read-only tmpfs over each mount).
    for dir in cgroup_masks() {
        view.mask_dirs.push(dir);
    }
    for dir in ["/run/nscd", "/run/systemd/resolve"] {
        let d = Path::new(dir);
        if d.is_dir() {
            view.mask_dirs.push(d.to_path_buf());
            view.masked.push(d.to_path_buf());
            view.masked.push(PathBuf::from(format!("/var{dir}")));
        }
    }
}

/// Where cgroup file systems are mounted, the common parent `/sys/fs/cgroup` standing for all
/// beneath it.
fn cgroup_masks() -> Vec<PathBuf> {
    let top = Path::new("/sys/fs/cgroup");
    let mut v: Vec<PathBuf> = top
        .is_dir()
        .then(|| top.to_path_buf())
        .into_iter()
        .collect();
    for m in crate::cgroup::mounts() {
        if !m.point.starts_with(top) && m.point.is_dir() && !v.contains(&m.point) {
            v.push(m.point);
        }
    }
    v
}

/// Secrets in the home that the command can still see: all of them for a home given with
/// [`WatchOptions::home`], those under what is shown through a private home otherwise.
fn home_masks(view: &mut View, opts: &WatchOptions, project: &Path, id: &Identity, run: &RunDir) {
    let unmask: Vec<PathBuf> = opts
        .unmask
        .iter()
        .map(|p| paths::normalise(&project.join(p)))
        .collect();
    for homes in [&id.real_home, &id.home] {
        for rel in HOME_MASKS {
            let p = homes.join(rel);
            let hidden = view.private_home.as_ref().is_some_and(|h| p.starts_with(h))
                && !view.exposed_in_home.iter().any(|e| p.starts_with(e));
            if hidden {
                // Not in the empty home at all: nothing to mask.
                continue;
            }
            if unmask.iter().any(|u| u == &p)
                || opts
                    .canaries
                    .iter()
                    .any(|c| c.starts_with(&p) || p.starts_with(c))
            {
                continue;
            }
            match p.symlink_metadata() {
                Ok(m) if m.is_dir() => view.mask_dirs.push(p.clone()),
                Ok(_) => view.binds.push((run.decoy.clone(), p.clone(), true)),
                Err(_) => continue,
            }
            view.masked.push(p);
        }
    }
}

/// Writable: the project, temp, the npm cache (copy-on-write in the full tier, a private
/// directory in the degraded one), the private or throwaway home, what the caller adds.
fn writable_places(
    view: &mut View,
    opts: &WatchOptions,
    project: &Path,
    id: &Identity,
    run: &RunDir,
) -> Result<(), SandboxError> {
    view.npm_cache = if opts.degraded {
        let c = run.path().join("npm-cache");
        std::fs::create_dir(&c).map_err(io_err("creating the sandbox's npm cache"))?;
        if let Some((u, g)) = id.run_as {
            let _ = std::os::unix::fs::chown(&c, Some(u), Some(g));
        }
        c
    } else {
        let choice = crate::npm_cache::choose(&npm_cache_inputs(project, id));
        view.notes.extend(choice.refused);
        choice.dir
    };
    // Full tier: /tmp, /var/tmp and /dev/shm are private, size-capped tmpfs (host sockets and
    // files there are invisible, nothing written stays), and so is the home. Degraded tier:
    // they are the host's, so not writable at all; the private TMPDIR is.
    if !opts.degraded {
        view.private_dirs = PRIVATE_DIRS
            .iter()
            .map(|(d, size)| (PathBuf::from(d), size.to_string()))
            .filter(|(d, _)| d.is_dir())
            .collect();
        if let Some(h) = &view.private_home {
            view.private_dirs.push((h.clone(), HOME_SIZE.to_string()));
        }
        // The npm cache, and under an empty home the other package managers' caches: read
        // from the host, written privately (never poisoned for a later run outside).
        let mut caches = vec![view.npm_cache.clone()];
        if let Some(h) = &view.private_home {
            caches.extend(HOME_CACHES.iter().map(|rel| h.join(rel)));
        }
        let mut overlays: Vec<(PathBuf, String)> = caches
            .iter()
            .filter_map(|c| c.canonicalize().ok())
            .filter(|c| c.is_dir())
            .map(|c| (c, CACHE_SIZE.to_string()))
            .collect();
        overlays.sort();
        // One overlay per tree: a cache inside another is in that one's view already.
        overlays.dedup_by(|later, earlier| later.0.starts_with(&earlier.0));
        view.overlays = overlays;
    }
    let allow_write: Vec<PathBuf> = opts
        .allow_write
        .iter()
        .map(|p| paths::normalise(&project.join(p)))
        .collect();
    let private: Vec<PathBuf> = view.private_dirs.iter().map(|(d, _)| d.clone()).collect();
    view.writable = vec![
        project.to_path_buf(),
        run.tmp.clone(),
        view.npm_cache.clone(),
    ];
    view.writable.extend(private.iter().cloned());
    if opts.home.is_some() {
        view.writable.push(id.home.clone());
    }
    view.writable.extend(allow_write.iter().cloned());
    view.own_dirs = vec![project.to_path_buf(), run.tmp.clone()];
    view.own_dirs.extend(private);
    view.own_dirs.extend(allow_write);
    Ok(())
}

/// What [`crate::npm_cache::choose`] needs: the caller's and the project's npm configuration
/// (each read without following a link, at most 1 MiB), and the secrets a cache must not hold.
fn npm_cache_inputs<'a>(project: &'a Path, id: &'a Identity) -> crate::npm_cache::Inputs<'a> {
    let read = |p: &Path| -> Option<String> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(p)
            .ok()?;
        if !f.metadata().ok()?.is_file() {
            return None;
        }
        let mut s = String::new();
        f.take(1 << 20).read_to_string(&mut s).ok()?;
        Some(s)
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let user_config = env("NPM_CONFIG_USERCONFIG")
        .or_else(|| env("npm_config_userconfig"))
        .map(PathBuf::from)
        .unwrap_or_else(|| id.real_home.join(".npmrc"));
    let secrets = [&id.real_home, &id.home]
        .iter()
        .flat_map(|h| HOME_MASKS.iter().map(move |rel| h.join(rel)))
        .collect();
    crate::npm_cache::Inputs {
        env_cache: env("npm_config_cache").or_else(|| env("NPM_CONFIG_CACHE")),
        project_npmrc: read(&project.join(".npmrc")),
        user_npmrc: read(&user_config),
        home: &id.home,
        real_home: &id.real_home,
        project,
        secrets,
        uid: id.run_as.map_or(id.uid, |(u, _)| u),
    }
}

/// The command's environment: an allowlist of the caller's, then our proxy and temp settings.
fn command_env(
    opts: &WatchOptions,
    home: &Path,
    tmp: &Path,
    proxy_port: u16,
    npm_cache: &Path,
) -> Vec<(String, String)> {
    let proxy_url = format!("http://127.0.0.1:{proxy_port}");
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, v)| {
            (keep_env(k) || opts.pass_env.iter().any(|p| p == k)) && !has_url_credentials(v)
        })
        .collect();
    env.retain(|(k, _)| k != "HOME" && k != "TMPDIR");
    env.push(("HOME".into(), home.display().to_string()));
    let tmpdir = if opts.degraded {
        tmp.to_path_buf()
    } else {
        PathBuf::from("/tmp")
    };
    env.push(("TMPDIR".into(), tmpdir.display().to_string()));
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "npm_config_proxy",
        "npm_config_https_proxy",
        "YARN_HTTP_PROXY",
        "YARN_HTTPS_PROXY",
        "PIP_PROXY",
        "GLOBAL_AGENT_HTTP_PROXY",
    ] {
        env.push((k.into(), proxy_url.clone()));
    }
    for k in ["NO_PROXY", "no_proxy", "npm_config_noproxy"] {
        env.push((k.into(), String::new()));
    }
    env.push(("NODE_USE_ENV_PROXY".into(), "1".into()));
    env.push(("TURNCOAT_WATCH".into(), "1".into()));
    // The cache chosen for the run (degraded: the run's own; full: the configured one shown
    // copy-on-write): the environment beats any `.npmrc`, the project's included.
    env.retain(|(k, _)| !k.eq_ignore_ascii_case("npm_config_cache"));
    env.push(("npm_config_cache".into(), npm_cache.display().to_string()));
    for (k, v) in &opts.set_env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    if !env.iter().any(|(k, _)| k == "PATH") {
        env.push(("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()));
    }
    env
}

/// Everything the init needs: the program found on the sandbox's PATH, the id maps, the view.
fn init_config(
    opts: &WatchOptions,
    project: &Path,
    id: &Identity,
    run: &RunDir,
    view: View,
    env: Vec<(String, String)>,
    proxy_port: u16,
) -> Result<InitConfig, SandboxError> {
    let path_var = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let program = find_program(&opts.command[0], &path_var, project)
        .ok_or_else(|| SandboxError::NotFound(opts.command[0].clone()))?;
    let private: Vec<PathBuf> = view
        .private_dirs
        .iter()
        .chain(&view.overlays)
        .map(|(d, _)| d.clone())
        .collect();
    let project_buf = project.to_path_buf();
    let rd = run.path().to_path_buf();
    let mut candidates = vec![&project_buf, &id.home, &id.real_home, &rd, &program];
    candidates.extend(&view.exposed_in_home);
    let keep = kept_paths(&private, &view.writable, candidates);
    let readable = view.unread_home.as_ref().map(|h| {
        let mut shown = view.exposed_in_home.clone();
        shown.extend([program.clone(), rd.clone()]);
        crate::fence::readable_around(std::slice::from_ref(h), &shown)
    });
    let (uid_map, gid_map, deny_setgroups) = if id.euid == 0 {
        (
            "0 0 4294967295".to_string(),
            "0 0 4294967295".to_string(),
            false,
        )
    } else {
        (
            format!("{u} {u} 1", u = id.uid),
            format!("{g} {g} 1", g = sys::getgid()),
            true,
        )
    };
    Ok(InitConfig {
        uid_map,
        gid_map,
        deny_setgroups,
        run_as: id.run_as,
        cwd: project_buf,
        program,
        argv: opts.command.clone(),
        env,
        binds: view.binds,
        mask_dirs: view.mask_dirs,
        private_dirs: view.private_dirs,
        keep,
        overlays: view.overlays,
        readable,
        process_limit: opts.limits.pids_max.map(|_| PROCESS_LIMIT),
        writable: view.writable,
        memory_limit: opts.memory_limit,
        degraded_tcp_ports: opts.degraded.then(|| vec![proxy_port]),
    })
}

/// Start the sandbox init and hand it its configuration over the control socket.
fn spawn_init(
    opts: &WatchOptions,
    cfg: &InitConfig,
    cgroup: Option<&Cgroup>,
) -> Result<(std::process::Child, std::os::fd::OwnedFd, PathBuf), SandboxError> {
    let (sup_end, child_end) =
        sys::seqpacket_pair().map_err(io_err("creating the control socket"))?;
    sys::set_passcred(&sup_end).map_err(io_err("SO_PASSCRED"))?;
    let init_exe = match opts.init_exe.clone() {
        Some(p) => p,
        // Our own image, even if the file was replaced or deleted since we started (an upgrade
        // or a rebuild while running): the forked child execs what its parent is running.
        None => PathBuf::from("/proc/self/exe"),
    };
    let mut cmd = Command::new(&init_exe);
    cmd.arg(init::INIT_ARG)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::inherit());
    if opts.output == Output::Null {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
    }
    sys::pass_as_fd3(&mut cmd, child_end.as_raw_fd());
    let mut child = cmd.spawn().map_err(io_err(format!(
        "starting the sandbox init ({})",
        init_exe.display()
    )))?;
    drop(child_end);
    // Into the run's cgroup while the init still waits for its configuration: nothing it
    // starts runs outside the limits.
    if let Some(cg) = cgroup
        && let Err(e) = cg.add(child.id())
    {
        let _ = child.kill();
        let _ = child.wait();
        return Err(SandboxError::Setup(format!(
            "moving the sandbox into its cgroup: {e}"
        )));
    }

    let cfg_json = serde_json::to_vec(cfg).map_err(|e| SandboxError::Setup(e.to_string()))?;
    if let Err(e) = sys::send_msg(sup_end.as_raw_fd(), &cfg_json, &[]) {
        let status = child
            .wait()
            .map_err(io_err("waiting for the sandbox init"))?;
        return Err(SandboxError::Setup(format!(
            "the sandbox init ({}) exited ({status}) before taking its configuration ({e}); the binary must call \
             turncoat_sandbox::init_main_if_requested() first thing in main",
            init_exe.display()
        )));
    }
    Ok((child, sup_end, init_exe))
}

/// The seccomp supervisor, configured for this run; it starts when the init hands over the
/// listener.
fn supervisor_for(
    opts: &WatchOptions,
    project: &Path,
    id: &Identity,
    view: &View,
    cfg: &InitConfig,
    allow: &Arc<Allowlist>,
    recorder: &Recorder,
) -> Supervisor {
    let mut sup = Supervisor::new(
        recorder.clone(),
        opts.mode == Mode::Block,
        id.home.clone(),
        allow.clone(),
    );
    sup.masked = view.masked.clone();
    sup.canaries = opts.canaries.clone();
    sup.writable = view.writable.clone();
    sup.own_dirs = view.own_dirs.clone();
    sup.project = project.to_path_buf();
    sup.linked_entries = view.linked_entries.clone();
    sup.private_home = view
        .private_home
        .clone()
        .or_else(|| view.unread_home.clone());
    sup.home_unreadable = view.unread_home.is_some();
    sup.exposed_in_home = view.exposed_in_home.clone();
    sup.host_kept = cfg
        .keep
        .iter()
        .filter(|(_, rw)| !rw)
        .map(|(p, _)| p.clone())
        .collect();
    if let Some(ports) = &cfg.degraded_tcp_ports {
        sup.services = ports
            .iter()
            .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], *p)))
            .collect();
        sup.private_loopback = false;
    }
    sup
}

/// The services a run needs while the init runs: resolver, proxy, supervisor threads, and
/// what the init reported.
struct Served {
    threads: Vec<std::thread::JoinHandle<()>>,
    resolver: Option<Arc<dns::Resolver>>,
    proxy: Option<Arc<proxy::Proxy>>,
    stop: Arc<AtomicBool>,
    setup_error: Option<String>,
    started_command: bool,
    warnings: Vec<String>,
}

impl Served {
    /// The degraded tier's proxy listens on the host from the start.
    fn new(
        host_proxy: Option<std::net::TcpListener>,
        allow: &Allowlist,
        recorder: &Recorder,
    ) -> Served {
        let mut s = Served {
            threads: Vec::new(),
            resolver: None,
            proxy: None,
            stop: Arc::new(AtomicBool::new(false)),
            setup_error: None,
            started_command: false,
            warnings: Vec::new(),
        };
        if let Some(listener) = host_proxy {
            let p = Arc::new(proxy::Proxy::new(allow.clone(), recorder.clone()));
            s.threads.push(p.clone().serve(listener));
            s.proxy = Some(p);
        }
        s
    }

    /// Answer the init's messages until it exits.
    fn serve(
        &mut self,
        sup_end: &std::os::fd::OwnedFd,
        child_pid: i32,
        cfg: &InitConfig,
        allow: &Arc<Allowlist>,
        recorder: &Recorder,
        supervisor: Supervisor,
    ) -> Result<(), SandboxError> {
        let upstream = dns::host_upstream();
        let mut supervisor = Some(supervisor);
        loop {
            let msg = match sys::recv_msg(sup_end.as_raw_fd(), 1 << 20) {
                Ok(Some(m)) => m,
                Ok(None) => break,
                // The init exited with our configuration unread: like end of stream.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => {
                    self.setup_error
                        .get_or_insert(format!("control socket: {e}"));
                    break;
                }
            };
            let Some((&kind, body)) = msg.data.split_first() else {
                continue;
            };
            match kind {
                init::MSG_SOCKETS if msg.fds.len() == 3 => {
                    self.start_services(msg.fds, upstream, allow, recorder);
                }
                init::MSG_LISTENER if body.len() == 4 => {
                    let fd_num = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as i32;
                    let Some(pid) = msg.pid else {
                        self.setup_error
                            .get_or_insert("no sender credentials on the control socket".into());
                        break;
                    };
                    let listener = sys::steal_fd(pid, fd_num)
                        .map_err(io_err("taking the seccomp listener (pidfd_getfd)"))?;
                    if let Some(sup) = supervisor.take() {
                        let stop = self.stop.clone();
                        self.threads
                            .push(std::thread::spawn(move || sup.run(listener, stop)));
                    }
                    sys::send_msg(sup_end.as_raw_fd(), b"k", &[])
                        .map_err(io_err("acknowledging the listener"))?;
                    self.started_command = true;
                }
                init::MSG_MAPS => {
                    let res = sys::ns::write_id_maps(
                        child_pid as u32,
                        &cfg.uid_map,
                        &cfg.gid_map,
                        cfg.deny_setgroups,
                    );
                    let ack: &[u8] = if res.is_ok() { b"m" } else { b"x" };
                    if let Err(e) = res {
                        self.setup_error
                            .get_or_insert(format!("writing uid/gid maps: {e}"));
                    }
                    sys::send_msg(sup_end.as_raw_fd(), ack, &[])
                        .map_err(io_err("acknowledging the id maps"))?;
                }
                init::MSG_KILLED => record_killed(body, recorder),
                init::MSG_ERROR => {
                    let text = String::from_utf8_lossy(body).into_owned();
                    if self.started_command {
                        self.warnings.push(text);
                    } else {
                        self.setup_error.get_or_insert(text);
                    }
                }
                init::MSG_WARN => self
                    .warnings
                    .push(String::from_utf8_lossy(body).into_owned()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The resolver (UDP and TCP) and the proxy, on the sockets the init bound inside the
    /// sandbox's network namespace.
    fn start_services(
        &mut self,
        fds: Vec<std::os::fd::OwnedFd>,
        upstream: Option<std::net::SocketAddr>,
        allow: &Allowlist,
        recorder: &Recorder,
    ) {
        let mut fds = fds.into_iter();
        let (Some(udp), Some(tcp), Some(px)) = (fds.next(), fds.next(), fds.next()) else {
            return;
        };
        let r = Arc::new(dns::Resolver::new(
            allow.clone(),
            upstream,
            recorder.clone(),
        ));
        self.threads
            .push(r.clone().serve_udp(std::net::UdpSocket::from(udp)));
        self.threads
            .push(r.clone().serve_tcp(std::net::TcpListener::from(tcp)));
        self.resolver = Some(r);
        let p = Arc::new(proxy::Proxy::new(allow.clone(), recorder.clone()));
        self.threads
            .push(p.clone().serve(std::net::TcpListener::from(px)));
        self.proxy = Some(p);
    }

    /// Stop every service and wait for its thread.
    fn shut_down(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = &self.resolver {
            r.shutdown();
        }
        if let Some(p) = &self.proxy {
            p.shutdown();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// A sandbox that never ran the command is an error (the reason, or how the init ended);
    /// otherwise the init's warnings join the run's.
    fn into_result(
        self,
        status: &std::process::ExitStatus,
        init_exe: &Path,
        warnings: &mut Vec<String>,
    ) -> Result<(), SandboxError> {
        use std::os::unix::process::ExitStatusExt;
        warnings.extend(self.warnings);
        if self.started_command {
            return Ok(());
        }
        if let Some(e) = self.setup_error {
            return Err(if e.starts_with("unshare") {
                SandboxError::Unavailable(explain_userns(&e))
            } else {
                SandboxError::Setup(e)
            });
        }
        Err(SandboxError::Setup(format!(
            "the sandbox init ({}) exited ({}) before running the command; the binary must call \
             turncoat_sandbox::init_main_if_requested() first thing in main",
            init_exe.display(),
            status.code().map_or_else(
                || format!("signal {}", status.signal().unwrap_or(0)),
                |c| format!("status {c}")
            )
        )))
    }
}

fn record_killed(body: &[u8], recorder: &Recorder) {
    let list: Vec<(i32, String)> = serde_json::from_slice(body).unwrap_or_default();
    for (pid, exe) in list {
        recorder.record(
            Event::new(
                EventKind::Killed,
                format!("pid {pid} {exe}"),
                Verdict::Deny,
                Source::Supervisor,
            )
            .detail("still running when the command ended; killed with the sandbox"),
        );
    }
}

/// Every sandboxed process is gone: what changed in the project's persistence entries is
/// what the command did to them, however it got there. Under `--block` it is also undone
/// (only a race on the degraded tier's path checks gets a write there): created entries
/// removed, changed ones restored, never through a link. A line for the summary when so.
fn record_persistence_changes(
    before: &crate::persist::Snapshot,
    mode: Mode,
    recorder: &Recorder,
) -> Option<String> {
    let changes = before.changes();
    let undone = if mode == Mode::Block {
        before.undo(&changes)
    } else {
        Vec::new()
    };
    for c in &changes {
        let why = if mode == Mode::Block {
            match undone.iter().find(|u| u.path == c.path).map(|u| &u.result) {
                Some(Ok(done)) => format!("--block: undone ({done}); the run fails"),
                Some(Err(e)) => format!("--block: could NOT be undone ({e}); the run fails"),
                None if c.class == "package-scripts" => {
                    "--block: left in place (the rest of package.json is the install's); the run fails"
                        .to_string()
                }
                None => "--block: the run fails".to_string(),
            }
        } else {
            "recorded (audit)".to_string()
        };
        let verdict = if mode == Mode::Block {
            Verdict::Deny
        } else {
            Verdict::Observe
        };
        recorder.record(
            Event::new(
                EventKind::PersistenceWrite,
                c.path.display().to_string(),
                verdict,
                Source::Supervisor,
            )
            .detail(format!("{}; {} during the run; {why}", c.class, c.what)),
        );
    }
    let (ok, failed): (Vec<_>, Vec<_>) = undone.iter().partition(|u| u.result.is_ok());
    (!undone.is_empty()).then(|| {
        let mut line = format!(
            "--block: {} persistence change(s) that got past the run's checks were undone",
            ok.len()
        );
        if !failed.is_empty() {
            line.push_str(&format!(
                "; {} could NOT be undone: {}",
                failed.len(),
                failed
                    .iter()
                    .map(|u| u.path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        line
    })
}

/// The isolation in force, for the report header.
fn tier_label(degraded: bool, home_unread: bool) -> String {
    let abi = crate::fence::kernel_abi();
    if degraded {
        format!(
            "DEGRADED (no namespaces): seccomp recording; {}; {}DNS, UDP and other secret reads are \
             recorded, not enforced; leftover processes killed by the init (subreaper)",
            match abi {
                a if a >= 4 => format!("Landlock ABI {a}: writes fenced, TCP only to the proxy"),
                a if a > 0 => format!(
                    "Landlock ABI {a}: writes fenced, TCP NOT fenced (needs ABI 4, Linux 6.7)"
                ),
                _ => "no Landlock: writes and TCP NOT fenced".to_string(),
            },
            if home_unread {
                "the home's files unreadable; "
            } else {
                ""
            }
        )
    } else {
        format!(
            "namespaces (user, mount, network, pid; loopback only) + seccomp user notification + {}",
            if abi > 0 {
                format!("Landlock ABI {abi}")
            } else {
                "no Landlock (kernel too old: writes not fenced)".into()
            }
        )
    }
}

/// SIGKILL `root` and every descendant (found through /proc parent links). With namespaces
/// killing the init is enough; in the degraded tier daemons re-parented to the init (a
/// subreaper) must be found and killed one by one.
fn kill_tree(root: i32) {
    let mut parent_of: Vec<(i32, i32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for ent in dir.flatten() {
            let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The command name may hold spaces and parentheses: the ppid follows the last ')'.
            if let Some(ppid) = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1)?.parse().ok())
            {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut doomed = vec![root];
    let mut i = 0;
    while i < doomed.len() {
        let p = doomed[i];
        doomed.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    // Children first would let parents respawn; the whole set is stopped in one pass instead.
    for pid in doomed.iter().rev() {
        sys::kill(*pid, libc::SIGKILL);
    }
}

/// The owner of a project that does not belong to root: who the command runs as when
/// turncoat itself runs as root without sudo.
fn project_owner(project: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = project.metadata().ok()?;
    (m.uid() != 0).then_some((m.uid(), m.gid()))
}

/// Files only root reads (password hashes, host keys): masked when the command keeps uid 0.
fn root_only_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/shadow-",
        "/etc/gshadow-",
    ]
    .iter()
    .map(PathBuf::from)
    .filter(|p| p.is_file())
    .collect();
    if let Ok(dir) = std::fs::read_dir("/etc/ssh") {
        v.extend(dir.flatten().map(|e| e.path()).filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ssh_host_") && n.ends_with("_key"))
        }));
    }
    v
}

/// The invoking user when run through sudo (the command runs as them, never as root).
fn sudo_invoker() -> Option<(u32, u32)> {
    let uid: u32 = std::env::var("SUDO_UID").ok()?.parse().ok()?;
    let gid: u32 = std::env::var("SUDO_GID").ok()?.parse().ok()?;
    (uid != 0).then_some((uid, gid))
}

fn find_program(name: &str, path_var: &str, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if name.contains('/') {
        let p = cwd.join(name);
        return is_exec(&p).then_some(p);
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| cwd.join(d).join(name))
        .find(|p| is_exec(p))
}

/// Why user namespaces failed and what to do about it.
fn explain_userns(err: &str) -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut why = format!("cannot create the sandbox's namespaces ({err}).");
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        why.push_str(
            "\nAppArmor restricts unprivileged user namespaces on this host (kernel.apparmor_restrict_unprivileged_userns=1, \
             the Ubuntu 24.04 default). Either allow them:\n    sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\n\
             or run `sudo turncoat watch ...`: turncoat builds the sandbox as root and runs the command as you (SUDO_UID).",
        );
    } else if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        why.push_str("\nUser namespaces are disabled (user.max_user_namespaces=0). Enable with:\n    sudo sysctl -w user.max_user_namespaces=15000");
    } else if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        why.push_str("\nUnprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0). Enable with:\n    sudo sysctl -w kernel.unprivileged_userns_clone=1");
    } else if Path::new("/.dockerenv").exists()
        || read("/proc/1/cgroup").is_some_and(|c| c.contains("docker") || c.contains("kubepods"))
    {
        why.push_str(
            "\nThis looks like a container whose seccomp/AppArmor profile forbids namespaces. Run turncoat on the CI host, \
             or start the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined.",
        );
    } else {
        why.push_str("\nrunning `sudo turncoat watch ...` builds the sandbox as root and still runs the command as you.");
    }
    why.push_str(
        "\nNothing was run. `--tier degraded` runs without namespaces, labelled as such: exec, connections, DNS and \
         secret reads are recorded and writes fenced, but only TCP egress is enforced (Landlock ABI 4+); DNS and UDP are not.",
    );
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_allowlist() {
        assert!(keep_env("PATH"));
        assert!(keep_env("LC_ALL"));
        assert!(keep_env("npm_config_registry"));
        assert!(!keep_env("NPM_TOKEN"));
        assert!(!keep_env("GITHUB_TOKEN"));
        assert!(!keep_env("AWS_SECRET_ACCESS_KEY"));
        assert!(!keep_env("npm_config__authToken"));
        assert!(!keep_env("npm_config_//registry.example/:_authToken"));
        assert!(!keep_env("ACTIONS_RUNTIME_TOKEN"));
        assert!(
            !keep_env("npm_config_https_proxy"),
            "the sandbox sets its own proxy"
        );
    }

    #[test]
    fn credentials_in_urls_are_found_anywhere_in_a_value() {
        assert!(has_url_credentials("https://user:TOKEN@registry.example/"));
        assert!(has_url_credentials("https://TOKEN@github.com/o/r.git"));
        assert!(has_url_credentials("--require=http://u:p@h/a.js --x"));
        assert!(has_url_credentials(
            "x https://h/ then git+ssh://git:pw@h/r"
        ));
        assert!(!has_url_credentials("https://registry.npmjs.org/"));
        assert!(!has_url_credentials("https://h/path/user@host"));
        assert!(!has_url_credentials("mailto:someone@example.com"));
        assert!(!keep_env("npm_config_otp"));
    }

    #[test]
    fn kept_paths_under_a_private_tmp() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().canonicalize().unwrap();
        let (home, project, cache) = (
            base.join("home"),
            base.join("home/p"),
            base.join("home/.npm"),
        );
        for p in [&home, &project, &cache] {
            std::fs::create_dir_all(p).unwrap();
        }
        let private = vec![base.clone()];
        let writable = vec![base.clone(), project.clone(), cache.clone()];
        let keep = kept_paths(&private, &writable, [&home, &project]);
        assert_eq!(
            keep,
            vec![(home.clone(), false), (cache, true), (project, true)],
            "the home read-only, what the command writes bound back writable"
        );
        assert!(
            kept_paths(&private, &[], [&base]).is_empty(),
            "not the directory itself"
        );
    }

    #[test]
    fn a_private_home_under_a_private_tmp_keeps_what_is_shown_through_it() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().canonicalize().unwrap();
        let (home, project, nvm) = (
            base.join("home"),
            base.join("home/p"),
            base.join("home/.nvm/versions/node/v22"),
        );
        for p in [&home, &project, &nvm] {
            std::fs::create_dir_all(p).unwrap();
        }
        let private = vec![base.clone(), home.clone()];
        let writable = vec![base.clone(), home.clone(), project.clone()];
        let keep = kept_paths(&private, &writable, [&home, &project, &nvm]);
        assert_eq!(
            keep,
            vec![(home.clone(), false), (nvm, false), (project, true)],
            "the home's mount point, and what is shown through the empty home over it"
        );
    }

    #[test]
    fn tools_on_path_under_the_home() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().canonicalize().unwrap();
        let node = home.join(".nvm/versions/node/v22");
        for p in [
            node.join("bin"),
            home.join("bin"),
            home.join(".local/tools"),
        ] {
            std::fs::create_dir_all(p).unwrap();
        }
        let path = std::env::join_paths([
            node.join("bin"),
            home.join("bin"),
            home.join(".local/tools"),
            home.join("missing/bin"),
            PathBuf::from("/usr/bin"),
            PathBuf::from("relative/bin"),
        ])
        .unwrap();
        assert_eq!(
            home_tools(&home, path.to_str().unwrap()),
            vec![home.join(".local/tools"), node, home.join("bin")]
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn the_commands_environment_points_at_the_sandbox() {
        let mut opts = WatchOptions::new(vec!["true".into()], PathBuf::from("/p"));
        opts.degraded = true;
        opts.set_env = vec![("HTTPS_PROXY".into(), "http://override/".into())];
        let env = command_env(
            &opts,
            Path::new("/h"),
            Path::new("/run/tmp"),
            4444,
            Path::new("/run/npm-cache"),
        );
        let get = |k: &str| {
            let v: Vec<&str> = env
                .iter()
                .filter(|(ek, _)| ek == k)
                .map(|(_, v)| v.as_str())
                .collect();
            assert!(v.len() <= 1, "{k} set twice: {v:?}");
            v.first().map(|s| s.to_string())
        };
        assert_eq!(get("HOME").as_deref(), Some("/h"));
        assert_eq!(get("TMPDIR").as_deref(), Some("/run/tmp"));
        assert_eq!(get("http_proxy").as_deref(), Some("http://127.0.0.1:4444"));
        assert_eq!(get("HTTPS_PROXY").as_deref(), Some("http://override/"));
        assert_eq!(get("NO_PROXY").as_deref(), Some(""));
        assert_eq!(get("npm_config_cache").as_deref(), Some("/run/npm-cache"));
        assert!(get("PATH").is_some());
    }

    #[test]
    fn program_lookup() {
        let dir = tempfile::tempdir().unwrap();
        assert!(find_program("sh", "/usr/bin:/bin", dir.path()).is_some());
        assert!(
            find_program("definitely-not-a-program-xyz", "/usr/bin:/bin", dir.path()).is_none()
        );
    }
}
