//! The seccomp user-notification supervisor: turns each trapped syscall of the sandboxed tree
//! into an [`Event`] with process attribution (executable, npm package and lifecycle stage),
//! and answers it — let it run, or fail it when `--block` says so or it is always refused.
//!
//! Decisions here read pointer arguments (paths, addresses) that the process could change
//! after we looked (TOCTOU), so they are observations and soft blocks. What cannot be raced is
//! enforced elsewhere: the network namespace (nothing routes out), the mount masks (secrets are
//! empty decoys) and Landlock (writes outside the allowed directories fail).

use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::allow::Allowlist;
use crate::event::{Event, EventKind, Recorder, Source, Verdict, redact};
use crate::paths;
use crate::sockaddr::{self, Addr};
use crate::sys::{self, mem, seccomp};

const AT_FDCWD: i32 = -100;
const PATH_MAX: usize = 4096;
const MAX_ARGS: usize = 64;
const MAX_ARG_LEN: usize = 1024;
const MAX_ENV: usize = 4096;
const MAX_DGRAM: usize = 512;
/// Deeper parent chains than this are not followed (a chain that never reaches the command).
const MAX_TREE_DEPTH: usize = 256;

/// Where a process sits in the tree turncoat watched grow from the command it started. Never
/// from what the process says about itself: a lifecycle script that sets `npm_package_name`
/// for its children is still the script.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// The command and its descendants outside any lifecycle script: the package manager.
    Manager,
    /// A lifecycle script the package manager started, and all its descendants: the package
    /// and stage are what the manager set when it started the script.
    Script {
        package: Option<String>,
        stage: Option<String>,
    },
    /// Not reached from the command through live parents (left behind and re-parented to the
    /// sandbox's init before turncoat saw it): attributed to no package, trusted as nothing.
    Detached,
}

