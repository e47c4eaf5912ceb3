//! Namespaces, id maps, mounts, the loopback interface and capabilities: the steps the sandbox
//! init takes (single-threaded, before exec) to build the sandbox.
//!
//! Mounts, unshare, ids, secure bits and the capability sets go through `rustix`; still raw
//! libc: the loopback ioctl (rustix has no `SIOCSIFFLAGS`) and dropping the bounding set by
//! number (rustix names only the capabilities it knows, and the kernel may know more).

use std::io;
use std::path::Path;

use rustix::mount::{MountFlags, MountPropagationFlags};
use rustix::thread::{CapabilitiesSecureBits, CapabilitySet, CapabilitySets, UnshareFlags};

use super::cvt;

/// unshare(2) with the given CLONE_NEW* flags.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    let flags = UnshareFlags::from_bits_retain(flags as u32);
    if flags.contains(UnshareFlags::FILES) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "unshare: CLONE_FILES is not used by the sandbox",
        ));
    }
    // SAFETY: without CLONE_FILES (refused above) no thread can lose the fds it shares.
    unsafe { rustix::thread::unshare_unsafe(flags) }?;
    Ok(())
}

/// Write the uid/gid maps of `pid`'s new user namespace, from the parent namespace.
/// Unprivileged callers may only map their own ids, after denying setgroups.
pub fn write_id_maps(
    pid: u32,
    uid_map: &str,
    gid_map: &str,
    deny_setgroups: bool,
) -> io::Result<()> {
    if deny_setgroups {
        std::fs::write(format!("/proc/{pid}/setgroups"), "deny")?;
    }
    std::fs::write(format!("/proc/{pid}/uid_map"), uid_map)?;
    std::fs::write(format!("/proc/{pid}/gid_map"), gid_map)?;
    Ok(())
}

/// A new filesystem of type `fstype` (named `src`) on `target`, with `data` options.
fn mount_fs(
    src: &str,
    target: &Path,
    fstype: &str,
    flags: MountFlags,
    data: Option<&str>,
) -> io::Result<()> {
    let data = data
        .map(|d| std::ffi::CString::new(d).map_err(|_| io::ErrorKind::InvalidInput))
        .transpose()?;
    rustix::mount::mount(src, target, fstype, flags, data.as_deref())?;
    Ok(())
}

/// Stop mount events propagating back to the host: `mount --make-rprivate /`.
pub fn make_rprivate() -> io::Result<()> {
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::REC | MountPropagationFlags::PRIVATE,
    )?;
    Ok(())
}

/// A fresh procfs for the new pid namespace (only sandbox processes visible).
pub fn mount_proc() -> io::Result<()> {
    mount_fs(
        "proc",
        Path::new("/proc"),
        "proc",
        MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        None,
    )
}

/// Bind `src` over `target` (read-only when asked). Paths are passed as bytes, so a
/// non-UTF-8 name binds what it names.
pub fn bind(src: &Path, target: &Path, read_only: bool) -> io::Result<()> {
    rustix::mount::mount_bind(src, target)?;
    if read_only {
        let flags = MountFlags::BIND | MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV;
        rustix::mount::mount_remount(target, flags, "")?;
    }
    Ok(())
}

/// A private, size-capped tmpfs over `target` (sticky, world-writable like /tmp).
pub fn private_tmpfs(target: &Path, size: &str) -> io::Result<()> {
    mount_fs(
        "tmpfs",
        target,
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(&format!("size={size},mode=1777")),
    )
}

/// A copy-on-write view of the directory open as `lower_fd` (an `O_PATH` descriptor taken
/// before anything was mounted over it), on `target`: reads see the host's files, writes land
/// in `upper` (with `work`, on the same private filesystem) and never reach the host.
pub fn overlay(lower_fd: i32, upper: &Path, work: &Path, target: &Path) -> io::Result<()> {
    let opt = |p: &Path| -> io::Result<String> {
        let s = p.to_string_lossy().into_owned();
        if s.contains([',', ':', '\\']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{s}: overlayfs options cannot carry ',', ':' or '\\'"),
            ));
        }
        Ok(s)
    };
    let data = format!(
        "lowerdir=/proc/self/fd/{lower_fd},upperdir={},workdir={}",
        opt(upper)?,
        opt(work)?
    );
    mount_fs(
        "overlay",
        target,
        "overlay",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(&data),
    )
}

/// An empty read-only tmpfs over a directory.
pub fn mask_dir(target: &Path) -> io::Result<()> {
    mount_fs(
        "tmpfs",
        target,
        "tmpfs",
        MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        Some("size=4k,mode=0755"),
    )
}

/// Bring the loopback interface up (a new network namespace starts with it down).
pub fn loopback_up() -> io::Result<()> {
    #[repr(C)]
    struct IfreqFlags {
        name: [u8; 16],
        flags: libc::c_short,
        _pad: [u8; 22],
    }
    // SAFETY: creating a datagram socket; checked below.
    let fd = cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    let mut req = IfreqFlags {
        name: [0; 16],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write an ifreq-sized struct we own.
    let res = unsafe {
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) < 0 {
            Err(io::Error::last_os_error())
        } else {
            req.flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &mut req) < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        }
    };
    super::close(fd);
    res
}

/// Switch to `uid`/`gid` (root sandbox init dropping to the invoking user under sudo). These
/// are the raw per-thread syscalls (libc's wrappers signal every thread): the init is
/// single-threaded and execs right after, so the whole process changes.
pub fn set_ids(uid: u32, gid: u32) -> io::Result<()> {
    use rustix::process::{Gid, Uid};
    let (uid, gid) = (Uid::from_raw(uid), Gid::from_raw(gid));
    rustix::thread::set_thread_groups(&[])?;
    rustix::thread::set_thread_res_gid(gid, gid, gid)?;
    rustix::thread::set_thread_res_uid(uid, uid, uid)?;
    Ok(())
}

/// First half of dropping capabilities, while we still hold CAP_SETPCAP: empty the bounding
/// set and lock "root is not special" (so neither uid 0 nor a later exec regains anything).
/// The effective set is untouched so that [`set_ids`] can still switch users.
pub fn lock_capabilities() -> io::Result<()> {
    // Highest capability number the kernel knows (CAP_CHECKPOINT_RESTORE = 40 today).
    let last: libc::c_int = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40);
    for cap in 0..=last {
        // SAFETY: prctl with integer arguments; EINVAL for unknown caps is ignored.
        unsafe {
            libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
        }
    }
    let bits = CapabilitiesSecureBits::NO_ROOT
        | CapabilitiesSecureBits::NO_ROOT_LOCKED
        | CapabilitiesSecureBits::NO_SETUID_FIXUP
        | CapabilitiesSecureBits::NO_SETUID_FIXUP_LOCKED
        | CapabilitiesSecureBits::KEEP_CAPS_LOCKED;
    match rustix::thread::set_capabilities_secure_bits(bits).map_err(io::Error::from) {
        Ok(_) => Ok(()),
        // An ordinary user without a user namespace (the degraded tier) holds no capability
        // to lock, and no_new_privs keeps exec from granting any.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) && super::geteuid() != 0 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Second half: clear the effective, permitted, inheritable and ambient sets.
pub fn clear_capabilities() -> io::Result<()> {
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::empty(),
            permitted: CapabilitySet::empty(),
            inheritable: CapabilitySet::empty(),
        },
    )?;
    // Ambient capabilities would survive exec; clear them too (EINVAL before Linux 4.3,
    // which has none).
    let _ = rustix::thread::clear_ambient_capability_set();
    Ok(())
}
