//! The sandbox init: a fresh exec of the turncoat binary (`turncoat __turncoat-sandbox-init`,
//! single-threaded, empty environment) that builds the sandbox and runs the command.
//!
//! ```text
//! stage 1 (host pid ns)   unshare(user, mount, net, pid); id maps; fork ─┐
//! stage 2 (pid 1)         /proc, masks, lo up, DNS+proxy sockets → supervisor; fork ─┐
//! command (pid 2)         ids, caps dropped, no_new_privs, Landlock, seccomp → execve │
//! stage 2                 reap; when the command exits, report and kill the rest ◄───┘
//! ```
//! Everything talks to the supervisor over one SOCK_SEQPACKET socket at fd 3: the config comes
//! in, the served sockets, the seccomp listener number and the list of killed leftovers go out.

use std::ffi::CString;
use std::net::{TcpListener, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::sys;

/// argv[1] that turns the turncoat binary into the sandbox init.
pub const INIT_ARG: &str = "__turncoat-sandbox-init";
pub(crate) const CTL_FD: RawFd = 3;

/// Ports the supervisor serves inside the sandbox's loopback.
pub const DNS_PORT: u16 = 53;
pub const PROXY_PORT: u16 = 3128;

/// Everything the init needs, sent by the supervisor as JSON (never through the environment:
/// /proc/1/environ inside the sandbox must show nothing of the host).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InitConfig {
    pub uid_map: String,
    pub gid_map: String,
    pub deny_setgroups: bool,
    /// Drop to these ids before exec (root supervisor started with sudo).
    pub run_as: Option<(u32, u32)>,
    pub cwd: PathBuf,
    pub program: PathBuf,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// (source, target, read-only) bind mounts, in order.
    pub binds: Vec<(PathBuf, PathBuf, bool)>,
    /// Directories hidden under an empty read-only tmpfs.
    pub mask_dirs: Vec<PathBuf>,
    /// Host directories replaced by a private tmpfs of this size (`/tmp`, `/var/tmp`,
    /// `/dev/shm`): nothing of the host's is visible there, nothing written stays.
    pub private_dirs: Vec<(PathBuf, String)>,
    /// Paths under a private directory that stay visible (bound back from the host), and
    /// whether they stay writable: the project, the home, the run directory.
    pub keep: Vec<(PathBuf, bool)>,
    /// Directories shown copy-on-write (the npm cache): the host's files readable, what the
    /// command writes kept in a private tmpfs of this size and dropped after the run.
    #[serde(default)]
    pub overlays: Vec<(PathBuf, String)>,
    /// The degraded tier: what the command may read (Landlock), when the home is to stay
    /// unread; `None`: everything.
    #[serde(default)]
    pub readable: Option<Vec<PathBuf>>,
    /// RLIMIT_NPROC for the command.
    pub process_limit: Option<u64>,
    /// Directories (and files) Landlock lets the command write; everything else is read-only.
    pub writable: Vec<PathBuf>,
    /// RLIMIT_AS for the command, in bytes.
    pub memory_limit: Option<u64>,
    /// The degraded tier: no namespaces (they are unavailable here); TCP connections only to
    /// these ports (the proxy), by Landlock.
    pub degraded_tcp_ports: Option<Vec<u16>>,
}

/// Messages to the supervisor (first byte).
pub(crate) const MSG_SOCKETS: u8 = b'S';
pub(crate) const MSG_LISTENER: u8 = b'L';
pub(crate) const MSG_KILLED: u8 = b'K';
pub(crate) const MSG_ERROR: u8 = b'E';
pub(crate) const MSG_WARN: u8 = b'W';
pub(crate) const MSG_MAPS: u8 = b'M';

fn report(kind: u8, text: &str) {
    let mut m = vec![kind];
    m.extend_from_slice(text.as_bytes());
    let _ = sys::send_msg(CTL_FD, &m, &[]);
}

