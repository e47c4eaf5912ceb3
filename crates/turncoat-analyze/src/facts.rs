//! The facts model: what one package version *is*, statically, as plain serialisable data.
//!
//! Facts are computed once per version (see [`crate::Analyzer`]) and can be cached as JSON; the
//! rules in [`crate::diff`] and [`crate::scan`] only ever read facts, never file bytes. The format
//! is versioned by [`FACTS_SCHEMA`]: a consumer that finds another number must recompute.
//!
//! Paths are relative to the package root with `/` separators (`lib/index.js`, `package.json`).
//! Lines and columns are 1-based; columns count bytes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Version of the serialised facts format. Bumped whenever a field changes meaning.
pub const FACTS_SCHEMA: u32 = 1;

/// Everything known statically about one package version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionFacts {
    /// [`FACTS_SCHEMA`] at the time these facts were computed.
    pub schema: u32,
    /// Every file of the package, by path.
    pub files: BTreeMap<String, FileFacts>,
    /// What `package.json` declares. `None` when the package has no `package.json`.
    pub manifest: Option<ManifestFacts>,
    /// JS files that run at install time: the files named by install hooks (`node setup.js`)
    /// and the local modules they `require`/`import`, transitively.
    pub install_time_files: BTreeSet<String>,
    /// JS files the `prepare` script runs (and what they load): install-time code when the
    /// package is installed from git.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub prepare_files: BTreeSet<String>,
}

impl VersionFacts {
    /// The JS facts of `path`, if it is a parsed script.
    pub fn js(&self, path: &str) -> Option<&JsFacts> {
        self.files.get(path).and_then(|f| f.js.as_ref())
    }

    /// Whether `path` runs at install time.
    pub fn is_install_time(&self, path: &str) -> bool {
        self.install_time_files.contains(path)
    }

    /// The package file that `spec` (a relative specifier written in `from`) loads, by Node's
    /// file resolution (`./a` → `a.js`, `a/index.js` …).
    pub fn resolve_import(&self, from: &str, spec: &str) -> Option<String> {
        const SUFFIXES: &[&str] = &[
            "",
            ".js",
            ".cjs",
            ".mjs",
            ".json",
            "/index.js",
            "/index.cjs",
            "/index.mjs",
        ];
        let dir = from.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let joined = if dir.is_empty() {
            spec.to_string()
        } else {
            format!("{dir}/{spec}")
        };
        let p = crate::shell::normalize(&joined)?;
        SUFFIXES
            .iter()
            .map(|s| format!("{p}{s}"))
            .find(|c| self.files.contains_key(c))
    }

    /// `path` and the package files it loads, transitively (at most `limit` files).
    pub fn import_closure(&self, path: &str, limit: usize) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut queue = vec![path.to_string()];
        while let Some(p) = queue.pop() {
            if out.len() >= limit || !out.insert(p.clone()) {
                continue;
            }
            if let Some(js) = self.js(&p) {
                for spec in &js.local_imports {
                    if let Some(t) = self.resolve_import(&p, spec)
                        && !out.contains(&t)
                    {
                        queue.push(t);
                    }
                }
            }
        }
        out
    }

    /// Iterate over the JS files with their facts.
    pub fn scripts(&self) -> impl Iterator<Item = (&str, &JsFacts)> {
        self.files
            .iter()
            .filter_map(|(p, f)| f.js.as_ref().map(|j| (p.as_str(), j)))
    }
}

/// One file of the package.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileFacts {
    pub size: u64,
    /// BLAKE3 of the file bytes, lower-case hex. Always computed, even for skipped files.
    pub blake3: String,
    pub kind: FileKind,
    /// Native code recognised by its magic bytes (or a `.node` addon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<BinaryKind>,
    /// Why the content was not analysed (e.g. `too large: 25000000 bytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// What native code's import table reaches (sockets, resolver, process creation), with
    /// the imported names; empty for everything else.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub native: BTreeMap<Capability, Vec<String>>,
    /// A file whose name does not say "script" but that Node loads as one (a shebang `bin`,
    /// a `main`/`bin`/`exports` target, or the target of a `require`), so it was analysed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub loaded_as_script: bool,
    /// Static facts of a script; `None` for other kinds and for skipped files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub js: Option<JsFacts>,
}

