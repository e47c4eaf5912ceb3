//! The seccomp filter (hand-assembled classic BPF) and the user-notification API.
//!
//! The filter sends the syscalls we record to the supervisor (`SECCOMP_RET_USER_NOTIF`),
//! refuses the ones no install needs outright, and allows everything else at no cost. Decisions
//! on register arguments (socket type, clone flags) are race-free; decisions on pointer
//! arguments (paths, addresses) are observations — enforcement is the network namespace, the
//! mount masks and Landlock.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::cvt_long;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_NOTIF: u32 = 0x7fc0_0000;

const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const fn off_arg(i: u32) -> u32 {
    16 + 8 * i
}

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_JSET_K: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const BPF_AND_K: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}
fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

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

/// The whole filter program.
pub fn program() -> Vec<libc::sock_filter> {
    let mut p = vec![
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, RET_KILL_PROCESS),
        stmt(BPF_LD_W_ABS, OFF_NR),
    ];
    #[cfg(target_arch = "x86_64")]
    {
        // x32 syscall numbers would bypass every check below.
        p.push(jump(BPF_JGE_K, 0x4000_0000, 0, 1));
        p.push(stmt(BPF_RET_K, RET_ERRNO | libc::EPERM as u32));
    }
    for nr in notified() {
        p.push(jump(BPF_JEQ_K, nr as u32, 0, 1));
        p.push(stmt(BPF_RET_K, RET_NOTIF));
    }
    for (nr, _) in REFUSED {
        p.push(jump(BPF_JEQ_K, *nr as u32, 0, 1));
        p.push(stmt(BPF_RET_K, RET_NOTIF));
    }
    // ioctl(fd, TIOCSTI | TIOCLINUX): pushing input into a terminal (a command line typed
    // into the user's shell) or taking over the console. The request is a register: race-free.
    p.push(jump(BPF_JEQ_K, libc::SYS_ioctl as u32, 0, 5));
    p.push(stmt(BPF_LD_W_ABS, off_arg(1)));
    p.push(jump(BPF_JEQ_K, libc::TIOCSTI as u32, 2, 0));
    p.push(jump(BPF_JEQ_K, libc::TIOCLINUX as u32, 1, 0));
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p.push(stmt(BPF_RET_K, RET_NOTIF));
    // clone3 passes flags in memory we cannot inspect race-free: ENOSYS makes libc fall back
    // to clone(2), whose flags are a register.
    p.push(jump(BPF_JEQ_K, libc::SYS_clone3 as u32, 0, 1));
    p.push(stmt(BPF_RET_K, RET_ERRNO | libc::ENOSYS as u32));
    // clone(flags, ...): namespace flags go to the supervisor (recorded and refused).
    p.push(jump(BPF_JEQ_K, libc::SYS_clone as u32, 0, 4));
    p.push(stmt(BPF_LD_W_ABS, off_arg(0)));
    p.push(jump(BPF_JSET_K, CLONE_NS_FLAGS as u32, 0, 1));
    p.push(stmt(BPF_RET_K, RET_NOTIF));
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    // socket(domain, type, proto): packet and vsock sockets, and raw or SOCK_PACKET inet
    // sockets, go to the supervisor. (Netlink sockets are SOCK_RAW too: getifaddrs needs them,
    // they stay.) AF_VSOCK reaches the hypervisor, which no network namespace covers.
    p.push(jump(BPF_JEQ_K, libc::SYS_socket as u32, 0, 12));
    p.push(stmt(BPF_LD_W_ABS, off_arg(0)));
    p.push(jump(BPF_JEQ_K, libc::AF_PACKET as u32, 9, 0));
    p.push(jump(BPF_JEQ_K, libc::AF_VSOCK as u32, 8, 0));
    p.push(jump(BPF_JEQ_K, libc::AF_INET as u32, 2, 0));
    p.push(jump(BPF_JEQ_K, libc::AF_INET6 as u32, 1, 0));
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p.push(stmt(BPF_LD_W_ABS, off_arg(1)));
    p.push(stmt(BPF_AND_K, 0xf));
    p.push(jump(BPF_JEQ_K, libc::SOCK_RAW as u32, 2, 0));
    // SOCK_PACKET (10): the obsolete packet socket type.
    p.push(jump(BPF_JEQ_K, 10, 1, 0));
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p.push(stmt(BPF_RET_K, RET_NOTIF));
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p
}

/// Install the filter on the calling thread (no_new_privs must be set) and return the
/// notification listener fd (close-on-exec).
pub fn install() -> io::Result<OwnedFd> {
    let prog = program();
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `fprog` points at `prog`, which outlives the call; the kernel copies it.
    let fd = cvt_long(unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &fprog as *const libc::sock_fprog,
        )
    })?;
    // SAFETY: the kernel returned a new listener fd that we own.
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
    fn program_fits_and_jumps_stay_inside() {
        let p = program();
        assert!(p.len() < 4096);
        for (i, ins) in p.iter().enumerate() {
            if ins.code & 0x07 == libc::BPF_JMP as u16 {
                assert!(
                    i + 1 + (ins.jt as usize) < p.len(),
                    "jt out of range at {i}"
                );
                assert!(
                    i + 1 + (ins.jf as usize) < p.len(),
                    "jf out of range at {i}"
                );
            }
        }
        assert_eq!(p.last().unwrap().k, RET_ALLOW);
    }
}
