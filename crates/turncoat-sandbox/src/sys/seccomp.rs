//! The seccomp filter (built with libseccomp) and the user-notification API.
//!
//! The filter sends the syscalls we record to the supervisor (`SECCOMP_RET_USER_NOTIF`),
//! refuses the ones no install needs outright, and allows everything else at no cost. Decisions
//! on register arguments (socket type, clone flags) are race-free; decisions on pointer
//! arguments (paths, addresses) are observations — enforcement is the network namespace, the
//! mount masks and Landlock.
//!
//! The filter is compiled by libseccomp (the `libseccomp` crate over the C library), which
//! expresses every rule: user notification (`ScmpAction::Notify` and the listener fd), errno
//! returns, argument comparisons (a masked 32-bit `ioctl` request, one rule per namespace flag
//! of `clone` since its comparisons are equalities, socket domain and type), and the
//! architecture check (a foreign ABI, `int 0x80` or an x32 number, kills the process).
//! `seccompiler` cannot be used: it has no user-notification action. What stays hand-written is
//! the notification loop (receive, respond, id check, sync wake-up): the crate's
//! `ScmpNotifReq::receive` allocates and frees a request through the C library and checks the
//! API level on every notification — the supervisor's hot path, once per trapped `openat` —
//! and libseccomp 2.5 (Debian 12) has no sync wake-up flag.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use libseccomp::error::SeccompError;
use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};

/// Syscalls the supervisor records (and may answer with an error).
pub fn notified() -> Vec<i64> {
    let mut v = vec![
        libc::SYS_execve,
        libc::SYS_execveat,
        libc::SYS_connect,
        libc::SYS_sendto,
        libc::SYS_sendmsg,
        libc::SYS_sendmmsg,
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_mkdirat,
        // A regular file made without open(2).
        libc::SYS_mknodat,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        libc::SYS_linkat,
        libc::SYS_symlinkat,
        libc::SYS_truncate,
        // Refused, but recorded so the report can say who tried.
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_ptrace,
        libc::SYS_unshare,
        libc::SYS_setns,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        libc::SYS_open,
        libc::SYS_creat,
        libc::SYS_mkdir,
        libc::SYS_mknod,
        libc::SYS_rename,
        libc::SYS_link,
        libc::SYS_symlink,
    ]);
    v
}

/// Syscalls no install needs, each one a way out of the sandbox or around its observers:
/// sent to the supervisor, which refuses them with EPERM and records who tried (so that
/// `--block` fails the run with the reason).
pub const REFUSED: &[(i64, &str)] = &[
    (libc::SYS_mount, "mount"),
    (libc::SYS_umount2, "umount2"),
    (libc::SYS_pivot_root, "pivot_root"),
    (libc::SYS_chroot, "chroot"),
    (libc::SYS_bpf, "bpf"),
    (libc::SYS_perf_event_open, "perf_event_open"),
    (libc::SYS_keyctl, "keyctl"),
    (libc::SYS_add_key, "add_key"),
    (libc::SYS_request_key, "request_key"),
    (libc::SYS_kexec_load, "kexec_load"),
    (libc::SYS_kexec_file_load, "kexec_file_load"),
    (libc::SYS_init_module, "init_module"),
    (libc::SYS_finit_module, "finit_module"),
    (libc::SYS_delete_module, "delete_module"),
    (libc::SYS_open_tree, "open_tree"),
    (libc::SYS_move_mount, "move_mount"),
    (libc::SYS_fsopen, "fsopen"),
    (libc::SYS_fsconfig, "fsconfig"),
    (libc::SYS_fsmount, "fsmount"),
    (libc::SYS_fspick, "fspick"),
    (libc::SYS_mount_setattr, "mount_setattr"),
    (libc::SYS_process_vm_writev, "process_vm_writev"),
    (libc::SYS_pidfd_getfd, "pidfd_getfd"),
    (libc::SYS_acct, "acct"),
    (libc::SYS_swapon, "swapon"),
    (libc::SYS_swapoff, "swapoff"),
    (libc::SYS_reboot, "reboot"),
    (libc::SYS_syslog, "syslog"),
    (libc::SYS_name_to_handle_at, "name_to_handle_at"),
    (libc::SYS_open_by_handle_at, "open_by_handle_at"),
];

/// clone(2) flags that create namespaces: a nested sandbox could hide from our observers.
pub const CLONE_NS_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64;

