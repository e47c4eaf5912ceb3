//! Which Python index hosts a sandboxed install (`turncoat watch -- pip install …`) may reach,
//! decided before the command starts from what is configured *outside* the sandbox:
//!
//! - the command line the user typed (`--index-url`/`-i`, `--extra-index-url`, uv's
//!   `--default-index` and `--index [name=]URL`);
//! - the caller's environment (`PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `UV_DEFAULT_INDEX`,
//!   `UV_INDEX_URL`, `UV_EXTRA_INDEX_URL`, `UV_INDEX`);
//! - the user's and the system's `pip.conf` (`$PIP_CONFIG_FILE`, `$VIRTUAL_ENV/pip.conf`) and
//!   `uv.toml` (`$XDG_CONFIG_HOME/uv/uv.toml` or `~/.config/uv/uv.toml`, else `/etc/uv/uv.toml`);
//! - with none of these, PyPI.
//!
//! Never a file inside the project: the sandboxed command may write the project (an earlier run
//! could have planted `uv.toml`, `pip.conf` or a `.venv/pip.conf` naming a host of its choice),
//! so such a file would let one run widen the next one's egress. The same goes for anything the
//! command asks for while it runs. Where the index is PyPI, its file host
//! (`files.pythonhosted.org`) is added: the index's pages link there. Other indexes serve their
//! files from their own origin; a mirror whose files live elsewhere needs `--allow-host`.

use std::path::{Path, PathBuf};

use url::Url;

use crate::config::{ConfigInputs, IndexConfig};

/// PyPI's index host and the host its pages link files on.
const PYPI_HOSTS: &[(&str, &str)] = &[
    ("pypi.org", "files.pythonhosted.org"),
    ("test.pypi.org", "test-files.pythonhosted.org"),
];

/// Program names that install Python packages (a version suffix is allowed: `pip3.12`).
const INSTALLERS: &[&str] = &[
    "pip", "pip3", "python", "python3", "uv", "uvx", "poetry", "pdm", "pipenv", "pipx", "hatch",
    "tox", "nox", "conda", "mamba",
];

/// True when the command (or a word of a `sh -c` script in it) runs a Python installer.
pub fn is_python_command(command: &[String]) -> bool {
    command
        .iter()
        .flat_map(|a| a.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|')))
        .any(|word| {
            let base = word.rsplit('/').next().unwrap_or(word);
            let stem = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            !base.is_empty() && INSTALLERS.contains(&stem)
        })
}

/// Index URLs named on the command line: `(primary, extras)`. The words of a `sh -c` script
/// count too (split on whitespace; quotes are not interpreted, so a quoted URL keeps them and
/// fails to parse rather than naming something else).
pub fn command_indexes(command: &[String]) -> (Option<String>, Vec<String>) {
    let mut primary = None;
    let mut extras = Vec::new();
    let mut args = command.iter().flat_map(|a| a.split_whitespace());
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        let kind = match flag {
            "-i" | "--index-url" | "--default-index" => 0,
            "--extra-index-url" | "--index" => 1,
            _ => continue,
        };
        let Some(value) = inline.or_else(|| args.next()) else {
            break;
        };
        // uv's `--index name=URL`.
        let value = match value.split_once('=') {
            Some((name, url)) if !name.contains(':') => url,
            _ => value,
        };
        if kind == 0 {
            primary = Some(value.to_string());
        } else {
            extras.push(value.to_string());
        }
    }
    (primary, extras)
}

/// One destination the sandbox may reach, and where it was configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexHost {
    /// `host:port` (IPv6 in brackets): never with credentials.
    pub host_port: String,
    /// The host is an IP literal (loopback, private, …): the caller decides whether the source
    /// is literal enough to open it (the command line is; a configuration file is not).
    pub ip_literal: bool,
    /// `--index-url`, `PIP_INDEX_URL`, a file path, `default`, or `file host of <index>`.
    pub source: String,
    /// Named on the command line the user typed.
    pub from_command: bool,
}

