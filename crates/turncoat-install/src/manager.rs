//! Which package manager a project uses (from the lockfile present, never from what
//! package.json claims alone), and how to run it with every lifecycle script off. Our flags
//! are given on the command line *and* in the environment, which both beat the project's
//! `.npmrc`, `pnpm-workspace.yaml`, `.yarnrc.yml` and `bunfig.toml`.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Npm,
    Pnpm,
    Yarn,
    Bun,
}

/// Lockfile names, in the order a project's files are looked up.
const LOCKFILES: &[(&str, Manager)] = &[
    ("npm-shrinkwrap.json", Manager::Npm),
    ("package-lock.json", Manager::Npm),
    ("pnpm-lock.yaml", Manager::Pnpm),
    ("yarn.lock", Manager::Yarn),
    ("bun.lock", Manager::Bun),
];

impl std::str::FromStr for Manager {
    type Err = String;

    /// The `--manager` names: `npm`, `pnpm`, `yarn`, `bun`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        LOCKFILES
            .iter()
            .map(|(_, m)| *m)
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown package manager {s:?}: one of npm, pnpm, yarn, bun"))
    }
}

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Pnpm => "pnpm",
            Manager::Yarn => "yarn",
            Manager::Bun => "bun",
        }
    }

    /// The install run with scripts off: the program and its arguments (the user's, or the
    /// frozen-lockfile default), then our flags last.
    pub fn install_command(self, user: &[String]) -> Result<Vec<String>> {
        for a in user {
            let lower = a.to_ascii_lowercase();
            if lower.contains("ignore-scripts=false")
                || lower.contains("ignore-scripts=0")
                || lower.contains("enable-scripts")
                || lower.contains("side-effects-cache")
                || lower.starts_with("--mode")
                || lower == "--no-ignore-scripts"
            {
                return Err(Error::ScriptsFlag {
                    manager: self.name(),
                    arg: a.clone(),
                });
            }
        }
        // The subcommand the user gives must be an install: `run-script x`, `exec …` or
        // `pm trust --all` would run code whatever flags follow.
        let installs: &[&str] = match self {
            Manager::Npm => &["ci", "clean-install", "install", "i"],
            Manager::Pnpm | Manager::Bun => &["install", "i"],
            Manager::Yarn => &["install"],
        };
        if let Some(first) = user.first()
            && !installs.contains(&first.as_str())
        {
            return Err(Error::Subcommand {
                manager: self.name(),
                arg: first.clone(),
                allowed: installs.join(", "),
            });
        }
        let default: &[&str] = match self {
            Manager::Npm => &["ci"],
            Manager::Pnpm => &["install", "--frozen-lockfile"],
            Manager::Yarn => &["install", "--immutable"],
            Manager::Bun => &["install", "--frozen-lockfile"],
        };
        let ours: &[&str] = match self {
            Manager::Npm => &["--ignore-scripts"],
            // The side-effects cache would restore what a script built elsewhere.
            Manager::Pnpm => &["--ignore-scripts", "--config.side-effects-cache=false"],
            Manager::Yarn => &["--mode=skip-build"],
            Manager::Bun => &["--ignore-scripts"],
        };
        let mut cmd = vec![self.name().to_string()];
        if user.is_empty() {
            cmd.extend(default.iter().map(|s| s.to_string()));
        } else {
            cmd.extend(user.iter().cloned());
        }
        cmd.extend(ours.iter().map(|s| s.to_string()));
        Ok(cmd)
    }

    /// Registries the install may reach besides the user's `.npmrc` ones: Yarn's default
    /// registry, and the `npmRegistryServer` of the user's own `~/.yarnrc.yml` (never the
    /// project's: a file in the checkout must not widen the sandbox's egress).
    pub fn registry_hosts(self, home: Option<&Path>) -> Vec<String> {
        if self != Manager::Yarn {
            return Vec::new();
        }
        let mut hosts = vec!["registry.yarnpkg.com".to_string()];
        let rc = home
            .map(|h| h.join(".yarnrc.yml"))
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        for line in rc.lines() {
            if let Some(v) = line.strip_prefix("npmRegistryServer:") {
                let v = v.trim().trim_matches(['"', '\'']);
                // An address on loopback or a private network passes only with --allow-host
                // on the command line, as for the user's .npmrc (see `turncoat watch`).
                if let Some(host) = url::Url::parse(v).ok().and_then(|u| {
                    let h = u.host_str()?.to_string();
                    let ip = h.trim_start_matches('[').trim_end_matches(']');
                    if h == "localhost"
                        || ip
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(turncoat_sandbox::proxy::is_forbidden)
                    {
                        return None;
                    }
                    Some(match u.port() {
                        Some(p) => format!("{h}:{p}"),
                        None => h,
                    })
                }) {
                    hosts.push(host);
                }
            }
        }
        hosts
    }

    /// Settings in the environment, which every one of these clients ranks above the
    /// project's files.
    pub fn install_env(self) -> Vec<(String, String)> {
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        match self {
            Manager::Npm | Manager::Bun => vec![kv("npm_config_ignore_scripts", "true")],
            Manager::Pnpm => vec![
                kv("npm_config_ignore_scripts", "true"),
                kv("npm_config_side_effects_cache", "false"),
                kv("npm_config_verify_store_integrity", "true"),
            ],
            Manager::Yarn => vec![
                kv("YARN_ENABLE_SCRIPTS", "false"),
                // A project's `yarnPath` would swap the client for one that ignores the above.
                kv("YARN_IGNORE_PATH", "1"),
                // A project's `checksumBehavior: ignore` would install unverified archives.
                kv("YARN_CHECKSUM_BEHAVIOR", "throw"),
                kv("YARN_ENABLE_TELEMETRY", "0"),
            ],
        }
    }
}