/// Run as the sandbox init if argv asks for it; returns the exit code to exit with.
/// Call first thing in `main`, before any thread starts.
pub fn init_main_if_requested() -> Option<i32> {
    let mut args = std::env::args_os();
    args.next();
    if args.next().as_deref() != Some(std::ffi::OsStr::new(INIT_ARG)) {
        return None;
    }
    Some(match stage1() {
        Ok(code) => code,
        Err(e) => {
            report(MSG_ERROR, &e);
            125
        }
    })
}

fn stage1() -> Result<i32, String> {
    // Whatever the caller of turncoat left open (a directory fd past the masks, a socket)
    // stops here: only stdio and the control socket survive.
    sys::close_from(CTL_FD as u32 + 1).map_err(|e| format!("close_range: {e}"))?;
    let msg = sys::recv_msg(CTL_FD, 1 << 20)
        .map_err(|e| format!("reading the sandbox configuration: {e}"))?
        .ok_or("the supervisor closed the control socket")?;
    let cfg: InitConfig =
        serde_json::from_slice(&msg.data).map_err(|e| format!("bad sandbox configuration: {e}"))?;
    sys::die_with_parent().map_err(|e| format!("prctl(PDEATHSIG): {e}"))?;
    if cfg.degraded_tcp_ports.is_some() {
        return degraded(&cfg);
    }
    let flags = libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWNET | libc::CLONE_NEWPID;
    sys::ns::unshare(flags).map_err(|e| format!("unshare: {e}"))?;
    // The maps are written from outside: only a process in the parent namespace may map more
    // than its own id (root mapping every id so that sudo can drop to the invoking user).
    sys::write_all_raw(CTL_FD, &[MSG_MAPS]).map_err(|e| format!("asking for id maps: {e}"))?;
    match sys::read_byte_raw(CTL_FD) {
        Ok(Some(b'm')) => {}
        Ok(Some(b'x')) => return Err("the supervisor could not write the uid/gid maps".into()),
        Ok(_) => return Err("the supervisor went away".into()),
        Err(e) => return Err(format!("waiting for id maps: {e}")),
    }
    let pid = sys::fork().map_err(|e| format!("fork: {e}"))?;
    if pid == 0 {
        let code = match stage2(&cfg) {
            Ok(code) => code,
            Err(e) => {
                report(MSG_ERROR, &e);
                125
            }
        };
        // SAFETY-free exit: std::process::exit runs no destructors of the parent's state.
        #[allow(clippy::exit)]
        std::process::exit(code);
    }
    let (_, st) = sys::waitpid(pid, 0).map_err(|e| format!("waitpid: {e}"))?;
    Ok(sys::exit_code(st))
}

