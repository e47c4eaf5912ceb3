//! Realistic update scenarios from `tests/fixtures/<scenario>/{old,new[,dep]}`: plain package
//! files (never executed), compared as `turncoat` would compare two locked versions.

use std::path::{Path, PathBuf};

use turncoat_analyze::{DiffContext, FileRef, Options, ScanOptions, VersionFacts};
use turncoat_finding::{Finding, Severity};

fn fixture(scenario: &str, side: &str) -> VersionFacts {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(scenario)
        .join(side);
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    assert!(!files.is_empty(), "fixture {scenario}/{side} is empty");
    let refs: Vec<FileRef<'_>> = files
        .iter()
        .map(|(p, d)| FileRef { path: p, data: d })
        .collect();
    turncoat_analyze::facts(&refs, &Options::default())
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("prefix")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&path).expect("read")));
        }
    }
}

fn update(scenario: &str, name: &str, from: &str, to: &str) -> Vec<Finding> {
    let old = fixture(scenario, "old");
    let new = fixture(scenario, "new");
    turncoat_analyze::diff(&old, &new, &DiffContext::new(name, from, to))
}

fn severity_of(findings: &[Finding], code: &str) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| f.severity)
        .max()
}

fn max_severity(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

#[test]
fn install_hook_dns_exfiltration() {
    let f = update(
        "install-hook-dns-exfil",
        "secure-data-sanitizer",
        "3.1.4",
        "3.1.5",
    );
    assert_eq!(
        severity_of(&f, "exfiltration-shape"),
        Some(Severity::Critical),
        "{f:#?}"
    );
    assert_eq!(
        severity_of(&f, "new-install-script"),
        Some(Severity::Critical)
    );
    assert_eq!(severity_of(&f, "new-obfuscation"), Some(Severity::Critical));
    // A single-capability rule raised by install time.
    assert_eq!(
        severity_of(&f, "new-dns-from-data"),
        Some(Severity::Critical)
    );
    assert!(severity_of(&f, "new-env-dump").is_some());
    let exfil = f
        .iter()
        .find(|f| f.code == "exfiltration-shape")
        .expect("exfil");
    assert!(
        exfil.message.contains("scripts/postinstall.js"),
        "{}",
        exfil.message
    );
    assert!(
        exfil.message.contains("secure-data-sanitizer 3.1.4"),
        "{}",
        exfil.message
    );
    assert!(
        exfil
            .evidence
            .iter()
            .all(|e| e.line.is_some() && e.snippet.is_some())
    );
    let dns = f
        .iter()
        .find(|f| f.code == "new-dns-from-data")
        .expect("dns");
    assert!(dns.message.contains("never did"), "{}", dns.message);
}

#[test]
fn plain_runtime_injection() {
    let f = update("runtime-injection", "tiny-config-loader", "2.4.0", "2.4.1");
    let exfil = f
        .iter()
        .find(|f| f.code == "exfiltration-shape")
        .expect("exfil");
    assert_eq!(exfil.severity, Severity::Critical);
    assert!(
        exfil
            .message
            .contains("settings-sync.config-metrics.invalid"),
        "{}",
        exfil.message
    );
    assert!(exfil.message.contains("NPM_TOKEN"), "{}", exfil.message);
    assert!(
        exfil
            .message
            .contains("new function syncSettings in index.js"),
        "{}",
        exfil.message
    );
    assert_eq!(severity_of(&f, "new-network"), Some(Severity::Medium));
    // No obfuscation involved.
    assert!(severity_of(&f, "new-obfuscation").is_none());
    assert!(severity_of(&f, "appended-long-line").is_none());
}

#[test]
fn appended_obfuscated_clipper() {
    let f = update("appended-clipper", "ansi-hue", "6.2.1", "6.2.2");
    assert_eq!(
        severity_of(&f, "new-obfuscation"),
        Some(Severity::High),
        "{f:#?}"
    );
    let long = f
        .iter()
        .find(|f| f.code == "appended-long-line")
        .expect("long line");
    assert_eq!(long.severity, Severity::High);
    assert!(
        long.message.contains("at the end of index.js"),
        "{}",
        long.message
    );
}

#[test]
fn new_dependency_carrying_the_hook() {
    let f = update("new-dependency-hook", "http-kit", "1.14.0", "1.14.1");
    // The update itself only adds a dependency.
    assert_eq!(max_severity(&f), Some(Severity::Info), "{f:#?}");
    assert!(
        f.iter()
            .any(|f| f.code == "new-dependency" && f.message.contains("plain-crypto-js"))
    );
    // The new dependency, scanned on its own, is what blocks.
    let dep = fixture("new-dependency-hook", "dep");
    let s = turncoat_analyze::scan(&dep, "plain-crypto-js", "4.2.1");
    assert_eq!(
        severity_of(&s, "install-script"),
        Some(Severity::Medium),
        "{s:#?}"
    );
    assert_eq!(
        severity_of(&s, "exfiltration-shape"),
        Some(Severity::Critical)
    );
}

#[test]
fn git_dependency_with_prepare() {
    let f = update(
        "git-dependency-prepare",
        "router-lite",
        "1.169.2",
        "1.169.5",
    );
    assert_eq!(
        severity_of(&f, "new-git-dependency"),
        Some(Severity::High),
        "{f:#?}"
    );
    let dep = fixture("git-dependency-prepare", "dep");
    // From the registry, `prepare` does not run: nothing install-time.
    let registry = turncoat_analyze::scan(&dep, "@router-lite/setup", "0.0.0");
    assert!(severity_of(&registry, "install-script").is_none());
    assert_eq!(
        severity_of(&registry, "obfuscated-code"),
        Some(Severity::High)
    );
    // From git it does, and its obfuscated entry point is install-time code.
    let git = turncoat_analyze::scan_with(
        &dep,
        "@router-lite/setup",
        "0.0.0",
        &ScanOptions { from_git: true },
    );
    assert!(severity_of(&git, "install-script").is_some());
    assert_eq!(
        severity_of(&git, "obfuscated-code"),
        Some(Severity::Critical)
    );
    assert_eq!(
        severity_of(&git, "exfiltration-shape"),
        Some(Severity::Critical)
    );
}

#[test]
fn benign_minified_bump_is_quiet() {
    let f = update("benign-minified", "fastlib", "4.17.20", "4.17.21");
    assert!(f.iter().all(|f| f.severity <= Severity::Info), "{f:#?}");
    // Minified, not obfuscated, and `scan` stays quiet too.
    let new = fixture("benign-minified", "new");
    let js = new.js("dist/fastlib.min.js").expect("js");
    assert!(js.minified && !js.obfuscated);
    assert!(turncoat_analyze::scan(&new, "fastlib", "4.17.21").is_empty());
}

#[test]
fn benign_env_and_http_library_is_quiet() {
    let f = update("benign-env-http", "req-lite", "3.0.0", "3.1.0");
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn facts_round_trip_through_json() {
    let facts = fixture("install-hook-dns-exfil", "new");
    let json = serde_json::to_string(&facts).expect("serialize");
    let back: VersionFacts = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, facts);
    assert!(facts.is_install_time("scripts/postinstall.js"));
}