/// The configuration outside the project, gathered from the environment and the usual files.
pub fn load_outside(project: &Path, command: &[String]) -> Result<IndexConfig, crate::PypiError> {
    let (explicit, _) = command_indexes(command);
    let env_vars: Vec<(String, String)> = [
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX_URL",
        "UV_EXTRA_INDEX_URL",
        "UV_INDEX",
    ]
    .iter()
    .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
    .collect();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut pip: Vec<PathBuf> = vec!["/etc/xdg/pip/pip.conf".into(), "/etc/pip.conf".into()];
    if let Some(h) = &home {
        pip.push(h.join(".pip/pip.conf"));
        pip.push(h.join(".config/pip/pip.conf"));
    }
    if let Some(v) = std::env::var_os("VIRTUAL_ENV") {
        pip.push(PathBuf::from(v).join("pip.conf"));
    }
    if let Some(f) = std::env::var_os("PIP_CONFIG_FILE") {
        pip.push(PathBuf::from(f));
    }
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let uv: Vec<PathBuf> = xdg
        .map(|x| x.join("uv/uv.toml"))
        .into_iter()
        .chain([PathBuf::from("/etc/uv/uv.toml")])
        .collect();
    let inputs = ConfigInputs {
        explicit,
        env: env_vars,
        uv_toml: uv.iter().find_map(|p| read_outside(p, project)),
        pip_conf: pip
            .iter()
            .filter_map(|p| read_outside(p, project))
            .collect(),
    };
    IndexConfig::resolve(&inputs)
}

