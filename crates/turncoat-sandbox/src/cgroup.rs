//! Memory and process limits for the sandboxed tree, in a cgroup of its own.
//!
//! Each controller (memory, pids) is taken from the cgroup v2 hierarchy when it is available
//! there (the caller's cgroup lists it in `cgroup.controllers` and it is enabled, or can be,
//! in `cgroup.subtree_control`: as root, or in a delegated subtree), else from a writable v1
//! hierarchy of that controller (hybrid hosts, where v2 holds no controller). The supervisor
//! creates a child of its own cgroup (`turncoat-watch-<pid>-<n>`), writes the limits, and
//! moves the sandbox init into it before the init has read its configuration, so nothing the
//! command starts runs outside it. After the run it reads what the limits refused
//! (`memory.events`/`memory.oom_control`, `pids.events`), kills what is left and removes the
//! group. The command cannot leave it: cgroup file systems are hidden in the sandbox (an empty
//! read-only tmpfs over each mount; Landlock in the degraded tier).
//!
//! Where neither hierarchy can be written (unprivileged, not delegated) the run goes on with
//! `RLIMIT_NPROC` only and says so once ([`Unavailable`]). Plain file writes: no crate needed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Limits asked for; `None` leaves that controller unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of memory (RAM, page cache and tmpfs the tree writes; swap not allowed).
    pub memory_max: Option<u64>,
    /// Processes and threads.
    pub pids_max: Option<u64>,
}

/// Default process and thread limit of the sandboxed tree.
pub const DEFAULT_PIDS_MAX: u64 = 4096;

impl Limits {
    /// Half the machine's memory, at least 1 GiB, at most 8 GiB; 4096 processes.
    pub fn defaults() -> Limits {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse::<u64>()
                    .ok()
            })
            .map_or(8 << 30, |kib| kib * 1024);
        Limits {
            memory_max: Some((total / 2).clamp(1 << 30, 8 << 30)),
            pids_max: Some(DEFAULT_PIDS_MAX),
        }
    }

    pub fn none() -> Limits {
        Limits {
            memory_max: None,
            pids_max: None,
        }
    }

    fn is_none(&self) -> bool {
        self.memory_max.is_none() && self.pids_max.is_none()
    }
}

/// Parse a size (`512M`, `4G`, `1048576`, `0`/`none` = no limit).
pub fn parse_size(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t == "0" || t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("max") {
        return Ok(None);
    }
    let (num, mult) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (t, 1u64),
        Some((i, _)) => {
            let unit = t[i..]
                .trim_end_matches(['b', 'B', 'i'])
                .to_ascii_uppercase();
            let mult = match unit.as_str() {
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                "T" => 1 << 40,
                _ => return Err(format!("{s:?}: expected a size like 512M, 4G or none")),
            };
            (&t[..i], mult)
        }
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a size like 512M, 4G or none"))?;
    n.checked_mul(mult)
        .map(Some)
        .ok_or_else(|| format!("{s:?}: too large"))
}

/// Parse a process count (`0`/`none` = no limit).
pub fn parse_count(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t == "0" || t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("max") {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| format!("{s:?}: expected a number of processes or none"))
}

/// Why the limits are not enforced by a cgroup here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controller {
    Memory,
    Pids,
}

impl Controller {
    fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Pids => "pids",
        }
    }
}

/// One created cgroup directory and the controllers it carries.
#[derive(Debug)]
struct Group {
    dir: PathBuf,
    v2: bool,
    controllers: Vec<Controller>,
}

/// The sandboxed tree's cgroup(s): one in v2, or one per v1 hierarchy.
#[derive(Debug)]
pub struct Cgroup {
    groups: Vec<Group>,
    limits: Limits,
}

/// What the limits did during the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LimitReport {
    /// `cgroup v2`, `cgroup v1`, or both (one per controller); `None`: not enforced by a cgroup.
    pub enforced_by: Option<String>,
    pub memory_max: Option<u64>,
    pub pids_max: Option<u64>,
    /// Processes the OOM killer killed at the memory limit.
    pub oom_kills: u64,
    /// Times the memory limit was reached (reclaim or OOM).
    pub memory_max_hits: u64,
    /// Forks and clones refused at the process limit.
    pub pids_max_hits: u64,
    /// Why no cgroup enforces the limits (unprivileged, not delegated).
    pub unavailable: Option<String>,
}

impl LimitReport {
    pub fn hit(&self) -> bool {
        self.oom_kills > 0 || self.memory_max_hits > 0 || self.pids_max_hits > 0
    }
}

