//! Name tables: which modules are network/dns/process APIs, which strings name credential
//! stores or persistence places.

use crate::facts::Capability;

/// What a required/imported module gives access to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModuleKind {
    Network,
    Dns,
    ChildProcess,
    Vm,
    Fs,
}

impl ModuleKind {
    /// The capability that loading such a module gives (vm and fs count only through calls).
    pub(crate) fn capability(self) -> Option<Capability> {
        match self {
            ModuleKind::Network => Some(Capability::Network),
            ModuleKind::Dns => Some(Capability::Dns),
            ModuleKind::ChildProcess => Some(Capability::ChildProcess),
            ModuleKind::Vm | ModuleKind::Fs => None,
        }
    }
}

/// Classify a module specifier (`node:https`, `dns/promises`, `axios`).
pub(crate) fn classify_module(spec: &str) -> Option<ModuleKind> {
    let (base, core) = module_base(spec);
    if core.is_some() {
        return core;
    }
    Some(match base {
        "undici" | "axios" | "got" | "request" | "node-fetch" | "cross-fetch"
        | "isomorphic-fetch" | "ws" | "socket.io-client" | "superagent" | "needle" | "phin"
        | "ky" | "make-fetch-happen" | "minipass-fetch" => ModuleKind::Network,
        "execa" | "shelljs" | "cross-spawn" => ModuleKind::ChildProcess,
        "fs-extra" | "graceful-fs" => ModuleKind::Fs,
        _ => return None,
    })
}

/// Classify a specifier only when it names one of Node's own modules (`dns`, `node:https`,
/// `dns/promises`): in an obfuscator's string table, library names such as `request` or `got`
/// are as likely to be property names.
pub(crate) fn core_module(spec: &str) -> Option<ModuleKind> {
    module_base(spec).1
}

/// The package part of a specifier, and its kind when it is a Node core module we track.
fn module_base(spec: &str) -> (&str, Option<ModuleKind>) {
    let s = spec.strip_prefix("node:").unwrap_or(spec);
    // `dns/promises`, `fs/promises`; scoped names keep their scope.
    let base = if s.starts_with('@') {
        s
    } else {
        s.split('/').next().unwrap_or(s)
    };
    let core = match base {
        "http" | "https" | "net" | "tls" | "dgram" | "http2" => ModuleKind::Network,
        "dns" => ModuleKind::Dns,
        "child_process" => ModuleKind::ChildProcess,
        "vm" => ModuleKind::Vm,
        "fs" => ModuleKind::Fs,
        _ => return (base, None),
    };
    (base, Some(core))
}

/// `dns` calls that resolve a name.
pub(crate) fn is_dns_call(name: &str) -> bool {
    matches!(
        name,
        "lookup"
            | "lookupService"
            | "resolve"
            | "resolve4"
            | "resolve6"
            | "resolveAny"
            | "resolveCaa"
            | "resolveCname"
            | "resolveMx"
            | "resolveNaptr"
            | "resolveNs"
            | "resolvePtr"
            | "resolveSoa"
            | "resolveSrv"
            | "resolveTxt"
            | "reverse"
    )
}

/// Calls of an HTTP module or client that send a request (`https.request`, `axios.post`,
/// `got(…)` through a bound name): their first arguments are the destination.
pub(crate) fn is_request_call(name: &str) -> bool {
    matches!(
        name,
        "request"
            | "get"
            | "post"
            | "put"
            | "patch"
            | "delete"
            | "head"
            | "connect"
            | "fetch"
            | "createConnection"
            | "send"
    )
}

/// Attributes of `http`/`https`/`net` … that make no request: classes used for type checks
/// and extension, constants and validators (`http.ServerResponse`, `http.STATUS_CODES`).
pub(crate) fn is_inert_network_attr(name: &str) -> bool {
    matches!(
        name,
        "ServerResponse"
            | "IncomingMessage"
            | "OutgoingMessage"
            | "ClientRequest"
            | "STATUS_CODES"
            | "METHODS"
            | "Agent"
            | "globalAgent"
            | "validateHeaderName"
            | "validateHeaderValue"
            | "maxHeaderSize"
            | "isIP"
            | "isIPv4"
            | "isIPv6"
            | "SocketAddress"
            | "BlockList"
            | "constants"
            | "prototype"
    )
}

/// `child_process` calls that start a process.
pub(crate) fn is_exec_call(name: &str) -> bool {
    matches!(
        name,
        "exec" | "execSync" | "execFile" | "execFileSync" | "spawn" | "spawnSync" | "fork"
    )
}

