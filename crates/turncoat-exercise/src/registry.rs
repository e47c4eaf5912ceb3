//! The drill's private registry: a local Verdaccio on 127.0.0.1 (generated config, storage in
//! a temp dir, no uplinks, so nothing the drill does reaches a public registry), or the team's
//! own with `--registry`. Publishing goes through the npm CLI, the way a maintainer (or the
//! attacker holding their token) publishes.
//!
//! Tokens live only in a `.npmrc` in the drill's temp dir (mode 0600) and in memory; they are
//! never printed, logged or put in an error.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use turncoat_sandbox::tools::{Service, Tool, find_on_path};

use crate::DrillError;
use crate::canary::PackageRelease;

/// The Verdaccio version the drill pins (6.9+ needs Node 22).
pub const VERDACCIO_VERSION: &str = "6.8.0";

/// The environment variable naming Verdaccio's bin script.
pub const VERDACCIO_ENV: &str = "TURNCOAT_VERDACCIO";

/// Kills Verdaccio when turncoat's end of its stdin closes, even if turncoat is killed.
const WATCHDOG: &str = "process.stdin.on('end',()=>process.exit(0));process.stdin.on('error',()=>process.exit(0));\
process.stdin.resume();const b=process.argv[1];process.argv=[process.argv[0],b,...process.argv.slice(2)];require(b);";

/// Where Verdaccio's bin script is: `$TURNCOAT_VERDACCIO`, else `verdaccio` on PATH.
pub fn locate_verdaccio() -> Result<PathBuf, DrillError> {
    let found = match std::env::var_os(VERDACCIO_ENV) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => find_on_path("verdaccio"),
    };
    let missing = || DrillError::Missing {
        what: "verdaccio".into(),
        how: format!(
            "install it with `npm install -g verdaccio@{VERDACCIO_VERSION}` or set \
             {VERDACCIO_ENV} to its bin script (e.g. `npm install --prefix DIR verdaccio@{VERDACCIO_VERSION}` \
             then {VERDACCIO_ENV}=DIR/node_modules/.bin/verdaccio), or pass --registry URL"
        ),
    };
    let path = found.ok_or_else(missing)?;
    // The bin is usually a symlink into node_modules; node needs the real script.
    path.canonicalize().map_err(|_| missing())
}

/// The generated, loopback-only Verdaccio configuration.
pub fn verdaccio_config() -> String {
    "storage: ./storage\n\
auth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: 10\n\
uplinks: {}\n\
packages:\n  '**':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n\
log: { type: stdout, format: json, level: warn }\n"
        .to_string()
}

/// A registry the drill publishes to.
pub struct Registry {
    /// Base URL with a trailing slash.
    pub url: String,
    /// The `.npmrc` holding the publish token (in the drill temp dir).
    pub npmrc: PathBuf,
    /// The local Verdaccio, killed on drop; None for `--registry`.
    service: Option<Service>,
    pub local: bool,
    /// The publish token, to read the drilled package's versions (never shown).
    token: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("url", &self.url)
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

fn free_port() -> Result<u16, DrillError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| DrillError::io("bind 127.0.0.1:0", e))?;
    Ok(l.local_addr()
        .map_err(|e| DrillError::io("local address", e))?
        .port())
}

fn random_hex(bytes: usize) -> Result<String, DrillError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| DrillError::Other(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new random drill id (8 hex digits).
pub fn new_id() -> Result<String, DrillError> {
    random_hex(4)
}

/// Write a private file (0600).
fn write_secret(path: &Path, data: &str) -> Result<(), DrillError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| DrillError::io("write the drill .npmrc", e))?;
    f.write_all(data.as_bytes())
        .map_err(|e| DrillError::io("write the drill .npmrc", e))
}

/// The `//host:port/path/:` prefix npm keys auth settings by.
fn nerf(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    format!("//{rest}/")
}