impl Origin {
    /// The origin of a process turncoat first sees in an exec: the package manager starting a
    /// script names it (`claim`, from the environment it hands the script); anything below a
    /// script or detached stays what it was, whatever it claims.
    fn at_exec(current: Option<&Origin>, parent: &Origin, claim: Origin) -> Origin {
        match current.unwrap_or(parent) {
            Origin::Manager => claim,
            other => other.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct ProcInfo {
    exe: Option<String>,
    /// Start time (clock ticks since boot): with the pid, names one process; a reused pid has
    /// another, and its cached entry is dropped.
    start: u64,
    origin: Origin,
}

impl ProcInfo {
    fn package(&self) -> Option<String> {
        match &self.origin {
            Origin::Script { package, .. } => package.clone(),
            _ => None,
        }
    }
    fn stage(&self) -> Option<String> {
        match &self.origin {
            Origin::Script { stage, .. } => stage.clone(),
            Origin::Detached => Some("(detached)".into()),
            Origin::Manager => None,
        }
    }
}

/// What the supervisor needs to judge a syscall.
pub(crate) struct Supervisor {
    pub recorder: Recorder,
    pub block: bool,
    pub home: PathBuf,
    pub allow: Arc<Allowlist>,
    /// Unix sockets and secret paths hidden by the mount masks (connects/reads get nothing).
    pub masked: Vec<PathBuf>,
    /// Honeytoken files planted for a detonation.
    pub canaries: Vec<PathBuf>,
    /// Directories Landlock lets the command write.
    pub writable: Vec<PathBuf>,
    /// Directories that belong to the run (project, private temp): unix sockets there are the
    /// sandbox's own.
    pub own_dirs: Vec<PathBuf>,
    /// The project directory (its persistence entries: hooks, CI, editor configuration).
    pub project: PathBuf,
    /// Where the entries that are links point, with their class.
    pub linked_entries: Vec<(PathBuf, &'static str)>,
    /// The empty private home over the caller's (full tier), and what is shown through it:
    /// nothing else of the real home is there to read, nothing written there stays.
    pub private_home: Option<PathBuf>,
    pub exposed_in_home: Vec<PathBuf>,
    /// The degraded tier: `private_home` is the real home, its files unreadable (Landlock) and
    /// writes there refused, not discarded.
    pub home_unreadable: bool,
    /// Host directories bound read-only into a private directory (a home under /tmp): not
    /// the sandbox's own even though they sit under one.
    pub host_kept: Vec<PathBuf>,
    /// The supervisor's own services as the command reaches them (DNS, proxy).
    pub services: Vec<std::net::SocketAddr>,
    /// Loopback belongs to the sandbox (its own network namespace). False in the degraded
    /// tier, where 127.0.0.1 is the host's.
    pub private_loopback: bool,
    procs: HashMap<u32, ProcInfo>,
    /// The command's own process (pid, start time): the first exec the filter reports.
    root: Option<(u32, u64)>,
    seen_dns: HashSet<(u32, String)>,
}

/// What to do with one notification.
struct Decision {
    errno: i32,
    event: Option<Event>,
}

impl Decision {
    fn allow() -> Self {
        Decision {
            errno: 0,
            event: None,
        }
    }
    fn record(event: Event) -> Self {
        Decision {
            errno: 0,
            event: Some(event),
        }
    }

    /// Answer with `errno` (0: let it run) and record a seccomp-sourced event.
    fn event(
        errno: i32,
        kind: EventKind,
        target: impl Into<String>,
        verdict: Verdict,
        detail: impl Into<String>,
    ) -> Self {
        Decision {
            errno,
            event: Some(Event::new(kind, target, verdict, Source::Seccomp).detail(detail)),
        }
    }
}

impl Supervisor {
    pub fn new(recorder: Recorder, block: bool, home: PathBuf, allow: Arc<Allowlist>) -> Self {
        Supervisor {
            recorder,
            block,
            home,
            allow,
            masked: Vec::new(),
            canaries: Vec::new(),
            writable: Vec::new(),
            own_dirs: Vec::new(),
            project: PathBuf::new(),
            linked_entries: Vec::new(),
            private_home: None,
            exposed_in_home: Vec::new(),
            home_unreadable: false,
            host_kept: Vec::new(),
            services: vec![
                std::net::SocketAddr::from(([127, 0, 0, 1], crate::init::DNS_PORT)),
                std::net::SocketAddr::from(([127, 0, 0, 1], crate::init::PROXY_PORT)),
            ],
            private_loopback: true,
            procs: HashMap::new(),
            root: None,
            seen_dns: HashSet::new(),
        }
    }

    /// Serve notifications until every filtered process is gone (or `stop` is set).
    pub fn run(mut self, listener: OwnedFd, stop: Arc<AtomicBool>) {
        seccomp::sync_wake_up(&listener);
        loop {
            match seccomp::wait(&listener, 200) {
                Ok(true) => {}
                Ok(false) => {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    continue;
                }
                Err(_) => return,
            }
            let n = match seccomp::recv(&listener) {
                Ok(Some(n)) => n,
                Ok(None) => continue,
                Err(_) => return,
            };
            let mut d = self.decide(&n);
            // The pid may have died (and been reused) while we read its memory: only act on
            // what we read if the notification is still pending.
            if !seccomp::id_valid(&listener, n.id) {
                continue;
            }
            // Whatever we refuse is a denial, recorded (so --block fails the run and says why).
            if d.errno != 0 {
                let ev = d.event.get_or_insert_with(|| {
                    Event::new(
                        EventKind::Refused,
                        seccomp::name(n.nr),
                        Verdict::Deny,
                        Source::Seccomp,
                    )
                });
                ev.verdict = Verdict::Deny;
            }
            if let Some(ev) = d.event.as_mut() {
                self.attribute(n.pid, ev);
            }
            // Record before answering: the syscall's effects (a datagram reaching our
            // resolver) must not be logged ahead of the event that names the process.
            if let Some(ev) = d.event {
                self.recorder.record(ev);
            }
            // A failed answer means the task is gone; nothing else to do.
            let _ = seccomp::respond(&listener, n.id, d.errno);
        }
    }

    fn decide(&mut self, n: &seccomp::Notif) -> Decision {
        let a = n.args;
        #[cfg(target_arch = "x86_64")]
        match n.nr {
            libc::SYS_open => return self.on_open(n.pid, AT_FDCWD, a[0], a[1]),
            libc::SYS_creat => {
                return self.on_open(
                    n.pid,
                    AT_FDCWD,
                    a[0],
                    (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u64,
                );
            }
            libc::SYS_mkdir => return self.on_write(n.pid, AT_FDCWD, a[0], "mkdir"),
            libc::SYS_mknod => return self.on_write(n.pid, AT_FDCWD, a[0], "mknod"),
            libc::SYS_rename => {
                let a = [AT_FDCWD as u64, a[0], AT_FDCWD as u64, a[1], 0, 0];
                return self.on_rename(n.pid, a, "rename");
            }
            libc::SYS_link => return self.on_write(n.pid, AT_FDCWD, a[1], "link"),
            libc::SYS_symlink => return self.on_write(n.pid, AT_FDCWD, a[1], "symlink"),
            _ => {}
        }
        match n.nr {
            libc::SYS_execve => self.on_exec(n.pid, AT_FDCWD, a[0], a[1], a[2], false),
            libc::SYS_execveat => self.on_exec(
                n.pid,
                a[0] as i32,
                a[1],
                a[2],
                a[3],
                a[4] & libc::AT_EMPTY_PATH as u64 != 0,
            ),
            libc::SYS_connect => self.on_connect(n.pid, a[1], a[2]),
            libc::SYS_sendto => self.on_send(n.pid, a[0] as i32, a[1], a[2], a[4], a[5]),
            libc::SYS_sendmsg => self.on_sendmsg(n.pid, a[0] as i32, a[1]),
            libc::SYS_sendmmsg => {
                let mut last = Decision::allow();
                for i in 0..(a[2].min(4)) {
                    let d = self.on_sendmsg(n.pid, a[0] as i32, a[1].wrapping_add(i * 64));
                    if d.event.is_some() {
                        if last.event.is_some() {
                            // Several datagrams at once (A and AAAA): record all but the last
                            // here; the last one goes the usual way.
                            if let Some(mut ev) = last.event.take() {
                                self.attribute(n.pid, &mut ev);
                                self.recorder.record(ev);
                            }
                        }
                        last = d;
                    }
                }
                last
            }
            libc::SYS_openat => self.on_open(n.pid, a[0] as i32, a[1], a[2]),
            libc::SYS_openat2 => {
                let mut how = [0u8; 8];
                let flags = match mem::read(n.pid, a[2], &mut how) {
                    Ok(8) => u64::from_ne_bytes(how),
                    _ => 0,
                };
                self.on_open(n.pid, a[0] as i32, a[1], flags)
            }
            libc::SYS_mkdirat => self.on_write(n.pid, a[0] as i32, a[1], "mkdir"),
            libc::SYS_mknodat => self.on_write(n.pid, a[0] as i32, a[1], "mknod"),
            libc::SYS_renameat | libc::SYS_renameat2 => {
                self.on_rename(n.pid, a, seccomp::name(n.nr))
            }
            libc::SYS_linkat => self.on_write(n.pid, a[2] as i32, a[3], "link"),
            libc::SYS_symlinkat => self.on_write(n.pid, a[1] as i32, a[2], "symlink"),
            libc::SYS_truncate => self.on_write(n.pid, AT_FDCWD, a[0], "truncate"),
            nr => self.refuse(nr, a),
        }
    }

    /// Always refused, in every mode: io_uring (invisible to seccomp), ptrace, nested
    /// namespaces, raw and packet sockets.
    fn refuse(&mut self, nr: i64, a: [u64; 6]) -> Decision {
        let name = match nr {
            libc::SYS_ioctl if a[1] as u32 == libc::TIOCSTI as u32 => "ioctl(TIOCSTI)",
            libc::SYS_ioctl => "ioctl(TIOCLINUX)",
            libc::SYS_socket if a[0] as u32 == libc::AF_VSOCK as u32 => "socket(vsock)",
            _ => seccomp::name(nr),
        };
        let detail = match nr {
            libc::SYS_ioctl => "terminal input injection; refused in every mode".to_string(),
            libc::SYS_socket if a[0] as u32 == libc::AF_VSOCK as u32 => {
                "AF_VSOCK reaches the hypervisor; refused in every mode".to_string()
            }
            libc::SYS_socket => format!("domain {} type {}", a[0], a[1] & 0xf),
            libc::SYS_clone | libc::SYS_unshare => format!("flags {:#x}", a[0]),
            _ => "refused in every mode".to_string(),
        };
        let errno = if nr == libc::SYS_io_uring_setup {
            libc::ENOSYS
        } else {
            libc::EPERM
        };
        Decision::event(errno, EventKind::Refused, name, Verdict::Deny, detail)
    }

    fn on_exec(
        &mut self,
        pid: u32,
        dirfd: i32,
        path_ptr: u64,
        argv_ptr: u64,
        envp_ptr: u64,
        empty_path: bool,
    ) -> Decision {
        // Every attempt is recorded, whatever the target: a memfd (execveat(fd, "",
        // AT_EMPTY_PATH)), /proc/self/fd/N, a file that appears between our look and the
        // kernel's. The target is the kernel's name for what the fd or magic link points at.
        let raw = read_str(pid, path_ptr, PATH_MAX);
        let mut via = None;
        let path = if empty_path && raw.is_empty() {
            via = Some(format!("fd {dirfd}"));
            fd_path(pid, dirfd).unwrap_or_else(|| PathBuf::from(format!("fd:{dirfd}")))
        } else {
            let p = resolve(pid, dirfd, &raw).unwrap_or_else(|| PathBuf::from(&raw));
            match proc_fd_link(pid, &p) {
                Some(target) => {
                    via = Some(p.display().to_string());
                    target
                }
                None => p,
            }
        };
        // execvp tries every $PATH entry: a target missing when we looked is said so (it
        // usually fails with ENOENT), but still recorded.
        let in_sandbox = PathBuf::from(format!("/proc/{pid}/root"))
            .join(path.strip_prefix("/").unwrap_or(&path));
        let missing = via.is_none() && !in_sandbox.is_file();
        let argv: Vec<String> = mem::read_ptr_array(pid, argv_ptr, MAX_ARGS)
            .unwrap_or_default()
            .into_iter()
            .map(|p| redact(&read_str(pid, p, MAX_ARG_LEN)))
            .collect();
        // Threads notify with their own id: the process is the thread group.
        let proc_id = thread_group(pid);
        let stat = proc_stat(proc_id);
        let start = stat.map_or(0, |(_, start)| start);
        if self.root.is_none() {
            self.root = Some((proc_id, start));
        }
        // What the environment claims counts only when the package manager itself starts the
        // program (see [`Origin::at_exec`]).
        let (mut name, mut version, mut stage) = (None, None, None);
        for p in mem::read_ptr_array(pid, envp_ptr, MAX_ENV).unwrap_or_default() {
            let kv = read_str(pid, p, 256);
            if let Some(v) = kv.strip_prefix("npm_package_name=") {
                name = Some(v.to_string());
            } else if let Some(v) = kv.strip_prefix("npm_package_version=") {
                version = Some(v.to_string());
            } else if let Some(v) = kv.strip_prefix("npm_lifecycle_event=") {
                stage = Some(v.to_string());
            }
        }
        let claim = match (package_id(name, version), stage) {
            (None, None) => Origin::Manager,
            (package, stage) => Origin::Script { package, stage },
        };
        let origin = if self.root == Some((proc_id, start)) {
            Origin::Manager
        } else {
            let current = self.cached(proc_id, start).map(|i| i.origin.clone());
            let parent = self.parent_origin(stat, 0);
            Origin::at_exec(current.as_ref(), &parent, claim)
        };
        let info = ProcInfo {
            exe: Some(path.display().to_string()),
            start,
            origin,
        };
        let mut ev = Event::new(
            EventKind::Exec,
            path.display().to_string(),
            Verdict::Allow,
            Source::Seccomp,
        );
        ev.argv = Some(argv);
        ev.pid = Some(pid);
        ev.exe = info.exe.clone();
        ev.package = info.package();
        ev.stage = info.stage();
        if let Some(v) = via {
            ev.detail = Some(format!("fileless: through {v}"));
        } else if missing {
            ev.detail = Some("attempt: no such file when checked".into());
        }
        self.procs.insert(proc_id, info);
        // Already attributed from the new environment: mark so `attribute` keeps it.
        Decision::record(ev)
    }

    fn on_connect(&mut self, pid: u32, addr_ptr: u64, len: u64) -> Decision {
        let mut buf = vec![0u8; (len as usize).min(128)];
        let n = mem::read(pid, addr_ptr, &mut buf).unwrap_or(0);
        let Some(addr) = sockaddr::parse(&buf[..n]) else {
            return Decision::allow();
        };
        match &addr {
            Addr::Inet(sa) => {
                if self.is_service(sa) {
                    return Decision::allow();
                }
                if sa.ip().is_loopback() && self.private_loopback {
                    // Only the sandbox itself listens there; under --block the attempt (a
                    // probe for a host service) is refused and fails the run.
                    if self.block {
                        return Decision::event(
                            libc::ECONNREFUSED,
                            EventKind::Connect,
                            addr.target(),
                            Verdict::Deny,
                            "sandbox loopback: not one of the sandbox's services; refused (--block)",
                        );
                    }
                    return Decision::record(
                        Event::new(
                            EventKind::Connect,
                            addr.target(),
                            Verdict::Observe,
                            Source::Seccomp,
                        )
                        .detail("sandbox loopback: reaches only the sandbox itself"),
                    );
                }
                if !self.private_loopback && sa.port() == 53 && !self.block {
                    // Degraded tier: the host's resolver (UDP, not fenced); names are judged
                    // from the datagrams.
                    return Decision::record(
                        Event::new(
                            EventKind::Connect,
                            addr.target(),
                            Verdict::Observe,
                            Source::Seccomp,
                        )
                        .detail(
                            "degraded tier: the host's resolver is reachable; queries are recorded",
                        ),
                    );
                }
                let why = if self.private_loopback {
                    "no route out of the sandbox; only the proxy reaches allowed hosts"
                } else {
                    "degraded tier: Landlock lets TCP reach only the proxy (ABI 4+); UDP is not fenced"
                };
                Decision::event(
                    if self.block { libc::ENETUNREACH } else { 0 },
                    EventKind::Connect,
                    addr.target(),
                    Verdict::Deny,
                    why,
                )
            }
            Addr::Unix(p) => self.on_unix_connect(pid, p),
            Addr::Other(_) => Decision::allow(),
        }
    }

    /// A unix socket connect. Host daemons (ssh-agent, tmux, X11, container runtimes, the
    /// session bus) are reachable through pathname sockets: only sockets under the sandbox's
    /// own directories (project, private temp) may be reached, in every mode. Abstract
    /// sockets belong to the network namespace: the full tier has its own, the degraded tier
    /// shares the host's and refuses them.
    fn on_unix_connect(&mut self, pid: u32, p: &str) -> Decision {
        let target = format!("unix:{p}");
        if let Some(name) = p.strip_prefix('@') {
            if self.private_loopback {
                return Decision::record(
                    Event::new(
                        EventKind::Connect,
                        target,
                        Verdict::Observe,
                        Source::Seccomp,
                    )
                    .detail("abstract socket of the sandbox's own network namespace"),
                );
            }
            return Decision::event(
                libc::ECONNREFUSED,
                EventKind::Connect,
                target,
                Verdict::Deny,
                format!("host abstract socket {name:?} (degraded tier: no network namespace)"),
            );
        }
        let Some(lexical) = resolve(pid, AT_FDCWD, p) else {
            return Decision::allow();
        };
        // Through the process's own view, following links (a link in the project to the
        // user's agent socket is the agent socket).
        let path = resolve_links(pid, &lexical);
        let masked = self.masked.iter().any(|m| path.starts_with(m));
        if masked {
            // glibc asks nscd (and systemd's resolver and userdb) on every name lookup: the
            // mask already keeps those from resolving outside, so they are recorded, not
            // counted as stopped. Container daemons are never asked innocently.
            let routine = ["nscd", "/systemd/", "dbus"].iter().any(|d| p.contains(d));
            let (errno, verdict, why) = if routine {
                (
                    0,
                    Verdict::Observe,
                    "host daemon socket masked in the sandbox (glibc asks it routinely)",
                )
            } else {
                (
                    libc::ECONNREFUSED,
                    Verdict::Deny,
                    "container daemon socket masked in the sandbox",
                )
            };
            return Decision::event(errno, EventKind::Connect, target, verdict, why);
        }
        if self.own_dirs.iter().any(|d| path.starts_with(d))
            && !self.host_kept.iter().any(|d| path.starts_with(d))
        {
            return Decision::record(
                Event::new(
                    EventKind::Connect,
                    target,
                    Verdict::Observe,
                    Source::Seccomp,
                )
                .detail("a socket in the sandbox's own directories"),
            );
        }
        Decision::event(
            libc::ECONNREFUSED,
            EventKind::Connect,
            target,
            Verdict::Deny,
            format!(
                "host unix socket {}: outside the sandbox's own directories, refused in every mode",
                path.display()
            ),
        )
    }

    fn on_sendmsg(&mut self, pid: u32, fd: i32, msghdr_ptr: u64) -> Decision {
        let mut h = [0u8; 56];
        if mem::read(pid, msghdr_ptr, &mut h).unwrap_or(0) < 32 {
            return Decision::allow();
        }
        let u64_at = |o: usize| u64::from_ne_bytes(h[o..o + 8].try_into().unwrap_or([0; 8]));
        let name_ptr = u64_at(0);
        let name_len = u32::from_ne_bytes(h[8..12].try_into().unwrap_or([0; 4])) as u64;
        let iov_ptr = u64_at(16);
        let iov_len = u64_at(24);
        let (mut buf_ptr, mut buf_len) = (0, 0);
        if iov_len > 0 {
            let mut iov = [0u8; 16];
            if mem::read(pid, iov_ptr, &mut iov).unwrap_or(0) == 16 {
                buf_ptr = u64::from_ne_bytes(iov[..8].try_into().unwrap_or([0; 8]));
                buf_len = u64::from_ne_bytes(iov[8..].try_into().unwrap_or([0; 8]));
            }
        }
        self.on_send(pid, fd, buf_ptr, buf_len, name_ptr, name_len)
    }

    fn on_send(
        &mut self,
        pid: u32,
        fd: i32,
        buf_ptr: u64,
        buf_len: u64,
        addr_ptr: u64,
        addr_len: u64,
    ) -> Decision {
        let dest = if addr_ptr != 0 && addr_len > 0 {
            let mut a = vec![0u8; (addr_len as usize).min(128)];
            let n = mem::read(pid, addr_ptr, &mut a).unwrap_or(0);
            match sockaddr::parse(&a[..n]) {
                Some(Addr::Inet(sa)) => Some(sa),
                _ => None,
            }
        } else {
            // A connected socket (c-ares, Python): ask the socket itself where it goes. Only
            // for datagram-sized writes; stream traffic is the proxy's to judge.
            if buf_len == 0 || buf_len > MAX_DGRAM as u64 {
                return Decision::allow();
            }
            sys::steal_fd(pid as i32, fd)
                .ok()
                .as_ref()
                .and_then(sys::peer_inet)
        };
        let Some(dest) = dest else {
            return Decision::allow();
        };
        let mut payload = vec![0u8; (buf_len as usize).min(MAX_DGRAM)];
        let got = mem::read(pid, buf_ptr, &mut payload).unwrap_or(0);
        payload.truncate(got);
        let questions = crate::dns::parse_query(&payload)
            .map(|q| q.questions)
            .unwrap_or_default();
        if let Some(crate::dns::Question { name, qtype, .. }) = questions.first() {
            // Our resolver records the verdict too; this copy carries the process.
            if !self.seen_dns.insert((pid, format!("{name}/{qtype}"))) && self.is_service(&dest) {
                return Decision::allow();
            }
            let allowed = self.allow.allows_name(name);
            let outside = !(dest.ip().is_loopback() && self.private_loopback);
            // Degraded tier: the host's own resolver answers allowed names.
            let host_resolver = !self.private_loopback && dest.port() == 53;
            let verdict = if allowed && (!outside || host_resolver) {
                Verdict::Allow
            } else if !self.private_loopback && !self.block {
                // Degraded tier, audit: nothing stops the query.
                Verdict::Observe
            } else {
                Verdict::Deny
            };
            let via = if self.is_service(&dest) {
                "via the sandbox resolver".to_string()
            } else if !self.private_loopback {
                format!("to {dest}: degraded tier, DNS is recorded, refused only under --block")
            } else {
                format!("sent straight to {dest}, which the sandbox does not route")
            };
            return Decision {
                errno: if self.block && outside && verdict == Verdict::Deny {
                    libc::ENETUNREACH
                } else {
                    0
                },
                event: Some(
                    Event::new(EventKind::Dns, name.clone(), verdict, Source::Seccomp)
                        .detail(format!("{} {via}", crate::dns::qtype_name(*qtype))),
                ),
            };
        }
        if self.is_service(&dest) {
            return Decision::allow();
        }
        if dest.ip().is_loopback() && self.private_loopback {
            return Decision::record(
                Event::new(
                    EventKind::Send,
                    dest.to_string(),
                    Verdict::Observe,
                    Source::Seccomp,
                )
                .detail("sandbox loopback: reaches only the sandbox itself"),
            );
        }
        Decision::event(
            if self.block { libc::ENETUNREACH } else { 0 },
            EventKind::Send,
            dest.to_string(),
            Verdict::Deny,
            format!("{} bytes; no route out of the sandbox", buf_len),
        )
    }

    fn on_open(&mut self, pid: u32, dirfd: i32, path_ptr: u64, flags: u64) -> Decision {
        let raw = read_str(pid, path_ptr, PATH_MAX);
        let write = flags
            & (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND)
                as u64
            != 0;
        if write {
            // Classified by where the write lands: relative to the cwd or a directory fd (the
            // kernel's names for them), every link on the way followed as the process sees it.
            let Some(path) = resolve(pid, dirfd, &raw) else {
                return Decision::allow();
            };
            let path = resolve_links(pid, &path);
            return self.persistence(pid, path, "open for writing");
        }
        // Planted canaries all have dot-named components, so the prefilter keeps them too
        // (a test in `detonate` holds it to that). A relative name is judged resolved: after
        // chdir(~/.ssh), "id_rsa" is a key.
        if raw.starts_with('/') && !paths::maybe_interesting(&raw) {
            return Decision::allow();
        }
        let Some(path) = resolve(pid, dirfd, &raw) else {
            return Decision::allow();
        };
        if !raw.starts_with('/') && !paths::maybe_interesting(&path.to_string_lossy()) {
            return Decision::allow();
        }
        if self.canaries.iter().any(|c| path.starts_with(c)) {
            return Decision::record(
                Event::new(
                    EventKind::CanaryRead,
                    path.display().to_string(),
                    Verdict::Observe,
                    Source::Seccomp,
                )
                .detail("read a planted honeytoken"),
            );
        }
        let Some(class) = paths::secret_class(&path, &self.home) else {
            return Decision::allow();
        };
        let hidden_home = self.in_private_home(&path);
        let masked = self.masked.iter().any(|m| path.starts_with(m)) || hidden_home;
        let own_config = class == "npm-credentials" && self.info(pid).origin == Origin::Manager;
        if own_config && !masked && !in_sandbox(pid, &path).exists() {
            // npm looking for a user config that is not there: nothing was read.
            return Decision::allow();
        }
        let (verdict, errno, why) = if self.block && !own_config {
            (Verdict::Deny, libc::EACCES, "refused (--block)")
        } else if masked && own_config {
            (
                Verdict::Observe,
                0,
                "the package manager's own configuration; shown an empty decoy",
            )
        } else if hidden_home {
            (
                Verdict::Deny,
                0,
                "the real home's files are not readable in the sandbox",
            )
        } else if masked {
            (Verdict::Deny, 0, "masked: the sandbox shows an empty decoy")
        } else if class == "process-environment" {
            (Verdict::Observe, 0, "only sandbox processes are visible")
        } else {
            (Verdict::Observe, 0, "read allowed (audit)")
        };
        Decision::event(
            errno,
            EventKind::SensitiveRead,
            path.display().to_string(),
            verdict,
            format!("{class}; {why}"),
        )
    }

    /// mkdir, rename, link, symlink, truncate: the new name (its directory's links followed,
    /// not the name itself: rename replaces a link, it does not write through it).
    fn on_write(&mut self, pid: u32, dirfd: i32, path_ptr: u64, op: &str) -> Decision {
        let raw = read_str(pid, path_ptr, PATH_MAX);
        let Some(path) = resolve(pid, dirfd, &raw) else {
            return Decision::allow();
        };
        let path = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => resolve_links(pid, dir).join(name),
            _ => path,
        };
        self.persistence(pid, path, op)
    }

    /// rename: where it lands, and where it came from (moving `.github` away to plant another
    /// one is a write to `.github`).
    fn on_rename(&mut self, pid: u32, a: [u64; 6], op: &str) -> Decision {
        let to = self.on_write(pid, a[2] as i32, a[3], op);
        if to.event.is_some() {
            return to;
        }
        self.on_write(pid, a[0] as i32, a[1], "rename from")
    }

    fn persistence(&mut self, _pid: u32, path: PathBuf, op: &str) -> Decision {
        let class = paths::project_persistence_class(&path, &self.project)
            .or_else(|| {
                self.linked_entries
                    .iter()
                    .find(|(t, _)| path.starts_with(t))
                    .map(|(_, c)| *c)
            })
            .or_else(|| paths::persistence_class(&path, &self.home));
        let Some(class) = class else {
            return Decision::allow();
        };
        let writable = self.writable.iter().any(|w| path.starts_with(w));
        let (verdict, errno, why) = if self.block {
            (Verdict::Deny, libc::EACCES, "refused (--block)")
        } else if self.in_private_home(&path) && !self.home_unreadable {
            (
                Verdict::Observe,
                0,
                "into the sandbox's private home, discarded after the run",
            )
        } else if !writable {
            (
                Verdict::Deny,
                0,
                "outside the writable directories (Landlock)",
            )
        } else {
            (Verdict::Observe, 0, "allowed (audit)")
        };
        Decision::event(
            errno,
            EventKind::PersistenceWrite,
            path.display().to_string(),
            verdict,
            format!("{class}; {op}; {why}"),
        )
    }

    fn in_private_home(&self, path: &Path) -> bool {
        self.private_home
            .as_ref()
            .is_some_and(|h| path.starts_with(h))
            && !self.exposed_in_home.iter().any(|e| path.starts_with(e))
    }

    fn is_service(&self, sa: &std::net::SocketAddr) -> bool {
        self.services.contains(sa)
    }

    /// The cached entry of `pid` if it is still the process that started at `start`.
    fn cached(&self, pid: u32, start: u64) -> Option<&ProcInfo> {
        self.procs.get(&pid).filter(|i| i.start == start)
    }

    fn info(&mut self, pid: u32) -> ProcInfo {
        self.info_at(thread_group(pid), 0)
    }

    /// A process first seen in something other than an exec (a fork that never exec'd) is
    /// what its parent is.
    fn info_at(&mut self, pid: u32, depth: usize) -> ProcInfo {
        let stat = proc_stat(pid);
        let start = stat.map_or(0, |(_, start)| start);
        if let Some(i) = self.cached(pid, start) {
            return i.clone();
        }
        let origin = if self.root == Some((pid, start)) {
            Origin::Manager
        } else {
            self.parent_origin(stat, depth)
        };
        let info = ProcInfo {
            exe: std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .map(|p| p.display().to_string()),
            start,
            origin,
        };
        self.procs.insert(pid, info.clone());
        info
    }

    /// The origin of the parent named in `stat`; the top of the host's tree (or a chain deeper
    /// than any real one) is [`Origin::Detached`]: the command was never reached.
    fn parent_origin(&mut self, stat: Option<(u32, u64)>, depth: usize) -> Origin {
        match stat {
            Some((ppid, _)) if ppid > 1 && depth < MAX_TREE_DEPTH => {
                self.info_at(ppid, depth + 1).origin
            }
            _ => Origin::Detached,
        }
    }

    /// Fill pid, executable, package and stage on an event (unless exec already did).
    fn attribute(&mut self, pid: u32, ev: &mut Event) {
        if ev.pid.is_some() {
            return;
        }
        let info = self.info(pid);
        ev.pid = Some(pid);
        ev.package = info.package();
        ev.stage = info.stage();
        ev.exe = info.exe;
    }
}

fn package_id(name: Option<String>, version: Option<String>) -> Option<String> {
    match (name, version) {
        (Some(n), Some(v)) => Some(format!("{n}@{v}")),
        (Some(n), None) => Some(n),
        _ => None,
    }
}

/// The process (thread group) a thread id belongs to: a notification names the thread.
fn thread_group(tid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(tid)
}

/// Parent pid and start time of `pid` from `/proc/<pid>/stat` (the kernel's, not anything
/// the process wrote). The command name may hold spaces and parentheses: fields are counted
/// from the last `)`.
fn proc_stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<(u32, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid (4), ..., starttime (22).
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, start))
}

/// `path` as the sandboxed process sees it (through its mount namespace).
fn in_sandbox(pid: u32, path: &Path) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/root")).join(path.strip_prefix("/").unwrap_or(path))
}

fn read_str(pid: u32, ptr: u64, max: usize) -> String {
    String::from_utf8_lossy(&mem::read_cstr(pid, ptr, max).unwrap_or_default()).into_owned()
}

fn fd_path(pid: u32, fd: i32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()
}

/// `path` (absolute, normalised) with every symbolic link resolved as the process sees it:
/// one component at a time through `/proc/<pid>/root`, so links are read in the sandbox's
/// mount namespace and absolute targets restart at its root. At most 40 links, like the
/// kernel. Read from memory the process controls: an observation, not a barrier.
pub(crate) fn resolve_links(pid: u32, path: &Path) -> PathBuf {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    fn parts(p: &Path) -> VecDeque<OsString> {
        p.components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => Some(s.to_os_string()),
                std::path::Component::ParentDir => Some(OsString::from("..")),
                _ => None,
            })
            .collect()
    }
    let mut queue = parts(path);
    let mut out = PathBuf::from("/");
    let mut hops = 0;
    while let Some(c) = queue.pop_front() {
        if c == ".." {
            out.pop();
            continue;
        }
        let next = out.join(&c);
        match std::fs::read_link(in_sandbox(pid, &next)) {
            Ok(target) if hops < 40 => {
                hops += 1;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                let mut rest = parts(&target);
                rest.extend(queue);
                queue = rest;
            }
            _ => out = next,
        }
    }
    out
}

