//! Verify registry signatures and provenance of 1000 packages, single-threaded.
//!
//! Workload: the 377 real `dist.signatures` of the nuxt packument cycled to 1000 packages, and
//! the 4 real attestation responses (2 bundles each: SLSA provenance + npm publish
//! attestation) cycled over the attested ones. Reported: signatures only; a realistic mix
//! (every 9th package attested, as in nuxt's own history) and every package attested (worst
//! case), each on 1 and 2 threads. Reads the shared vectors from `$TURNCOAT_VECTORS`, else
//! `<repo>/../shared/vectors`.
//!
//! Run: `cargo bench -p turncoat-attest --bench verify`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use turncoat_attest::{
    Keys, ProvenanceStatus, SignatureStatus, TrustRoot, verify_attestations, verify_signature,
};
use turncoat_npm::Packument;

const PACKAGES: usize = 1000;
const RUNS: usize = 5;

fn vectors() -> PathBuf {
    std::env::var_os("TURNCOAT_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = vectors();
    let Ok(nuxt) = std::fs::read(dir.join("npm/packuments/nuxt.json")) else {
        println!(
            "SKIPPED: test vectors not found at {} (set TURNCOAT_VECTORS to the shared vectors directory)",
            dir.display()
        );
        return;
    };
    let packument = Packument::from_slice(&nuxt).expect("nuxt packument parses");
    let name = packument.name.clone().unwrap_or_default();
    let sigs: Vec<_> = packument
        .versions
        .iter()
        .map(|(v, m)| {
            (
                v.clone(),
                m.dist.integrity.clone().unwrap_or_default(),
                m.dist.signatures.clone(),
                packument.published(v).map(str::to_string),
            )
        })
        .collect();
    // Integrities: nuxt from its packument, the others from the signature vectors.
    let sig_vectors: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("npm/signatures/registry-signature-vectors.json"))
            .expect("signature vectors"),
    )
    .expect("signature vectors parse");
    let integrity_of = |pkg: &str, ver: &str| -> String {
        if pkg == "nuxt" {
            return packument.versions[ver]
                .dist
                .integrity
                .clone()
                .unwrap_or_default();
        }
        sig_vectors["vectors"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == pkg && v["version"] == ver)
            .and_then(|v| v["integrity"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let attestations: Vec<(String, String, String, Vec<u8>)> = [
        ("nuxt", "3.13.0"),
        ("nuxt", "4.1.2"),
        ("sigstore", "1.0.0"),
        ("tuf-js", "1.0.0"),
    ]
    .iter()
    .map(|(n, v)| {
        let bytes = std::fs::read(dir.join(format!("npm/attestations/{n}@{v}.json")))
            .expect("attestation vector");
        (n.to_string(), v.to_string(), integrity_of(n, v), bytes)
    })
    .collect();
    let keys = Keys::embedded().unwrap();
    let root = TrustRoot::embedded();

    // One package: its registry signature, and its attestations when `attested`.
    let one = |i: usize, attested: bool| -> bool {
        let (v, integrity, s, published) = &sigs[i % sigs.len()];
        let mut ok = verify_signature(&name, v, integrity, s, published.as_deref(), &keys)
            == SignatureStatus::Valid;
        if attested {
            let (n, v, integrity, bytes) = &attestations[i % attestations.len()];
            let r = verify_attestations(n, v, integrity, bytes, &keys, &root);
            ok &= r.status == ProvenanceStatus::Verified && r.publish_attestation;
        }
        ok
    };
    // Times `PACKAGES` packages on `threads` threads; `every`: which packages are attested.
    let time = |threads: usize, every: Option<usize>| -> Duration {
        let runs: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let ok: usize = std::thread::scope(|sc| {
                    let handles: Vec<_> = (0..threads)
                        .map(|t| {
                            sc.spawn(move || {
                                (t..PACKAGES)
                                    .step_by(threads)
                                    .filter(|i| one(*i, every.is_some_and(|e| i % e == 0)))
                                    .count()
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
                });
                assert_eq!(ok, PACKAGES, "every package verifies");
                start.elapsed()
            })
            .collect();
        median(runs)
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let sig_only = time(1, None);
    let mixed = time(1, Some(9));
    let mixed2 = time(2, Some(9));
    let all = time(1, Some(1));
    let all2 = time(2, Some(1));
    println!("turncoat-attest verify bench: {PACKAGES} packages, median of {RUNS} runs");
    println!(
        "  signatures only, 1 thread:                         {:>8.1} ms  ({:.0} µs/package)",
        ms(sig_only),
        ms(sig_only) * 1e3 / PACKAGES as f64
    );
    println!(
        "  signatures + attestations for every 9th, 1 thread: {:>8.1} ms  (nuxt: 42 of 377 versions attested)",
        ms(mixed)
    );
    println!(
        "  signatures + attestations for every 9th, 2 threads:{:>8.1} ms",
        ms(mixed2)
    );
    println!(
        "  signatures + attestations for all, 1 thread:       {:>8.1} ms  ({:.0} µs/package)",
        ms(all),
        ms(all) * 1e3 / PACKAGES as f64
    );
    println!(
        "  signatures + attestations for all, 2 threads:      {:>8.1} ms",
        ms(all2)
    );
}