impl Registry {
    /// Start Verdaccio on a free loopback port with storage under `dir`, create the drill
    /// user and write its token to `dir/publish.npmrc`.
    pub fn start_local(node: &Path, dir: &Path, timeout: Duration) -> Result<Registry, DrillError> {
        let bin = locate_verdaccio()?;
        std::fs::create_dir_all(dir).map_err(|e| DrillError::io("create verdaccio dir", e))?;
        std::fs::write(dir.join("config.yaml"), verdaccio_config())
            .map_err(|e| DrillError::io("write verdaccio config", e))?;
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let mut service = Tool::new(node)
            .cwd(dir)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .args(["-e", WATCHDOG])
            .arg(&bin)
            .arg("--config")
            .arg(dir.join("config.yaml"))
            .args(["--listen", &listen])
            .max_output(1 << 20)
            .spawn_service()
            .map_err(DrillError::Tool)?;
        let url = format!("http://{listen}/");
        wait_ready(&mut service, &url, timeout)?;
        let password = random_hex(16)?;
        let token = create_user(&url, "drill", &password)?;
        let npmrc = dir.join("publish.npmrc");
        write_secret(
            &npmrc,
            &format!("registry={url}\n{}:_authToken={token}\n", nerf(&url)),
        )?;
        Ok(Registry {
            token,
            url,
            npmrc,
            service: Some(service),
            local: true,
        })
    }

    /// The team's registry: the token comes from their `.npmrc` (`user_npmrc`), copied into
    /// the drill's private `.npmrc`; nothing is printed.
    pub fn remote(url: &str, user_npmrc: &Path, dir: &Path) -> Result<Registry, DrillError> {
        let mut url = check_registry_url(url)?;
        check_not_public(&url)?;
        if !url.ends_with('/') {
            url.push('/');
        }
        let text = std::fs::read_to_string(user_npmrc)
            .map_err(|e| DrillError::io("read the .npmrc holding the registry token", e))?;
        let key = nerf(&url);
        let token = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix(&key))
            .find_map(|l| l.strip_prefix(":_authToken="))
            .map(|t| t.trim().to_string())
            .ok_or_else(|| {
                DrillError::Other(format!(
                    "{} has no `{key}:_authToken=` line for --registry",
                    user_npmrc.display()
                ))
            })?;
        std::fs::create_dir_all(dir).map_err(|e| DrillError::io("create drill dir", e))?;
        let npmrc = dir.join("publish.npmrc");
        write_secret(
            &npmrc,
            &format!("registry={url}\n{key}:_authToken={token}\n"),
        )?;
        Ok(Registry {
            url,
            npmrc,
            service: None,
            local: false,
            token,
        })
    }

    /// `npm publish` one release (written under `work`) under the `latest` tag; returns
    /// when the registry has it.
    pub fn publish(
        &self,
        npm: &Path,
        home: &Path,
        release: &PackageRelease,
        work: &Path,
    ) -> Result<(), DrillError> {
        self.publish_tagged(npm, home, release, work, "latest")
    }

    /// [`Registry::publish`] under dist-tag `tag` (a drilled package's canary goes under
    /// [`DRILL_TAG`], so the team's `latest` keeps pointing at their real release).
    pub fn publish_tagged(
        &self,
        npm: &Path,
        home: &Path,
        release: &PackageRelease,
        work: &Path,
        tag: &str,
    ) -> Result<(), DrillError> {
        let dir = work.join(format!("{}-{}", release.name, release.version));
        release
            .write_to(&dir)
            .map_err(|e| DrillError::io("write the canary package", e))?;
        let out = npm_tool(npm, home)
            .cwd(&dir)
            .args([
                "publish",
                "--ignore-scripts",
                "--access",
                "public",
                "--tag",
                tag,
            ])
            .arg("--registry")
            .arg(&self.url)
            .arg("--userconfig")
            .arg(&self.npmrc)
            .run()
            .map_err(DrillError::Tool)?;
        if !out.success() {
            return Err(DrillError::Step {
                step: format!("npm publish {}@{}", release.name, release.version),
                detail: scrub(&out.stderr_tail(1500)),
            });
        }
        Ok(())
    }

    /// The `latest` dist-tag of `name` on this registry (None: no such package), read with
    /// the publish token (a private registry may need it to read).
    pub fn latest_version(&self, name: &str) -> Result<Option<String>, DrillError> {
        let path = match name.strip_prefix('@') {
            Some(rest) => format!("@{}", rest.replacen('/', "%2f", 1)),
            None => name.to_string(),
        };
        let mut resp = agent()
            .get(&format!("{}{path}", self.url))
            .header("authorization", &format!("Bearer {}", self.token))
            .header("accept", "application/json")
            .call()
            .map_err(|e| DrillError::Other(format!("read {name} from {}: {e}", self.url)))?;
        let status = resp.status();
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(DrillError::Step {
                step: format!("read {name} from {}", self.url),
                detail: format!("HTTP {status}"),
            });
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| DrillError::Other(format!("read {name}: {e}")))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            DrillError::Other(format!("{name}: the registry's answer is not JSON: {e}"))
        })?;
        Ok(v["dist-tags"]["latest"].as_str().map(str::to_string))
    }

    /// Stop the local registry now (also done on drop).
    pub fn stop(&mut self) {
        if let Some(mut s) = self.service.take() {
            s.stop();
        }
    }
}