/// Send syscall `nr` to the supervisor when every comparison holds.
fn notify(f: &mut ScmpFilterContext, nr: i64, when: &[ScmpArgCompare]) -> Result<(), SeccompError> {
    let sys = ScmpSyscall::from(nr as i32);
    if when.is_empty() {
        f.add_rule(ScmpAction::Notify, sys)?;
    } else {
        f.add_rule_conditional(ScmpAction::Notify, sys, when)?;
    }
    Ok(())
}

/// The whole filter: built by libseccomp, which checks the architecture (a foreign one, `int
/// 0x80` on x86_64 or an x32 syscall number, kills the process: they would bypass every rule
/// below) and compiles the rules into classic BPF.
pub fn filter() -> Result<ScmpFilterContext, SeccompError> {
    let mut f = ScmpFilterContext::new(ScmpAction::Allow)?;
    f.set_act_badarch(ScmpAction::KillProcess)?;
    for nr in notified() {
        notify(&mut f, nr, &[])?;
    }
    for (nr, _) in REFUSED {
        notify(&mut f, *nr, &[])?;
    }
    // ioctl(fd, TIOCSTI | TIOCLINUX): pushing input into a terminal (a command line typed
    // into the user's shell) or taking over the console. The request is a register: race-free.
    // The kernel reads it as 32 bits: the upper half is masked out.
    for req in [libc::TIOCSTI, libc::TIOCLINUX] {
        let cmp = ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(0xffff_ffff), req);
        notify(&mut f, libc::SYS_ioctl, &[cmp])?;
    }
    // clone3 passes flags in memory we cannot inspect race-free: ENOSYS makes libc fall back
    // to clone(2), whose flags are a register.
    f.add_rule(
        ScmpAction::Errno(libc::ENOSYS),
        ScmpSyscall::from(libc::SYS_clone3 as i32),
    )?;
    // clone(flags, ...): any namespace flag goes to the supervisor (recorded and refused); one
    // rule per flag, as libseccomp's comparisons are equalities.
    for bit in (0..64)
        .map(|i| 1u64 << i)
        .filter(|b| CLONE_NS_FLAGS & b != 0)
    {
        let cmp = ScmpArgCompare::new(0, ScmpCompareOp::MaskedEqual(bit), bit);
        notify(&mut f, libc::SYS_clone, &[cmp])?;
    }
    // socket(domain, type, proto): packet and vsock sockets, and raw or SOCK_PACKET (10) inet
    // sockets, go to the supervisor. (Netlink sockets are SOCK_RAW too: getifaddrs needs them,
    // they stay.) AF_VSOCK reaches the hypervisor, which no network namespace covers.
    let domain = |d: i32| ScmpArgCompare::new(0, ScmpCompareOp::Equal, d as u64);
    for d in [libc::AF_PACKET, libc::AF_VSOCK] {
        notify(&mut f, libc::SYS_socket, &[domain(d)])?;
    }
    for d in [libc::AF_INET, libc::AF_INET6] {
        for ty in [libc::SOCK_RAW as u64, 10] {
            let kind = ScmpArgCompare::new(1, ScmpCompareOp::MaskedEqual(0xf), ty);
            notify(&mut f, libc::SYS_socket, &[domain(d), kind])?;
        }
    }
    Ok(f)
}

/// Install the filter on the calling thread (no_new_privs must be set) and return the
/// notification listener fd (close-on-exec).
pub fn install() -> io::Result<OwnedFd> {
    let to_io = |e: SeccompError| io::Error::other(e.to_string());
    let f = filter().map_err(to_io)?;
    // libseccomp asks the kernel for a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) because
    // the filter has Notify rules, and keeps its number.
    f.load().map_err(to_io)?;
    let fd = f.get_notify_fd().map_err(to_io)?;
    // SAFETY: the kernel returned a new listener fd for this filter; nothing else owns or
    // closes it (libseccomp only remembers the number), so it is ours to own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Ask the kernel to wake the supervisor synchronously on the notifying task's CPU
/// (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, Linux 6.6): the trapped task is blocked anyway, so
/// handing the CPU straight over saves a scheduler round trip per trapped syscall. Older
/// kernels refuse it; that only costs speed.
pub fn sync_wake_up(listener: &OwnedFd) -> bool {
    const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;
    // SAFETY: ioctl with an integer flag argument.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        ) == 0
    }
}