/// pid 1 of the sandbox.
fn stage2(cfg: &InitConfig) -> Result<i32, String> {
    sys::die_with_parent().map_err(|e| format!("prctl(PDEATHSIG): {e}"))?;
    // Our own /proc/1/environ and memory must not be readable by the command.
    sys::set_not_dumpable().map_err(|e| format!("prctl(DUMPABLE): {e}"))?;
    sys::ns::make_rprivate().map_err(|e| format!("making mounts private: {e}"))?;
    sys::ns::mount_proc().map_err(|e| format!("mounting a fresh /proc: {e}"))?;
    // Opened before a private directory can hide them.
    let lowers: Vec<_> = cfg
        .overlays
        .iter()
        .map(|(dir, size)| (dir, size, open_path(dir)))
        .collect();
    // Every kept path is opened in the host's view, before any private directory hides it (a
    // path under the home under /tmp too: bound from there, not from a read-only bind of it).
    let mut held = Vec::new();
    for (p, rw) in &cfg.keep {
        if cfg
            .private_dirs
            .iter()
            .any(|(d, _)| p.starts_with(d) && p != d)
        {
            held.push((p.as_path(), *rw, keep_open(p)?));
        }
    }
    for (dir, size) in &cfg.private_dirs {
        // A private directory inside this one (the home under /tmp) keeps its own paths.
        let nested: Vec<&std::path::Path> = cfg
            .private_dirs
            .iter()
            .map(|(d, _)| d.as_path())
            .filter(|d| d != dir && d.starts_with(dir))
            .collect();
        let mine: Vec<&(&std::path::Path, bool, std::fs::File)> = held
            .iter()
            .filter(|(p, _, _)| p.starts_with(dir) && p != dir)
            .filter(|(p, _, _)| !nested.iter().any(|d| p.starts_with(d) && p != d))
            .collect();
        private_dir(dir, size, &mine)?;
    }
    drop(held);
    for (dir, size, lower) in lowers {
        if let Err(e) = lower.and_then(|l| copy_on_write(dir, size, &l)) {
            report(
                MSG_WARN,
                &format!(
                    "{} is private and starts empty (no copy-on-write view of the host's: {e})",
                    dir.display()
                ),
            );
        }
    }
    for (src, target, ro) in &cfg.binds {
        if let Err(e) = sys::ns::bind(src, target, *ro) {
            report(
                MSG_WARN,
                &format!("could not mask {}: {e}", target.display()),
            );
        }
    }
    for dir in &cfg.mask_dirs {
        if let Err(e) = sys::ns::mask_dir(dir) {
            report(MSG_WARN, &format!("could not mask {}: {e}", dir.display()));
        }
    }
    sys::ns::loopback_up().map_err(|e| format!("bringing up loopback: {e}"))?;
    let udp = UdpSocket::bind(("127.0.0.1", DNS_PORT))
        .map_err(|e| format!("binding 127.0.0.1:53/udp: {e}"))?;
    let tcp = TcpListener::bind(("127.0.0.1", DNS_PORT))
        .map_err(|e| format!("binding 127.0.0.1:53/tcp: {e}"))?;
    let proxy = TcpListener::bind(("127.0.0.1", PROXY_PORT))
        .map_err(|e| format!("binding 127.0.0.1:{PROXY_PORT}: {e}"))?;
    sys::send_msg(
        CTL_FD,
        &[MSG_SOCKETS],
        &[udp.as_raw_fd(), tcp.as_raw_fd(), proxy.as_raw_fd()],
    )
    .map_err(|e| format!("handing sockets to the supervisor: {e}"))?;
    drop((udp, tcp, proxy));

    let child = fork_command(cfg)?;
    let code = reap_until(child)?;
    // pid 1 sends SIGKILL to every other process of its namespace.
    kill_leftovers(list_processes(), || sys::kill(-1, libc::SIGKILL));
    Ok(code)
}

fn open_path(p: &std::path::Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC | libc::O_DIRECTORY)
        .open(p)
        .map_err(|e| format!("opening {}: {e}", p.display()))
}

/// `dir` becomes a private tmpfs (so that, whatever happens next, nothing written there
/// reaches the host), then an overlay of the host's directory (`lower`) with its upper layer
/// on that tmpfs. The upper layer's root takes the host directory's owner and mode, so the
/// command may write where it could before.
fn copy_on_write(dir: &std::path::Path, size: &str, lower: &std::fs::File) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = lower.metadata().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("making {}: {e}", dir.display()))?;
    sys::ns::private_tmpfs(dir, size).map_err(|e| format!("private tmpfs: {e}"))?;
    let (upper, work) = (dir.join(".turncoat-upper"), dir.join(".turncoat-work"));
    for d in [&upper, &work] {
        std::fs::create_dir(d).map_err(|e| format!("making {}: {e}", d.display()))?;
    }
    std::os::unix::fs::chown(&upper, Some(meta.uid()), Some(meta.gid()))
        .map_err(|e| format!("chown {}: {e}", upper.display()))?;
    std::fs::set_permissions(
        &upper,
        std::fs::Permissions::from_mode(meta.mode() & 0o7777),
    )
    .map_err(|e| format!("chmod {}: {e}", upper.display()))?;
    sys::ns::overlay(lower.as_raw_fd(), &upper, &work, dir).map_err(|e| format!("overlayfs: {e}"))
}

fn keep_open(p: &std::path::Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(p)
        .map_err(|e| format!("opening {} to keep it: {e}", p.display()))
}