/// A configuration file's text, unless it is missing, large, or inside the project (after
/// links are resolved: a link in the home pointing into the project counts as the project).
fn read_outside(p: &Path, project: &Path) -> Option<(String, String)> {
    let real = p.canonicalize().ok()?;
    let project = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    if real.starts_with(&project) {
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() || meta.len() > 1024 * 1024 {
        return None;
    }
    Some((
        p.display().to_string(),
        std::fs::read_to_string(&real).ok()?,
    ))
}

/// The hosts of `cfg` (primary and extra indexes) plus the file hosts they serve from.
/// `command` marks the ones the user typed on the command line. `file://` indexes need no
/// network and are left out.
pub fn hosts(cfg: &IndexConfig, command: &[String]) -> Vec<IndexHost> {
    let (cmd_primary, cmd_extras) = command_indexes(command);
    let typed = |u: &Url| {
        cmd_primary
            .iter()
            .chain(cmd_extras.iter())
            .filter_map(|s| Url::parse(s.trim()).ok())
            .any(|c| same_origin(&c, u))
    };
    let mut out: Vec<IndexHost> = Vec::new();
    let mut push = |host: &str, port: u16, source: String, from_command: bool| {
        let ip_literal = host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok();
        let host_port = format!("{host}:{port}");
        if !out.iter().any(|h| h.host_port == host_port) {
            out.push(IndexHost {
                host_port,
                ip_literal,
                source,
                from_command,
            });
        }
    };
    let primary_source = cfg.source.clone();
    let all = std::iter::once((&cfg.index_url, primary_source)).chain(
        cfg.extra_index_urls
            .iter()
            .map(|u| (u, "extra index".to_string())),
    );
    for (u, source) in all {
        if !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        let (Some(host), Some(port)) = (u.host_str(), u.port_or_known_default()) else {
            continue;
        };
        let from_command = typed(u);
        push(host, port, source, from_command);
        let lower = host.to_ascii_lowercase();
        for (index, files) in PYPI_HOSTS {
            if lower == *index {
                push(files, 443, format!("file host of {host}"), false);
            }
        }
    }
    out
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn installers_are_recognised_also_inside_a_shell_script() {
        assert!(is_python_command(&argv("pip install -r requirements.txt")));
        assert!(is_python_command(&argv(
            "/usr/bin/python3.12 -m pip install x"
        )));
        assert!(is_python_command(&argv("uv sync")));
        assert!(is_python_command(&[
            "sh".into(),
            "-c".into(),
            "cd x && pip3 install y".into()
        ]));
        assert!(!is_python_command(&argv("npm ci")));
        assert!(!is_python_command(&argv("node pipeline.js")));
    }

    #[test]
    fn indexes_on_the_command_line() {
        let (p, e) = command_indexes(&argv(
            "pip install -i https://a.example/simple --extra-index-url=https://b.example/simple x",
        ));
        assert_eq!(p.as_deref(), Some("https://a.example/simple"));
        assert_eq!(e, vec!["https://b.example/simple"]);
        let (p, e) = command_indexes(&argv(
            "uv pip install --default-index https://c.example/ --index internal=https://d.example/simple x",
        ));
        assert_eq!(p.as_deref(), Some("https://c.example/"));
        assert_eq!(e, vec!["https://d.example/simple"]);
        // A flag without its value is not read past the end.
        assert_eq!(command_indexes(&argv("pip install -i")), (None, vec![]));
        let script = vec![
            "sh".to_string(),
            "-c".to_string(),
            "cd app && pip install --index-url http://127.0.0.1:9/simple/ x".to_string(),
        ];
        assert_eq!(
            command_indexes(&script).0.as_deref(),
            Some("http://127.0.0.1:9/simple/")
        );
    }

    #[test]
    fn pypi_brings_its_file_host_and_credentials_never_appear() {
        let cfg = IndexConfig::resolve(&ConfigInputs::default()).unwrap();
        let h = hosts(&cfg, &argv("pip install x"));
        let names: Vec<&str> = h.iter().map(|h| h.host_port.as_str()).collect();
        assert_eq!(names, vec!["pypi.org:443", "files.pythonhosted.org:443"]);

        let cfg = IndexConfig::resolve(&ConfigInputs {
            env: vec![(
                "PIP_INDEX_URL".into(),
                "https://user:s3cret@mirror.example:8443/simple/".into(),
            )],
            ..Default::default()
        })
        .unwrap();
        let h = hosts(&cfg, &argv("pip install x"));
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h[0].host_port, "mirror.example:8443");
        assert!(!h[0].from_command && !h[0].ip_literal);
        assert!(!format!("{h:?}").contains("s3cret"));
    }

    #[test]
    fn a_loopback_index_is_marked_and_typed_ones_are_known() {
        let cmd = argv("pip install --index-url http://127.0.0.1:9999/simple/ x");
        let (explicit, _) = command_indexes(&cmd);
        let cfg = IndexConfig::resolve(&ConfigInputs {
            explicit,
            env: vec![(
                "PIP_EXTRA_INDEX_URL".into(),
                "http://10.0.0.5:3141/simple/".into(),
            )],
            ..Default::default()
        })
        .unwrap();
        let h = hosts(&cfg, &cmd);
        assert_eq!(h[0].host_port, "127.0.0.1:9999");
        assert!(h[0].ip_literal && h[0].from_command);
        assert_eq!(h[1].host_port, "10.0.0.5:3141");
        assert!(h[1].ip_literal && !h[1].from_command);
    }

    #[test]
    fn files_inside_the_project_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join(".venv")).unwrap();
        let planted = project.join(".venv/pip.conf");
        std::fs::write(
            &planted,
            "[global]\nindex-url = http://127.0.0.1:1/simple/\n",
        )
        .unwrap();
        assert!(read_outside(&planted, &project).is_none());
        // A link outside pointing in is the project too.
        let link = dir.path().join("pip.conf");
        std::os::unix::fs::symlink(&planted, &link).unwrap();
        assert!(read_outside(&link, &project).is_none());
        let outside = dir.path().join("user.conf");
        std::fs::write(
            &outside,
            "[global]\nindex-url = https://m.example/simple/\n",
        )
        .unwrap();
        assert!(read_outside(&outside, &project).is_some());
    }
}