/// `fs` calls that write a file.
pub(crate) fn is_write_call(name: &str) -> bool {
    matches!(
        name,
        "writeFile"
            | "writeFileSync"
            | "appendFile"
            | "appendFileSync"
            | "createWriteStream"
            | "copyFile"
            | "copyFileSync"
            | "cp"
            | "cpSync"
            | "symlink"
            | "symlinkSync"
            | "outputFile"
            | "outputFileSync"
    )
}

/// `vm` entry points that compile code.
pub(crate) fn is_vm_call(name: &str) -> bool {
    matches!(
        name,
        "runInThisContext" | "runInNewContext" | "runInContext" | "compileFunction"
    )
}

/// A credential store named in a string. `label` is what findings show.
pub(crate) struct Target {
    pub needle: &'static str,
    pub label: &'static str,
    pub ignore_case: bool,
    /// Match only at the end of the string (`…/environ`, not `…/environments`).
    pub suffix: bool,
    /// The ASCII bytes of the needle (lower-cased when `ignore_case`), for a quick reject.
    pub mask: u128,
}

const fn mask(needle: &str, fold: bool) -> u128 {
    let b = needle.as_bytes();
    let mut m = 0u128;
    let mut i = 0;
    while i < b.len() {
        let c = if fold {
            b[i].to_ascii_lowercase()
        } else {
            b[i]
        };
        if c < 128 {
            m |= 1 << c;
        }
        i += 1;
    }
    m
}

const fn t(needle: &'static str, label: &'static str) -> Target {
    Target {
        needle,
        label,
        ignore_case: false,
        suffix: false,
        mask: mask(needle, false),
    }
}

const fn ts(needle: &'static str, label: &'static str) -> Target {
    Target {
        needle,
        label,
        ignore_case: false,
        suffix: true,
        mask: mask(needle, false),
    }
}

const fn ti(needle: &'static str, label: &'static str) -> Target {
    Target {
        needle,
        label,
        ignore_case: true,
        suffix: false,
        mask: mask(needle, true),
    }
}

/// Credential stores. Needles carry a separator or an unusual spelling so ordinary words
/// ("cookies") do not match.
pub(crate) const SENSITIVE: &[Target] = &[
    t(".npmrc", ".npmrc"),
    t(".yarnrc", ".yarnrc"),
    t(".ssh/", ".ssh"),
    t(".ssh\\", ".ssh"),
    t("id_rsa", "id_rsa"),
    t("id_ed25519", "id_ed25519"),
    t(".aws/credentials", ".aws/credentials"),
    t(".aws\\credentials", ".aws/credentials"),
    t(".config/gcloud", ".config/gcloud"),
    t(".azure/", ".azure"),
    t(".kube/config", ".kube/config"),
    t(".docker/config.json", ".docker/config.json"),
    t(".git-credentials", ".git-credentials"),
    t(".netrc", ".netrc"),
    t(".electrum", ".electrum (wallet)"),
    t("Exodus", "Exodus (wallet)"),
    t(".ethereum/keystore", ".ethereum/keystore (wallet)"),
    t(
        "Local Storage/leveldb",
        "Local Storage/leveldb (browser/wallet storage)",
    ),
    ti("metamask", "MetaMask (wallet)"),
    t("nkbihfbeogaeaoehlefnkodbefgpgknn", "MetaMask extension id"),
    ts("/environ", "/proc/*/environ"),
    t("/etc/passwd", "/etc/passwd"),
    t("/etc/shadow", "/etc/shadow"),
    t("Login Data", "browser Login Data"),
    t("/Cookies", "browser Cookies"),
    t("\\Cookies", "browser Cookies"),
    t("Web Data", "browser Web Data"),
    t("gh/hosts.yml", "GitHub CLI token (gh/hosts.yml)"),
];

/// Persistence places (written to make code run again later).
pub(crate) const PERSISTENCE: &[Target] = &[
    t(".bashrc", ".bashrc"),
    t(".bash_profile", ".bash_profile"),
    t(".zshrc", ".zshrc"),
    t("/.profile", ".profile"),
    t(".github/workflows", ".github/workflows"),
    t(".npmrc", "~/.npmrc"),
    t(".vscode/tasks.json", ".vscode/tasks.json"),
    t(".claude/settings.json", ".claude/settings.json"),
    t(".claude/", ".claude"),
    t("crontab", "crontab"),
    t("LaunchAgents", "LaunchAgents"),
    t("LaunchDaemons", "LaunchDaemons"),
    t("systemd/user", "systemd/user"),
    t("CurrentVersion\\Run", "Windows Run key"),
    t("Start Menu\\Programs\\Startup", "Windows Startup folder"),
];