/// The dist-tag a drilled package's canaries are published under.
pub const DRILL_TAG: &str = "turncoat-drill";

/// Public registries: anyone installs from them, so a drill never publishes there (a
/// canary is harmless, but it is still a trojan-shaped release under a real name).
pub const PUBLIC_REGISTRY_HOSTS: &[&str] = &[
    "registry.npmjs.org",
    "registry.npmjs.com",
    "registry.yarnpkg.com",
    "registry.npmmirror.com",
    "registry.npm.taobao.org",
    "skimdb.npmjs.com",
    "replicate.npmjs.com",
];

/// Refuse a public registry host (see [`PUBLIC_REGISTRY_HOSTS`]). The host is the one a
/// WHATWG URL parser (Node's, so npm's) connects to: percent-escapes decoded, full-width and
/// other Unicode spellings mapped, case folded, a trailing dot dropped. A URL that does not
/// parse is refused too.
pub fn check_not_public(url: &str) -> Result<(), DrillError> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| DrillError::Other(format!("--registry is not a valid URL: {e}")))?;
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if PUBLIC_REGISTRY_HOSTS.contains(&host.as_str()) {
        return Err(DrillError::Other(format!(
            "--registry {host} is a public registry: a drill publishes only to a private one \
             (the team's own, or the local Verdaccio it starts without --registry)"
        )));
    }
    Ok(())
}

/// `--registry`: https anywhere, plain http only on loopback, and no credentials in the URL
/// (it is printed in the report; the token belongs in `.npmrc`).
fn check_registry_url(url: &str) -> Result<String, DrillError> {
    let url = url.trim();
    let bad = |why: &str| DrillError::Other(format!("--registry {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("must be an https:// URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad("must not carry credentials; put the token in .npmrc"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("is not a valid URL"));
    }
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(url.to_string()),
        "http" if loopback => Ok(url.to_string()),
        _ => Err(bad(&format!(
            "must be https:// (plain http only on loopback): {url}"
        ))),
    }
}