/// What kind of file this is, by extension and content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// JavaScript or TypeScript source (`.js .cjs .mjs .jsx .ts .tsx .cts .mts`).
    Script,
    /// TypeScript declarations (`.d.ts`): parsed for nothing, capabilities are not recorded.
    Declaration,
    /// `package.json` at the package root.
    Manifest,
    /// A native executable or library (see [`FileFacts::binary`]).
    Binary,
    #[default]
    Other,
}

/// Native code formats recognised by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinaryKind {
    Elf,
    Pe,
    MachO,
    /// A universal (fat) Mach-O.
    MachOFat,
    /// WebAssembly module.
    Wasm,
    /// A `.node` file without recognised magic (still a native addon to Node).
    NodeAddon,
}

impl BinaryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryKind::Elf => "ELF",
            BinaryKind::Pe => "PE (Windows)",
            BinaryKind::MachO => "Mach-O",
            BinaryKind::MachOFat => "Mach-O universal",
            BinaryKind::Wasm => "WebAssembly",
            BinaryKind::NodeAddon => "Node addon",
        }
    }
}

/// The dialect a script was parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// `.js`: module or script, decided by its syntax.
    Js,
    Cjs,
    Mjs,
    Jsx,
    Ts,
    Tsx,
}

/// Something a script can do that matters for credential theft or code loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Reads `process.env` (member, computed or destructured).
    EnvRead,
    /// Uses the whole environment: serialises, enumerates, spreads or passes `process.env`.
    EnvDump,
    /// HTTP / sockets / WebSocket / fetch, or an HTTP client library.
    Network,
    /// The `dns` module.
    Dns,
    /// A `dns` resolve/lookup whose name argument is not a literal.
    DnsFromData,
    /// `child_process` (or a shell wrapper library) and its exec/spawn calls.
    ChildProcess,
    /// A string naming a credential store (`.npmrc`, `.ssh`, wallets, browser profiles …).
    SensitiveRead,
    /// A string naming a persistence place (shell rc files, workflows, editor/agent config)
    /// in a file that writes files.
    PersistenceWrite,
    /// `eval`, `Function`, `new Function`, `vm.runIn*`, `vm.Script`.
    Eval,
    /// `require(expr)` / `import(expr)` with a non-literal argument.
    DynamicRequire,
    /// A decoded string (`atob`, `Buffer.from(…,'base64')` …) reaches eval/Function/vm/child_process.
    DecodeExec,
    /// A network request carries a value named like key material (a private or secret key, a
    /// seed or mnemonic, a password or passphrase, a token) in its URL, headers or body.
    SendsKeyMaterial,
    /// Replaces a request function of the host program (`https.request = …`,
    /// `globalThis.fetch = …`, `XMLHttpRequest.prototype.send = …`): sees every request the
    /// application makes, with its headers.
    RequestHook,
}

impl Capability {
    pub const ALL: [Capability; 13] = [
        Capability::EnvRead,
        Capability::EnvDump,
        Capability::Network,
        Capability::Dns,
        Capability::DnsFromData,
        Capability::ChildProcess,
        Capability::SensitiveRead,
        Capability::PersistenceWrite,
        Capability::Eval,
        Capability::DynamicRequire,
        Capability::DecodeExec,
        Capability::SendsKeyMaterial,
        Capability::RequestHook,
    ];

    /// Short human description used in messages ("reads process.env").
    pub fn describe(self) -> &'static str {
        match self {
            Capability::EnvRead => "reads process.env",
            Capability::EnvDump => "dumps the whole environment",
            Capability::Network => "uses the network",
            Capability::Dns => "uses dns",
            Capability::DnsFromData => "resolves DNS names built from data",
            Capability::ChildProcess => "runs child processes",
            Capability::SensitiveRead => "references credential files",
            Capability::PersistenceWrite => "writes to persistence locations",
            Capability::Eval => "evaluates code at runtime",
            Capability::DynamicRequire => "loads modules by computed name",
            Capability::DecodeExec => "decodes and executes a string",
            Capability::SendsKeyMaterial => "sends key material over the network",
            Capability::RequestHook => "replaces the application's request functions",
        }
    }
}