/// Replace `dir` with a private tmpfs, then bind back the kept paths under it (opened before
/// any tmpfs hid them; read-only unless writable).
fn private_dir(
    dir: &std::path::Path,
    size: &str,
    held: &[&(&std::path::Path, bool, std::fs::File)],
) -> Result<(), String> {
    if !dir.is_dir() {
        return Ok(());
    }
    sys::ns::private_tmpfs(dir, size)
        .map_err(|e| format!("mounting a private tmpfs on {}: {e}", dir.display()))?;
    for (p, rw, f) in held.iter().copied() {
        let is_dir = f.metadata().map(|m| m.is_dir()).unwrap_or(false);
        let made = if is_dir {
            std::fs::create_dir_all(p)
        } else {
            p.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::File::create(p).map(drop))
        };
        made.map_err(|e| {
            format!(
                "making {} in the private {}: {e}",
                p.display(),
                dir.display()
            )
        })?;
        let src = PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()));
        sys::ns::bind(&src, p, !rw).map_err(|e| {
            format!(
                "keeping {} in the private {}: {e}",
                p.display(),
                dir.display()
            )
        })?;
    }
    Ok(())
}

/// Reap every child (orphans are re-parented to us) until `child` itself exits; its status.
fn reap_until(child: libc::pid_t) -> Result<i32, String> {
    loop {
        match sys::waitpid(-1, 0) {
            Ok((pid, st)) if pid == child => return Ok(sys::exit_code(st)),
            Ok(_) => continue,
            Err(e) => return Err(format!("waitpid: {e}")),
        }
    }
}

/// Report the processes still running when the command ended, kill them, reap them.
fn kill_leftovers(leftovers: Vec<(i32, String)>, kill: impl FnOnce()) {
    if leftovers.is_empty() {
        return;
    }
    report(
        MSG_KILLED,
        &serde_json::to_string(&leftovers).unwrap_or_default(),
    );
    kill();
    while sys::waitpid(-1, 0).is_ok() {}
}

/// Fork the command process; in the child, [`command`] never returns unless it failed.
fn fork_command(cfg: &InitConfig) -> Result<libc::pid_t, String> {
    let (program, argv, env) = exec_args(cfg)?;
    let child = sys::fork().map_err(|e| format!("fork: {e}"))?;
    if child == 0 {
        let err = command(cfg, &program, &argv, &env);
        report(MSG_ERROR, &err);
        #[allow(clippy::exit)]
        std::process::exit(127);
    }
    Ok(child)
}

type ExecArgs = (CString, Vec<CString>, Vec<CString>);

fn exec_args(cfg: &InitConfig) -> Result<ExecArgs, String> {
    let argv: Vec<CString> = cfg
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(|_| format!("NUL byte in argument {a:?}")))
        .collect::<Result<_, _>>()?;
    let env: Vec<CString> = cfg
        .env
        .iter()
        .filter_map(|(k, v)| CString::new(format!("{k}={v}")).ok())
        .collect();
    let program = CString::new(cfg.program.to_string_lossy().as_bytes())
        .map_err(|_| "NUL byte in program path")?;
    Ok((program, argv, env))
}

/// The degraded tier: no namespaces. We become a child subreaper so that daemons the command
/// leaves behind are re-parented to us, and kill every descendant when the command ends.
fn degraded(cfg: &InitConfig) -> Result<i32, String> {
    sys::set_child_subreaper().map_err(|e| format!("prctl(CHILD_SUBREAPER): {e}"))?;
    let child = fork_command(cfg)?;
    let code = reap_until(child)?;
    let me = std::process::id() as i32;
    let leftovers: Vec<(i32, String)> = list_processes()
        .into_iter()
        .filter(|(pid, _)| descends_from(*pid, me))
        .collect();
    let pids: Vec<i32> = leftovers.iter().map(|(p, _)| *p).collect();
    kill_leftovers(leftovers, || {
        pids.iter().for_each(|p| sys::kill(*p, libc::SIGKILL))
    });
    Ok(code)
}