/// `/proc/self/fd/N`, `/proc/<pid>/fd/N`, `/proc/thread-self/fd/N` and `/dev/fd/N`: what the
/// acting process's fd N points at (the supervisor's own `/proc/self` is someone else).
fn proc_fd_link(pid: u32, path: &Path) -> Option<PathBuf> {
    let s = path.to_str()?;
    let rest = s
        .strip_prefix("/proc/self/fd/")
        .or_else(|| s.strip_prefix("/proc/thread-self/fd/"))
        .or_else(|| s.strip_prefix("/dev/fd/"));
    match rest {
        Some(fd) => fd_path(pid, fd.parse().ok()?),
        // Another process's fd, named in the sandbox's own /proc: read it there.
        None if s.starts_with("/proc/") && s.contains("/fd/") => {
            std::fs::read_link(in_sandbox(pid, path)).ok()
        }
        None => None,
    }
}

/// Absolute, normalised form of a path argument (relative to the cwd or a directory fd).
fn resolve(pid: u32, dirfd: i32, raw: &str) -> Option<PathBuf> {
    if raw.is_empty() {
        return None;
    }
    if raw.starts_with('/') {
        return Some(paths::normalise(Path::new(raw)));
    }
    let base = if dirfd == AT_FDCWD {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?
    } else {
        fd_path(pid, dirfd)?
    };
    Some(paths::normalise(&base.join(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(p: &str, stage: &str) -> Origin {
        Origin::Script {
            package: Some(p.into()),
            stage: Some(stage.into()),
        }
    }

    #[test]
    fn only_the_package_manager_names_a_script() {
        let claim = script("victim@2.0.0", "build");
        let evil = script("evil@1.0.0", "postinstall");
        // npm starting a lifecycle script: what it sets is the script's package.
        assert_eq!(
            Origin::at_exec(None, &Origin::Manager, claim.clone()),
            claim
        );
        // A script's child, or the script exec'ing again, stays the script's.
        assert_eq!(Origin::at_exec(None, &evil, claim.clone()), evil);
        assert_eq!(
            Origin::at_exec(Some(&evil), &Origin::Manager, claim.clone()),
            evil
        );
        // Detached stays detached, whoever its new parent is.
        assert_eq!(
            Origin::at_exec(None, &Origin::Detached, claim.clone()),
            Origin::Detached
        );
        assert_eq!(
            Origin::at_exec(Some(&Origin::Detached), &Origin::Manager, claim),
            Origin::Detached
        );
        // The manager running a tool with no claim stays the manager.
        assert_eq!(
            Origin::at_exec(None, &Origin::Manager, Origin::Manager),
            Origin::Manager
        );
    }

    #[test]
    fn stat_fields_after_an_odd_command_name() {
        let line = "4242 (a) b (c) ) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat(line), Some((17, 987654)));
        assert_eq!(parse_stat("4242 (x) S"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn a_thread_belongs_to_its_process() {
        let (tid, group) = std::thread::spawn(|| {
            let link = std::fs::read_link("/proc/thread-self").unwrap();
            let tid: u32 = link.file_name().unwrap().to_str().unwrap().parse().unwrap();
            (tid, thread_group(tid))
        })
        .join()
        .unwrap();
        assert_ne!(tid, std::process::id());
        assert_eq!(group, std::process::id());
    }

    #[test]
    fn a_reused_pid_is_not_the_cached_process() {
        let allow = Arc::new(Allowlist::parse(&[]).unwrap());
        let mut sup = Supervisor::new(Recorder::new(), false, PathBuf::from("/h"), allow);
        sup.procs.insert(
            77,
            ProcInfo {
                exe: Some("/evil".into()),
                start: 100,
                origin: script("evil@1.0.0", "postinstall"),
            },
        );
        assert!(sup.cached(77, 100).is_some());
        assert!(sup.cached(77, 101).is_none(), "another process with pid 77");
    }
}