/// Where a capability was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub line: u32,
    pub column: u32,
    /// A short, sanitised piece of the source line around the occurrence.
    pub snippet: String,
    /// What exactly: the module (`https`), the env variable (`NPM_TOKEN`), the dump kind
    /// (`serialize`), the sensitive target (`.npmrc`), the eval form (`new Function`) ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The enclosing top-level declaration (`function sendReport`, `exports.run`), if named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Fingerprint of the trimmed source line (first 8 bytes of BLAKE3, hex): lets `diff`
    /// tell an occurrence on an unchanged line from one on a new line.
    pub line_hash: String,
}

/// All uses of one capability in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityUse {
    /// Total number of occurrences (may exceed `occurrences.len()`, which is capped).
    pub count: u32,
    pub occurrences: Vec<Occurrence>,
}

/// An encoded-looking string literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blob {
    pub kind: BlobKind,
    /// Length in bytes.
    pub len: u32,
    /// Shannon entropy, bits per byte.
    pub entropy: f32,
    pub line: u32,
    /// First 8 bytes of the BLAKE3 hash of the string, hex.
    pub hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlobKind {
    /// Base64 alphabet, at least 100 characters.
    Base64,
    /// Hex digits, at least 64 characters.
    Hex,
    /// Entropy >= 5 bits per byte over at least 64 bytes.
    HighEntropy,
}

/// A line at least [`crate::js::LONG_LINE`] bytes long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LongLine {
    pub line: u32,
    pub len: u32,
    pub line_hash: String,
}

/// Text and identifier statistics that tell readable, minified and obfuscated code apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub lines: u32,
    pub max_line_len: u32,
    /// 99th-percentile line length.
    pub p99_line_len: u32,
    /// Share of bytes that are ASCII whitespace or control characters.
    pub whitespace_ratio: f32,
    /// Share of bytes that sit on lines at least [`crate::js::LONG_LINE`] long.
    pub long_line_share: f32,
    /// `\xNN` escapes per 1000 bytes.
    pub hex_escapes_per_kb: f32,
    pub identifiers: u32,
    /// Share of identifiers 1–2 characters long.
    pub short_identifier_ratio: f32,
    /// Shannon entropy of the characters of declared (binding) names, bits per character.
    pub identifier_entropy: f32,
    /// Identifiers shaped `_0x[0-9a-f]{4,}` (javascript-obfuscator).
    pub obfuscator_identifiers: u32,
    /// Largest array literal made of string literals (the obfuscator's string table).
    pub largest_string_array: u32,
    /// A `x.push(x.shift())` rotation (the obfuscator's string-table shuffle).
    pub string_array_rotation: bool,
}

/// Static facts of one script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsFacts {
    pub dialect: Dialect,
    /// The first syntax error, when the file does not parse. Capabilities are then partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// Nesting deeper than [`crate::Options::max_nesting`]: not parsed (a stack-exhaustion guard).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub too_deep: bool,
    /// The bytes were not UTF-8 and were decoded lossily.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid_utf8: bool,
    pub capabilities: BTreeMap<Capability, CapabilityUse>,
    pub metrics: Metrics,
    /// Long lines (capped), so an appended one-liner can be told from an old one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub long_lines: Vec<LongLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<Blob>,
    /// Top-level declarations (functions, variables holding functions, `exports.x = …`) with
    /// their first line.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub top_level_functions: BTreeMap<String, u32>,
    /// Hosts of URL literals (`https://host/…`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hosts: BTreeSet<String>,
    /// Set when the file names more distinct hosts than are kept: its hosts are then not a
    /// complete list, and rules must treat its destinations as unknown (padding a file with
    /// known hosts must not hide a new one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hosts_overflow: bool,
    /// Where the file sends things: the first occurrence of each host it names, and each
    /// network call whose destination is computed at run time (see [`Destination`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Destination>,
    /// Relative module specifiers this file requires or imports (`./util`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub local_imports: BTreeSet<String>,
    /// Minified: long lines and little whitespace. Normal for bundles; not obfuscation.
    pub minified: bool,
    /// Obfuscated: the shapes javascript-obfuscator and friends leave behind.
    pub obfuscated: bool,
}

impl JsFacts {
    pub fn has(&self, cap: Capability) -> bool {
        self.capabilities.get(&cap).is_some_and(|u| u.count > 0)
    }

    pub fn uses(&self, cap: Capability) -> &[Occurrence] {
        self.capabilities
            .get(&cap)
            .map(|u| u.occurrences.as_slice())
            .unwrap_or(&[])
    }

