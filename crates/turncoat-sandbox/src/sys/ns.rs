//! Namespaces, id maps, mounts, the loopback interface and capabilities: the steps the sandbox
//! init takes (single-threaded, before exec) to build the sandbox.

use std::io;
use std::path::Path;

use super::{cstring, cvt};

/// unshare(2) with the given CLONE_NEW* flags.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: integer argument.
    cvt(unsafe { libc::unshare(flags) })?;
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

fn mount_raw(
    src: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let src = src.map(cstring).transpose()?;
    let target = cstring(&target.to_string_lossy())?;
    let fstype = fstype.map(cstring).transpose()?;
    let data = data.map(cstring).transpose()?;
    // SAFETY: all pointers are NUL-terminated strings alive for the call, or null.
    cvt(unsafe {
        libc::mount(
            src.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            target.as_ptr(),
            fstype.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            flags,
            data.as_ref()
                .map_or(std::ptr::null(), |s| s.as_ptr().cast()),
        )
    })?;
    Ok(())
}

/// Stop mount events propagating back to the host: `mount --make-rprivate /`.
pub fn make_rprivate() -> io::Result<()> {
    mount_raw(
        None,
        Path::new("/"),
        None,
        libc::MS_REC | libc::MS_PRIVATE,
        None,
    )
}

/// A fresh procfs for the new pid namespace (only sandbox processes visible).
pub fn mount_proc() -> io::Result<()> {
    mount_raw(
        Some("proc"),
        Path::new("/proc"),
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
}

/// Bind `src` over `target` (read-only when asked).
pub fn bind(src: &Path, target: &Path, read_only: bool) -> io::Result<()> {
    let s = src.to_string_lossy().into_owned();
    mount_raw(Some(&s), target, None, libc::MS_BIND, None)?;
    if read_only {
        mount_raw(
            None,
            target,
            None,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
            None,
        )?;
    }
    Ok(())
}

/// A private, size-capped tmpfs over `target` (sticky, world-writable like /tmp).
pub fn private_tmpfs(target: &Path, size: &str) -> io::Result<()> {
    mount_raw(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
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
    mount_raw(
        Some("overlay"),
        target,
        Some("overlay"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some(&data),
    )
}

/// An empty read-only tmpfs over a directory.
pub fn mask_dir(target: &Path) -> io::Result<()> {
    mount_raw(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
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

/// Switch to `uid`/`gid` (root sandbox init dropping to the invoking user under sudo).
pub fn set_ids(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: integer arguments; empty supplementary group list.
    unsafe {
        cvt(libc::setgroups(0, std::ptr::null()))?;
        cvt(libc::setresgid(gid, gid, gid))?;
        cvt(libc::setresuid(uid, uid, uid))?;
    }
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
    let bits = libc::SECBIT_NOROOT
        | libc::SECBIT_NOROOT_LOCKED
        | libc::SECBIT_NO_SETUID_FIXUP
        | libc::SECBIT_NO_SETUID_FIXUP_LOCKED
        | libc::SECBIT_KEEP_CAPS_LOCKED;
    // SAFETY: prctl with integer arguments.
    let r = cvt(unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0) });
    match r {
        Ok(_) => Ok(()),
        // An ordinary user without a user namespace (the degraded tier) holds no capability
        // to lock, and no_new_privs keeps exec from granting any.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) && super::geteuid() != 0 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Second half: clear the effective, permitted, inheritable and ambient sets.
pub fn clear_capabilities() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut hdr = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset with a v3 header and two data words, as the ABI requires.
    cvt(unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) as libc::c_int })?;
    // Ambient capabilities would survive exec; clear them too.
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
    }
    Ok(())
}