/// The manager of the project in `dir`: the one whose lockfile is there. Two managers'
/// lockfiles is an error unless `chosen` says which; `bun.lockb` and Yarn 1 are refused.
pub fn detect(dir: &Path, chosen: Option<Manager>) -> Result<(Manager, PathBuf)> {
    let present: Vec<(&str, Manager)> = LOCKFILES
        .iter()
        .copied()
        .filter(|(f, _)| dir.join(f).is_file())
        .collect();
    let candidates: Vec<(&str, Manager)> = present
        .iter()
        .copied()
        .filter(|(_, m)| chosen.is_none_or(|c| c == *m))
        .collect();
    let managers: Vec<Manager> = {
        let mut m: Vec<Manager> = candidates.iter().map(|c| c.1).collect();
        m.dedup();
        m
    };
    match managers.as_slice() {
        [] if dir.join("bun.lockb").is_file() => Err(Error::BunBinaryLockfile {
            dir: dir.to_path_buf(),
        }),
        [] => match chosen {
            Some(m) => Err(Error::ChosenWithoutLockfile {
                dir: dir.to_path_buf(),
                manager: m.name(),
            }),
            None => Err(Error::NoLockfile {
                dir: dir.to_path_buf(),
            }),
        },
        [m] => {
            let file = candidates[0].0;
            let path = dir.join(file);
            if *m == Manager::Yarn {
                yarn_berry_node_modules(dir, &path)?;
            }
            Ok((*m, path))
        }
        _ => Err(Error::SeveralManagers {
            dir: dir.to_path_buf(),
            files: candidates
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>()
                .join(", "),
            choices: managers
                .iter()
                .map(|m| m.name())
                .collect::<Vec<_>>()
                .join("|"),
        }),
    }
}

