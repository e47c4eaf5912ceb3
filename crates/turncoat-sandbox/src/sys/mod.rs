//! The thin unsafe layer: raw Linux calls the sandbox needs and std does not offer
//! (namespaces, mounts, capabilities, seccomp user notification, fd passing, reading a
//! traced process's memory). Every function here is small, checks its return value and turns
//! failures into `io::Error`; policy lives in the safe modules above.
//!
//! Calls `rustix` wraps safely (mounts, unshare, ids, prctl settings, capability sets,
//! pidfds, setsid) go through it; what is left raw is what it does not cover or covers only
//! as `unsafe` too: fork/execve/waitpid, `SCM_RIGHTS`/`SCM_CREDENTIALS` messages, seccomp
//! user notification (the filter itself is built by libseccomp), close_range, getpwuid_r, rlimits, Landlock's ABI probe, the loopback
//! ioctl and the bounding-set drop by number.

pub mod mem;
pub mod ns;
pub mod seccomp;
pub mod signals;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub(crate) fn cvt_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A connected `SOCK_SEQPACKET` pair (both ends close-on-exec): message boundaries are kept,
/// and fds and credentials travel with messages.
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid two-element array for the kernel to fill.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair succeeded, so both fds are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Ask the kernel to attach the sender's (namespace-translated) pid, uid and gid to every
/// message received on `fd`.
pub fn set_passcred(fd: &OwnedFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: valid fd, pointer to a c_int of the stated size.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PASSCRED,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// One received control message.
pub struct Msg {
    pub data: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    /// Sender pid as seen from the receiver's pid namespace (with `SO_PASSCRED`).
    pub pid: Option<i32>,
}

const CMSG_SPACE: usize = 256;

/// Send `data` and optionally some fds (SCM_RIGHTS) as one message.
pub fn send_msg(sock: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut cbuf = [0u64; CMSG_SPACE / 8];
    // SAFETY: zeroed msghdr is a valid "empty" header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let payload = std::mem::size_of_val(fds);
        // SAFETY: CMSG_SPACE is a pure size computation.
        let space = unsafe { libc::CMSG_SPACE(payload as u32) } as usize;
        if space > CMSG_SPACE {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "too many fds"));
        }
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: msg_control points at `space` bytes we own; CMSG_FIRSTHDR/DATA stay inside it.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(payload as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(c), payload);
        }
    }
    loop {
        // SAFETY: msg and everything it points to live until the call returns.
        let r = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if r >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receive one message (at most `max` bytes). `Ok(None)` on end of stream.
pub fn recv_msg(sock: RawFd, max: usize) -> io::Result<Option<Msg>> {
    let mut data = vec![0u8; max];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut cbuf = [0u64; CMSG_SPACE / 8];
    // SAFETY: zeroed msghdr is valid; we point it at buffers we own.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = CMSG_SPACE as _;
    let n = loop {
        // SAFETY: as above; MSG_CMSG_CLOEXEC so received fds never leak into a child.
        let r = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if r >= 0 {
            break r as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    let mut pid = None;
    // SAFETY: walking the control buffer the kernel filled, with the libc macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            let len = (*c).cmsg_len as usize;
            let hdr = libc::CMSG_LEN(0) as usize;
            if (*c).cmsg_level == libc::SOL_SOCKET
                && (*c).cmsg_type == libc::SCM_RIGHTS
                && len >= hdr
            {
                let count = (len - hdr) / size_of::<RawFd>();
                let p = libc::CMSG_DATA(c).cast::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(p.add(i))));
                }
            } else if (*c).cmsg_level == libc::SOL_SOCKET
                && (*c).cmsg_type == libc::SCM_CREDENTIALS
                && len >= hdr + size_of::<libc::ucred>()
            {
                let cred = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::ucred>());
                pid = Some(cred.pid);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if n == 0 && fds.is_empty() {
        return Ok(None);
    }
    data.truncate(n);
    Ok(Some(Msg { data, fds, pid }))
}

/// Write all of `buf` to a raw fd (no allocation; usable between fork and exec).
pub fn write_all_raw(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is a valid slice.
        let r = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        buf = &buf[r as usize..];
    }
    Ok(())
}

/// Read one byte from a raw fd; `Ok(None)` at end of file.
pub fn read_byte_raw(fd: RawFd) -> io::Result<Option<u8>> {
    let mut b = 0u8;
    loop {
        // SAFETY: one byte buffer we own.
        let r = unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(if r == 0 { None } else { Some(b) });
    }
}

/// `pidfd_open(pid)` then `pidfd_getfd(fd)`: take a duplicate of another process's fd.
///
/// `pid` may be a thread id (a seccomp notification names the thread that made the call, e.g.
/// a libuv pool thread running `getaddrinfo`): `pidfd_open` takes only a thread-group leader
/// before Linux 6.9, so the call goes to the thread's process (file descriptors are shared by
/// all its threads).
pub fn steal_fd(pid: i32, fd: RawFd) -> io::Result<OwnedFd> {
    use rustix::process::{Pid, PidfdFlags, PidfdGetfdFlags};
    let pid = thread_group(pid).unwrap_or(pid);
    let pid = Pid::from_raw(pid).ok_or(io::ErrorKind::InvalidInput)?;
    let pidfd = rustix::process::pidfd_open(pid, PidfdFlags::empty())?;
    Ok(rustix::process::pidfd_getfd(
        &pidfd,
        fd,
        PidfdGetfdFlags::empty(),
    )?)
}

