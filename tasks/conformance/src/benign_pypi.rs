//! `benign-pypi`: the Python rules over real release pairs (`../shared/corpus/benign-pypi-*.tsv`:
//! `package from to from_sha256 to_sha256 kind from_file to_file`), block and warn rates.
//!
//! Network: file URLs come from PyPI's simple JSON API (PEP 691, `/simple/NAME/`), files are
//! downloaded once into `--cache-dir` (default `$TMPDIR/turncoat-pypi-corpus`) and checked
//! against the corpus sha256 before they are read. A pair whose files cannot be fetched or read
//! is counted as an error, not as clean. Not a test: tests never reach the network.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::Digest;
use turncoat_archive::Limits;
use turncoat_finding::Level;
use turncoat_pyanalyze::{DiffContext, DistFacts};

const MAX_DOWNLOAD: u64 = 256 * 1024 * 1024;

struct Pair {
    package: String,
    from: String,
    to: String,
    from_sha: String,
    to_sha: String,
    from_file: String,
    to_file: String,
}

fn read_corpus(path: &Path) -> Result<Vec<Pair>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < 8 {
            continue;
        }
        out.push(Pair {
            package: c[0].into(),
            from: c[1].into(),
            to: c[2].into(),
            from_sha: c[3].into(),
            to_sha: c[4].into(),
            from_file: c[6].into(),
            to_file: c[7].into(),
        });
    }
    Ok(out)
}