/// Yarn: only Yarn 2+ (Berry) with the node-modules linker. Yarn 1 lockfiles have no
/// `__metadata`; Plug'n'Play installs no `node_modules` to run scripts in.
fn yarn_berry_node_modules(dir: &Path, lock: &Path) -> Result<()> {
    let text = std::fs::read_to_string(lock).map_err(|source| Error::Io {
        path: lock.to_path_buf(),
        source,
    })?;
    if !text.lines().any(|l| l.starts_with("__metadata:")) {
        return Err(Error::YarnClassic {
            lock: lock.to_path_buf(),
        });
    }
    let rc = std::fs::read_to_string(dir.join(".yarnrc.yml")).unwrap_or_default();
    let linker = rc.lines().find_map(|l| {
        l.strip_prefix("nodeLinker:")
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
    });
    if linker.as_deref() != Some("node-modules") {
        return Err(Error::YarnPnp {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_comes_from_the_lockfile_and_two_need_a_choice() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        assert!(
            detect(p, None)
                .unwrap_err()
                .to_string()
                .contains("no lockfile")
        );
        // package.json claiming a manager is not a lockfile.
        std::fs::write(
            p.join("package.json"),
            r#"{"packageManager":"pnpm@10.0.0"}"#,
        )
        .unwrap();
        assert!(detect(p, None).is_err());
        std::fs::write(p.join("bun.lock"), "{}").unwrap();
        assert_eq!(detect(p, None).unwrap().0, Manager::Bun);
        std::fs::write(p.join("pnpm-lock.yaml"), "lockfileVersion: '9.0'\n").unwrap();
        let e = detect(p, None).unwrap_err().to_string();
        assert!(
            e.contains("--manager bun|pnpm") || e.contains("--manager pnpm|bun"),
            "{e}"
        );
        assert_eq!(detect(p, Some(Manager::Pnpm)).unwrap().0, Manager::Pnpm);
        assert!(detect(p, Some(Manager::Npm)).is_err());

        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::write(p.join("yarn.lock"), "# yarn lockfile v1\n\n").unwrap();
        assert!(detect(p, None).unwrap_err().to_string().contains("Yarn 1"));
        std::fs::write(p.join("yarn.lock"), "__metadata:\n  version: 8\n").unwrap();
        assert!(
            detect(p, None)
                .unwrap_err()
                .to_string()
                .contains("nodeLinker")
        );
        std::fs::write(p.join(".yarnrc.yml"), "nodeLinker: \"node-modules\"\n").unwrap();
        assert_eq!(detect(p, None).unwrap().0, Manager::Yarn);
    }

    #[test]
    fn yarn_may_reach_its_default_registry_and_the_users_own() {
        let home = tempfile::tempdir().unwrap();
        assert_eq!(
            Manager::Yarn.registry_hosts(Some(home.path())),
            ["registry.yarnpkg.com"]
        );
        std::fs::write(
            home.path().join(".yarnrc.yml"),
            "npmRegistryServer: \"https://npm.corp.example:8443/api\"\n",
        )
        .unwrap();
        assert_eq!(
            Manager::Yarn.registry_hosts(Some(home.path())),
            ["registry.yarnpkg.com", "npm.corp.example:8443"]
        );
        assert!(Manager::Pnpm.registry_hosts(Some(home.path())).is_empty());
        std::fs::write(
            home.path().join(".yarnrc.yml"),
            "npmRegistryServer: \"http://127.0.0.1:4873\"\n",
        )
        .unwrap();
        assert_eq!(
            Manager::Yarn.registry_hosts(Some(home.path())),
            ["registry.yarnpkg.com"]
        );
    }

    #[test]
    fn scripts_stay_off_whatever_the_user_passes() {
        for m in [Manager::Npm, Manager::Pnpm, Manager::Yarn, Manager::Bun] {
            for bad in [
                "--ignore-scripts=false",
                "--mode=update-lockfile",
                "--config.enable-scripts=true",
            ] {
                assert!(
                    m.install_command(&[bad.to_string()]).is_err(),
                    "{m:?} {bad}"
                );
                assert!(
                    m.install_command(&["install".into(), bad.to_string()])
                        .is_err(),
                    "{m:?} install {bad}"
                );
            }
            // Another subcommand runs code whatever flags follow it.
            for bad in [
                &["run-script", "postinstall"][..],
                &["run", "build"],
                &["exec", "--", "node", "x.js"],
                &["x", "evil"],
                &["pm", "trust", "--all"],
                &["rebuild"],
                &["--prefix", "elsewhere", "install"],
            ] {
                let user: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
                let err = m.install_command(&user).unwrap_err();
                assert!(
                    matches!(err, Error::Subcommand { .. }),
                    "{m:?} {bad:?}: {err}"
                );
            }
        }
        assert!(Manager::Npm.install_command(&["ci".into()]).is_ok());
        assert!(Manager::Pnpm.install_command(&["i".into()]).is_ok());
        assert_eq!(
            Manager::Yarn.install_command(&[]).unwrap(),
            ["yarn", "install", "--immutable", "--mode=skip-build"]
        );
        assert_eq!(
            Manager::Npm.install_command(&["install".into()]).unwrap(),
            ["npm", "install", "--ignore-scripts"]
        );
    }
}