/// Which ASCII bytes occur in a string, exact and lower-cased.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteSet {
    exact: u128,
    folded: u128,
}

impl ByteSet {
    pub(crate) fn of(s: &str) -> ByteSet {
        let (mut exact, mut folded) = (0u128, 0u128);
        for b in s.bytes().filter(u8::is_ascii) {
            exact |= 1 << b;
            folded |= 1 << b.to_ascii_lowercase();
        }
        ByteSet { exact, folded }
    }
}

/// Whether `s` can hold a path worth matching (paths are short).
pub(crate) fn path_candidate(s: &str) -> bool {
    (5..=1024).contains(&s.len())
}

/// Labels of the targets `s` names. `bytes` is `ByteSet::of(s)`: most strings lack some
/// byte of every needle and are rejected without a substring search.
pub(crate) fn match_targets(
    s: &str,
    bytes: ByteSet,
    table: &'static [Target],
    out: &mut Vec<&'static str>,
) {
    for target in table {
        let have = if target.ignore_case {
            bytes.folded
        } else {
            bytes.exact
        };
        if have & target.mask != target.mask {
            continue;
        }
        let hit = if target.suffix {
            s.ends_with(target.needle)
        } else if target.ignore_case {
            contains_ignore_ascii_case(s, target.needle)
        } else {
            s.contains(target.needle)
        };
        if hit && !out.contains(&target.label) {
            out.push(target.label);
        }
    }
}

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.len() <= h.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Env variable names that look like credentials (GuardDog's list, widened).
pub(crate) fn is_secret_env_name(name: &str) -> bool {
    // Words that name a credential. Vendor prefixes alone (`GITHUB_SHA`, `npm_config_user_agent`)
    // are CI metadata, not secrets: counting them made CLIs and test runners look like thieves.
    const PARTS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "KEY",
        "PASS",
        "AUTH",
        "CREDENTIAL",
        "SESSION",
        "PRIVATE",
        "COOKIE",
        "MNEMONIC",
        "SEED",
    ];
    let upper = name.to_ascii_uppercase();
    PARTS.iter().any(|p| upper.contains(p))
}

