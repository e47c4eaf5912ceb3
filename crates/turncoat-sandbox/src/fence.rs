//! Landlock: the command may read and execute anything the mount view shows, and write only
//! beneath the directories it is given (project, temp, package caches, a few devices).
//! Kernel-enforced, so static binaries, raw syscalls and io_uring are bound by it too.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, NetPort, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, path_beneath_rules,
};

/// The Landlock ABI we ask for: filesystem rights up to TRUNCATE (Linux 6.2). Older kernels
/// get what they support (best effort), and the report says so.
const ABI_WANTED: ABI = ABI::V3;

/// Devices every program writes to.
pub const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// Restrict the calling thread (and its future children) to writing beneath `writable`, and,
/// when `tcp_ports` is given (the degraded tier, without a network namespace), to TCP
/// connections to those ports only (Landlock ABI 4, Linux 6.7). With `readable`, files may be
/// read and run only beneath those paths (and `writable`); every directory stays listable.
/// Returns how well it was enforced.
pub fn restrict(
    writable: &[PathBuf],
    readable: Option<&[PathBuf]>,
    tcp_ports: Option<&[u16]>,
) -> Result<Enforcement, String> {
    let existing: Vec<&Path> = writable
        .iter()
        .map(PathBuf::as_path)
        .chain(DEVICES.iter().map(Path::new))
        .filter(|p| p.exists())
        .collect();
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(ABI_WANTED))
        .map_err(|e| e.to_string())?;
    if tcp_ports.is_some() {
        ruleset = ruleset
            .handle_access(AccessNet::ConnectTcp)
            .map_err(|e| e.to_string())?;
    }
    let read = AccessFs::from_read(ABI_WANTED);
    let mut created = ruleset.create().map_err(|e| e.to_string())?;
    created = match readable {
        None => created.add_rules(path_beneath_rules(["/"], read)),
        Some(paths) => created
            .add_rules(path_beneath_rules(["/"], AccessFs::ReadDir))
            .and_then(|r| {
                r.add_rules(path_beneath_rules(
                    paths.iter().filter(|p| p.exists()),
                    read,
                ))
            }),
    }
    .and_then(|r| r.add_rules(path_beneath_rules(existing, AccessFs::from_all(ABI_WANTED))))
    .map_err(|e| e.to_string())?;
    for port in tcp_ports.unwrap_or_default() {
        created = created
            .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
            .map_err(|e| e.to_string())?;
    }
    let status = created.restrict_self().map_err(|e| e.to_string())?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => Enforcement::Full,
        RulesetStatus::PartiallyEnforced => Enforcement::Partial,
        RulesetStatus::NotEnforced => Enforcement::None,
    })
}

/// What stays readable when `hidden` (a home) must not be: every entry beside each hidden
/// path and beside each of its ancestors, plus `shown` (what is declared inside it). Landlock
/// only grants, so the rest of the tree is granted around the hidden paths.
pub fn readable_around(hidden: &[PathBuf], shown: &[PathBuf]) -> Vec<PathBuf> {
    let on_the_way = |p: &Path| hidden.iter().any(|h| h.starts_with(p));
    let mut ancestors: Vec<PathBuf> = hidden
        .iter()
        .flat_map(|h| h.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    ancestors.sort();
    ancestors.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in ancestors {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if !on_the_way(&p) {
                out.push(p);
            }
        }
    }
    out.extend(shown.iter().cloned());
    out.sort();
    out.dedup();
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Full,
    Partial,
    None,
}

/// The Landlock ABI the running kernel supports (0 when Landlock is unavailable).
pub fn kernel_abi() -> i32 {
    // Cheap probe via the crate's compatibility logic would need a ruleset; read the version
    // the way the kernel reports it instead.
    crate::sys::landlock_abi()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_around_the_hidden_home_stays_readable() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path().canonicalize().unwrap();
        for p in ["home/u/.ssh", "home/u/proj", "home/other", "etc", "usr/bin"] {
            std::fs::create_dir_all(b.join(p)).unwrap();
        }
        std::fs::write(b.join("home/u/.vault-token"), "x").unwrap();
        let got = readable_around(&[b.join("home/u")], &[b.join("home/u/proj")]);
        for p in ["home/other", "etc", "usr", "home/u/proj"] {
            assert!(got.contains(&b.join(p)), "{p} must stay readable: {got:?}");
        }
        for p in ["home/u", "home/u/.ssh", "home/u/.vault-token", "home"] {
            assert!(!got.contains(&b.join(p)), "{p} must not be granted");
        }
        assert!(
            got.iter()
                .all(|p| !p.starts_with(b.join("home/u")) || p == &b.join("home/u/proj"))
        );
    }
}
