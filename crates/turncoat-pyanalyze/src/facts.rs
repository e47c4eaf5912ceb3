//! The facts of one Python distribution (a wheel or an sdist): what its code can do and *when*
//! that code runs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// When code runs, strongest first (the derive order is used: `Install < Start < Import <
/// Call`, so "at least as strong as" is `<=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Moment {
    /// While installing: an sdist's `setup.py` and in-tree build backend, and everything they
    /// define (custom commands run during the build).
    Install,
    /// At every interpreter start: `import` lines of a `.pth` file, the modules they import,
    /// `sitecustomize`/`usercustomize`.
    Start,
    /// When the package is imported: module top level (class bodies included), `__init__.py`,
    /// and functions the top level references (called, registered, passed to a thread).
    Import,
    /// Inside a function only something else calls.
    Call,
}

impl Moment {
    pub fn as_str(self) -> &'static str {
        match self {
            Moment::Install => "install time",
            Moment::Start => "interpreter start",
            Moment::Import => "import time",
            Moment::Call => "call time",
        }
    }
}

/// What a piece of code can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Reads the environment (`os.environ`, `os.getenv`); detail: the variable, `*` for all.
    EnvRead,
    /// HTTP, sockets, FTP/SMTP clients; detail: the function.
    Network,
    /// Name resolution (`socket.gethostbyname`, `getaddrinfo`, `dns.resolver`).
    Dns,
    /// Starts processes (`subprocess`, `os.system`, `os.popen`, `os.exec*`, `pty.spawn`).
    Subprocess,
    /// Executes code from data: `exec`, `eval`, `compile`, `marshal.loads`.
    Exec,
    /// Executes decoded data: `exec(base64…)`, `exec(zlib.decompress(…))`, or the contents of
    /// another file (`exec(open(…).read())`); detail: the decoders or the file.
    EncodedExec,
    /// `__import__`/`importlib.import_module` with a name that is not a constant.
    DynamicImport,
    /// Loads native code: `ctypes.CDLL`, `cffi`, `ExtensionFileLoader`.
    NativeLoad,
    /// A string naming a credential store; detail: which.
    SensitiveRead,
    /// A string naming a persistence place (shell rc files, crontab, systemd user units,
    /// autostart, site-packages `.pth`); detail: which.
    Persistence,
    /// Obfuscation markers (pyarmor); detail: the marker.
    Obfuscation,
    /// A long base64/hex literal; detail: its length.
    EncodedBlob,
    /// Makes a file executable (`os.chmod`): the second half of download-and-run.
    Chmod,
    /// A URL in the code; detail: its host.
    Destination,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::EnvRead => "environment read",
            Capability::Network => "network",
            Capability::Dns => "DNS",
            Capability::Subprocess => "process creation",
            Capability::Exec => "exec/eval",
            Capability::EncodedExec => "execution of decoded or loaded code",
            Capability::DynamicImport => "computed import",
            Capability::NativeLoad => "native library loading",
            Capability::SensitiveRead => "credential store",
            Capability::Persistence => "persistence place",
            Capability::Obfuscation => "obfuscation",
            Capability::EncodedBlob => "encoded blob",
            Capability::Chmod => "chmod",
            Capability::Destination => "destination",
        }
    }
}

/// One use of a capability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub capability: Capability,
    pub moment: Moment,
    pub path: String,
    pub line: u32,
    pub detail: Option<String>,
    /// The enclosing top-level function or class (`<module>` at top level): flows are judged
    /// per scope.
    pub scope: String,
    /// The source line, cut (evidence).
    pub snippet: String,
}

/// A wheel or an sdist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistKind {
    Wheel,
    Sdist,
}

/// A `.pth` line the `site` module executes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PthLine {
    pub path: String,
    pub line: u32,
    pub text: String,
}

/// Facts of one distribution file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistFacts {
    pub kind: DistKind,
    pub occurrences: Vec<Occurrence>,
    /// Occurrences beyond the cap, counted only.
    pub occurrences_dropped: usize,
    pub pth_exec: Vec<PthLine>,
    /// Console and GUI script names → their `module:function` targets.
    pub entry_points: BTreeMap<String, String>,
    /// Requirement names (PEP 503-normalised) from `Requires-Dist` / `[project] dependencies`.
    pub requires: BTreeSet<String>,
    /// Native files and the capabilities their import tables reach (`network`, `dns`,
    /// `process`) with the imported names.
    pub native: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// RECORD disagreements of a wheel: `(path, what)`.
    pub record_issues: Vec<(String, String)>,
    /// Python files that did not parse (their facts are missing): `(path, why)`.
    pub unparsed: Vec<(String, String)>,
}

impl DistFacts {
    pub fn new(kind: DistKind) -> DistFacts {
        DistFacts {
            kind,
            occurrences: Vec::new(),
            occurrences_dropped: 0,
            pth_exec: Vec::new(),
            entry_points: BTreeMap::new(),
            requires: BTreeSet::new(),
            native: BTreeMap::new(),
            record_issues: Vec::new(),
            unparsed: Vec::new(),
        }
    }

    /// Uses of one capability.
    pub fn uses(&self, cap: Capability) -> impl Iterator<Item = &Occurrence> {
        self.occurrences.iter().filter(move |o| o.capability == cap)
    }

    /// The strongest moment at which the distribution uses `cap`, if it does.
    pub fn strongest(&self, cap: Capability) -> Option<Moment> {
        self.uses(cap).map(|o| o.moment).min()
    }

    /// Details (environment variables, targets, decoders) of one capability.
    pub fn details(&self, cap: Capability) -> BTreeSet<&str> {
        self.uses(cap).filter_map(|o| o.detail.as_deref()).collect()
    }
}