/// One notification: who, which syscall, which arguments.
#[derive(Debug, Clone, Copy)]
pub struct Notif {
    pub id: u64,
    pub pid: u32,
    pub nr: i64,
    pub args: [u64; 6],
}

/// Wait up to `timeout_ms` for the listener; `Ok(false)` on timeout. `Err` with
/// `BrokenPipe` once every filtered process is gone.
pub fn wait(listener: &OwnedFd, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    if r == 0 {
        return Ok(false);
    }
    if pfd.revents & libc::POLLIN != 0 {
        return Ok(true);
    }
    if pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
        return Err(io::Error::from(io::ErrorKind::BrokenPipe));
    }
    Ok(false)
}

/// SECCOMP_IOCTL_NOTIF_RECV. `Ok(None)` when the notification vanished (the task died).
pub fn recv(listener: &OwnedFd) -> io::Result<Option<Notif>> {
    // SAFETY: zeroed seccomp_notif is the required input state for RECV.
    let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: ioctl with a pointer to a correctly sized struct.
    let r = unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut n) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EINTR) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Some(Notif {
        id: n.id,
        pid: n.pid,
        nr: n.data.nr as i64,
        args: n.data.args,
    }))
}

/// Is the notification still pending (its task alive and not reused)?
pub fn id_valid(listener: &OwnedFd, id: u64) -> bool {
    let mut id = id;
    // SAFETY: pointer to a u64 as the ioctl expects.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &mut id,
        ) == 0
    }
}

/// Answer: let the syscall run (`errno == 0`) or fail it with `-errno`.
pub fn respond(listener: &OwnedFd, id: u64, errno: i32) -> io::Result<()> {
    let mut resp = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: if errno == 0 { 0 } else { -errno },
        flags: if errno == 0 {
            libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32
        } else {
            0
        },
    };
    // SAFETY: pointer to a correctly sized response struct.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        // ENOENT: the task died meanwhile; nothing to answer.
        if e.raw_os_error() == Some(libc::ENOENT) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// Name of a syscall number we handle, for events.
pub fn name(nr: i64) -> &'static str {
    #[cfg(target_arch = "x86_64")]
    match nr {
        libc::SYS_open => return "open",
        libc::SYS_creat => return "creat",
        libc::SYS_mkdir => return "mkdir",
        libc::SYS_mknod => return "mknod",
        libc::SYS_rename => return "rename",
        libc::SYS_link => return "link",
        libc::SYS_symlink => return "symlink",
        _ => {}
    }
    match nr {
        libc::SYS_execve => "execve",
        libc::SYS_execveat => "execveat",
        libc::SYS_connect => "connect",
        libc::SYS_sendto => "sendto",
        libc::SYS_sendmsg => "sendmsg",
        libc::SYS_sendmmsg => "sendmmsg",
        libc::SYS_openat => "openat",
        libc::SYS_openat2 => "openat2",
        libc::SYS_mkdirat => "mkdirat",
        libc::SYS_mknodat => "mknodat",
        libc::SYS_renameat => "renameat",
        libc::SYS_renameat2 => "renameat2",
        libc::SYS_linkat => "linkat",
        libc::SYS_symlinkat => "symlinkat",
        libc::SYS_truncate => "truncate",
        libc::SYS_io_uring_setup => "io_uring_setup",
        libc::SYS_io_uring_enter => "io_uring_enter",
        libc::SYS_io_uring_register => "io_uring_register",
        libc::SYS_ptrace => "ptrace",
        libc::SYS_unshare => "unshare",
        libc::SYS_setns => "setns",
        libc::SYS_clone => "clone(namespaces)",
        libc::SYS_socket => "socket(raw)",
        libc::SYS_ioctl => "ioctl",
        _ => REFUSED
            .iter()
            .find(|(n, _)| *n == nr)
            .map_or("syscall", |(_, name)| name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_builds_with_every_rule() {
        let f = filter().expect("every rule is one libseccomp can express");
        // Exported as the kernel would get it: whole instructions, within the kernel's limit.
        let out = tempfile::tempfile().unwrap();
        f.export_bpf(&out).unwrap();
        let len = out.metadata().unwrap().len() as usize;
        let insns = len / std::mem::size_of::<libc::sock_filter>();
        assert!(len > 0 && len.is_multiple_of(std::mem::size_of::<libc::sock_filter>()));
        assert!(insns < 4096, "{insns} instructions");
    }
}