/// The thread-group (process) id of thread `tid`, from `/proc/<tid>/status`.
fn thread_group(tid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The peer address of a socket fd as `IP:PORT`, when it is an inet socket.
pub fn peer_inet(fd: &OwnedFd) -> Option<std::net::SocketAddr> {
    // SAFETY: zeroed sockaddr_storage is a valid buffer for getpeername.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: buffer and length describe `ss`.
    let r = unsafe {
        libc::getpeername(
            fd.as_raw_fd(),
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return None;
    }
    // SAFETY: reinterpret the storage as bytes of its own size.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&ss as *const libc::sockaddr_storage).cast::<u8>(),
            len as usize,
        )
    };
    match crate::sockaddr::parse(bytes) {
        Some(crate::sockaddr::Addr::Inet(a)) => Some(a),
        _ => None,
    }
}

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`: die with the parent.
pub fn die_with_parent() -> io::Result<()> {
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
    Ok(())
}

/// `prctl(PR_SET_DUMPABLE, 0)`: /proc/<pid>/environ and mem of this process become unreadable
/// to processes without CAP_SYS_PTRACE over it.
pub fn set_not_dumpable() -> io::Result<()> {
    set_dumpable(false)
}

pub fn set_dumpable(on: bool) -> io::Result<()> {
    use rustix::process::DumpableBehavior;
    let how = if on {
        DumpableBehavior::Dumpable
    } else {
        DumpableBehavior::NotDumpable
    };
    rustix::process::set_dumpable_behavior(how)?;
    Ok(())
}

pub fn no_new_privs() -> io::Result<()> {
    rustix::thread::set_no_new_privs(true)?;
    Ok(())
}

/// fork(2). Only called from the single-threaded sandbox init process.
pub fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: the init process is single-threaded (it is a fresh exec of our binary that
    // starts no threads), so the child may run arbitrary code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    }
}

/// waitpid; returns (pid, raw status).
pub fn waitpid(pid: libc::pid_t, flags: libc::c_int) -> io::Result<(libc::pid_t, libc::c_int)> {
    let mut st = 0;
    loop {
        // SAFETY: `st` is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut st, flags) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok((r, st));
    }
}

/// Exit status of a raw wait status, shell-style (128 + signal).
pub fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    }
}

pub fn kill(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: integer arguments; failure (already gone) is fine.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// execve with an explicit path, argv and environment. Returns only on failure.
pub fn execve(path: &CString, argv: &[CString], env: &[CString]) -> io::Error {
    let mut a: Vec<*const libc::c_char> = argv.iter().map(|s| s.as_ptr()).collect();
    a.push(std::ptr::null());
    let mut e: Vec<*const libc::c_char> = env.iter().map(|s| s.as_ptr()).collect();
    e.push(std::ptr::null());
    // SAFETY: NUL-terminated arrays of pointers to CStrings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    io::Error::last_os_error()
}

/// `setsid()`: a new session with no controlling terminal (TIOCSTI on it is impossible).
pub fn setsid() -> io::Result<()> {
    rustix::process::setsid()?;
    Ok(())
}

/// Close every fd from `first` up (`close_range(first, ~0, 0)`): nothing the caller inherited
/// beyond what we chose reaches the command.
pub fn close_from(first: u32) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt_long(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) })?;
    Ok(())
}

pub fn close(fd: RawFd) {
    // SAFETY: closing an fd number we own.
    unsafe {
        libc::close(fd);
    }
}

pub fn getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

pub fn getgid() -> u32 {
    rustix::process::getgid().as_raw()
}

pub fn geteuid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Home directory of `uid` from the passwd database.
pub fn home_of(uid: u32) -> Option<std::path::PathBuf> {
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: zeroed passwd is a valid out buffer.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers sized as passed; the result points into `buf`/`pw`.
    let r = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if r != 0 || out.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a NUL-terminated string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) };
    use std::os::unix::ffi::OsStrExt;
    Some(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(
        dir.to_bytes(),
    )))
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the ABI version, or 0.
pub fn landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: a NULL attribute with size 0 and the VERSION flag only queries the ABI.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 { 0 } else { r as i32 }
}

/// Make `fd` the child's fd 3 (the sandbox control socket) when `cmd` is spawned.
pub fn pass_as_fd3(cmd: &mut std::process::Command, fd: RawFd) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls dup2/fcntl, which are
    // async-signal-safe and allocate nothing.
    unsafe {
        cmd.pre_exec(move || {
            if fd == crate::init::CTL_FD {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(fd, crate::init::CTL_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// RLIMIT_AS: bound the address space of this process and its children.
pub fn limit_memory(bytes: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: pointer to a valid rlimit.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) })?;
    Ok(())
}

/// RLIMIT_NPROC: bound the processes (of this uid, in the sandbox's user namespace).
pub fn limit_processes(n: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: n as libc::rlim_t,
        rlim_max: n as libc::rlim_t,
    };
    // SAFETY: pointer to a valid rlimit.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &lim) })?;
    Ok(())
}

/// `prctl(PR_SET_CHILD_SUBREAPER)`: orphaned descendants are re-parented to us, not to init.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })?;
    Ok(())
}