/// Is `pid` a descendant of `ancestor` (following parent pids in /proc)?
fn descends_from(pid: i32, ancestor: i32) -> bool {
    let mut p = pid;
    for _ in 0..64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            return false;
        };
        // The command name may contain spaces and parentheses: the ppid follows the last ')'.
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<i32>().ok())
        else {
            return false;
        };
        if ppid == ancestor {
            return true;
        }
        if ppid <= 1 {
            return false;
        }
        p = ppid;
    }
    false
}

/// The command process: last privileges dropped, filters installed, then execve.
fn command(cfg: &InitConfig, program: &CString, argv: &[CString], env: &[CString]) -> String {
    if let Err(e) = sys::die_with_parent() {
        return format!("prctl(PDEATHSIG): {e}");
    }
    // Its own session, no controlling terminal: it cannot push input into the user's shell
    // (TIOCSTI is also refused by seccomp) nor read from the terminal behind our back.
    if let Err(e) = sys::setsid() {
        return format!("setsid: {e}");
    }
    // pid 1 made itself non-dumpable and we inherited that; unprivileged, the supervisor could
    // then not take our seccomp listener (pidfd_getfd checks ptrace access against the
    // namespace our memory was created in, the host's). Our memory holds nothing secret.
    if let Err(e) = sys::set_dumpable(true) {
        return format!("prctl(DUMPABLE): {e}");
    }
    if let Err(e) = std::env::set_current_dir(&cfg.cwd) {
        return format!("cannot enter {}: {e}", cfg.cwd.display());
    }
    if let Err(e) = sys::ns::lock_capabilities() {
        return format!("dropping capabilities: {e}");
    }
    if let Some((uid, gid)) = cfg.run_as
        && let Err(e) = sys::ns::set_ids(uid, gid)
    {
        return format!("dropping to uid {uid}: {e}");
    }
    if let Some(bytes) = cfg.memory_limit
        && let Err(e) = sys::limit_memory(bytes)
    {
        return format!("setrlimit(RLIMIT_AS): {e}");
    }
    if let Some(n) = cfg.process_limit
        && let Err(e) = sys::limit_processes(n)
    {
        return format!("setrlimit(RLIMIT_NPROC): {e}");
    }
    if let Err(e) = sys::ns::clear_capabilities() {
        return format!("dropping capabilities: {e}");
    }
    if let Err(e) = sys::no_new_privs() {
        return format!("prctl(NO_NEW_PRIVS): {e}");
    }
    if let Err(e) = crate::fence::restrict(
        &cfg.writable,
        cfg.readable.as_deref(),
        cfg.degraded_tcp_ports.as_deref(),
    ) {
        return format!("Landlock: {e}");
    }
    let listener = match sys::seccomp::install() {
        Ok(l) => l,
        Err(e) => return format!("installing the seccomp filter: {e}"),
    };
    // sendmsg is trapped from here on and the supervisor is not listening yet: hand over only
    // the fd number with write(2); the kernel attaches our pid, and the supervisor takes the fd
    // with pidfd_getfd.
    let mut m = vec![MSG_LISTENER];
    m.extend_from_slice(&(listener.as_raw_fd() as u32).to_le_bytes());
    if let Err(e) = sys::write_all_raw(CTL_FD, &m) {
        return format!("announcing the seccomp listener: {e}");
    }
    match sys::read_byte_raw(CTL_FD) {
        Ok(Some(b'k')) => {}
        Ok(_) => return "the supervisor did not take the seccomp listener".into(),
        Err(e) => return format!("waiting for the supervisor: {e}"),
    }
    // The command must never hold its own listener (it could answer its own notifications).
    drop(listener);
    sys::close(CTL_FD);
    if let Err(e) = sys::close_from(CTL_FD as u32) {
        return format!("close_range: {e}");
    }
    let e = sys::execve(program, argv, env);
    format!("cannot execute {}: {e}", cfg.program.display())
}

/// (pid, executable) of every process in the namespace but us.
fn list_processes() -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for ent in dir.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid == 1 || pid == std::process::id() as i32 {
            continue;
        }
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p.to_string_lossy().into_owned())
            .or_else(|_| {
                std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim().to_string())
            })
            .unwrap_or_default();
        out.push((pid, exe));
    }
    out.sort();
    out
}