/// npm with a cleared environment: its own HOME and cache in the drill temp dir.
pub fn npm_tool(npm: &Path, home: &Path) -> Tool {
    Tool::new(npm)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("npm_config_cache", home.join(".npm"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_loglevel", "warn")
        .timeout(Duration::from_secs(180))
        .max_output(1 << 20)
}

/// Drop anything that looks like an auth token from a message before it is shown.
pub fn scrub(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.contains("_authToken") || l.to_ascii_lowercase().contains("authorization") {
                "[line with a credential removed]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

fn wait_ready(service: &mut Service, url: &str, timeout: Duration) -> Result<(), DrillError> {
    let start = Instant::now();
    let ping = format!("{url}-/ping");
    let agent = agent();
    loop {
        if let Some(status) = service.exited() {
            return Err(DrillError::Step {
                step: "start verdaccio".into(),
                detail: format!("exited ({status}): {}", service.log_tail(1500)),
            });
        }
        if let Ok(r) = agent.get(&ping).call()
            && r.status().is_success()
        {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(DrillError::Step {
                step: "start verdaccio".into(),
                detail: format!(
                    "not answering on {ping} after {} s: {}",
                    timeout.as_secs(),
                    service.log_tail(1500)
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `PUT /-/user/org.couchdb.user:<name>`: Verdaccio's non-interactive sign-up; the token.
fn create_user(url: &str, name: &str, password: &str) -> Result<String, DrillError> {
    let body = serde_json::json!({"name": name, "password": password}).to_string();
    let mut resp = agent()
        .put(&format!("{url}-/user/org.couchdb.user:{name}"))
        .header("content-type", "application/json")
        .send(body.as_str())
        .map_err(|e| DrillError::Other(format!("create the drill user: {e}")))?;
    let status = resp.status();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 << 10)
        .read_to_string()
        .unwrap_or_default();
    if !status.is_success() {
        return Err(DrillError::Step {
            step: "create the drill user".into(),
            detail: format!("HTTP {status}"),
        });
    }
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("token")?.as_str().map(str::to_string))
        .filter(|t| !t.is_empty() && !t.contains(['\n', '\r']))
        .ok_or_else(|| DrillError::Step {
            step: "create the drill user".into(),
            detail: "the registry answered without a token".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nerf_keys_match_npm() {
        assert_eq!(nerf("http://127.0.0.1:4873/"), "//127.0.0.1:4873/");
        assert_eq!(
            nerf("https://npm.example.com/repo"),
            "//npm.example.com/repo/"
        );
    }

    #[test]
    fn the_config_has_no_uplink_and_needs_auth_to_publish() {
        let c = verdaccio_config();
        assert!(c.contains("uplinks: {}"));
        assert!(!c.contains("proxy:"));
        assert!(c.contains("publish: $authenticated"));
    }

    #[test]
    fn remote_tokens_are_read_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("user.npmrc");
        std::fs::write(&rc, "//npm.example.com/:_authToken=s3cr3t-token\n").unwrap();
        let r = Registry::remote("https://npm.example.com", &rc, &dir.path().join("d")).unwrap();
        assert_eq!(r.url, "https://npm.example.com/");
        assert!(!format!("{r:?}").contains("s3cr3t"));
        let written = std::fs::read_to_string(&r.npmrc).unwrap();
        assert!(written.contains("s3cr3t-token"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&r.npmrc).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the token file must be private");
        // A missing token is an error that does not echo the file.
        std::fs::write(&rc, "//other.example.com/:_authToken=s3cr3t-token\n").unwrap();
        let err = Registry::remote("https://npm.example.com", &rc, dir.path()).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
        assert!(Registry::remote("http://npm.example.com", &rc, dir.path()).is_err());
    }

    #[test]
    fn registry_urls_are_https_or_loopback_and_carry_no_credentials() {
        assert!(check_registry_url("https://npm.example.com/repo").is_ok());
        assert!(check_registry_url("http://127.0.0.1:4873").is_ok());
        assert!(check_registry_url("http://[::1]:4873/").is_ok());
        for bad in [
            "http://127.0.0.1.evil.example/",
            "http://127.0.0.1@evil.example/",
            "https://user:s3cr3t@npm.example.com/",
            "ftp://127.0.0.1/",
            "npm.example.com",
            "https:///x",
        ] {
            let err = check_registry_url(bad).unwrap_err().to_string();
            assert!(!err.contains("s3cr3t"), "{bad}: {err}");
        }
    }

    #[test]
    fn public_registry_hosts_are_refused_in_any_spelling() {
        for url in [
            "https://registry.npmjs.org/",
            "https://REGISTRY.NPMJS.ORG",
            "https://registry.npmjs.org.:443/",
            "https://registry.yarnpkg.com/some/path",
            // What a WHATWG parser (npm's) decodes to the same host.
            "https://registry%2enpmjs%2eorg/",
            "https://\u{ff52}egistry.npmjs.org/",
            "https://user@registry.npmjs.org/",
            "HTTPS://registry.npmjs.org",
        ] {
            let e = check_not_public(url).unwrap_err().to_string();
            assert!(e.contains("public registry"), "{url}: {e}");
        }
        for url in [
            "https://npm.internal.example/",
            "http://127.0.0.1:4873/",
            "https://registry.npmjs.org.evil.example/",
        ] {
            assert!(check_not_public(url).is_ok(), "{url}");
        }
        // Not a URL at all: refused, not waved through.
        assert!(check_not_public("registry.npmjs.org").is_err());
    }

    #[test]
    fn scrub_drops_credential_lines() {
        let s = scrub("npm error 401\n//127.0.0.1:1/:_authToken=abc\nok");
        assert!(!s.contains("abc"));
        assert!(s.contains("npm error 401") && s.contains("ok"));
    }
}