/// A cgroup mount: where, v2 or not, and for v1 the controllers it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub point: PathBuf,
    pub v2: bool,
    pub options: Vec<String>,
}

/// Every cgroup file system mounted here (from /proc/self/mountinfo).
pub(crate) fn mounts() -> Vec<Mount> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default()
}

fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = unescape(left.split(' ').nth(4)?);
            let mut r = right.split(' ');
            let fstype = r.next()?;
            let _source = r.next()?;
            let opts = r.next().unwrap_or("");
            let v2 = match fstype {
                "cgroup2" => true,
                "cgroup" => false,
                _ => return None,
            };
            Some(Mount {
                point: PathBuf::from(point),
                v2,
                options: opts.split(',').map(str::to_string).collect(),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's cgroup path in the v2 hierarchy (`0::/x`) and in each v1 hierarchy, by the
/// controllers named (`4:memory:/x`).
fn own_paths(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let _id = f.next()?;
            let ctrls = f.next()?;
            let path = f.next()?;
            Some((
                ctrls
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                path.to_string(),
            ))
        })
        .collect()
}

fn under(mount: &Path, cg_path: &str) -> PathBuf {
    mount.join(cg_path.trim_start_matches('/'))
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn child_name() -> String {
    format!(
        "turncoat-watch-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), String> {
    std::fs::write(dir.join(file), value)
        .map_err(|e| format!("writing {value:?} to {}: {e}", dir.join(file).display()))
}

impl Cgroup {
    /// Create the run's cgroup with `limits`. `Ok(None)`: no limit asked for.
    pub fn create(limits: Limits) -> Result<Option<Cgroup>, Unavailable> {
        if limits.is_none() {
            return Ok(None);
        }
        let mounts = mounts();
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let own = own_paths(&own);
        let mut wanted = Vec::new();
        if limits.memory_max.is_some() {
            wanted.push(Controller::Memory);
        }
        if limits.pids_max.is_some() {
            wanted.push(Controller::Pids);
        }
        let mut cg = Cgroup {
            groups: Vec::new(),
            limits,
        };
        let mut why = Vec::new();
        // v2 first: every wanted controller it offers goes in one child.
        let v2_parent = mounts.iter().find(|m| m.v2).and_then(|m| {
            let p = own.iter().find(|(c, _)| c.is_empty())?;
            Some(under(&m.point, &p.1))
        });
        let mut left = wanted.clone();
        if let Some(parent) = v2_parent {
            match v2_group(&parent, &wanted) {
                Ok(Some(g)) => {
                    left.retain(|c| !g.controllers.contains(c));
                    cg.groups.push(g);
                }
                Ok(None) => why.push(format!(
                    "cgroup v2 at {} offers neither memory nor pids",
                    parent.display()
                )),
                Err(e) => why.push(e),
            }
        }
        for c in left {
            let v1 = mounts
                .iter()
                .find(|m| !m.v2 && m.options.iter().any(|o| o == c.name()));
            let Some(m) = v1 else {
                why.push(format!("no cgroup hierarchy offers {}", c.name()));
                continue;
            };
            let Some((_, path)) = own.iter().find(|(cs, _)| cs.iter().any(|x| x == c.name()))
            else {
                why.push(format!("not in a {} cgroup", c.name()));
                continue;
            };
            let dir = under(&m.point, path).join(child_name());
            match std::fs::create_dir(&dir) {
                Ok(()) => cg.groups.push(Group {
                    dir,
                    v2: false,
                    controllers: vec![c],
                }),
                Err(e) => why.push(format!("creating {}: {e}", dir.display())),
            }
        }
        let covered: Vec<Controller> = cg
            .groups
            .iter()
            .flat_map(|g| g.controllers.iter().copied())
            .collect();
        if let Err(e) = cg.write_limits() {
            why.push(e);
            cg.remove();
            return Err(Unavailable(why.join("; ")));
        }
        if covered.len() < wanted.len() {
            // A partial set of limits would be a silent half-measure: all or nothing.
            cg.remove();
            return Err(Unavailable(why.join("; ")));
        }
        Ok(Some(cg))
    }

    fn write_limits(&self) -> Result<(), String> {
        for g in &self.groups {
            for c in &g.controllers {
                match (c, g.v2) {
                    (Controller::Memory, true) => {
                        let v = self.limits.memory_max.unwrap_or(u64::MAX).to_string();
                        write(&g.dir, "memory.max", &v)?;
                        // No escape into swap (absent without swap accounting: fine).
                        let _ = write(&g.dir, "memory.swap.max", "0");
                    }
                    (Controller::Memory, false) => {
                        let v = self.limits.memory_max.unwrap_or(u64::MAX).to_string();
                        write(&g.dir, "memory.limit_in_bytes", &v)?;
                        let _ = write(&g.dir, "memory.memsw.limit_in_bytes", &v);
                    }
                    (Controller::Pids, _) => {
                        let v = self
                            .limits
                            .pids_max
                            .map_or_else(|| "max".to_string(), |n| n.to_string());
                        write(&g.dir, "pids.max", &v)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Move `pid` (the sandbox init, before it starts anything) into the group.
    pub fn add(&self, pid: u32) -> Result<(), String> {
        for g in &self.groups {
            write(&g.dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// `cgroup v2`, `cgroup v1`, or both.
    fn label(&self) -> String {
        let mut v: Vec<&str> = self
            .groups
            .iter()
            .map(|g| if g.v2 { "cgroup v2" } else { "cgroup v1" })
            .collect();
        v.dedup();
        v.join(" + ")
    }

    /// What the limits refused during the run.
    pub fn report(&self) -> LimitReport {
        let mut r = LimitReport {
            enforced_by: Some(self.label()),
            memory_max: self.limits.memory_max,
            pids_max: self.limits.pids_max,
            ..LimitReport::default()
        };
        for g in &self.groups {
            for c in &g.controllers {
                match (c, g.v2) {
                    (Controller::Memory, true) => {
                        let ev = read_keyed(&g.dir.join("memory.events"));
                        r.oom_kills += ev("oom_kill");
                        r.memory_max_hits += ev("max").max(ev("oom"));
                    }
                    (Controller::Memory, false) => {
                        r.oom_kills += read_keyed(&g.dir.join("memory.oom_control"))("oom_kill");
                        r.memory_max_hits += std::fs::read_to_string(g.dir.join("memory.failcnt"))
                            .ok()
                            .and_then(|s| s.trim().parse().ok())
                            .unwrap_or(0);
                    }
                    (Controller::Pids, _) => {
                        r.pids_max_hits += read_keyed(&g.dir.join("pids.events"))("max");
                    }
                }
            }
        }
        r
    }

    /// SIGKILL whatever is still in the group (`cgroup.kill` in v2; else one by one, repeated
    /// while new ones appear), then remove it. A warning when it could not be removed.
    pub fn finish(mut self) -> Option<String> {
        let left = self.remove();
        self.groups.clear();
        left
    }

    fn remove(&mut self) -> Option<String> {
        let mut stuck = Vec::new();
        for g in &self.groups {
            if g.v2 {
                // Everything in it killed as one (Linux 5.14+; absent before, never created).
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .open(g.dir.join("cgroup.kill"))
                    .and_then(|mut f| std::io::Write::write_all(&mut f, b"1"));
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                let procs = std::fs::read_to_string(g.dir.join("cgroup.procs")).unwrap_or_default();
                for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    crate::sys::kill(pid, libc::SIGKILL);
                }
                if std::fs::remove_dir(&g.dir).is_ok() || !g.dir.exists() {
                    break;
                }
                if Instant::now() > deadline {
                    stuck.push(g.dir.display().to_string());
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.groups.clear();
        (!stuck.is_empty()).then(|| {
            format!(
                "the run's cgroup could not be removed (still busy): {}",
                stuck.join(", ")
            )
        })
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The v2 child: the controllers in `wanted` that the parent offers, enabled for its children.
fn v2_group(parent: &Path, wanted: &[Controller]) -> Result<Option<Group>, String> {
    let offered = std::fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
    let have: Vec<Controller> = wanted
        .iter()
        .copied()
        .filter(|c| offered.split_whitespace().any(|o| o == c.name()))
        .collect();
    if have.is_empty() {
        return Ok(None);
    }
    let enabled =
        std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
    for c in &have {
        if !enabled.split_whitespace().any(|o| o == c.name()) {
            write(parent, "cgroup.subtree_control", &format!("+{}", c.name())).map_err(|e| {
                format!(
                    "{e} (a cgroup that holds processes cannot enable controllers for children: \
                     run turncoat in a delegated cgroup of its own, e.g. `systemd-run --user \
                     --scope -p Delegate=yes turncoat watch …`)"
                )
            })?;
        }
    }
    let dir = parent.join(child_name());
    std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(Some(Group {
        dir,
        v2: true,
        controllers: have,
    }))
}

/// A `key value` file (memory.events, pids.events, memory.oom_control) as a lookup.
fn read_keyed(path: &Path) -> impl Fn(&str) -> u64 + use<> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    move |key: &str| {
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts() {
        assert_eq!(parse_size("512M"), Ok(Some(512 << 20)));
        assert_eq!(parse_size("4g"), Ok(Some(4 << 30)));
        assert_eq!(parse_size("2GiB"), Ok(Some(2 << 30)));
        assert_eq!(parse_size("1048576"), Ok(Some(1 << 20)));
        assert_eq!(parse_size("0"), Ok(None));
        assert_eq!(parse_size("none"), Ok(None));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_count("100"), Ok(Some(100)));
        assert_eq!(parse_count("none"), Ok(None));
        assert!(parse_count("ten").is_err());
    }

    #[test]
    fn defaults_are_bounded() {
        let d = Limits::defaults();
        let m = d.memory_max.unwrap();
        assert!((1 << 30..=8 << 30).contains(&m));
        assert_eq!(d.pids_max, Some(DEFAULT_PIDS_MAX));
    }

    #[test]
    fn mountinfo_and_own_cgroups() {
        let mi = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
                  35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                  39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                  50 23 0:40 / /odd\\040dir rw shared:1 - cgroup2 none rw\n";
        let m = parse_mountinfo(mi);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].point, PathBuf::from("/sys/fs/cgroup/memory"));
        assert!(!m[0].v2 && m[0].options.contains(&"memory".to_string()));
        assert!(m[2].v2);
        assert_eq!(m[3].point, PathBuf::from("/odd dir"));
        let own = own_paths("4:memory:/a/b\n8:pids:/\n0::/user.slice\n");
        assert_eq!(own[0], (vec!["memory".to_string()], "/a/b".to_string()));
        assert_eq!(own[2], (vec![], "/user.slice".to_string()));
        assert_eq!(
            under(Path::new("/sys/fs/cgroup/memory"), "/a/b"),
            PathBuf::from("/sys/fs/cgroup/memory/a/b")
        );
    }

    /// The v2 path on a stand-in directory (this machine's v2 hierarchy has no memory or pids
    /// controller): which files are written with what, and what is read back.
    #[test]
    fn v2_files_on_a_stand_in_hierarchy() {
        let d = tempfile::tempdir().unwrap();
        let parent = d.path();
        std::fs::write(parent.join("cgroup.controllers"), "cpu io memory pids\n").unwrap();
        std::fs::write(parent.join("cgroup.subtree_control"), "memory\n").unwrap();
        let g = v2_group(parent, &[Controller::Memory, Controller::Pids])
            .unwrap()
            .expect("both offered");
        assert_eq!(g.controllers, vec![Controller::Memory, Controller::Pids]);
        assert_eq!(
            std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap(),
            "+pids",
            "only the controller not yet enabled is enabled"
        );
        let dir = g.dir.clone();
        assert!(dir.is_dir() && dir.starts_with(parent));
        let cg = Cgroup {
            groups: vec![g],
            limits: Limits {
                memory_max: Some(64 << 20),
                pids_max: Some(60),
            },
        };
        cg.write_limits().unwrap();
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        assert_eq!(read("memory.max"), "67108864");
        assert_eq!(read("memory.swap.max"), "0");
        assert_eq!(read("pids.max"), "60");
        cg.add(4242).unwrap();
        assert_eq!(read("cgroup.procs"), "4242");
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n",
        )
        .unwrap();
        std::fs::write(dir.join("pids.events"), "max 3\n").unwrap();
        let r = cg.report();
        assert_eq!(r.enforced_by.as_deref(), Some("cgroup v2"));
        assert_eq!((r.oom_kills, r.memory_max_hits, r.pids_max_hits), (1, 7, 3));
        assert!(r.hit());
        assert_eq!(
            v2_group(parent, &[]).unwrap().map(|g| g.dir),
            None,
            "nothing wanted, nothing made"
        );
        // cgroupfs removes its interface files with the directory; a plain one needs help.
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            std::fs::remove_file(e.path()).unwrap();
        }
        assert_eq!(cg.finish(), None);
        assert!(!dir.exists());
    }

    #[test]
    fn v2_without_the_controllers_offers_nothing() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.controllers"), "hugetlb\n").unwrap();
        assert!(
            v2_group(d.path(), &[Controller::Memory, Controller::Pids])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn keyed_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("memory.events");
        std::fs::write(&p, "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\n").unwrap();
        let k = read_keyed(&p);
        assert_eq!((k("max"), k("oom_kill"), k("absent")), (12, 1, 0));
    }
}