/// An agent trusting the system CA bundle (`$SSL_CERT_FILE`, else the Debian path), so a TLS
/// proxy in front of PyPI works as it does for pip and curl.
fn agent() -> ureq::Agent {
    let bundle = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
    let certs: Vec<_> = std::fs::read(bundle)
        .map(|pem| {
            ureq::tls::parse_pem(&pem)
                .flatten()
                .filter_map(|i| match i {
                    ureq::tls::PemItem::Certificate(c) => Some(c.to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let roots = if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::new_with_certs(&certs)
    };
    ureq::Agent::config_builder()
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into()
}

fn get(url: &str, limit: u64) -> Result<Vec<u8>, String> {
    thread_local! {
        static AGENT: ureq::Agent = agent();
    }
    let mut resp = AGENT
        .with(|a| {
            a.get(url)
                .header("Accept", "application/vnd.pypi.simple.v1+json")
                .call()
        })
        .map_err(|e| format!("{url}: {e}"))?;
    let mut out = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{url}: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("{url}: larger than {limit} bytes"));
    }
    Ok(out)
}

/// The file, from the cache or PyPI, checked against its sha256.
fn fetch(
    cache: &Path,
    name: &str,
    version: &str,
    file: &str,
    sha: &str,
) -> Result<Vec<u8>, String> {
    let cached = cache.join(sha);
    let bytes = match std::fs::read(&cached) {
        Ok(b) => b,
        Err(_) => {
            let meta = get(&format!("https://pypi.org/simple/{name}/"), 64 << 20)?;
            let doc: serde_json::Value =
                serde_json::from_slice(&meta).map_err(|e| format!("{name} {version}: {e}"))?;
            let url = doc["files"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|u| u["filename"] == file)
                .and_then(|u| u["url"].as_str())
                .ok_or_else(|| format!("{name} {version}: no file {file}"))?
                .to_string();
            let b = get(&url, MAX_DOWNLOAD)?;
            std::fs::write(&cached, &b).map_err(|e| format!("{}: {e}", cached.display()))?;
            b
        }
    };
    let got = hex::encode(sha2::Sha256::digest(&bytes));
    if got != sha {
        let _ = std::fs::remove_file(&cached);
        return Err(format!("{file}: sha256 {got}, corpus says {sha}"));
    }
    Ok(bytes)
}

fn facts(file: &str, bytes: &[u8]) -> Result<DistFacts, String> {
    let limits = Limits::default();
    if file.ends_with(".whl") {
        let w = turncoat_archive::read_wheel(bytes, &limits).map_err(|e| format!("{file}: {e}"))?;
        Ok(turncoat_pyanalyze::wheel_facts(&w))
    } else {
        let a = turncoat_archive::read_sdist(bytes, &limits).map_err(|e| format!("{file}: {e}"))?;
        Ok(turncoat_pyanalyze::sdist_facts(&a))
    }
}

pub fn run(args: &[String]) -> i32 {
    let mut corpora: Vec<PathBuf> = Vec::new();
    let mut cache = std::env::temp_dir().join("turncoat-pypi-corpus");
    let mut limit = usize::MAX;
    // `--scan`: judge each pair's newer file alone, as `turncoat scan` does.
    let scan = args.iter().any(|a| a == "--scan");
    let mut it = args.iter().filter(|a| *a != "--scan");
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--corpus", Some(v)) => corpora.push(v.into()),
            ("--cache-dir", Some(v)) => cache = v.into(),
            ("--limit", Some(v)) => limit = v.parse().unwrap_or(usize::MAX),
            (other, _) => {
                eprintln!("benign-pypi: unexpected argument {other:?}");
                return 2;
            }
        }
    }
    if corpora.is_empty() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        corpora = vec![
            root.join("benign-pypi-dev.tsv"),
            root.join("benign-pypi-dev2.tsv"),
        ];
    }
    if let Err(e) = std::fs::create_dir_all(&cache) {
        eprintln!("benign-pypi: {}: {e}", cache.display());
        return 2;
    }
    let levels: BTreeMap<&str, Level> = turncoat_pyanalyze::rules()
        .into_iter()
        .map(|r| (r.code, r.default_level))
        .collect();
    let (mut judged, mut blocked, mut warned, mut errors) = (0usize, 0usize, 0usize, 0usize);
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut analysis = std::time::Duration::ZERO;
    for corpus in &corpora {
        let pairs = match read_corpus(corpus) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("benign-pypi: {e}");
                return 2;
            }
        };
        for p in pairs.into_iter().take(limit) {
            let files =
                fetch(&cache, &p.package, &p.from, &p.from_file, &p.from_sha).and_then(|a| {
                    fetch(&cache, &p.package, &p.to, &p.to_file, &p.to_sha).map(|b| (a, b))
                });
            let (a, b) = match files {
                Ok(f) => f,
                Err(e) => {
                    println!("ERROR {} {} → {}: {e}", p.package, p.from, p.to);
                    errors += 1;
                    continue;
                }
            };
            let t = Instant::now();
            let pair = if scan {
                facts(&p.to_file, &b).map(|n| (n.clone(), n))
            } else {
                facts(&p.from_file, &a).and_then(|o| facts(&p.to_file, &b).map(|n| (o, n)))
            };
            let (old, new) = match pair {
                Ok(x) => x,
                Err(e) => {
                    println!("ERROR {} {} → {}: {e}", p.package, p.from, p.to);
                    errors += 1;
                    continue;
                }
            };
            let findings = if scan {
                turncoat_pyanalyze::scan(&new, &p.package, &p.to)
            } else {
                turncoat_pyanalyze::diff(&old, &new, &DiffContext::new(&p.package, &p.from, &p.to))
            };
            let took = t.elapsed();
            analysis += took;
            judged += 1;
            let level = findings
                .iter()
                .map(|f| levels.get(f.code.as_str()).copied().unwrap_or(Level::Deny))
                .max()
                .unwrap_or(Level::Allow);
            let verdict = match level {
                Level::Deny => {
                    blocked += 1;
                    "BLOCK"
                }
                Level::Warn => {
                    warned += 1;
                    "WARN "
                }
                Level::Allow => "pass ",
            };
            println!(
                "{verdict} {} {} → {} ({:.0} ms for {:.1} MB)",
                p.package,
                p.from,
                p.to,
                took.as_secs_f64() * 1000.0,
                (a.len() + b.len()) as f64 / 1e6
            );
            for f in &findings {
                *codes.entry(f.code.clone()).or_default() += 1;
                if levels.get(f.code.as_str()) != Some(&Level::Allow) {
                    println!("      {} ({}): {}", f.code, f.severity, f.message);
                }
            }
        }
    }
    let pct = |n: usize| 100.0 * n as f64 / judged.max(1) as f64;
    println!(
        "\njudged {judged} pairs ({errors} errors): block {blocked} ({:.1} %), warn {warned} ({:.1} %); analysis {:.2} s",
        pct(blocked),
        pct(warned),
        analysis.as_secs_f64()
    );
    for (code, n) in &codes {
        println!("  {code}: {n}");
    }
    i32::from(errors > 0 || pct(blocked) > 0.5 || pct(warned) > 3.0)
}