    /// Whether the file parsed completely.
    pub fn parsed(&self) -> bool {
        self.parse_error.is_none() && !self.too_deep
    }
}

/// A destination named or built by a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// The host (lower-case; an IP address is a host too). `None` when the destination is
    /// computed at run time from something that does not fold to a constant (a decoder of
    /// data, a template or concatenation with variable parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The host is the destination of a network call of the file (written there, or through a
    /// constant, a branch or a concatenation), not only named somewhere.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sent: bool,
    /// Where: the first occurrence of the host, or the network call. `detail` says how the
    /// destination is written (`literal`, `built from constants`, `computed`).
    pub at: Occurrence,
}

/// What `package.json` declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFacts {
    /// Set when `package.json` is not a JSON object; everything else is then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `preinstall`, `install`, `postinstall` (with npm's implicit `node-gyp rebuild` when a
    /// `binding.gyp` ships without a declared install hook).
    pub install_hooks: BTreeMap<String, HookFacts>,
    /// `prepare`: runs only when the package is installed from git (or linked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepare: Option<HookFacts>,
    /// Runtime dependencies (prod, optional, peer) by name.
    pub dependencies: BTreeMap<String, DependencyFacts>,
    /// `bin`: command → path.
    pub bin: BTreeMap<String, String>,
    /// Package-relative paths Node loads as entry points: `main`, every `bin` target and every
    /// string in `exports` (all conditions), without a leading `./`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub entry_points: BTreeSet<String>,
}

/// One lifecycle hook and what its shell command does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookFacts {
    pub command: String,
    pub features: BTreeSet<ShellFeature>,
    /// Package files the command runs (`node setup.js` → `setup.js`), resolved as Node does.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub entry_files: BTreeSet<String>,
    /// Programs the command (and the `npm run` scripts it calls) starts, by base name.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub programs: BTreeSet<String>,
}

/// Shell features of a hook command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShellFeature {
    /// `curl`, `wget`, `Invoke-WebRequest`, `certutil -urlcache`, `bitsadmin` ….
    Download,
    /// Output piped into a shell or interpreter (`| sh`, `| bash`, `| node`, `iex`).
    PipeToShell,
    /// `nslookup` / `dig` / `host`.
    DnsLookup,
    /// A DNS lookup whose name contains `$VAR`, `$(…)`, `%VAR%` or backticks.
    DnsFromData,
    /// `base64 -d`, `certutil -decode`, `FromBase64String`.
    Base64Decode,
    /// `node -e` / `node -p` / `node --eval`: inline JavaScript.
    NodeEval,
    /// `sh -c` / `bash -c` / `cmd /c`.
    ShellC,
    /// PowerShell, especially with `-enc` / `-e`.
    PowerShell,
    /// Runs or marks executable a file (`chmod +x`, `./payload`, `rundll32`).
    RunsBinary,
    /// Runs a JS file of the package (`node x.js`, `bun x.js`).
    RunsPackageFile,
}

impl ShellFeature {
    pub fn describe(self) -> &'static str {
        match self {
            ShellFeature::Download => "downloads from the network",
            ShellFeature::PipeToShell => "pipes output into a shell",
            ShellFeature::DnsLookup => "performs DNS lookups",
            ShellFeature::DnsFromData => "performs DNS lookups of names built from variables",
            ShellFeature::Base64Decode => "decodes base64",
            ShellFeature::NodeEval => "runs inline JavaScript",
            ShellFeature::ShellC => "runs a nested shell command",
            ShellFeature::PowerShell => "runs PowerShell",
            ShellFeature::RunsBinary => "runs or marks executable a binary",
            ShellFeature::RunsPackageFile => "runs a script of the package",
        }
    }
}

/// How a dependency is declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyFacts {
    pub spec: String,
    pub kind: DependencyKind,
    pub source: SpecSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DependencyKind {
    Prod,
    Optional,
    Peer,
}

/// Where a dependency spec points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SpecSource {
    /// A semver range, version or dist-tag on the registry.
    Registry,
    /// `npm:other@range`: an alias to another registry package.
    Alias,
    /// `git+…`, `github:`, `user/repo`, `gitlab:`, `bitbucket:`.
    Git,
    /// `http(s)://…` tarball.
    Url,
    /// `file:` / `link:` / a relative path.
    File,
    /// `workspace:` (pnpm/yarn workspaces).
    Workspace,
}