/// A variable, parameter or field name that holds key material: private/secret keys, seeds
/// and mnemonics, passwords and passphrases, tokens. Case and separators are ignored
/// (`privateKey`, `PRIVATE_KEY`, `seed_phrase`).
pub(crate) fn is_key_material_name(name: &str) -> bool {
    // Called for every binding and for every name a request carries: no allocation, and a
    // cheap rejection first (every key-material word contains one of these stems).
    if !(4..=64).contains(&name.len()) {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut n = 0;
    for b in name.bytes().filter(u8::is_ascii_alphanumeric) {
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    let folded = &buf[..n];
    let has = |needle: &[u8]| folded.windows(needle.len()).any(|w| w == needle);
    const STEMS: &[&[u8]] = &[b"key", b"seed", b"pass", b"token", b"secret", b"mnemonic"];
    if !STEMS.iter().any(|s| has(s)) {
        return false;
    }
    const PARTS: &[&[u8]] = &[
        b"privatekey",
        b"privkey",
        b"secretkey",
        b"mnemonic",
        b"seedphrase",
        b"password",
        b"passphrase",
        b"passwd",
        b"keystore",
        b"apitoken",
        b"authtoken",
        b"accesstoken",
        b"refreshtoken",
        b"npmtoken",
        b"githubtoken",
    ];
    folded == b"seed"
        || folded == b"token"
        || folded == b"secret"
        || folded.ends_with(b"seed")
        || PARTS.iter().any(|p| has(p))
}

/// The host of an `http(s)://` / `ws(s)://` URL inside `s`.
pub(crate) fn url_host(s: &str) -> Option<&str> {
    let i = s.find("://")?;
    let scheme = &s[..i];
    let scheme = scheme
        .rsplit(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or(scheme);
    if !matches!(scheme, "http" | "https" | "ws" | "wss") {
        return None;
    }
    let rest = &s[i + 3..];
    let end = rest
        .find(['/', '?', '#', '"', '\'', ' ', '`', '$', '{'])
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let host = host.split(':').next().unwrap_or(host);
    is_hostname(host).then_some(host)
}

/// Services where anyone can make an endpoint that receives data: code-hosting and gist
/// APIs, paste sites, chat webhooks and bots, request catchers and tunnels, object storage and
/// serverless hosting. A package that talked to `github.com` has not talked to
/// `api.github.com`; a host of these is known only when the package named that exact host.
/// Each entry matches the host itself and its subdomains.
const CHANNELS: &[(&str, &str)] = &[
    ("api.github.com", "code-hosting API"),
    ("uploads.github.com", "code-hosting API"),
    ("gist.github.com", "gist"),
    ("gist.githubusercontent.com", "gist"),
    ("raw.githubusercontent.com", "code hosting"),
    ("gitlab.com", "code hosting"),
    ("api.bitbucket.org", "code-hosting API"),
    ("pastebin.com", "paste site"),
    ("paste.ee", "paste site"),
    ("hastebin.com", "paste site"),
    ("dpaste.com", "paste site"),
    ("dpaste.org", "paste site"),
    ("rentry.co", "paste site"),
    ("paste.rs", "paste site"),
    ("termbin.com", "paste site"),
    ("0x0.st", "file drop"),
    ("transfer.sh", "file drop"),
    ("file.io", "file drop"),
    ("filebin.net", "file drop"),
    ("temp.sh", "file drop"),
    ("discord.com", "chat webhook"),
    ("discordapp.com", "chat webhook"),
    ("hooks.slack.com", "chat webhook"),
    ("api.telegram.org", "chat bot API"),
    ("webhook.site", "request catcher"),
    ("pipedream.net", "request catcher"),
    ("requestbin.net", "request catcher"),
    ("beeceptor.com", "request catcher"),
    ("hookbin.com", "request catcher"),
    ("interact.sh", "request catcher"),
    ("oast.fun", "request catcher"),
    ("oast.pro", "request catcher"),
    ("oast.live", "request catcher"),
    ("oast.site", "request catcher"),
    ("oast.online", "request catcher"),
    ("oast.me", "request catcher"),
    ("oastify.com", "request catcher"),
    ("burpcollaborator.net", "request catcher"),
    ("ngrok.io", "tunnel"),
    ("ngrok.app", "tunnel"),
    ("ngrok-free.app", "tunnel"),
    ("trycloudflare.com", "tunnel"),
    ("loca.lt", "tunnel"),
    ("serveo.net", "tunnel"),
    ("storage.googleapis.com", "object storage"),
    ("blob.core.windows.net", "object storage"),
    ("r2.dev", "object storage"),
    ("r2.cloudflarestorage.com", "object storage"),
    ("firebaseio.com", "hosted database"),
    ("workers.dev", "serverless hosting"),
    ("vercel.app", "serverless hosting"),
    ("netlify.app", "serverless hosting"),
    ("herokuapp.com", "serverless hosting"),
    ("glitch.me", "serverless hosting"),
    ("repl.co", "serverless hosting"),
    ("replit.dev", "serverless hosting"),
    ("pages.dev", "serverless hosting"),
    ("deno.dev", "serverless hosting"),
    ("fly.dev", "serverless hosting"),
    ("onrender.com", "serverless hosting"),
    ("azurewebsites.net", "serverless hosting"),
    ("on.aws", "serverless hosting"),
];

/// What kind of receive-anything service `host` is, if it is one (see [`CHANNELS`]).
pub(crate) fn exfil_channel(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.');
    let under = |suffix: &str| {
        host.len() > suffix.len()
            && host.ends_with(suffix)
            && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
    };
    for &(name, kind) in CHANNELS {
        if host.eq_ignore_ascii_case(name) || under(name) {
            return Some(kind);
        }
    }
    // Amazon S3 buckets and API gateways: `b.s3.amazonaws.com`, `s3.us-east-1.amazonaws.com`,
    // `x.execute-api.eu-west-1.amazonaws.com`.
    if under("amazonaws.com") {
        let labels: Vec<&str> = host.split('.').collect();
        if labels
            .iter()
            .any(|l| *l == "s3" || l.starts_with("s3-") || *l == "execute-api")
        {
            return Some("object storage");
        }
    }
    None
}

/// The registrable domain of a host by the public suffix list (`api.example.co.uk` →
/// `example.co.uk`, `x.workers.dev` → `x.workers.dev`); the host itself when it has none
/// (IP addresses, single labels).
pub(crate) fn site(host: &str) -> &str {
    let host = host.trim_end_matches('.');
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host;
    }
    psl::domain_str(host).unwrap_or(host)
}

/// A dotted DNS name (`a.example`), not an IP-less word or a path.
pub(crate) fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.contains('.')
        && !host.starts_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_material_names() {
        for yes in [
            "privateKey",
            "PRIVATE_KEY",
            "secretKey",
            "seed",
            "walletSeed",
            "seed_phrase",
            "mnemonic",
            "password",
            "passPhrase",
            "passwd",
            "token",
            "secret",
            "npm_token",
            "refreshToken",
            "keystore",
        ] {
            assert!(is_key_material_name(yes), "{yes}");
        }
        for no in [
            "key",
            "keys",
            "tokens",
            "seeded",
            "P",
            "e",
            "headers",
            "passThrough",
            "monkey",
            "tokenizer",
            "secretary",
            "compass",
            "publicKey",
        ] {
            assert!(!is_key_material_name(no), "{no}");
        }
        // Longer than any binding worth judging.
        assert!(!is_key_material_name(&format!(
            "{}password",
            "x".repeat(70)
        )));
    }

    #[test]
    fn modules() {
        assert_eq!(classify_module("node:https"), Some(ModuleKind::Network));
        assert_eq!(classify_module("dns/promises"), Some(ModuleKind::Dns));
        assert_eq!(classify_module("node:dns"), Some(ModuleKind::Dns));
        assert_eq!(
            classify_module("child_process"),
            Some(ModuleKind::ChildProcess)
        );
        assert_eq!(classify_module("lodash"), None);
        assert_eq!(classify_module("@scope/http"), None);
        assert_eq!(classify_module("axios"), Some(ModuleKind::Network));
        assert_eq!(classify_module("fs-extra"), Some(ModuleKind::Fs));
        // Node's own modules only.
        assert_eq!(core_module("node:dns"), Some(ModuleKind::Dns));
        assert_eq!(core_module("fs/promises"), Some(ModuleKind::Fs));
        assert_eq!(core_module("axios"), None);
        assert_eq!(core_module("request"), None);
    }

    #[test]
    fn targets() {
        let m = |s: &str, t, out: &mut Vec<&'static str>| match_targets(s, ByteSet::of(s), t, out);
        let mut out = Vec::new();
        m("/home/u/.npmrc", SENSITIVE, &mut out);
        m("~/.ssh/id_rsa", SENSITIVE, &mut out);
        m("cookies", SENSITIVE, &mut out);
        m("/proc/self/environ", SENSITIVE, &mut out);
        m("/api/environments", SENSITIVE, &mut out);
        m("METAMASK", SENSITIVE, &mut out);
        assert_eq!(
            out,
            vec![
                ".npmrc",
                ".ssh",
                "id_rsa",
                "/proc/*/environ",
                "MetaMask (wallet)"
            ]
        );
        let mut p = Vec::new();
        m(".claude/settings.json", PERSISTENCE, &mut p);
        assert!(p.contains(&".claude/settings.json"));
    }

    #[test]
    fn sites_by_the_public_suffix_list() {
        // `googleapis.com` is itself a suffix on the list: each of its hosts is its own site.
        assert_eq!(
            site("clienttelemetry.googleapis.com"),
            "clienttelemetry.googleapis.com"
        );
        assert_eq!(site("telemetry.vendor.example.com"), "example.com");
        assert_eq!(site("api.example.co.uk"), "example.co.uk");
        assert_eq!(site("evil.workers.dev"), "evil.workers.dev");
        assert_eq!(site("bucket.s3.amazonaws.com"), "bucket.s3.amazonaws.com");
        assert_eq!(site("1.2.3.4"), "1.2.3.4");
        assert_eq!(site("localhost"), "localhost");
    }

    #[test]
    fn receive_anything_services() {
        for h in [
            "api.github.com",
            "gist.github.com",
            "pastebin.com",
            "discord.com",
            "hooks.slack.com",
            "my-bucket.s3.amazonaws.com",
            "s3.us-east-1.amazonaws.com",
            "x.workers.dev",
            "abc.ngrok-free.app",
        ] {
            assert!(exfil_channel(h).is_some(), "{h}");
        }
        for h in [
            "github.com",
            "registry.npmjs.org",
            "notdiscord.com",
            "ec2.amazonaws.com",
        ] {
            assert!(exfil_channel(h).is_none(), "{h}");
        }
    }

    #[test]
    fn hosts_and_env_names() {
        assert_eq!(url_host("https://evil.example/x"), Some("evil.example"));
        assert_eq!(url_host("see http://user@a.b:8080/?q"), Some("a.b"));
        assert_eq!(url_host("file:///etc"), None);
        assert_eq!(url_host("https://localhost/"), None);
        assert!(is_secret_env_name("NPM_TOKEN"));
        assert!(is_secret_env_name("aws_secret_access_key"));
        assert!(!is_secret_env_name("NODE_ENV"));
        assert!(!is_secret_env_name("HTTPS_PROXY"));
    }
}
